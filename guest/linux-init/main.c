/*
 * wakefarm /init for real Linux kernels (the reporter).
 *
 * As PID 1 in the initramfs that guest/run-qemu builds: mounts /proc, /sys
 * and /dev, reports this generation (boot, madt, online, mailbox, kmsg, and
 * crash-notes in a kdump kernel) on /dev/ttyS1, performs the step list, then
 * ends the VM through isa-debug-exit with the test kernel's statuses (0x10
 * completed, 0x11 an error was reported).
 *
 * On the host, `init --pack OUT VMLINUZ [INITRD]` writes the initramfs:
 * INITRD (if any) followed by a newc archive of this program as /init, the
 * kernel as /wakefarm/vmlinuz and INITRD again as /wakefarm/initrd, which is
 * everything a generation needs to kexec into the next one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reporter.h"

#define EXIT_DONE 0x10 /* isa-debug-exit: completed */
#define EXIT_ERROR 0x11 /* the kernel detected an error */
#define DEBUG_EXIT_PORT 0xF4

struct gen_info g = { .gen = 1, .kind = "cold" };

/* Value of "key=" on the command line, or NULL. */
static const char *
arg(const char *key, char *val, size_t size)
{
	size_t n = strlen(key);

	for (const char *p = g.cmdline; (p = strstr(p, key)); p += n) {
		if (p != g.cmdline && p[-1] != ' ')
			continue;
		if (p[n] != '=')
			continue;
		p += n + 1;
		n = strcspn(p, " \n");
		snprintf(val, size, "%.*s", (int)n, p);
		return val;
	}
	return NULL;
}

static void
parse_cmdline(void)
{
	char v[512];
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, g.cmdline, sizeof(g.cmdline) - 1) : -1;

	if (fd >= 0)
		close(fd);
	g.cmdline[n > 0 ? n : 0] = 0;
	if (arg("wakefarm.gen", v, sizeof(v)))
		g.gen = atoi(v);
	if (arg("wakefarm.kind", v, sizeof(v)))
		snprintf(g.kind, sizeof(g.kind), "%.7s", v);
	if (arg("wakefarm.steps", v, sizeof(v)))
		snprintf(g.steps, sizeof(g.steps), "%.511s", v);
	if (arg("wakefarm.step", v, sizeof(v)))
		g.step = atoi(v);
	if (arg("wakefarm.rep", v, sizeof(v)))
		g.rep = atoi(v);
	if (arg("wakefarm.kdump_cpus", v, sizeof(v)))
		g.kdump_cpus = atoi(v);
	if (arg("wakefarm.tsc_khz", v, sizeof(v)))
		g.tsc_khz = strtoull(v, NULL, 10);
	if (arg("wakefarm.tsc_base", v, sizeof(v)))
		g.tsc_base = strtoull(v, NULL, 10);
	/* the kernel, not the command line, knows whether it is a kdump kernel */
	if (access("/proc/vmcore", F_OK) == 0)
		snprintf(g.kind, sizeof(g.kind), "kdump");
}

static void
mount_all(void)
{
	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
}

/* Debian's kernels have no /dev/port (CONFIG_DEVPORT is off): ioperm(2). */
static void
power_off(unsigned char status)
{
	int fd = open("/dev/port", O_WRONLY | O_CLOEXEC);

	sync();
	/* isa-debug-exit at 0xf4: QEMU exits with (status << 1) | 1 */
	if (fd >= 0 && pwrite(fd, &status, 1, DEBUG_EXIT_PORT) == 1)
		pause();
	if (ioperm(DEBUG_EXIT_PORT, 1, 1) == 0)
		__asm__ volatile("outb %0, %1" ::"a"(status),
		    "Nd"((unsigned short)DEBUG_EXIT_PORT));
	say("isa-debug-exit: %s; powering off instead", strerror(errno));
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static int
pack_main(int argc, char **argv)
{
	if (argc < 4 || argc > 5) {
		fprintf(
		    stderr, "usage: %s --pack OUT VMLINUZ [INITRD]\n", argv[0]);
		return 2;
	}
	if (pack_initramfs(argv[2], "/proc/self/exe", argv[3],
	        argc == 5 ? argv[4] : NULL) < 0) {
		fprintf(stderr, "%s: cannot write %s: %s\n", argv[0], argv[2],
		    strerror(errno));
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct rec r;
	int rc;

	if (argc >= 2 && !strcmp(argv[1], "--pack"))
		return pack_main(argc, argv);
	if (getpid() != 1) {
		fprintf(stderr,
		    "%s: runs as /init in a wakefarm guest (or: --pack OUT VMLINUZ [INITRD])\n",
		    argv[0]);
		return 2;
	}
	mount_all();
	parse_cmdline();
	if (rec_open("/dev/ttyS1") < 0)
		say("cannot open /dev/ttyS1: %s", strerror(errno));
	say("generation %d (%s), steps '%s' from %d", g.gen, g.kind, g.steps,
	    g.step);
	report_boot();
	report_madt();
	report_online();
	report_mailbox();
	report_kmsg();
	if (!strcmp(g.kind, "kdump"))
		report_crash_notes();
	rc = run_steps();
	report_mailbox();
	report_kmsg();
	rec_begin(&r, "done");
	rec_str(&r, "status", rc == 0 ? "ok" : "error");
	rec_end(&r);
	power_off(rc == 0 ? EXIT_DONE : EXIT_ERROR);
	return 0;
}
