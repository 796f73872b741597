/*
 * libvirt_run.c: one guest as a transient libvirt domain.
 *
 * The domain is built by domxml (firmware shim as the multiboot kernel, test
 * kernel and config through fw_cfg, COM1/COM2 to files through virtlogd,
 * isa-debug-exit), started with virDomainCreateXML, and watched until it
 * disappears (a transient domain is gone once QEMU exits) or the watchdog
 * fires.  libvirt does not expose QEMU's exit status (docs libvirt-notes.md),
 * so the guest's `done` record is what says how it ended.  The serial files
 * are followed while the guest runs (tail.h: virtlogd rotates them every
 * 2 MiB and keeps 3), so every record reaches the records file and the
 * scratch directory stays small whatever the guest prints.
 *
 * With rs->kernel set the OS is that Linux bzImage, exactly as under bare
 * QEMU (qemu.c): kernel, reporter initramfs and command line go to
 * the firmware shim as fw_cfg files (linux.h), which libvirt's QEMU opens
 * as its own user.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "domxml.h"
#include "libvirt_run.h"
#include "lvevents.h"
#include "lvreap.h"
#include "linux.h"
#include "runner.h"
#include "tail.h"
#include "util.h"

#define FOLLOW_BUF (64 << 10)
#define LV_RECONNECT_S 60 /* libvirtd restarting: how long to wait */

/* The run's own readers of the serial files: records, and o->log. */
struct follow {
	struct tail com1, com2;
	struct run_caplog log;
	char *buf;
};

static void
lv_error(struct run_result *res, const char *what)
{
	const virError *e = virGetLastError();

	snprintf(res->detail, sizeof(res->detail), "libvirt: %s: %s", what,
	    e && e->message ? e->message : "unknown error");
	res->outcome = RUN_INFRA;
}

/* One run's libvirt side. */
struct lv_run {
	virConnectPtr conn;
	virDomainPtr dom;
	struct lv_end end;
	int asked; /* the create call was made: a domain may exist */
	int timed_out;
	int done_early; /* early_verdict: the done record was read */
	int handoff; /* the domain goes to a teardown thread */
	json_t *hang; /* hangwatch's evidence: the hang is called */
	double cpu_s; /* the guest's CPU time per vCPU, or its busiest vCPU's
	               * with hangwatch (the watchdog's) */
};

static int
lv_peek(void *arg, unsigned long long addr, unsigned long long out[2])
{
	return virDomainMemoryPeek(arg, addr, 16, out, VIR_MEMORY_PHYSICAL);
}

/*
 * The domain this run asked for must not outlive it: destroyed through the
 * handle when there is one, else (create failed, or libvirtd went away under
 * us: it may have made the domain all the same) by name on a new connection,
 * waiting for libvirtd to come back. What cannot be destroyed is said in the
 * detail and named in res->leftover for the caller to report.
 */
static void
lv_destroy(
    struct lv_run *lv, const struct libvirt_opts *lo, struct run_result *res)
{
	char err[200];

	if (lv->dom != NULL && virDomainDestroy(lv->dom) == 0)
		return;
	if (lv->dom != NULL &&
	    (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN ||
	        virGetLastErrorCode() == VIR_ERR_OPERATION_INVALID))
		return; /* it ended by itself meanwhile */
	if (lvreap_destroy(
	        lo->uri, lo->domain, LV_RECONNECT_S, err, sizeof(err)) >= 0)
		return;
	snprintf(res->detail + strlen(res->detail),
	    sizeof(res->detail) - strlen(res->detail),
	    "; could not destroy domain %s: %s", lo->domain, err);
	wf_strlcpy(res->leftover, lo->domain, sizeof(res->leftover));
}

/* What the guest wrote since the last look: COM2 into the records, COM1
 * into o->log (when there is one). */
static void
follow_output(struct follow *fo, struct run_collect *c)
{
	ssize_t n;

	if (!fo->buf)
		return;
	while ((n = tail_read(&fo->com2, fo->buf, FOLLOW_BUF)) > 0)
		run_collect_feed(c, fo->buf, (size_t)n);
	while (fo->log.f && (n = tail_read(&fo->com1, fo->buf, FOLLOW_BUF)) > 0)
		run_caplog_write(&fo->log, fo->buf, (size_t)n);
}

