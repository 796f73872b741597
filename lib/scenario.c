/*
 * scenario.c: scenario files (see scenario.h, scenarios/README.md).
 *
 * Jansson gives no positions for keys, so errors find their line in the
 * source text: the key's first occurrence after its parent's (and inside
 * the right array element for expect[i]).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "expect.h"
#include "json.h"
#include "runspec_json.h"
#include "scenario.h"
#include "strdist.h"
#include "util.h"

#define AXIS_VALUES_MAX 64
#define EXPECT_RULES_MAX 64

enum ftype {
	F_INT,
	F_STR,
	F_QUIRKS
};

struct field {
	const char *name;
	enum ftype type;
	int min, max; /* F_INT range, F_STR max length */
};

/* Every field that is a run spec field, and so may be a matrix axis. */
static const struct field fields[] = {
	{ "cpus", F_INT, 1, RUNSPEC_MAX_CPUS },
	{ "mailbox_version", F_INT, 0, 1 },
	{ "policy", F_STR, 0, 15 },
	{ "steps", F_STR, 0, RUNSPEC_STEPS_MAX - 1 },
	{ "quirks", F_QUIRKS, 0, RUNSPEC_QUIRKS_MAX - 1 },
	{ "kdump_cpus", F_INT, 0, RUNSPEC_MAX_CPUS },
	{ "memory_mb", F_INT, 32, 16384 },
	{ "timeout_s", F_INT, 1, 86400 },
	/* The OS: "" = our test kernel; an absolute path or a Debian package
	 * name (a kernel artifact, resolved on the agent's host). */
	{ "kernel", F_STR, 0, RUNSPEC_PATH_MAX - 1 },
	{ "initrd", F_STR, 0, RUNSPEC_PATH_MAX - 1 },
	{ "append", F_STR, 0, RUNSPEC_APPEND_MAX - 1 },
	/* our test kernel from a path or a blob (bisects) */
	{ "test_kernel", F_STR, 0, RUNSPEC_PATH_MAX - 1 },
	{ NULL, 0, 0, 0 },
};

static const char *const field_names[] = {
	"cpus",
	"mailbox_version",
	"policy",
	"steps",
	"quirks",
	"kdump_cpus",
	"memory_mb",
	"timeout_s",
	"kernel",
	"initrd",
	"append",
	"test_kernel",
	NULL,
};

static const char *const top_keys[] = {
	"name",
	"description",
	"nightly",
	"cpus",
	"mailbox_version",
	"policy",
	"steps",
	"quirks",
	"kdump_cpus",
	"memory_mb",
	"timeout_s",
	"kernel",
	"initrd",
	"append",
	"test_kernel",
	"matrix",
	"expect",
	NULL,
};

/* Where errors point: the source label and text (text may be NULL). */
struct src {
	const char *label;
	const char *text;
	size_t len;
};

static const struct field *
field_find(const char *name)
{
	int i;

	for (i = 0; fields[i].name != NULL; i++) {
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	}
	return NULL;
}

/* --- positions in the source text --- */

/* Offset just past a string starting at text[i] == '"'. */
static size_t
skip_string(const struct src *s, size_t i)
{
	for (i++; i < s->len && s->text[i] != '"'; i++) {
		if (s->text[i] == '\\')
			i++;
	}
	return i + 1;
}

/* Offset of "key" followed by ':' at or after from, or from if none. */
static size_t
key_pos(const struct src *s, size_t from, const char *key)
{
	size_t i, klen = strlen(key), j;

	if (s->text == NULL)
		return 0;
	for (i = from; i < s->len; i++) {
		if (s->text[i] != '"')
			continue;
		j = skip_string(s, i);
		if (j - i - 2 == klen &&
		    memcmp(s->text + i + 1, key, klen) == 0) {
			while (j < s->len && isspace((unsigned char)s->text[j]))
				j++;
			if (j < s->len && s->text[j] == ':')
				return i;
		}
		i = j - 1;
	}
	return from;
}

