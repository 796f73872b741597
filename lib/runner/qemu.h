/*
 * qemu.h: running one guest under bare QEMU (no libvirt).
 *
 * Used by guest/run-qemu, by `wakefarm repro --qemu` and by the benchmarks.
 * The agent's libvirt runner produces the same records file, so the same
 * evaluation applies to both.
 */
#ifndef WF_QEMU_H
#define WF_QEMU_H

#include "runspec.h"

struct qemu_opts {
	const char	*qemu;		/* default "qemu-system-x86_64" */
	const char	*firmware;	/* build/guest/firmware.elf */
	const char	*test_kernel;	/* build/guest/kernel.elf */
	const char	*reporter;	/* build/guest/linux-init: /init of Linux guests */
	const char	*accel;		/* "tcg" (default) or "kvm" */
	const char	*records;	/* where the records go (required) */
	const char	*log;		/* COM1, the human log; NULL: discarded */
	long long	 log_cap;	/* bytes of it kept; 0: RUN_LOG_CAP (64 MiB) */
};

enum run_outcome {
	RUN_COMPLETED,		/* done record with status ok */
	RUN_GUEST_ERROR,	/* done error/panic, or ended without done */
	RUN_HANG,		/* the watchdog fired */
	RUN_INFRA,		/* QEMU could not run the guest */
};

struct run_result {
	enum run_outcome outcome;
	double		 wall_s;
	/* libvirt only, seconds from the start: XML and files ready, domain
	 * created (paused), resumed, seen ended */
	double		 t_prepare_s, t_create_s, t_resume_s, t_end_s;
	int		 generations;	/* kernel generations that booted */
	unsigned long	 dropped;	/* guest lines that broke the contract */
	char		 detail[512];
};

/* Runs the guest to its end or its watchdog; 0, or -1 when the records file
 * could not be written (the detail says why). */
int qemu_run(const struct runspec *rs, const struct qemu_opts *o, struct run_result *res);

/* Exit status of guest/run-qemu for an outcome (0, 4, 3, 5). */
int run_outcome_exit(enum run_outcome o);
const char *run_outcome_name(enum run_outcome o);

#endif
