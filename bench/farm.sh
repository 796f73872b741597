#!/bin/bash
# Farm throughput (issue 18): the 36-job matrix of bench/nightly-36 through a real
# controller and one local agent with 2 slots on this machine, timed from
# submission to the last verdict, side by side in two modes:
#   new: the agent as it runs by default (hangs called early from the mailbox,
#        the verdict before the teardown, the next job's domain created ahead
#        while a guest runs);
#   old: the same agent with --watchdog-only --serial-teardown --no-lease-ahead
#        (every hang by the watchdog, every verdict after libvirt saw the guest
#        exit, the next job leased and created once its slot is free).
# Prints jobs per minute, how many jobs ended as expected, and the p50/p90 of
# "slot free -> guest running" (the agent's log, one per job after a slot's
# first) for each.
#   noahead: the new mode with --no-lease-ahead (lease ahead alone, compared).
# BENCH_FARM_MODES: which to run (default "new old"), in that order.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
bin=$top/bin
tmp=$(mktemp -d /tmp/wf-bench-farm.XXXXXX)
chmod 755 "$tmp"
pids=()
stop_all() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
	for d in $(virsh -c qemu:///system list --name 2>/dev/null | grep '^wakefarm-benchfarm-'); do
		virsh -c qemu:///system destroy "$d" >/dev/null 2>&1 || true
	done
}
cleanup() {
	stop_all
	rm -rf "$tmp"
}
trap cleanup EXIT

# run_mode NAME AGENT_FLAGS...: one controller, one agent, the matrix once
run_mode() {
	local mode=$1 dir db sub agt url t0 t1 run total asexp secs
	shift
	dir=$(mktemp -d "$tmp/$mode.XXXX")	# a mode may run more than once
	chmod 755 "$dir"
	db=$dir/wf.db
	"$bin/wakefarm-controller" migrate --db "$db" >/dev/null 2>&1
	sub=$("$bin/wakefarm-controller" token create --db "$db" --role submitter --name bench-sub 2>/dev/null)
	agt=$("$bin/wakefarm-controller" token create --db "$db" --role agent --name bench-agent 2>/dev/null)
	"$bin/wakefarm-controller" serve --listen 127.0.0.1:0 --port-file "$dir/port" --db "$db" \
		--scenarios "$top/bench/nightly-36" \
		>"$dir/controller.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
	url=http://$(cat "$dir/port")
	WAKEFARM_TOKEN=$agt "$bin/wakefarm-agent" --server "$url" --name benchfarm --slots 2 \
		--work "$dir/work" --spool "$dir/spool" "$@" >"$dir/agent.log" 2>&1 &
	pids+=($!)
	sleep 0.5

	t0=$(now)
	run=$(WAKEFARM_TOKEN=$sub "$bin/wakefarm" --server "$url" submit nightly |
		sed -n 's/^run \([0-9]*\):.*/\1/p' | head -1)
	[ -n "$run" ] || { echo "bench: farm ($mode): the submission failed" >&2; return 1; }
	# a look every 0.5 s (its curl and jq take no CPU from the guests worth counting); the end
	# is the controller's (the run's finished_at, ms of the same clock)
	for _ in $(seq 3000); do
		sleep 0.5
		[ "$(curl -fs "$url/api/v1/runs/$run" | jq -r '.run.jobs_total == .run.jobs_done')" = true ] &&
			break
	done
	read -r total asexp t1 < <(curl -fs "$url/api/v1/runs/$run" |
		jq -r '"\(.run.jobs_total) \(.run.jobs_as_expected) \(.run.finished_at / 1000)"')
	secs=$(echo "$t1 - $t0" | bc -l)
	printf 'farm (%s): bench/nightly-36 matrix, 1 agent x 2 slots: %d jobs in %.1f s = %.1f jobs/min (%d as expected)\n' \
		"$mode" "$total" "$secs" "$(echo "$total * 60 / $secs" | bc -l)" "$asexp"
	sed -n 's/.*slot free -> guest running \([0-9]*\) ms.*/\1/p' "$dir/agent.log" | sort -n >"$dir/wait"
	printf 'farm (%s): slot free -> guest running: p50 %s ms, p90 %s ms (%d jobs)\n' "$mode" \
		"$(pctl 50 <"$dir/wait")" "$(pctl 90 <"$dir/wait")" "$(wc -l <"$dir/wait")"
	stop_all
	[ "$total" = "$asexp" ]
}

rc=0
for m in ${BENCH_FARM_MODES:-new old}; do
	case $m in
	new) run_mode new || rc=1 ;;
	old) run_mode old --watchdog-only --serial-teardown --no-lease-ahead || rc=1 ;;
	noahead) run_mode noahead --no-lease-ahead || rc=1 ;;
	*) echo "bench: farm: no mode '$m' (new, old, noahead)" >&2; rc=1 ;;
	esac
done
exit $rc
