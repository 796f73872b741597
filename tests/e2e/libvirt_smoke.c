/*
 * libvirt_smoke.c: proof that the real stack works, run by tests/e2e/run.
 *
 * lib/runner/domxml builds the XML of a tiny guest (tests/e2e/smoke-guest/),
 * checked against tests/e2e/golden/smoke-domain.xml; libvirtd on
 * qemu:///system starts it as a transient domain; the guest writes a line
 * to each serial port, copies an fw_cfg file to COM2 and leaves through
 * isa-debug-exit. We watch the lifecycle events, then check both serial
 * files byte for byte and how the domain ended.
 *
 *   bin/tests/libvirt-smoke [--uri URI] [--timeout SECONDS]
 *
 * Run from the top of the checkout (or set WF_TOP). REGENERATE=1 rewrites
 * the golden file. Prints "ok NAME" / "FAIL NAME: expected X, got Y" per
 * check and ends with "N passed, N failed"; exit status 1 on any failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "domxml.h"
#include "../golden/golden.h"
#include "util.h"

#define SMOKE_GOLDEN "tests/e2e/golden/smoke-domain.xml"
#define SMOKE_KERNEL "build/tests/smoke-guest.elf"
#define SMOKE_RUN_DIR "build/tests/e2e"
#define SMOKE_FILE_MAX (256 * 1024)
/* What the guest writes; smoke.s holds the same strings. */
#define SMOKE_COM1 "wakefarm smoke: hello on COM1\n"
#define SMOKE_COM2 "wakefarm smoke: hello on COM2\n"

struct smoke_run {
	const char *name; /* the domain we wait for */
	int started; /* STARTED event seen */
	int stopped; /* STOPPED event seen */
	int event; /* last lifecycle event and detail */
	int detail;
	int64_t t_stopped_us;
};

static int smoke_passed, smoke_failed;

static void
smoke_ok(const char *name)
{
	printf("ok %s\n", name);
	smoke_passed++;
}

static void smoke_fail(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
smoke_fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	smoke_failed++;
}

/* s with newlines and other control bytes shown as escapes, for one-line messages. */
static char *
smoke_quote(const char *s)
{
	size_t i, n = 0, len;
	char *q;

	if (s == NULL)
		return strdup("nothing (no such file)");
	len = strlen(s);
	q = malloc(len * 4 + 3);
	if (q == NULL)
		return NULL;
	q[n++] = '"';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			n += (size_t)sprintf(q + n, "\\n");
		else if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			n += (size_t)sprintf(q + n, "\\x%02x", c);
		else
			q[n++] = (char)c;
	}
	q[n++] = '"';
	q[n] = '\0';
	return q;
}

static void
smoke_expect_str(const char *name, const char *expected, const char *got)
{
	char *qe, *qg;

	if (got != NULL && strcmp(expected, got) == 0) {
		smoke_ok(name);
		return;
	}
	qe = smoke_quote(expected);
	qg = smoke_quote(got);
	smoke_fail(name, "expected %s, got %s", qe ? qe : "?", qg ? qg : "?");
	free(qe);
	free(qg);
}

/* The whole file as a string (NULL if it cannot be read or is too big). */
static char *
smoke_read_file(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	data = malloc(SMOKE_FILE_MAX + 1);
	if (data != NULL) {
		len = fread(data, 1, SMOKE_FILE_MAX + 1, f);
		if (ferror(f) || len > SMOKE_FILE_MAX) {
			free(data);
			data = NULL;
		} else
			data[len] = '\0';
	}
	fclose(f);
	return data;
}

/* Writes data to path, world-readable whatever the umask: QEMU (libvirt-qemu) reads it. */
static int
smoke_write_file(const char *path, const char *data)
{
	size_t len = strlen(data);
	int fd, rc = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (fchmod(fd, 0644) == 0 && write(fd, data, len) == (ssize_t)len)
		rc = 0;
	if (close(fd) == -1)
		rc = -1;
	return rc;
}