/* Offset of element index of the first array opening at or after from. */
static size_t
elem_pos(const struct src *s, size_t from, size_t index)
{
	size_t i, n = 0;
	int depth = 0, want = 1;

	if (s->text == NULL)
		return 0;
	for (i = from; i < s->len && s->text[i] != '['; i++)
		;
	for (i++; i < s->len; i++) {
		char c = s->text[i];

		if (isspace((unsigned char)c))
			continue;
		if (want && depth == 0) {
			if (n == index)
				return i;
			want = 0;
		}
		if (c == '"')
			i = skip_string(s, i) - 1;
		else if (c == '[' || c == '{')
			depth++;
		else if ((c == ']' || c == '}') && depth-- == 0)
			break;
		else if (c == ',' && depth == 0) {
			n++;
			want = 1;
		}
	}
	return from;
}

static int
line_of(const struct src *s, size_t pos)
{
	int line = 1;
	size_t i;

	for (i = 0; i < pos && i < s->len; i++) {
		if (s->text[i] == '\n')
			line++;
	}
	return line;
}

/*
 * Sets the cause "LABEL:LINE: key 'PATH': MSG". key is a top-level key;
 * index >= 0 picks an element of its array, sub a key below.
 */
static void __attribute__((format(printf, 6, 7)))
src_error(const struct src *s, char **cause, const char *key, long index,
    const char *sub, const char *fmt, ...)
{
	char msg[1024], path[160], where[300];
	size_t pos = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key != NULL)
		pos = key_pos(s, 0, key);
	if (index >= 0)
		pos = elem_pos(s, pos, (size_t)index);
	if (sub != NULL)
		pos = key_pos(s, pos, sub);
	if (s->text != NULL)
		snprintf(
		    where, sizeof(where), "%s:%d", s->label, line_of(s, pos));
	else
		snprintf(where, sizeof(where), "%s", s->label);
	if (key == NULL) {
		wf_set_cause(cause, "%s: %s", where, msg);
		return;
	}
	if (index >= 0 && sub != NULL)
		snprintf(path, sizeof(path), "%s[%ld].%s", key, index, sub);
	else if (index >= 0)
		snprintf(path, sizeof(path), "%s[%ld]", key, index);
	else if (sub != NULL)
		snprintf(path, sizeof(path), "%s.%s", key, sub);
	else
		snprintf(path, sizeof(path), "%s", key);
	wf_set_cause(cause, "%s: key '%s': %s", where, path, msg);
}

/* --- field values --- */

/* Checks one value of a field; msg gets what is wrong. */
static int
check_value(const struct field *f, const json_t *v, char *msg, size_t size)
{
	const json_t *q;
	size_t i, total = 0;
	json_int_t n;

	switch (f->type) {
	case F_INT:
		if (!json_is_integer(v)) {
			snprintf(msg, size, "expected an integer, not %s",
			    wf_json_type_name(v));
			return -1;
		}
		n = json_integer_value(v);
		if (n < f->min || n > f->max) {
			snprintf(msg, size, "%lld is not in %d..%d",
			    (long long)n, f->min, f->max);
			return -1;
		}
		return 0;
	case F_STR:
		if (!json_is_string(v)) {
			snprintf(msg, size, "expected a string, not %s",
			    wf_json_type_name(v));
			return -1;
		}
		if (json_string_length(v) > (size_t)f->max ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			snprintf(msg, size,
			    "longer than %d bytes or holds a"
			    " NUL byte",
			    f->max);
			return -1;
		}
		return 0;
	case F_QUIRKS:
		if (!json_is_array(v)) {
			snprintf(msg, size,
			    "expected an array of quirk names,"
			    " not %s",
			    wf_json_type_name(v));
			return -1;
		}
		json_array_foreach (v, i, q) {
			if (!json_is_string(q) || json_string_length(q) == 0 ||
			    strlen(json_string_value(q)) !=
			        json_string_length(q) ||
			    strchr(json_string_value(q), ',') != NULL) {
				snprintf(msg, size,
				    "element %zu is not a quirk"
				    " name",
				    i);
				return -1;
			}
			total += json_string_length(q) + 1;
		}
		if (total > (size_t)f->max) {
			snprintf(msg, size,
			    "the quirks are longer than %d"
			    " bytes together",
			    f->max);
			return -1;
		}
		return 0;
	}
	return -1;
}

