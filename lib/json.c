/*
 * json.c: strict JSON input helpers; see json.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "json.h"
#include "util.h"

/* Keys come from the input: show them bounded and printable in messages. */
#define KEY_SHOWN_MAX 64

static void
show_key(char *out, size_t size, const char *key)
{
	size_t i;

	for (i = 0; key[i] != '\0' && i + 1 < size; i++) {
		unsigned char c = (unsigned char)key[i];

		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[i] = '\0';
	if (key[i] != '\0' && size > 4)
		memcpy(out + size - 4, "...", 4);
}

const char *
wf_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "real";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

json_t *
wf_json_loadb(const char *data, size_t len, size_t max_len, char **cause)
{
	json_error_t error;
	json_t *v;

	if (len > max_len) {
		wf_set_cause(cause,
		    "JSON input too large: %zu bytes, limit %zu", len, max_len);
		return NULL;
	}
	v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &error);
	if (v == NULL)
		wf_set_cause(cause, "invalid JSON at line %d, column %d: %s",
		    error.line, error.column, error.text);
	return v;
}

json_t *
wf_json_load_file(const char *path, size_t max_len, char **cause)
{
	struct wf_buf b;
	json_error_t error;
	json_t *v = NULL;
	char chunk[8192];
	size_t n;
	FILE *f;

	wf_buf_init(&b, max_len);
	if ((f = fopen(path, "r")) == NULL) {
		wf_set_cause(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (wf_buf_append(&b, chunk, n) == -1) {
			wf_set_cause(cause, "%s: %s", path,
			    b.truncated ? "file too large for JSON input" :
			                  "out of memory");
			goto out;
		}
	}
	if (ferror(f)) {
		wf_set_cause(cause, "%s: read error", path);
		goto out;
	}
	v = json_loadb(wf_buf_str(&b), b.len, JSON_REJECT_DUPLICATES, &error);
	if (v == NULL)
		wf_set_cause(cause, "%s:%d:%d: %s", path, error.line,
		    error.column, error.text);
out:
	if (f != NULL)
		fclose(f);
	wf_buf_free(&b);
	return v;
}

int
wf_json_check_keys(const json_t *obj, const char *const allowed[], char **cause)
{
	char shown[KEY_SHOWN_MAX];
	const char *key;
	json_t *v;
	size_t i;

	if (!json_is_object(obj)) {
		wf_set_cause(cause, "expected a JSON object, not %s",
		    obj != NULL ? wf_json_type_name(obj) : "nothing");
		return -1;
	}
	json_object_foreach ((json_t *)obj, key, v) {
		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(key, allowed[i]) == 0)
				break;
		}
		if (allowed[i] == NULL) {
			show_key(shown, sizeof shown, key);
			wf_set_cause(cause, "unknown key \"%s\"", shown);
			return -1;
		}
	}
	return 0;
}

/*
 * Common front half of the getters: *v is the value, or NULL when the key
 * is absent and optional (the caller then returns 0).
 */
static int
lookup(
    const json_t *obj, const char *key, int required, json_t **v, char **cause)
{
	char shown[KEY_SHOWN_MAX];

	*v = NULL;
	if (!json_is_object(obj)) {
		wf_set_cause(cause, "expected a JSON object, not %s",
		    obj != NULL ? wf_json_type_name(obj) : "nothing");
		return -1;
	}
	*v = json_object_get(obj, key);
	if (*v == NULL && required) {
		show_key(shown, sizeof shown, key);
		wf_set_cause(cause, "missing required key \"%s\"", shown);
		return -1;
	}
	return 0;
}

static int
wrong_type(const char *key, const char *expected, const json_t *v, char **cause)
{
	char shown[KEY_SHOWN_MAX];

	show_key(shown, sizeof shown, key);
	wf_set_cause(cause, "key \"%s\" must be %s, not %s", shown, expected,
	    wf_json_type_name(v));
	return -1;
}

int
wf_json_get_str(const json_t *obj, const char *key, int required, size_t maxlen,
    const char **out, char **cause)
{
	char shown[KEY_SHOWN_MAX];
	const char *s;
	json_t *v;

	if (lookup(obj, key, required, &v, cause) == -1)
		return -1;
	if (v == NULL)
		return 0; /* optional and absent: keep the default */
	if (!json_is_string(v))
		return wrong_type(key, "a string", v, cause);
	s = json_string_value(v);
	/* Jansson can hold NULs (\u0000 under JSON_ALLOW_NUL); C strings can't. */
	if (json_string_length(v) != strlen(s)) {
		show_key(shown, sizeof shown, key);
		wf_set_cause(
		    cause, "key \"%s\" must not contain NUL bytes", shown);
		return -1;
	}
	if (json_string_length(v) > maxlen) {
		show_key(shown, sizeof shown, key);
		wf_set_cause(cause, "key \"%s\" is longer than %zu bytes",
		    shown, maxlen);
		return -1;
	}
	*out = s;
	return 0;
}

int
wf_json_get_int(const json_t *obj, const char *key, int required,
    json_int_t min, json_int_t max, json_int_t *out, char **cause)
{
	char shown[KEY_SHOWN_MAX];
	json_int_t n;
	json_t *v;

	if (lookup(obj, key, required, &v, cause) == -1)
		return -1;
	if (v == NULL)
		return 0; /* optional and absent: keep the default */
	if (!json_is_integer(v))
		return wrong_type(key, "an integer", v, cause);
	n = json_integer_value(v);
	if (n < min || n > max) {
		show_key(shown, sizeof shown, key);
		wf_set_cause(cause,
		    "key \"%s\" must be between %lld and %lld,"
		    " not %lld",
		    shown, (long long)min, (long long)max, (long long)n);
		return -1;
	}
	*out = n;
	return 0;
}

int
wf_json_get_bool(
    const json_t *obj, const char *key, int required, int *out, char **cause)
{
	json_t *v;

	if (lookup(obj, key, required, &v, cause) == -1)
		return -1;
	if (v == NULL)
		return 0; /* optional and absent: keep the default */
	if (!json_is_boolean(v))
		return wrong_type(key, "true or false", v, cause);
	*out = json_is_true(v);
	return 0;
}

int
wf_json_get_real(const json_t *obj, const char *key, int required, double min,
    double max, double *out, char **cause)
{
	char shown[KEY_SHOWN_MAX];
	double d;
	json_t *v;

	if (lookup(obj, key, required, &v, cause) == -1)
		return -1;
	if (v == NULL)
		return 0; /* optional and absent: keep the default */
	if (!json_is_number(v))
		return wrong_type(key, "a number", v, cause);
	d = json_number_value(v);
	if (!isfinite(d) || d < min || d > max)
		show_key(shown, sizeof shown, key);
	if (!isfinite(d)) {
		wf_set_cause(
		    cause, "key \"%s\" must be a finite number", shown);
		return -1;
	}
	if (d < min || d > max) {
		wf_set_cause(cause,
		    "key \"%s\" must be between %g and %g,"
		    " not %g",
		    shown, min, max, d);
		return -1;
	}
	*out = d;
	return 0;
}

json_t *
wf_json_text(const void *s, size_t len)
{
	struct wf_buf b;
	json_t *j;

	if (s == NULL)
		return json_null();
	wf_buf_init(&b, len * 3 + 1);
	if (wf_buf_utf8(&b, s, len) == -1) {
		wf_buf_free(&b);
		return NULL;
	}
	j = json_stringn(wf_buf_str(&b), b.len);
	wf_buf_free(&b);
	return j;
}

json_t *
wf_json_textz(const char *s)
{
	return s != NULL ? wf_json_text(s, strlen(s)) : json_null();
}
