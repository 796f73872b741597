#!/bin/bash
# lib/sh/deps.sh: make this Debian 12 host able to build and run wakefarm (`make deps`; `make run`
# and `make test` run it first). Machines start bare and CI starts from a host where nothing the
# previous run left is running, so everything the project needs is installed or started here.
#
# Idempotent and quiet: prints one line of what it did, or nothing when nothing was to do.
# Race-free: the whole run holds /run/lock/wakefarm-deps.lock (concurrent `make test`s wait).
# Steps: Debian packages, /dev/kvm ownership, search permission on the path to the build
# directory, then virtlogd + libvirtd (lib/sh/daemons.sh).

set -u
set -o pipefail

# ---- the one list of Debian packages the project needs -------------------------------------
DEPS_PACKAGES=(
	# C toolchain; the guest is built with the system gcc/as/ld, host code with -MMD
	build-essential pkg-config
	# clang for `make fuzz`: libFuzzer (-fsanitize=fuzzer) is in libclang-rt-14-dev, which
	# Debian 12's clang only recommends, so it is named here
	clang libclang-rt-14-dev
	# the one style of the host code: `make style`, checked by tests/lint
	clang-format-14
	# libvirt + QEMU: daemons, the virsh client, the C API headers, the x86 emulator
	libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients libvirt-dev qemu-system-x86
	# child subreaper for libvirtd on hosts whose PID 1 reaps late (see lib/sh/daemons.sh)
	tini
	# libraries of controller and agent (Makefile PKGS)
	libcurl4-openssl-dev libjansson-dev libmicrohttpd-dev libgnutls28-dev libsqlite3-dev sqlite3 libssl-dev
	# known issues' log regexes: PCRE2, with match, depth and heap limits (controller/known.c)
	libpcre2-dev
	# tools used by scripts and tests (rsync: `make asan` copies the tree)
	ca-certificates git curl jq rsync
	# deployment: openssl makes a lab CA and the controller's certificate (README), iproute2's
	# `ip netns` gives tests/e2e/multihost.sh its hosts
	openssl iproute2
	# benchmarks: the Linux baseline initramfs and the ratios
	cpio bc
	# browser tests of web/ in headless Chromium
	chromium nodejs npm
	# the exports fed to their real consumers (tests/controller/consumers/): the JUnit XSD
	# (xmllint), junitparser, the KCIDB schema (jsonschema), `promtool check metrics`
	# (prometheus: only its promtool is used, the server is never started), and a local SMTP
	# server for the notification tests (aiosmtpd)
	libxml2-utils python3-junitparser python3-jsonschema prometheus python3-aiosmtpd
)

# Packages that bring a service we do not want running: installed with service starts
# refused (a policy-rc.d of our own, when the host has none), so only their tools are there.
DEPS_NO_SERVICE=(prometheus)

# Packages whose job an already present command does: a nodejs from another origin (e.g.
# NodeSource) ships npm itself and conflicts with Debian's npm package.
declare -A DEPS_SATISFIED_BY_COMMAND=([npm]=npm)

DEPS_LOCK=/run/lock/wakefarm-deps.lock
DEPS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
DEPS_BUILD=$DEPS_TOP/build
DEPS_DID=()

deps_err() {
	echo "deps: $*" >&2
}

deps_need_root() {
	if [[ $EUID -ne 0 ]]; then
		deps_err "$1 needs root; run as root (sudo make deps)"
		exit 1
	fi
}

deps_missing_packages() {
	local p status
	for p in "${DEPS_PACKAGES[@]}"; do
		if [[ -n ${DEPS_SATISFIED_BY_COMMAND[$p]:-} ]] &&
			command -v "${DEPS_SATISFIED_BY_COMMAND[$p]}" >/dev/null; then
			continue
		fi
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
		[[ $status == "install ok installed" ]] || echo "$p"
	done
}

# deps_apt_install LOG PKG...: apt-get install; with a package of DEPS_NO_SERVICE among them,
# service starts are refused for the whole install (policy-rc.d exit 101) unless the host has a
# policy of its own; libvirtd and virtlogd are started by daemons.sh anyway.
deps_apt_install() {
	local log=$1 p quiet=0 policy=/usr/sbin/policy-rc.d rc
	shift
	for p in "$@"; do
		[[ " ${DEPS_NO_SERVICE[*]} " == *" $p "* ]] && quiet=1
	done
	if ((quiet)) && [[ ! -e $policy ]]; then
		printf '#!/bin/sh\n# wakefarm deps.sh: no service starts during this install\nexit 101\n' \
			>"$policy" && chmod 755 "$policy" || return 1
	else
		policy=
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1
	rc=$?
	[[ -n $policy ]] && rm -f "$policy"
	return $rc
}