char *
libvirt_run_domxml(const struct runspec *rs, const struct run_opts *o,
    const struct libvirt_opts *lo, const char *firmware, const char *kernel,
    const struct run_scratch *s, char **cause)
{
	struct domxml_fw_cfg fw_cfg[] = {
		{ "opt/wakefarm/kernel", kernel },
		{ "opt/wakefarm/config", s->config },
		{ "opt/wakefarm/initrd",
		    s->initrd }, /* these two: a Linux guest's */
		{ "opt/wakefarm/cmdline", s->cmdline },
	};
	struct domxml_spec spec = {
		.name = lo->domain,
		.memory_mib = rs->memory_mb,
		.vcpus = rs->cpus,
		.virt = o->accel && !strcmp(o->accel, "kvm") ? DOMXML_VIRT_KVM :
		                                               DOMXML_VIRT_QEMU,
		.kernel = firmware,
		.serial0 = s->com1,
		.serial1 = s->com2,
		.fw_cfg = fw_cfg,
		.n_fw_cfg = RUNSPEC_IS_LINUX(rs) ? 4 : 2,
	};

	return domxml_build(&spec, cause);
}

/* Silence libvirt's default error printing: errors are reported once, here. */
static void
lv_quiet(void *arg, virErrorPtr e)
{
	(void)arg;
	(void)e;
}

/* The images as absolute paths, the serial readers, the domain XML. */
static char *
lv_prepare(struct run_ctx *x, struct follow *fo, const struct runspec *rs,
    const struct run_opts *o, const struct libvirt_opts *lo,
    struct run_result *res)
{
	char fwpath[PATH_MAX], kpath[PATH_MAX], *xml, *cause = NULL;

	tail_init(&fo->com1, x->s.com1);
	tail_init(&fo->com2, x->s.com2);
	fo->buf = malloc(FOLLOW_BUF);
	if (!fo->buf ||
	    (o->log && run_caplog_open(&fo->log, o->log, o->log_cap) < 0) ||
	    !realpath(o->firmware, fwpath) ||
	    !realpath(
	        RUNSPEC_IS_LINUX(rs) ? rs->kernel : run_test_kernel(rs, o),
	        kpath)) {
		run_infra(res, "preparing the run: %s: %s",
		    RUNSPEC_IS_LINUX(rs) && !rs->kernel[0] ?
		        "unresolved kernel package" :
		        "a guest image",
		    strerror(errno));
		return NULL;
	}
	xml = libvirt_run_domxml(rs, o, lo, fwpath, kpath, &x->s, &cause);
	if (!xml)
		run_infra(res, "domain XML: %s", wf_cause_str(cause));
	free(cause);
	return xml;
}

/* Connects and creates the domain, paused, with its lifecycle watch in
 * place (a guest that ends at once must still tell us how it ended). */
static int
lv_create(struct lv_run *lv, const char *xml, const struct libvirt_opts *lo,
    int64_t t0, struct run_result *res)
{
	lvevents_init(); /* before the connection: its events go to our loop */
	res->t_prepare_s = (wf_now_us() - t0) / 1e6;
	lv->conn = virConnectOpen(lo->uri ? lo->uri : "qemu:///system");
	if (!lv->conn) {
		lv_error(res, "cannot connect");
		return -1;
	}
	lv->asked = 1;
	lv->dom = virDomainCreateXML(lv->conn, xml, VIR_DOMAIN_START_PAUSED);
	if (!lv->dom) {
		lv_error(res, "domain did not start");
		return -1;
	}
	res->t_create_s = (wf_now_us() - t0) / 1e6;
	run_test_hold("created");
	lvevents_watch(lv->conn, lv->dom, &lv->end);
	return 0;
}

static int
lv_resume(struct lv_run *lv, int64_t t0, struct run_result *res)
{
	if (virDomainResume(lv->dom) < 0) {
		lv_error(res, "domain did not resume");
		return -1;
	}
	res->resumed_us = wf_now_us();
	res->t_resume_s = (res->resumed_us - t0) / 1e6;
	return 0;
}

