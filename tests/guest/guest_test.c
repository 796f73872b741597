/*
 * guest_test: the guest suite.  Boots the real firmware shim and test kernel
 * under QEMU (through guest/run-qemu's binary) for every case below, two at
 * a time, and judges each run by its records against the invariants table
 * (lib/invariants.c), never by the kernel's own opinion.
 *
 * A case declares the run, the run-qemu exit status, the verdict, and the
 * exact set of checks that must fail (empty: all pass).  Cases with a
 * documented failure shape add an extra assertion on the evidence.
 *
 * Usage: guest_test [-j JOBS] [FILTER]   (FILTER: substring of case names)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "invariants.h"
#include "records.h"
#include "runspec.h"

struct gcase;
typedef const char *(*extra_fn)(
    const struct gcase *c, const json_t *recs, const json_t *ev);

struct gcase {
	char name[64];
	struct runspec rs;
	int exit_status;
	const char *verdict;
	const char *failing; /* comma-separated check names that must fail */
	extra_fn extra;
	int libvirt; /* through libvirtd: MTTCG, parked CPUs halt (idle=halt) */
	/* runtime */
	pid_t pid;
	int status;
	char records[320];
};

static const char *top = ".";
static struct gcase cases[128];
static int ncases;

static const json_t *
find(const json_t *recs, const char *ev, int gen)
{
	const json_t *r;
	size_t i;

	json_array_foreach (recs, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "ev")), ev) &&
		    (gen < 0 ||
		        json_integer_value(json_object_get(r, "gen")) == gen))
			return r;
	return NULL;
}

static json_int_t
geti(const json_t *r, const char *k)
{
	return json_integer_value(json_object_get(r, k));
}

/* --- extra assertions for the documented failure shapes --- */

static const char *
hang_evidence(const struct gcase *c, const json_t *recs, const json_t *ev)
{
	const json_t *m = find(recs, "host-mailbox", -1);

	if (!m)
		return "no host-mailbox record after the watchdog";
	if (geti(m, "command") != 1 || geti(m, "apic_id") != 1)
		return "host-mailbox should show a pending wakeup (command 1) for APIC ID 1";
	if (strstr(c->rs.quirks, "clear-vector") &&
	    strcmp(json_string_value(json_object_get(m, "vector")), "0x0"))
		return "clear-vector: the host should see the vector cleared";
	return NULL;
}

static const char *
test_timeout(const struct gcase *c, const json_t *recs, const json_t *ev)
{
	const json_t *t = find(recs, "fw-test", 1), *e = find(recs, "error", 1);

	if (!t || !e)
		return "expected a fw-test record and an error record";
	if (!strstr(json_string_value(json_object_get(e, "msg")),
	        "Failed to hand over CPU 1 to BIOS"))
		return "the error record should carry Linux's message";
	if (geti(e, "t_us") - geti(t, "t_us") < 900000)
		return "the test acknowledgement should be waited for about 1 s";
	return NULL;
}

static const char *
stale_checksum(const struct gcase *c, const json_t *recs, const json_t *ev)
{
	const json_t *m = find(recs, "madt", 1);

	return m && json_is_false(json_object_get(m, "checksum_ok")) ?
	    NULL :
	    "the kernel should have seen a bad MADT checksum";
}

static const char *
slow_ack(const struct gcase *c, const json_t *recs, const json_t *ev)
{
	const json_t *u = find(recs, "cpu-up", 1);

	return u && geti(u, "us") >= 200000 ?
	    NULL :
	    "cpu-up should take at least the 200 ms ack delay";
}

static const char *
kdump_on_ap(const struct gcase *c, const json_t *recs, const json_t *ev)
{
	const json_t *b = find(recs, "boot", 2),
	             *n = find(recs, "crash-notes", 2);

	if (!b ||
	    strcmp(json_string_value(json_object_get(b, "kind")), "kdump"))
		return "generation 2 should be a kdump kernel";
	if (geti(b, "cpu") != 1 || !n || geti(n, "crashed_cpu") != 1)
		return "the kdump kernel should run on the CPU that crashed (APIC ID 1)";
	return NULL;
}

static const char *
v0_no_offline(const struct gcase *c, const json_t *recs, const json_t *ev)
{
	const json_t *o = find(recs, "offline", 1);

	if (c->rs.cpus > 1 &&
	    (!o || json_is_true(json_object_get(o, "ok")) ||
	        strcmp(json_string_value(json_object_get(o, "err")),
	            "EOPNOTSUPP")))
		return "version 0: offline must be refused with EOPNOTSUPP";
	return NULL;
}

