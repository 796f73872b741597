/*
 * test_json.c: unit tests for lib/json, mostly the bad input it must turn
 * into messages: malformed JSON, wrong types, unknown keys, NUL bytes,
 * huge numbers, oversized input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "test.h"

/* Parse a literal that the test knows is valid. */
static json_t *
parse(const char *text)
{
	char *cause = NULL;
	json_t *v = wf_json_loadb(text, strlen(text), 1 << 20, &cause);

	if (v == NULL)
		printf("  parse(%s): %s\n", text, cause);
	free(cause);
	return v;
}

/* The cause of parsing text, or NULL if it parsed; the caller frees. */
static char *
parse_error(const char *text, size_t len, size_t max)
{
	char *cause = NULL;
	json_t *v = wf_json_loadb(text, len, max, &cause);

	json_decref(v);
	return v == NULL ? cause : NULL;
}

TEST(loadb_valid_object)
{
	json_t *v = parse("{\"a\": 1, \"b\": [true, null]}");

	REQUIRE(v != NULL);
	CHECK(json_is_object(v));
	json_decref(v);
}

TEST(loadb_malformed_names_line_and_column)
{
	char *cause = parse_error("{\n  \"a\": 1,\n  \"b\": }", 20, 1000);

	CHECK_STR_CONTAINS(cause, "line 3");
	CHECK_STR_CONTAINS(cause, "column");
	free(cause);
}

TEST(loadb_rejects_trailing_garbage)
{
	char *cause = parse_error("{} x", 4, 1000);

	CHECK(cause != NULL);
	free(cause);
}

TEST(loadb_rejects_truncated_and_empty)
{
	char *cause = parse_error("{\"a\": ", 6, 1000);

	CHECK(cause != NULL);
	free(cause);
	cause = parse_error("", 0, 1000);
	CHECK(cause != NULL);
	free(cause);
}

TEST(loadb_rejects_duplicate_keys)
{
	char *cause = parse_error("{\"a\": 1, \"a\": 2}", 16, 1000);

	CHECK_STR_CONTAINS(cause, "duplicate");
	free(cause);
}

TEST(loadb_rejects_oversized_input)
{
	char *cause = parse_error("{\"key\": \"value\"}", 16, 10);

	CHECK_STR_CONTAINS(cause, "too large");
	CHECK_STR_CONTAINS(cause, "16 bytes");
	free(cause);
}

TEST(loadb_rejects_huge_numbers)
{
	const char *ints = "{\"n\": 123456789012345678901234567890}";
	const char *reals = "{\"n\": 1e999}";
	char *cause;

	cause = parse_error(ints, strlen(ints), 1000);
	CHECK_STR_CONTAINS(cause, "too big");
	free(cause);
	cause = parse_error(reals, strlen(reals), 1000);
	CHECK_STR_CONTAINS(cause, "overflow");
	free(cause);
}

TEST(loadb_rejects_nul_in_input)
{
	static const char raw[] = "{\"s\": \"a\0b\"}";
	const char *escaped = "{\"s\": \"a\\u0000b\"}";
	char *cause;

	cause = parse_error(raw, sizeof raw - 1, 1000);
	CHECK(cause != NULL);
	free(cause);
	cause = parse_error(escaped, strlen(escaped), 1000);
	CHECK(cause != NULL);
	free(cause);
}

TEST(loadb_rejects_deep_nesting)
{
	char text[20001];
	char *cause;

	memset(text, '[', 10000);
	memset(text + 10000, ']', 10000);
	text[20000] = '\0';
	cause = parse_error(text, 20000, 1 << 20);
	CHECK(cause != NULL);
	free(cause);
}

TEST(load_file_names_path_line_column)
{
	char path[] = "/tmp/wf-test-json-XXXXXX";
	const char *text = "{\n  \"cpus\": 4,\n  \"steps\": [1,,2]\n}\n";
	char *cause = NULL;
	json_t *v;
	int fd;

	fd = mkstemp(path);
	REQUIRE(fd != -1);
	CHECK_EQ_INT(write(fd, text, strlen(text)), strlen(text));
	close(fd);
	v = wf_json_load_file(path, 1000, &cause);
	CHECK(v == NULL);
	CHECK_STR_CONTAINS(cause, path);
	CHECK_STR_CONTAINS(cause, ":3:");
	free(cause);
	cause = NULL;
	v = wf_json_load_file(path, 10, &cause);
	CHECK(v == NULL);
	CHECK_STR_CONTAINS(cause, "too large");
	free(cause);
	unlink(path);
	cause = NULL;
	v = wf_json_load_file(path, 1000, &cause);
	CHECK(v == NULL);
	CHECK_STR_CONTAINS(cause, "No such file");
	free(cause);
}

