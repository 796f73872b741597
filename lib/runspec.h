/*
 * runspec.h: one guest run, as every host-side part describes it.
 *
 * A run spec is what a scenario expands to for one job and what
 * guest/run-qemu takes on its command line: CPUs, mailbox version, firmware
 * quirks, OS policy, the step list, memory and the watchdog.  The guest gets
 * it as a one-line "key=value ..." string through fw_cfg
 * (opt/wakefarm/config); runspec_guest_config() is the only writer of that
 * string.
 */
#ifndef WF_RUNSPEC_H
#define WF_RUNSPEC_H

#include <stddef.h>

#define RUNSPEC_MAX_CPUS 64
#define RUNSPEC_STEPS_MAX 512
#define RUNSPEC_QUIRKS_MAX 128
#define RUNSPEC_PATH_MAX 512
#define RUNSPEC_APPEND_MAX 512
/* The guest configuration line, NUL excluded: the firmware reads it into
 * CMDLINE_MAX (guest/common/bootinfo.h) bytes and refuses a longer one. */
#define RUNSPEC_GUEST_CONFIG_MAX 1023
#define RUNSPEC_PACKAGE_MAX 64 /* a Debian package name, with the NUL */
#define RUNSPEC_LINUX_MIN_MB 256 /* least RAM for a Linux guest */
#define RUNSPEC_LINUX_MB 512 /* run-qemu's default for one */
#define RUNSPEC_CRASHKERNEL "192M" /* reserved when a step crashes */
#define RUNSPEC_FLOOD_MAX_MIB 4096 /* flood:MIB, junk:MIB (test kernel only) */

struct runspec {
	int cpus; /* 1..64 */
	int mailbox_version; /* 0 or 1 */
	char policy[16]; /* "6.11" or "pre-6.11" */
	char steps[RUNSPEC_STEPS_MAX]; /* guest/run-qemu --steps syntax */
	char quirks[RUNSPEC_QUIRKS_MAX]; /* comma-separated firmware quirks */
	int memory_mb; /* 32.. */
	int timeout_s; /* watchdog: the run is a hang past it */
	int kdump_cpus; /* CPU limit of the kdump kernel, 0 = none */
	/* The OS: empty kernel = our test kernel (the default).  Otherwise a
	 * Linux bzImage booted by the firmware shim with the reporter /init
	 * (guest/linux-init) in its initramfs, after the optional initrd. */
	char kernel[RUNSPEC_PATH_MAX]; /* bzImage path on the runner's host */
	char initrd[RUNSPEC_PATH_MAX]; /* extra initrd, unpacked before ours */
	/* Linux: extra kernel command line.  Test kernel: extra KEY=VALUE
	 * options at the end of the configuration line (not the keys the
	 * runner writes itself: see runspec_validate). */
	char append[RUNSPEC_APPEND_MAX];
	/* Or the kernel as a Debian package (linux-image-cloud-amd64): the
	 * agent unpacks it (lib/sh/fetch-kernel.sh) and sets kernel.  At
	 * most one of kernel and kernel_package is set. */
	char kernel_package[RUNSPEC_PACKAGE_MAX];
	/* Our test kernel from elsewhere than the runner's default image: an
	 * absolute path on the runner's host, or "sha256:<64 hex>", a blob
	 * the agent fetches from the controller (a bisect's builds). */
	char test_kernel[RUNSPEC_PATH_MAX];
};

#define RUNSPEC_BLOB_PREFIX "sha256:"
/* The hex digest of a "sha256:..." reference, or NULL for a path. */
const char *runspec_blob_digest(const char *ref);

/* A Linux guest: a kernel path or a kernel package. */
#define RUNSPEC_IS_LINUX(rs) ((rs)->kernel[0] || (rs)->kernel_package[0])

/* Defaults: 1 CPU, version 1, policy 6.11, no steps, 32 MiB, 60 s. */
void runspec_init(struct runspec *rs);

/*
 * Checks every field (ranges, policy name, quirk names, step syntax; for
 * the test kernel, append tokens are KEY=VALUE, no KEY is one the
 * configuration line already has, and the line with idle= fits in
 * RUNSPEC_GUEST_CONFIG_MAX).  Returns 0, or -1 with a cause naming the
 * field and what is wrong.
 */
int runspec_validate(const struct runspec *rs, char **cause);
int runspec_check_steps(const char *steps, char **cause);
int runspec_check_quirks(const char *quirks, char **cause);
/* A host path for QEMU: empty, or absolute, printable ASCII, no comma
 * (QEMU's option syntax splits at commas).  field names it in the cause. */
int runspec_check_path(const char *field, const char *path, char **cause);
/* A Debian package name: [a-z0-9][a-z0-9+.-]+, at most 63 characters. */
int runspec_check_package(const char *name, char **cause);

/* The fw_cfg configuration line for the guest (caller frees):
 * mailbox_version= policy= kdump_cpus= [quirks=] [steps=], then for the
 * test kernel the append options. */
char *runspec_guest_config(const struct runspec *rs);
/* The same with idle=halt|spin: how idle CPUs wait suits the accelerator's
 * threading (guest/common/idle.h). */
char *runspec_guest_config_idle(const struct runspec *rs, const char *idle);

/*
 * The Linux command line for the first generation (caller frees): console
 * on COM1, what the reporter needs (wakefarm.gen/kind/steps, iomem=relaxed
 * for /dev/mem on the mailbox), RUNSPEC_LINUX_FAST (boot options that
 * shorten every job and leave CPU bring-up alone, guest/LINUX.md "Cost"),
 * crashkernel= when a step crashes, then rs->append (last: it can override).
 */
#define RUNSPEC_LINUX_FAST "cryptomgr.notests no_timer_check"
char *runspec_linux_cmdline(const struct runspec *rs);

/* How many kernel generations a step list goes through (1 + kexecs + crashes). */
int runspec_generations(const char *steps);

#endif
