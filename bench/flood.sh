#!/bin/bash
# Oversized guest output (issue #10): a test-kernel guest prints MIB MiB of log lines on COM1
# (step flood:MIB, guest/README.md), side by side
#   1. under the bare runner (guest/run-qemu --log, capped at 64 MiB), and
#   2. through a controller and an agent (libvirt: virtlogd writes and rotates the serial files)
# and says, for each: wall time and MiB/s, the verdict, the largest RSS of the runner / the
# agent (VmHWM), the most disk its scratch or work directory held, and what was stored.
#
#   bench/flood.sh [MIB]        default $WF_FLOOD_MIB or 64; bench/flood.sh 1024 is the full 1 GiB
#                               (most of an hour under TCG); WF_JUNK_MIB=N adds N MiB of overlong
#                               record-like lines on COM2; WF_FLOOD_BARE=0 runs the agent's
#                               guest alone (the full 1 GiB twice at once takes both cores)
# Exits non-zero only when it could not measure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/bin
mib=${1:-${WF_FLOOD_MIB:-64}} junk=${WF_JUNK_MIB:-0} with_bare=${WF_FLOOD_BARE:-1}
steps="flood:$mib" && [ "$junk" -gt 0 ] && steps="$steps,junk:$junk"
timeout_s=$((600 + mib * 10))
tmp=$(mktemp -d /tmp/wf-flood.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for d in $(virsh -c qemu:///system list --name 2>/dev/null | grep '^wakefarm-floodbench-'); do
		virsh -c qemu:///system destroy "$d" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
vmhwm() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
du_k() { du -sk "$1" 2>/dev/null | cut -f1; }

db=$tmp/wf.db
"$bin/wakefarm-controller" migrate --db "$db" >/dev/null 2>&1 || { echo "flood: cannot make a database"; exit 1; }
sub=$("$bin/wakefarm-controller" token create --db "$db" --role submitter --name flood-sub 2>/dev/null)
agt=$("$bin/wakefarm-controller" token create --db "$db" --role agent --name flood-agent 2>/dev/null)
"$bin/wakefarm-controller" serve --listen 127.0.0.1:0 --port-file "$tmp/port" --db "$db" \
	--scenarios "$top/scenarios" --schema-dir "$top/db" >"$tmp/controller.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
url=http://$(cat "$tmp/port")
WAKEFARM_TOKEN=$agt "$bin/wakefarm-agent" --server "$url" --name floodbench --slots 1 \
	--work "$tmp/work" --spool "$tmp/spool" >"$tmp/agent.log" 2>&1 &
agent=$!
pids+=($agent)
sleep 1
agent_rss0=$(vmhwm "$agent")

extra= && [ "$junk" -gt 0 ] && extra=" (+ $junk MiB of junk on COM2)"
bare_rss=0 bare_disk=0 work_disk=0 t_bare= t_agent=
mkdir -p "$tmp/bare-tmp"
t0=$(date +%s.%N)
if [ "$with_bare" = 0 ]; then
	echo "flood: $mib MiB on COM1$extra, through the agent only"
	t_bare=skipped
else
echo "flood: $mib MiB on COM1$extra, bare runner and agent side by side (2 guests at once)"
TMPDIR=$tmp/bare-tmp "$top/guest/run-qemu" --cpus 1 --mailbox-version 1 --steps "$steps" \
	--timeout "$timeout_s" --records "$tmp/bare.jsonl" --log "$tmp/bare.log" --check >"$tmp/bare.out" 2>&1 &
bare=$!
pids+=($bare)
fi
run=$(curl -fs -H "Authorization: Bearer $sub" -d "{\"inline\": {\"name\": \"flood\", \"cpus\": 1,
	\"mailbox_version\": 1, \"steps\": \"$steps\", \"timeout_s\": $timeout_s}}" "$url/api/v1/runs" | jq -r .run)
[ -n "$run" ] && [ "$run" != null ] || { echo "flood: submit failed"; exit 1; }
while :; do
	if [ -z "$t_bare" ]; then
		if kill -0 "$bare" 2>/dev/null; then
			r=$(vmhwm "$bare") k=$(du_k "$tmp/bare-tmp")
			[ "${r:-0}" -gt "$bare_rss" ] && bare_rss=$r
			[ "${k:-0}" -gt "$bare_disk" ] && bare_disk=$k
		else
			wait "$bare"
			bare_rc=$?
			t_bare=$(echo "$(date +%s.%N) - $t0" | bc)
		fi
	fi
	if [ -z "$t_agent" ]; then
		k=$(du_k "$tmp/work")
		[ "${k:-0}" -gt "$work_disk" ] && work_disk=$k
		[ "$(curl -fs "$url/api/v1/runs/$run" | jq -r .run.state)" = done ] &&
			t_agent=$(echo "$(date +%s.%N) - $t0" | bc)
	fi
	[ -n "$t_bare" ] && [ -n "$t_agent" ] && break
	sleep 2
done

job=$(curl -fs "$url/api/v1/jobs?run=$run" | jq -r '.jobs[0].id')
verdict=$(curl -fs "$url/api/v1/jobs/$job" | jq -r '"\(.verdict), as expected: \(.as_expected), done records: \([.events[].record | select(.ev == "done")] | length)"')
size0=$(curl -fs -D - -o /dev/null "$url/api/v1/jobs/$job/logs/0?limit=1" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-log-size" { print $2 }')
last0=$(curl -fs "$url/api/v1/jobs/$job/logs/0?offset=$((size0 - 200))&limit=200" | tail -n 1)
[ "$t_bare" = skipped ] || printf '  bare runner: %.0f s (%.2f MiB/s), exit %s, %s\n' "$t_bare" "$(echo "$mib / $t_bare" | bc -l)" \
	"$bare_rc" "$(grep '^verdict' "$tmp/bare.out")"
[ "$t_bare" = skipped ] || echo "    runner max RSS ${bare_rss} KiB; scratch dir at most ${bare_disk} KiB;" \
	"--log $(stat -c %s "$tmp/bare.log") bytes, ending: $(tail -n 1 "$tmp/bare.log")"
printf '  agent (libvirt): %.0f s (%.2f MiB/s), job %s: %s\n' "$t_agent" "$(echo "$mib / $t_agent" | bc -l)" \
	"$job" "$verdict"
echo "    agent VmHWM ${agent_rss0} KiB before, $(vmhwm "$agent") KiB after; work dir at most ${work_disk} KiB;" \
	"stored COM1 log $size0 bytes, ending: $last0"
