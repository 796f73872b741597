/*
 * wakefarm-run-qemu (guest/run-qemu): run one guest under bare QEMU.
 *
 * The runner contract of the guest issue: build nothing, run QEMU with TCG
 * (or KVM), write every report record to --records, exit 0 when the guest
 * completed, 3 on a watchdog timeout (hang), 4 when the guest reported an
 * error or ended without completing, 5 when QEMU failed, 2 on a usage error.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flags.h"
#include "invariants.h"
#include "libvirt_run.h"
#include "lvreap.h"
#include "qemu.h"
#include "records.h"
#include "runspec.h"
#include "util.h"

enum {
	OPT_CPUS = WF_FLAG_LONG,
	OPT_VERSION_MB,
	OPT_STEPS,
	OPT_QUIRK,
	OPT_POLICY,
	OPT_MEMORY,
	OPT_TIMEOUT,
	OPT_RECORDS,
	OPT_LOG,
	OPT_ACCEL,
	OPT_KDUMP,
	OPT_FIRMWARE,
	OPT_TKERNEL,
	OPT_CHECK,
	OPT_QEMU,
	OPT_LIBVIRT,
	OPT_KERNEL,
	OPT_INITRD,
	OPT_APPEND,
	OPT_REPORTER,
	OPT_LOG_CAP,
};

static const struct wf_flag run_flags[] = {
	{ "cpus", OPT_CPUS, "N", "CPUs in the guest (1-64)", 1 },
	{ "mailbox-version", OPT_VERSION_MB, "0|1",
	    "MADT mailbox version the firmware publishes", 1 },
	{ "steps", OPT_STEPS, "LIST",
	    "kexec[*K], kexec:pre-6.11, cycle*K, offline:APIC, online:APIC, crash@CPU",
	    0 },
	{ "quirk", OPT_QUIRK, "Q",
	    "firmware quirk (repeatable): v1-short-entry, no-test-ack, clear-vector, stale-checksum, slow-ack=MS, "
	    "test-is-sleep, reset-vector-zero, poll-stall=APIC:MS; the old shim's defects: "
	    "wakeup-no-nxe, reset-on-os-stack, poll-early-command, keep-irq-state",
	    0 },
	{ "policy", OPT_POLICY, "6.11|pre-6.11",
	    "which Linux behaviour the test kernel reproduces (default 6.11)",
	    0 },
	{ "memory", OPT_MEMORY, "MB",
	    "guest RAM (default 32; 512 with --kernel)", 0 },
	{ "timeout", OPT_TIMEOUT, "S", "watchdog in seconds (default 60)", 0 },
	{ "kdump-cpus", OPT_KDUMP, "N",
	    "CPU limit of the kdump kernel (default: none)", 0 },
	{ "records", OPT_RECORDS, "FILE", "where to write the report records",
	    1 },
	{ "log", OPT_LOG, "FILE", "where to write the guest's human log (COM1)",
	    0 },
	{ "log-cap", OPT_LOG_CAP, "BYTES",
	    "keep at most this much of it, then a truncation line"
	    " (default 64 MiB)",
	    0 },
	{ "accel", OPT_ACCEL, "tcg|kvm", "accelerator (default tcg)", 0 },
	{ "firmware", OPT_FIRMWARE, "PATH",
	    "firmware shim image (default build/guest/firmware.elf)", 0 },
	{ "test-kernel", OPT_TKERNEL, "PATH",
	    "test kernel image (default build/guest/kernel.elf)", 0 },
	{ "kernel", OPT_KERNEL, "BZIMAGE",
	    "boot this Linux kernel instead of the test kernel, with the reporter as /init",
	    0 },
	{ "initrd", OPT_INITRD, "FILE",
	    "with --kernel: an initrd unpacked before the reporter's", 0 },
	{ "append", OPT_APPEND, "ARGS",
	    "with --kernel: extra kernel command line; else KEY=VALUE options for the test kernel",
	    0 },
	{ "reporter", OPT_REPORTER, "PATH",
	    "the reporter /init (default build/guest/linux-init)", 0 },
	{ "qemu", OPT_QEMU, "PATH", "QEMU binary (default qemu-system-x86_64)",
	    0 },
	{ "libvirt", OPT_LIBVIRT, "URI",
	    "run through libvirt (a transient domain) instead of bare QEMU",
	    0 },
	{ "check", OPT_CHECK, NULL,
	    "evaluate the default invariants and print the verdict", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd run_cmd = {
	"run-qemu",
	NULL,
	"Run one wakefarm guest under bare QEMU (or libvirt) and write its report records.\n"
	"The OS is our test kernel, or with --kernel a Linux bzImage (console on COM1,\n"
	"records from the reporter /init on COM2; see guest/LINUX.md).\n"
	"Exit status: 0 completed, 3 hang (watchdog), 4 guest error or crash, 5 QEMU failure, 2 usage.",
	run_flags,
	NULL,
};

/* build/guest/NAME of the tree whose bin/ holds this program. */
static char *
default_image(const char *name)
{
	char *path = NULL;

	if (asprintf(&path, "%s/build/guest/%s", wf_tree_top(), name) < 0)
		return NULL;
	return path;
}