/* The done record read within LV_SETTLE_MS: 1, else 0. */
static int
lv_done_seen(struct follow *fo, struct run_ctx *x)
{
	int64_t until = wf_now_ms() + LV_SETTLE_MS;

	for (;;) {
		follow_output(fo, &x->c);
		if (x->c.done_status >= 0)
			return 1;
		if (wf_now_ms() >= until)
			return 0;
		nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
	}
}

/*
 * The watchdog's guest time with hangwatch: the CPU time of the busiest
 * vCPU's thread. A hang with an idle mailbox (the OS waits on one CPU,
 * the others halted) spends the timeout there in about as much wall
 * time, where QEMU's total divided by the vCPUs takes one timeout per
 * vCPU. A loaded host still adds nothing to it. QEMU's total per vCPU
 * when the vCPUs cannot be read.
 */
static double
lv_busiest_vcpu_s(struct lv_run *lv, const virDomainInfo *info)
{
	virVcpuInfo v[64];
	int n = virDomainGetVcpus(
	    lv->dom, v, info->nrVirtCpu < 64 ? info->nrVirtCpu : 64, NULL, 0);
	unsigned long long most = 0;

	for (int i = 0; i < n; i++)
		if (v[i].cpuTime > most)
			most = v[i].cpuTime;
	return n > 0 ? most / 1e9 : info->cpuTime / 1e9 / info->nrVirtCpu;
}

/* hangwatch: one mailbox sample with QEMU's CPU time (info, just read);
 * 1 when the hang is called (lv->hang holds the evidence). */
static int
lv_hang_seen(struct lv_run *lv, struct run_ctx *x, const virDomainInfo *info)
{
	unsigned long long mb[2];

	if (!x->c.mailbox[0] || info->cpuTime == 0 ||
	    lv_peek(lv->dom, strtoull(x->c.mailbox, NULL, 16), mb) < 0)
		return 0;
	return hangwatch_sample(x->c.hw, (int64_t)(info->cpuTime / 1000),
	           (unsigned)(mb[0] & 0xffff), (unsigned)(mb[0] >> 32), mb[1],
	           &lv->hang) == 1;
}

/* Watches the domain to its end, the watchdog or a cancel, following its
 * output and calling lo->tick every 200 ms. */
static void
lv_watch(struct lv_run *lv, struct run_ctx *x, struct follow *fo, int timeout_s,
    const struct libvirt_opts *lo, struct run_result *res)
{
	int64_t t0 = wf_now_ms();
	virDomainInfo info;

	for (int64_t next_tick = 0;;) {
		struct timespec ts = { 0, 5000000 };
		int state, reason;

		if (virDomainGetState(lv->dom, &state, &reason, 0) < 0) {
			/* A transient domain vanishes when QEMU exits; any
			 * other error means libvirtd went away under us. */
			if (virGetLastErrorCode() != VIR_ERR_NO_DOMAIN)
				lv_error(
				    res, "lost libvirtd while the guest ran");
			break;
		}
		if (state == VIR_DOMAIN_SHUTOFF ||
		    state == VIR_DOMAIN_CRASHED ||
		    __atomic_load_n(&lv->end.stopped, __ATOMIC_ACQUIRE)) {
			/* it ended first: its done may still be on its way
			 * through virtlogd */
			lv->done_early = lo->early_verdict &&
			    lv_done_seen(fo, x);
			break;
		}
		if (lo->early_verdict) {
			/* the done record is the guest's last: its verdict
			 * need not wait for libvirt to see QEMU exit */
			follow_output(fo, &x->c);
			if (x->c.done_status >= 0) {
				lv->done_early = 1;
				break;
			}
		}
		if (wf_now_ms() >= next_tick) {
			/* the watchdog counts CPU time (runner.h): QEMU's,
			 * one thread per vCPU */
			if (virDomainGetInfo(lv->dom, &info) == 0 &&
			    info.nrVirtCpu > 0)
				lv->cpu_s = lo->hangwatch ?
				    lv_busiest_vcpu_s(lv, &info) :
				    info.cpuTime / 1e9 / info.nrVirtCpu;
			if (run_watchdog_fired(timeout_s, lv->cpu_s,
			        (wf_now_ms() - t0) / 1000.0)) {
				lv->timed_out = 1;
				if (lo->early_verdict) /* judged paused */
					virDomainSuspend(lv->dom);
				break;
			}
			follow_output(fo, &x->c);
			if (x->c.hw && lv_hang_seen(lv, x, &info)) {
				/* the evidence is judged on a paused guest */
				virDomainSuspend(lv->dom);
				break;
			}
			if (lo->tick &&
			    lo->tick(lo->tick_arg, x->s.com1, x->s.com2, 0)) {
				run_infra(res, "cancelled by the controller");
				lv_destroy(lv, lo, res);
				break;
			}
			next_tick = wf_now_ms() + 200;
		}
		nanosleep(&ts, NULL);
	}
}

