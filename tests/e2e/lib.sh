#!/bin/bash
# tests/e2e/lib.sh: the prelude the e2e scripts farm, firsthour, kernels and notify share. Sourced
# after `set -u` and `top=...` (the top of the tree, whether the script runs from tests/e2e or as
# its copy in bin/tests):
#
#   e2e_init NAME DOMAINS  bin, tmp (/tmp/wf-NAME.XXXXXX, mode 755: QEMU reads images there),
#                          passed=0 failed=0, pids=(), scale (WF_TIME_SCALE, default 1; 3 under
#                          make asan); on exit: every pid in pids killed -9, every libvirt domain
#                          whose name starts with DOMAINS destroyed, tmp removed (kept, and said,
#                          with WF_KEEP set)
#   ok NAME, fail NAME WHY "ok NAME" / "FAIL NAME: WHY", counted
#   e2e_done               the closing "N passed, N failed"; true when none failed
#   e2e_db                 db=$tmp/wf.db, migrated
#   tok ROLE NAME [ARGS]   a token of ROLE made in $db (before the controller holds it): printed,
#                          or with --out FILE written there
#   spawn LOG CMD...       CMD in the background, output appended to LOG, disowned (no "Killed"
#                          job notice after the closing line), its pid in pids and in $spawned
#   start_controller [PORT] [ARGS...]
#                          serve $db on 127.0.0.1:PORT (default 0: any free port) with the
#                          scenarios of $ctl_scenarios (default $top/scenarios), more ARGS, log
#                          $tmp/controller.log; waits for its port file; sets ctl (pid) and url
#   free_port              a TCP port on 127.0.0.1 that is free now

e2e_init() {
	bin=$top/bin
	tmp=$(mktemp -d "/tmp/wf-$1.XXXXXX")
	chmod 755 "$tmp"
	e2e_domains=$2
	passed=0 failed=0
	pids=()
	scale=${WF_TIME_SCALE:-1}
	trap e2e_cleanup EXIT
}

ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

e2e_done() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}

e2e_cleanup() {
	local p d
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	for d in $(virsh -c qemu:///system list --name 2>/dev/null | grep "^$e2e_domains"); do
		virsh -c qemu:///system destroy "$d" >/dev/null 2>&1
	done
	[ -n "${WF_KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}

e2e_db() {
	db=$tmp/wf.db
	"$bin/wakefarm-controller" migrate --db "$db" >/dev/null 2>&1
}

tok() { "$bin/wakefarm-controller" token create --db "$db" --role "$1" --name "$2" "${@:3}" 2>/dev/null; }

spawn() {
	local log=$1
	shift
	"$@" >>"$log" 2>&1 &
	spawned=$!
	disown "$spawned"
	pids+=("$spawned")
}

start_controller() {
	local listen=127.0.0.1:${1:-0}
	shift
	rm -f "$tmp/port"
	spawn "$tmp/controller.log" "$bin/wakefarm-controller" serve --listen "$listen" \
		--port-file "$tmp/port" --db "$db" --scenarios "${ctl_scenarios:-$top/scenarios}" \
		--schema-dir "$top/db" "$@"
	ctl=$spawned
	for _ in $(seq $((100 * scale))); do [ -s "$tmp/port" ] && break; sleep 0.1; done
	url=http://$(cat "$tmp/port")
}

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
