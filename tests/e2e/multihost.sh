#!/bin/bash
# multihost: a farm spread over "hosts" on this machine, the way it is deployed. Two network
# namespaces (ip netns) stand for two libvirt hosts, each joined to the root namespace by a
# veth pair on its own /30; the controller serves HTTPS only, on the root side of the first
# pair, with a certificate for that IP from a CA this test makes with openssl; one agent runs
# in each namespace (--config file: server, --ca-file, --token-file) and reaches it over its
# veth. Both agents use qemu:///system through libvirtd's socket (a namespace changes only the
# network). Prints "ok NAME" / "FAIL NAME: why" and, last, "N passed, N failed".
#
#   config-errors     bad lines are refused with FILE:LINE, a token file others may read too,
#                     and a TLS key that is not the certificate's
#   plain-http        plain HTTP on the TLS port gets no reply; curl without the CA refuses
#   hosts             both agents registered: GET /api/v1/hosts (the dashboard's hosts page)
#   wrong-ca          the CLI with another CA is refused; with the lab CA (WAKEFARM_CA_FILE,
#                     from inside a namespace) it lists both hosts
#   token-rotation    agent 1's token is revoked, a new one written to its token file, SIGHUP:
#                     it registers again with the new token
#   matrix            cold-boot, cpus 1,2 x mailbox_version 0,1 submitted from host 2: all
#                     4 jobs finish as expected and both hosts ran some
#   sighup            the controller's log file moved away and SIGHUP: a new file, the log
#                     level read again from the config file
#   cert-renewal      a renewed certificate (new key, same CA) put in place and SIGHUP: new
#                     handshakes get it; then a certificate that is not the key's: logged, and
#                     the renewed one stays
#
# Needs root (ip netns), openssl, curl, jq and a running libvirtd (make deps). Concurrent runs
# wait for each other (a lock): the namespace names and addresses are fixed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$top/bin/wakefarm-controller" ] || top=$(cd "$(dirname "$0")/.." && pwd)	# run from bin/tests
bin=$top/bin
passed=0 failed=0
pids=()

# 10.231.71.0/30 for host 1 and .4/30 for host 2: root side .1 and .5, namespace side .2 and .6.
NET=10.231.71
CTL_IP=$NET.1
NS=(wfmh1 wfmh2)		# namespaces; veths NS-r (root side) and NS-n
NAMES=(mhost1 mhost2)		# agent names: domains are wakefarm-mhost1-JOB-ATTEMPT

ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; [ $failed = 0 ]; exit; }

need() {
	if [ "$(id -u)" != 0 ]; then
		fail setup "needs root (ip netns)"
		finish
	fi
	for c in ip openssl curl jq virsh; do
		command -v $c >/dev/null || { fail setup "$c not found (make deps)"; finish; }
	done
	if ! virsh -c qemu:///system version >/dev/null 2>&1; then
		fail setup "libvirtd does not answer on qemu:///system (make deps)"
		finish
	fi
}

net_down() {
	local ns
	for ns in "${NS[@]}"; do
		ip netns del "$ns" 2>/dev/null	# takes the veth pair with it
		ip link del "$ns-r" 2>/dev/null
	done
}