/* The domain ended by itself: how the guest ended. */
static void
lv_ended(struct lv_run *lv, struct run_ctx *x, struct run_result *res)
{
	int failed;

	/* isa-debug-exit also ends the domain as "failed" (QEMU exits
	 * non-zero), but then the guest wrote done or an error first.
	 * Without either, QEMU itself died: the host's fault. */
	for (int i = 0; i < 20 && !lv->end.stopped; i++)
		nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
	/* A report that ended with done or an error and then the exit
	 * port: the normal end, not a failure to show. */
	if (lv->end.stopped &&
	    lv->end.detail == VIR_DOMAIN_EVENT_STOPPED_FAILED &&
	    (x->c.done_status >= 0 || x->c.errors))
		snprintf(res->detail, sizeof(res->detail),
		    "guest exited after its report (isa-debug-exit)");
	else if (lv->end.stopped)
		snprintf(res->detail, sizeof(res->detail),
		    "libvirt: domain stopped (%s)",
		    lvevents_detail_name(lv->end.detail));
	/* the guest ended its report: a done or an error record */
	failed = lv->end.stopped &&
	    lv->end.detail == VIR_DOMAIN_EVENT_STOPPED_FAILED &&
	    x->c.done_status < 0 && !x->c.errors;
	run_finish_records(x, res, failed ? "infra" : "exited", -1, NULL, NULL);
	if (failed)
		run_infra(res,
		    "QEMU died without the guest's exit (libvirt: stopped, failed)");
	else
		res->outcome = x->c.done_status == 0 ? RUN_COMPLETED :
		                                       RUN_GUEST_ERROR;
}

/* After the run: every record the guest wrote, then its end judged. */
/*
 * The guest's last output, read to its end: virtlogd may still be writing
 * it after QEMU exited, so the files are read until they stay the same
 * size for 200 ms (at most 3 s).
 */
static void
follow_settle(struct follow *fo, struct run_collect *c)
{
	for (int quiet = 0, pass = 0; quiet < 2 && pass < 30; pass++) {
		long long before = fo->com1.off + fo->com2.off;

		follow_output(fo, c);
		quiet = fo->com1.off + fo->com2.off == before ? quiet + 1 : 0;
		if (quiet < 2)
			nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	}
}

/* The done record was read: what the guest wrote after it (LV_SETTLE_MS),
 * and its end as the done record says. */
static void
lv_done(struct run_ctx *x, struct follow *fo, struct run_result *res)
{
	int64_t until = wf_now_ms() + LV_SETTLE_MS;

	do {
		nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
		follow_output(fo, &x->c);
	} while (wf_now_ms() < until);
	res->t_settled_s = (wf_now_us() - x->t0_us) / 1e6;
	res->wall_s = res->t_settled_s;
	snprintf(res->detail, sizeof(res->detail),
	    "the guest's done record read; its domain is torn down after"
	    " the verdict%s",
	    fo->com2.gaps ? "; COM2: file(s) rotated away unread" : "");
	run_finish_records(x, res, "exited", -1, NULL, NULL);
	res->outcome = x->c.done_status == 0 ? RUN_COMPLETED : RUN_GUEST_ERROR;
}

/* hangwatch called it (the guest is paused): its last output, the
 * evidence as a host-hang record, the mailbox, host-exit how "hang". */
