#!/bin/bash
# Linux benchmark (issue: real Linux kernels under the firmware shim).
# The same kernel (Debian's linux-image-cloud-amd64), the same CPUs, the same
# static /init that powers off at once, TCG, one machine, side by side:
#   (a) booted by our firmware shim (64-bit boot protocol, APs parked in
#       the mailbox loop and woken through it)
#   (b) booted by QEMU's default firmware (SeaBIOS + linuxboot, INIT-SIPI-SIPI)
# in both TCG modes the farm uses:
#   single  -accel tcg,thread=single, parked CPUs spin (idle=spin): the bare
#           runner (lib/runner/qemu.c, guest/run-qemu)
#   multi   -accel tcg (one host thread per vCPU), parked CPUs halt between
#           looks (idle=halt): what libvirt starts (lib/runner/libvirt_run.c)
# Wall time from QEMU's start to its exit, BENCH_RUNS runs (default 5) per
# firmware and mode, interleaved (run i: for each mode, shim and SeaBIOS, the
# order swapped every other run) so that a busy spell of the host hits both
# sides.  Prints medians, the ratio of the medians and the median of the
# runs' paired ratios per mode (target: shim/default <= 1.10 in each).
# BENCH_MODES picks modes ("single multi"), BENCH_APPEND adds kernel options
# to both guests (for measuring boot options), BENCH_CPUS the CPU count (2).
# Every run's COM1 log stays in build/bench/linux/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/bench
runs=${BENCH_RUNS:-5}
cpus=${BENCH_CPUS:-2}
modes=${BENCH_MODES:-single multi}
logs=$out/linux
mkdir -p "$out/initrd" "$logs"
rm -f "$logs"/*

# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"

cloud_kernel_and_poweroff	# sets kernel; $out/poweroff.cpio
append="console=ttyS0 panic=-1${BENCH_APPEND:+ $BENCH_APPEND}"
printf '%s' "$append" > "$out/linux.cmdline"

for m in $modes; do
	case $m in
	single) ;;
	multi) ;;
	*) echo "bench: unknown mode '$m' in BENCH_MODES (single, multi)" >&2; exit 2 ;;
	esac
done

# run_one MODE FW I: one boot, its wall time appended to $out/linux.times
run_one() {
	local m=$1 fw=$2 i=$3 accel=tcg,thread=single idle=spin t0 t1 log
	[ "$m" = multi ] && accel=tcg idle=halt
	log=$logs/$m-$fw-$i
	local common=(-machine q35 -accel "$accel" -smp "$cpus" -m 512 -nodefaults
		-no-user-config -display none -no-reboot)
	t0=$(now)
	if [ "$fw" = shim ]; then
		echo "mailbox_version=1 idle=$idle" > "$out/linux.config"
		qemu-system-x86_64 "${common[@]}" -kernel "$top/build/guest/firmware.elf" \
			-fw_cfg "name=opt/wakefarm/kernel,file=$kernel" \
			-fw_cfg "name=opt/wakefarm/config,file=$out/linux.config" \
			-fw_cfg "name=opt/wakefarm/cmdline,file=$out/linux.cmdline" \
			-fw_cfg "name=opt/wakefarm/initrd,file=$out/poweroff.cpio" \
			-serial "file:$log.log" -serial "file:$log.records"
	else
		# the same devices: COM2 exists in both guests
		qemu-system-x86_64 "${common[@]}" -kernel "$kernel" -initrd "$out/poweroff.cpio" \
			-append "$append" -serial "file:$log.log" -serial null
	fi
	t1=$(now)
	grep -q '/init reached' "$log.log" ||
		{ echo "bench: Linux under $fw ($m) did not reach /init: $log.log" >&2; exit 1; }
	if [ "$fw" = shim ]; then
		grep -q "Brought up 1 node, $cpus CPU" "$log.log" ||
			{ echo "bench: Linux under the shim ($m) did not bring up $cpus CPUs" >&2; exit 1; }
		local wakes
		wakes=$(grep -c '"ev":"fw-wake"' "$log.records" || true)
		[ "$wakes" = $((cpus - 1)) ] ||
			{ echo "bench: $wakes fw-wake records ($m), expected $((cpus - 1))" >&2; exit 1; }
	fi
	echo "$m $fw $i $(echo "$t1 - $t0" | bc -l)" >> "$out/linux.times"
}

: > "$out/linux.times"
for i in $(seq "$runs"); do
	for m in $modes; do
		if [ $((i % 2)) = 1 ]; then
			run_one "$m" shim "$i"
			run_one "$m" seabios "$i"
		else
			run_one "$m" seabios "$i"
			run_one "$m" shim "$i"
		fi
	done
done

printf 'linux: Debian 6.1 cold boot to /init, %d CPUs, median of %d (min-max), s\n' "$cpus" "$runs"
[ -z "${BENCH_APPEND:-}" ] || printf 'linux: extra kernel options: %s\n' "$BENCH_APPEND"
for m in $modes; do
	for fw in shim seabios; do
		awk -v m="$m" -v f="$fw" '$1 == m && $2 == f {print $4}' "$out/linux.times" | sort -n > "$out/linux.t.$fw"
	done
	a=$(median < "$out/linux.t.shim")
	b=$(median < "$out/linux.t.seabios")
	# each run's shim/SeaBIOS pair ran back to back: the median of their
	# ratios is what a busy spell of the host moves least
	pr=$(awk -v m="$m" '$1 == m {t[$2, $3] = $4; n[$3] = 1}
		END {for (i in n) print t["shim", i] / t["seabios", i]}' "$out/linux.times" | median)
	printf 'linux: %-6s shim (mailbox) %6.3f (%.3f-%.3f)  SeaBIOS %6.3f (%.3f-%.3f)  ratio %5.3f, paired %5.3f (target <= 1.100)\n' \
		"$m" "$a" "$(head -1 "$out/linux.t.shim")" "$(tail -1 "$out/linux.t.shim")" \
		"$b" "$(head -1 "$out/linux.t.seabios")" "$(tail -1 "$out/linux.t.seabios")" \
		"$(echo "$a / $b" | bc -l)" "$pr"
	# Linux's quick PIT calibration fails (silently, at times) when TCG stalls it
	printf 'linux: %-6s "Fast TSC calibration using PIT" in %d of %d shim boots, %d of %d SeaBIOS boots\n' "$m" \
		"$(grep -l 'Fast TSC calibration using PIT' "$logs/$m"-shim-*.log | wc -l)" "$runs" \
		"$(grep -l 'Fast TSC calibration using PIT' "$logs/$m"-seabios-*.log | wc -l)" "$runs"
done
