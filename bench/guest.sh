#!/bin/bash
# Guest benchmark (issue: guest).  In one run, same machine, TCG, -smp 4:
#   (a) our guest: cold boot + 10 kexecs + crash/kdump, wall time including QEMU start
#   (b) Debian's linux-image-cloud-amd64 booting to a static /init that powers off
# Prints both (median of N runs), the ratio (target: a/b <= 0.2) and the median
# guest time of one kexec generation from the t_us stamps (target: < 20 ms).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/bench
runs=${BENCH_RUNS:-5}
mkdir -p "$out/initrd"

# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"

cloud_kernel_and_poweroff	# sets kernel; $out/poweroff.cpio

ours=() linux=() gens=()
for i in $(seq "$runs"); do
	t0=$(now)
	"$top/bin/wakefarm-run-qemu" --cpus 4 --mailbox-version 1 --steps 'kexec*10,crash@1' \
		--records "$out/guest.records" 2>/dev/null
	t1=$(now)
	qemu-system-x86_64 -machine q35 -accel tcg,thread=single -smp 4 -m 256 -nodefaults \
		-no-user-config -display none -no-reboot -kernel "$kernel" -initrd "$out/poweroff.cpio" \
		-append "console=ttyS0 quiet panic=-1" -serial "file:$out/linux.log"
	t2=$(now)
	grep -q '/init reached' "$out/linux.log" || { echo "bench: Linux did not reach /init" >&2; exit 1; }
	ours+=("$(echo "$t1 - $t0" | bc -l)")
	linux+=("$(echo "$t2 - $t1" | bc -l)")
	# guest time of each kexec generation: boot(gen g+1) - boot(gen g), g = 2..10
	gens+=($(grep '"ev":"boot"' "$out/guest.records" | sed -E 's/.*"t_us":([0-9]+).*/\1/' |
		awk 'NR>2 && NR<=11 {print ($1 - prev) / 1000} {prev=$1}'))
done
a=$(printf '%s\n' "${ours[@]}" | median)
b=$(printf '%s\n' "${linux[@]}" | median)
g=$(printf '%s\n' "${gens[@]}" | median)
printf 'guest: our guest, cold boot + 10 kexec + kdump, 4 CPUs   %6.3f s (median of %d)\n' "$a" "$runs"
printf 'guest: Debian cloud kernel boot to /init, 4 CPUs      %6.3f s\n' "$b"
printf 'guest: ratio ours/linux                                %6.3f (target <= 0.200)\n' "$(echo "$a / $b" | bc -l)"
printf 'guest: one kexec generation, guest time                %6.1f ms (median, target < 20 ms)\n' "$g"