static void
lv_hung(struct lv_run *lv, struct run_ctx *x, struct follow *fo,
    struct run_result *res)
{
	char *line;

	(void)lv_done_seen(fo, x); /* LV_SETTLE_MS of what virtlogd holds */
	res->t_settled_s = (wf_now_us() - x->t0_us) / 1e6;
	res->wall_s = res->t_settled_s;
	json_object_set_new(lv->hang, "v", json_integer(1));
	json_object_set_new(lv->hang, "src", json_string("host"));
	json_object_set_new(lv->hang, "gen", json_integer(x->c.last_gen));
	json_object_set_new(lv->hang, "ev", json_string("host-hang"));
	json_object_set_new(
	    lv->hang, "t_us", json_integer((json_int_t)(res->wall_s * 1e6)));
	if ((line = json_dumps(lv->hang, JSON_COMPACT)) != NULL)
		fprintf(x->c.out, "%s\n", line);
	free(line);
	snprintf(res->detail, sizeof(res->detail),
	    "hang called from the mailbox: a wakeup of APIC ID %lld (vector %s)"
	    " stood untaken for %.2f s of guest CPU time",
	    (long long)json_integer_value(json_object_get(lv->hang, "apic_id")),
	    json_string_value(json_object_get(lv->hang, "vector")) ?: "?",
	    json_integer_value(json_object_get(lv->hang, "standing_cpu_us")) /
	        1e6);
	run_finish_records(x, res, "hang", -1, lv_peek, lv->dom);
	res->outcome = RUN_HANG;
}

/* The watchdog fired: its detail, the mailbox, host-exit how "timeout". */
static void
lv_watchdog(struct lv_run *lv, struct run_ctx *x, int timeout_s,
    const struct libvirt_opts *lo, struct run_result *res)
{
	snprintf(res->detail, sizeof(res->detail),
	    "watchdog: no end after %d s (%.1f s of CPU %s, %.1f s wall)",
	    timeout_s, lv->cpu_s,
	    lo->hangwatch ? "on the busiest vCPU" : "per vCPU", res->wall_s);
	run_finish_records(x, res, "timeout", -1, lv_peek, lv->dom);
	res->outcome = RUN_HANG;
}

static void
lv_finish(struct lv_run *lv, struct run_ctx *x, struct follow *fo,
    int timeout_s, const struct libvirt_opts *lo, struct run_result *res)
{
	if ((lv->done_early || lv->hang ||
	        (lv->timed_out && lo->early_verdict)) &&
	    res->outcome != RUN_INFRA) {
		if (lv->hang) {
			lv_hung(lv, x, fo, res);
		} else if (lv->timed_out) { /* paused: its last output */
			(void)lv_done_seen(fo, x);
			res->t_settled_s = (wf_now_us() - x->t0_us) / 1e6;
			res->wall_s = res->t_settled_s;
			lv_watchdog(lv, x, timeout_s, lo, res);
		} else {
			lv_done(x, fo, res);
		}
		if (x->c.first_us)
			res->t_first_s = (x->c.first_us - x->t0_us) / 1e6;
		lv->handoff = lo->early_verdict;
		if (!lo->early_verdict)
			lv_destroy(lv, lo, res);
		/* the domain may still be there: the output settled already */
		if (lo->tick)
			lo->tick(lo->tick_arg, x->s.com1, x->s.com2, 2);
		return;
	}
	lv->done_early = 0;
	follow_settle(fo, &x->c);
	res->t_settled_s = (wf_now_us() - x->t0_us) / 1e6;
	if (x->c.first_us)
		res->t_first_s = (x->c.first_us - x->t0_us) / 1e6;
	if (fo->com2.gaps)
		snprintf(res->detail + strlen(res->detail),
		    sizeof(res->detail) - strlen(res->detail),
		    "%sCOM2: %d file(s) rotated away unread",
		    res->detail[0] ? "; " : "", fo->com2.gaps);
	res->wall_s = (wf_now_us() - x->t0_us) / 1e6;
	if (res->outcome == RUN_INFRA) {
		/* whatever went wrong, a domain asked for is gone after */
		if (lv->asked)
			lv_destroy(lv, lo, res);
		run_finish_records(x, res, "infra", -1, NULL, NULL);
	} else if (lv->timed_out) {
		lv_watchdog(lv, x, timeout_s, lo, res);
		lv_destroy(lv, lo, res);
	} else {
		lv_ended(lv, x, res);
	}
	/* The domain is gone: the streamer's last look, before the files go
	 * (it may wait there for room to queue the output). */
	if (lo->tick)
		lo->tick(lo->tick_arg, x->s.com1, x->s.com2, 1);
}

