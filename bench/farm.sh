#!/bin/bash
# Farm throughput (issue: agent): the 36-job matrix of bench/nightly-36 through a real
# controller and one local agent with 2 slots on this machine, timed from
# submission to the last verdict.  Prints jobs per minute and how many jobs
# ended as expected.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
bin=$top/bin
tmp=$(mktemp -d /tmp/wf-bench-farm.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for d in $(virsh -c qemu:///system list --name 2>/dev/null | grep '^wakefarm-benchfarm-'); do
		virsh -c qemu:///system destroy "$d" >/dev/null 2>&1 || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

db=$tmp/wf.db
"$bin/wakefarm-controller" migrate --db "$db" >/dev/null 2>&1
sub=$("$bin/wakefarm-controller" token create --db "$db" --role submitter --name bench-sub 2>/dev/null)
agt=$("$bin/wakefarm-controller" token create --db "$db" --role agent --name bench-agent 2>/dev/null)
"$bin/wakefarm-controller" serve --listen 127.0.0.1:0 --port-file "$tmp/port" --db "$db" \
	--scenarios "$top/bench/nightly-36" \
	>"$tmp/controller.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
url=http://$(cat "$tmp/port")
WAKEFARM_TOKEN=$agt "$bin/wakefarm-agent" --server "$url" --name benchfarm --slots 2 \
	--work "$tmp/work" --spool "$tmp/spool" >"$tmp/agent.log" 2>&1 &
pids+=($!)
sleep 0.5

t0=$(now)
WAKEFARM_TOKEN=$sub "$bin/wakefarm" --server "$url" submit nightly --wait >"$tmp/submit.log" 2>&1 || true
t1=$(now)
run=$(sed -n 's/^run \([0-9]*\):.*/\1/p' "$tmp/submit.log" | head -1)
read -r total asexp < <(curl -fs "$url/api/v1/runs/$run" | jq -r '"\(.run.jobs_total) \(.run.jobs_as_expected)"')
secs=$(echo "$t1 - $t0" | bc -l)
printf 'farm: bench/nightly-36 matrix, 1 agent x 2 slots: %d jobs in %.1f s = %.1f jobs/min (%d as expected)\n' \
	"$total" "$secs" "$(echo "$total * 60 / $secs" | bc -l)" "$asexp"
