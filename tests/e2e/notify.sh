#!/bin/bash
# notify: a regression told by webhook and by mail, end to end on real libvirtd + QEMU, across a
# controller killed with -9 while both receivers were down. Prints "ok NAME" / "FAIL NAME: why"
# and, last, "N passed, N failed". Every address is 127.0.0.1.
#
#   A controller with an injected clock, one agent (libvirt), a nightly schedule of one case
#   (retries 0). Night 1 the case passes; then its scenario file changes as a firmware change
#   would (the v1-short-entry quirk: a check fails) and night 2 regresses. The webhook receiver
#   (tests/controller/consumers/webhook-receiver, HMAC-SHA256 checked) and the SMTP server
#   (consumers/smtp-receiver, Debian's aiosmtpd) are down: the outbox retries; the controller is
#   killed with -9; receivers and controller come back: exactly one signed webhook and one mail
#   for the regression arrive (and night 1's run-finished, sent before, not again).
#
# WF_TIME_SCALE (default 1; 3 under make asan) multiplies the waits.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$top/bin/wakefarm-controller" ] || top=$(cd "$(dirname "$0")/.." && pwd) # run from bin/tests
. "$top/tests/e2e/lib.sh"
e2e_init notify wakefarm-notify
rx=$top/tests/controller/consumers

hook_port=$(free_port)
smtp_port=$(free_port)
printf '%s\n' 'e2e-secret-for-the-webhook-0123' >"$tmp/secret"
chmod 600 "$tmp/secret"

