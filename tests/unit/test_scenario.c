/*
 * test_scenario.c: scenario parsing (errors with file:line and key),
 * matrix expansion, "set" overrides, and the shipped scenarios/.
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util.h"
#include "scenario.h"

static struct scenario *
parse(const char *text, char **cause)
{
	free(*cause);
	*cause = NULL;
	return scenario_parse("t.json", text, strlen(text), cause);
}

TEST(minimal_defaults)
{
	char *cause = NULL;
	struct scenario *sc = parse("{\"name\": \"cold\"}", &cause);
	json_t *cases;

	REQUIRE(sc != NULL);
	cases = scenario_expand(sc, &cause);
	REQUIRE(cases != NULL);
	CHECK_EQ_INT(json_array_size(cases), 1);
	CHECK_EQ_INT(
	    json_integer_value(json_object_get(
	        json_object_get(json_array_get(cases, 0), "params"), "cpus")),
	    1);
	CHECK_STR_EQ(json_string_value(json_object_get(
	                 json_object_get(json_array_get(cases, 0), "expected"),
	                 "verdict")),
	    "pass");
	CHECK_EQ_INT(strlen(sc->sha256), 64);
	json_decref(cases);
	scenario_free(sc);
	free(cause);
}

TEST(matrix_cartesian_last_axis_fastest)
{
	const char *text =
	    "{\"name\": \"m\", \"steps\": \"kexec\",\n"
	    " \"quirks\": [\"no-test-ack\", \"slow-ack=5\"],\n"
	    " \"matrix\": {\"mailbox_version\": [0, 1], \"cpus\": [1, 2, 4]},\n"
	    " \"expect\": [{\"when\": {\"mailbox_version\": 0, \"cpus\": [2, 4]},"
	    " \"verdict\": \"fail\", \"failing_checks\": [\"offline\","
	    " \"cpus-online\", \"offline\"]}]}";
	char *cause = NULL;
	struct scenario *sc;
	json_t *cases, *c, *p;

	/* a repeated failing check is refused */
	sc = parse(text, &cause);
	CHECK(sc == NULL);
	CHECK_STR_CONTAINS(cause, "t.json:4: key 'expect[0].failing_checks'");
	CHECK_STR_CONTAINS(cause, "given twice");
	text =
	    "{\"name\": \"m\", \"steps\": \"kexec\",\n"
	    " \"quirks\": [\"no-test-ack\", \"slow-ack=5\"],\n"
	    " \"matrix\": {\"mailbox_version\": [0, 1], \"cpus\": [1, 2, 4]},\n"
	    " \"expect\": [{\"when\": {\"mailbox_version\": 0, \"cpus\": [2, 4]},"
	    " \"verdict\": \"fail\", \"failing_checks\": [\"offline\","
	    " \"cpus-online\"]}]}";
	sc = parse(text, &cause);
	REQUIRE(sc != NULL);
	cases = scenario_expand(sc, &cause);
	REQUIRE(cases != NULL);
	CHECK_EQ_INT(json_array_size(cases), 6);
	/* axes in field order (cpus before mailbox_version), the last fastest */
	c = json_array_get(cases, 1);
	p = json_object_get(c, "params");
	CHECK_EQ_INT(json_integer_value(json_object_get(p, "cpus")), 1);
	CHECK_EQ_INT(
	    json_integer_value(json_object_get(p, "mailbox_version")), 1);
	CHECK_STR_EQ(json_string_value(json_object_get(p, "quirks")),
	    "no-test-ack,slow-ack=5");
	CHECK_STR_EQ(json_string_value(json_object_get(p, "steps")), "kexec");
	CHECK_EQ_INT(json_object_size(json_object_get(c, "matrix")), 2);
	/* cpus 2, version 0: the rule matches; failing set sorted */
	c = json_array_get(cases, 2);
	CHECK_STR_EQ(json_string_value(json_object_get(
	                 json_object_get(c, "expected"), "verdict")),
	    "fail");
	CHECK_STR_EQ(json_string_value(json_array_get(
	                 json_object_get(
	                     json_object_get(c, "expected"), "failing_checks"),
	                 0)),
	    "cpus-online");
	/* cpus 1, version 0: no rule: pass */
	c = json_array_get(cases, 0);
	CHECK_STR_EQ(json_string_value(json_object_get(
	                 json_object_get(c, "expected"), "verdict")),
	    "pass");
	json_decref(cases);
	scenario_free(sc);
	free(cause);
}

TEST(set_overrides_axis_and_value)
{
	char *cause = NULL;
	struct scenario *sc = parse("{\"name\": \"s\", \"matrix\":"
	                            " {\"cpus\": [1, 2]}}",
	    &cause);
	json_t *set, *cases;

	REQUIRE(sc != NULL);
	set = json_pack("{s:[i,i,i], s:i, s:[[s],[]]}", "mailbox_version", 0, 1,
	    0, "cpus", 4, "quirks", "no-test-ack");
	CHECK(scenario_set(sc, set, &cause) == -1); /* 0 twice */
	CHECK_STR_CONTAINS(cause, "value 2 repeats value 0");
	json_decref(set);
	set = json_pack("{s:[i,i], s:i, s:[[s],[]]}", "mailbox_version", 0, 1,
	    "cpus", 4, "quirks", "no-test-ack");
	REQUIRE(scenario_set(sc, set, &cause) == 0);
	cases = scenario_expand(sc, &cause);
	REQUIRE(cases != NULL);
	CHECK_EQ_INT(json_array_size(cases), 4);
	CHECK_EQ_INT(
	    json_integer_value(json_object_get(
	        json_object_get(json_array_get(cases, 3), "params"), "cpus")),
	    4);
	json_decref(set);
	json_decref(cases);
	set = json_pack("{s:i}", "bogus", 1);
	CHECK(scenario_set(sc, set, &cause) == -1);
	CHECK_STR_CONTAINS(cause, "'bogus' is not a field");
	json_decref(set);
	scenario_free(sc);
	free(cause);
}

