/*
 * test_expect.c: expectation matching and the as-expected decision.
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "expect.h"

static json_t *
load(const char *text)
{
	return json_loads(text, 0, NULL);
}

TEST(first_matching_rule_wins)
{
	json_t *rules = load(
	    "[{\"when\": {\"mailbox_version\": 0, \"quirks\":"
	    " []}, \"verdict\": \"fail\", \"failing_checks\": [\"offline\"]},"
	    " {\"when\": {\"cpus\": [2, 4]}, \"verdict\": \"hang\","
	    " \"failing_checks\": [\"bring-up-finished\"]},"
	    " {\"verdict\": \"crash\"}]");
	json_t *v0 = load(
	    "{\"mailbox_version\": 0, \"cpus\": 2, \"quirks\": []}");
	json_t *v1 = load(
	    "{\"mailbox_version\": 1, \"cpus\": 4, \"quirks\": []}");
	json_t *v2 = load("{\"mailbox_version\": 0, \"cpus\": 1, \"quirks\":"
	                  " [\"no-test-ack\"]}");
	json_t *e;

	e = expect_for_case(rules, v0);
	CHECK_STR_EQ(json_string_value(json_object_get(e, "verdict")), "fail");
	json_decref(e);
	e = expect_for_case(rules, v1);
	CHECK_STR_EQ(json_string_value(json_object_get(e, "verdict")), "hang");
	json_decref(e);
	e = expect_for_case(rules, v2); /* quirks differ; cpus 1 not in [2,4] */
	CHECK_STR_EQ(json_string_value(json_object_get(e, "verdict")), "crash");
	CHECK_EQ_INT(json_array_size(json_object_get(e, "failing_checks")), 0);
	json_decref(e);
	json_decref(rules);
	rules = json_array();
	e = expect_for_case(rules, v0); /* no rules: pass, nothing failing */
	CHECK_STR_EQ(json_string_value(json_object_get(e, "verdict")), "pass");
	json_decref(e);
	json_decref(rules);
	json_decref(v0);
	json_decref(v1);
	json_decref(v2);
}

TEST(failing_set_and_as_expected)
{
	json_t *checks = load(
	    "[{\"check\": \"offline\", \"ok\": false},"
	    " {\"check\": \"cpus-online\", \"ok\": true, \"gen\": 1},"
	    " {\"check\": \"cpus-online\", \"ok\": false, \"gen\": 2},"
	    " {\"check\": \"offline\", \"ok\": false}]");
	json_t *set = expect_failing_set(checks);
	json_t *exp = load("{\"verdict\": \"fail\", \"failing_checks\":"
	                   " [\"offline\", \"cpus-online\"]}");
	json_t *exp2 = load("{\"verdict\": \"fail\", \"failing_checks\":"
	                    " [\"offline\"]}");

	CHECK_EQ_INT(json_array_size(set), 2);
	CHECK_STR_EQ(json_string_value(json_array_get(set, 0)), "cpus-online");
	CHECK(expect_as_expected("fail", set, exp));
	CHECK(!expect_as_expected("hang", set, exp));
	CHECK(!expect_as_expected("fail", set, exp2)); /* exact set */
	CHECK(!expect_as_expected("infra", set, exp));
	json_decref(checks);
	json_decref(set);
	json_decref(exp);
	json_decref(exp2);
}

TEST(infra_never_as_expected)
{
	json_t *exp = load("{\"verdict\": \"infra\", \"failing_checks\": []}");
	json_t *none = json_array();

	CHECK(!expect_as_expected("infra", none, exp));
	json_decref(exp);
	json_decref(none);
}

TEST(rule_validation)
{
	static const char *const fields[] = { "cpus", "quirks", NULL };
	const char *badkey = NULL;
	char *cause = NULL;
	json_t *r;

	r = load("{\"verdict\": \"pass\", \"failing_checks\": [\"offline\"]}");
	CHECK(expect_rule_validate(r, fields, &badkey, &cause) == -1);
	CHECK_STR_EQ(badkey, "failing_checks");
	json_decref(r);
	r = load("{\"verdict\": \"fail\"}");
	CHECK(expect_rule_validate(r, fields, &badkey, &cause) == -1);
	CHECK_STR_CONTAINS(cause, "must name the checks");
	json_decref(r);
	r = load(
	    "{\"verdict\": \"hang\", \"failing_checks\":"
	    " [\"bring-up-finished\"], \"when\": {\"cpus\": 2}, \"note\": \"x\"}");
	CHECK(expect_rule_validate(r, fields, &badkey, &cause) == 0);
	json_decref(r);
	r = load("{\"verdict\": \"pass\", \"extra\": 1}");
	CHECK(expect_rule_validate(r, fields, &badkey, &cause) == -1);
	CHECK_STR_CONTAINS(cause, "extra");
	json_decref(r);
	CHECK(expect_check_known("generations"));
	CHECK(!expect_check_known("infra"));
	free(cause);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
