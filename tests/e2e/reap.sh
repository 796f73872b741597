#!/bin/bash
# reap: no libvirt domain outlives the runner that asked for it (issue 22), on the real libvirtd
# and QEMU. Prints "ok NAME" / "FAIL NAME: why" and, last, "N passed, N failed". Root: it
# restarts libvirtd and installs a libvirt hook for a while (hold /tmp/wakefarm-test.lock).
#
#   repro-killed        kill -9 a `wakefarm repro` between create and resume: its paused domain
#                       is left; the next repro on the host destroys it at its start
#   repro-restart       libvirtd restarted between a repro's create and resume: infra, no domain
#   repro-create-dies   libvirtd killed while it creates a repro's domain (a libvirt hook holds
#                       the create until then: the client sees "End of file while reading data",
#                       libvirtd comes back with the domain, paused): infra, and the repro
#                       destroys it by name on a new connection
#   agent-restart       the same restart under an agent's job: infra, retried, passes on
#                       attempt 2, no domain left
#   agent-create-dies   an agent's create interrupted the same way: retried, no domain left
#   agent-teardown      the verdict before the teardown (libvirt_run.h, early_verdict): a job's
#                       verdict arrives while its background teardown is held (the runners'
#                       test hook "teardown"); released, the domain and the run's scratch
#                       directory are gone
#
# The hold between create and resume is the runners' test hook (WF_TEST_HOLD, lib/runner/runner.h);
# the hold inside the create is /etc/libvirt/hooks/qemu (removed again, libvirtd restarted).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$top/bin/wakefarm-controller" ] || top=$(cd "$(dirname "$0")/.." && pwd)	# from bin/tests
bin=$top/bin
tmp=$(mktemp -d /tmp/wf-reap.XXXXXX)
chmod 755 "$tmp"
hold=$tmp/hold
mkdir -p "$hold"
hookdir=/etc/libvirt/hooks
hookhold=/run/wakefarm-reap-hook
passed=0 failed=0
pids=()
scale=${WF_TIME_SCALE:-1}
V="virsh -c qemu:///system"

ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

