#!/bin/bash
# ahead: lease ahead (issues 18 and 21; agent/README.md "Lease ahead") through a real controller,
# agents, libvirtd and QEMU: one agent with 1 slot prepares its next job (domain created paused)
# while a guest runs, within the lease rules. Prints "ok NAME" / "FAIL NAME: why" and, last,
# "N passed, N failed". Hold /tmp/wakefarm-test.lock.
#
#   overlap         3 jobs queued, 1 slot: a job's domain exists (paused) while the guest before it
#                   runs; every job passes as expected at attempt 1; the jobs created ahead say so
#                   (their timings, "slot free -> guest running" in the log) and their records are
#                   those of the job that was not (the same events; host-exit's time is the run's,
#                   not the wait's)
#   sigkill         kill -9 of the agent while it holds a prepared job: restarted, it destroys both
#                   domains, fails the running job (retried: as expected at attempt 2) and gives
#                   the prepared one back (as expected at attempt 1); no domain of it left
#   sigterm         SIGTERM while a job is prepared ahead: the current guest ends as expected, the
#                   prepared one is given back (attempt 1, no domain left) and another agent runs it
#   cancel          the run of a prepared job is cancelled: its domain is destroyed while the
#                   guest before it still runs (which passes), its job ends cancelled
#   no-domain-left  no domain of these agents is left
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$top/bin/wakefarm-controller" ] || top=$(cd "$(dirname "$0")/.." && pwd)	# from bin/tests
# shellcheck source=tests/e2e/lib.sh
. "$top/tests/e2e/lib.sh"
e2e_init ahead wakefarm-ahd
V="virsh -c qemu:///system"
# A test-kernel job of a few seconds under TCG: 2 CPUs, 30 kexecs, every CPU back each time.
JOB=(kexec-chain --set cpus=2 --set mailbox_version=1 --set steps=kexec*30)
# A longer one (~12 s), before a job that is cancelled: it must outlast a heartbeat (5 s) or two.
LONG=(kexec-chain --set cpus=2 --set mailbox_version=1 --set steps=kexec*400 --set timeout_s=120)

"$top/lib/sh/deps.sh" >/dev/null 2>&1	# libvirtd and virtlogd up
e2e_db
SUB=$(tok submitter ahd-sub)
AG1=$(tok agent ahd-agent1)
AG2=$(tok agent ahd-agent2)
start_controller

agent_pid=
start_agent() {	# NAME TOKEN: one slot, lease ahead (the default); its pid in agent_pid
	WAKEFARM_TOKEN=$2 "$bin/wakefarm-agent" --server "$url" --name "$1" --slots 1 \
		--work "$tmp/work-$1" --spool "$tmp/spool-$1" >>"$tmp/agent-$1.log" 2>&1 &
	agent_pid=$!
	pids+=("$agent_pid")
	disown "$agent_pid"
}
submit() {	# the run's id
	WAKEFARM_TOKEN=$SUB "$bin/wakefarm" --server "$url" submit "$@" 2>&1 |
		sed -n 's/^run \([0-9]*\):.*/\1/p' | head -1
}
wait_run() {	# RUN TIMEOUT_S: 0 once every job is done
	for _ in $(seq $(($2 * 5 * scale))); do
		[ "$(curl -fs "$url/api/v1/runs/$1" | jq -r '.run.jobs_total == .run.jobs_done')" = true ] &&
			return 0
		sleep 0.2
	done
	return 1
}
job_of() { curl -fs "$url/api/v1/jobs?run=$1" | jq -r '.jobs[0].id'; }
job() { curl -fs "$url/api/v1/jobs/$1"; }
# verdict/as_expected/attempt of the job of RUN, e.g. "pass 1 1"
outcome() { job "$(job_of "$1")" | jq -r '"\(.verdict) \(.as_expected) \(.attempt)"'; }
domains() { $V list --all --name 2>/dev/null | grep "^wakefarm-$1-" || true; }
state() { $V domstate "$1" 2>/dev/null | head -1; }
# waits until AGENT holds a domain created ahead (paused, its marker there) while another of its
# domains runs; prints the paused one
wait_ahead() {	# AGENT TIMEOUT_S
	local d paused running
	for _ in $(seq $(($2 * 10 * scale))); do
		paused= running=
		for d in $(domains "$1"); do
			case $(state "$d") in
			paused) [ -e "$tmp/work-$1/$d.ahead" ] && paused=$d ;;
			running) running=$d ;;
			esac
		done
		[ -n "$paused" ] && [ -n "$running" ] && { echo "$paused"; return 0; }
		sleep 0.1
	done
	return 1
}
# RUN ATTEMPT NAME: passes, as expected, at that attempt
expect_pass() {
	local o
	o=$(outcome "$1")
	[ "$o" = "pass 1 $2" ] && ok "$3" || fail "$3" "expected 'pass 1 $2' (verdict, as expected, attempt), got '$o'"
}
# the records of a job as compared: each kind of event and how often, host-exit's how
shape() {
	job "$1" | jq -c '[.events[].record.ev] | group_by(.) | map({(.[0]): length}) | add'
}

