/*
 * records.c: the report-record contract on COM2, written by hand (the guest
 * side has no JSON library): ASCII only, one write() per line so that a
 * record is never split by the kernel's own output on the same port.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "reporter.h"

static int rec_fd = -1;

uint64_t time_us(void)
{
	uint64_t t = __builtin_ia32_rdtsc();

	if (!g.tsc_khz)
		return 0;
	return t > g.tsc_base ? (t - g.tsc_base) / g.tsc_khz * 1000 +
				(t - g.tsc_base) % g.tsc_khz * 1000 / g.tsc_khz : 0;
}

int rec_open(const char *tty)
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

static void put(struct rec *r, const char *s)
{
	size_t n = strlen(s);

	if (r->len + n < sizeof(r->buf) - 2) {
		memcpy(r->buf + r->len, s, n);
		r->len += n;
	}
}

static void putf(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct rec *r, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(r, tmp);
}

static void put_string(struct rec *r, const char *s, size_t max)
{
	put(r, "\"");
	for (size_t i = 0; s[i] && i < max; i++) {
		unsigned char c = s[i];
		char e[8] = { (char)c, 0 };

		if (c == '"' || c == '\\')
			snprintf(e, sizeof(e), "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			snprintf(e, sizeof(e), "\\u%04x", c < 0x80 ? c : '?');
		put(r, e);
	}
	put(r, "\"");
}

static void key(struct rec *r, const char *k)
{
	put(r, ",\"");
	put(r, k);
	put(r, "\":");
}

void rec_begin(struct rec *r, const char *ev)
{
	r->len = 0;
	putf(r, "{\"v\":1,\"src\":\"os\",\"gen\":%d,\"ev\":\"%s\",\"t_us\":%llu", g.gen, ev,
	     (unsigned long long)time_us());
}

void rec_int(struct rec *r, const char *k, long long v)
{
	key(r, k);
	putf(r, "%lld", v);
}

void rec_hex(struct rec *r, const char *k, uint64_t v)
{
	key(r, k);
	putf(r, "\"0x%llx\"", (unsigned long long)v);
}

void rec_str(struct rec *r, const char *k, const char *s)
{
	key(r, k);
	put_string(r, s, 1024);
}

void rec_bool(struct rec *r, const char *k, bool v)
{
	key(r, k);
	put(r, v ? "true" : "false");
}

void rec_int_list(struct rec *r, const char *k, const int *v, int n)
{
	key(r, k);
	put(r, "[");
	for (int i = 0; i < n; i++)
		putf(r, "%s%d", i ? "," : "", v[i]);
	put(r, "]");
}

void rec_end(struct rec *r)
{
	r->buf[r->len++] = '}';
	r->buf[r->len++] = '\n';
	if (rec_fd >= 0 && write(rec_fd, r->buf, r->len) < 0)
		rec_fd = -1;
	if (rec_fd >= 0)
		tcdrain(rec_fd);
}

void say(const char *fmt, ...)
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

void report_error(const char *fmt, ...)
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
