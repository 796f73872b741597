/* record.c: one report record, built in a fixed buffer (record.h). */
#if __STDC_HOSTED__
#include <stdio.h>
#include <string.h>
#else
#include "types.h"
#endif

#include "record.h"

/* Appends s, unless it would leave no room for the closing "}\n" and NUL. */
static void
rec_raw(struct rec *r, const char *s)
{
	size_t n = strlen(s);

	if (r->len + n + 3 > sizeof(r->buf))
		return;
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = 0;
}

static void
rec_key(struct rec *r, const char *key)
{
	char tmp[64];

	snprintf(tmp, sizeof(tmp), ",\"%s\":", key);
	rec_raw(r, tmp);
}

void
rec_start(
    struct rec *r, const char *src, unsigned gen, uint64_t t_us, const char *ev)
{
	r->len = 0;
	r->buf[0] = 0;
	snprintf(r->buf, sizeof(r->buf),
	    "{\"v\":1,\"src\":\"%s\",\"gen\":%u,\"ev\":\"%s\",\"t_us\":%llu",
	    src, gen, ev, (unsigned long long)t_us);
	r->len = strlen(r->buf);
}

void
rec_u64(struct rec *r, const char *key, uint64_t v)
{
	char tmp[32];

	rec_key(r, key);
	snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	rec_raw(r, tmp);
}

void
rec_i64(struct rec *r, const char *key, long long v)
{
	char tmp[32];

	rec_key(r, key);
	snprintf(tmp, sizeof(tmp), "%lld", v);
	rec_raw(r, tmp);
}

void
rec_hex(struct rec *r, const char *key, uint64_t v)
{
	char tmp[32];

	rec_key(r, key);
	snprintf(tmp, sizeof(tmp), "\"0x%llx\"", (unsigned long long)v);
	rec_raw(r, tmp);
}

void
rec_bool(struct rec *r, const char *key, bool v)
{
	rec_key(r, key);
	rec_raw(r, v ? "true" : "false");
}

/* A string, escaped to ASCII: quote and backslash escaped, every other byte
 * outside 0x20-0x7e as \u00XX. */
void
rec_str(struct rec *r, const char *key, const char *s)
{
	char tmp[8];

	rec_key(r, key);
	rec_raw(r, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			snprintf(tmp, sizeof(tmp), "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			snprintf(tmp, sizeof(tmp), "\\u%04x", c);
		else
			snprintf(tmp, sizeof(tmp), "%c", c);
		rec_raw(r, tmp);
	}
	rec_raw(r, "\"");
}

void
rec_u32_list(struct rec *r, const char *key, const uint32_t *v, size_t n)
{
	char tmp[16];

	rec_key(r, key);
	rec_raw(r, "[");
	for (size_t i = 0; i < n; i++) {
		snprintf(tmp, sizeof(tmp), i ? ",%u" : "%u", (unsigned)v[i]);
		rec_raw(r, tmp);
	}
	rec_raw(r, "]");
}

void
rec_close(struct rec *r)
{
	memcpy(r->buf + r->len, "}\n", 3);
	r->len += 2;
}