/* Background teardowns (early_verdict) still running. */
static pthread_mutex_t td_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t td_cond = PTHREAD_COND_INITIALIZER;
static int td_running;

/* One domain torn down off the critical path: it owns these. */
struct lv_teardown {
	virConnectPtr conn;
	virDomainPtr dom;
	struct run_scratch s;
	char uri[256], name[128];
	void (*leftover)(const char *domain);
};

static void *
lv_teardown_run(void *arg)
{
	struct lv_teardown *t = arg;
	char err[200];

	run_test_hold("teardown");
	/* QEMU has exited or is about to: libvirt may be ending the domain
	 * itself (then destroy says it is gone); by name on a new connection
	 * when this one was lost, as lv_destroy() does */
	if (virDomainDestroy(t->dom) < 0 &&
	    virGetLastErrorCode() != VIR_ERR_NO_DOMAIN &&
	    virGetLastErrorCode() != VIR_ERR_OPERATION_INVALID &&
	    lvreap_destroy(t->uri, t->name, LV_RECONNECT_S, err, sizeof(err)) <
	        0) {
		if (t->leftover)
			t->leftover(t->name);
		else
			fprintf(stderr, "could not destroy domain %s: %s\n",
			    t->name, err);
	}
	virDomainFree(t->dom);
	virConnectClose(t->conn);
	run_scratch_remove(&t->s);
	free(t);
	pthread_mutex_lock(&td_lock);
	td_running--;
	pthread_cond_broadcast(&td_cond);
	pthread_mutex_unlock(&td_lock);
	return NULL;
}

/* Hands the domain, its connection and the scratch directory to a thread
 * that destroys and removes them (inline when no thread can start). */
