#!/bin/bash
# Controller benchmark (issue: controller). In one run, same machine, loopback only:
#   1. ingest: 4 agents (threads of bin/bench/ctlbench, one keep-alive connection and one agent
#      token each) register, lease 64 jobs each of one submitted run and post their events in
#      numbered batches of 100 real records (guest/run-qemu kexec*5) to a real
#      `wakefarm-controller serve` on a temporary database; vs the same rows inserted by a bare
#      SQLite loop into the same schema with the controller's own db.c (same pragmas), one
#      transaction per batch of 100. Targets: >= 20,000 events/s and >= 30% of the bare rate.
#      Also shown: the bare loop with a sqlite3_prepare per row, as the controller stores events.
#   2. reads at scale: a database of 100,000 jobs / 1,000,000 events bulk-seeded in C with the
#      controller's db code and schema (not through the API: far too slow), cached under
#      build/bench/controller/; p50/p99 of the matrix view, the job list and the job detail.
#      Target: p99 < 50 ms.
#   3. lease hand-out: an agent's long-poll is outstanding, then a one-job run is submitted; the
#      time until the lease reply arrives. Target: p99 < 20 ms.
# Exits non-zero only when it could not measure; a missed target is printed, not failed.
set -euo pipefail
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/bench/controller
ctl=${WF_CONTROLLER:-$top/bin/wakefarm-controller}	# another build to compare
cb=$top/bin/bench/ctlbench
# The migrations and scenarios of that build.
ctl_top=$(cd "$(dirname "$ctl")/.." && pwd)
schema=$ctl_top/db
mkdir -p "$out"
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"

# Seeded database size (the issue's), and the ingest load.
SEED_RUNS=${SEED_RUNS:-100} SEED_PER_RUN=${SEED_PER_RUN:-1000} SEED_EVENTS=${SEED_EVENTS:-1000000}
CLIENTS=4 JOBS_PER_CLIENT=64 BATCHES_PER_JOB=4 BATCH=100
LAT_N=${LAT_N:-200} LEASE_N=${LEASE_N:-200} ROUNDS=${ROUNDS:-3}

tmp=$(mktemp -d "$out/run.XXXXXX")
pid=
stop_ctl() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=
	fi
}
cleanup() { stop_ctl; rm -rf "$tmp"; }
trap cleanup EXIT

# The lease benchmark submits LEASE_N runs back to back: no --submit-rate (a build that has it).
no_rate=()
case $("$ctl" serve --help 2>/dev/null || true) in *--submit-rate*) no_rate=(--submit-rate off) ;; esac

# Starts a controller on $1 (a database); sets pid and url.
start_ctl() {
	rm -f "$tmp/port"
	"$ctl" --log-level warn serve --listen 127.0.0.1:0 --port-file "$tmp/port" --db "$1" \
		--schema-dir "$schema" --scenarios "$ctl_top/scenarios" "${no_rate[@]}" \
		2>>"$tmp/controller.log" &
	pid=$!
	for _ in $(seq 200); do
		[ -s "$tmp/port" ] && break
		kill -0 "$pid" 2>/dev/null || { cat "$tmp/controller.log" >&2; return 1; }
		sleep 0.05
	done
	[ -s "$tmp/port" ] || { echo "controller: the controller did not start" >&2; return 1; }
	url=http://$(cat "$tmp/port")
}

token() { "$ctl" --log-level warn token create --db "$1" --role "$2" --name "$3"; }
# "key value" lines of ctlbench's output -> $1_key variables.
field() { awk -v k="$2" '$1 == k {print $2}' <<<"$1"; }
commas() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }
ok() { if [ "$1" = 1 ]; then echo met; else echo "NOT MET"; fi; }

# Others may share the machine: say how busy it was.
printf 'controller: load average %s at the start (%d CPUs)\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"

# The fixture: the records of one real run, made once.
records=$out/kexec5.records
if [ ! -s "$records" ]; then
	"$top/guest/run-qemu" --cpus 4 --mailbox-version 1 --steps 'kexec*5' \
		--records "$records.tmp" 2>/dev/null
	mv "$records.tmp" "$records"
fi
nrec=$(wc -l <"$records")

# --- 1. ingest over HTTP vs bare SQLite ---------------------------------------------
# Rounds alternate HTTP and bare so that both see the same machine; medians are printed.
# 256 jobs: kexec-chain over cpus 1..64 x mailbox version x policy.
submit='{"scenario": "kexec-chain", "set": {"cpus": ['$(seq -s, 1 64)'],
	"mailbox_version": [0, 1], "policy": ["6.11", "pre-6.11"]}}'
bare_db() {
	rm -f "$tmp"/bare.db*
	"$cb" bare --db "$tmp/bare.db" --schema-dir "$schema" --records "$records" \
		--jobs $((CLIENTS * JOBS_PER_CLIENT)) --batches "$BATCHES_PER_JOB" \
		--batch-size "$BATCH" --prepare "$1" 2>/dev/null
}
hs=() bs=() es=()
for round in $(seq "$ROUNDS"); do
	db=$tmp/ingest-$round.db
	"$ctl" --log-level warn migrate --db "$db" --schema-dir "$schema" >/dev/null
	admin=$(token "$db" admin bench)
	for i in $(seq "$CLIENTS"); do token "$db" agent "bench-agent-$i"; done >"$tmp/agent-tokens"
	start_ctl "$db"
	http=$("$cb" ingest --url "$url" --admin-token "$admin" --tokens "$tmp/agent-tokens" \
		--records "$records" --submit "$submit" --jobs "$JOBS_PER_CLIENT" \
		--batches "$BATCHES_PER_JOB" --batch-size "$BATCH")
	stop_ctl
	rm -f "$db"*
	hs+=("$(field "$http" rate)")
	bs+=("$(field "$(bare_db once)" rate)")
	es+=("$(field "$(bare_db each)" rate)")