static void
print_checks(const json_t *ev)
{
	const json_t *c;
	size_t i;

	json_array_foreach (json_object_get(ev, "checks"), i, c) {
		char *exp = json_dumps(json_object_get(c, "expected"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		char *obs = json_dumps(json_object_get(c, "observed"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		json_int_t gen = json_integer_value(json_object_get(c, "gen"));
		char where[16] = "";

		if (gen)
			snprintf(
			    where, sizeof(where), "gen %lld", (long long)gen);
		printf("%-4s %-22s %-7s expected %s, observed %s\n",
		    json_is_true(json_object_get(c, "ok")) ? "ok" : "FAIL",
		    json_string_value(json_object_get(c, "check")), where, exp,
		    obs);
		free(exp);
		free(obs);
	}
	printf("verdict: %s%s%s\n",
	    json_string_value(json_object_get(ev, "verdict")),
	    *json_string_value(json_object_get(ev, "reason")) ? ": " : "",
	    json_string_value(json_object_get(ev, "reason")));
}

/* What the command line asks for. */
struct run_args {
	struct runspec rs;
	struct run_opts o;
	const char *libvirt_uri;
	int check, memory_set;
};

static void
parse_option(struct wf_flags *f, int id, const char *arg, struct run_args *ra)
{
	struct runspec *rs = &ra->rs;
	struct run_opts *o = &ra->o;

	switch (id) {
	case OPT_CPUS:
		rs->cpus = wf_flags_int(f, "--cpus", arg, 1, RUNSPEC_MAX_CPUS);
		break;
	case OPT_VERSION_MB:
		rs->mailbox_version = wf_flags_int(
		    f, "--mailbox-version", arg, 0, 1);
		break;
	case OPT_STEPS:
		if (wf_strlcpy(rs->steps, arg, sizeof(rs->steps)) >=
		    sizeof(rs->steps))
			wf_flags_usage_error(f,
			    "--steps: longer than %zu characters",
			    sizeof(rs->steps) - 1);
		break;
	case OPT_QUIRK:
		if (strlen(rs->quirks) + strlen(arg) + 2 > sizeof(rs->quirks))
			wf_flags_usage_error(f, "--quirk: too many quirks");
		if (rs->quirks[0])
			strcat(rs->quirks, ",");
		strcat(rs->quirks, arg);
		break;
	case OPT_POLICY: {
		static const char *const p[] = { "6.11", "pre-6.11", NULL };

		wf_strlcpy(rs->policy,
		    p[wf_flags_choice(f, "--policy", arg, p)],
		    sizeof(rs->policy));
		break;
	}
	case OPT_MEMORY:
		rs->memory_mb = wf_flags_int(f, "--memory", arg, 32, 16384);
		ra->memory_set = 1;
		break;
	case OPT_KERNEL:
	case OPT_INITRD:
	case OPT_APPEND: {
		char *dst = id == OPT_KERNEL ? rs->kernel :
		    id == OPT_INITRD         ? rs->initrd :
		                               rs->append;
		size_t size = id == OPT_APPEND ? sizeof(rs->append) :
		                                 sizeof(rs->kernel);
		char abs[PATH_MAX];

		/* a run spec holds absolute paths; a relative one is taken from here */
		if (id != OPT_APPEND && arg[0] != '/' && realpath(arg, abs))
			arg = abs;

		if (wf_strlcpy(dst, arg, size) >= size)
			wf_flags_usage_error(f,
			    "%s: longer than %zu characters",
			    id == OPT_KERNEL     ? "--kernel" :
			        id == OPT_INITRD ? "--initrd" :
			                           "--append",
			    size - 1);
		break;
	}
	case OPT_REPORTER:
		o->reporter = arg;
		break;
	case OPT_TIMEOUT:
		rs->timeout_s = wf_flags_int(f, "--timeout", arg, 1, 86400);
		break;
	case OPT_KDUMP:
		rs->kdump_cpus = wf_flags_int(
		    f, "--kdump-cpus", arg, 0, RUNSPEC_MAX_CPUS);
		break;
	case OPT_RECORDS:
		o->records = arg;
		break;
	case OPT_LOG:
		o->log = arg;
		break;
	case OPT_LOG_CAP:
		o->log_cap = wf_flags_int(f, "--log-cap", arg, 1024, 1LL << 40);
		break;
	case OPT_ACCEL: {
		static const char *const a[] = { "tcg", "kvm", NULL };

		o->accel = a[wf_flags_choice(f, "--accel", arg, a)];
		break;
	}
	case OPT_FIRMWARE:
		o->firmware = arg;
		break;
	case OPT_TKERNEL:
		o->test_kernel = arg;
		break;
	case OPT_QEMU:
		o->qemu = arg;
		break;
	case OPT_CHECK:
		ra->check = 1;
		break;
	case OPT_LIBVIRT:
		ra->libvirt_uri = arg;
		break;
	}
}

/* The images a run needs, readable: 0, or -1 with the error printed. */
static int
check_images(const struct runspec *rs, const struct run_opts *o)
{
	if (rs->kernel[0] &&
	    (access(rs->kernel, R_OK) ||
	        (rs->initrd[0] && access(rs->initrd, R_OK)))) {
		fprintf(stderr, "run-qemu: cannot read %s\n",
		    access(rs->kernel, R_OK) ? rs->kernel : rs->initrd);
		return -1;
	}
	if (rs->kernel[0] && access(o->reporter, X_OK)) {
		fprintf(stderr,
		    "run-qemu: reporter %s not found: run make first\n",
		    o->reporter);
		return -1;
	}
	if (access(o->firmware, R_OK) || access(o->test_kernel, R_OK)) {
		fprintf(stderr,
		    "run-qemu: guest images not found (%s, %s): run make first\n",
		    o->firmware, o->test_kernel);
		return -1;
	}
	return 0;
}

/* How the run ended, on stderr; with --check, the verdict on stdout. */
static void
report(const struct run_args *ra, const struct run_result *res)
{
	fprintf(stderr, "run-qemu: %s after %.2f s, %d generation%s%s%s\n",
	    run_outcome_name(res->outcome), res->wall_s, res->generations,
	    res->generations == 1 ? "" : "s", res->detail[0] ? ": " : "",
	    res->detail);
	if (res->t_create_s > 0)
		fprintf(stderr,
		    "run-qemu: libvirt phases: prepared %.3f, created %.3f, resumed %.3f,"
		    " ended %.3f, done %.3f s\n",
		    res->t_prepare_s, res->t_create_s, res->t_resume_s,
		    res->t_end_s, res->wall_s);
	if (res->dropped)
		fprintf(stderr,
		    "run-qemu: warning: %lu guest output line(s) broke the record contract\n",
		    res->dropped);
	if (ra->check) {
		struct records_reader st;
		char *cause = NULL;
		json_t *recs = records_load_file(ra->o.records, &st, &cause),
		       *ev;

		if (recs) {
			ev = invariants_evaluate(&ra->rs, recs);
			print_checks(ev);
			json_decref(ev);
			json_decref(recs);
		}
		free(cause);
	}
}

static void
reaped(void *arg, const char *name, long long job, long long attempt,
    int destroyed, const char *err)
{
	fprintf(stderr,
	    "run-qemu: domain %s, left behind by a runner that is"
	    " gone, %s%s\n",
	    name, destroyed ? "destroyed" : "could not be destroyed: ",
	    destroyed ? "" : err);
}

/* Leftovers of dead runners first (lvreap.h). */
static void
reap(const char *uri)
{
	char *cause = NULL;

	if (lvreap(uri, NULL, reaped, NULL, &cause) < 0)
		fprintf(stderr, "run-qemu: %s\n", wf_cause_str(cause));
	free(cause);
}

int
main(int argc, char **argv)
{
	struct run_args ra = { .o = { 0 } };
	struct runspec *rs = &ra.rs;
	struct run_opts *o = &ra.o;
	struct run_result res;
	struct wf_flags f;
	const char *arg;
	char *cause = NULL, *fw = NULL, *tk = NULL, *rp = NULL;
	int id, rc;

	runspec_init(rs);
	wf_flags_begin(&f, &run_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1)
		parse_option(&f, id, arg, &ra);
	wf_flags_args(&f, 0, 0, &id);
	if (rs->kernel[0] && !ra.memory_set)
		rs->memory_mb = RUNSPEC_LINUX_MB;
	if (runspec_validate(rs, &cause) < 0)
		wf_flags_usage_error(&f, "%s", wf_cause_str(cause));
	if (!o->firmware)
		o->firmware = fw = default_image("firmware.elf");
	if (!o->test_kernel)
		o->test_kernel = tk = default_image("kernel.elf");
	if (!o->reporter)
		o->reporter = rp = default_image("linux-init");
	if (check_images(rs, o) < 0)
		return 5;
	if (ra.libvirt_uri) {
		char name[64];
		struct libvirt_opts lo = { .uri = ra.libvirt_uri,
			.domain = name };

		snprintf(
		    name, sizeof(name), "wakefarm-run-qemu-%d", (int)getpid());
		reap(ra.libvirt_uri);
		rc = libvirt_run(rs, o, &lo, &res);
		if (res.leftover[0])
			fprintf(stderr,
			    "run-qemu: domain %s could not be destroyed (the"
			    " next run here destroys it)\n",
			    res.leftover);
	} else {
		rc = qemu_run(rs, o, &res);
	}
	if (rc < 0) {
		fprintf(stderr, "run-qemu: %s\n", res.detail);
		return 5;
	}
	report(&ra, &res);
	free(fw);
	free(tk);
	free(rp);
	return run_outcome_exit(res.outcome);
}
