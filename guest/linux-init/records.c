/*
 * records.c: the report-record contract on COM2 (/dev/ttyS1, raw), built
 * by guest/common/record.c like the firmware's and the test kernel's, one
 * write() per line.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "reporter.h"

static int rec_fd = -1;

uint64_t
time_us(void)
{
	uint64_t t = __builtin_ia32_rdtsc();

	if (!g.tsc_khz)
		return 0;
	return t > g.tsc_base ? (t - g.tsc_base) / g.tsc_khz * 1000 +
	        (t - g.tsc_base) % g.tsc_khz * 1000 / g.tsc_khz :
	                        0;
}

int
rec_open(const char *tty)
{
	struct termios t;

	rec_fd = open(tty, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (rec_fd < 0)
		return -1;
	/* raw: no \n -> \r\n, no flow control, nothing eaten */
	if (tcgetattr(rec_fd, &t) == 0) {
		cfmakeraw(&t);
		cfsetospeed(&t, B115200);
		tcsetattr(rec_fd, TCSANOW, &t);
	}
	return 0;
}

void
rec_begin(struct rec *r, const char *ev)
{
	rec_start(r, "os", (unsigned)g.gen, time_us(), ev);
}

void
rec_int_list(struct rec *r, const char *k, const int *v, int n)
{
	uint32_t u[MAX_CPUS];

	if (n > MAX_CPUS)
		n = MAX_CPUS;
	for (int i = 0; i < n; i++)
		u[i] = (uint32_t)v[i];
	rec_u32_list(r, k, u, (size_t)n);
}

/* Closes the record and writes it in one write(): a record is never split
 * by the kernel's own output on the same port. */
void
rec_end(struct rec *r)
{
	rec_close(r);
	if (rec_fd >= 0 && write(rec_fd, r->buf, r->len) < 0)
		rec_fd = -1;
	if (rec_fd >= 0)
		tcdrain(rec_fd);
}

void
say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "wakefarm-init: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, n) < 0)
		return;
}

void
report_error(const char *fmt, ...)
{
	char msg[1024];
	struct rec r;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("error: %s", msg);
	rec_begin(&r, "error");
	rec_str(&r, "msg", msg);
	rec_end(&r);
}
