/*
 * steps.c: the scenario's step list, performed through Linux's own
 * interfaces.  Same grammar as the test kernel (guest/kernel/steps.c):
 *
 *   kexec[:POLICY][*K]   kexec_file_load(2) into the same kernel + initramfs
 *                        (the POLICY suffix means nothing to a real kernel)
 *   cycle[*K]            offline then online every other CPU through sysfs
 *   offline:APIC, online:APIC
 *   crash@CPU            load the crash kernel (KEXEC_FILE_ON_CRASH), then
 *                        sysrq 'c' on logical CPU `CPU`
 *
 * The position travels in the next kernel's command line (wakefarm.step=,
 * wakefarm.rep=), so each generation resumes where the previous one left.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kexec.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "reporter.h"

#define NEXT_INITRD "/wakefarm/next.cpio"

struct step {
	char text[48];
	char name[16];
	int arg;
	int reps;
};

static int
parse_step(const char *item, size_t len, struct step *s)
{
	char *p, *star;

	memset(s, 0, sizeof(*s));
	if (!len || len >= sizeof(s->text))
		return -1;
	memcpy(s->text, item, len);
	s->reps = 1;
	snprintf(s->name, sizeof(s->name), "%.*s", (int)sizeof(s->name) - 1,
	    s->text);
	if ((star = strchr(s->name, '*')))
		*star = 0;
	if ((star = strchr(s->text, '*')))
		s->reps = atoi(star + 1);
	p = s->name + strcspn(s->name, ":@");
	if (*p && strcmp(s->name, "kexec") && strncmp(s->name, "kexec:", 6))
		s->arg = atoi(p + 1);
	*p = 0;
	if (s->reps < 1 ||
	    (strcmp(s->name, "kexec") && strcmp(s->name, "cycle") &&
	        strcmp(s->name, "offline") && strcmp(s->name, "online") &&
	        strcmp(s->name, "crash")))
		return -1;
	return 0;
}

static int
nth_item(const char *list, int index, const char **item, size_t *len)
{
	const char *p = list;

	for (int i = 0; *p; i++) {
		size_t n = strcspn(p, ",");

		if (i == index) {
			*item = p;
			*len = n;
			return 0;
		}
		p += n + (p[n] == ',');
	}
	return -1;
}

static void
report_step(int index, const char *text, bool ok)
{
	struct rec r;

	rec_begin(&r, "step");
	rec_i64(&r, "index", index);
	rec_str(&r, "name", text);
	rec_bool(&r, "ok", ok);
	rec_end(&r);
}

static const char *
errno_name(int e)
{
	switch (e) {
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case EINVAL:
		return "EINVAL";
	case EBUSY:
		return "EBUSY";
	case EIO:
		return "EIO";
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	default:
		return strerror(e);
	}
}

/* Writes "0"/"1" to cpuN/online; 0 or an errno. */
static int
set_online(int cpu, int on)
{
	char path[64];
	int fd, rc = 0;

	snprintf(
	    path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (write(fd, on ? "1" : "0", 1) != 1)
		rc = errno;
	close(fd);
	return rc;
}

static bool
do_offline(int apic_id)
{
	int err = set_online(cpu_of_apic(apic_id), 0);
	struct rec r;

	rec_begin(&r, "offline");
	rec_i64(&r, "apic_id", apic_id);
	rec_bool(&r, "ok", !err);
	rec_str(&r, "err", err ? errno_name(err) : "");
	rec_end(&r);
	return !err;
}

/* 1 online, 0 offline, -1 unknown (no such CPU, or cpu0 without the file). */
static int
is_online(int cpu)
{
	char path[64], c = 0;
	int fd;

	snprintf(
	    path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == '1' ? 1 : c == '0' ? 0 : -1;
}

/* Onlining a CPU that is online already is a failed step, as in the test
 * kernel, and a CPU the kernel cannot bring up (version 0 after kexec)
 * fails the step too: neither is an error record, the invariants judge. */
static bool
do_online(int apic_id)
{
	uint64_t t0 = time_us();
	int cpu = cpu_of_apic(apic_id), err;
	struct rec r;

	if (is_online(cpu) == 1) {
		say("online APIC ID %d (cpu%d): online already", apic_id, cpu);
		return false;
	}
	err = set_online(cpu, 1);
	if (err) {
		say("online APIC ID %d (cpu%d): %s", apic_id, cpu,
		    errno_name(err));
		return false;
	}
	rec_begin(&r, "cpu-up");
	rec_i64(&r, "apic_id", apic_id);
	rec_i64(&r, "us", (long long)(time_us() - t0));
	rec_end(&r);
	return true;
}

/* Every AP: every online CPU but the boot CPU (logical 0, which Linux does
 * not offline); /init moves off a CPU that goes away. */
static bool
do_cycle(void)
{
	int ids[MAX_CPUS], n = 0;
	bool ok = true;

	for (int c = 1; c < MAX_CPUS; c++)
		if (g.apic_of_cpu[c] >= 0)
			ids[n++] = g.apic_of_cpu[c];
	for (int i = 0; i < n; i++)
		ok &= do_offline(ids[i]);
	for (int i = 0; i < n; i++)
		if (is_online(cpu_of_apic(ids[i])) != 1)
			ok &= do_online(ids[i]);
	report_online();
	return ok;
}

/* The command line of the next generation: ours minus what changes. */
static void
next_cmdline(char *out, size_t size, const char *kind, int step, int rep)
{
	static const char *const drop[] = {
		"wakefarm.gen=",
		"wakefarm.kind=",
		"wakefarm.step=",
		"wakefarm.rep=",
		"BOOT_IMAGE=",
		"elfcorehdr=",
		NULL,
	};
	bool kdump = !strcmp(kind, "kdump");
	char tmp[sizeof(g.cmdline)], *save = NULL;
	size_t len = 0;

	snprintf(tmp, sizeof(tmp), "%s", g.cmdline);
	out[0] = 0;
	for (char *t = strtok_r(tmp, " \n", &save); t;
	     t = strtok_r(NULL, " \n", &save)) {
		bool skip = false;

		for (int i = 0; drop[i]; i++)
			skip |= !strncmp(t, drop[i], strlen(drop[i]));
		/* a kdump kernel reserves nothing and gets its own CPU limit */
		if (kdump &&
		    (!strncmp(t, "crashkernel=", 12) ||
		        !strncmp(t, "nr_cpus=", 8)))
			skip = true;
		if (!skip)
			len += snprintf(
			    out + len, len < size ? size - len : 0, "%s ", t);
	}
	len += snprintf(out + len, len < size ? size - len : 0,
	    "wakefarm.gen=%d wakefarm.kind=%s wakefarm.step=%d wakefarm.rep=%d",
	    g.gen + 1, kind, step, rep);
	if (kdump && g.kdump_cpus)
		snprintf(out + len, len < size ? size - len : 0, " nr_cpus=%d",
		    g.kdump_cpus);
}

/* Loads the next kernel (ourselves again) with kexec_file_load(2). */
static int
load_next(const char *kind, int step, int rep, unsigned long flags)
{
	char cmdline[sizeof(g.cmdline) + 128];
	const char *user = access("/wakefarm/initrd", R_OK) ?
	    NULL :
	    "/wakefarm/initrd";
	int kfd = -1, ifd = -1, rc = -1;

	next_cmdline(cmdline, sizeof(cmdline), kind, step, rep);
	if (access(NEXT_INITRD, R_OK) &&
	    pack_initramfs(NEXT_INITRD, "/init", "/wakefarm/vmlinuz", user) <
	        0) {
		report_error(
		    "cannot pack %s: %s", NEXT_INITRD, strerror(errno));
		return -1;
	}
	kfd = open("/wakefarm/vmlinuz", O_RDONLY | O_CLOEXEC);
	ifd = open(NEXT_INITRD, O_RDONLY | O_CLOEXEC);
	if (kfd < 0 || ifd < 0) {
		report_error("cannot open the next kernel or initramfs: %s",
		    strerror(errno));
		goto out;
	}
	say("kexec_file_load(%s): %s", kind, cmdline);
	if (syscall(SYS_kexec_file_load, kfd, ifd, strlen(cmdline) + 1, cmdline,
	        flags) < 0) {
		report_error("kexec_file_load(%s): %s",
		    flags & KEXEC_FILE_ON_CRASH ? "on crash" : "kexec",
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (kfd >= 0)
		close(kfd);
	if (ifd >= 0)
		close(ifd);
	return rc;
}

static void
do_kexec(int index, const struct step *s, int rep)
{
	int step = index, next_rep = rep + 1;
	struct rec r;

	if (next_rep >= s->reps) {
		step++;
		next_rep = 0;
	}
	if (load_next("kexec", step, next_rep, 0) < 0)
		return;
	report_mailbox();
	if (step != index)
		report_step(index, s->text, true);
	report_kmsg();
	rec_begin(&r, "kexec");
	rec_i64(&r, "to_gen", g.gen + 1);
	rec_end(&r);
	sync();
	reboot(RB_KEXEC);
	report_error("reboot(RB_KEXEC): %s", strerror(errno));
}

static void
do_crash(int index, const struct step *s)
{
	cpu_set_t set;
	struct rec r;
	int fd;

	if (load_next("kdump", index + 1, 0, KEXEC_FILE_ON_CRASH) < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(s->arg, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		report_error(
		    "sched_setaffinity(cpu%d): %s", s->arg, strerror(errno));
		return;
	}
	report_mailbox();
	report_step(index, s->text, true);
	report_kmsg();
	rec_begin(&r, "panic");
	rec_i64(&r, "cpu",
	    g.apic_of_cpu[s->arg] >= 0 ? g.apic_of_cpu[s->arg] : s->arg);
	rec_str(&r, "reason", "sysrq-trigger c");
	rec_end(&r);
	fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "c", 1) != 1)
		report_error("/proc/sysrq-trigger: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

int
run_steps(void)
{
	int rc = 0;

	for (int index = g.step;; index++) {
		const char *item;
		size_t len;
		struct step s;
		bool ok = true;

		if (nth_item(g.steps, index, &item, &len) < 0)
			break;
		if (parse_step(item, len, &s) < 0) {
			report_error("step %d '%.*s': not understood",
			    index + 1, (int)len, item);
			return -1;
		}
		for (int rep = index == g.step ? g.rep : 0; rep < s.reps;
		     rep++) {
			if (!strcmp(s.name, "kexec")) {
				do_kexec(index, &s, rep);
				ok =
				    false; /* only reached when the kexec failed */
				break;
			}
			if (!strcmp(s.name, "crash")) {
				do_crash(index, &s);
				ok = false;
				break;
			}
			if (!strcmp(s.name, "cycle"))
				ok &= do_cycle();
			else if (!strcmp(s.name, "offline")) {
				ok &= do_offline(s.arg);
				report_online();
			} else if (!strcmp(s.name, "online")) {
				ok &= do_online(s.arg);
				report_online();
			}
		}
		report_step(index, s.text, ok);
		report_kmsg();
		if (!ok)
			rc = -1;
	}
	return rc;
}
