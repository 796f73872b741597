/*
 * expect.c: expectation rules and the as-expected decision (see expect.h).
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "json.h"
#include "strdist.h"
#include "util.h"

/* What lib/invariants.c emits (keep in step with it). */
static const char *const check_names[] = {
	"apic-ids",
	"bring-up-finished",
	"cpus-online",
	"crash-notes",
	"generations",
	"madt-entry",
	"madt-seen",
	"mailbox-address",
	"mailbox-after-kexec",
	"mailbox-idle",
	"no-kernel-errors",
	"offline",
	"reset-vector",
	"woken-through-mailbox",
	NULL,
};

static const char *const verdicts[] = {
	"pass",
	"fail",
	"hang",
	"crash",
	"skip",
	NULL,
};

static int
in_list(const char *const list[], const char *s)
{
	int i;

	for (i = 0; list[i] != NULL; i++) {
		if (strcmp(list[i], s) == 0)
			return 1;
	}
	return 0;
}

int
expect_check_known(const char *name)
{
	return in_list(check_names, name);
}

/* "element I: 'NAME' is not a known check (did you mean 'NEAR'?)". */
static void
unknown_check(const char *name, size_t i, char **cause)
{
	const char *near = wf_nearest(name, check_names);

	wf_set_cause(cause,
	    "key 'failing_checks': element %zu: '%.64s' is not a known check%s%s%s",
	    i, name, near ? " (did you mean '" : "", near ? near : "",
	    near ? "'?)" : "");
}

int
expect_verdict_known(const char *v)
{
	return in_list(verdicts, v);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A new sorted array of the unique strings of arr (all strings). */
static json_t *
sorted_set(const json_t *arr)
{
	const char *names[64];
	json_t *out = json_array(), *v;
	size_t i, n = 0;

	json_array_foreach (arr, i, v) {
		if (json_is_string(v) && n < 64)
			names[n++] = json_string_value(v);
	}
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
			json_array_append_new(out, json_string(names[i]));
	}
	return out;
}

int
expect_rule_validate(const json_t *rule, const char *const fields[],
    const char **badkey, char **cause)
{
	static const char *const keys[] = {
		"when",
		"verdict",
		"failing_checks",
		"note",
		NULL,
	};
	const char *verdict = NULL, *note = NULL, *key;
	const json_t *when, *fc, *v;
	size_t i, j;

	*badkey = NULL;
	if (!json_is_object(rule)) {
		wf_set_cause(cause, "expected an object, not %s",
		    wf_json_type_name(rule));
		return -1;
	}
	if (wf_json_check_keys(rule, keys, cause) == -1)
		return -1;
	*badkey = "verdict";
	if (wf_json_get_str(rule, "verdict", 1, 16, &verdict, cause) == -1)
		return -1;
	*badkey = "note";
	if (wf_json_get_str(rule, "note", 0, 1024, &note, cause) == -1)
		return -1;
	*badkey = "verdict";
	if (!expect_verdict_known(verdict)) {
		wf_set_cause(cause,
		    "key 'verdict': '%s' is not pass, fail,"
		    " hang, crash or skip",
		    verdict);
		return -1;
	}
	*badkey = "when";
	if ((when = json_object_get(rule, "when")) != NULL) {
		if (!json_is_object(when)) {
			wf_set_cause(cause,
			    "key 'when': expected an object,"
			    " not %s",
			    wf_json_type_name(when));
			return -1;
		}
		json_object_foreach ((json_t *)when, key, v) {
			if (strcmp(key, EXPECT_KERNEL_VERSION) == 0 &&
			    !json_is_string(v) && !json_is_array(v)) {
				wf_set_cause(cause,
				    "key 'when': kernel_version is a glob"
				    " or a list of globs");
				return -1;
			}
			if (!in_list(fields, key) &&
			    strcmp(key, EXPECT_KERNEL_VERSION) != 0) {
				wf_set_cause(cause,
				    "key 'when': unknown field"
				    " '%s'",
				    key);
				return -1;
			}
		}
	}
	*badkey = "failing_checks";
	fc = json_object_get(rule, "failing_checks");
	if (fc != NULL && !json_is_array(fc)) {
		wf_set_cause(cause,
		    "key 'failing_checks': expected an array,"
		    " not %s",
		    wf_json_type_name(fc));
		return -1;
	}
	json_array_foreach (fc, i, v) {
		if (!json_is_string(v)) {
			wf_set_cause(cause,
			    "key 'failing_checks': element %zu"
			    " is not a check name (a string)",
			    i);
			return -1;
		}
		if (!expect_check_known(json_string_value(v))) {
			unknown_check(json_string_value(v), i, cause);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (json_equal(v, json_array_get(fc, j))) {
				wf_set_cause(cause,
				    "key 'failing_checks': '%s'"
				    " given twice",
				    json_string_value(v));
				return -1;
			}
		}
	}
	if (strcmp(verdict, "pass") == 0 && json_array_size(fc) > 0) {
		wf_set_cause(cause,
		    "key 'failing_checks': a pass expects no"
		    " failing check");
		return -1;
	}
	if (strcmp(verdict, "fail") == 0 && json_array_size(fc) == 0) {
		wf_set_cause(cause,
		    "key 'failing_checks': a fail must name the"
		    " checks expected to fail");
		return -1;
	}
	return 0;
}

