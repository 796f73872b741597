# bench/lib.sh: helpers the benchmark scripts source.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# pctl P: the P-th percentile (nearest rank) of numbers, one a line; "-" when none.
pctl() { sort -n | awk -v p="$1" '{a[NR]=$1} END {if (!NR) {print "-"; exit} r=int((p*NR+99)/100); print a[r<1?1:r]}'; }
now() { date +%s.%N; }
# The cloud kernel of Debian (its path) and, in $out/poweroff.cpio, an
# initramfs whose static /init powers the guest off at once (poweroff_init.c).
cloud_kernel_and_poweroff() {
	mkdir -p "$out/initrd"
	kernel=$("$top/lib/sh/fetch-kernel.sh" linux-image-cloud-amd64 "$top/build/kernels")
	gcc -static -O2 -o "$out/initrd/init" "$top/bench/poweroff_init.c"
	(cd "$out/initrd" && echo init | cpio -o -H newc --quiet > "$out/poweroff.cpio")
}
