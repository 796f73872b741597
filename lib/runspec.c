/*
 * runspec.c: validating a run spec and writing the guest's configuration.
 * The step grammar is the one the test kernel parses (guest/kernel/steps.c);
 * a list that passes here never makes the guest report a bad step.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runspec.h"
#include "util.h"

/* The firmware's quirks (guest/firmware/fw.h); slow-ack=MS and
 * poll-stall=APIC:MS take values. */
static const char *const quirk_names[] = {
	"v1-short-entry",
	"no-test-ack",
	"clear-vector",
	"stale-checksum",
	"test-is-sleep",
	"reset-vector-zero",
	"wakeup-no-nxe",
	"reset-on-os-stack",
	"poll-early-command",
	"keep-irq-state",
	NULL,
};
#define QUIRKS_KNOWN                                                           \
	"v1-short-entry, no-test-ack, clear-vector, stale-checksum, "          \
	"test-is-sleep, reset-vector-zero, wakeup-no-nxe, reset-on-os-stack, " \
	"poll-early-command, keep-irq-state, slow-ack=MS, poll-stall=APIC:MS"

/* Every key guest_config() writes: an append for the test kernel may not
 * set one.  The guest takes a key's first occurrence, so the scenario's
 * value would be dropped without a word. */
static const char *const config_keys[] = {
	"mailbox_version",
	"policy",
	"kdump_cpus",
	"quirks",
	"steps",
	"idle",
	NULL,
};

void
runspec_init(struct runspec *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->cpus = 1;
	rs->mailbox_version = 1;
	strcpy(rs->policy, "6.11");
	rs->memory_mb = 32;
	rs->timeout_s = 60;
}

/* A decimal number of at most 4 digits filling [s, s + n). */
static int
small_number(const char *s, size_t n, long *out)
{
	char buf[8];

	if (n == 0 || n > 4)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	*out = strtol(buf, NULL, 10);
	return 0;
}

/* One step item: NAME[:ARG|@ARG][*K]; see guest/kernel/steps.c. */
static int
check_item(const char *item, size_t len, int index, char **cause)
{
	const char *star = memchr(item, '*', len);
	size_t base = star ? (size_t)(star - item) : len;
	long n;

	if (star &&
	    (small_number(star + 1, len - base - 1, &n) < 0 || n < 1 ||
	        n > 1000)) {
		wf_set_cause(cause,
		    "step %d '%.*s': the repeat count after '*' must be 1 to 1000",
		    index + 1, (int)len, item);
		return -1;
	}
	if ((base == 5 && !strncmp(item, "kexec", 5)) ||
	    (base == 5 && !strncmp(item, "cycle", 5)))
		return 0;
	if ((base == 14 && !strncmp(item, "kexec:pre-6.11", 14)) ||
	    (base == 10 && !strncmp(item, "kexec:6.11", 10)))
		return 0;
	if (base > 8 && !strncmp(item, "offline:", 8) &&
	    small_number(item + 8, base - 8, &n) == 0 && n < RUNSPEC_MAX_CPUS)
		return 0;
	if (base > 7 && !strncmp(item, "online:", 7) &&
	    small_number(item + 7, base - 7, &n) == 0 && n < RUNSPEC_MAX_CPUS)
		return 0;
	if (base > 6 && !strncmp(item, "crash@", 6) &&
	    small_number(item + 6, base - 6, &n) == 0 && n < RUNSPEC_MAX_CPUS &&
	    !star)
		return 0;
	if (((base > 6 && !strncmp(item, "flood:", 6)) ||
	        (base > 5 && !strncmp(item, "junk:", 5))) &&
	    small_number(strchr(item, ':') + 1,
	        base - (size_t)(strchr(item, ':') + 1 - item), &n) == 0 &&
	    n >= 1 && n <= RUNSPEC_FLOOD_MAX_MIB)
		return 0;
	wf_set_cause(cause,
	    "step %d '%.*s': expected kexec[:6.11|:pre-6.11], cycle, "
	    "offline:APIC, online:APIC, crash@CPU, flood:MIB or junk:MIB (1-%d),"
	    " optionally *K",
	    index + 1, (int)len, item, RUNSPEC_FLOOD_MAX_MIB);
	return -1;
}