static const char *
fw_exception(const struct gcase *c, const json_t *recs, const json_t *ev)
{
	const json_t *e = find(recs, "error", 1);

	return e &&
	        strstr(json_string_value(json_object_get(e, "msg")),
	            "firmware: CPU 1 took an exception") ?
	    NULL :
	    "the firmware should report the exception it took";
}

/* Older TDVF's "sleep": the CPU stops, the test times out, the next wakeup
 * of that CPU stands in the mailbox for good. */
static const char *
test_is_sleep(const struct gcase *c, const json_t *recs, const json_t *ev)
{
	const json_t *m = find(recs, "host-mailbox", -1),
	             *s = find(recs, "fw-sleep", 1);
	const json_t *e = find(recs, "error", 1);

	if (!s || !e ||
	    !strstr(json_string_value(json_object_get(e, "msg")),
	        "Failed to hand over CPU 1"))
		return "expected a fw-sleep record and Linux's hand-over error";
	if (geti(e, "t_us") - geti(s, "t_us") < 900000)
		return "the test acknowledgement should be waited for about 1 s";
	if (!m || geti(m, "command") != 1 || geti(m, "apic_id") != 1)
		return "host-mailbox should show the wakeup of APIC ID 1 untaken";
	return NULL;
}

/* The poll race: APIC ID 2 left on the stale wakeup of APIC ID 1 before
 * its own was posted; the host sees that wakeup untaken. */
static const char *
poll_race(const struct gcase *c, const json_t *recs, const json_t *ev)
{
	const json_t *m = find(recs, "host-mailbox", -1), *r;
	size_t i;
	int woke2 = 0;

	json_array_foreach (recs, i, r)
		woke2 |= !strcmp(json_string_value(json_object_get(r, "ev")),
		             "fw-wake") &&
		    geti(r, "apic_id") == 2;
	if (!woke2)
		return "APIC ID 2 should have left the firmware (fw-wake)";
	if (!m || geti(m, "command") != 1 || geti(m, "apic_id") != 2)
		return "host-mailbox should show the wakeup of APIC ID 2 untaken";
	return NULL;
}

/* The broadcast crash NMI reached the CPU parked in the firmware too: it
 * stayed there (no crash note from it), and the kdump kernel, on APIC ID 1,
 * woke it with the others but the real BSP (APIC ID 0). */
static const char *
nmi_parked(const struct gcase *c, const json_t *recs, const json_t *ev)
{
	const json_t *n = find(recs, "crash-notes", 2),
	             *o = find(recs, "online", 2);
	json_t *want = json_pack("[i,i,i]", 1, 2, 3);
	int same = o && json_equal(json_object_get(o, "apic_ids"), want);

	json_decref(want);
	if (!n || geti(n, "count") != 3)
		return "crash-notes should count the 3 CPUs online at the crash";
	if (!same)
		return "the kdump kernel should bring up APIC IDs 1, 2, 3 (not the real BSP)";
	return NULL;
}

/* A stale stop IPI: the kexec'd kernel's first wakeup (APIC ID 1) goes back
 * to the firmware at once, and the kernel waits for it for good. */
static const char *
stale_stop(const struct gcase *c, const json_t *recs, const json_t *ev)
{
	const json_t *r;
	size_t i;
	int woke = 0, back = 0;

	json_array_foreach (recs, i, r) {
		if (geti(r, "gen") != 2 || geti(r, "apic_id") != 1)
			continue;
		woke |= !strcmp(
		    json_string_value(json_object_get(r, "ev")), "fw-wake");
		back |= woke &&
		    !strcmp(json_string_value(json_object_get(r, "ev")),
		        "fw-reset");
	}
	return woke && back ?
	    NULL :
	    "in generation 2, APIC ID 1 should be woken and come straight back";
}

/* --- the case table --- */

static struct gcase *
add(const char *name, int cpus, int ver, const char *steps)
{
	struct gcase *c = &cases[ncases++];

	snprintf(c->name, sizeof(c->name), "%s", name);
	runspec_init(&c->rs);
	c->rs.cpus = cpus;
	c->rs.mailbox_version = ver;
	c->rs.timeout_s = 60;
	snprintf(c->rs.steps, sizeof(c->rs.steps), "%s", steps);
	c->verdict = "pass";
	c->failing = "";
	return c;
}

