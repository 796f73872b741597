#!/bin/bash
# firsthour: what a new user meets when a host is not ready (issue 19, points 2 and 3), on real
# libvirtd + QEMU. Prints "ok NAME" / "FAIL NAME: why" and, last, "N passed, N failed".
#
#   preflight-*      the agent refuses to start, naming the problem and its fix: an image QEMU's
#                    user (libvirt-qemu) cannot read, a libvirt that does not answer, a spool
#                    directory that cannot be made
#   relative-dirs    the README's agent command with relative --work/--spool (and a cwd that is
#                    not the tree): the paths are made absolute and a job passes through libvirt
#   wait-no-host     submit --wait says once when no good host can take the work (the only host bad),
#                    and again when it is back (hosts set-state HOST good); the run then ends
#   stopped-unregistered  an agent stopped while its registration keeps failing never logs
#                    "registered as"
#   tls-hints        a controller serving HTTPS with a lab CA (openssl): the agent without --ca-file
#                    names --ca-file and retries after 8 s, then 16 s (not every 2 s); the CLI with
#                    http:// to it is told to use https://, without the CA to give --ca-file
#   make-run-tokens  `make run`'s script (lib/sh/run.sh) in a fresh clone, one scenario
#                    (WF_RUN_MATRIX): it makes an admin token too and says where; every token is a
#                    0600 file passed as --token-file: no process's command line holds one
#
# WF_TIME_SCALE (default 1; 3 under make asan) multiplies the waits.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
e2e_init firsthour wakefarm-firsthour

e2e_db
for r in admin submitter agent; do
	tok $r "fh-$r" --out "$tmp/$r.token"
done
start_controller 0 --lease-ms $((4000 * scale))
W() { "$bin/wakefarm" --server "$url" --token-file "$tmp/$1.token" "${@:2}"; }
agent() { # ARGS... (run in $tmp/cwd; $limit: a time limit, for the agents that must not start)
	(cd "$tmp/cwd" && exec ${limit:+timeout "$limit"} "$bin/wakefarm-agent" --server "$url" \
		--token-file "$tmp/agent.token" --name firsthour --slots 1 "$@")
}
mkdir -p "$tmp/cwd"

# --- preflight ---------------------------------------------------------------------
cp "$top/build/guest/kernel.elf" "$tmp/private.elf" && chmod 600 "$tmp/private.elf"
out=$(limit=20 agent --test-kernel $tmp/private.elf 2>&1)
rc=$?
[ $rc = 1 ] && [[ $out == *"test kernel $tmp/private.elf cannot be read by libvirt-qemu"*"mode 600"*"chmod o+r"* ]] &&
	[[ $out == *"not starting"* ]] && [[ $out != *registered* ]] &&
	ok preflight-image-unreadable || fail preflight-image-unreadable "exit $rc: $out"
out=$(limit=20 agent --libvirt "qemu+unix:///system?socket=$tmp/no.sock" 2>&1)
rc=$?
[ $rc = 1 ] && [[ $out == *"libvirt at qemu+unix:///system?socket=$tmp/no.sock does not answer"*"is libvirtd running?"* ]] &&
	ok preflight-libvirt-down || fail preflight-libvirt-down "exit $rc: $out"
touch "$tmp/afile"
out=$(limit=20 agent --spool $tmp/afile/spool 2>&1)
rc=$?
[ $rc = 1 ] && [[ $out == *"spool directory: cannot create directory $tmp/afile"*"--spool"* ]] &&
	ok preflight-spool || fail preflight-spool "exit $rc: $out"

# --- relative-dirs: the README's command, run from another directory ---------------------
# (env -C, not the agent function: the pid in pids must be the agent's own, or it outlives the test)
spawn "$tmp/agent.log" env -C "$tmp/cwd" "$bin/wakefarm-agent" --server "$url" --token-file "$tmp/agent.token" \
	--name firsthour --slots 1 --work w --spool s
for _ in $(seq $((100 * scale))); do grep -q 'registered as firsthour' "$tmp/agent.log" && break; sleep 0.1; done
out=$(timeout $((120 * scale)) "$bin/wakefarm" --server "$url" --token-file "$tmp/submitter.token" \
	submit kexec-chain --set cpus=2 --set mailbox_version=1 --wait 2>&1)
rc=$?
[ $rc = 0 ] && [ -d "$tmp/cwd/w" ] && [ -d "$tmp/cwd/s" ] && grep -q "work $tmp/cwd/w" "$tmp/agent.log" &&
	ok relative-dirs || fail relative-dirs "exit $rc: $out; agent: $(tail -3 "$tmp/agent.log")"

# --- wait-no-host ------------------------------------------------------------------------
W admin hosts set-state firsthour bad >/dev/null 2>&1
W submitter submit kexec-chain --set cpus=2 --set mailbox_version=1 --wait >"$tmp/wait.out" 2>&1 &
waiter=$!
pids+=($waiter)
for _ in $(seq $((150 * scale))); do grep -q 'no good host' "$tmp/wait.out" && break; sleep 0.1; done
W admin hosts set-state firsthour good >/dev/null 2>&1
timeout $((120 * scale)) tail --pid=$waiter -f /dev/null
wait $waiter
rc=$?
# (the run may end before the next look at the hosts: "a good host is back" is not required)
[ $rc = 0 ] && grep -q 'no good host can take the work (firsthour bad).*hosts set-state HOST good' "$tmp/wait.out" &&
	[ "$(grep -c 'no good host' "$tmp/wait.out")" = 1 ] && grep -q '1/1 jobs done' "$tmp/wait.out" &&
	ok wait-no-host || fail wait-no-host "exit $rc: $(tr '\n' '|' <"$tmp/wait.out")"