/* Sets the run spec field f from a checked value. */
static void
apply_value(struct runspec *rs, const struct field *f, const json_t *v)
{
	const json_t *q;
	size_t i, off = 0;

	if (strcmp(f->name, "cpus") == 0)
		rs->cpus = (int)json_integer_value(v);
	else if (strcmp(f->name, "mailbox_version") == 0)
		rs->mailbox_version = (int)json_integer_value(v);
	else if (strcmp(f->name, "kdump_cpus") == 0)
		rs->kdump_cpus = (int)json_integer_value(v);
	else if (strcmp(f->name, "memory_mb") == 0)
		rs->memory_mb = (int)json_integer_value(v);
	else if (strcmp(f->name, "timeout_s") == 0)
		rs->timeout_s = (int)json_integer_value(v);
	else if (strcmp(f->name, "policy") == 0)
		wf_strlcpy(
		    rs->policy, json_string_value(v), sizeof(rs->policy));
	else if (strcmp(f->name, "steps") == 0)
		wf_strlcpy(rs->steps, json_string_value(v), sizeof(rs->steps));
	else if (strcmp(f->name, "kernel") == 0) {
		/* a path or a blob ("sha256:HEX", a kernel users added) is
		 * used as is, anything else names a package */
		const char *k = json_string_value(v);
		int file = k[0] == '/' || runspec_blob_digest(k) != NULL;

		wf_strlcpy(file ? rs->kernel : rs->kernel_package, k,
		    file ? sizeof(rs->kernel) : sizeof(rs->kernel_package));
	} else if (strcmp(f->name, "initrd") == 0)
		wf_strlcpy(
		    rs->initrd, json_string_value(v), sizeof(rs->initrd));
	else if (strcmp(f->name, "test_kernel") == 0)
		wf_strlcpy(rs->test_kernel, json_string_value(v),
		    sizeof(rs->test_kernel));
	else if (strcmp(f->name, "append") == 0)
		wf_strlcpy(
		    rs->append, json_string_value(v), sizeof(rs->append));
	else {
		rs->quirks[0] = '\0';
		json_array_foreach (v, i, q) {
			off += (size_t)snprintf(rs->quirks + off,
			    sizeof(rs->quirks) - off, "%s%s", i ? "," : "",
			    json_string_value(q));
			if (off >= sizeof(rs->quirks))
				break;
		}
	}
}

/* The scenario-form base values of a fresh run spec. */
static json_t *
default_values(void)
{
	struct runspec rs;

	runspec_init(&rs);
	return json_pack("{s:i, s:i, s:s, s:s, s:[], s:i, s:i, s:i, s:s, s:s,"
	                 " s:s, s:s}",
	    "cpus", rs.cpus, "mailbox_version", rs.mailbox_version, "policy",
	    rs.policy, "steps", rs.steps, "quirks", "kdump_cpus", rs.kdump_cpus,
	    "memory_mb", rs.memory_mb, "timeout_s", rs.timeout_s, "kernel", "",
	    "initrd", "", "append", "", "test_kernel", "");
}

/* An axis: a non-empty array of distinct valid values; msg on error. */
static int
check_axis(const struct field *f, const json_t *arr, char *msg, size_t size)
{
	const json_t *v;
	size_t i, j;

	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > AXIS_VALUES_MAX) {
		snprintf(msg, size, "an axis is an array of 1 to %d values",
		    AXIS_VALUES_MAX);
		return -1;
	}
	json_array_foreach (arr, i, v) {
		if (check_value(f, v, msg, size) == -1) {
			char inner[512];

			snprintf(inner, sizeof(inner), "%s", msg);
			snprintf(msg, size, "value %zu: %s", i, inner);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (json_equal((json_t *)v, json_array_get(arr, j))) {
				snprintf(msg, size,
				    "value %zu repeats value"
				    " %zu",
				    i, j);
				return -1;
			}
		}
	}
	return 0;
}

/* --- validation --- */

static int
valid_name(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > SCENARIO_NAME_MAX ||
	    !(islower((unsigned char)name[0]) ||
	        isdigit((unsigned char)name[0])))
		return 0;
	for (i = 0; i < len; i++) {
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) &&
		    strchr("._-", name[i]) == NULL)
			return 0;
	}
	return 1;
}