TEST(load_file_valid)
{
	char path[] = "/tmp/wf-test-json-XXXXXX";
	const char *text = "{\"cpus\": 4}";
	char *cause = NULL;
	json_int_t cpus = 0;
	json_t *v;
	int fd;

	fd = mkstemp(path);
	REQUIRE(fd != -1);
	CHECK_EQ_INT(write(fd, text, strlen(text)), strlen(text));
	close(fd);
	v = wf_json_load_file(path, 1000, &cause);
	unlink(path);
	REQUIRE(v != NULL);
	CHECK_EQ_INT(wf_json_get_int(v, "cpus", 1, 1, 64, &cpus, &cause), 0);
	CHECK_EQ_INT(cpus, 4);
	json_decref(v);
}

TEST(check_keys_accepts_known)
{
	static const char *const allowed[] = { "name", "cpus", NULL };
	json_t *v = parse("{\"name\": \"x\", \"cpus\": 2}");
	char *cause = NULL;

	REQUIRE(v != NULL);
	CHECK_EQ_INT(wf_json_check_keys(v, allowed, &cause), 0);
	CHECK(cause == NULL);
	json_decref(v);
}

TEST(check_keys_names_unknown_key)
{
	static const char *const allowed[] = { "name", "cpus", NULL };
	json_t *v = parse("{\"name\": \"x\", \"cpuz\": 2}");
	char *cause = NULL;

	REQUIRE(v != NULL);
	CHECK_EQ_INT(wf_json_check_keys(v, allowed, &cause), -1);
	CHECK_STR_EQ(cause, "unknown key \"cpuz\"");
	free(cause);
	json_decref(v);
}

TEST(check_keys_sanitizes_shown_key)
{
	static const char *const allowed[] = { NULL };
	json_t *v = parse("{\"a\\nb\": 1}");
	char *cause = NULL;

	REQUIRE(v != NULL);
	CHECK_EQ_INT(wf_json_check_keys(v, allowed, &cause), -1);
	CHECK_STR_EQ(cause, "unknown key \"a?b\"");
	free(cause);
	json_decref(v);
}

TEST(check_keys_needs_object)
{
	static const char *const allowed[] = { NULL };
	json_t *v = parse("[1, 2]");
	char *cause = NULL;

	REQUIRE(v != NULL);
	CHECK_EQ_INT(wf_json_check_keys(v, allowed, &cause), -1);
	CHECK_STR_CONTAINS(cause, "not array");
	free(cause);
	json_decref(v);
}

TEST(get_str_ok_missing_and_default)
{
	json_t *v = parse("{\"name\": \"node-1\"}");
	const char *s = "default";
	char *cause = NULL;

	REQUIRE(v != NULL);
	CHECK_EQ_INT(wf_json_get_str(v, "name", 1, 64, &s, &cause), 0);
	CHECK_STR_EQ(s, "node-1");
	s = "default";
	CHECK_EQ_INT(wf_json_get_str(v, "uri", 0, 64, &s, &cause), 0);
	CHECK_STR_EQ(s, "default");
	CHECK(cause == NULL);
	CHECK_EQ_INT(wf_json_get_str(v, "uri", 1, 64, &s, &cause), -1);
	CHECK_STR_EQ(cause, "missing required key \"uri\"");
	free(cause);
	json_decref(v);
}

TEST(get_str_wrong_type_names_key_and_types)
{
	json_t *v = parse("{\"name\": 5, \"nothing\": null}");
	const char *s = NULL;
	char *cause = NULL;

	REQUIRE(v != NULL);
	CHECK_EQ_INT(wf_json_get_str(v, "name", 1, 64, &s, &cause), -1);
	CHECK_STR_EQ(cause, "key \"name\" must be a string, not integer");
	CHECK_EQ_INT(wf_json_get_str(v, "nothing", 0, 64, &s, &cause), -1);
	CHECK_STR_EQ(cause, "key \"nothing\" must be a string, not null");
	CHECK(s == NULL);
	free(cause);
	json_decref(v);
}

TEST(get_str_rejects_nul_bytes)
{
	json_t *v = json_object();
	const char *s = NULL;
	char *cause = NULL;

	REQUIRE(v != NULL);
	/* Jansson holds such strings when built from code or JSON_ALLOW_NUL. */
	json_object_set_new(v, "name", json_stringn("ab\0cd", 5));
	CHECK_EQ_INT(wf_json_get_str(v, "name", 1, 64, &s, &cause), -1);
	CHECK_STR_EQ(cause, "key \"name\" must not contain NUL bytes");
	CHECK(s == NULL);
	free(cause);
	json_decref(v);
}

TEST(get_str_rejects_too_long)
{
	json_t *v = parse("{\"name\": \"0123456789\"}");
	const char *s = NULL;
	char *cause = NULL;

	REQUIRE(v != NULL);
	CHECK_EQ_INT(wf_json_get_str(v, "name", 1, 10, &s, &cause), 0);
	CHECK_EQ_INT(wf_json_get_str(v, "name", 1, 9, &s, &cause), -1);
	CHECK_STR_EQ(cause, "key \"name\" is longer than 9 bytes");
	free(cause);
	json_decref(v);
}

