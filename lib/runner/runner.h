/*
 * runner.h: one guest run, whatever runs it. The options and the result
 * that both back ends take and give (qemu.h: bare QEMU; libvirt_run.h: a
 * transient libvirt domain), and the steps they share, written once:
 * prepare (scratch directory, records file, guest config, a Linux guest's
 * files), collect (the guest's COM2 into the records file, COM1 into a
 * capped log) and finish (the runner's own host records, the outcome, the
 * files closed and removed).
 *
 * Both back ends write the same records file, so one evaluation
 * (lib/invariants.h) judges either.
 */
#ifndef WF_RUNNER_H
#define WF_RUNNER_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "hangwatch.h"
#include "records.h"
#include "runspec.h"

struct run_opts {
	const char *qemu; /* default "qemu-system-x86_64" */
	const char *firmware; /* build/guest/firmware.elf */
	const char *test_kernel; /* build/guest/kernel.elf */
	const char
	    *reporter; /* build/guest/linux-init: /init of Linux guests */
	const char *accel; /* "tcg" (default) or "kvm" */
	const char *records; /* where the records go (required) */
	const char *log; /* COM1, the human log; NULL: discarded */
	long long log_cap; /* bytes of it kept; 0: RUN_LOG_CAP (64 MiB) */
};

enum run_outcome {
	RUN_COMPLETED, /* done record with status ok */
	RUN_GUEST_ERROR, /* done error/panic, or ended without done */
	RUN_HANG, /* the watchdog fired */
	RUN_INFRA, /* QEMU could not run the guest */
};

struct run_result {
	enum run_outcome outcome;
	double wall_s;
	/* libvirt only, seconds from the start: XML and files ready, domain
	 * created (paused), resumed, seen ended */
	double t_prepare_s, t_create_s, t_resume_s, t_end_s;
	/* libvirt only, likewise: the guest's first record read, its last
	 * output read after the end (0: none) */
	double t_first_s, t_settled_s;
	/* libvirt only: how long the created domain waited paused before
	 * its resume (libvirt_run_prepared); not in the times above */
	double t_wait_s;
	int64_t resumed_us; /* libvirt: wf_now_us() at the resume; 0 none */
	int generations; /* kernel generations that booted */
	unsigned long dropped; /* guest lines that broke the contract */
	char detail[512];
	/* libvirt: the run's domain, when it could not be destroyed */
	char leftover[128];
};

/*
 * The watchdog (rs->timeout_s) counts the guest's own time, not the wall
 * clock: a host loaded by other work slows a guest down without making it
 * hang. guest_s is the time the guest could run so far: bare QEMU, the
 * wall clock less the time QEMU's busiest thread waited for a CPU it
 * wanted (the scheduler's run-queue wait), so a guest that hangs halted
 * or spinning is found after the timeout as on an idle host; libvirt (QEMU
 * is not our child), the CPU time QEMU used divided by its vCPUs. A guest
 * starved of every cycle is still ended by the wall clock at
 * RUN_WATCHDOG_WALL_FACTOR times the timeout. 1 when it fires.
 */
#define RUN_WATCHDOG_WALL_FACTOR 4
int run_watchdog_fired(int timeout_s, double guest_s, double wall_s);
/* The CPU seconds process pid used so far (/proc; -1 when unknown). */
double run_proc_cpu_s(int pid);
/* The seconds the thread of pid that waited longest on a run queue waited
 * (/proc/PID/task/TID/schedstat; -1 when unknown). */
double run_proc_waited_s(int pid);

/*
 * Tests only: when $WF_TEST_HOLD names a directory and the file
 * DIR/<what>-hold exists in it, the run writes DIR/<what>-<pid> and waits
 * (at most 120 s) while the hold file exists. "created": a libvirt domain
 * made, paused, not resumed yet (tests/e2e/reap.sh); "teardown": a
 * background teardown (libvirt_run.h, early_verdict) about to destroy its
 * domain, the verdict sent.
 */
void run_test_hold(const char *what);

