/*
 * qemu.c: the bare-QEMU runner.
 *
 * QEMU writes COM1 and COM2 into FIFOs in the scratch directory; a pump
 * thread reads them as they come: COM2 through the record reader into the
 * records file, COM1 into the log up to its cap (then a truncation line).
 * Nothing on disk grows with what the guest prints, and the pump keeps
 * QEMU from blocking on a full pipe while the monitor is read.  The guest's
 * configuration goes in through fw_cfg.  At the end the runner appends its
 * own `host` records: `host-mailbox` (the mailbox read through the QEMU
 * monitor when the watchdog fires) and `host-exit` (how QEMU ended).
 *
 * With rs->kernel set, the OS is that Linux bzImage instead of our test
 * kernel: the firmware shim boots it from opt/wakefarm/kernel with the
 * initramfs (rs->initrd + the reporter, packed by the reporter itself) in
 * opt/wakefarm/initrd and the command line in opt/wakefarm/cmdline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "linux.h"
#include "qemu.h"
#include "proc.h"
#include "runner.h"
#include "util.h"

#define QEMU_EXIT(v) \
	(((v) << 1) | 1) /* isa-debug-exit: value v -> exit status */

/* QEMU splits option values at commas; a literal comma is written twice. */
static char *
qemu_escape(const char *s)
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
static int
qemu_peek(void *arg, unsigned long long addr, unsigned long long out[2])
{
	const char *sock = ((struct run_scratch *)arg)->mon;
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
		    sscanf(p + strlen(cmd), " %llx %llx", &out[0], &out[1]) ==
		        2) {
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

#define PUMP_BUF (64 << 10)

/* Reads the serial FIFOs while QEMU runs (see above). */
struct pump {
	int fd[2]; /* read ends: COM1 (-1: discarded), COM2 */
	struct run_caplog log;
	struct run_collect *c;
	int stop; /* QEMU is gone: drain and end (atomic) */
	pthread_mutex_t lock; /* c, while the thread feeds it */
	pthread_t thread;
	int started;
	int log_rc; /* the log's caplog_close */
};

static void *
pump_main(void *arg)
{
	struct pump *p = arg;
	char *buf = malloc(PUMP_BUF);

	while (buf) {
		struct pollfd pfd[2];
		int n = 0, got = 0;

		for (int i = 0; i < 2; i++)
			if (p->fd[i] >= 0)
				pfd[n++] = (struct pollfd){ .fd = p->fd[i],
					.events = POLLIN };
		if (n == 0)
			break;
		poll(pfd, n, 100);
		for (int i = 0; i < n; i++) {
			int port = pfd[i].fd == p->fd[0] ? 0 : 1;
			ssize_t r;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(pfd[i].fd, buf, PUMP_BUF);
			if (r > 0) {
				got = 1;
				if (port == 0)
					run_caplog_write(
					    &p->log, buf, (size_t)r);
				else {
					pthread_mutex_lock(&p->lock);
					run_collect_feed(p->c, buf, (size_t)r);
					pthread_mutex_unlock(&p->lock);
				}
			} else if (r == 0 || errno != EAGAIN) {
				close(p->fd[port]); /* QEMU closed its end */
				p->fd[port] = -1;
			}
		}
		if (!got && __atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
			break;
	}
	free(buf);
	return NULL;
}

/* The FIFOs QEMU will open (their read ends first, so its open does not block). */
static int
pump_open(struct pump *p, const struct run_scratch *s, const struct run_opts *o)
{
	const char *path[2] = { o->log ? s->com1 : NULL, s->com2 };

	p->fd[0] = p->fd[1] = -1;
	for (int i = 0; i < 2; i++) {
		if (!path[i])
			continue;
		if (mkfifo(path[i], 0600) < 0 ||
		    (p->fd[i] = open(
		         path[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
			return -1;
	}
	if (o->log && run_caplog_open(&p->log, o->log, o->log_cap) < 0)
		return -1;
	if (pthread_create(&p->thread, NULL, pump_main, p) != 0)
		return -1;
	p->started = 1;
	return 0;
}

/* A peek made before QEMU was stopped: arg holds what it read. */
static int
peek_done(void *arg, unsigned long long addr, unsigned long long out[2])
{
	(void)addr;
	memcpy(out, arg, 2 * sizeof(out[0]));
	return 0;
}

/* After QEMU exited: what is left in the pipes, then the end. Again: a no-op. */
static int
pump_close(struct pump *p)
{
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	if (p->started)
		pthread_join(p->thread, NULL);
	p->started = 0;
	for (int i = 0; i < 2; i++)
		if (p->fd[i] >= 0) {
			close(p->fd[i]);
			p->fd[i] = -1;
		}
	if (p->log.f && run_caplog_close(&p->log) < 0)
		p->log_rc = -1;
	return p->log_rc;
}

/* The QEMU command line; its strings live in *a. */
struct qemu_argv {
	char *fw, *kern;
	char smp[16], mem[16], accel[32], fwcfg_k[600], fwcfg_c[400],
	    chr_log[600], chr_rec[400];
	char mon[400], fwcfg_i[400], fwcfg_l[400];
	const char *argv[48];
};

static int
qemu_argv_make(struct qemu_argv *a, const struct runspec *rs,
    const struct run_opts *o, const struct run_scratch *s)
{
	int n = 0;

	a->fw = qemu_escape(o->firmware);
	a->kern = qemu_escape(
	    rs->kernel[0] ? rs->kernel : run_test_kernel(rs, o));
	if (!a->fw || !a->kern)
		return -1;
	snprintf(a->smp, sizeof(a->smp), "%d", rs->cpus);
	snprintf(a->mem, sizeof(a->mem), "%d", rs->memory_mb);
	/* Single-threaded TCG: parked CPUs spin on the mailbox, and with one
	 * host thread per vCPU they would steal the 2 host cores from the CPU
	 * doing the work.  PAUSE yields to the next vCPU in this mode. */
	snprintf(a->accel, sizeof(a->accel), "%s",
	    !strcmp(o->accel ?: "tcg", "kvm") ? "kvm" : "tcg,thread=single");
	snprintf(a->fwcfg_k, sizeof(a->fwcfg_k),
	    "name=opt/wakefarm/kernel,file=%s", a->kern);
	snprintf(a->fwcfg_c, sizeof(a->fwcfg_c),
	    "name=opt/wakefarm/config,file=%s", s->config);
	snprintf(a->chr_log, sizeof(a->chr_log), "file,id=com1,path=%s",
	    o->log ? s->com1 : "/dev/null");
	snprintf(
	    a->chr_rec, sizeof(a->chr_rec), "file,id=com2,path=%s", s->com2);
	snprintf(a->mon, sizeof(a->mon), "unix:%s,server=on,wait=off", s->mon);
	snprintf(a->fwcfg_i, sizeof(a->fwcfg_i),
	    "name=opt/wakefarm/initrd,file=%s", s->initrd);
	snprintf(a->fwcfg_l, sizeof(a->fwcfg_l),
	    "name=opt/wakefarm/cmdline,file=%s", s->cmdline);
	{
		const char *fixed[] = {
			o->qemu ? o->qemu : "qemu-system-x86_64",
			"-machine",
			"q35",
			"-accel",
			a->accel,
			"-smp",
			a->smp,
			"-m",
			a->mem,
			"-nodefaults",
			"-no-user-config",
			"-display",
			"none",
			"-no-reboot",
			"-kernel",
			a->fw,
			"-fw_cfg",
			a->fwcfg_k,
			"-fw_cfg",
			a->fwcfg_c,
			"-chardev",
			a->chr_log,
			"-serial",
			"chardev:com1",
			"-chardev",
			a->chr_rec,
			"-serial",
			"chardev:com2",
			"-device",
			"isa-debug-exit,iobase=0xf4,iosize=1",
			"-monitor",
			a->mon,
			NULL,
		};

		for (int i = 0; fixed[i]; i++)
			a->argv[n++] = fixed[i];
	}
	if (RUNSPEC_IS_LINUX(rs)) {
		a->argv[n++] = "-fw_cfg";
		a->argv[n++] = a->fwcfg_i;
		a->argv[n++] = "-fw_cfg";
		a->argv[n++] = a->fwcfg_l;
	}
	a->argv[n] = NULL;
	return 0;
}

/*
 * Waits for QEMU until the watchdog fires (runner.h: the wall clock less
 * the time QEMU waited for a CPU, or four times the timeout of wall time):
 * 1 it exited (*status), 0 it fired (*guest_s: the guest's time then).
 */
static int
qemu_wait(pid_t pid, int timeout_s, int *status, double *guest_s)
{
	int64_t t0 = wf_now_ms(), next = 0;
	double waited = 0, wall;

	for (;;) {
		struct timespec ts = { 0, 2000000 };

		if (waitpid(pid, status, WNOHANG) == pid)
			return 1;
		if (wf_now_ms() >= next) {
			double w = run_proc_waited_s(pid);

			waited = w > waited ? w : waited;
			wall = (wf_now_ms() - t0) / 1000.0;
			*guest_s = wall - waited;
			if (run_watchdog_fired(timeout_s, *guest_s, wall))
				return 0;
			next = wf_now_ms() + 20;
		}
		nanosleep(&ts, NULL);
	}
}

/* The watchdog fired: read the mailbox while QEMU still runs (the pump
 * keeps it from blocking on its serial ports), then stop it. */
static void
qemu_hang(struct run_ctx *x, struct pump *pump, pid_t pid, int timeout_s,
    double cpu_s, struct run_result *res)
{
	unsigned long long mb[2];
	char mailbox[32];
	int peeked = 1, status;

	snprintf(res->detail, sizeof(res->detail),
	    "watchdog: no end after %d s (%.1f s the guest could run, %.1f s"
	    " wall)",
	    timeout_s, cpu_s, res->wall_s);
	pthread_mutex_lock(&pump->lock);
	memcpy(mailbox, x->c.mailbox, sizeof(mailbox));
	pthread_mutex_unlock(&pump->lock);
	if (!mailbox[0] ||
	    qemu_peek(&x->s, strtoull(mailbox, NULL, 16), mb) < 0)
		peeked = 0;
	kill(-pid, SIGKILL);
	waitpid(pid, &status, 0);
	pump_close(pump);
	run_finish_records(
	    x, res, "timeout", -1, peeked ? peek_done : NULL, mb);
	res->outcome = RUN_HANG;
}

/* QEMU exited with wstatus: how the guest ended. */
static void
qemu_exited(
    struct run_ctx *x, struct pump *pump, int wstatus, struct run_result *res)
{
	int status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) :
	                                  128 + WTERMSIG(wstatus);
	int infra = 0;

	pump_close(pump);
	if (status != QEMU_EXIT(0x10) && status != QEMU_EXIT(0x11) &&
	    status != QEMU_EXIT(0x12) && status != QEMU_EXIT(0x13) &&
	    status != 0) {
		infra = 1;
		run_read_head(x->s.err, res->detail, sizeof(res->detail));
		if (!res->detail[0])
			snprintf(res->detail, sizeof(res->detail),
			    "QEMU exited with status %d", status);
	} else if (status == 0) {
		snprintf(res->detail, sizeof(res->detail),
		    "QEMU shut down without isa-debug-exit (triple fault?)");
	}
	run_finish_records(
	    x, res, infra ? "infra" : "exited", status, NULL, NULL);
	if (infra)
		res->outcome = RUN_INFRA;
	else
		res->outcome = x->c.done_status == 0 &&
		        status == QEMU_EXIT(0x10) ?
		    RUN_COMPLETED :
		    RUN_GUEST_ERROR;
}

int
qemu_run(
    const struct runspec *rs, const struct run_opts *o, struct run_result *res)
{
	struct run_ctx x;
	struct pump pump = { .fd = { -1, -1 },
		.lock = PTHREAD_MUTEX_INITIALIZER };
	struct qemu_argv a = { NULL };
	char *cause = NULL;
	int status = -1, rc = -1;
	double cpu_s = 0;
	pid_t pid;

	/* single-threaded TCG: idle CPUs spin with PAUSE (see guest/common/idle.h) */
	if (run_prepare(&x, rs, o, NULL,
	        !strcmp(o->accel ?: "tcg", "kvm") ? "halt" : "spin", res) < 0)
		goto out;
	pump.c = &x.c;
	if (qemu_argv_make(&a, rs, o, &x.s) < 0) {
		run_infra(
		    res, "cannot write %s: %s", o->records, strerror(errno));
		goto out;
	}
	if (pump_open(&pump, &x.s, o) < 0) {
		run_infra(res, "serial FIFOs or %s: %s",
		    o->log ? o->log : "the log", strerror(errno));
		goto out;
	}
	if ((pid = wf_proc_spawn(a.argv, NULL, x.s.err, &cause)) < 0) {
		run_infra(res, "%s", wf_cause_str(cause));
		goto out;
	}
	if (!qemu_wait(pid, rs->timeout_s, &status, &cpu_s)) {
		res->wall_s = (wf_now_us() - x.t0_us) / 1e6;
		qemu_hang(&x, &pump, pid, rs->timeout_s, cpu_s, res);
	} else {
		res->wall_s = (wf_now_us() - x.t0_us) / 1e6;
		qemu_exited(&x, &pump, status, res);
	}
	rc = 0;
out:
	if (pump_close(&pump) < 0 && rc == 0) {
		snprintf(res->detail, sizeof(res->detail), "writing %s: %s",
		    o->log, strerror(errno));
		rc = -1;
	}
	free(cause);
	free(a.fw);
	free(a.kern);
	return run_end(&x, o, res, rc);
}
