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

/*
 * The code point of the well-formed UTF-8 sequence at p (n bytes left),
 * its length in *len; -1 (with *len 1) when p does not start one.
 */
static long
utf8_decode(const unsigned char *p, size_t n, size_t *len)
{
	unsigned char b = p[0];
	long cp;
	size_t k, need;

	*len = 1;
	if (b < 0x80)
		return b;
	if (b >= 0xc2 && b <= 0xdf) {
		need = 1;
		cp = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		need = 2;
		cp = b & 0x0f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		need = 3;
		cp = b & 0x07;
	} else {
		return -1;
	}
	if (n < need + 1)
		return -1;
	for (k = 1; k <= need; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -1;
	*len = need + 1;
	return cp;
}

/* A character that no consumer of our text should be handed. */
static int
text_unwanted(long cp)
{
	return (cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7f ||
	    (cp >= 0x80 && cp <= 0x9f) || (cp >= 0xfdd0 && cp <= 0xfdef) ||
	    (cp & 0xfffe) == 0xfffe;
}

char *
wf_text_clean(const void *src, size_t len, size_t max, int *cut)
{
	static const char repl[] = "\xef\xbf\xbd"; /* U+FFFD */
	const unsigned char *p = src;
	size_t i = 0, o = 0, clen, cap;
	char *out;
	long cp;

	/* at most 3 output bytes per input byte */
	cap = (len < max ? len : max) * 3 + 1;
	if (cap > max + 1)
		cap = max + 1;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	if (cut != NULL)
		*cut = 0;
	while (i < len) {
		cp = utf8_decode(p + i, len - i, &clen);
		if (cp < 0 || text_unwanted(cp)) {
			if (o + 3 > max)
				break;
			memcpy(out + o, repl, 3);
			o += 3;
		} else {
			if (o + clen > max)
				break;
			memcpy(out + o, p + i, clen);
			o += clen;
		}
		i += clen;
	}
	if (cut != NULL && i < len)
		*cut = 1;
	out[o] = '\0';
	return out;
}