cleanup() {
	local p d
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	for d in $(virsh -c qemu:///system list --all --name 2>/dev/null | grep -E '^wakefarm-mhost[12]-'); do
		virsh -c qemu:///system destroy "$d" >/dev/null 2>&1
	done
	net_down
	[ -n "${WF_KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}

need
exec 8>/run/lock/wakefarm-multihost.lock
flock -w 900 8 || { fail setup "another multihost test held its lock for 900 s"; finish; }
tmp=$(mktemp -d /tmp/wf-multihost.XXXXXX)
chmod 755 "$tmp"	# QEMU (libvirt-qemu) reads the agents' work files under it
trap cleanup EXIT
trap 'exit 1' INT TERM HUP	# a signal ends the test through the EXIT trap too
net_down	# what a killed earlier run left (we hold the lock: nobody else's)

# --- network: two namespaces, each a veth pair to the root namespace --------------------
net_up() {
	local i ns r n
	for i in 0 1; do
		ns=${NS[$i]} r=$NET.$((4 * i + 1)) n=$NET.$((4 * i + 2))
		ip netns add "$ns" &&
		ip link add "$ns-r" type veth peer name "$ns-n" &&
		ip link set "$ns-n" netns "$ns" &&
		ip addr add "$r/30" dev "$ns-r" && ip link set "$ns-r" up &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add "$n/30" dev "$ns-n" && ip -n "$ns" link set "$ns-n" up &&
		ip -n "$ns" route add default via "$r" || return 1
	done
}
if ! net_up >"$tmp/net.log" 2>&1; then
	fail setup "network namespaces: $(tail -1 "$tmp/net.log")"
	finish
fi

# --- the lab CA, the controller's certificate for its IP, and a CA nobody trusts --------
make_ca() {	# NAME CN
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$tmp/$1.key" -out "$tmp/$1.pem" -subj "/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
{
	make_ca ca "wakefarm multihost test CA" && make_ca wrong-ca "some other CA" &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$tmp/controller.key" -out "$tmp/controller.csr" -subj "/CN=wakefarm-controller" &&
	printf 'subjectAltName = IP:%s\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n' \
		"$CTL_IP" >"$tmp/controller.ext" &&
	openssl x509 -req -in "$tmp/controller.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
		-CAcreateserial -days 2 -sha256 -extfile "$tmp/controller.ext" -out "$tmp/controller.pem"
} >"$tmp/openssl.log" 2>&1 || { fail setup "openssl: $(tail -1 "$tmp/openssl.log")"; finish; }
chmod 600 "$tmp/controller.key"

# --- tokens, in files only their owner may read -------------------------------------------
db=$tmp/wf.db
"$bin/wakefarm-controller" migrate --db "$db" >/dev/null 2>&1
token_file() {	# ROLE NAME FILE
	(umask 077; "$bin/wakefarm-controller" token create --db "$db" --role "$1" --name "$2" \
		>"$3" 2>/dev/null)
}
token_file admin mh-admin "$tmp/admin.token"
token_file submitter mh-sub "$tmp/sub.token"
token_file agent mh-agent1 "$tmp/agent1.token"
token_file agent mh-agent2 "$tmp/agent2.token"

# --- config-errors: no libvirt needed -----------------------------------------------------
printf 'listen = %s:0\ndb = %s\n# fine so far\nthreads = 4\nlisten-address = x\n' "$CTL_IP" "$db" >"$tmp/bad.conf"
out=$("$bin/wakefarm-controller" serve --config "$tmp/bad.conf" 2>&1)
rc=$?
[ $rc = 2 ] && [ "$out" = "wakefarm-controller serve: $tmp/bad.conf:5: unknown key 'listen-address'" ] &&
	ok config-unknown-key || fail config-unknown-key "exit $rc: $out"
printf 'server = https://%s:1\nname = x\n\nslots = 65\n' "$CTL_IP" >"$tmp/bad-agent.conf"
out=$("$bin/wakefarm-agent" --config "$tmp/bad-agent.conf" 2>&1)
rc=$?
[ $rc = 2 ] && [[ $out == *"bad-agent.conf:4: invalid value '65' for slots: expected an integer from 1 to 64"* ]] &&
	ok config-bad-value || fail config-bad-value "exit $rc: $out"
cp "$tmp/agent1.token" "$tmp/open.token" && chmod 644 "$tmp/open.token"
out=$("$bin/wakefarm-agent" --server "https://$CTL_IP:1" --name x --token-file "$tmp/open.token" 2>&1)
rc=$?
[ $rc = 2 ] && [[ $out == *"group or others may access it (mode 0644); make it private: chmod 600"* ]] &&
	ok token-file-mode-refused || fail token-file-mode-refused "exit $rc: $out"

out=$("$bin/wakefarm-controller" serve --listen 127.0.0.1:0 --db "$db" --tls-cert "$tmp/controller.pem" \
	--tls-key "$tmp/wrong-ca.key" 2>&1)
rc=$?
[ $rc = 1 ] && [[ $out == *"--tls-key $tmp/wrong-ca.key is not the key of the certificate in --tls-cert"* ]] &&
	ok tls-key-mismatch-refused || fail tls-key-mismatch-refused "exit $rc: $out"

# --- the controller: HTTPS only, on the root side of host 1's veth ------------------------
cat >"$tmp/controller.conf" <<EOF
# the multihost test's controller
listen = $CTL_IP:0
db = $db
tls-cert = $tmp/controller.pem
tls-key = $tmp/controller.key
port-file = $tmp/port
scenarios = $top/scenarios
schema-dir = $top/db
log-file = $tmp/controller.log
log-level = info
read-token-required = true
EOF
"$bin/wakefarm-controller" serve --config "$tmp/controller.conf" 2>>"$tmp/controller.err" &
ctl=$!
pids+=($ctl)
disown $ctl
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
if [ ! -s "$tmp/port" ]; then
	fail setup "the controller did not start: $(tail -2 "$tmp/controller.log" "$tmp/controller.err" 2>/dev/null)"
	finish
fi
port=$(cat "$tmp/port")
port=${port##*:}
url=https://$CTL_IP:$port
ADMIN=$(cat "$tmp/admin.token")
api() {	# PATH [CURL ARGS]: GET with the lab CA and the admin token
	local p=$1
	shift
	curl -fsS --cacert "$tmp/ca.pem" -H "Authorization: Bearer $ADMIN" "$@" "$url$p"
}

# --- plain-http -------------------------------------------------------------------------
out=$(curl -sS --max-time 10 "http://$CTL_IP:$port/api/v1/hosts" 2>&1)
rc=$?
[ $rc != 0 ] && [[ $out != *'"hosts"'* ]] && ok "plain-http-refused (curl exit $rc)" ||
	fail plain-http-refused "curl exit $rc: $out"
out=$(curl -sS --max-time 10 -H "Authorization: Bearer $ADMIN" "$url/api/v1/hosts" 2>&1)
rc=$?
[ $rc = 60 ] && ok unknown-ca-refused || fail unknown-ca-refused "curl without the CA: exit $rc: $out"

# --- the agents, one per namespace ----------------------------------------------------------
start_agent() {	# INDEX (0 or 1)
	local i=$1 n=$(($1 + 1))
	cat >"$tmp/agent$n.conf" <<EOF
server = $url
ca-file = $tmp/ca.pem
token-file = $tmp/agent$n.token
name = ${NAMES[$i]}
slots = 1
work = $tmp/work$n
spool = $tmp/spool$n
log-file = $tmp/agent$n.log
EOF
	ip netns exec "${NS[$i]}" "$bin/wakefarm-agent" --config "$tmp/agent$n.conf" 2>>"$tmp/agent$n.err" &
	pids+=($!)
	eval "agent$n=$!"
	disown $!
}
start_agent 0
start_agent 1

hosts_now() { api /api/v1/hosts 2>/dev/null | jq -c '[.hosts[].name] | sort'; }
for _ in $(seq 150); do [ "$(hosts_now)" = '["mhost1","mhost2"]' ] && break; sleep 0.2; done
h=$(hosts_now)
[ "$h" = '["mhost1","mhost2"]' ] && ok hosts-api-lists-both ||
	fail hosts-api-lists-both "hosts: $h; agent logs: $(tail -1 "$tmp"/agent*.log "$tmp"/agent*.err 2>/dev/null | tr '\n' ' ')"

# --- wrong-ca -----------------------------------------------------------------------------
out=$("$bin/wakefarm" --server "$url" --token-file "$tmp/sub.token" --ca-file "$tmp/wrong-ca.pem" hosts 2>&1)
rc=$?
[ $rc != 0 ] && [[ $out == *certificate* ]] && ok cli-wrong-ca-refused || fail cli-wrong-ca-refused "exit $rc: $out"
out=$("$bin/wakefarm" --server "$url" --token-file "$tmp/sub.token" hosts 2>&1)
rc=$?
[ $rc != 0 ] && [[ $out == *certificate* ]] && ok cli-system-cas-refuse-lab-cert || fail cli-system-cas-refuse-lab-cert "exit $rc: $out"
out=$(WAKEFARM_CA_FILE=$tmp/ca.pem ip netns exec "${NS[0]}" "$bin/wakefarm" --server "$url" \
	--token-file "$tmp/sub.token" hosts --json 2>&1 | jq -c '[.hosts[].name] | sort' 2>&1)
[ "$out" = '["mhost1","mhost2"]' ] && ok cli-lab-ca-from-a-host || fail cli-lab-ca-from-a-host "$out"

# --- token-rotation: revoke agent 1's token, write a new one, SIGHUP ------------------------
old_id=$(api /api/v1/admin/tokens | jq -r '.tokens[] | select(.name == "mh-agent1") | .id')
new=$(api /api/v1/admin/tokens -X POST -H 'Content-Type: application/json' \
	-d '{"name": "mh-agent1-b", "role": "agent"}' | jq -r .token)
api "/api/v1/admin/tokens/$old_id/revoke" -X POST >/dev/null
(umask 077; echo "$new" >"$tmp/agent1.token.new") && mv "$tmp/agent1.token.new" "$tmp/agent1.token"
kill -HUP "$agent1"
for _ in $(seq 100); do grep -q "registered again as mhost1 with the new token" "$tmp/agent1.log" && break; sleep 0.1; done
grep -q "SIGHUP: a new token from $tmp/agent1.token" "$tmp/agent1.log" &&
	grep -q "registered again as mhost1 with the new token" "$tmp/agent1.log" &&
	ok token-rotation-sighup || fail token-rotation-sighup "agent 1's log: $(grep SIGHUP -A2 "$tmp/agent1.log" | tail -3 | tr '\n' ' ')"

# --- matrix: 4 jobs submitted from host 2, run on both hosts --------------------------------
out=$(ip netns exec "${NS[1]}" "$bin/wakefarm" --server "$url" --ca-file "$tmp/ca.pem" \
	--token-file "$tmp/sub.token" submit cold-boot --set cpus=1,2 --set mailbox_version=0,1 2>&1)
run=$(sed -n 's/^run \([0-9]*\):.*/\1/p' <<<"$out" | head -1)
if [ -z "$run" ]; then
	fail matrix "submit from ${NS[1]} failed: $out"
else
	done=0
	for _ in $(seq 900); do
		[ "$(api "/api/v1/runs/$run" | jq -r .run.state)" = done ] && { done=1; break; }
		sleep 0.2
	done
	jobs=$(api "/api/v1/jobs?run=$run&limit=100")
	if [ $done = 1 ]; then
		got=$(jq -c '[.jobs[] | {m: "\(.matrix.cpus)/\(.matrix.mailbox_version)", e: .as_expected, s: .state}] | sort_by(.m)' <<<"$jobs")
		want='[{"m":"1/0","e":1,"s":"done"},{"m":"1/1","e":1,"s":"done"},{"m":"2/0","e":1,"s":"done"},{"m":"2/1","e":1,"s":"done"}]'
		[ "$got" = "$want" ] && ok matrix-4-jobs-as-expected || fail matrix-4-jobs-as-expected "$got"
		used=$(jq -r '[.jobs[].host] | unique | join(" ")' <<<"$jobs")
		[ "$used" = "mhost1 mhost2" ] && ok matrix-both-hosts-ran-jobs || fail matrix-both-hosts-ran-jobs "hosts used: $used"
	else
		fail matrix "run $run not done after 180 s: $(jq -c '[.jobs[] | {id, state, host}]' <<<"$jobs")"
	fi
fi

# --- sighup: the controller's log file rotated, the log level read again --------------------
sed -i 's/^log-level = info$/log-level = debug/' "$tmp/controller.conf"
mv "$tmp/controller.log" "$tmp/controller.log.1"
kill -HUP "$ctl"
for _ in $(seq 50); do [ -s "$tmp/controller.log" ] && break; sleep 0.1; done
line=$(grep 'SIGHUP: reloaded' "$tmp/controller.log" 2>/dev/null)
[[ $line =~ ^[0-9-]{10}T[0-9:.]{12}Z\ INFO\ controller:\ SIGHUP:\ reloaded\ .*controller.conf\;\ log\ level\ debug$ ]] &&
	grep -q 'serving HTTPS only' "$tmp/controller.log.1" && ok controller-sighup-reopens-and-reloads ||
	fail controller-sighup-reopens-and-reloads "new log: '$line'"
# --- cert-renewal: a new certificate (new key, same CA) in place of the old, SIGHUP ----------
served_serial() { openssl s_client -connect "$CTL_IP:$port" -CAfile "$tmp/ca.pem" </dev/null 2>/dev/null |
	openssl x509 -noout -serial 2>/dev/null; }
before=$(served_serial)
{
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$tmp/renewed.key" -out "$tmp/renewed.csr" -subj "/CN=wakefarm-controller renewed" &&
	openssl x509 -req -in "$tmp/renewed.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
		-CAcreateserial -days 2 -sha256 -extfile "$tmp/controller.ext" -out "$tmp/renewed.pem"
} >>"$tmp/openssl.log" 2>&1
chmod 600 "$tmp/renewed.key"
cp -p "$tmp/controller.pem" "$tmp/old.pem" && cp -p "$tmp/controller.key" "$tmp/old.key"
mv "$tmp/renewed.key" "$tmp/controller.key" && mv "$tmp/renewed.pem" "$tmp/controller.pem"
want=$(openssl x509 -noout -serial -in "$tmp/controller.pem")
kill -HUP "$ctl"
for _ in $(seq 50); do grep -q 'SIGHUP: TLS: new handshakes get certificate' "$tmp/controller.log" && break; sleep 0.1; done
after=$(served_serial)
[ -n "$before" ] && [ "$after" = "$want" ] && [ "$after" != "$before" ] &&
	grep -q 'SIGHUP: TLS: new handshakes get certificate /CN=wakefarm-controller renewed' "$tmp/controller.log" &&
	api /api/v1/hosts >/dev/null && ok cert-renewal-sighup ||
	fail cert-renewal-sighup "served $before, then $after (want $want): $(grep 'SIGHUP: TLS' "$tmp/controller.log")"
# a certificate that does not belong to the key: logged, the renewed one stays
cp -p "$tmp/old.pem" "$tmp/controller.pem"
kill -HUP "$ctl"
for _ in $(seq 50); do grep -q 'serving the certificate loaded before' "$tmp/controller.log" && break; sleep 0.1; done
[ "$(served_serial)" = "$want" ] && grep -q 'SIGHUP: TLS: --tls-key .* is not the key of the certificate in --tls-cert .*; serving the certificate loaded before' "$tmp/controller.log" &&
	ok cert-bad-pair-keeps-old || fail cert-bad-pair-keeps-old "served $(served_serial): $(grep 'SIGHUP: TLS' "$tmp/controller.log" | tail -1)"

# a record about a job carries job=ID
grep -qE '^[^ ]+ (INFO|WARN) agent job=[0-9]+: ' "$tmp/agent1.log" "$tmp/agent2.log" &&
	grep -qE '^[^ ]+ INFO controller job=[0-9]+: job [0-9]+: pass' "$tmp/controller.log.1" &&
	ok log-records-carry-job-id || fail log-records-carry-job-id "no job=ID records in the logs"

finish