static int
validate_top(
    const struct src *s, const json_t *obj, struct scenario *sc, char **cause)
{
	const json_t *v;
	const char *key, *near;
	char msg[512];
	size_t i;

	json_object_foreach ((json_t *)obj, key, v) {
		for (i = 0; top_keys[i] != NULL; i++) {
			if (strcmp(top_keys[i], key) == 0)
				break;
		}
		if (top_keys[i] == NULL) {
			near = wf_nearest(key, top_keys);
			src_error(s, cause, key, -1, NULL, "unknown key%s%s%s",
			    near ? " (did you mean '" : "", near ? near : "",
			    near ? "'?)" : "");
			return -1;
		}
	}
	v = json_object_get(obj, "name");
	if (!json_is_string(v) || !valid_name(json_string_value(v)) ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		src_error(s, cause, v != NULL ? "name" : NULL, -1, NULL,
		    v != NULL ? "expected 1 to %d of a-z 0-9 . _ -, starting"
		                " with a letter or digit" :
		                "the key 'name' is required",
		    SCENARIO_NAME_MAX);
		return -1;
	}
	wf_strlcpy(sc->name, json_string_value(v), sizeof(sc->name));
	v = json_object_get(obj, "description");
	if (v != NULL && (!json_is_string(v) || json_string_length(v) > 4096)) {
		src_error(s, cause, "description", -1, NULL,
		    "expected a"
		    " string of at most 4096 bytes");
		return -1;
	}
	v = json_object_get(obj, "nightly");
	if (v != NULL && !json_is_boolean(v)) {
		src_error(s, cause, "nightly", -1, NULL,
		    "expected true or"
		    " false, not %s",
		    wf_json_type_name(v));
		return -1;
	}
	sc->nightly = json_is_true(v);
	for (i = 0; fields[i].name != NULL; i++) {
		if ((v = json_object_get(obj, fields[i].name)) == NULL)
			continue;
		if (check_value(&fields[i], v, msg, sizeof(msg)) == -1) {
			src_error(
			    s, cause, fields[i].name, -1, NULL, "%s", msg);
			return -1;
		}
		json_object_set(sc->values, fields[i].name, (json_t *)v);
	}
	return 0;
}

static int
validate_matrix(
    const struct src *s, const json_t *m, struct scenario *sc, char **cause)
{
	const struct field *f;
	const json_t *v;
	const char *key;
	char msg[600];

	if (m == NULL)
		return 0;
	if (!json_is_object(m)) {
		src_error(s, cause, "matrix", -1, NULL,
		    "expected an object of"
		    " axes, not %s",
		    wf_json_type_name(m));
		return -1;
	}
	json_object_foreach ((json_t *)m, key, v) {
		if ((f = field_find(key)) == NULL) {
			src_error(s, cause, "matrix", -1, key,
			    "not a field"
			    " that can be an axis (cpus, mailbox_version,"
			    " policy, steps, quirks, kdump_cpus, memory_mb,"
			    " timeout_s)");
			return -1;
		}
		if (check_axis(f, v, msg, sizeof(msg)) == -1) {
			src_error(s, cause, "matrix", -1, key, "%s", msg);
			return -1;
		}
		json_object_set(sc->matrix, key, (json_t *)v);
	}
	return 0;
}

static int
validate_expect(
    const struct src *s, const json_t *e, struct scenario *sc, char **cause)
{
	const char *badkey = NULL;
	const json_t *rule;
	char *why = NULL;
	size_t i;

	if (e == NULL)
		return 0;
	if (!json_is_array(e) || json_array_size(e) > EXPECT_RULES_MAX) {
		src_error(s, cause, "expect", -1, NULL,
		    "expected an array of"
		    " at most %d rules",
		    EXPECT_RULES_MAX);
		return -1;
	}
	json_array_foreach (e, i, rule) {
		if (expect_rule_validate(rule, field_names, &badkey, &why) ==
		    -1) {
			const char *msg = wf_cause_str(why), *p;

			/* The path names the key already: drop "key 'K': ". */
			if (badkey != NULL && strncmp(msg, "key '", 5) == 0 &&
			    (p = strstr(msg, "': ")) != NULL)
				msg = p + 3;
			src_error(
			    s, cause, "expect", (long)i, badkey, "%s", msg);
			free(why);
			return -1;
		}
	}
	json_decref(sc->expect);
	sc->expect = json_deep_copy(e);
	return 0;
}

static int
canonical_sha256(const json_t *obj, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	char *text;
	int rc;

	if ((text = json_dumps(obj,
	         JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)) == NULL)
		return -1;
	rc = EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL);
	free(text);
	if (rc != 1 || n != sizeof(md))
		return -1;
	wf_hex(out, md, sizeof(md));
	return 0;
}