/* Exit status of guest/run-qemu for an outcome (0, 4, 3, 5). */
int run_outcome_exit(enum run_outcome o);
const char *run_outcome_name(enum run_outcome o);

/* The test kernel image to boot: the job's own (rs->test_kernel, a path by
 * now: blobs are fetched before the run) or the runner's default. */
const char *run_test_kernel(const struct runspec *rs, const struct run_opts *o);

/* --- for the back ends --- */

/* One run's scratch directory (mode 0755: QEMU may run as another user). */
struct run_scratch {
	char dir[256];
	char config[300], com1[300], com2[300], mon[300], err[300];
	char initrd[300], cmdline[300]; /* a Linux guest's (linux.h) */
};

/* Makes one under parent (NULL: $TMPDIR or /tmp); 0 or -1 (errno). */
int run_scratch_make(struct run_scratch *s, const char *parent);
/* Removes the files (virtlogd's rotated COM1.N/COM2.N too) and the directory. */
void run_scratch_remove(struct run_scratch *s);
/* Writes a whole file (mode 0644 whatever the umask); 0 or -1. */
int run_write_file(const char *path, const char *data);
/* The start of a text file as one line (newlines become spaces). */
void run_read_head(const char *path, char *out, size_t size);

/*
 * A log file with a size cap: what goes past it is counted, not kept,
 * and closing it appends a line saying so. cap 0: RUN_LOG_CAP.
 */
#define RUN_LOG_CAP (64LL << 20)

struct run_caplog {
	FILE *f;
	long long cap, kept, dropped;
};

int run_caplog_open(struct run_caplog *l, const char *path, long long cap);
void run_caplog_write(struct run_caplog *l, const char *data, size_t n);
/* 0, or -1 when the file could not be written. Again: a no-op. */
int run_caplog_close(struct run_caplog *l);

/* What the records gathered so far say, while they are copied out. */
struct run_collect {
	FILE *out;
	struct records_reader rd; /* COM2 as it comes (zeroed: a new reader) */
	int last_gen;
	char mailbox[32]; /* from fw-ready: where a hang's evidence is */
	int done_status; /* -1 none, 0 ok, 1 error/panic */
	int errors; /* error records the guest wrote */
	int64_t first_us; /* wf_now_us() when the first record was read */
	struct hangwatch *hw; /* given every record when not NULL */
};

/* Feeds COM2 bytes as they come: valid records go to c->out. */
void run_collect_feed(struct run_collect *c, const char *data, size_t n);

/* Reads the 16 mailbox header bytes at guest-physical addr; 0 or -1. */
typedef int (*run_peek_fn)(
    void *arg, unsigned long long addr, unsigned long long out[2]);

/* The state of one run that both back ends keep. */
struct run_ctx {
	struct run_scratch s;
	struct run_collect c;
	char *config; /* the guest's fw_cfg config line */
	int64_t t0_us; /* wf_now_us() at the start */
};

/*
 * Step 1: the scratch directory under parent, the records file, the guest
 * config (idle: how parked CPUs wait, "spin" or "halt") and, for a Linux
 * guest, its initramfs and command line. 0, or -1 with res an infra
 * result saying why (run_end must still be called).
 */
int run_prepare(struct run_ctx *x, const struct runspec *rs,
    const struct run_opts *o, const char *parent, const char *idle,
    struct run_result *res);

/* Sets res an infra result with the detail fmt...; returns -1. */
int run_infra(struct run_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Step 3: ends the records fed so far: appends host-mailbox (when peek is
 * given and the mailbox is known) and host-exit (how, status, res->detail,
 * at res->wall_s), and sets res->generations and res->dropped.
 */
void run_finish_records(struct run_ctx *x, struct run_result *res,
    const char *how, int status, run_peek_fn peek, void *peek_arg);

/*
 * Last: closes the records file and removes the scratch directory. rc is
 * the back end's return so far; -1 when it was 0 and the records could not
 * be written (the detail says so).
 */
int run_end(struct run_ctx *x, const struct run_opts *o, struct run_result *res,
    int rc);

#endif