int
runspec_check_steps(const char *steps, char **cause)
{
	const char *p = steps;
	int index = 0;

	if (strlen(steps) >= RUNSPEC_STEPS_MAX) {
		wf_set_cause(cause, "steps: longer than %d characters",
		    RUNSPEC_STEPS_MAX - 1);
		return -1;
	}
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (check_item(p, n, index++, cause) < 0)
			return -1;
		p += n;
		if (e && !*++p) {
			wf_set_cause(cause, "steps: trailing comma");
			return -1;
		}
	}
	return 0;
}

/* poll-stall=APIC:MS, its value part: an APIC ID below 64, then MS. */
static int
poll_stall_value(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	long apic, ms;

	return colon && small_number(s, colon - s, &apic) == 0 && apic < 64 &&
	        small_number(colon + 1, n - (colon + 1 - s), &ms) == 0 ?
	    0 :
	    -1;
}

int
runspec_check_quirks(const char *quirks, char **cause)
{
	const char *p = quirks;

	if (strlen(quirks) >= RUNSPEC_QUIRKS_MAX) {
		wf_set_cause(cause, "quirks: longer than %d characters",
		    RUNSPEC_QUIRKS_MAX - 1);
		return -1;
	}
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		long ms;
		int ok = 0;

		for (int i = 0; quirk_names[i]; i++)
			if (n == strlen(quirk_names[i]) &&
			    !strncmp(p, quirk_names[i], n))
				ok = 1;
		if (n > 9 && !strncmp(p, "slow-ack=", 9) &&
		    small_number(p + 9, n - 9, &ms) == 0)
			ok = 1;
		if (n > 11 && !strncmp(p, "poll-stall=", 11) &&
		    poll_stall_value(p + 11, n - 11) == 0)
			ok = 1;
		if (!ok) {
			wf_set_cause(cause,
			    "quirks: unknown quirk '%.*s' (known: " QUIRKS_KNOWN
			    ")",
			    (int)n, p);
			return -1;
		}
		p += n + (e ? 1 : 0);
	}
	return 0;
}

int
runspec_check_path(const char *field, const char *path, char **cause)
{
	if (!path[0])
		return 0;
	if (path[0] != '/') {
		wf_set_cause(
		    cause, "%s: '%s' is not an absolute path", field, path);
		return -1;
	}
	for (const char *p = path; *p; p++)
		if (*p == ',' || *p < 0x20 || *p > 0x7e) {
			wf_set_cause(cause,
			    "%s: a comma or a byte outside printable ASCII at offset %d",
			    field, (int)(p - path));
			return -1;
		}
	return 0;
}

/* A Linux kernel or initrd: an absolute path, or "sha256:HEX", a blob
 * the runner fetches from the controller (a kernel users added). */
static int
check_os_file(const char *field, const char *v, char **cause)
{
	if (strncmp(v, RUNSPEC_BLOB_PREFIX, strlen(RUNSPEC_BLOB_PREFIX)) != 0)
		return runspec_check_path(field, v, cause);
	if (runspec_blob_digest(v) == NULL) {
		wf_set_cause(cause,
		    "%s: '%.80s' is not sha256: and 64 lowercase hex digits",
		    field, v);
		return -1;
	}
	return 0;
}

int
runspec_check_package(const char *name, char **cause)
{
	size_t n = strlen(name);

	if (n < 2 || n >= RUNSPEC_PACKAGE_MAX ||
	    !(islower((unsigned char)name[0]) ||
	        isdigit((unsigned char)name[0])) ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789+.-") != n) {
		wf_set_cause(cause,
		    "kernel: '%.80s' is neither an absolute path nor a Debian package name "
		    "([a-z0-9][a-z0-9+.-]+, at most %d characters)",
		    name, RUNSPEC_PACKAGE_MAX - 1);
		return -1;
	}
	return 0;
}

const char *
runspec_blob_digest(const char *ref)
{
	size_t n = strlen(RUNSPEC_BLOB_PREFIX);
	const char *hex = ref + n;

	if (strncmp(ref, RUNSPEC_BLOB_PREFIX, n) != 0 || strlen(hex) != 64 ||
	    strspn(hex, "0123456789abcdef") != 64)
		return NULL;
	return hex;
}