TEST(append_options_for_the_test_kernel)
{
	char *cause = NULL;
	struct scenario *sc = parse(
	    "{\"name\": \"f\", \"steps\": \"kexec\","
	    " \"matrix\": {\"append\": [\"flake=50 seed=1\", \"flake=50 seed=2\"]}}",
	    &cause);
	json_t *cases;

	REQUIRE(sc != NULL);
	cases = scenario_expand(sc, &cause);
	REQUIRE(cases != NULL);
	CHECK_EQ_INT(json_array_size(cases), 2);
	CHECK_STR_EQ(
	    json_string_value(json_object_get(
	        json_object_get(json_array_get(cases, 1), "params"), "append")),
	    "flake=50 seed=2");
	CHECK(
	    json_object_get(json_object_get(json_array_get(cases, 1), "params"),
	        "kernel") == NULL);
	json_decref(cases);
	scenario_free(sc);
	free(cause);
}

TEST(errors_name_file_line_and_key)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "{\"name\": \"x\",\n \"cpuz\": 2}",
		    "t.json:2: key 'cpuz': unknown key" },
		{ "{\"name\": \"x\",\n\n \"cpus\": \"2\"}",
		    "t.json:3: key 'cpus': expected an integer, not string" },
		{ "{\"name\": \"x\",\n \"cpus\": 65}",
		    "t.json:2: key 'cpus': 65 is not in 1..64" },
		{ "{\"name\": \"x\",\n \"cpus\": 99999999999999999999}",
		    "t.json:2:" },
		{ "{\"name\": \"x\",\n \"matrix\": {\n  \"cpus\": [1, 0]}}",
		    "t.json:3: key 'matrix.cpus': value 1: 0 is not in 1..64" },
		{ "{\"name\": \"x\",\n \"matrix\": {\"color\": [1]}}",
		    "t.json:2: key 'matrix.color'" },
		{ "{\"name\": \"x\",\n \"steps\": \"kexec*0\"}",
		    "t.json:2: key 'steps'" },
		{ "{\"name\": \"x\",\n \"quirks\": [\"warp\"]}",
		    "t.json:2: key 'quirks': quirks: unknown quirk 'warp'" },
		{ "{\"name\": \"x\", \"expect\": [\n {\"verdict\": \"pass\"},\n {\"verdict\": \"meh\"}]}",
		    "t.json:3: key 'expect[1].verdict'" },
		{ "{\"name\": \"x\", \"expect\": [\n {\"verdict\": \"fail\",\n \"failing_checks\": [\"nope\"]}]}",
		    "t.json:3: key 'expect[0].failing_checks'" },
		{ "{\"name\": \"x\", \"expect\": [\n {\"verdict\": \"pass\", \"when\": {\"colour\": 1}}]}",
		    "key 'expect[0].when': unknown field 'colour'" },
		{ "{\"name\": \"X Y\"}", "t.json:1: key 'name'" },
		{ "{\"cpus\": 1}", "the key 'name' is required" },
		{ "{\"name\": \"x\",\n \"name\": \"y\"}", "t.json:2:" },
		{ "{\"name\": \"x\"} trailing", "t.json:1:" },
		{ "[1, 2]", "a scenario is a JSON object, not array" },
		{ "{\"name\": \"x\\u0000y\"}", "t.json:1:" },
		{ "{\"name\": \"x\", \"nightly\": 1}", "key 'nightly'" },
		{ "{\"name\": \"x\",\n \"append\": \"flake=5 policy=pre-6.11\"}",
		    "t.json:2: key 'append': append: 'policy=pre-6.11': the runner sets policy itself" },
		/* found by fuzz_scenario: a rule that is not an object */
		{ "{\"name\": \"x\",\n \"expect\": [\n 5]}",
		    "t.json:3: key 'expect[0]': expected an object, not integer" },
	};
	char *cause = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct scenario *sc = parse(bad[i].text, &cause);

		CHECK(sc == NULL);
		CHECK_STR_CONTAINS(cause, bad[i].want);
		scenario_free(sc);
	}
	free(cause);
}

TEST(too_many_cases)
{
	char *cause = NULL;
	struct scenario *sc = parse(
	    "{\"name\": \"big\", \"matrix\": {"
	    "\"cpus\": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"
	    "\"timeout_s\": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"
	    "\"memory_mb\": [32,33,34,35,36]}}",
	    &cause);

	CHECK(sc == NULL);
	CHECK_STR_CONTAINS(cause, "more than 1024 cases");
	free(cause);
}

TEST(shipped_scenarios_load)
{
	struct scenario **list = NULL;
	char *cause = NULL;
	size_t n = 0, i, nightly = 0;

	if (scenario_load_dir("scenarios", &list, &n, &cause) == -1)
		printf("  %s\n", wf_cause_str(cause));
	REQUIRE(list != NULL);
	CHECK(n >= 12);
	for (i = 0; i < n; i++)
		nightly += list[i]->nightly;
	CHECK(nightly >= 12);
	CHECK(scenario_find(list, n, "kexec-chain") != NULL);
	scenario_list_free(list, n);
	free(cause);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
