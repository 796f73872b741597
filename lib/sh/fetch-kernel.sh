#!/bin/bash
# fetch-kernel.sh PACKAGE DESTDIR: unpack a Debian kernel package (for example
# the metapackage linux-image-cloud-amd64) into DESTDIR without installing it,
# so no initramfs or boot-loader hook runs on this host.  Prints the path of
# the vmlinuz.  Idempotent: a kernel already unpacked is reused.
set -euo pipefail
pkg=${1:?usage: fetch-kernel.sh PACKAGE DESTDIR}
dest=${2:?usage: fetch-kernel.sh PACKAGE DESTDIR}

# A metapackage names the real image package in its Depends.
real=$(apt-cache depends "$pkg" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$real" ] || real=$pkg
if ! compgen -G "$dest/$real/boot/vmlinuz-*" >/dev/null; then
	mkdir -p "$dest/$real" "$dest/.deb"
	(cd "$dest/.deb" && apt-get download "$real" >/dev/null 2>&1) ||
		{ apt-get update -qq && (cd "$dest/.deb" && apt-get download "$real" >/dev/null); } ||
		{ echo "fetch-kernel: cannot download $real" >&2; exit 1; }
	dpkg-deb -x "$dest"/.deb/"$real"_*.deb "$dest/$real"
	rm -rf "$dest/.deb"
fi
ls "$dest/$real"/boot/vmlinuz-* | head -1