/* out = a/bc; a checkout path too long for that ends the program. */
static void
smoke_path(char *out, size_t size, const char *a, const char *b, const char *c)
{
	if ((size_t)snprintf(out, size, "%s/%s%s", a, b, c) >= size) {
		fprintf(
		    stderr, "libvirt-smoke: path too long: %s/%s%s\n", a, b, c);
		exit(1);
	}
}

/*
 * The XML with what depends on this checkout and this run made constant:
 * the checkout's path becomes @TOP@, the run id's pid becomes @RUN@.
 */
static char *
smoke_normalise(const char *xml, const char *top, const char *run_id)
{
	char *a, *b;

	a = golden_replace(xml, top, "@TOP@");
	if (a == NULL)
		return NULL;
	b = golden_replace(a, run_id, "smoke-@RUN@");
	free(a);
	return b;
}

static void
smoke_check_golden(const char *top, const char *xml, const char *run_id)
{
	char path[PATH_MAX], *norm, *cause = NULL;
	int regenerated;

	smoke_path(path, sizeof path, top, SMOKE_GOLDEN, "");
	norm = smoke_normalise(xml, top, run_id);
	if (norm == NULL) {
		smoke_fail("golden-xml", "out of memory");
		return;
	}
	if (golden_check(path, SMOKE_GOLDEN, norm, &regenerated, &cause) == -1)
		smoke_fail("golden-xml", "%s", wf_cause_str(cause));
	else
		smoke_ok(
		    regenerated ? "golden-xml (regenerated)" : "golden-xml");
	free(cause);
	free(norm);
}

static const char *
smoke_event_name(int event, int detail)
{
	static const char *stopped[] = { "stopped/shutdown",
		"stopped/destroyed", "stopped/crashed", "stopped/migrated",
		"stopped/saved", "stopped/failed", "stopped/from-snapshot" };

	switch (event) {
	case -1:
		return "no event";
	case VIR_DOMAIN_EVENT_STARTED:
		return "started";
	case VIR_DOMAIN_EVENT_STOPPED:
		if (detail >= 0 &&
		    detail < (int)(sizeof stopped / sizeof *stopped))
			return stopped[detail];
		return "stopped/unknown detail";
	default:
		return "another event";
	}
}

static int
smoke_on_lifecycle(
    virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	struct smoke_run *run = opaque;
	const char *name = virDomainGetName(dom);

	if (name == NULL || strcmp(name, run->name) != 0)
		return 0;
	run->event = event;
	run->detail = detail;
	if (event == VIR_DOMAIN_EVENT_STARTED)
		run->started = 1;
	if (event == VIR_DOMAIN_EVENT_STOPPED) {
		run->stopped = 1;
		run->t_stopped_us = wf_now_us();
	}
	return 0;
}

/* Wakes virEventRunDefaultImpl up regularly so the loop can see its deadline. */
static void
smoke_on_tick(int timer, void *opaque)
{
}

/* libvirt prints every error by default; we report each once, where it matters. */
static void
smoke_on_error(void *opaque, virErrorPtr err)
{
}

