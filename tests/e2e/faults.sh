#!/bin/bash
# faults: the farm when something runs out, on real libvirtd + QEMU: a
# controller, agents named fault1 and fault2, and guests that print far too
# much. Prints "ok NAME" / "FAIL NAME: why" and, last, "N passed, N failed".
# Needs root (it mounts a tmpfs).
#
#   spool-full-direct       agent fault1's --spool (a 256 KiB tmpfs) is full: its job
#                           completes anyway, the output delivered directly; one log line
#   spool-full-no-lease     while the spool stays full fault1 leases nothing; once it
#                           has room it leases, and says so
#   spool-full-controller-down  spool full and the controller away while a guest
#                           runs: its output waits in the serial files; once the
#                           controller is back all of it lands, once
#   flood-agent-cap         a guest prints WF_FLOOD_MIB (8) MiB of log lines on COM1
#                           and WF_JUNK_MIB (4) MiB of overlong record-like lines on
#                           COM2 through libvirt (virtlogd rotates the files every
#                           2 MiB): every record arrives, pass, both stored logs end
#                           with the agent's marker (--log-cap 2 MiB), the agent's
#                           max RSS stays small, nothing is left in its work dir
#   flood-controller-cap    the same through fault2 (--log-cap 64 MiB): the stored
#                           logs end with the controller's marker (--log-cap 3 MiB)
#   flood-bare-runner       the same guest under guest/run-qemu: its --log is capped
#                           (4 MiB) with a marker, pass, the runner's max RSS small, a
#                           scratch dir that does not grow (QEMU writes into FIFOs)
#
# The full 1 GiB version of the flood cases (most of an hour under TCG) is
# bench/flood.sh.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$top/bin/wakefarm-controller" ] || top=$(cd "$(dirname "$0")/.." && pwd)	# run from bin/tests
bin=$top/bin
FLOOD_MIB=${WF_FLOOD_MIB:-8} JUNK_MIB=${WF_JUNK_MIB:-4}
AGENT_CAP=2097152 CTL_CAP=3145728 BARE_CAP=4194304 RSS_MAX_KIB=65536
# Under make asan (tests/asan/run sets ASAN_OPTIONS) freed memory waits in ASan's quarantine
# (256 MiB by default) and every byte has shadow: the bound that says "does not grow with the
# output" is the normal build's; a sanitized agent only has to stay below the quarantine.
[ -n "${ASAN_OPTIONS:-}" ] && RSS_MAX_KIB=$((320 * 1024))
tmp=$(mktemp -d /tmp/wf-faults.XXXXXX)
chmod 755 "$tmp"
spool=$tmp/spool-1
passed=0 failed=0
pids=()

ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	for d in $(virsh -c qemu:///system list --name 2>/dev/null | grep '^wakefarm-fault'); do
		virsh -c qemu:///system destroy "$d" >/dev/null 2>&1
	done
	umount "$spool" 2>/dev/null
	[ -n "${WF_KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$spool"
if ! mount -t tmpfs -o size=256k,mode=0700 tmpfs "$spool"; then
	echo "FAIL setup: cannot mount a tmpfs on $spool (needs root)"
	echo "0 passed, 1 failed"
	exit 1
fi

db=$tmp/wf.db
"$bin/wakefarm-controller" migrate --db "$db" >/dev/null 2>&1
tok() { "$bin/wakefarm-controller" token create --db "$db" --role "$1" --name "$2" 2>/dev/null; }
SUB=$(tok submitter fault-sub)
T1=$(tok agent fault-a1)
T2=$(tok agent fault-a2)

start_controller() {	# [PORT]; sets url, ctl
	rm -f "$tmp/port"
	"$bin/wakefarm-controller" serve --listen "127.0.0.1:${1:-0}" --port-file "$tmp/port" --db "$db" \
		--scenarios "$top/scenarios" --schema-dir "$top/db" --log-cap "$CTL_CAP" \
		>>"$tmp/controller.log" 2>&1 &
	ctl=$!
	disown "$ctl"
	pids+=($ctl)
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
	url=http://$(cat "$tmp/port")
}

start_agent() {	# N TOKEN SPOOL [ARGS]; sets agent_N to its pid
	local n=$1 t=$2 s=$3
	shift 3
	WAKEFARM_TOKEN=$t "$bin/wakefarm-agent" --server "$url" --name "fault$n" --slots 1 \
		--work "$tmp/work-$n" --spool "$s" "$@" >>"$tmp/agent-$n.log" 2>&1 &
	pids+=($!)
	eval "agent_$n=$!"
	disown $!
}

submit() {	# INLINE-SCENARIO-JSON -> run id
	curl -fs -H "Authorization: Bearer $SUB" -d "{\"inline\": $1}" "$url/api/v1/runs" | jq -r .run
}

wait_run() {	# RUN TIMEOUT_S -> 0 when done
	for _ in $(seq $(($2 * 5))); do
		[ "$(curl -fs "$url/api/v1/runs/$1" | jq -r .run.state)" = done ] && return 0
		sleep 0.2
	done
	return 1
}

job_of() { curl -fs "$url/api/v1/jobs?run=$1" | jq -r '.jobs[0].id'; }
state_of() { curl -fs "$url/api/v1/jobs/$1" | jq -r .state; }

wait_state() {	# JOB STATE TIMEOUT_S
	for _ in $(seq $(($3 * 10))); do
		[ "$(state_of "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# verdict, as_expected, and how many of some records: "pass 1 done=1 fw-ready=1 boot=3"
summary() {
	curl -fs "$url/api/v1/jobs/$1" | jq -r '"\(.verdict) \(.as_expected) done=\([.events[].record | select(.ev == "done")] | length) fw-ready=\([.events[].record | select(.ev == "fw-ready")] | length) boot=\([.events[].record | select(.ev == "boot")] | length)"'
}

fill() { dd if=/dev/zero of="$spool/filler" bs=4k >/dev/null 2>&1; }
spooled() { find "$spool" -name 'S*.json' | wc -l; }
vmhwm() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# What a stored log capped at CAP by the agent (COM N) or the controller ends with: "SIZE|LINE".
agent_cut() { local m="[wakefarm agent: COM$1 log truncated at $AGENT_CAP bytes]"; echo "$((AGENT_CAP + ${#m} + 2))|$m"; }
ctl_cut() { local m="[wakefarm: log truncated at $CTL_CAP bytes]"; echo "$((CTL_CAP + ${#m} + 2))|$m"; }

# A stored log: its size (X-Log-Size) and last line.
log_tail() {	# JOB PORT -> "SIZE|LAST LINE"
	local h=$tmp/log-h body
	body=$(curl -fs -D "$h" "$url/api/v1/jobs/$1/logs/$2?limit=4194304" | tail -n 1)
	echo "$(tr -d '\r' <"$h" | awk -F': ' 'tolower($1) == "x-log-size" { print $2 }')|$body"
}

start_controller
start_agent 1 "$T1" "$spool" --log-cap "$AGENT_CAP"

# --- spool-full-direct ----------------------------------------------------------
fill
run=$(submit '{"name": "spool-direct", "cpus": 2, "mailbox_version": 1, "steps": "kexec*3"}')
if [ -n "$run" ] && wait_run "$run" 90; then
	job=$(job_of "$run")
	s=$(summary "$job")
	said=$(grep -c 'cannot write to the spool' "$tmp/agent-1.log")
	[ "$s" = "pass 1 done=1 fw-ready=1 boot=4" ] && [ "$said" = 1 ] && [ "$(spooled)" = 0 ] &&
		ok spool-full-direct || fail spool-full-direct "job $job: $s; 'cannot write' lines: $said; spooled: $(spooled)"
else
	fail spool-full-direct "run '$run' did not finish: $(tail -3 "$tmp/agent-1.log")"
fi

# --- spool-full-no-lease --------------------------------------------------------
run=$(submit '{"name": "spool-wait", "cpus": 1, "mailbox_version": 1}')
job=$(job_of "$run")
sleep 6
st=$(state_of "$job")
rm -f "$spool/filler"
if [ "$st" = queued ] && wait_run "$run" 60; then
	s=$(summary "$job")
	again=$(grep -c 'INFO.* the spool .* can be written again (' "$tmp/agent-1.log")
	[ "$s" = "pass 1 done=1 fw-ready=1 boot=1" ] && [ "$again" = 1 ] && ok spool-full-no-lease ||
		fail spool-full-no-lease "job $job: $s; 'written again' lines: $again"
else
	fail spool-full-no-lease "job $job was '$st' with the spool full (want queued), or did not finish after"
fi

# --- spool-full-controller-down ---------------------------------------------------
port=${url##*:}
run=$(submit '{"name": "spool-down", "cpus": 2, "mailbox_version": 1, "steps": "kexec*2,flood:3", "timeout_s": 300}')
job=$(job_of "$run")
if wait_state "$job" running 30; then
	sleep 1
	fill
	kill -TERM "$ctl"
	while kill -0 "$ctl" 2>/dev/null; do sleep 0.1; done
	# the guest ends meanwhile; its output has nowhere to go
	for _ in $(seq 600); do
		virsh -c qemu:///system list --name | grep -q "^wakefarm-fault1-$job-" || break
		sleep 0.1
	done
	sleep 3
	waited=$(grep -c 'waits for room in the spool or the controller' "$tmp/agent-1.log")
	start_controller "$port"	# the spool stays full: what waited goes directly
	if wait_run "$run" 90; then
		s=$(summary "$job")
		first=$(curl -fs "$url/api/v1/jobs/$job/logs/0?limit=200" | head -n 1)
		# Not its exact size: a log chunk whose reply the stopping controller
		# did not send is appended again when retried (logs carry no offset yet).
		lt=$(log_tail "$job" 0)
		lt=${lt#*|}
		want=$(agent_cut 1)
		want=${want#*|}
		[ "$s" = "pass 1 done=1 fw-ready=1 boot=3" ] && [ "$waited" -ge 1 ] && [ "$lt" = "$want" ] &&
			[[ $first == *"fw: wakefarm firmware shim"* ]] && ok spool-full-controller-down ||
			fail spool-full-controller-down "job $job: $s; waited lines: $waited; log: '$first' ... '$lt' (want '$want')"
	else
		fail spool-full-controller-down "run $run did not finish once the controller was back"
	fi
else
	fail spool-full-controller-down "job $job never started"
fi
rm -f "$spool/filler"
sleep 2	# the slot sees the room again (it probes every 2 s)

# --- flood: agent cap, controller cap, bare runner, side by side ----------------------
# The runner's largest VmHWM and scratch directory, while it lives (run-qemu execs it: one pid).
watch_bare() {
	local max_r=0 max_k=0 r k
	echo "? ?" >"$tmp/bare.watch"
	while kill -0 "$1" 2>/dev/null; do
		r=$(vmhwm "$1") k=$(du -sk "$tmp/bare-tmp" | cut -f1)
		[ "${r:-0}" -gt $max_r ] && max_r=$r
		[ "${k:-0}" -gt $max_k ] && max_k=$k
		echo "$max_r $max_k" >"$tmp/bare.watch"
		sleep 0.5
	done
}
flood="{\"name\": \"flood\", \"cpus\": 1, \"mailbox_version\": 1, \"steps\": \"flood:$FLOOD_MIB,junk:$JUNK_MIB\", \"timeout_s\": 1800}"
mkdir -p "$tmp/bare-tmp"
t0=$(date +%s)
TMPDIR=$tmp/bare-tmp "$top/guest/run-qemu" --cpus 1 --mailbox-version 1 \
	--steps "flood:$FLOOD_MIB,junk:$JUNK_MIB" --timeout 1800 --records "$tmp/bare.jsonl" --log "$tmp/bare.log" \
	--log-cap "$BARE_CAP" --check >"$tmp/bare.out" 2>&1 &
bare=$!
pids+=($bare)
watch_bare "$bare" &
# fault1 takes one job at a time here (the second flood job is fault2's, started once fault1 is
# busy): restarted without lease ahead (agent/README.md); nothing of it runs now
kill -9 "$agent_1"
start_agent 1 "$T1" "$spool" --log-cap "$AGENT_CAP" --no-lease-ahead
runa=$(submit "$flood")
joba=$(job_of "$runa")
wait_state "$joba" running 30
start_agent 2 "$T2" "$tmp/spool-2" --log-cap 67108864
runb=$(submit "$flood")
jobb=$(job_of "$runb")
wait "$bare"
bare_rc=$?
sleep 1
read -r bare_rss scratch_max <"$tmp/bare.watch"
t_bare=$(($(date +%s) - t0))
done_a=0 done_b=0
wait_run "$runa" 900 && done_a=1
wait_run "$runb" 900 && done_b=1
t_farm=$(($(date +%s) - t0))
echo "# flood $FLOOD_MIB MiB + junk $JUNK_MIB MiB: bare runner ${t_bare} s, both agent jobs done after ${t_farm} s"

steps_seen() { curl -fs "$url/api/v1/jobs/$1" | jq -r '[.events[].record | select(.ev == "step") | .name] | join(",")'; }
if [ $done_a = 1 ]; then
	s=$(summary "$joba")
	l0=$(log_tail "$joba" 0) l1=$(log_tail "$joba" 1)
	w0=$(agent_cut 1) w1=$(agent_cut 2)
	rss=$(vmhwm "$agent_1")
	left=$(find "$tmp/work-1" -mindepth 1 -maxdepth 1 -name 'wakefarm-qemu.*' | wc -l)
	echo "# agent fault1 VmHWM after the flood job: ${rss:-?} KiB"
	[ "$s" = "pass 1 done=1 fw-ready=1 boot=1" ] && [ "$(steps_seen "$joba")" = "flood:$FLOOD_MIB,junk:$JUNK_MIB" ] &&
		[ "$l0" = "$w0" ] && [ "$l1" = "$w1" ] && [ "${rss:-999999}" -lt $RSS_MAX_KIB ] && [ "$left" = 0 ] &&
		ok flood-agent-cap || fail flood-agent-cap "job $joba: $s; steps $(steps_seen "$joba"); COM1 '$l0' (want '$w0'); COM2 '$l1' (want '$w1'); VmHWM ${rss:-?} KiB; scratch dirs left: $left"
else
	fail flood-agent-cap "run $runa did not finish: $(tail -2 "$tmp/agent-1.log")"
fi
if [ $done_b = 1 ]; then
	s=$(summary "$jobb")
	l0=$(log_tail "$jobb" 0) l1=$(log_tail "$jobb" 1)
	w=$(ctl_cut)
	host=$(curl -fs "$url/api/v1/jobs/$jobb" | jq -r .host)
	echo "# agent fault2 VmHWM after the flood job: $(vmhwm "$agent_2") KiB"
	[ "$s" = "pass 1 done=1 fw-ready=1 boot=1" ] && [ "$host" = fault2 ] && [ "$l0" = "$w" ] && [ "$l1" = "$w" ] &&
		ok flood-controller-cap || fail flood-controller-cap "job $jobb on $host: $s; COM1 '$l0', COM2 '$l1' (want '$w')"
else
	fail flood-controller-cap "run $runb did not finish: $(tail -2 "$tmp/agent-2.log")"
fi
last=$(tail -n 1 "$tmp/bare.log" 2>/dev/null)
size=$(stat -c %s "$tmp/bare.log" 2>/dev/null || echo 0)
dropped=${last##*; } dropped=${dropped%% more*}
echo "# bare runner: max RSS ${bare_rss:-?} KiB, scratch dir at most ${scratch_max} KiB, log $size bytes"
if [ "$bare_rc" = 0 ] && grep -q '^verdict: pass' "$tmp/bare.out" && [[ $last == "[wakefarm: log truncated at $BARE_CAP bytes; "*" more were not kept]" ]] &&
	[ "$dropped" -ge $((FLOOD_MIB * 1048576 - BARE_CAP)) ] && [ "$size" -lt $((BARE_CAP + 100)) ] &&
	[ "$bare_rss" != "?" ] && [ "$bare_rss" -lt $RSS_MAX_KIB ] && [ "$scratch_max" -lt 1024 ]; then
	ok flood-bare-runner
else
	fail flood-bare-runner "exit $bare_rc, $(grep -E '^verdict|run-qemu:' "$tmp/bare.out" | tr '\n' ' '); log $size bytes ending '$last'; RSS ${bare_rss:-?} KiB; scratch ${scratch_max} KiB"
fi

echo "$passed passed, $failed failed"
[ $failed = 0 ]
