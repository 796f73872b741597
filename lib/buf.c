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

int
wf_buf_xml(struct wf_buf *b, const char *s)
{
	const char *ent;
	size_t run;
	int rc = 0;

	while (s != NULL && *s != '\0') {
		run = strcspn(s,
		    "&<>'\"\x01\x02\x03\x04\x05\x06\x07\x08\x0b"
		    "\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19"
		    "\x1a\x1b\x1c\x1d\x1e\x1f");
		rc |= wf_buf_append(b, s, run);
		s += run;
		if (*s == '\0')
			break;
		switch (*s) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '\'':
			ent = "&apos;";
			break;
		case '"':
			ent = "&quot;";
			break;
		default:
			ent = "?";
			break;
		}
		rc |= wf_buf_append(b, ent, strlen(ent));
		s++;
	}
	return rc ? -1 : 0;
}
