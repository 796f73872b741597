/*
 * qemu.c: the bare-QEMU runner.
 *
 * QEMU writes COM1 to the log and COM2 to a scratch file; the guest's
 * configuration goes in through fw_cfg.  At the end, the scratch records are
 * validated into the records file and the runner appends its own `host`
 * records: `host-mailbox` (the mailbox read through the QEMU monitor when
 * the watchdog fires) and `host-exit` (how QEMU ended).
 *
 * With rs->kernel set, the OS is that Linux bzImage instead of our test
 * kernel: the firmware shim boots it from opt/wakefarm/kernel with the
 * initramfs (rs->initrd + the reporter, packed by the reporter itself) in
 * opt/wakefarm/initrd and the command line in opt/wakefarm/cmdline.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "linux.h"
#include "qemu.h"
#include "runcommon.h"
#include "util.h"

#define QEMU_EXIT(v) (((v) << 1) | 1)	/* isa-debug-exit: value v -> exit status */

/* QEMU splits option values at commas; a literal comma is written twice. */
static char *qemu_escape(const char *s)
{
	size_t n = strlen(s), c = 0;
	char *out, *p;

	for (const char *q = s; *q; q++)
		c += *q == ',';
	out = p = malloc(n + c + 1);
	if (!out)
		return NULL;
	for (; *s; s++) {
		*p++ = *s;
		if (*s == ',')
			*p++ = ',';
	}
	*p = 0;
	return out;
}

