#!/bin/bash
# farm: the whole farm end to end on real libvirtd + QEMU: a controller, two
# agents on the same libvirtd, a small matrix through them, and the faults a
# farm must survive.  Prints "ok NAME" / "FAIL NAME: why" and, last,
# "N passed, N failed".
#
#   matrix       both versions, 1 and 4 CPUs, kexec chain, kdump on an AP, a quirk
#                and the pre-6.11 hang: every job as expected, both agents used,
#                the hang's host-mailbox shows command 1 for APIC ID 1
#   kill-agent   kill -9 an agent mid-job: the lease expires, the job is requeued
#                and completes on the other agent (attempt 2)
#   controller-down  stop the controller 10 s mid-run: agents spool, nothing lost
#                or duplicated once it is back
#   libvirtd-restart  restart libvirtd mid-job: the job ends infra and is retried
#   bad-kernel   a job whose kernel cannot be read is infra, never fail (the image
#                goes after the agent started: at start, its preflight refuses it)
#   linux        Debian's Linux 6.1 (a kernel package the agent unpacks) cold
#                boots with 2 CPUs through libvirt: pass, one fw-wake, the
#                artifact's version from the boot record
#
# WF_TIME_SCALE (default 1; 3 under make asan) multiplies the lease and the
# waits for the controller and agents, which sanitizers slow down.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$top/bin/wakefarm-controller" ] || top=$(cd "$(dirname "$0")/.." && pwd)	# run from bin/tests
. "$top/tests/e2e/lib.sh"
e2e_init farm wakefarm-farm
lease_ms=$((4000 * scale))

e2e_db
SUB=$(tok submitter farm-sub)
T1=$(tok agent farm-a1)
T2=$(tok agent farm-a2)
T3=$(tok agent farm-a3)	# all tokens before the controller holds the database

start_agent() {	# NAME TOKEN [ARGS]; sets the variable agent_NAME to its pid
	local n=$1 t=$2
	shift 2
	WAKEFARM_TOKEN=$t spawn "$tmp/agent-$n.log" "$bin/wakefarm-agent" --server "$url" --name "farm$n" \
		--slots 1 --work "$tmp/work-$n" --spool "$tmp/spool-$n" "$@"
	eval "agent_$n=$spawned"
}

submit() {	# ARGS... -> run id
	WAKEFARM_TOKEN=$SUB "$bin/wakefarm" --server "$url" submit "$@" 2>&1 | sed -n 's/^run \([0-9]*\):.*/\1/p' | head -1
}

wait_run() {	# RUN TIMEOUT_S -> 0 when done
	for _ in $(seq $(($2 * 5 * scale))); do
		[ "$(curl -fs "$url/api/v1/runs/$1" | jq -r .run.state)" = done ] && return 0
		sleep 0.2
	done
	return 1
}

jobs_of() { curl -fs "$url/api/v1/jobs?run=$1&limit=1000"; }
unexpected() { jobs_of "$1" | jq -r '[.jobs[] | select(.as_expected != 1) | "\(.id) \(.scenario) \(.verdict) (\(.reason))"] | join("; ")'; }

