#!/bin/bash
# Runner overhead (issue: agent).  Same guest, same scenario, one run:
# bare QEMU (guest/run-qemu) vs a transient libvirt domain (--libvirt).
# Target: libvirt adds at most 300 ms or 1.5x, whichever is larger.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/bench
runs=${BENCH_RUNS:-5}
mkdir -p "$out"
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
args=(--cpus 2 --mailbox-version 1 --steps 'kexec*2,crash@1' --records "$out/runner.records")
bare=() lv=() created=() stopped=()
for i in $(seq "$runs"); do
	t0=$(now); "$top/bin/wakefarm-run-qemu" "${args[@]}" 2>/dev/null
	t1=$(now); "$top/bin/wakefarm-run-qemu" --libvirt qemu:///system "${args[@]}" 2>"$out/libvirt.err"
	t2=$(now)
	# "libvirt phases: prepared P, created C, resumed R, ended E, done D s"
	ph=$(grep -o 'created [0-9.]*, resumed [0-9.]*, ended [0-9.]*' "$out/libvirt.err" | tr -d ',')
	created+=("$(awk '{print $2}' <<<"$ph")")
	stopped+=("$(awk '{print $6 - $4}' <<<"$ph")")
	bare+=("$(echo "$t1 - $t0" | bc -l)")
	lv+=("$(echo "$t2 - $t1" | bc -l)")
done
a=$(printf '%s\n' "${bare[@]}" | median)
b=$(printf '%s\n' "${lv[@]}" | median)
printf 'runner: bare QEMU            %6.3f s (median of %d)\n' "$a" "$runs"
printf 'runner: through libvirt      %6.3f s\n' "$b"
printf 'runner: overhead             %+6.0f ms, ratio %.2fx (target: <= +300 ms or <= 1.5x)\n' \
	"$(echo "($b - $a) * 1000" | bc -l)" "$(echo "$b / $a" | bc -l)"
# Where it goes: virDomainCreateXML, then resume to the STOPPED event (the
# guest's own run, and libvirt noticing QEMU's exit).
printf 'runner: libvirt create        %6.3f s (median; libvirt 9.0 reads the x86 vCPU features back with\n' \
	"$(printf '%s\n' "${created[@]}" | median)"
printf '                              ~400 QMP qom-get round trips per start: see bench/README.md)\n'
printf 'runner: resume to stopped     %6.3f s (the guest run, and libvirt reaping QEMU)\n' \
	"$(printf '%s\n' "${stopped[@]}" | median)"