/* Starts the domain, waits for its end; 0 when it ended by itself in time. */
static int
smoke_run_domain(
    const char *uri, const char *xml, struct smoke_run *run, int timeout_s)
{
	virConnectPtr conn = NULL;
	virDomainPtr dom = NULL;
	int cb = -1, tick = -1, rc = -1;
	int64_t t0, t_created, deadline;

	if (virEventRegisterDefaultImpl() == -1) {
		smoke_fail("domain-created", "expected an event loop, got: %s",
		    virGetLastErrorMessage());
		return -1;
	}
	conn = virConnectOpen(uri);
	if (conn == NULL) {
		smoke_fail("domain-created",
		    "expected a connection to %s, "
		    "got: %s (did lib/sh/deps.sh run?)",
		    uri, virGetLastErrorMessage());
		return -1;
	}
	/* Before creating: a guest this small may end before a later registration. */
	cb = virConnectDomainEventRegisterAny(conn, NULL,
	    VIR_DOMAIN_EVENT_ID_LIFECYCLE,
	    VIR_DOMAIN_EVENT_CALLBACK(smoke_on_lifecycle), run, NULL);
	tick = virEventAddTimeout(100, smoke_on_tick, NULL, NULL);
	if (cb == -1 || tick == -1) {
		smoke_fail("domain-created",
		    "expected event registration, got: %s",
		    virGetLastErrorMessage());
		goto out;
	}
	t0 = wf_now_us();
	/* AUTODESTROY: if this program dies, libvirt destroys the guest with the connection. */
	dom = virDomainCreateXML(conn, xml, VIR_DOMAIN_START_AUTODESTROY);
	t_created = wf_now_us();
	if (dom == NULL) {
		smoke_fail("domain-created",
		    "expected a running domain, got: %s",
		    virGetLastErrorMessage());
		goto out;
	}
	smoke_ok("domain-created");
	deadline = wf_now_ms() + (int64_t)timeout_s * 1000;
	while (!run->stopped && wf_now_ms() < deadline) {
		if (virEventRunDefaultImpl() == -1)
			break;
	}
	if (!run->stopped) {
		virDomainDestroy(dom);
		smoke_fail("domain-ended",
		    "expected the guest to end within %d s, "
		    "got %s (destroyed it)",
		    timeout_s,
		    run->started ? "a guest still running" :
		                   "no STARTED event");
		goto out;
	}
	smoke_ok("domain-ended");
	printf("# smoke domain: virDomainCreateXML %.3f s, start to STOPPED "
	       "event %.3f s, ended as %s\n",
	    (double)(t_created - t0) / 1e6,
	    (double)(run->t_stopped_us - t0) / 1e6,
	    smoke_event_name(run->event, run->detail));
	rc = 0;
out:
	if (tick != -1)
		virEventRemoveTimeout(tick);
	if (cb != -1)
		virConnectDomainEventDeregisterAny(conn, cb);
	if (dom != NULL)
		virDomainFree(dom);
	virConnectClose(conn);
	return rc;
}

static void
smoke_usage(void)
{
	fprintf(
	    stderr, "usage: libvirt-smoke [--uri URI] [--timeout SECONDS]\n");
	exit(2);
}

/* The smoke guest's domain: one CPU, 32 MiB, one fw_cfg file. */
static char *
smoke_domxml(const char *name, const char *kernel, const char *cfg,
    const char *com1, const char *com2, char **cause)
{
	struct domxml_fw_cfg fw_cfg[1] = { { "opt/wakefarm/smoke", cfg } };
	struct domxml_spec spec;

	memset(&spec, 0, sizeof spec);
	spec.name = name;
	spec.memory_mib = 32;
	spec.vcpus = 1;
	spec.virt = DOMXML_VIRT_QEMU;
	spec.kernel = kernel;
	spec.serial0 = com1;
	spec.serial1 = com2;
	spec.fw_cfg = fw_cfg;
	spec.n_fw_cfg = 1;
	return domxml_build(&spec, cause);
}

/* How the domain ended, as libvirt reported it. */
static void
smoke_check_end(const struct smoke_run *run)
{
	/*
	 * isa-debug-exit makes QEMU exit(3) at once, with no SHUTDOWN
	 * event on its monitor: libvirt sees the monitor close and
	 * reports STOPPED/FAILED (its log: "shutting down,
	 * reason=crashed"). It never learns QEMU's exit status
	 * ((0x31 << 1) | 1 = 99 here), so what we can observe is this
	 * event plus the guest's complete output. Measured with this
	 * guest changed: a triple fault ends as STOPPED/SHUTDOWN (log:
	 * "reason=shutdown"), a guest that halts hits the timeout.
	 */
	if (run->event == VIR_DOMAIN_EVENT_STOPPED &&
	    run->detail == VIR_DOMAIN_EVENT_STOPPED_FAILED)
		smoke_ok("ended-by-debug-exit");
	else
		smoke_fail("ended-by-debug-exit",
		    "expected STOPPED/failed "
		    "(QEMU exited by itself), got %s (event %d, detail %d)",
		    smoke_event_name(run->event, run->detail), run->event,
		    run->detail);
}

