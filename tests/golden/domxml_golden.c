/*
 * domxml_golden.c: the domain XML of each kind of job, pinned by golden
 * files and checked by libvirt; run by tests/golden/run (it starts no guest).
 *
 * For each kind (our test kernel under TCG, the same under KVM, a Linux
 * guest) the agent's own builder, libvirt_run_domxml(), makes the XML from
 * fixed inputs: a run spec, the agent's options and a scratch directory
 * made as a run makes it. With the checkout's path as @TOP@ and the scratch
 * directory's random part as @RUN@, the XML must equal
 * tests/golden/domxml/KIND-domain.xml (REGENERATE=1 rewrites the files). Then
 * libvirt must take it:
 *
 *   KIND-schema     defined with schema validation on the test driver
 *                   (test:///default, inside this process: no libvirtd)
 *   KIND-qemu-argv  turned into a QEMU command line by the QEMU driver of
 *                   libvirtd (virConnectDomainXMLToNative), which must carry
 *                   the accelerator and every fw_cfg entry; left out, with a
 *                   '#' line saying so, when libvirtd does not answer (and
 *                   for KVM when the host has no /dev/kvm)
 *
 * Nothing is started.
 *
 *   bin/tests/domxml-golden [--uri URI]     (QEMU driver, default qemu:///system)
 *
 * Run from the top of the checkout (or set WF_TOP). Prints "ok NAME" /
 * "FAIL NAME: ..." per check and ends with "N passed, N failed"; exit
 * status 1 on any failure.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "libvirt_run.h"
#include "runner.h"
#include "golden.h"
#include "runspec.h"
#include "util.h"

#define GX_SCRATCH_PARENT "build/tests/golden"
#define GX_FIRMWARE "build/guest/firmware.elf"
#define GX_TEST_KERNEL "build/guest/kernel.elf"
/* Where the agent unpacks a kernel package (lib/sh/fetch-kernel.sh); never opened here. */
#define GX_LINUX_KERNEL "build/kernels/linux-image-cloud-amd64/boot/vmlinuz"

/* One kind of job: what the agent would be given for it. */
struct gx_kind {
	const char *kind; /* golden file tests/golden/domxml/KIND-domain.xml */
	const char
	    *domain; /* wakefarm-AGENT-JOB-ATTEMPT, as agent/job.c names it */
	const char *accel;
	int cpus;
	int memory_mb;
	int linux_guest; /* a bzImage instead of our test kernel */
};

static const struct gx_kind gx_kinds[] = {
	{ "tcg", "wakefarm-golden-1-1", "tcg", 4, 32, 0 },
	{ "kvm", "wakefarm-golden-2-1", "kvm", 4, 32, 0 },
	{ "linux", "wakefarm-golden-3-1", "tcg", 2, RUNSPEC_LINUX_MB, 1 },
};

static int gx_passed, gx_failed;

static void
gx_ok(const char *kind, const char *check)
{
	printf("ok %s-%s\n", kind, check);
	gx_passed++;
}

