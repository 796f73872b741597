/*
 * test_classify.c: every transition of controller/classify.c.
 */
#include "../../controller/classify.h"
#include "test.h"

/* Outcomes: ok / bad after n attempts, with infra attempts before. */
static const struct case_outcome OK = { 1, 1, 1, 0, 0, 1, 0 };
static const struct case_outcome BAD = { 1, 1, 0, 1, 0, 0, 0 };
static const struct case_outcome BAD_RETRIED = { 1, 1, 0, 3, 0, 0, 0 };
static const struct case_outcome BAD_THEN_OK = { 1, 1, 1, 2, 0, 1, 0 };
static const struct case_outcome OK_THEN_BAD = { 1, 1, 1, 1, 0, 0, 0 };
static const struct case_outcome INFRA = { 1, 1, 0, 0, 3, 0, 0 };
static const struct case_outcome INFRA_THEN_OK = { 1, 1, 1, 0, 2, 1, 0 };
static const struct case_outcome INFRA_THEN_BAD = { 1, 1, 0, 1, 1, 0, 0 };
static const struct case_outcome BAD_KNOWN = { 1, 1, 0, 3, 0, 0, 1 };
static const struct case_outcome RUNNING = { 1, 0, 0, 0, 1, 0, 0 };
static const struct case_outcome ABSENT = { 0, 0, 0, 0, 0, 0, 0 };

#define CLASS(prev, cur) classify_name(classify_case(prev, cur))

TEST(pass_to_fail_is_a_regression)
{
	CHECK_STR_EQ(CLASS(&OK, &BAD), "regression");
	CHECK_STR_EQ(CLASS(&OK, &BAD_RETRIED), "regression");
	CHECK_STR_EQ(CLASS(&OK, &INFRA_THEN_BAD), "regression");
	/* The previous night's last judged attempt counts. */
	CHECK_STR_EQ(CLASS(&BAD_THEN_OK, &BAD), "regression");
	CHECK_STR_EQ(CLASS(&INFRA_THEN_OK, &BAD), "regression");
	CHECK(classify_is_regression(classify_case(&OK, &BAD)));
}

TEST(fail_to_pass_is_fixed)
{
	CHECK_STR_EQ(CLASS(&BAD, &OK), "fixed");
	CHECK_STR_EQ(CLASS(&BAD_RETRIED, &INFRA_THEN_OK), "fixed");
	CHECK_STR_EQ(CLASS(&OK_THEN_BAD, &OK), "fixed");
	CHECK(!classify_is_regression(classify_case(&BAD, &OK)));
}

TEST(fail_to_fail_is_still_failing)
{
	CHECK_STR_EQ(CLASS(&BAD, &BAD), "still_failing");
	CHECK_STR_EQ(CLASS(&BAD_RETRIED, &BAD_RETRIED), "still_failing");
	CHECK_STR_EQ(CLASS(&OK_THEN_BAD, &INFRA_THEN_BAD), "still_failing");
}

TEST(pass_to_pass_and_new_cases)
{
	CHECK_STR_EQ(CLASS(&OK, &OK), "pass");
	CHECK_STR_EQ(CLASS(NULL, &OK), "pass");
	CHECK_STR_EQ(CLASS(&ABSENT, &OK), "pass");
	CHECK_STR_EQ(CLASS(NULL, &BAD), "new_failing");
	CHECK_STR_EQ(CLASS(&ABSENT, &BAD), "new_failing");
	/* An infra-only or unfinished case before is nothing to compare with. */
	CHECK_STR_EQ(CLASS(&INFRA, &BAD), "new_failing");
	CHECK_STR_EQ(CLASS(&RUNNING, &BAD), "new_failing");
	CHECK_STR_EQ(CLASS(&INFRA, &OK), "pass");
}

TEST(both_outcomes_across_attempts_is_flaky)
{
	CHECK_STR_EQ(CLASS(&OK, &BAD_THEN_OK), "flaky");
	CHECK_STR_EQ(CLASS(&OK, &OK_THEN_BAD), "flaky");
	CHECK_STR_EQ(CLASS(&BAD, &BAD_THEN_OK), "flaky");
	CHECK_STR_EQ(CLASS(NULL, &BAD_THEN_OK), "flaky");
	CHECK(!classify_is_regression(classify_case(&OK, &BAD_THEN_OK)));
}

TEST(infra_only_never_counts)
{
	CHECK_STR_EQ(CLASS(&OK, &INFRA), "infra");
	CHECK_STR_EQ(CLASS(&BAD, &INFRA), "infra");
	CHECK_STR_EQ(CLASS(NULL, &INFRA), "infra");
	CHECK(!classify_is_regression(classify_case(&OK, &INFRA)));
	/* Infra attempts beside a verdict do not make a case flaky. */
	CHECK_STR_EQ(CLASS(&OK, &INFRA_THEN_OK), "pass");
}

TEST(known_issue_is_not_a_regression)
{
	CHECK_STR_EQ(CLASS(&OK, &BAD_KNOWN), "known");
	CHECK_STR_EQ(CLASS(&BAD, &BAD_KNOWN), "known");
	CHECK_STR_EQ(CLASS(NULL, &BAD_KNOWN), "known");
	CHECK(!classify_is_regression(classify_case(&OK, &BAD_KNOWN)));
}

TEST(unfinished_is_pending)
{
	CHECK_STR_EQ(CLASS(&OK, &RUNNING), "pending");
	CHECK_STR_EQ(classify_name((enum case_class)99), "?");
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