deps_packages() {
	local missing wanted log
	if ! command -v dpkg-query >/dev/null; then
		deps_err "dpkg-query not found: this script supports Debian (12) only"
		exit 1
	fi
	mapfile -t missing < <(deps_missing_packages)
	((${#missing[@]})) || return 0
	wanted=("${missing[@]}")
	deps_need_root "installing ${missing[*]}"
	log=$(mktemp /tmp/wakefarm-deps-apt.XXXXXX)
	if ! apt-get update >"$log" 2>&1; then
		deps_err "apt-get update failed (needed to install: ${missing[*]}); its output:"
		cat "$log" >&2
		exit 1
	fi
	if ! deps_apt_install "$log" "${missing[@]}"; then
		deps_err "apt-get install failed for: ${missing[*]}; its output:"
		cat "$log" >&2
		exit 1
	fi
	rm -f "$log"
	mapfile -t missing < <(deps_missing_packages)
	if ((${#missing[@]})); then
		deps_err "still not installed after apt-get install: ${missing[*]}"
		exit 1
	fi
	DEPS_DID+=("installed ${wanted[*]}")
}

# libvirt checks whether the QEMU user can open /dev/kvm and, when it cannot (Debian's udev
# rule is what normally sets root:kvm 0660; without udev the node stays root:root 0600), it
# throws its QEMU capability cache away and probes again on every start: ~40 s each.
deps_kvm() {
	local changed=0
	[[ -e /dev/kvm ]] || return 0
	if [[ $(stat -c '%G %a' /dev/kvm) == "kvm 660" ]] &&
		{ ! id libvirt-qemu >/dev/null 2>&1 || id -nG libvirt-qemu | grep -qw kvm; }; then
		return 0
	fi
	deps_need_root "fixing /dev/kvm"
	if ! getent group kvm >/dev/null; then
		groupadd --system kvm || { deps_err "groupadd --system kvm failed"; exit 1; }
		changed=1
	fi
	if [[ $(stat -c '%G %a' /dev/kvm) != "kvm 660" ]]; then
		if ! chgrp kvm /dev/kvm || ! chmod 0660 /dev/kvm; then
			deps_err "could not set /dev/kvm to group kvm mode 0660"
			exit 1
		fi
		changed=1
	fi
	if id libvirt-qemu >/dev/null 2>&1 && ! id -nG libvirt-qemu | grep -qw kvm; then
		usermod -a -G kvm libvirt-qemu || { deps_err "usermod -a -G kvm libvirt-qemu failed"; exit 1; }
		changed=1
	fi
	((changed)) && DEPS_DID+=("/dev/kvm now root:kvm 0660")
}

# QEMU runs as libvirt-qemu and opens guest images, initrds and fw_cfg files from build/ itself
# (libvirt relabels only <kernel>/<initrd>, never -fw_cfg files passed through qemu:commandline),
# so every directory from / down to build/ must grant others search (x) permission.
# We add o+x on that path rather than setting user = "root" or dynamic_ownership = 0 in
# /etc/libvirt/qemu.conf: search permission lists nothing and reads nothing, it touches only
# the directories on our own path, it needs no libvirtd restart, and it leaves every other
# domain on the host running unprivileged. The files themselves must be world-readable; the
# build rules create them 0644 (see tests/e2e/module.mk) and the agent must do the same.
deps_search_path() {
	local d changed=()
	mkdir -p "$DEPS_BUILD" || { deps_err "cannot create $DEPS_BUILD"; exit 1; }
	d=$DEPS_BUILD
	while :; do
		# Octal mode, not %A: a sticky /tmp shows 't' where the x bit is.
		if (((8#$(stat -c '%a' "$d") & 1) == 0)); then
			deps_need_root "granting search permission on $d"
			chmod o+x "$d" || { deps_err "chmod o+x $d failed"; exit 1; }
			changed+=("$d")
		fi
		[[ $d == / ]] && break
		d=$(dirname "$d")
	done
	if ((${#changed[@]})); then
		DEPS_DID+=("o+x on ${changed[*]} (QEMU reads build/)")
	fi
}

deps_main() {
	exec 9>"$DEPS_LOCK" || { deps_err "cannot open $DEPS_LOCK"; exit 1; }
	if ! flock -w 900 9; then
		deps_err "another deps.sh has held $DEPS_LOCK for 900 s; giving up"
		exit 1
	fi
	deps_packages
	deps_kvm
	deps_search_path
	# shellcheck source=lib/sh/daemons.sh
	source "$DEPS_TOP/lib/sh/daemons.sh"
	daemons_up || exit 1
	DEPS_DID+=("${DAEMONS_DID[@]}")
	if ((${#DEPS_DID[@]})); then
		local IFS=';'
		echo "deps: ${DEPS_DID[*]}" | sed 's/;/; /g'
	fi
}

deps_main "$@"
