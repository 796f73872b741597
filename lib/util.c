/*
 * util.c: small helpers shared by the library and the binaries; see util.h.
 */
#include <ctype.h>
#include <unistd.h>
#include <pthread.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static int64_t
now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
wf_now_ms(void)
{
	return now_ns() / 1000000;
}

int64_t
wf_now_us(void)
{
	return now_ns() / 1000;
}

size_t
wf_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

void
wf_hex(char *out, const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}

void
wf_set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	free(*cause);
	*cause = msg;
}

const char *
wf_cause_str(const char *cause)
{
	return cause != NULL ? cause : "out of memory";
}

static char tree_top[4096];
static pthread_once_t tree_once = PTHREAD_ONCE_INIT;

static void
find_tree_top(void)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	wf_strlcpy(tree_top, ".", sizeof(tree_top));
	if (n <= 0)
		return;
	exe[n] = '\0';
	wf_strlcpy(tree_top, dirname(dirname(exe)), sizeof(tree_top));
}

const char *
wf_tree_top(void)
{
	pthread_once(&tree_once, find_tree_top);
	return tree_top;
}

int
wf_name_ok(const char *s, size_t max)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("._-", s[i]) == NULL)
			return 0;
	}
	return 1;
}
