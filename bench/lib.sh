# bench/lib.sh: helpers the benchmark scripts source.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
# The cloud kernel of Debian (its path) and, in $out/poweroff.cpio, an
# initramfs whose static /init powers the guest off at once (poweroff_init.c).
cloud_kernel_and_poweroff() {
	mkdir -p "$out/initrd"
	kernel=$("$top/lib/sh/fetch-kernel.sh" linux-image-cloud-amd64 "$top/build/kernels")
	gcc -static -O2 -o "$out/initrd/init" "$top/bench/poweroff_init.c"
	(cd "$out/initrd" && echo init | cpio -o -H newc --quiet > "$out/poweroff.cpio")
}