static bool
config_key(const char *key, size_t n)
{
	for (int i = 0; config_keys[i]; i++)
		if (n == strlen(config_keys[i]) &&
		    !strncmp(key, config_keys[i], n))
			return true;
	return false;
}

/*
 * append: printable ASCII for any OS.  For Linux it is command line text;
 * for the test kernel it is KEY=VALUE options added to the configuration
 * line, which must not set what the runner sets and must still fit the
 * guest's buffer.
 */
static int
check_append(const struct runspec *rs, char **cause)
{
	const char *p = rs->append;
	char *line;
	size_t len;

	for (size_t i = 0; rs->append[i]; i++)
		if ((unsigned char)rs->append[i] < 0x20 ||
		    (unsigned char)rs->append[i] > 0x7e) {
			wf_set_cause(cause,
			    "append: a byte outside printable ASCII at offset %zu",
			    i);
			return -1;
		}
	if (RUNSPEC_IS_LINUX(rs))
		return 0;
	while (*p) {
		size_t n = strcspn(p, " ");
		const char *eq = memchr(p, '=', n);

		if (n && (!eq || eq == p)) {
			wf_set_cause(cause,
			    "append: '%.*s' is not KEY=VALUE (options for the test kernel)",
			    (int)n, p);
			return -1;
		}
		if (n && config_key(p, eq - p)) {
			wf_set_cause(cause,
			    "append: '%.*s': the runner sets %.*s itself",
			    (int)n, p, (int)(eq - p), p);
			return -1;
		}
		p += n + (p[n] == ' ');
	}
	/* the longest form the runners write: with idle=halt or idle=spin */
	line = runspec_guest_config_idle(rs, "halt");
	len = line ? strlen(line) : SIZE_MAX;
	free(line);
	if (len > RUNSPEC_GUEST_CONFIG_MAX) {
		wf_set_cause(cause,
		    "append: the guest configuration line would be %zu characters, at most %d",
		    len, RUNSPEC_GUEST_CONFIG_MAX);
		return -1;
	}
	return 0;
}

/* The OS fields: paths, the package name, what needs a Linux kernel. */
static int
validate_linux(const struct runspec *rs, char **cause)
{
	if (check_os_file("kernel", rs->kernel, cause) < 0 ||
	    check_os_file("initrd", rs->initrd, cause) < 0)
		return -1;
	if (rs->test_kernel[0]) {
		if (RUNSPEC_IS_LINUX(rs)) {
			wf_set_cause(
			    cause, "test_kernel: not with a Linux kernel");
			return -1;
		}
		if (strncmp(rs->test_kernel, RUNSPEC_BLOB_PREFIX,
		        strlen(RUNSPEC_BLOB_PREFIX)) == 0) {
			if (!runspec_blob_digest(rs->test_kernel)) {
				wf_set_cause(cause,
				    "test_kernel: '%.80s' is not sha256: and 64 lowercase"
				    " hex digits",
				    rs->test_kernel);
				return -1;
			}
		} else if (runspec_check_path(
		               "test_kernel", rs->test_kernel, cause) < 0) {
			return -1;
		}
	}
	if (rs->kernel_package[0] &&
	    (rs->kernel[0] ||
	        runspec_check_package(rs->kernel_package, cause) < 0)) {
		if (rs->kernel[0])
			wf_set_cause(
			    cause, "kernel: both a path and a package");
		return -1;
	}
	if (!RUNSPEC_IS_LINUX(rs) && rs->initrd[0]) {
		wf_set_cause(cause, "initrd: only with a Linux kernel");
		return -1;
	}
	if (RUNSPEC_IS_LINUX(rs) &&
	    (strstr(rs->steps, "flood:") || strstr(rs->steps, "junk:"))) {
		wf_set_cause(cause,
		    "steps: flood and junk are steps of the test kernel, not of a Linux guest");
		return -1;
	}
	if (RUNSPEC_IS_LINUX(rs) && rs->memory_mb < RUNSPEC_LINUX_MIN_MB) {
		wf_set_cause(cause,
		    "memory: a Linux guest needs at least %d MiB",
		    RUNSPEC_LINUX_MIN_MB);
		return -1;
	}
	return 0;
}