int
main(int argc, char **argv)
{
	struct smoke_run run = { .event = -1, .detail = -1 };
	const char *uri = "qemu:///system";
	char top[PATH_MAX], dir[PATH_MAX], kernel[PATH_MAX], cfg[PATH_MAX];
	char com1[PATH_MAX], com2[PATH_MAX], run_id[32], name[64];
	char cfg_text[64], expected_com2[160];
	char *xml = NULL, *cause = NULL, *got1 = NULL, *got2 = NULL;
	int timeout_s = 30, i, ran = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--uri") == 0 && i + 1 < argc)
			uri = argv[++i];
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			timeout_s = atoi(argv[++i]);
		else
			smoke_usage();
	}
	if (timeout_s <= 0)
		smoke_usage();
	if (getenv("WF_TOP") != NULL)
		wf_strlcpy(top, getenv("WF_TOP"), sizeof top);
	else if (getcwd(top, sizeof top) == NULL) {
		perror("libvirt-smoke: getcwd");
		return 1;
	}
	virSetErrorFunc(NULL, smoke_on_error);

	/* Per-run names: two checkouts or two runs on one host must not collide. */
	snprintf(run_id, sizeof run_id, "smoke-%ld", (long)getpid());
	snprintf(name, sizeof name, "wf-%s", run_id);
	smoke_path(dir, sizeof dir, top, SMOKE_RUN_DIR, "");
	smoke_path(kernel, sizeof kernel, top, SMOKE_KERNEL, "");
	smoke_path(cfg, sizeof cfg, dir, run_id, ".cfg");
	smoke_path(com1, sizeof com1, dir, run_id, ".com1");
	smoke_path(com2, sizeof com2, dir, run_id, ".com2");
	snprintf(cfg_text, sizeof cfg_text, "fw_cfg says %s\n", run_id);
	snprintf(
	    expected_com2, sizeof expected_com2, "%s%s", SMOKE_COM2, cfg_text);

	if (access(kernel, R_OK) == -1) {
		smoke_fail("guest-image", "expected %s, got %s (run make)",
		    kernel, strerror(errno));
		goto out;
	}
	/* 0755 whatever the umask: QEMU, as libvirt-qemu, must reach the cfg file. */
	if ((mkdir(dir, 0755) == -1 && errno != EEXIST) ||
	    chmod(dir, 0755) == -1 || smoke_write_file(cfg, cfg_text) == -1) {
		smoke_fail("guest-config", "expected to write %s, got %s", cfg,
		    strerror(errno));
		goto out;
	}

	xml = smoke_domxml(name, kernel, cfg, com1, com2, &cause);
	if (xml == NULL) {
		smoke_fail("domxml-build", "expected XML, got: %s",
		    wf_cause_str(cause));
		goto out;
	}
	smoke_ok("domxml-build");
	run.name = name;
	smoke_check_golden(top, xml, run_id);

	if (smoke_run_domain(uri, xml, &run, timeout_s) == 0)
		ran = 1;
	if (ran)
		smoke_check_end(&run);
	/*
	 * libvirt 9 opens the serial files itself and hands QEMU the fds
	 * (-add-fd): QEMU's writes are in the files by the time it has exited,
	 * so they are read once, right after the STOPPED event.
	 */
	got1 = smoke_read_file(com1);
	smoke_expect_str("serial0", SMOKE_COM1, got1);
	got2 = smoke_read_file(com2);
	smoke_expect_str("serial1", expected_com2, got2);

out:
	if (smoke_failed == 0) {
		unlink(cfg);
		unlink(com1);
		unlink(com2);
	} else
		printf(
		    "# kept for inspection: %s/%s.{cfg,com1,com2}; libvirt's "
		    "log: /var/log/libvirt/qemu/%s.log\n",
		    dir, run_id, name);
	free(xml);
	free(cause);
	free(got1);
	free(got2);
	printf("%d passed, %d failed\n", smoke_passed, smoke_failed);
	return smoke_failed > 0 ? 1 : 0;
}