# our own scenario directory: the shipped ones and the case this test changes
ctl_scenarios=$tmp/scenarios
mkdir -p "$tmp/scenarios"
cp "$top"/scenarios/*.json "$tmp/scenarios/"
scenario() { # QUIRKS-JSON
	cat >"$tmp/scenarios/e2e-notify.json" <<EOF
{
 "name": "e2e-notify",
 "description": "tests/e2e/notify.sh: a kexec with 2 CPUs on mailbox v1; night 2 adds a firmware quirk.",
 "nightly": false,
 "cpus": 2,
 "mailbox_version": 1,
 "steps": "kexec",
 "quirks": $1,
 "timeout_s": 30
}
EOF
}
scenario '[]'

e2e_db
ADMIN=$(tok admin admin)
AG=$(tok agent notify1)
echo "2026-03-01T00:00:00Z" >"$tmp/clock"

ctl_flags=(--clock-file "$tmp/clock" --schedule-tick-ms 100 --notify-retry-ms 300
	--smtp-url "smtp://127.0.0.1:$smtp_port" --smtp-from farm@wakefarm.test
	--public-url http://wakefarm.test:8080)
start_hook() {
	rm -f "$tmp/hook.port"
	spawn "$tmp/hook.log" "$rx/webhook-receiver" --port "$hook_port" --port-file "$tmp/hook.port" \
		--out "$tmp/hook.jsonl" --secret-file "$tmp/secret"
	hook=$spawned
	for _ in $(seq 100); do [ -s "$tmp/hook.port" ] && break; sleep 0.1; done
}
start_smtp() {
	rm -f "$tmp/smtp.port"
	spawn "$tmp/smtp.log" "$rx/smtp-receiver" --port "$smtp_port" --port-file "$tmp/smtp.port" --dir "$tmp/mail"
	for _ in $(seq 100); do [ -s "$tmp/smtp.port" ] && break; sleep 0.1; done
}
W() { WAKEFARM_TOKEN=$ADMIN "$bin/wakefarm" --server "$url" "$@"; }
night() { # DAY -> its run id once done
	local run=
	echo "2026-03-0${1}T02:00:30Z" >"$tmp/clock"
	for _ in $(seq $((300 * scale))); do
		run=$(curl -fs "$url/api/v1/runs?kind=nightly&limit=1" | jq -r ".runs[0] | select(.created_at != null) | .id")
		[ -n "$run" ] && [ "$run" != "${2:-}" ] && break
		run=
		sleep 0.1
	done
	[ -n "$run" ] && W wait "$run" --timeout $((120 * scale)) >/dev/null 2>&1
	echo "$run"
}
regressions_in() { # FILE -> signed regression deliveries (not duplicates) received
	[ -f "$1" ] || { echo 0; return; }
	jq -s '[.[] | select(.event == "regression" and .status == 200 and .signature_ok and (.duplicate | not))] | length' "$1"
}

start_controller 0 "${ctl_flags[@]}"
start_hook
WAKEFARM_TOKEN=$AG spawn "$tmp/agent.log" "$bin/wakefarm-agent" --server "$url" --name notify1 --slots 1 \
	--work "$tmp/work" --spool "$tmp/spool"
W schedule add e2e --at 02:00 --matrix e2e-notify --retries 0 >/dev/null &&
	W subscription add hook --webhook "http://127.0.0.1:$hook_port/hook" --secret-file "$tmp/secret" \
		--event regression,run-finished --schedule e2e >/dev/null &&
	W subscription add mail --email dev@wakefarm.test --event regression --schedule e2e >/dev/null ||
	fail setup "schedule or subscriptions refused: $(tail -3 "$tmp/controller.log")"

# night 1: passes; its run-finished webhook arrives now
run1=$(night 1)
if [ -n "$run1" ] && [ "$(curl -fs "$url/api/v1/runs/$run1" | jq -r .run.jobs_as_expected)" = 1 ]; then
	ok night1-passes-through-libvirt
else
	fail night1-passes-through-libvirt "run '$run1': $(tail -2 "$tmp/agent.log")"
fi
for _ in $(seq $((100 * scale))); do
	[ "$(jq -s '[.[] | select(.event == "run-finished")] | length' "$tmp/hook.jsonl" 2>/dev/null)" = 1 ] && break
	sleep 0.1
done

# the firmware changes; the receivers go away; night 2 regresses
scenario '["v1-short-entry"]'
kill "$hook"
run2=$(night 2 "$run1")
cls=$(curl -fs "$url/api/v1/runs/$run2/regressions" | jq -r '.cases[0].class')
[ "$cls" = regression ] && ok night2-regresses || fail night2-regresses "run '$run2' case class: $cls"
tried=0
for _ in $(seq $((200 * scale))); do
	tried=$(W subscription deliveries --state pending --json 2>/dev/null |
		jq '[.deliveries[] | select(.event == "regression" and .attempts >= 2)] | length')
	[ "$tried" = 2 ] && break
	sleep 0.1
done
[ "$tried" = 2 ] && ok receivers-down-retried || fail receivers-down-retried "$(W subscription deliveries 2>&1 | head -5)"

# kill -9 with both pending; receivers back; the controller back
port=${url##*:}
kill -9 "$ctl"
start_hook
start_smtp
start_controller "$port" "${ctl_flags[@]}"
for _ in $(seq $((200 * scale))); do
	[ "$(regressions_in "$tmp/hook.jsonl")" = 1 ] && [ -f "$tmp/mail/1.eml" ] && break
	sleep 0.1
done
sleep $((2 * scale)) # nothing more may come
hooks=$(regressions_in "$tmp/hook.jsonl")
dups=$(jq -s '[.[] | select(.duplicate)] | length' "$tmp/hook.jsonl")
finished=$(jq -s '[.[] | select(.event == "run-finished" and .status == 200)] | length' "$tmp/hook.jsonl")
mails=$(ls "$tmp/mail"/*.eml 2>/dev/null | wc -l)
[ "$hooks" = 1 ] && [ "$dups" = 0 ] && [ "$finished" = 2 ] &&
	ok webhook-once-after-kill-9 ||
	fail webhook-once-after-kill-9 "regression webhooks $hooks, duplicates $dups, run-finished $finished"
body=$(jq -s -c '[.[] | select(.event == "regression")][-1].body.case | {scenario, class, check: .first_failed_check.check}' "$tmp/hook.jsonl")
[ "$body" = '{"scenario":"e2e-notify","class":"regression","check":"madt-entry"}' ] &&
	ok webhook-says-what-regressed || fail webhook-says-what-regressed "$body"
if [ "$mails" = 1 ] && grep -q '^Subject: \[wakefarm\] regression: e2e-notify default' "$tmp/mail/1.eml" &&
	grep -q 'First failed check: madt-entry' "$tmp/mail/1.eml" &&
	grep -q 'bisect start e2e-notify' "$tmp/mail/1.eml"; then
	ok mail-once-after-kill-9
else
	fail mail-once-after-kill-9 "$mails mail(s): $(head -c 600 "$tmp/mail/1.eml" 2>/dev/null)"
fi

e2e_done