# --- overlap ---
start_agent ahd "$AG1"
a1=$(submit "${JOB[@]}") a2=$(submit "${JOB[@]}") a3=$(submit "${JOB[@]}")
seen=$(wait_ahead ahd 60)
if ! wait_run "$a1" 120 || ! wait_run "$a2" 60 || ! wait_run "$a3" 60; then
	fail overlap "not done in time: $(tail -3 "$tmp/agent-ahd.log")"
else
	[ -n "$seen" ] && ok "overlap-created-paused ($seen paused while the guest before it ran)" ||
		fail overlap-created-paused "never saw a paused domain beside a running one"
	for r in "$a1" "$a2" "$a3"; do expect_pass "$r" 1 "overlap-run-$r"; done
	j1=$(job_of "$a1") j2=$(job_of "$a2") j3=$(job_of "$a3")
	n=$(grep -cE "running wakefarm-ahd-($j2|$j3)-1: .*\(created ahead" "$tmp/agent-ahd.log")
	w=$(grep -c 'slot free -> guest running [0-9]* ms (created ahead)' "$tmp/agent-ahd.log")
	[ "$n" = 2 ] && [ "$w" -ge 2 ] && ok "overlap-logged (2 created ahead, $w slot free -> guest running lines)" ||
		fail overlap-logged "created ahead $n of 2, $w 'slot free -> guest running' lines"
	s1=$(shape "$j1") s2=$(shape "$j2")
	t_us=$(job "$j2" | jq '[.events[].record | select(.ev == "host-exit")][0].t_us')
	run_ms=$(job "$j2" | jq '.run_ms // 0')
	if [ "$s1" = "$s2" ] && [ "$t_us" -le $(((run_ms + 100) * 1000)) ] && [ "$t_us" -gt 0 ]; then
		ok "overlap-records (the same as the job not created ahead; host-exit at $t_us us, run $run_ms ms)"
	else
		fail overlap-records "job $j1: $s1; job $j2: $s2; host-exit t_us $t_us, run_ms $run_ms"
	fi
fi

# --- sigkill: the agent killed while it holds a job prepared ahead ---
k1=$(submit "${JOB[@]}") k2=$(submit "${JOB[@]}")
if ! paused=$(wait_ahead ahd 60); then
	fail sigkill "no job prepared ahead: $(tail -3 "$tmp/agent-ahd.log")"