/* The matrix: every CPU count and version for the common steps. */
static void
build_matrix_cases(void)
{
	static const int cpus[] = { 1, 2, 4, 8 };
	struct gcase *c;
	char n[64];

	for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++)
		for (int v = 0; v <= 1; v++) {
			int N = cpus[i];

			snprintf(n, sizeof(n), "v%d-%dcpu-cold", v, N);
			add(n, N, v, "");
			snprintf(n, sizeof(n), "v%d-%dcpu-kexec-chain-5", v, N);
			add(n, N, v, "kexec*5");
			snprintf(n, sizeof(n), "v%d-%dcpu-cycle-10", v, N);
			c = add(n, N, v, "cycle*10");
			if (!v)
				c->extra = v0_no_offline;
			snprintf(
			    n, sizeof(n), "v%d-%dcpu-kdump-boot-cpu", v, N);
			add(n, N, v, "crash@0");
			if (N > 1) {
				snprintf(n, sizeof(n), "v%d-%dcpu-kdump-on-ap",
				    v, N);
				add(n, N, v, "crash@1")->extra = kdump_on_ap;
			}
			if (N >= 4) {
				/* v1: the old kernel's stop IPI (all-but-self) waits in the
				 * parked CPUs and stops the first of them in the next one */
				snprintf(n, sizeof(n),
				    "v%d-%dcpu-kexec-after-offline", v, N);
				c = add(n, N, v, "offline:1,offline:2,kexec");
				if (v) {
					c->rs.timeout_s = 4;
					c->exit_status = 3;
					c->verdict = "hang";
					c->failing = "bring-up-finished";
					c->extra = stale_stop;
				}
			}
		}
	add("v1-4cpu-kdump-limit-2", 4, 1, "crash@2")->rs.kdump_cpus = 2;
	add("v1-2cpu-offline-online-kexec", 2, 1, "offline:1,kexec,online:1");
}

/* Firmware quirks: bugs real firmware had, each with its failure shape. */
static void
build_quirk_cases(void)
{
	struct gcase *c;

	c = add("quirk-v1-short-entry", 2, 1, "kexec");
	strcpy(c->rs.quirks, "v1-short-entry");
	c->verdict = "fail";
	c->failing = "madt-entry";
	c = add("quirk-no-test-ack", 2, 1, "offline:1,online:1");
	strcpy(c->rs.quirks, "no-test-ack");
	c->exit_status = 4;
	c->verdict = "fail";
	c->failing = "mailbox-idle,no-kernel-errors";
	c->extra = test_timeout;
	c = add("quirk-clear-vector", 2, 1, "");
	strcpy(c->rs.quirks, "clear-vector");
	c->rs.timeout_s = 4;
	c->exit_status = 3;
	c->verdict = "hang";
	c->failing = "bring-up-finished";
	c->extra = hang_evidence;
	c = add("quirk-stale-checksum", 2, 1, "kexec");
	strcpy(c->rs.quirks, "stale-checksum");
	c->extra = stale_checksum;
	c = add("quirk-slow-ack", 2, 1, "");
	strcpy(c->rs.quirks, "slow-ack=200");
	c->extra = slow_ack;
	c = add("quirk-test-is-sleep", 2, 1, "offline:1,online:1");
	strcpy(c->rs.quirks, "test-is-sleep");
	c->rs.timeout_s = 4;
	c->exit_status = 3;
	c->verdict = "hang";
	c->failing = "mailbox-idle,no-kernel-errors";
	c->extra = test_is_sleep;
	/* Linux 6.11+ takes a version 1 reset vector of 0 as it is */
	c = add("quirk-reset-vector-zero-cold", 2, 1, "");
	strcpy(c->rs.quirks, "reset-vector-zero");
	c->verdict = "fail";
	c->failing = "reset-vector";
	c = add("quirk-reset-vector-zero-offline", 2, 1, "offline:1");
	strcpy(c->rs.quirks, "reset-vector-zero");
	c->exit_status = 4;
	c->verdict = "crash";
	c->failing = "reset-vector";
}