/* Every case must be a valid run spec: expand once and report the first. */
static int
validate_cases(const struct src *s, struct scenario *sc, char **cause)
{
	char *why = NULL, field[32];
	json_t *cases;
	size_t n;

	if ((cases = scenario_expand(sc, &why)) != NULL) {
		json_decref(cases);
		return 0;
	}
	/* runspec causes start with "FIELD:"; point at that key. */
	n = strcspn(wf_cause_str(why), ":");
	snprintf(field, sizeof(field), "%.*s", (int)(n < 31 ? n : 31),
	    wf_cause_str(why));
	if (strcmp(field, "memory") == 0)
		wf_strlcpy(field, "memory_mb", sizeof(field));
	else if (strcmp(field, "timeout") == 0)
		wf_strlcpy(field, "timeout_s", sizeof(field));
	else if (strncmp(field, "step", 4) == 0)
		wf_strlcpy(field, "steps", sizeof(field));
	if (field_find(field) != NULL && json_object_get(sc->matrix, field))
		src_error(
		    s, cause, "matrix", -1, field, "%s", wf_cause_str(why));
	else if (field_find(field) != NULL)
		src_error(s, cause, field, -1, NULL, "%s", wf_cause_str(why));
	else
		src_error(s, cause, NULL, -1, NULL, "%s", wf_cause_str(why));
	free(why);
	return -1;
}

static struct scenario *
parse_object(const struct src *s, const json_t *obj, char **cause)
{
	struct scenario *sc;

	if (!json_is_object(obj)) {
		src_error(s, cause, NULL, -1, NULL,
		    "a scenario is a JSON"
		    " object, not %s",
		    wf_json_type_name(obj));
		return NULL;
	}
	if ((sc = calloc(1, sizeof(*sc))) == NULL) {
		wf_set_cause(cause, "out of memory");
		return NULL;
	}
	sc->values = default_values();
	sc->matrix = json_object();
	sc->expect = json_array();
	sc->body = json_deep_copy(obj);
	if (validate_top(s, obj, sc, cause) == -1 ||
	    validate_matrix(s, json_object_get(obj, "matrix"), sc, cause) ==
	        -1 ||
	    validate_expect(s, json_object_get(obj, "expect"), sc, cause) ==
	        -1 ||
	    validate_cases(s, sc, cause) == -1)
		goto fail;
	if (canonical_sha256(obj, sc->sha256) == -1) {
		wf_set_cause(cause, "%s: cannot hash the scenario", s->label);
		goto fail;
	}
	return sc;
fail:
	scenario_free(sc);
	return NULL;
}

struct scenario *
scenario_parse(const char *label, const char *text, size_t len, char **cause)
{
	struct src s = { label, text, len };
	struct scenario *sc;
	json_error_t err;
	json_t *obj;

	if (len > SCENARIO_FILE_MAX) {
		wf_set_cause(cause, "%s: longer than %d bytes", label,
		    SCENARIO_FILE_MAX);
		return NULL;
	}
	if ((obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err)) ==
	    NULL) {
		wf_set_cause(cause, "%s:%d:%d: %s", label, err.line, err.column,
		    err.text);
		return NULL;
	}
	sc = parse_object(&s, obj, cause);
	json_decref(obj);
	return sc;
}

struct scenario *
scenario_from_json(const char *label, const json_t *obj, char **cause)
{
	struct src s = { label, NULL, 0 };

	return parse_object(&s, obj, cause);
}

