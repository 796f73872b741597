/*
 * records.c: reading report records from a byte stream, strictly.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "records.h"
#include "util.h"

static const char *const record_srcs[] = { "fw", "os", "host", NULL };

int
records_validate(const json_t *rec, char **cause)
{
	const char *src = NULL, *ev = NULL;
	json_int_t v = 0, gen = 0, t = 0;
	int known = 0;

	if (!json_is_object(rec)) {
		wf_set_cause(cause, "a record must be a JSON object, not %s",
		    wf_json_type_name(rec));
		return -1;
	}
	if (wf_json_get_int(rec, "v", 1, 1, 1, &v, cause) < 0 ||
	    wf_json_get_str(rec, "src", 1, 8, &src, cause) < 0 ||
	    wf_json_get_int(rec, "gen", 1, 0, 1000000, &gen, cause) < 0 ||
	    wf_json_get_str(rec, "ev", 1, 32, &ev, cause) < 0 ||
	    wf_json_get_int(rec, "t_us", 1, 0, INT64_MAX, &t, cause) < 0)
		return -1;
	for (int i = 0; record_srcs[i]; i++)
		known |= !strcmp(src, record_srcs[i]);
	if (!known) {
		wf_set_cause(cause, "src: '%s' is not fw, os or host", src);
		return -1;
	}
	for (const char *p = ev; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		        *p == '-')) {
			wf_set_cause(cause,
			    "ev: '%s' is not a lower-case event name", ev);
			return -1;
		}
	if (!*ev) {
		wf_set_cause(cause, "ev: empty event name");
		return -1;
	}
	return 0;
}

json_t *
records_parse(const char *line, size_t len, char **cause)
{
	json_t *rec;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 ||
		    (unsigned char)line[i] > 0x7e) {
			wf_set_cause(cause,
			    "byte 0x%02x at column %zu: records are printable ASCII",
			    (unsigned char)line[i], i + 1);
			return NULL;
		}
	rec = wf_json_loadb(line, len, RECORD_MAX, cause);
	if (!rec)
		return NULL;
	if (records_validate(rec, cause) < 0) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

void
records_reader_init(struct records_reader *r)
{
	memset(r, 0, sizeof(*r));
}

static void
drop(struct records_reader *r, unsigned long *counter, const char *why)
{
	(*counter)++;
	wf_strlcpy(r->last_cause, why, sizeof(r->last_cause));
}

static void
end_line(struct records_reader *r, records_reader_cb cb, void *arg)
{
	char *cause = NULL;
	json_t *rec;
	size_t len = r->len;

	if (len && r->line[len - 1] == '\r')
		len--;
	if (r->overlong) {
		drop(r, &r->dropped_overlong, "line longer than 4096 bytes");
	} else if (len) {
		rec = records_parse(r->line, len, &cause);
		if (rec) {
			r->records++;
			cb(arg, rec);
		} else {
			drop(r,
			    strstr(wf_cause_str(cause), "printable ASCII") ?
			        &r->dropped_binary :
			        &r->dropped_invalid,
			    wf_cause_str(cause));
		}
		free(cause);
	}
	r->len = 0;
	r->overlong = 0;
}

void
records_reader_feed(struct records_reader *r, const char *data, size_t n,
    records_reader_cb cb, void *arg)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n') {
			end_line(r, cb, arg);
			continue;
		}
		if (r->len >= RECORD_MAX) {
			r->overlong = 1; /* keep swallowing until the newline */
			continue;
		}
		r->line[r->len++] = data[i];
	}
}

void
records_reader_finish(struct records_reader *r)
{
	if (r->len || r->overlong)
		drop(r, &r->dropped_partial,
		    "last line has no newline (output cut?)");
	r->len = 0;
	r->overlong = 0;
}

unsigned long
records_reader_dropped(const struct records_reader *r)
{
	return r->dropped_overlong + r->dropped_binary + r->dropped_invalid +
	    r->dropped_partial;
}

static void
append_cb(void *arg, json_t *rec)
{
	json_array_append_new(arg, rec);
}

json_t *
records_load_file(const char *path, struct records_reader *stats, char **cause)
{
	char buf[65536];
	json_t *arr;
	FILE *f;
	size_t n;

	f = fopen(path, "rb");
	if (!f) {
		wf_set_cause(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	arr = json_array();
	records_reader_init(stats);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		records_reader_feed(stats, buf, n, append_cb, arr);
	records_reader_finish(stats);
	fclose(f);
	return arr;
}
