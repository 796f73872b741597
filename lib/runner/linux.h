/*
 * linux.h: what a Linux guest needs on top of a test-kernel run, for both
 * runners (qemu.c, libvirt_run.c): the initramfs with the
 * reporter /init and the kernel command line as files the firmware shim
 * reads through fw_cfg (opt/wakefarm/initrd, opt/wakefarm/cmdline), and the
 * agent's kernel artifacts: a Debian package unpacked once per host.
 */
#ifndef WF_LINUX_H
#define WF_LINUX_H

#include <stddef.h>

#include "runner.h"
#include "runspec.h"

/*
 * Writes s->initrd (reporter --pack: rs->initrd, then /init and the kernel
 * it kexecs) and s->cmdline (runspec_linux_cmdline), both world-readable:
 * libvirt's QEMU runs as another user.  0, or -1 with a cause.
 */
int linux_files(const struct runspec *rs, const char *reporter,
    const struct run_scratch *s, char **cause);

/*
 * The vmlinuz of Debian package pkg, unpacked under kernels_dir by
 * fetch_script (lib/sh/fetch-kernel.sh) at most once per package per
 * process, time-limited, its output kept in kernels_dir/PKG.fetch.log.
 * A failure is remembered too (the agent reports those jobs infra).
 * 0 with the path in out, or -1 with a cause.  Thread-safe.
 */
int linux_resolve_package(const char *pkg, const char *fetch_script,
    const char *kernels_dir, char *out, size_t osize, char **cause);

/* Seconds a fetch may take before it counts as failed. */
#define LINUX_FETCH_TIMEOUT_S 600

#endif