/* "kernel_version": a glob (or a list of them) against the version of a
 * kernel users added (set by the controller; absent otherwise). */
static int
version_matches(const json_t *want, const json_t *have)
{
	const json_t *v;
	size_t i;

	if (!json_is_string(have))
		return 0;
	if (json_is_string(want))
		return fnmatch(json_string_value(want), json_string_value(have),
		           0) == 0;
	json_array_foreach (want, i, v) {
		if (json_is_string(v) &&
		    fnmatch(json_string_value(v), json_string_value(have), 0) ==
		        0)
			return 1;
	}
	return 0;
}

/* One "when" value against a case value: equal, or any of a list. */
static int
when_matches(const char *key, const json_t *want, const json_t *have)
{
	const json_t *v;
	size_t i;

	if (strcmp(key, EXPECT_KERNEL_VERSION) == 0)
		return version_matches(want, have);
	if (json_equal((json_t *)want, (json_t *)have))
		return 1;
	if (!json_is_array(want) || strcmp(key, "quirks") == 0)
		return 0;
	json_array_foreach (want, i, v) {
		if (json_equal((json_t *)v, (json_t *)have))
			return 1;
	}
	return 0;
}

json_t *
expect_for_case(const json_t *rules, const json_t *values)
{
	const json_t *rule, *when, *want, *fc;
	const char *key;
	size_t i;
	int match;

	json_array_foreach (rules, i, rule) {
		match = 1;
		when = json_object_get(rule, "when");
		json_object_foreach ((json_t *)when, key, want) {
			if (!when_matches(
			        key, want, json_object_get(values, key))) {
				match = 0;
				break;
			}
		}
		if (!match)
			continue;
		fc = json_object_get(rule, "failing_checks");
		return json_pack("{s:O, s:o}", "verdict",
		    json_object_get(rule, "verdict"), "failing_checks",
		    fc != NULL ? sorted_set(fc) : json_array());
	}
	return json_pack("{s:s, s:[]}", "verdict", "pass", "failing_checks");
}

json_t *
expect_failing_set(const json_t *checks)
{
	json_t *names = json_array(), *set;
	const json_t *c;
	size_t i;

	json_array_foreach (checks, i, c) {
		if (json_is_false(json_object_get(c, "ok")))
			json_array_append(names, json_object_get(c, "check"));
	}
	set = sorted_set(names);
	json_decref(names);
	return set;
}

int
expect_as_expected(
    const char *verdict, const json_t *failing, const json_t *expected)
{
	const char *want = json_string_value(
	    json_object_get(expected, "verdict"));
	json_t *a, *b;
	int eq;

	if (verdict == NULL || want == NULL || strcmp(verdict, "infra") == 0 ||
	    strcmp(verdict, want) != 0)
		return 0;
	a = sorted_set(failing);
	b = sorted_set(json_object_get(expected, "failing_checks"));
	eq = json_equal(a, b);
	json_decref(a);
	json_decref(b);
	return eq;
}