else
	kill -9 "$agent_pid"
	sleep 0.5
	[ -n "$(domains ahd)" ] || fail sigkill "the killed agent's domains are gone already"
	start_agent ahd "$AG1"
	if ! wait_run "$k1" 180 || ! wait_run "$k2" 120; then
		fail sigkill "not done in time: $(tail -3 "$tmp/agent-ahd.log")"
	else
		# the prepared one was given back (attempt 1), the running one retried (attempt 2)
		kp=$(echo "$paused" | cut -d- -f3)
		for r in "$k1" "$k2"; do
			if [ "$(job_of "$r")" = "$kp" ]; then
				expect_pass "$r" 1 "sigkill-prepared-given-back"
			else
				expect_pass "$r" 2 "sigkill-running-retried"
			fi
		done
		grep -q "job $kp: prepared ahead, not started: its lease given back" "$tmp/agent-ahd.log" &&
			ok sigkill-released || fail sigkill-released "no release of job $kp in the agent's log"
		[ ! -e "$tmp/work-ahd/$paused.ahead" ] && ok sigkill-marker-gone ||
			fail sigkill-marker-gone "$paused.ahead is still there"
	fi
fi

# --- cancel: the run of a job prepared ahead ---
c1=$(submit "${LONG[@]}") c2=$(submit "${JOB[@]}")
if ! paused=$(wait_ahead ahd 60); then
	fail cancel "no job prepared ahead: $(tail -3 "$tmp/agent-ahd.log")"
else
	WAKEFARM_TOKEN=$SUB "$bin/wakefarm" --server "$url" cancel "$c2" >/dev/null 2>&1
	gone=0
	for _ in $(seq $((30 * 10 * scale))); do
		domains ahd | grep -qx "$paused" || { gone=1; break; }
		sleep 0.1
	done
	st=$(job "$(job_of "$c2")" | jq -r .state)
	d1=$(curl -fs "$url/api/v1/runs/$c1" | jq -r .run.jobs_done)
	if [ $gone = 1 ] && [ "$st" = cancelled ] && [ "$d1" = 0 ] &&
		grep -q "$paused: discarded before it ran: cancelled by the controller" "$tmp/agent-ahd.log"; then
		ok "cancel-discarded (its domain gone while the guest before it ran)"
	else
		fail cancel-discarded "domain gone $gone, state $st, jobs of run $c1 done already: $d1"
	fi
	wait_run "$c1" 240 && expect_pass "$c1" 1 cancel-previous-passes ||
		fail cancel-previous-passes "not done in time"
fi

# --- sigterm: a job prepared ahead given back, run by another agent ---
t1=$(submit "${JOB[@]}") t2=$(submit "${JOB[@]}")
if ! paused=$(wait_ahead ahd 60); then
	fail sigterm "no job prepared ahead: $(tail -3 "$tmp/agent-ahd.log")"
else
	kill -TERM "$agent_pid"
	gone=0
	for _ in $(seq $((30 * 10 * scale))); do
		domains ahd | grep -qx "$paused" || { gone=1; break; }
		sleep 0.1
	done
	tp=$(echo "$paused" | cut -d- -f3)
	st=$(job "$tp" | jq -r '"\(.state) \(.attempt)"')
	[ $gone = 1 ] && [ "$st" = "queued 1" ] && ok "sigterm-given-back (job $tp queued again at attempt 1)" ||
		fail sigterm-given-back "domain gone $gone, job $tp: $st"
	for _ in $(seq $((120 * 10 * scale))); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$agent_pid" 2>/dev/null && fail sigterm-stopped "the agent did not stop"
	start_agent ahd2 "$AG2"
	if ! wait_run "$t1" 60 || ! wait_run "$t2" 120; then
		fail sigterm "not done in time: $(tail -3 "$tmp/agent-ahd2.log")"
	else
		for r in "$t1" "$t2"; do
			if [ "$(job_of "$r")" = "$tp" ]; then
				h=$(job "$tp" | jq -r '.host // .last_host // empty')
				expect_pass "$r" 1 "sigterm-run-elsewhere"
				grep -q "running wakefarm-ahd2-$tp-1" "$tmp/agent-ahd2.log" ||
					fail sigterm-run-elsewhere "ahd2 did not run job $tp ($h)"
			else
				expect_pass "$r" 1 "sigterm-current-finishes"
			fi
		done
	fi
fi

kill -TERM "$agent_pid" 2>/dev/null
for _ in $(seq 100); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
left=$(domains ahd; domains ahd2)
[ -z "$left" ] && ok no-domain-left || fail no-domain-left "$left"
e2e_done