/* The hand-off contract: each case fails when its firmware fix is undone. */
static void
build_handoff_cases(void)
{
	struct gcase *c;

	add("v1-2cpu-kexec", 2, 1, "kexec");
	c = add("fix-wakeup-nxe-undone", 2, 1, "kexec");
	strcpy(c->rs.quirks, "wakeup-no-nxe");
	c->exit_status = 4;
	c->verdict = "crash";
	c->failing = "bring-up-finished,generations";
	c = add("fix-reset-page-undone", 2, 1, "kexec");
	strcpy(c->rs.quirks, "reset-on-os-stack");
	c->exit_status = 4;
	c->verdict = "crash";
	c->failing = "generations";
	c = add("mailbox-poll-race", 3, 1, "");
	strcpy(c->rs.quirks, "slow-ack=20,poll-stall=2:40");
	strcpy(c->rs.append, "mbox_gap_us=50000");
	c = add("fix-poll-order-undone", 3, 1, "");
	strcpy(c->rs.quirks, "slow-ack=20,poll-stall=2:40,poll-early-command");
	strcpy(c->rs.append, "mbox_gap_us=50000");
	c->rs.timeout_s = 4;
	c->exit_status = 3;
	c->verdict = "hang";
	c->failing = "bring-up-finished";
	c->extra = poll_race;
	c = add("handback-irq-pending-halt", 2, 1, "cycle*2");
	c->libvirt = 1;
	c = add("fix-irq-reclaim-undone", 2, 1, "cycle*2");
	strcpy(c->rs.quirks, "keep-irq-state");
	c->libvirt = 1;
	c->exit_status = 4;
	c->verdict = "crash";
	c->failing = "no-kernel-errors";
	c->extra = fw_exception;
	add("kdump-nmi-reaches-parked", 4, 1, "offline:2,crash@1")->extra =
	    nmi_parked;
	/* a halting parked CPU keeps the stop IPI for the next kernel, as a
	 * spinning one does: the same hang as v1-4cpu-kexec-after-offline */
	c = add("kexec-after-offline-halt", 4, 1, "offline:1,offline:2,kexec");
	c->libvirt = 1;
	c->rs.timeout_s = 4;
	c->exit_status = 3;
	c->verdict = "hang";
	c->failing = "bring-up-finished";
	c->extra = stale_stop;
}

/* Old kernels: the bug the farm exists to catch. */
static void
build_old_kernel_cases(void)
{
	struct gcase *c;

	c = add("pre611-v1-kexec-hang", 2, 1, "kexec");
	strcpy(c->rs.policy, "pre-6.11");
	c->rs.timeout_s = 4;
	c->exit_status = 3;
	c->verdict = "hang";
	c->failing = "bring-up-finished";
	c->extra = hang_evidence;
	c = add("pre611-v0-kdump-hang", 2, 0, "crash@0");
	strcpy(c->rs.policy, "pre-6.11");
	c->rs.timeout_s = 4;
	c->exit_status = 3;
	c->verdict = "hang";
	c->failing =
	    "bring-up-finished,mailbox-after-kexec"; /* never invalidated */
	c->extra = hang_evidence;
	c = add("mixed-611-then-pre611-v0-kexec-hang", 2, 0, "kexec:pre-6.11");
	c->rs.timeout_s = 4;
	c->exit_status = 3;
	c->verdict = "hang";
	c->failing = "bring-up-finished";
}

static void
build_cases(void)
{
	build_matrix_cases();
	build_quirk_cases();
	build_handoff_cases();
	build_old_kernel_cases();
}

/* --- running --- */

static void
start(struct gcase *c, const char *outdir)
{
	char bin[512], cpus[8], ver[8], timeout[8], kd[8], log[300];

	char rec[sizeof(c->records)];

	snprintf(rec, sizeof(rec), "%s/%s.records", outdir, c->name);
	memcpy(c->records, rec, sizeof(rec));
	snprintf(log, sizeof(log), "%s/%s.log", outdir, c->name);
	snprintf(bin, sizeof(bin), "%s/bin/wakefarm-run-qemu", top);
	snprintf(cpus, sizeof(cpus), "%d", c->rs.cpus);
	snprintf(ver, sizeof(ver), "%d", c->rs.mailbox_version);
	snprintf(timeout, sizeof(timeout), "%d", c->rs.timeout_s);
	snprintf(kd, sizeof(kd), "%d", c->rs.kdump_cpus);
	c->pid = fork();
	if (c->pid == 0) {
		char *argv[32];
		int a = 0;

		argv[a++] = bin;
		argv[a++] = "--cpus";
		argv[a++] = cpus;
		argv[a++] = "--mailbox-version";
		argv[a++] = ver;
		argv[a++] = "--timeout";
		argv[a++] = timeout;
		argv[a++] = "--kdump-cpus";
		argv[a++] = kd;
		argv[a++] = "--policy";
		argv[a++] = c->rs.policy;
		argv[a++] = "--records";
		argv[a++] = c->records;
		argv[a++] = "--log";
		argv[a++] = log;
		if (c->rs.steps[0]) {
			argv[a++] = "--steps";
			argv[a++] = c->rs.steps;
		}
		if (c->rs.quirks[0]) {
			argv[a++] = "--quirk";
			argv[a++] = c->rs.quirks;
		}
		if (c->rs.append[0]) {
			argv[a++] = "--append";
			argv[a++] = c->rs.append;
		}
		if (c->libvirt) {
			argv[a++] = "--libvirt";
			argv[a++] = "qemu:///system";
		}
		argv[a] = NULL;
		freopen("/dev/null", "w", stderr);
		execv(bin, argv);
		_exit(127);
	}
}