struct scenario *
scenario_load_file(const char *path, char **cause)
{
	struct scenario *sc = NULL;
	char *text = NULL;
	size_t len;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		wf_set_cause(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((text = malloc(SCENARIO_FILE_MAX + 1)) == NULL) {
		wf_set_cause(cause, "out of memory");
		goto out;
	}
	len = fread(text, 1, SCENARIO_FILE_MAX + 1, f);
	if (ferror(f)) {
		wf_set_cause(cause, "%s: read error", path);
		goto out;
	}
	sc = scenario_parse(path, text, len, cause);
out:
	free(text);
	fclose(f);
	return sc;
}

void
scenario_free(struct scenario *sc)
{
	if (sc == NULL)
		return;
	json_decref(sc->body);
	json_decref(sc->values);
	json_decref(sc->matrix);
	json_decref(sc->expect);
	free(sc);
}

/* --- overrides and expansion --- */

int
scenario_set(struct scenario *sc, const json_t *set, char **cause)
{
	const struct field *f;
	const json_t *v;
	const char *key;
	char msg[600];
	int axis;

	if (!json_is_object(set)) {
		wf_set_cause(cause, "set: expected an object, not %s",
		    wf_json_type_name(set));
		return -1;
	}
	json_object_foreach ((json_t *)set, key, v) {
		if ((f = field_find(key)) == NULL) {
			wf_set_cause(cause,
			    "set: '%.64s' is not a field (cpus,"
			    " mailbox_version, policy, steps, quirks,"
			    " kdump_cpus, memory_mb, timeout_s, kernel, initrd,"
			    " append)",
			    key);
			return -1;
		}
		/* quirks: a list of names is one value, a list of lists an axis. */
		axis = json_is_array(v) &&
		    (f->type != F_QUIRKS ||
		        json_is_array(json_array_get(v, 0)));
		if (axis ? check_axis(f, v, msg, sizeof(msg)) :
		           check_value(f, v, msg, sizeof(msg))) {
			wf_set_cause(cause, "set: key '%s': %s", key, msg);
			return -1;
		}
		if (axis) {
			json_object_set(sc->matrix, key, (json_t *)v);
		} else {
			json_object_set(sc->values, key, (json_t *)v);
			json_object_del(sc->matrix, key);
		}
	}
	return 0;
}

static json_t *
expand_case(const struct scenario *sc, const char *const axes[],
    const size_t pick[], size_t naxes, size_t index, char **cause)
{
	json_t *values, *matrix, *v, *out = NULL;
	struct runspec rs;
	size_t a;
	int i;

	values = json_deep_copy(sc->values);
	matrix = json_object();
	for (a = 0; a < naxes; a++) {
		v = json_array_get(
		    json_object_get(sc->matrix, axes[a]), pick[a]);
		json_object_set(values, axes[a], v);
		json_object_set(matrix, axes[a], v);
	}
	runspec_init(&rs);
	for (i = 0; fields[i].name != NULL; i++)
		apply_value(
		    &rs, &fields[i], json_object_get(values, fields[i].name));
	/* The test kernel's 32 MiB cannot hold Linux: a kernel given to a
	 * test-kernel scenario (submit --kernel) gets run-qemu's default. */
	if (RUNSPEC_IS_LINUX(&rs) && rs.memory_mb < RUNSPEC_LINUX_MIN_MB)
		rs.memory_mb = RUNSPEC_LINUX_MB;
	if (runspec_validate(&rs, cause) == -1)
		goto out;
	out = json_pack("{s:I, s:O, s:O, s:o, s:o}", "index", (json_int_t)index,
	    "matrix", matrix, "values", values, "params", runspec_to_json(&rs),
	    "expected", expect_for_case(sc->expect, values));
out:
	json_decref(values);
	json_decref(matrix);
	return out;
}

json_t *
scenario_expand(const struct scenario *sc, char **cause)
{
	const char *axes[16];
	size_t sizes[16], pick[16] = { 0 }, naxes = 0, total = 1, idx, a;
	json_t *cases, *c;
	int i;

	for (i = 0; fields[i].name != NULL; i++) {
		json_t *axis = json_object_get(sc->matrix, fields[i].name);

		if (axis == NULL)
			continue;
		axes[naxes] = fields[i].name;
		sizes[naxes] = json_array_size(axis);
		total *= sizes[naxes];
		if (sizes[naxes] == 0 || total > SCENARIO_CASES_MAX) {
			wf_set_cause(cause,
			    "matrix: more than %d cases (or an"
			    " empty axis)",
			    SCENARIO_CASES_MAX);
			return NULL;
		}
		naxes++;
	}
	cases = json_array();
	for (idx = 0; idx < total; idx++) {
		size_t rest = idx;

		for (a = naxes; a-- > 0;) {
			pick[a] = rest % sizes[a];
			rest /= sizes[a];
		}
		if ((c = expand_case(sc, axes, pick, naxes, idx, cause)) ==
		    NULL) {
			json_decref(cases);
			return NULL;
		}
		json_array_append_new(cases, c);
	}
	return cases;
}