done
h=$(printf '%s\n' "${hs[@]}" | median) b=$(printf '%s\n' "${bs[@]}" | median)
e=$(printf '%s\n' "${es[@]}" | median)
pct=$((100 * h / b))
printf 'controller: ingest %s events/s over HTTP vs %s bare (%d%%), target >= 20,000 and >= 30%%: %s\n' \
	"$(commas "$h")" "$(commas "$b")" "$pct" "$(ok $((h >= 20000 && pct >= 30)))"
printf 'controller:   (median of %d rounds: HTTP %s, bare %s; each %s events: %d agents x %d jobs x %d batches\n' \
	"$ROUNDS" "${hs[*]}" "${bs[*]}" "$(commas "$(field "$http" events)")" "$CLIENTS" \
	"$JOBS_PER_CLIENT" "$BATCHES_PER_JOB"
printf 'controller:    of %d records cycled from a real kexec*5 run of %d; bare: one transaction per batch,\n' \
	"$BATCH" "$nrec"
printf 'controller:    one prepared INSERT reused, WAL, synchronous=FULL, the controller'"'"'s db.c)\n'
printf 'controller:   bare with a sqlite3_prepare per row (db_exec, as store_batch did before fc889ee): %s events/s (%d%% of bare)\n' \
	"$(commas "$e")" $((100 * e / b))

# --- 2. reads at scale ---------------------------------------------------------------
# The cache is keyed by size, the schema, the fixture and SEED_FORMAT: bump it when
# ctlbench seed changes what it writes.
SEED_FORMAT=1
key=$( (cat "$schema"/*.sql "$records"; echo "$SEED_FORMAT") | sha256sum | cut -c1-12)
seeded=$out/seed-$SEED_RUNS-$SEED_PER_RUN-$SEED_EVENTS-$key.db
if [ ! -s "$seeded" ]; then
	rm -f "$out"/seed-*.db
	echo "controller: seeding $seeded (once; cached)"
	"$cb" seed --db "$seeded.tmp" --schema-dir "$schema" --records "$records" \
		--runs "$SEED_RUNS" --jobs-per-run "$SEED_PER_RUN" --events "$SEED_EVENTS" \
		>/dev/null 2>&1
	rm -f "$seeded.tmp-wal" "$seeded.tmp-shm"
	mv "$seeded.tmp" "$seeded"
fi
# A copy: the controller migrates it and the lease benchmark adds runs.
db=$tmp/scale.db
cp "$seeded" "$db"
admin=$(token "$db" admin bench)
agent=$(token "$db" agent bench-lease)
start_ctl "$db"
lat=$("$cb" latency --url "$url" --runs "$SEED_RUNS" --jobs-per-run "$SEED_PER_RUN" --n "$LAT_N")
worst=0
for what in matrix jobs job; do
	read -r p50 p99 bytes < <(awk -v k="$what" '$1 == k {print $2, $3, $4}' <<<"$lat")
	case $what in
	matrix) label="GET /runs/{id}/matrix ($SEED_PER_RUN jobs)";;
	jobs) label="GET /jobs?run={id}&limit=100";;
	job) label="GET /jobs/{id} ($nrec events)";;
	esac
	printf 'controller: %-40s p50 %6.2f ms  p99 %6.2f ms  (%s bytes), target p99 < 50 ms: %s\n' \
		"$label" "$p50" "$p99" "$(commas "$bytes")" "$(ok "$(awk -v p="$p99" 'BEGIN {print (p < 50)}')")"
done
printf 'controller:   (%s jobs, %s events in %d runs, bulk-seeded by ctlbench seed with the controller'"'"'s\n' \
	"$(commas $((SEED_RUNS * SEED_PER_RUN)))" "$(commas "$SEED_EVENTS")" "$SEED_RUNS"
printf 'controller:    db.c and schema, not through the API; %d sequential requests each over all runs)\n' \
	"$LAT_N"

# --- 3. lease hand-out to a waiting agent ------------------------------------------
lease=$("$cb" lease --url "$url" --admin-token "$admin" --agent-token "$agent" --n "$LEASE_N" \
	--submit '{"scenario": "cold-boot", "set": {"cpus": 1, "mailbox_version": 1}}')
read -r s50 s99 < <(awk '$1 == "lease_submit" {print $2, $3}' <<<"$lease")
read -r r50 r99 < <(awk '$1 == "lease_reply" {print $2, $3}' <<<"$lease")
printf 'controller: lease hand-out, long-poll waiting: p50 %.2f ms  p99 %.2f ms from the submission, target p99 < 20 ms: %s\n' \
	"$s50" "$s99" "$(ok "$(awk -v p="$s99" 'BEGIN {print (p < 20)}')")"
printf 'controller:   (%d submissions on the seeded database; after the submission'"'"'s reply: p50 %.2f ms, p99 %.2f ms)\n' \
	"$LEASE_N" "$r50" "$r99"
stop_ctl