TEST(get_int_range_and_type)
{
	json_t *v = parse("{\"cpus\": 4, \"big\": 9223372036854775807,"
	                  " \"frac\": 1.5, \"neg\": -3, \"str\": \"4\"}");
	json_int_t n = -1;
	char *cause = NULL;

	REQUIRE(v != NULL);
	CHECK_EQ_INT(wf_json_get_int(v, "cpus", 1, 1, 64, &n, &cause), 0);
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_INT(wf_json_get_int(v, "big", 1, 1, 64, &n, &cause), -1);
	CHECK_STR_EQ(cause,
	    "key \"big\" must be between 1 and 64,"
	    " not 9223372036854775807");
	CHECK_EQ_INT(wf_json_get_int(v, "neg", 1, 0, 10, &n, &cause), -1);
	CHECK_STR_CONTAINS(cause, "not -3");
	CHECK_EQ_INT(wf_json_get_int(v, "frac", 1, 0, 10, &n, &cause), -1);
	CHECK_STR_EQ(cause, "key \"frac\" must be an integer, not real");
	CHECK_EQ_INT(wf_json_get_int(v, "str", 1, 0, 10, &n, &cause), -1);
	CHECK_STR_EQ(cause, "key \"str\" must be an integer, not string");
	CHECK_EQ_INT(n, 4);
	n = 7;
	CHECK_EQ_INT(wf_json_get_int(v, "absent", 0, 0, 10, &n, &cause), 0);
	CHECK_EQ_INT(n, 7);
	free(cause);
	json_decref(v);
}

TEST(get_bool)
{
	json_t *v = parse("{\"on\": true, \"off\": false, \"one\": 1}");
	char *cause = NULL;
	int b = -1;

	REQUIRE(v != NULL);
	CHECK_EQ_INT(wf_json_get_bool(v, "on", 1, &b, &cause), 0);
	CHECK_EQ_INT(b, 1);
	CHECK_EQ_INT(wf_json_get_bool(v, "off", 1, &b, &cause), 0);
	CHECK_EQ_INT(b, 0);
	CHECK_EQ_INT(wf_json_get_bool(v, "one", 1, &b, &cause), -1);
	CHECK_STR_EQ(cause, "key \"one\" must be true or false, not integer");
	free(cause);
	json_decref(v);
}

TEST(get_real_finite_and_range)
{
	json_t *v = parse("{\"r\": 0.25, \"i\": 3, \"big\": 1e300}");
	double d = 0;
	char *cause = NULL;

	REQUIRE(v != NULL);
	CHECK_EQ_INT(wf_json_get_real(v, "r", 1, 0, 1, &d, &cause), 0);
	CHECK(d == 0.25);
	CHECK_EQ_INT(wf_json_get_real(v, "i", 1, 0, 10, &d, &cause), 0);
	CHECK(d == 3.0);
	CHECK_EQ_INT(wf_json_get_real(v, "big", 1, 0, 1e6, &d, &cause), -1);
	CHECK_STR_CONTAINS(cause, "must be between");
	free(cause);
	json_decref(v);
}

TEST(getters_need_object)
{
	json_t *v = parse("[1]");
	const char *s = NULL;
	char *cause = NULL;

	REQUIRE(v != NULL);
	CHECK_EQ_INT(wf_json_get_str(v, "a", 0, 10, &s, &cause), -1);
	CHECK_STR_CONTAINS(cause, "expected a JSON object");
	CHECK_EQ_INT(wf_json_get_str(NULL, "a", 0, 10, &s, &cause), -1);
	CHECK_STR_CONTAINS(cause, "not nothing");
	free(cause);
	json_decref(v);
}

TEST(null_cause_is_allowed)
{
	json_t *v = parse("{\"a\": 1}");
	const char *s = NULL;

	REQUIRE(v != NULL);
	CHECK_EQ_INT(wf_json_get_str(v, "a", 1, 10, &s, NULL), -1);
	CHECK(wf_json_loadb("{", 1, 10, NULL) == NULL);
	json_decref(v);
}

TEST(text_of_any_bytes_is_a_string)
{
	json_t *j = wf_json_text("a\xff\x00"
	                         "b\xef\xbf\xbf",
	    7);

	REQUIRE(json_is_string(j));
	CHECK_STR_EQ(json_string_value(j),
	    "a\xef\xbf\xbd\xef\xbf\xbd"
	    "b\xef\xbf\xbf");
	json_decref(j);
	CHECK(json_is_null(wf_json_textz(NULL)));
	j = wf_json_textz("\xc3\xa9");
	CHECK_STR_EQ(json_string_value(j), "\xc3\xa9");
	json_decref(j);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