static void gx_fail(const char *kind, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
gx_fail(const char *kind, const char *check, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s-%s: ", kind, check);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	gx_failed++;
}

/* libvirt's last error on one line: its schema errors span several. */
static const char *
gx_lv_error(void)
{
	static char msg[1024];
	const char *p = virGetLastErrorMessage();
	size_t n = 0;

	for (; *p != '\0' && n + 3 < sizeof msg; p++) {
		if (*p != '\n')
			msg[n++] = *p;
		else if (p[1] != '\0' && p[1] != '\n') {
			msg[n++] = ';';
			msg[n++] = ' ';
		}
	}
	msg[n] = '\0';
	return msg;
}

/* out = a/b; a checkout path too long for that ends the program. */
static void
gx_path(char *out, size_t size, const char *a, const char *b)
{
	if ((size_t)snprintf(out, size, "%s/%s", a, b) >= size) {
		fprintf(stderr, "domxml-golden: path too long: %s/%s\n", a, b);
		exit(1);
	}
}

/* The XML with the scratch directory's name as wakefarm-qemu.@RUN@ and the checkout as @TOP@. */
static char *
gx_normalise(const char *xml, const char *top, const struct run_scratch *s)
{
	const char *base = strrchr(s->dir, '/');
	char *a, *b;

	a = golden_replace(
	    xml, base != NULL ? base + 1 : s->dir, "wakefarm-qemu.@RUN@");
	if (a == NULL)
		return NULL;
	b = golden_replace(a, top, "@TOP@");
	free(a);
	return b;
}

static void
gx_check_golden(const struct gx_kind *k, const char *top, const char *xml,
    const struct run_scratch *s)
{
	char name[64], path[PATH_MAX], *norm, *cause = NULL;
	int regenerated;

	snprintf(
	    name, sizeof name, "tests/golden/domxml/%s-domain.xml", k->kind);
	gx_path(path, sizeof path, top, name);
	norm = gx_normalise(xml, top, s);
	if (norm == NULL) {
		gx_fail(k->kind, "golden", "out of memory");
		return;
	}
	if (golden_check(path, name, norm, &regenerated, &cause) == -1)
		gx_fail(k->kind, "golden", "%s", wf_cause_str(cause));
	else
		gx_ok(k->kind, regenerated ? "golden (regenerated)" : "golden");
	free(cause);
	free(norm);
}

/* libvirt's schema and its generic parser: define on the test driver, then undefine. */
static void
gx_check_schema(const struct gx_kind *k, virConnectPtr test, const char *xml)
{
	virDomainPtr dom;

	if (test == NULL) {
		gx_fail(k->kind, "schema",
		    "expected a test:///default connection, "
		    "got: %s",
		    gx_lv_error());
		return;
	}
	dom = virDomainDefineXMLFlags(test, xml, VIR_DOMAIN_DEFINE_VALIDATE);
	if (dom == NULL) {
		gx_fail(k->kind, "schema",
		    "expected libvirt to accept the XML, "
		    "got: %s",
		    gx_lv_error());
		return;
	}
	virDomainUndefine(dom);
	virDomainFree(dom);
	gx_ok(k->kind, "schema");
}

/* Does argv contain the two words a b next to each other? */
static int
gx_has_args(const char *argv, const char *a, const char *b)
{
	char want[PATH_MAX + 128];
	const char *p;
	size_t n;

	n = (size_t)snprintf(want, sizeof want, " %s %s", a, b);
	if (n >= sizeof want)
		return 0;
	for (p = argv; (p = strstr(p, want)) != NULL; p++) {
		if (p[n] == ' ' || p[n] == '\0' || p[n] == '\n')
			return 1;
	}
	return 0;
}

/* The QEMU driver's own parse and validation: the command line libvirtd would run. */
static void
gx_check_argv(const struct gx_kind *k, virConnectPtr qemu, const char *xml,
    const char *kernel, const struct run_scratch *s)
{
	const char *names[] = { "kernel", "config", "initrd", "cmdline" };
	const char *paths[] = { kernel, s->config, s->initrd, s->cmdline };
	char entry[PATH_MAX + 64], *argv;
	size_t i, n = k->linux_guest ? 4 : 2;

	argv = virConnectDomainXMLToNative(qemu, "qemu-argv", xml, 0);
	if (argv == NULL) {
		gx_fail(k->kind, "qemu-argv",
		    "expected a QEMU command line, got: %s", gx_lv_error());
		return;
	}
	if (!gx_has_args(argv, "-accel", k->accel)) {
		gx_fail(k->kind, "qemu-argv", "expected '-accel %s', got: %s",
		    k->accel, argv);
		goto out;
	}
	for (i = 0; i < n; i++) {
		snprintf(entry, sizeof entry, "name=opt/wakefarm/%s,file=%s",
		    names[i], paths[i]);
		if (!gx_has_args(argv, "-fw_cfg", entry)) {
			gx_fail(k->kind, "qemu-argv",
			    "expected '-fw_cfg %s', got: %s", entry, argv);
			goto out;
		}
	}
	gx_ok(k->kind, "qemu-argv");
out:
	free(argv);
}

static void
gx_run_kind(const struct gx_kind *k, const char *top, virConnectPtr test,
    virConnectPtr qemu)
{
	struct runspec rs;
	struct run_opts o;
	struct libvirt_opts lo;
	struct run_scratch s;
	char parent[PATH_MAX], firmware[PATH_MAX], kernel[PATH_MAX];
	char *xml, *cause = NULL;

	gx_path(parent, sizeof parent, top, GX_SCRATCH_PARENT);
	gx_path(firmware, sizeof firmware, top, GX_FIRMWARE);
	gx_path(kernel, sizeof kernel, top,
	    k->linux_guest ? GX_LINUX_KERNEL : GX_TEST_KERNEL);
	runspec_init(&rs);
	rs.cpus = k->cpus;
	rs.memory_mb = k->memory_mb;
	if (k->linux_guest)
		wf_strlcpy(rs.kernel, kernel, sizeof rs.kernel);
	memset(&o, 0, sizeof o);
	o.firmware = firmware;
	o.test_kernel = k->linux_guest ? NULL : kernel;
	o.accel = k->accel;
	memset(&lo, 0, sizeof lo);
	lo.domain = k->domain;

	if (run_scratch_make(&s, parent) == -1) {
		gx_fail(k->kind, "golden",
		    "expected a scratch directory in %s, "
		    "got: %s",
		    parent, strerror(errno));
		return;
	}
	xml = libvirt_run_domxml(&rs, &o, &lo, firmware, kernel, &s, &cause);
	if (xml == NULL) {
		gx_fail(k->kind, "golden", "expected XML, got: %s",
		    wf_cause_str(cause));
		goto out;
	}
	gx_check_golden(k, top, xml, &s);
	gx_check_schema(k, test, xml);
	if (qemu != NULL &&
	    (strcmp(k->accel, "kvm") != 0 || access("/dev/kvm", F_OK) == 0))
		gx_check_argv(k, qemu, xml, kernel, &s);
	else if (qemu != NULL)
		printf("# %s-qemu-argv left out: no /dev/kvm on this host\n",
		    k->kind);
out:
	free(xml);
	free(cause);
	run_scratch_remove(&s);
}

/* libvirt prints every error by default; each is reported once, where it matters. */
static void
gx_on_error(void *opaque, virErrorPtr err)
{
}

static void
gx_usage(void)
{
	fprintf(stderr, "usage: domxml-golden [--uri URI]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *uri = "qemu:///system";
	char top[PATH_MAX], parent[PATH_MAX];
	virConnectPtr test, qemu;
	size_t i;
	int j;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (j = 1; j < argc; j++) {
		if (strcmp(argv[j], "--uri") == 0 && j + 1 < argc)
			uri = argv[++j];
		else
			gx_usage();
	}
	if (getenv("WF_TOP") != NULL)
		wf_strlcpy(top, getenv("WF_TOP"), sizeof top);
	else if (getcwd(top, sizeof top) == NULL) {
		perror("domxml-golden: getcwd");
		return 1;
	}
	virSetErrorFunc(NULL, gx_on_error);
	gx_path(parent, sizeof parent, top, "build/tests");
	mkdir(parent, 0755);
	gx_path(parent, sizeof parent, top, GX_SCRATCH_PARENT);
	if (mkdir(parent, 0755) == -1 && errno != EEXIST) {
		fprintf(stderr, "domxml-golden: mkdir %s: %s\n", parent,
		    strerror(errno));
		return 1;
	}

	test = virConnectOpen("test:///default");
	qemu = virConnectOpen(uri);
	if (qemu == NULL)
		printf("# %s: %s: the qemu-argv checks are left out\n", uri,
		    gx_lv_error());
	for (i = 0; i < sizeof gx_kinds / sizeof gx_kinds[0]; i++)
		gx_run_kind(&gx_kinds[i], top, test, qemu);
	if (qemu != NULL)
		virConnectClose(qemu);
	if (test != NULL)
		virConnectClose(test);
	printf("%d passed, %d failed\n", gx_passed, gx_failed);
	return gx_failed > 0 ? 1 : 0;
}
