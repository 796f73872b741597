#!/bin/bash
# lib/sh/run.sh: the main job behind `make run` (deps and build are done by make).
#
#   1. controller on 127.0.0.1:$WF_PORT (default 8080), database var/wakefarm.db
#   2. one local agent (2 slots) on qemu:///system
#   3. the default nightly matrix ($WF_RUN_MATRIX: another scenario name) submitted and followed
#      to a summary
# Tokens (admin, submitter, agent) are made once in var/tokens/ (mode 0600) and always passed as
# --token-file, never on a command line (ps shows those); where the admin token is gets printed.
#   4. the dashboard served until Ctrl-C, then everything this script started
#      is stopped and no wakefarm domain is left behind
#
# A part that is not built yet says so and the script carries on with what
# exists; it never reports a result it did not get.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
var=$top/var
port=${WF_PORT:-8080}
url=http://127.0.0.1:$port
agent_name=${WF_AGENT_NAME:-local}
mkdir -p "$var/log" "$var/work" "$var/tokens"
chmod 700 "$var/tokens"
pids=()

say() { printf 'wakefarm: %s\n' "$*"; }

cleanup() {
	local p d
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for d in $(virsh -c qemu:///system list --name 2>/dev/null | grep "^wakefarm-$agent_name-"); do
		virsh -c qemu:///system destroy "$d" >/dev/null 2>&1
	done
	say "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

not_built() {	# $1 = log file of a command that exited
	grep -q 'not implemented yet' "$1" 2>/dev/null
}

token() {	# role -> the path of its token file (created once in var/tokens/, mode 0600)
	local f=$var/tokens/$1
	if [ ! -s "$f" ]; then
		"$top/bin/wakefarm-controller" token create --db "$var/wakefarm.db" --role "$1" \
			--name "make-run-$1" --out "$f" 2>"$var/log/token.err" || return 1
	fi
	echo "$f"
}

controller_up=0
"$top/bin/wakefarm-controller" migrate --db "$var/wakefarm.db" >"$var/log/migrate.log" 2>&1
if not_built "$var/log/migrate.log"; then
	say "controller: not built yet ($(head -1 "$var/log/migrate.log"))"
else
	"$top/bin/wakefarm-controller" serve --listen "127.0.0.1:$port" --db "$var/wakefarm.db" \
		--web "$top/web" >>"$var/log/controller.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		curl -fs "$url/api/v1/runs" >/dev/null 2>&1 && { controller_up=1; break; }
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	if [ $controller_up = 1 ]; then
		say "controller: $url (database var/wakefarm.db, log var/log/controller.log)"
		if token admin >/dev/null; then
			say "admin token: var/tokens/admin (wakefarm --token-file var/tokens/admin ...;" \
				"submitter: var/tokens/submitter)"
		fi
	else
		say "controller: did not come up; see var/log/controller.log"
		tail -3 "$var/log/controller.log"
	fi
fi

agent_up=0
if [ $controller_up = 1 ] && atok=$(token agent); then
	"$top/bin/wakefarm-agent" --server "$url" --token-file "$atok" --name "$agent_name" --slots 2 \
		--work "$var/work" --spool "$var/spool" >>"$var/log/agent.log" 2>&1 &
	pids+=($!)
	sleep 1
	if kill -0 "${pids[-1]}" 2>/dev/null; then
		agent_up=1
		say "agent: $agent_name, 2 slots on qemu:///system (log var/log/agent.log)"
	else
		say "agent: not running: $(tail -1 "$var/log/agent.log")"
	fi
fi

if [ $agent_up = 1 ] && stok=$(token submitter); then
	say "submitting the ${WF_RUN_MATRIX:-default nightly} matrix"
	"$top/bin/wakefarm" --server "$url" --token-file "$stok" submit "${WF_RUN_MATRIX:-nightly}" --wait |
		tee "$var/log/submit.log"
	run=$(sed -n 's/^run \([0-9]*\):.*/\1/p' "$var/log/submit.log" | head -1)
	if [ -n "$run" ]; then
		say "summary of run $run:"
		curl -fs "$url/api/v1/jobs?run=$run&limit=1000" | jq -r '
		  .jobs | "  verdicts: " + (group_by(.verdict) | map("\(.[0].verdict) \(length)") | join(", ")),
		  "  as expected: \(map(select(.as_expected == 1)) | length) of \(length)",
		  (.[] | select(.verdict != "pass" or .as_expected != 1) |
		   "  job \(.id) \(.scenario) \(.matrix | tostring): \(.verdict) (\(.reason))" +
		   (if .as_expected == 1 then ", as expected" else ", NOT AS EXPECTED" end))'
		# The rows that boot a real kernel (a scenario's "kernel"), pass or not.
		linux=$(curl -fs "$url/api/v1/scenarios" |
			jq -c '[.scenarios[] | select((.scenario.kernel // "") != "") | .name]')
		curl -fs "$url/api/v1/artifacts" | jq -r '.artifacts[] | "  kernel \(.name): \(.version // "version not reported yet")"'
		curl -fs "$url/api/v1/jobs?run=$run&limit=1000" | jq -r --argjson linux "${linux:-[]}" '
		  .jobs[] | select(.scenario | IN($linux[])) |
		  "  job \(.id) \(.scenario) \(.matrix | tostring): \(.verdict)" +
		  (if .as_expected == 1 then ", as expected" else ", NOT AS EXPECTED" end)'
	fi
else
	# Until the farm path exists end to end, run the same guest matrix the
	# guest suite checks, locally under bare QEMU, and say that is what it is.
	say "the farm path (controller -> agent -> libvirt) is not complete yet;"
	say "running the guest matrix locally under bare QEMU instead (records in var/local-matrix/)"
	mkdir -p "$var/local-matrix"
	WF_TOP=$top WF_OUT=$var/local-matrix "$top/bin/tests/guest_test" -j 2
fi

if [ $controller_up = 1 ]; then
	say "dashboard: $url/  (Ctrl-C stops everything)"
	wait "${pids[0]}"
fi