int
runspec_validate(const struct runspec *rs, char **cause)
{
	if (rs->cpus < 1 || rs->cpus > RUNSPEC_MAX_CPUS) {
		wf_set_cause(cause, "cpus: %d is not in 1..%d", rs->cpus,
		    RUNSPEC_MAX_CPUS);
		return -1;
	}
	if (rs->mailbox_version != 0 && rs->mailbox_version != 1) {
		wf_set_cause(cause, "mailbox_version: %d is not 0 or 1",
		    rs->mailbox_version);
		return -1;
	}
	if (strcmp(rs->policy, "6.11") && strcmp(rs->policy, "pre-6.11")) {
		wf_set_cause(
		    cause, "policy: '%s' is not 6.11 or pre-6.11", rs->policy);
		return -1;
	}
	if (rs->memory_mb < 32 || rs->memory_mb > 16384) {
		wf_set_cause(
		    cause, "memory: %d MiB is not in 32..16384", rs->memory_mb);
		return -1;
	}
	if (rs->timeout_s < 1 || rs->timeout_s > 86400) {
		wf_set_cause(
		    cause, "timeout: %d s is not in 1..86400", rs->timeout_s);
		return -1;
	}
	if (rs->kdump_cpus < 0 || rs->kdump_cpus > RUNSPEC_MAX_CPUS) {
		wf_set_cause(cause, "kdump_cpus: %d is not in 0..%d",
		    rs->kdump_cpus, RUNSPEC_MAX_CPUS);
		return -1;
	}
	if (runspec_check_quirks(rs->quirks, cause) < 0)
		return -1;
	if (validate_linux(rs, cause) < 0 ||
	    runspec_check_steps(rs->steps, cause) < 0)
		return -1;
	return check_append(rs, cause);
}

/* Keep config_keys in step with the keys written here. */
static char *
guest_config(const struct runspec *rs, const char *idle)
{
	const char *extra = RUNSPEC_IS_LINUX(rs) ?
	    "" :
	    rs->append; /* Linux: its command line */
	char *s = NULL;

	if (asprintf(&s,
	        "mailbox_version=%d policy=%s kdump_cpus=%d%s%s%s%s%s%s%s%s",
	        rs->mailbox_version, rs->policy, rs->kdump_cpus,
	        rs->quirks[0] ? " quirks=" : "", rs->quirks,
	        rs->steps[0] ? " steps=" : "", rs->steps, idle ? " idle=" : "",
	        idle ? idle : "", extra[0] ? " " : "", extra) < 0)
		return NULL;
	return s;
}

char *
runspec_guest_config(const struct runspec *rs)
{
	return guest_config(rs, NULL);
}

char *
runspec_linux_cmdline(const struct runspec *rs)
{
	char *s = NULL;
	char kd[32] = "";

	if (rs->kdump_cpus)
		snprintf(
		    kd, sizeof(kd), " wakefarm.kdump_cpus=%d", rs->kdump_cpus);
	/* panic=-1: a panic without a crash kernel ends the VM (-no-reboot). */
	if (asprintf(&s,
	        "console=ttyS0 panic=-1 iomem=relaxed " RUNSPEC_LINUX_FAST
	        "%s wakefarm.gen=1 wakefarm.kind=cold%s%s%s%s%s",
	        strstr(rs->steps, "crash@") ?
	            " crashkernel=" RUNSPEC_CRASHKERNEL :
	            "",
	        kd, rs->steps[0] ? " wakefarm.steps=" : "", rs->steps,
	        rs->append[0] ? " " : "", rs->append) < 0)
		return NULL;
	return s;
}

int
runspec_generations(const char *steps)
{
	const char *p = steps;
	int gens = 1;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *star = memchr(p, '*', n);
		int reps = star ? atoi(star + 1) : 1;

		if (!strncmp(p, "kexec", 5))
			gens += reps;
		else if (!strncmp(p, "crash@", 6))
			gens += 1;
		p += n + (e ? 1 : 0);
	}
	return gens;
}

char *
runspec_guest_config_idle(const struct runspec *rs, const char *idle)
{
	return guest_config(rs, idle);
}