/* The failing checks, sorted into a comma list for comparison. */
static void
failing_checks(const json_t *ev, char *out, size_t size)
{
	const json_t *c;
	size_t i;
	const char *names[64];
	int n = 0;

	json_array_foreach (json_object_get(ev, "checks"), i, c)
		if (!json_is_true(json_object_get(c, "ok"))) {
			const char *name = json_string_value(
			    json_object_get(c, "check"));
			int dup = 0;

			for (int j = 0; j < n; j++)
				dup |= !strcmp(names[j], name);
			if (!dup && n < 64)
				names[n++] = name;
		}
	for (int a = 0; a < n; a++)
		for (int b = a + 1; b < n; b++)
			if (strcmp(names[a], names[b]) > 0) {
				const char *t = names[a];

				names[a] = names[b];
				names[b] = t;
			}
	out[0] = 0;
	for (int j = 0; j < n; j++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s",
		    j ? "," : "", names[j]);
}

static int
judge(struct gcase *c)
{
	struct records_reader st;
	char *cause = NULL, got[512];
	json_t *recs, *ev;
	const char *why = NULL, *verdict;
	int ok;

	recs = records_load_file(c->records, &st, &cause);
	if (!recs) {
		printf("FAIL %s: %s\n", c->name, cause);
		free(cause);
		return 0;
	}
	ev = invariants_evaluate(&c->rs, recs);
	verdict = json_string_value(json_object_get(ev, "verdict"));
	failing_checks(ev, got, sizeof(got));
	if (c->status != c->exit_status)
		printf("FAIL %s: run-qemu exited %d, expected %d\n", c->name,
		    c->status, c->exit_status);
	else if (strcmp(verdict, c->verdict))
		printf("FAIL %s: verdict %s (%s), expected %s\n", c->name,
		    verdict, json_string_value(json_object_get(ev, "reason")),
		    c->verdict);
	else if (strcmp(got, c->failing))
		printf("FAIL %s: failing checks [%s], expected [%s]\n", c->name,
		    got, c->failing);
	else if (st.dropped_invalid || st.dropped_binary || st.dropped_overlong)
		printf("FAIL %s: %lu record line(s) broke the contract: %s\n",
		    c->name, records_reader_dropped(&st), st.last_cause);
	else if (c->extra && (why = c->extra(c, recs, ev)))
		printf("FAIL %s: %s\n", c->name, why);
	else
		printf("ok %s\n", c->name);
	ok = c->status == c->exit_status && !strcmp(verdict, c->verdict) &&
	    !strcmp(got, c->failing) &&
	    !(st.dropped_invalid || st.dropped_binary || st.dropped_overlong) &&
	    !why;
	if (!ok)
		printf("     records: %s\n", c->records);
	json_decref(ev);
	json_decref(recs);
	return ok;
}

int
main(int argc, char **argv)
{
	const char *filter = NULL, *outdir;
	int jobs = 2, passed = 0, failed = 0, running = 0, next = 0;
	int sel[128], nsel = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-j") && i + 1 < argc)
			jobs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf(
			    "usage: guest_test [-j JOBS] [FILTER]\n"
			    "Runs the guest cases under QEMU and checks their records.\n");
			return 0;
		} else
			filter = argv[i];
	}
	if (getenv("WF_TOP"))
		top = getenv("WF_TOP");
	outdir = getenv("WF_OUT") ? getenv("WF_OUT") : "tests/out/guest";
	build_cases();
	for (int i = 0; i < ncases; i++)
		if (!filter || strstr(cases[i].name, filter))
			sel[nsel++] = i;
	while (next < nsel || running) {
		int status;
		pid_t pid;

		while (running < jobs && next < nsel) {
			start(&cases[sel[next++]], outdir);
			running++;
		}
		pid = wait(&status);
		if (pid < 0)
			break;
		running--;
		for (int i = 0; i < nsel; i++) {
			struct gcase *c = &cases[sel[i]];

			if (c->pid != pid)
				continue;
			c->status = WIFEXITED(status) ? WEXITSTATUS(status) :
			                                128;
			if (judge(c))
				passed++;
			else
				failed++;
			fflush(stdout);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
