/*
 * buf.c: capped growable buffer; see buf.h.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
wf_buf_init(struct wf_buf *b, size_t cap)
{
	memset(b, 0, sizeof *b);
	b->cap = cap;
}

/* Make room for len + extra bytes and the NUL; -1 past the cap or on OOM. */
static int
buf_reserve(struct wf_buf *b, size_t extra)
{
	size_t need, size;
	char *p;

	if (extra > b->cap - b->len) {
		b->truncated = 1;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	/* Doubling keeps appends amortised O(1); the cap bounds the result. */
	size = b->alloc > 0 ? b->alloc : 64;
	while (size < need)
		size = size > SIZE_MAX / 2 ? need : size * 2;
	if (b->cap < SIZE_MAX && size > b->cap + 1)
		size = b->cap + 1;
	if ((p = realloc(b->data, size)) == NULL)
		return -1;
	b->data = p;
	b->alloc = size;
	return 0;
}

int
wf_buf_append(struct wf_buf *b, const void *data, size_t n)
{
	if (buf_reserve(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
wf_buf_printf(struct wf_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	va_start(ap, fmt);
	room = b->alloc > b->len ? b->alloc - b->len : 0;
	n = vsnprintf(room > 0 ? b->data + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= room) {
		/* The first try did not fit: reserve the exact size and redo it. */
		if (buf_reserve(b, (size_t)n) == -1) {
			if (b->data != NULL)
				b->data[b->len] = '\0';
			return -1;
		}
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	return 0;
}

const char *
wf_buf_str(const struct wf_buf *b)
{
	return b->data != NULL ? b->data : "";
}

void
wf_buf_reset(struct wf_buf *b)
{
	b->len = 0;
	b->truncated = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *
wf_buf_steal(struct wf_buf *b)
{
	char *p = b->data != NULL ? b->data : strdup("");

	wf_buf_init(b, b->cap);
	return p;
}

void
wf_buf_free(struct wf_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	wf_buf_init(b, b->cap);
}

size_t
wf_utf8_next(const unsigned char *p, size_t n, unsigned long *cp)
{
	unsigned long c, min;
	size_t len, i;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2, c = p[0] & 0x1f, min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3, c = p[0] & 0x0f, min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4, c = p[0] & 0x07, min = 0x10000;
	} else {
		return 0; /* a continuation byte, C0, C1 or F5..FF */
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

#define UTF8_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

int
wf_buf_utf8(struct wf_buf *b, const void *data, size_t len)
{
	const unsigned char *s = data, *run = data, *end = s + len;
	unsigned long cp;
	size_t k;
	int rc = 0;

	while (s < end) {
		k = wf_utf8_next(s, (size_t)(end - s), &cp);
		if (k > 0 && cp != 0) {
			s += k;
			continue;
		}
		rc |= wf_buf_append(b, run, (size_t)(s - run));
		rc |= wf_buf_append(b, UTF8_REPLACEMENT, 3);
		s++;
		run = s;
	}
	rc |= wf_buf_append(b, run, (size_t)(s - run));
	return rc ? -1 : 0;
}

/* What XML 1.0 makes of code point cp: NULL to copy it, else a replacement. */
static const char *
xml_char(unsigned long cp)
{
	switch (cp) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '\'':
		return "&apos;";
	case '"':
		return "&quot;";
	case '\t':
	case '\n':
		return NULL;
	}
	if (cp < 0x20 || cp == 0x7f)
		return "?";
	/* Char ::= ... [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF] */
	if (cp == 0xfffe || cp == 0xffff)
		return UTF8_REPLACEMENT;
	return NULL;
}

int
wf_buf_xmln(struct wf_buf *b, const void *data, size_t len)
{
	const unsigned char *s = data, *run = data, *end = s + len;
	const char *rep;
	unsigned long cp;
	size_t k;
	int rc = 0;

	while (s < end) {
		k = wf_utf8_next(s, (size_t)(end - s), &cp);
		rep = k == 0 ? UTF8_REPLACEMENT : xml_char(cp);
		if (rep == NULL) {
			s += k;
			continue;
		}
		rc |= wf_buf_append(b, run, (size_t)(s - run));
		rc |= wf_buf_append(b, rep, strlen(rep));
		s += k > 0 ? k : 1;
		run = s;
	}
	rc |= wf_buf_append(b, run, (size_t)(s - run));
	return rc ? -1 : 0;
}

int
wf_buf_xml(struct wf_buf *b, const char *s)
{
	return s != NULL ? wf_buf_xmln(b, s, strlen(s)) : 0;
}