/* Reads 16 bytes of guest-physical memory through the HMP monitor. */
static int qemu_peek(void *arg, unsigned long long addr, unsigned long long out[2])
{
	const char *sock = ((struct scratch *)arg)->mon;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char cmd[64], buf[4096];
	size_t len = 0;
	int fd, rc = -1;
	int64_t deadline = wf_now_ms() + 2000;
	char *p;

	wf_strlcpy(sa.sun_path, sock, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	snprintf(cmd, sizeof(cmd), "xp /2gx 0x%llx\n", addr);
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		goto out;
	/* The answer line looks like "0000000000193000: 0x... 0x..." */
	snprintf(cmd, sizeof(cmd), "%016llx:", addr);
	while (len < sizeof(buf) - 1 && wf_now_ms() < deadline) {
		struct timeval tv = { 0, 100000 };
		ssize_t n;

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n > 0)
			len += n;
		buf[len] = 0;
		p = strstr(buf, cmd);
		if (p && strchr(p, '\n') &&
		    sscanf(p + strlen(cmd), " %llx %llx", &out[0], &out[1]) == 2) {
			rc = 0;
			break;
		}
		if (n == 0)
			break;
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int qemu_run(const struct runspec *rs, const struct qemu_opts *o, struct run_result *res)
{
	struct scratch s;
	struct collect c = { .done_status = -1 };
	char *config = NULL, *fw = NULL, *kern = NULL;
	char smp[16], mem[16], fwcfg_k[600], fwcfg_c[400], chr_log[600], chr_rec[400], mon[400];
	char fwcfg_i[400], fwcfg_l[400];
	char *argv[48];
	int a = 0;
	char accel[32];
	const char *how = "exited";
	int status = -1, rc = -1, timed_out = 0;
	int64_t t0 = wf_now_us(), deadline;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (make_scratch(&s, NULL) < 0) {
		snprintf(res->detail, sizeof(res->detail), "cannot make a scratch directory: %s", strerror(errno));
		res->outcome = RUN_INFRA;
		return -1;
	}
	c.out = fopen(o->records, "w");
	/* single-threaded TCG: idle CPUs spin with PAUSE (see guest/common/idle.h) */
	config = runspec_guest_config_idle(rs, !strcmp(o->accel ?: "tcg", "kvm") ? "halt" : "spin");
	fw = qemu_escape(o->firmware);
	kern = qemu_escape(rs->kernel[0] ? rs->kernel : runcommon_test_kernel(rs, o));
	if (!c.out || !config || !fw || !kern || write_text_file(s.config, config) < 0) {
		snprintf(res->detail, sizeof(res->detail), "cannot write %s: %s", o->records, strerror(errno));
		res->outcome = RUN_INFRA;
		goto out;
	}
	if (RUNSPEC_IS_LINUX(rs)) {
		if (linux_files(rs, o->reporter, &s, res->detail, sizeof(res->detail)) < 0) {
			res->outcome = RUN_INFRA;
			goto out;
		}
		snprintf(fwcfg_i, sizeof(fwcfg_i), "name=opt/wakefarm/initrd,file=%s", s.initrd);
		snprintf(fwcfg_l, sizeof(fwcfg_l), "name=opt/wakefarm/cmdline,file=%s", s.cmdline);
	}
	snprintf(smp, sizeof(smp), "%d", rs->cpus);
	snprintf(mem, sizeof(mem), "%d", rs->memory_mb);
	/* Single-threaded TCG: parked CPUs spin on the mailbox, and with one
	 * host thread per vCPU they would steal the 2 host cores from the CPU
	 * doing the work.  PAUSE yields to the next vCPU in this mode. */
	snprintf(accel, sizeof(accel), "%s", !strcmp(o->accel ?: "tcg", "kvm") ? "kvm" : "tcg,thread=single");
	snprintf(fwcfg_k, sizeof(fwcfg_k), "name=opt/wakefarm/kernel,file=%s", kern);
	snprintf(fwcfg_c, sizeof(fwcfg_c), "name=opt/wakefarm/config,file=%s", s.config);
	snprintf(chr_log, sizeof(chr_log), "file,id=com1,path=%s", o->log ? o->log : "/dev/null");
	snprintf(chr_rec, sizeof(chr_rec), "file,id=com2,path=%s", s.com2);
	snprintf(mon, sizeof(mon), "unix:%s,server=on,wait=off", s.mon);
	{
		char *fixed[] = {
			(char *)(o->qemu ? o->qemu : "qemu-system-x86_64"),
			"-machine", "q35", "-accel", accel, "-smp", smp, "-m", mem,
			"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
			"-kernel", fw, "-fw_cfg", fwcfg_k, "-fw_cfg", fwcfg_c,
			"-chardev", chr_log, "-serial", "chardev:com1",
			"-chardev", chr_rec, "-serial", "chardev:com2",
			"-device", "isa-debug-exit,iobase=0xf4,iosize=1",
			"-monitor", mon, NULL,
		};

		for (int i = 0; fixed[i]; i++)
			argv[a++] = fixed[i];
		if (RUNSPEC_IS_LINUX(rs)) {
			argv[a++] = "-fw_cfg";
			argv[a++] = fwcfg_i;
			argv[a++] = "-fw_cfg";
			argv[a++] = fwcfg_l;
		}
		argv[a] = NULL;
		pid = run_spawn(argv, s.err);
	}
	if (pid < 0) {
		snprintf(res->detail, sizeof(res->detail), "fork: %s", strerror(errno));
		res->outcome = RUN_INFRA;
		goto out;
	}
	deadline = wf_now_ms() + rs->timeout_s * 1000LL;
	for (;;) {
		struct timespec ts = { 0, 2000000 };
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (wf_now_ms() >= deadline) {
			res->wall_s = (wf_now_us() - t0) / 1e6;
			timed_out = 1;
			break;
		}
		nanosleep(&ts, NULL);
	}
	res->wall_s = (wf_now_us() - t0) / 1e6;
	if (timed_out) {
		how = "timeout";
		snprintf(res->detail, sizeof(res->detail), "watchdog: no end after %d s", rs->timeout_s);
		/* read the mailbox while QEMU still runs, then stop it */
		finish_records(&s, &c, res, how, -1, timed_out ? qemu_peek : NULL, &s);
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
		res->outcome = RUN_HANG;
		rc = 0;
		goto out;
	}
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (status != QEMU_EXIT(0x10) && status != QEMU_EXIT(0x11) && status != QEMU_EXIT(0x12) &&
	    status != QEMU_EXIT(0x13) && status != 0) {
		how = "infra";
		run_read_tail(s.err, res->detail, sizeof(res->detail));
		if (!res->detail[0])
			snprintf(res->detail, sizeof(res->detail), "QEMU exited with status %d", status);
	} else if (status == 0) {
		snprintf(res->detail, sizeof(res->detail), "QEMU shut down without isa-debug-exit (triple fault?)");
	}
	finish_records(&s, &c, res, how, status, NULL, NULL);
	if (!strcmp(how, "infra"))
		res->outcome = RUN_INFRA;
	else
		res->outcome = c.done_status == 0 && status == QEMU_EXIT(0x10) ? RUN_COMPLETED : RUN_GUEST_ERROR;
	rc = 0;
out:
	if (c.out && fclose(c.out) && rc == 0) {
		snprintf(res->detail, sizeof(res->detail), "writing %s: %s", o->records, strerror(errno));
		rc = -1;
	}
	free(config);
	free(fw);
	free(kern);
	remove_scratch(&s);
	return rc;
}

