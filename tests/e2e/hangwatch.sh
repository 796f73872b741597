#!/bin/bash
# hangwatch: hangs called early from the mailbox, read from outside the guest (issue 18;
# docs/hang-detection.md), through a real controller, agent, libvirtd and QEMU. Prints
# "ok NAME" / "FAIL NAME: why", each job's hang latency (lease to finish), and last
# "N passed, N failed". Hold /tmp/wakefarm-test.lock.
#
#   called-*        every hang scenario whose signature is a wakeup standing for a CPU that is
#                   not in the firmware's loop (linux61-kexec-hang v0 and v1, pre611-kdump-hang,
#                   pre611-kexec-hang, quirk-clear-vector): verdict hang as expected, with a
#                   host-hang record (command 1, the APIC ID, the vector, how long it stood in
#                   guest CPU time), and the job's finish says the hang was called from the mailbox
#   watchdog-*      the hangs with an idle mailbox (mixed-611-to-pre611, kexec-after-offline v1):
#                   hang as expected, no host-hang record: the watchdog called them
#   slow-ack        quirk-slow-ack (each wakeup acknowledged 200 ms late): passes, not called hung
#   loaded-*        slow-ack and pre611-kexec-hang again with 8 busy loops on the host's CPUs:
#                   slow-ack still not called, the hang still called with its evidence
#
# WF_AGENT_FLAGS=--watchdog-only runs the same jobs in the old mode (then nothing may be called
# early: every hang by the watchdog) to compare the latencies.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$top/bin/wakefarm-controller" ] || top=$(cd "$(dirname "$0")/.." && pwd)	# from bin/tests
bin=$top/bin
tmp=$(mktemp -d /tmp/wf-hangwatch.XXXXXX)
chmod 755 "$tmp"
passed=0 failed=0
pids=() busy=()
scale=${WF_TIME_SCALE:-1}
flags=${WF_AGENT_FLAGS:-}
old=0
case " $flags " in *" --watchdog-only "*) old=1 ;; esac

ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

cleanup() {
	for p in "${busy[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	for d in $(virsh -c qemu:///system list --all --name 2>/dev/null | grep '^wakefarm-hangw-'); do
		virsh -c qemu:///system destroy "$d" >/dev/null 2>&1
	done
	[ -n "${WF_KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

"$top/lib/sh/deps.sh" >/dev/null 2>&1	# libvirtd and virtlogd up
db=$tmp/wf.db
"$bin/wakefarm-controller" migrate --db "$db" >/dev/null 2>&1
SUB=$("$bin/wakefarm-controller" token create --db "$db" --role submitter --name hw-sub 2>/dev/null)
AG=$("$bin/wakefarm-controller" token create --db "$db" --role agent --name hw-agent 2>/dev/null)
"$bin/wakefarm-controller" serve --listen 127.0.0.1:0 --port-file "$tmp/port" --db "$db" \
	--scenarios "$top/scenarios" --schema-dir "$top/db" >"$tmp/controller.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
url=http://$(cat "$tmp/port")
# shellcheck disable=SC2086
WAKEFARM_TOKEN=$AG "$bin/wakefarm-agent" --server "$url" --name hangw --slots 2 \
	--work "$tmp/work" --spool "$tmp/spool" $flags >"$tmp/agent.log" 2>&1 &
pids+=($!)

submit() {	# SCENARIO... [--set K=V]: the run's id
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

# check RUN PREFIX: one result per job of the run
check() {
	local run=$1 prefix=$2 id j name mb verdict asexp hh
	for id in $(curl -fs "$url/api/v1/jobs?run=$run" | jq -r '.jobs[].id'); do
		j=$(curl -fs "$url/api/v1/jobs/$id")
		mb=$(jq -r '.params.mailbox_version' <<<"$j")
		name=$prefix$(jq -r .scenario <<<"$j")-v$mb
		verdict=$(jq -r .verdict <<<"$j")
		asexp=$(jq -r .as_expected <<<"$j")
		hh=$(jq -c '[.events[].record | select(.ev == "host-hang")] | first // empty' <<<"$j")
		printf '# %-32s verdict %-5s %s %s\n' "$name" "$verdict" "$(latency "$id")" "${hh:-(no host-hang)}"
		case $name in
		*quirk-slow-ack*)
			if [ "$verdict" = pass ] && [ "$asexp" = 1 ] && [ -z "$hh" ]; then
				ok "$name (not called hung)"
			else
				fail "$name" "verdict $verdict, as expected $asexp, host-hang ${hh:-none}"
			fi ;;
		*mixed-611-to-pre611* | *kexec-after-offline*)
			if [ "$verdict" = hang ] && [ "$asexp" = 1 ] && [ -z "$hh" ]; then
				ok "$name (watchdog)"
			else
				fail "$name" "verdict $verdict, as expected $asexp, host-hang ${hh:-none}"
			fi ;;
		*)
			if [ "$verdict" != hang ] || [ "$asexp" != 1 ]; then
				fail "$name" "verdict $verdict, as expected $asexp: $(jq -r .detail <<<"$j")"
			elif [ $old = 1 ]; then
				[ -z "$hh" ] && ok "$name (watchdog only)" || fail "$name" "called early: $hh"
			elif jq -e '.command == 1 and (.apic_id | type) == "number" and
				(.vector | test("^0x[0-9a-f]+$")) and .standing_cpu_us >= 500000' \
				<<<"$hh" >/dev/null 2>&1 &&
				jq -e '.detail | test("hang called from the mailbox")' <<<"$j" >/dev/null; then
				ok "$name (called from the mailbox)"
			else
				fail "$name" "no host-hang evidence (${hh:-none}): $(jq -r .detail <<<"$j")"
			fi ;;
		esac
	done
}

# The agent's own "hang ... after S s" lines: the runner's time for the job.
latency() {
	local name
	name=$(grep -o "running wakefarm-hangw-$1-[0-9]*" "$tmp/agent.log" | tail -1 | sed 's/running //')
	grep -o "$name: [^:]* after [0-9.]* s" "$tmp/agent.log" | tail -1 | sed 's/.* after /after /'
}

r1=$(submit linux61-kexec-hang pre611-kdump-hang pre611-kexec-hang quirk-clear-vector \
	mixed-611-to-pre611 quirk-slow-ack)
r2=$(submit kexec-after-offline --set mailbox_version=1)
if [ -z "$r1" ] || [ -z "$r2" ]; then
	fail submit "the runs were not submitted"
elif ! wait_run "$r1" 400 || ! wait_run "$r2" 100; then
	fail runs "not done in time: $(tail -3 "$tmp/agent.log")"
else
	check "$r1" ""
	check "$r2" ""
fi

# A loaded host: 8 busy loops on the 2 CPUs, the guests get a fraction of them.
for _ in $(seq 8); do
	sh -c 'while :; do :; done' &
	busy+=($!)
done
r3=$(submit quirk-slow-ack pre611-kexec-hang)
if [ -z "$r3" ]; then
	fail loaded "not submitted"
elif ! wait_run "$r3" 300; then
	fail loaded "not done in time: $(tail -3 "$tmp/agent.log")"
else
	check "$r3" "loaded-"
fi
for p in "${busy[@]}"; do kill "$p" 2>/dev/null; done
busy=()

left=$(virsh -c qemu:///system list --all --name 2>/dev/null | grep -c '^wakefarm-hangw-')
[ "$left" = 0 ] && ok no-domain-left || fail no-domain-left "$left domain(s)"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