hook_installed=0
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$hookhold"
	if [ "$hook_installed" = 1 ]; then
		rm -f "$hookdir/qemu"
		restart_libvirtd
	fi
	for d in $($V list --all --name 2>/dev/null | grep -E '^wakefarm-(repro-|reap)'); do
		$V destroy "$d" >/dev/null 2>&1
	done
	[ -n "${WF_KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

# libvirtd stopped (TERM, or KILL with $1 = -9) and started again as make deps does
restart_libvirtd() {
	local p sig=${1:--TERM}
	p=$(pidof libvirtd)
	[ -n "$p" ] && kill "$sig" $p 2>/dev/null
	for _ in $(seq 100); do pidof libvirtd >/dev/null || break; sleep 0.1; done
	"$top/lib/sh/deps.sh" >/dev/null 2>&1
}

domain_state() { $V domstate "$1" 2>/dev/null | head -1; }
exists() { $V list --all --name 2>/dev/null | grep -qx "$1"; }

wait_file() {	# GLOB TIMEOUT_S -> the first file matching
	local f
	for _ in $(seq $(($2 * 10 * scale))); do
		for f in $1; do [ -e "$f" ] && { echo "$f"; return 0; }; done
		sleep 0.1
	done
	return 1
}

wait_gone() {	# NAME TIMEOUT_S
	for _ in $(seq $(($2 * 10 * scale))); do exists "$1" || return 0; sleep 0.1; done
	return 1
}

repro() {	# LOG: a repro of cold-boot in the background; sets rpid
	WF_TEST_HOLD=$hold "$bin/wakefarm" repro cold-boot --set cpus=1 --set mailbox_version=1 \
		--work "$tmp/work" >"$1" 2>&1 &
	rpid=$!
	pids+=($rpid)
}
mkdir -p "$tmp/work"

# --- repro-killed ---------------------------------------------------------------------------------
touch "$hold/created-hold"
repro "$tmp/r1.log"
dom=wakefarm-repro-$rpid
if wait_file "$hold/created-$rpid" 60 >/dev/null; then
	st=$(domain_state "$dom")
	kill -9 "$rpid"
	wait "$rpid" 2>/dev/null
	rm -f "$hold/created-hold"
	sleep 1
	if exists "$dom"; then
		"$bin/wakefarm" repro cold-boot --set cpus=1 --set mailbox_version=1 --work "$tmp/work" \
			>"$tmp/r1b.log" 2>&1
		rc=$?
		if ! exists "$dom" && [ "$rc" = 0 ] && grep -q "destroyed domain $dom" "$tmp/r1b.log"; then
			ok "repro-killed (was $st; the next repro destroyed it)"
		else
			fail repro-killed "domain $dom: $(domain_state "$dom"), next repro exit $rc: $(tail -3 "$tmp/r1b.log")"
		fi
	else
		fail repro-killed "domain $dom vanished with its runner (state was '$st'): nothing tested"
	fi
else
	fail repro-killed "the repro never created its domain: $(tail -3 "$tmp/r1.log")"
fi
rm -f "$hold"/*

# --- repro-restart --------------------------------------------------------------------------------
touch "$hold/created-hold"
repro "$tmp/r2.log"
dom=wakefarm-repro-$rpid
if wait_file "$hold/created-$rpid" 60 >/dev/null; then
	restart_libvirtd
	rm -f "$hold/created-hold"
	wait "$rpid"
	rc=$?
	if wait_gone "$dom" 10 && [ "$rc" = 1 ] && grep -q "infra" "$tmp/r2.log"; then
		ok repro-restart
	else
		fail repro-restart "exit $rc, domain $dom: '$(domain_state "$dom")': $(tail -3 "$tmp/r2.log")"
	fi
else
	fail repro-restart "the repro never created its domain: $(tail -3 "$tmp/r2.log")"
fi
rm -f "$hold"/*

# --- the hook that holds a create inside libvirtd ------------------------------------------------
mkdir -p "$hookdir"
cat >"$hookdir/qemu" <<HOOK
#!/bin/sh
# wakefarm tests/e2e/reap.sh (removed at its end): holds the start of a domain while
# $hookhold/hold exists, after QEMU started (the create call not answered yet).
[ "\$2" = started ] && [ -e $hookhold/hold ] || exit 0
touch "$hookhold/held-\$1"
i=0
while [ -e $hookhold/hold ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
exit 0
HOOK
chmod 755 "$hookdir/qemu"
hook_installed=1
mkdir -p "$hookhold"
restart_libvirtd

# create-dies NAME DOMAIN_GLOB: libvirtd killed while the hook holds the create of DOMAIN_GLOB,
# then started again; prints the domain's name
create_dies() {
	local held dom
	if ! held=$(wait_file "$hookhold/held-$2" 60); then
		return 1
	fi
	dom=${held##*/held-}
	kill -9 $(pidof libvirtd) 2>/dev/null
	rm -f "$hookhold/hold"
	sleep 0.5
	"$top/lib/sh/deps.sh" >/dev/null 2>&1
	echo "$dom"
}

# --- repro-create-dies ----------------------------------------------------------------------------
touch "$hookhold/hold"
repro "$tmp/r3.log"
if dom=$(create_dies repro-create-dies "wakefarm-repro-$rpid"); then
	wait "$rpid"
	rc=$?
	if wait_gone "$dom" 10 && [ "$rc" = 1 ] && grep -q "did not start" "$tmp/r3.log"; then
		ok repro-create-dies
	else
		fail repro-create-dies "exit $rc, domain $dom: '$(domain_state "$dom")': $(tail -3 "$tmp/r3.log")"
	fi
else
	fail repro-create-dies "the create of wakefarm-repro-$rpid never reached the hook: $(tail -3 "$tmp/r3.log")"
fi
rm -f "$hookhold"/*

# --- an agent -------------------------------------------------------------------------------------
db=$tmp/wf.db
"$bin/wakefarm-controller" migrate --db "$db" >/dev/null 2>&1
SUB=$("$bin/wakefarm-controller" token create --db "$db" --role submitter --name reap-sub 2>/dev/null)
AG=$("$bin/wakefarm-controller" token create --db "$db" --role agent --name reap-agent 2>/dev/null)
"$bin/wakefarm-controller" serve --listen 127.0.0.1:0 --port-file "$tmp/port" --db "$db" \
	--scenarios "$top/scenarios" --schema-dir "$top/db" --lease-ms $((10000 * scale)) \
	>>"$tmp/controller.log" 2>&1 &
pids+=($!)
disown $!	# no "Killed" notice after our closing line
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
url=http://$(cat "$tmp/port")
WF_TEST_HOLD=$hold WAKEFARM_TOKEN=$AG "$bin/wakefarm-agent" --server "$url" --name reap1 --slots 1 \
	--work "$tmp/agent-work" --spool "$tmp/spool" >>"$tmp/agent.log" 2>&1 &
pids+=($!)
disown $!

submit() {
	WAKEFARM_TOKEN=$SUB "$bin/wakefarm" --server "$url" submit cold-boot --set cpus=1 \
		--set mailbox_version=1 2>&1 | sed -n 's/^run \([0-9]*\):.*/\1/p' | head -1
}
job_of() { curl -fs "$url/api/v1/jobs?run=$1" | jq -r '.jobs[0].id'; }
wait_done() {	# JOB TIMEOUT_S -> {attempt, verdict, as_expected}
	local j
	for _ in $(seq $(($2 * 5 * scale))); do
		j=$(curl -fs "$url/api/v1/jobs/$1")
		[ "$(jq -r .state <<<"$j")" = done ] && { jq -c '{attempt, verdict, as_expected}' <<<"$j"; return 0; }
		sleep 0.2
	done
	jq -c '{state, attempt}' <<<"$j"
	return 1
}

