#!/bin/bash
# Linux benchmark (issue: real Linux kernels under the firmware shim).
# The same kernel (Debian's linux-image-cloud-amd64), the same CPUs, the same
# static /init that powers off at once, TCG, one machine, side by side:
#   (a) booted by our firmware shim (64-bit boot protocol, APs parked in
#       the mailbox loop and woken through it)
#   (b) booted by QEMU's default firmware (SeaBIOS + linuxboot, INIT-SIPI-SIPI)
# Wall time from QEMU's start to its exit, median of BENCH_RUNS (default 3).
# Prints both and the ratio (target: a/b <= 1.10).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/bench
runs=${BENCH_RUNS:-3}
cpus=${BENCH_CPUS:-2}
mkdir -p "$out/initrd"

# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"

cloud_kernel_and_poweroff	# sets kernel; $out/poweroff.cpio
append="console=ttyS0 panic=-1"
printf '%s' "$append" > "$out/linux.cmdline"
echo "mailbox_version=1" > "$out/linux.config"

common=(-machine q35 -accel tcg,thread=single -smp "$cpus" -m 512 -nodefaults -no-user-config
	-display none -no-reboot)
shim=() seabios=()
for i in $(seq "$runs"); do
	t0=$(now)
	qemu-system-x86_64 "${common[@]}" -kernel "$top/build/guest/firmware.elf" \
		-fw_cfg "name=opt/wakefarm/kernel,file=$kernel" \
		-fw_cfg "name=opt/wakefarm/config,file=$out/linux.config" \
		-fw_cfg "name=opt/wakefarm/cmdline,file=$out/linux.cmdline" \
		-fw_cfg "name=opt/wakefarm/initrd,file=$out/poweroff.cpio" \
		-serial "file:$out/linux-shim.log" -serial "file:$out/linux-shim.records"
	t1=$(now)
	# the same devices: COM2 exists in both guests
	qemu-system-x86_64 "${common[@]}" -kernel "$kernel" -initrd "$out/poweroff.cpio" \
		-append "$append" -serial "file:$out/linux-seabios.log" -serial null
	t2=$(now)
	for l in shim seabios; do
		grep -q '/init reached' "$out/linux-$l.log" || { echo "bench: Linux under $l did not reach /init" >&2; exit 1; }
	done
	grep -q "Brought up 1 node, $cpus CPU" "$out/linux-shim.log" ||
		{ echo "bench: Linux under the shim did not bring up $cpus CPUs" >&2; exit 1; }
	wakes=$(grep -c '"ev":"fw-wake"' "$out/linux-shim.records" || true)
	[ "$wakes" = $((cpus - 1)) ] || { echo "bench: $wakes fw-wake records, expected $((cpus - 1))" >&2; exit 1; }
	shim+=("$(echo "$t1 - $t0" | bc -l)")
	seabios+=("$(echo "$t2 - $t1" | bc -l)")
done
a=$(printf '%s\n' "${shim[@]}" | median)
b=$(printf '%s\n' "${seabios[@]}" | median)
printf 'linux: Debian 6.1 cold boot to /init, %d CPUs, our shim (mailbox)   %6.3f s (median of %d)\n' "$cpus" "$a" "$runs"
printf 'linux: the same under QEMU default firmware (SeaBIOS)           %6.3f s\n' "$b"
printf 'linux: ratio shim/default                                      %6.3f (target <= 1.100)\n' "$(echo "$a / $b" | bc -l)"
