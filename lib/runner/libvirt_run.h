/*
 * libvirt_run.h: running one guest as a transient libvirt domain.
 *
 * The agent's runner, also behind `guest/run-qemu --libvirt URI`.  It writes
 * the same records file as the bare-QEMU runner, so one evaluation serves
 * both; on a watchdog timeout the mailbox is read from outside the guest
 * with virDomainMemoryPeek before the domain is destroyed.
 */
#ifndef WF_LIBVIRT_RUN_H
#define WF_LIBVIRT_RUN_H

#include "runner.h"

struct libvirt_opts {
	const char *uri; /* default qemu:///system */
	const char *domain; /* domain name, e.g. wakefarm-AGENT-JOB-ATTEMPT */
	const char
	    *workdir; /* parent of the run's scratch dir; NULL: $TMPDIR */
	/* Called about every 200 ms while the guest runs and once after it
	 * ended and the domain is gone (final = 1, before the files are
	 * removed; it may take its time), with the files
	 * COM1 and COM2 go to through virtlogd, which rotates them (tail.h):
	 * the agent streams from them.  NULL: nothing streams.  A non-zero
	 * return stops the run (the job was cancelled): the domain is
	 * destroyed. */
	int (*tick)(void *arg, const char *com1, const char *com2, int final);
	void *tick_arg;
	/*
	 * 1: verdict before teardown. Once the guest's done record was read
	 * (a guest writes nothing after it but its exit), the run reads its
	 * last output for LV_SETTLE_MS, ends with how "exited" and hands the
	 * domain to a thread of its own that destroys it (and removes the
	 * scratch directory) off the caller's critical path; the final tick
	 * then comes with final = 2 (the output settled: read it once) while
	 * the domain may still exist. libvirt_run_drain() waits for those
	 * threads. 0: the run waits for libvirt to see QEMU's exit (its 200 ms
	 * poll) and for the output to stay the same for 200 ms, as before.
	 */
	int early_verdict;
	/* With early_verdict: a domain that thread could not destroy (NULL:
	 * only said on stderr); called from that thread. */
	void (*leftover)(const char *domain);
	/*
	 * 1: hangwatch (hangwatch.h): every ~200 ms the mailbox's first 16
	 * bytes are read from outside (virDomainMemoryPeek) with QEMU's CPU
	 * time; a wakeup that stands for a CPU not in the firmware's loop
	 * while the guest used HANGWATCH_CONFIRM_US of CPU is a hang: the
	 * domain is paused, a host-hang record (command, APIC ID, vector,
	 * standing_cpu_us) and host-mailbox written, host-exit says how
	 * "hang", the run ends RUN_HANG and the domain is destroyed (in the
	 * background with early_verdict). The watchdog stays the backstop.
	 * 0: the watchdog alone.
	 */
	int hangwatch;
};

#define LV_SETTLE_MS 25

/* Waits until every background teardown (early_verdict) has ended. */
void libvirt_run_drain(void);

struct run_scratch;

/* Same contract as qemu_run(); libvirt failures are RUN_INFRA with libvirt's text.
 * libvirt_prepare() then libvirt_run_prepared(). */
int libvirt_run(const struct runspec *rs, const struct run_opts *o,
    const struct libvirt_opts *lo, struct run_result *res);

/*
 * The run in two steps, so that a domain can be made ready while another
 * guest runs (the agent's lease-ahead, agent/README.md). libvirt_prepare
 * does everything up to the domain created paused with its lifecycle watch
 * (scratch directory, records file, config, XML, virDomainCreateXML) and
 * returns a handle (NULL only when out of memory); rs, o and lo must
 * outlive it. A failure is kept in the handle (libvirt_prepared_ok() is 0)
 * and reported by libvirt_run_prepared as libvirt_run() would have.
 * libvirt_run_prepared resumes the domain and runs it to its end exactly
 * as libvirt_run() does; the run's clock (timings, the watchdog) does not
 * count the time the domain waited paused (res->t_wait_s says how long).
 * It frees the handle. libvirt_discard destroys the domain, removes the
 * scratch directory and frees the handle without running the guest (a
 * domain it cannot destroy goes to lo->leftover when set).
 */
struct libvirt_prepared;

struct libvirt_prepared *libvirt_prepare(const struct runspec *rs,
    const struct run_opts *o, const struct libvirt_opts *lo);
int libvirt_prepared_ok(const struct libvirt_prepared *p);
int libvirt_run_prepared(struct libvirt_prepared *p, struct run_result *res);
void libvirt_discard(struct libvirt_prepared *p);

/*
 * The domain XML libvirt_run() starts for rs (golden files in
 * tests/e2e/golden/ pin it down): domain lo->domain, o->accel's domain
 * type, firmware (the shim) as the multiboot kernel, COM1/COM2 to the
 * files of s, and through fw_cfg the guest's kernel (our test kernel or a
 * Linux bzImage), s->config and, for a Linux guest, s->initrd and
 * s->cmdline.  firmware and kernel are absolute paths.  Malloc'd (the
 * caller frees it), or NULL with *cause as for domxml_build().
 */
char *libvirt_run_domxml(const struct runspec *rs, const struct run_opts *o,
    const struct libvirt_opts *lo, const char *firmware, const char *kernel,
    const struct run_scratch *s, char **cause);

#endif