static void
lv_handoff(struct lv_run *lv, struct run_ctx *x, const struct libvirt_opts *lo)
{
	struct lv_teardown *t = calloc(1, sizeof(*t));
	pthread_attr_t attr;
	pthread_t th;
	int started;

	lvevents_unwatch(lv->conn, &lv->end); /* lv->end is on our stack */
	if (!t) {
		lv_destroy(lv, lo, &(struct run_result){ .outcome = 0 });
		return;
	}
	t->conn = lv->conn;
	t->dom = lv->dom;
	t->s = x->s;
	t->leftover = lo->leftover;
	wf_strlcpy(
	    t->uri, lo->uri ? lo->uri : "qemu:///system", sizeof(t->uri));
	wf_strlcpy(t->name, lo->domain, sizeof(t->name));
	lv->conn = NULL;
	lv->dom = NULL;
	x->s.dir[0] = 0; /* the thread removes it, after the domain */
	pthread_mutex_lock(&td_lock);
	td_running++;
	pthread_mutex_unlock(&td_lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	started = pthread_create(&th, &attr, lv_teardown_run, t) == 0;
	pthread_attr_destroy(&attr);
	if (!started)
		lv_teardown_run(t);
}

void
libvirt_run_drain(void)
{
	pthread_mutex_lock(&td_lock);
	while (td_running > 0)
		pthread_cond_wait(&td_cond, &td_lock);
	pthread_mutex_unlock(&td_lock);
}

/* A run prepared: its domain created paused (or why it could not be). */
struct libvirt_prepared {
	const struct runspec *rs;
	const struct run_opts *o;
	const struct libvirt_opts *lo;
	struct run_ctx x;
	struct follow fo;
	struct lv_run lv;
	struct run_result res;
	char *xml;
	int stage; /* LVP_FAILED, LVP_NOT_CREATED or LVP_CREATED */
	int64_t ready_us; /* wf_now_us() when prepared */
};

enum {
	LVP_FAILED,
	LVP_NOT_CREATED,
	LVP_CREATED
};

struct libvirt_prepared *
libvirt_prepare(const struct runspec *rs, const struct run_opts *o,
    const struct libvirt_opts *lo)
{
	struct libvirt_prepared *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->rs = rs;
	p->o = o;
	p->lo = lo;
	p->lv.end.callback = -1;
	virSetErrorFunc(NULL, lv_quiet);
	tail_init(&p->fo.com1, "");
	tail_init(&p->fo.com2, "");
	if (run_prepare(&p->x, rs, o, lo->workdir, "halt", &p->res) <
	        0 || /* MTTCG or KVM */
	    !(p->xml = lv_prepare(&p->x, &p->fo, rs, o, lo, &p->res))) {
		p->stage = LVP_FAILED;
		return p;
	}
	if (lo->hangwatch)
		p->x.c.hw = hangwatch_new(HANGWATCH_CONFIRM_US);
	p->stage = lv_create(&p->lv, p->xml, lo, p->x.t0_us, &p->res) == 0 ?
	    LVP_CREATED :
	    LVP_NOT_CREATED;
	p->ready_us = wf_now_us();
	return p;
}

int
libvirt_prepared_ok(const struct libvirt_prepared *p)
{
	return p->stage == LVP_CREATED;
}

/* The handle's resources released and freed: run_end's return. */
static int
lvp_free(struct libvirt_prepared *p, struct run_result *res, int rc)
{
	if (run_caplog_close(&p->fo.log) < 0 && rc == 0) {
		snprintf(p->res.detail, sizeof(p->res.detail), "writing %s: %s",
		    p->o->log, strerror(errno));
		rc = -1;
	}
	tail_close(&p->fo.com1);
	tail_close(&p->fo.com2);
	free(p->fo.buf);
	if (p->lv.conn)
		lvevents_unwatch(p->lv.conn, &p->lv.end);
	if (p->lv.dom)
		virDomainFree(p->lv.dom);
	if (p->lv.conn)
		virConnectClose(p->lv.conn);
	json_decref(p->lv.hang);
	hangwatch_free(p->x.c.hw);
	free(p->xml);
	rc = run_end(&p->x, p->o, &p->res, rc);
	if (res)
		*res = p->res;
	free(p);
	return rc;
}

int
libvirt_run_prepared(struct libvirt_prepared *p, struct run_result *res)
{
	const struct libvirt_opts *lo = p->lo;
	struct lv_run *lv = &p->lv;
	struct run_ctx *x = &p->x;

	if (p->stage == LVP_FAILED)
		return lvp_free(p, res, -1);
	if (p->stage == LVP_CREATED) {
		/* the time it waited paused is not the run's: its clock
		 * starts again where it stopped */
		p->res.t_wait_s = (wf_now_us() - p->ready_us) / 1e6;
		x->t0_us += wf_now_us() - p->ready_us;
		if (lv_resume(lv, x->t0_us, &p->res) == 0) {
			lv_watch(lv, x, &p->fo, p->rs->timeout_s, lo, &p->res);
			p->res.t_end_s = (wf_now_us() - x->t0_us) / 1e6;
		}
	}
	lv_finish(lv, x, &p->fo, p->rs->timeout_s, lo, &p->res);
	if (lv->handoff)
		lv_handoff(lv, x, lo);
	return lvp_free(p, res, 0);
}

void
libvirt_discard(struct libvirt_prepared *p)
{
	if (p->lv.asked)
		lv_destroy(&p->lv, p->lo, &p->res);
	if (p->res.leftover[0] && p->lo->leftover)
		p->lo->leftover(p->res.leftover);
	lvp_free(p, NULL, 0);
}

int
libvirt_run(const struct runspec *rs, const struct run_opts *o,
    const struct libvirt_opts *lo, struct run_result *res)
{
	struct libvirt_prepared *p = libvirt_prepare(rs, o, lo);

	if (!p) {
		memset(res, 0, sizeof(*res));
		return run_infra(res, "preparing the run: out of memory");
	}
	return libvirt_run_prepared(p, res);
}
