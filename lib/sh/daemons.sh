#!/bin/bash
# lib/sh/daemons.sh: bring up virtlogd and libvirtd so that qemu:///system answers.
#
# Sourced by lib/sh/deps.sh (which calls daemons_up under its lock), or run on its own as root.
# On a systemd host it asks systemctl. Elsewhere (our CI and dev machines: PID 1 is not an init
# and there is no service manager) it starts the daemons itself:
#   - virtlogd -d: libvirt hands serial and domain logs to it; nothing starts it for us.
#   - libvirtd in the foreground under `tini -s`, detached with setsid. QEMU daemonises, so its
#     process is an orphan; a non-init PID 1 reaps it late and libvirt waits for the zombie,
#     measured at ~1.5-1.9 s per domain. tini -s makes itself the child subreaper, so the
#     zombie is reaped at once (docs libvirt-notes.md).
# A libvirtd that already answers is left alone: other guests may be running under it.
#
# Functions append what they did to the array DAEMONS_DID; errors go to stderr, return 1.

DAEMONS_URI=qemu:///system
DAEMONS_WAIT_S=${WF_LIBVIRTD_WAIT_S:-30}
DAEMONS_LOG_DIR=/var/log/libvirt
DAEMONS_LIBVIRTD_LOG=$DAEMONS_LOG_DIR/libvirtd-wakefarm.log
DAEMONS_DID=()

daemons_err() {
	echo "daemons: $*" >&2
}

daemons_answers() {
	timeout 10 virsh -c "$DAEMONS_URI" version >/dev/null 2>&1
}

# The pid of a live (not zombie) process of that exact name, if any: only then are its pid
# file and sockets live. Zombies are common here: PID 1 reaps a dead daemon late, and a
# zombie "libvirtd" must not pass for a running one.
daemons_pid() {
	ps -C "$1" -o pid=,stat= 2>/dev/null | awk '$2 !~ /^Z/ { print $1; exit }'
}

daemons_running() {
	[[ -n $(daemons_pid "$1") ]]
}

# Runs "$@" with stdin from /dev/null, output to file $1, and every descriptor above 2 closed:
# a daemon that inherits deps.sh's lock, or a pipe that make or CI reads to EOF, would keep
# that lock held or that reader waiting for as long as the daemon lives.
daemons_spawn() {
	local out=$1
	shift
	(
		local fd n
		for fd in "/proc/$BASHPID/fd"/*; do
			n=${fd##*/}
			if ((n > 2)); then eval "exec $n>&-"; fi
		done
		exec "$@" </dev/null >>"$out" 2>&1
	)
}

# Remove what a daemon that is no longer running left behind: a pid file whose pid is gone and
# sockets nobody listens on. A new daemon would usually cope, but a stale socket makes
# clients hang or fail with a confusing "connection refused" instead of "not running".
daemons_clear_stale() {
	local name=$1
	shift
	local f removed=0
	for f in "$@"; do
		if [[ -e $f || -L $f ]]; then
			rm -f -- "$f" && removed=1
		fi
	done
	if ((removed)); then
		DAEMONS_DID+=("removed stale $name files")
	fi
}

daemons_systemd_up() {
	if ! systemctl start virtlogd.socket libvirtd.service; then
		daemons_err "systemctl start virtlogd.socket libvirtd.service failed; see: journalctl -u libvirtd"
		return 1
	fi
	DAEMONS_DID+=("started libvirtd via systemctl")
}

daemons_virtlogd_up() {
	daemons_running virtlogd && return 0
	daemons_clear_stale virtlogd /run/virtlogd.pid /run/libvirt/virtlogd-sock \
		/run/libvirt/virtlogd-admin-sock
	mkdir -p "$DAEMONS_LOG_DIR"
	if ! daemons_spawn /dev/null virtlogd -d; then
		daemons_err "virtlogd -d failed; run 'virtlogd -v' in a terminal to see why"
		return 1
	fi
	DAEMONS_DID+=("started virtlogd")
}

daemons_libvirtd_start() {
	daemons_clear_stale libvirtd /run/libvirtd.pid /run/libvirt/libvirt-sock \
		/run/libvirt/libvirt-sock-ro /run/libvirt/libvirt-admin-sock
	mkdir -p "$DAEMONS_LOG_DIR"
	if ! command -v tini >/dev/null; then
		daemons_err "tini is missing (Debian package tini); run lib/sh/deps.sh"
		return 1
	fi
	# setsid -f: forks and returns at once; the daemon gets its own session, so the caller's
	# terminal or job control cannot signal it.
	# Foreground libvirtd (no -d): it must stay tini's child for the subreaper to matter.
	daemons_spawn "$DAEMONS_LIBVIRTD_LOG" setsid -f tini -s -- libvirtd
	DAEMONS_DID+=("started libvirtd under tini -s (log $DAEMONS_LIBVIRTD_LOG)")
}

# Waits until qemu:///system answers, at most DAEMONS_WAIT_S seconds.
daemons_wait() {
	local deadline=$((SECONDS + DAEMONS_WAIT_S))
	while ((SECONDS < deadline)); do
		daemons_answers && return 0
		sleep 0.2
	done
	daemons_err "libvirtd did not answer 'virsh -c $DAEMONS_URI version' within ${DAEMONS_WAIT_S}s"
	if [[ -f $DAEMONS_LIBVIRTD_LOG ]]; then
		daemons_err "last lines of $DAEMONS_LIBVIRTD_LOG:"
		tail -n 20 "$DAEMONS_LIBVIRTD_LOG" >&2
	fi
	virsh -c "$DAEMONS_URI" version >&2 || true
	return 1
}

# Says so when a running libvirtd (not ours) has PID 1 as parent on a host whose PID 1 is no
# init that reaps promptly: it works, but each domain then costs ~1.7 s more.
daemons_check_reaper() {
	local pid ppid
	pid=$(daemons_pid libvirtd)
	[[ -n $pid ]] || return 0
	ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	if [[ $ppid == 1 ]]; then
		echo "daemons: note: libvirtd (pid $pid) runs without a subreaper; each domain" \
			"ends ~1.7 s late. Restart it with lib/sh/daemons.sh after stopping it." >&2
	fi
}

daemons_up() {
	if [[ -d /run/systemd/system ]]; then
		daemons_answers && return 0
		daemons_systemd_up && daemons_wait
		return
	fi
	if [[ $EUID -ne 0 ]]; then
		daemons_answers && return 0
		daemons_err "libvirtd is not answering and starting it needs root"
		return 1
	fi
	daemons_virtlogd_up || return 1
	if daemons_answers; then
		daemons_check_reaper
		return 0
	fi
	# A libvirtd that exists but does not answer may still be starting (QEMU capability
	# probing takes seconds): wait for it rather than start a second one.
	if ! daemons_running libvirtd; then
		daemons_libvirtd_start || return 1
	fi
	daemons_wait
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -u
	if ! exec 9>/run/lock/wakefarm-deps.lock; then
		daemons_err "cannot open /run/lock/wakefarm-deps.lock (run as root)"
		exit 1
	fi
	if ! flock -w 900 9; then
		daemons_err "could not take /run/lock/wakefarm-deps.lock within 900 s"
		exit 1
	fi
	daemons_up || exit 1
	if ((${#DAEMONS_DID[@]})); then
		(IFS=';'; echo "daemons: ${DAEMONS_DID[*]}" | sed 's/;/; /g')
	fi
fi