# --- stopped-unregistered: registration refused (no such controller), then SIGTERM -------------
(cd "$tmp/cwd" && exec "$bin/wakefarm-agent" --server http://127.0.0.1:1 --token-file "$tmp/agent.token" \
	--name firsthour2 --work "$tmp/w2" --spool "$tmp/s2") >"$tmp/agent2.log" 2>&1 &
a2=$!
pids+=($a2)
sleep $((3 * scale))
kill -TERM $a2
timeout $((20 * scale)) tail --pid=$a2 -f /dev/null
if ! grep -q 'registered as' "$tmp/agent2.log" && grep -q 'stopped before firsthour2 could register' "$tmp/agent2.log"; then
	ok stopped-unregistered
else
	fail stopped-unregistered "$(tail -3 "$tmp/agent2.log" | tr '\n' '|')"
fi

# --- tls-hints --------------------------------------------------------------------------------
(
	cd "$tmp" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -keyout ca.key \
		-out ca.pem -subj "/CN=firsthour CA" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout tls.key -out tls.csr \
		-subj "/CN=firsthour"
	printf '%s\n' 'subjectAltName = IP:127.0.0.1' 'basicConstraints = CA:FALSE' >tls.ext
	openssl x509 -req -in tls.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile tls.ext -out tls.pem
	chmod 600 tls.key
) >"$tmp/openssl.log" 2>&1
spawn "$tmp/tls-controller.log" "$bin/wakefarm-controller" serve --listen 127.0.0.1:0 --port-file "$tmp/tls.port" \
	--db "$tmp/tls.db" --scenarios "$top/scenarios" --schema-dir "$top/db" --tls-cert "$tmp/tls.pem" --tls-key "$tmp/tls.key"
for _ in $(seq $((100 * scale))); do [ -s "$tmp/tls.port" ] && break; sleep 0.1; done
tls=$(cat "$tmp/tls.port")
spawn "$tmp/agent3.log" "$bin/wakefarm-agent" --server "https://$tls" --token-file "$tmp/agent.token" \
	--name firsthour3 --work "$tmp/w3" --spool "$tmp/s3"
a3=$spawned
cli_http=$("$bin/wakefarm" --server "http://$tls" hosts 2>&1)
cli_noca=$("$bin/wakefarm" --server "https://$tls" hosts 2>&1)
cli_ca=$("$bin/wakefarm" --server "https://$tls" --ca-file "$tmp/ca.pem" hosts 2>&1)
sleep 13
kill -TERM $a3
tries=$(grep -c 'WARN agent: register:' "$tmp/agent3.log")
if grep -q 'unable to get local issuer certificate (the controller.s certificate is not signed by a CA this machine trusts: give the CA that signed it with --ca-file FILE' "$tmp/agent3.log" &&
	grep -q 'next try in 8 s' "$tmp/agent3.log" && grep -q 'next try in 16 s' "$tmp/agent3.log" && [ "$tries" = 2 ] &&
	[[ $cli_http == *"Empty reply from server (nothing came back to plain HTTP: if the controller serves HTTPS (--tls-cert), use https:// in the URL)"* ]] &&
	[[ $cli_noca == *"--ca-file FILE, or WAKEFARM_CA_FILE"* ]] && [[ $cli_ca == *HOST* ]]; then
	ok "tls-hints ($tries tries in 13 s)"
else
	fail tls-hints "$tries tries in 13 s; agent: $(grep -m2 register "$tmp/agent3.log" | tr '\n' '|'); cli: $cli_http | $cli_noca | $cli_ca"
fi

# --- make-run-tokens ------------------------------------------------------------------------
git clone -q "$top" "$tmp/clone" && ln -s "$top/bin" "$tmp/clone/bin" && ln -s "$top/build" "$tmp/clone/build"
git -C "$top" diff HEAD --binary | git -C "$tmp/clone" apply --allow-empty
mr_port=$(free_port)
WF_PORT=$mr_port WF_AGENT_NAME=firsthour-mr WF_RUN_MATRIX=offline-kexec-online setsid "$tmp/clone/lib/sh/run.sh" \
	>"$tmp/make-run.out" 2>&1 </dev/null &
mr=$!
pids+=($mr)
for _ in $(seq $((600 * scale))); do grep -q 'dashboard:' "$tmp/make-run.out" && break; sleep 0.1; done
leaks=0
for f in "$tmp"/clone/var/tokens/*; do
	t=$(cat "$f")
	for c in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$c"; } 2>/dev/null | grep -qF -- "$t" && leaks=$((leaks + 1))
	done
done
mode=$(stat -c %a "$tmp/clone/var/tokens/admin" 2>/dev/null)
if grep -q 'admin token: var/tokens/admin' "$tmp/make-run.out" && grep -q '1/1 jobs done, 0 not as expected' "$tmp/make-run.out" &&
	[ "$mode" = 600 ] && [ $leaks = 0 ] && [ -s "$tmp/clone/var/tokens/agent" ]; then
	ok make-run-tokens
else
	fail make-run-tokens "admin token mode '$mode', $leaks command lines with a token: $(tr '\n' '|' <"$tmp/make-run.out")"
fi
kill -INT -- -$mr 2>/dev/null
timeout $((20 * scale)) tail --pid=$mr -f /dev/null

e2e_done