wait_state() {	# JOB STATE TIMEOUT_S
	for _ in $(seq $(($3 * 10 * scale))); do
		[ "$(curl -fs "$url/api/v1/jobs/$1" | jq -r .state)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- matrix -------------------------------------------------------------------
start_controller 0 --lease-ms "$lease_ms"
start_agent 1 "$T1"
start_agent 2 "$T2"
run=$(submit kexec-chain --set cpus=1,4)
run2=$(submit kdump-on-ap quirk-no-test-ack pre611-kexec-hang)
if [ -z "$run" ] || [ -z "$run2" ]; then
	fail matrix "submit failed: $(cat "$tmp/controller.log" | tail -2)"
else
	if wait_run "$run" 120 && wait_run "$run2" 120; then
		bad="$(unexpected "$run")$(unexpected "$run2")"
		[ -z "$bad" ] && ok matrix-verdicts || fail matrix-verdicts "not as expected: $bad"
		hosts=$( (jobs_of "$run"; jobs_of "$run2") | jq -r '.jobs[].id' | while read -r j; do
			curl -fs "$url/api/v1/jobs/$j" | jq -r .host; done | sort -u | tr '\n' ' ')
		[ "$hosts" = "farm1 farm2 " ] && ok matrix-both-agents || fail matrix-both-agents "hosts used: $hosts"
		hang=$(jobs_of "$run2" | jq -r '.jobs[] | select(.scenario == "pre611-kexec-hang") | .id')
		mb=$(curl -fs "$url/api/v1/jobs/$hang" | jq -c '[.events[].record | select(.ev == "host-mailbox")][0] | {command, apic_id}')
		[ "$mb" = '{"command":1,"apic_id":1}' ] && ok hang-mailbox-evidence ||
			fail hang-mailbox-evidence "host-mailbox of job $hang: $mb"
	else
		fail matrix "runs did not finish in 120 s"
	fi
fi

# --- linux ----------------------------------------------------------------------
run=$(submit linux61-cold-boot --set mailbox_version=1)
if [ -n "$run" ] && wait_run "$run" 180; then
	job=$(jobs_of "$run" | jq -r '.jobs[0].id')
	j=$(curl -fs "$url/api/v1/jobs/$job" | jq -c '{verdict, as_expected,
		wakes: [.events[].record | select(.ev == "fw-wake") | .apic_id],
		release: ([.events[].record | select(.ev == "boot")][0].release // "" | test("^6\\.1\\."))}')
	art=$(curl -fs "$url/api/v1/artifacts" | jq -c '[.artifacts[] | select(.name == "linux-image-cloud-amd64") | .kind, (.version // "" | test("^6\\.1\\."))]')
	[ "$j" = '{"verdict":"pass","as_expected":1,"wakes":[1],"release":true}' ] && [ "$art" = '["package",true]' ] &&
		ok linux-cold-boot-through-libvirt || fail linux-cold-boot-through-libvirt "job $job: $j; artifact: $art"
else
	fail linux-cold-boot-through-libvirt "run '$run' did not finish in 180 s: $(tail -q -n 2 "$tmp"/agent-*.log)"
fi

# --- kill-agent -----------------------------------------------------------------
# Agent 2 is away (a stopped agent would still hold a long-poll the controller
# could answer), so agent 1 takes the job; then agent 1 dies and agent 2 returns.
kill -9 "$agent_2"
run=$(submit kexec-chain --set cpus=2 --set mailbox_version=1 --set 'steps=kexec*300' --set timeout_s=120)
job=$(jobs_of "$run" | jq -r '.jobs[0].id')
if wait_state "$job" running 30; then
	sleep 0.5
	kill -9 "$agent_1"
	start_agent 2 "$T2"
	if wait_run "$run" 90; then
		j=$(curl -fs "$url/api/v1/jobs/$job" | jq -c '{attempt, host, as_expected}')
		[ "$j" = '{"attempt":2,"host":"farm2","as_expected":1}' ] && ok kill-agent-requeued ||
			fail kill-agent-requeued "job $job ended as $j"
	else
		fail kill-agent-requeued "run $run did not finish after the agent was killed"
	fi
else
	start_agent 2 "$T2"
	fail kill-agent-requeued "job $job never started"
fi
# agent 1 comes back: it must clean up the domain its killed self left
start_agent 1 "$T1"
for _ in $(seq $((20 * scale))); do
	left=$(virsh -c qemu:///system list --name | grep -c '^wakefarm-farm1-')
	[ "$left" = 0 ] && break
	sleep 0.1
done
[ "$left" = 0 ] && ok leftover-domain-destroyed || fail leftover-domain-destroyed "$left domain(s) left"

# --- controller-down ------------------------------------------------------------
port=${url##*:}
run=$(submit kexec-chain --set cpus=2,4 --set 'steps=kexec*10')
sleep 2
kill -TERM "$ctl"
while kill -0 "$ctl" 2>/dev/null; do sleep 0.1; done
sleep 10
start_controller "$port" --lease-ms 60000
if wait_run "$run" 120; then
	bad=$(unexpected "$run")
	dups=$(jobs_of "$run" | jq -r '.jobs[].id' | while read -r j; do
		curl -fs "$url/api/v1/jobs/$j" | jq -r '[.events[].record | select(.ev == "done")] | length'; done | tr '\n' ' ')
	[ -z "$bad" ] && [ "$dups" = "1 1 1 1 " ] && ok controller-down-no-loss ||
		fail controller-down-no-loss "not as expected: '$bad'; done records per job: $dups"
else
	fail controller-down-no-loss "run $run did not finish after the controller came back"
fi

# --- libvirtd-restart -------------------------------------------------------------
# long enough (several seconds) that libvirtd surely dies under it
run=$(submit kexec-chain --set cpus=2 --set mailbox_version=1 --set 'steps=kexec*150' --set timeout_s=120)
job=$(jobs_of "$run" | jq -r '.jobs[0].id')
if wait_state "$job" running 30; then
	sleep 0.3
	kill -TERM "$(pidof libvirtd)" 2>/dev/null
	sleep 1
	"$top/lib/sh/deps.sh" >/dev/null 2>&1
	if wait_run "$run" 120; then
		j=$(curl -fs "$url/api/v1/jobs/$job" | jq -c '{attempt, as_expected}')
		infra=$(cat "$tmp"/agent-*.log | grep -c "lost libvirtd\|cannot connect\|did not start")
		[ "$j" = '{"attempt":2,"as_expected":1}' ] && [ "$infra" -ge 1 ] && ok libvirtd-restart-retried ||
			fail libvirtd-restart-retried "job $job: $j, infra lines in agent logs: $infra"
	else
		fail libvirtd-restart-retried "run $run did not finish"
	fi
else
	fail libvirtd-restart-retried "job $job never started"
fi

# --- cancel ---------------------------------------------------------------------
run=$(submit pre611-kexec-hang --set timeout_s=120)
job=$(jobs_of "$run" | jq -r '.jobs[0].id')
if wait_state "$job" running 30; then
	WAKEFARM_TOKEN=$SUB "$bin/wakefarm" --server "$url" cancel "$run" >/dev/null 2>&1
	gone=0
	for _ in $(seq $((100 * scale))); do
		virsh -c qemu:///system list --name | grep -q "^wakefarm-farm[0-9]-$job-" || { gone=1; break; }
		sleep 0.1
	done
	[ $gone = 1 ] && ok cancel-stops-the-guest ||
		fail cancel-stops-the-guest "domain of job $job still running $((10 * scale)) s after cancel"
else
	fail cancel-stops-the-guest "job $job never started"
fi

# --- bad-kernel ---------------------------------------------------------------
# Agent 3's kernel image goes away once it has started, and it is the only agent left running.
kill -STOP "$agent_1" "$agent_2"
cp "$top/build/guest/kernel.elf" "$tmp/k3.elf" && chmod 644 "$tmp/k3.elf"
start_agent 3 "$T3" --test-kernel "$tmp/k3.elf"
for _ in $(seq $((100 * scale))); do grep -q 'registered as farm3' "$tmp/agent-3.log" && break; sleep 0.1; done
rm -f "$tmp/k3.elf"
run=$(submit cold-boot --set cpus=1 --set mailbox_version=1)
if [ -n "$run" ] && wait_run "$run" 60; then
	v=$(jobs_of "$run" | jq -r '.jobs[0] | "\(.verdict) after \(.attempt) attempts"')
	case $v in infra*) ok "bad-kernel-is-infra ($v)";; *) fail bad-kernel-is-infra "verdict $v";; esac
else
	fail bad-kernel-is-infra "run '$run' did not finish"
fi
kill -CONT "$agent_1" "$agent_2"

e2e_done