# --- agent-create-dies (the hook is still in place) ----------------------------------------------
touch "$hookhold/hold"
run=$(submit)
job=$(job_of "$run")
if dom=$(create_dies agent-create-dies "wakefarm-reap1-$job-1"); then
	if j=$(wait_done "$job" 120) && [ "$j" = '{"attempt":2,"verdict":"pass","as_expected":1}' ] &&
		wait_gone "$dom" 10; then
		ok agent-create-dies
	else
		fail agent-create-dies "job $job: $j; domain $dom: '$(domain_state "$dom")'"
	fi
else
	fail agent-create-dies "job $job's create never reached the hook: $(tail -3 "$tmp/agent.log")"
fi
rm -f "$hookhold"/*
rm -f "$hookdir/qemu"
hook_installed=0
restart_libvirtd

# --- agent-restart --------------------------------------------------------------------------------
touch "$hold/created-hold"
run=$(submit)
job=$(job_of "$run")
dom=wakefarm-reap1-$job-1
if wait_file "$hold/created-*" 60 >/dev/null; then
	restart_libvirtd
	rm -f "$hold/created-hold"
	if j=$(wait_done "$job" 120) && [ "$j" = '{"attempt":2,"verdict":"pass","as_expected":1}' ] &&
		wait_gone "$dom" 10; then
		ok agent-restart
	else
		fail agent-restart "job $job: $j; domain $dom: '$(domain_state "$dom")'"
	fi
else
	fail agent-restart "job $job never created its domain: $(tail -3 "$tmp/agent.log")"
fi
rm -f "$hold"/*

# --- agent-teardown -------------------------------------------------------------------------------
# A guest can end (isa-debug-exit) before the agent has read its done record: then the run
# judges the ended domain and tears it down in line, and no teardown is handed off. That is
# right too, but not the path under test: such a job is submitted again (at most 3 times).
touch "$hold/teardown-hold"
for try in 1 2 3; do
	run=$(submit)
	job=$(job_of "$run")
	dom=wakefarm-reap1-$job-1
	held=
	j=$(wait_done "$job" 120) && [ "$j" = '{"attempt":1,"verdict":"pass","as_expected":1}' ] &&
		held=$(wait_file "$hold/teardown-*[0-9]" 10) && break
	detail=$(curl -fs "$url/api/v1/jobs/$job" | jq -r .detail)
	[ "$detail" = "guest exited after its report (isa-debug-exit)" ] || break
	echo "# agent-teardown: job $job's guest ended before its done record was read; again ($try)"
done
if [ -n "$held" ]; then
	rm -f "$hold/teardown-hold"
	sleep 0.5
	if wait_gone "$dom" 10 && [ -z "$(ls -d "$tmp"/agent-work/wakefarm-qemu.* 2>/dev/null)" ]; then
		ok "agent-teardown (verdict $j while the teardown was held)"
	else
		fail agent-teardown "domain $dom: '$(domain_state "$dom")'; scratch: $(ls -d "$tmp"/agent-work/wakefarm-qemu.* 2>/dev/null)"
	fi
else
	fail agent-teardown "job $job: $j; teardown hold: not reached: $(tail -3 "$tmp/agent.log")"
fi
rm -f "$hold"/*

left=$($V list --all --name 2>/dev/null | grep -cE '^wakefarm-(repro-|reap1-)')
[ "$left" = 0 ] && ok no-domain-left || fail no-domain-left "$left domain(s): $($V list --all --name | grep -E '^wakefarm-(repro-|reap1-)' | tr '\n' ' ')"

echo "$passed passed, $failed failed"
[ $failed = 0 ]
