/*
 * export.c: case names, links, times, the first failed check and log tails
 * for the exports and the notifications (see export.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export.h"
#include "util.h"

#define TAIL_CHUNKS 8 /* log chunks read from the end */

/* One matrix value as the name shows it. */
static void
name_value(struct wf_buf *b, const json_t *v)
{
	const json_t *x;
	char *text;
	size_t i;

	if (json_is_string(v)) {
		wf_buf_printf(b, "%s", json_string_value(v));
	} else if (json_is_integer(v)) {
		wf_buf_printf(b, "%lld", (long long)json_integer_value(v));
	} else if (json_is_array(v)) {
		if (json_array_size(v) == 0)
			wf_buf_printf(b, "none");
		json_array_foreach (v, i, x) {
			if (i > 0)
				wf_buf_printf(b, "+");
			name_value(b, x);
		}
	} else {
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		wf_buf_printf(b, "%s", text != NULL ? text : "?");
		free(text);
	}
}

static int
by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *
export_kernel(const json_t *params)
{
	static const char *const keys[] = { "kernel_package", "kernel",
		"test_kernel", NULL };
	const char *k;
	int i;

	for (i = 0; keys[i] != NULL; i++) {
		k = json_string_value(json_object_get(params, keys[i]));
		if (k != NULL && k[0] != '\0')
			return k;
	}
	return NULL;
}

char *
export_case_name(const json_t *matrix, const json_t *params)
{
	const char *keys[64], *k, *kernel = export_kernel(params);
	struct wf_buf b;
	json_t *v;
	size_t n = 0, i;

	json_object_foreach ((json_t *)matrix, k, v) {
		if (n < sizeof(keys) / sizeof(keys[0]))
			keys[n++] = k;
	}
	qsort(keys, n, sizeof(keys[0]), by_key);
	wf_buf_init(&b, 64 * 1024);
	for (i = 0; i < n; i++) {
		wf_buf_printf(&b, "%s%s=", i > 0 ? "," : "", keys[i]);
		name_value(&b, json_object_get(matrix, keys[i]));
	}
	if (kernel != NULL && json_object_get(matrix, "kernel") == NULL &&
	    json_object_get(matrix, "test_kernel") == NULL) {
		if (strncmp(kernel, "sha256:", 7) == 0)
			wf_buf_printf(
			    &b, "%stest_kernel=%.19s", n ? "," : "", kernel);
		else
			wf_buf_printf(&b, "%skernel=%s", n ? "," : "", kernel);
	}
	if (b.len == 0)
		wf_buf_printf(&b, "default");
	return wf_buf_steal(&b);
}

char *
export_url(const struct api *api, const char *fmt, ...)
{
	const char *base = __atomic_load_n(
	    &api->cfg->public_url, __ATOMIC_ACQUIRE);
	size_t blen;
	struct wf_buf b;
	va_list ap;
	char *path = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	if (base == NULL)
		base = ""; /* the moment before serve knows its port */
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	wf_buf_init(&b, blen + strlen(path) + 1);
	wf_buf_append(&b, base, blen);
	wf_buf_printf(&b, "%s", path);
	free(path);
	return wf_buf_steal(&b);
}

const char *
export_key(char key[32], const json_t *id)
{
	snprintf(key, 32, "%lld", (long long)json_integer_value(id));
	return key;
}

void
export_time(int64_t ms, char out[40])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%03dZ", s, (int)(ms % 1000));
}

json_t *
export_first_failed(struct db *db, int64_t job)
{
	json_t *row;

	row = db_row(db,
	    "SELECT check_name AS \"check\", gen, expected AS"
	    " \"expected:json\", observed AS \"observed:json\" FROM checks"
	    " WHERE job_id = ? AND ok = 0 ORDER BY gen, id LIMIT 1",
	    "i", job);
	return row;
}

int
export_log_tail(struct db *db, int64_t job, int port, int max_lines,
    size_t max_bytes, struct wf_buf *out)
{
	struct wf_buf b;
	const char *p, *q, *lo, *end;
	int lines = 0;

	wf_buf_init(&b, TAIL_CHUNKS * max_bytes + 1);
	if (db_bytes(db, &b,
	        "SELECT substr(data, -?3) FROM (SELECT chunk, data FROM logs"
	        " WHERE job_id = ?1 AND port = ?2 ORDER BY chunk DESC LIMIT"
	        " ?4) ORDER BY chunk",
	        "idii", job, port, (int64_t)max_bytes,
	        (int64_t)TAIL_CHUNKS) == -1) {
		wf_buf_free(&b);
		return -1;
	}
	if (b.len == 0) {
		wf_buf_free(&b);
		return 0;
	}
	/* Back from the end (its own newline aside) over max_lines lines. */
	end = b.data + b.len;
	lo = b.len > max_bytes ? end - max_bytes : b.data;
	p = end;
	if (p > lo && p[-1] == '\n')
		p--;
	while (p > lo && !(p[-1] == '\n' && ++lines >= max_lines))
		p--;
	/* Cut inside a line by max_bytes: from the next whole line. */
	if (p == lo && lo > b.data && lo[-1] != '\n' &&
	    (q = memchr(lo, '\n', (size_t)(end - lo))) != NULL && q + 1 < end)
		p = q + 1;
	wf_buf_append(out, p, (size_t)(end - p));
	wf_buf_free(&b);
	return 0;
}
