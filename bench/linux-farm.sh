#!/bin/bash
# Per-job cost of a Linux job (issue 21): the same job, Debian's Linux 6.1
# (linux-image-cloud-amd64) cold boot with 2 CPUs, mailbox v1, 512 MiB, our
# reporter as /init (scenario linux61-cold-boot), side by side on this machine:
#   (a) bare: guest/run-qemu --kernel ... (QEMU's start to its exit);
#   (b) through the farm: a controller and one agent (1 slot, libvirt), from
#       the submission to the job's verdict (polled every 20 ms).
#   (c) queued: BENCH_QUEUED (default 4) such jobs submitted at once to the
#       same agent (1 slot): the per-job cost on the critical path, (last
#       verdict - first verdict) / (N - 1) from the controller's finish times,
#       where the agent prepares each next domain while a guest runs (lease
#       ahead, agent/README.md).
# Median of BENCH_RUNS (default 3) of (a) and (b), interleaved, after one farm
# job to warm the agent's kernel cache. Prints them, the differences and the
# agent's own phases of the job (its "timings:" log lines, medians).
# WF_AGENT_FLAGS: extra agent flags (e.g. "--serial-teardown --no-lease-ahead":
# the old mode).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
bin=$top/bin
runs=${BENCH_RUNS:-3}
tmp=$(mktemp -d /tmp/wf-bench-linuxfarm.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for d in $(virsh -c qemu:///system list --name 2>/dev/null | grep '^wakefarm-benchlinux-'); do
		virsh -c qemu:///system destroy "$d" >/dev/null 2>&1 || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

kernel=$("$top/lib/sh/fetch-kernel.sh" linux-image-cloud-amd64 "$top/build/kernels")

db=$tmp/wf.db
"$bin/wakefarm-controller" migrate --db "$db" >/dev/null 2>&1
sub=$("$bin/wakefarm-controller" token create --db "$db" --role submitter --name bench-sub 2>/dev/null)
agt=$("$bin/wakefarm-controller" token create --db "$db" --role agent --name bench-agent 2>/dev/null)
"$bin/wakefarm-controller" serve --listen 127.0.0.1:0 --port-file "$tmp/port" --db "$db" \
	--scenarios "$top/scenarios" >"$tmp/controller.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
url=http://$(cat "$tmp/port")
# shellcheck disable=SC2086
WAKEFARM_TOKEN=$agt "$bin/wakefarm-agent" --server "$url" --name benchlinux --slots 1 \
	--work "$tmp/work" --spool "$tmp/spool" \
	${WF_AGENT_FLAGS:-} >"$tmp/agent.log" 2>&1 &
pids+=($!)
sleep 0.5

# Submits the Linux job; prints its run id.
submit_job() {
	WAKEFARM_TOKEN=$sub "$bin/wakefarm" --server "$url" submit linux61-cold-boot \
		--set mailbox_version=1 | sed -n 's/^run \([0-9]*\).*/\1/p' | head -1
}

# BENCH_QUEUED jobs submitted at once: (last verdict - first verdict) / (N - 1), s.
queued_jobs() {
	local n=${BENCH_QUEUED:-4} runs=() r body done_all fin=()
	for _ in $(seq "$n"); do
		r=$(submit_job)
		[ -n "$r" ] || { echo "bench: the submission failed" >&2; return 1; }
		runs+=("$r")
	done
	for _ in $(seq 6000); do
		done_all=1
		for r in "${runs[@]}"; do
			[ "$(curl -fs "$url/api/v1/runs/$r" | jq -r '.run.jobs_done')" = 1 ] || { done_all=0; break; }
		done
		[ $done_all = 1 ] && break
		sleep 0.2
	done
	for r in "${runs[@]}"; do
		body=$(curl -fs "$url/api/v1/runs/$r")
		[ "$(jq -r '.run.jobs_as_expected' <<<"$body")" = 1 ] ||
			{ echo "bench: a queued job was not as expected: $body" >&2; return 1; }
		fin+=("$(jq -r '.run.finished_at' <<<"$body")")
	done
	printf '%s\n' "${fin[@]}" | sort -n | awk -v n="$n" '{a[NR]=$1} END {printf "%.3f\n", (a[NR]-a[1])/1000/(n-1)}'
}

# One job through the farm: seconds from submission to its verdict, the verdict's time
# being the controller's (the run's finished_at, ms of the same clock): the bench looks
# every 200 ms, so its own curl and jq take no CPU from the guest worth counting.
farm_job() {
	local run t0 body
	t0=$(now)
	run=$(submit_job)
	[ -n "$run" ] || { echo "bench: the submission failed" >&2; return 1; }
	for _ in $(seq 300); do
		sleep 0.2
		body=$(curl -fs "$url/api/v1/runs/$run") || true
		[ "$(jq -r '.run.jobs_done' <<<"$body")" = 1 ] && break
	done
	[ "$(jq -r '.run.jobs_as_expected' <<<"$body")" = 1 ] ||
		{ echo "bench: the farm's job was not as expected: $body" >&2; return 1; }
	echo "$(jq -r '.run.finished_at' <<<"$body") / 1000 - $t0" | bc -l
}

bare_job() {
	local t0 t1
	t0=$(now)
	"$top/guest/run-qemu" --cpus 2 --mailbox-version 1 --kernel "$kernel" --timeout 30 \
		--records "$tmp/bare.records" --log "$tmp/bare.log" --check >"$tmp/bare.out" 2>&1 ||
		{ echo "bench: the bare run failed: $(cat "$tmp/bare.out")" >&2; return 1; }
	t1=$(now)
	echo "$t1 - $t0" | bc -l
}

farm_job >/dev/null	# the agent unpacks and caches the kernel once
: >"$tmp/agent.log.timings"
grep -c 'timings:' "$tmp/agent.log" >"$tmp/skip" || true
bare=() farm=()
for _ in $(seq "$runs"); do
	bare+=("$(bare_job)")
	farm+=("$(farm_job)")
done
a=$(printf '%s\n' "${bare[@]}" | median)
b=$(printf '%s\n' "${farm[@]}" | median)
printf 'linux-farm: Debian 6.1 cold boot, 2 CPUs, mailbox v1: bare run-qemu   %6.3f s (median of %d)\n' "$a" "$runs"
printf 'linux-farm: the same job through controller + agent (to its verdict) %6.3f s\n' "$b"
printf 'linux-farm: farm - bare                                             %+6.3f s (target <= +0.500)\n' \
	"$(echo "$b - $a" | bc -l)"
grep 'timings:' "$tmp/agent.log" | tail -n +"$(($(cat "$tmp/skip") + 1))" >"$tmp/agent.log.timings"
# phases LABEL: the medians of the agent's phases in $tmp/agent.log.timings
phases() {
	local line="linux-farm: $1 (median, s):" v
	for p in prepare create boot run settle teardown; do
		v=$(sed -n "s/.* $p \([0-9.]*\).*/\1/p" "$tmp/agent.log.timings" | median)
		line+=$(printf ' %s %.3f' "$p" "${v:-0}")
	done
	echo "$line"
}
phases "agent phases, single job"
grep -c 'timings:' "$tmp/agent.log" >"$tmp/skip" || true
grep -c 'slot free -> guest running' "$tmp/agent.log" >"$tmp/skipw" || true
q=$(queued_jobs)
printf 'linux-farm: %d jobs queued at once, 1 slot: per job on the critical path %6.3f s\n' \
	"${BENCH_QUEUED:-4}" "$q"
printf 'linux-farm: queued per job - bare                                   %+6.3f s (target <= +0.500)\n' \
	"$(echo "$q - $a" | bc -l)"
grep 'timings:' "$tmp/agent.log" | tail -n +"$(($(cat "$tmp/skip") + 1))" >"$tmp/agent.log.timings"
phases "agent phases, queued jobs"
echo "linux-farm: queued: $(grep -c 'created ahead)' "$tmp/agent.log.timings" || true) of ${BENCH_QUEUED:-4} created ahead;" \
	"slot free -> guest running (ms): $(grep 'slot free -> guest running' "$tmp/agent.log" |
		tail -n +"$(($(cat "$tmp/skipw") + 1))" | sed -n 's/.*running \([0-9]*\) ms.*/\1/p' | tr '\n' ' ')"
