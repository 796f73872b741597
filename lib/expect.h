/*
 * expect.h: expectations. A scenario's "expect" is a rule list; the first
 * rule whose "when" matches a case's values gives the expected verdict and
 * the exact set of checks expected to fail (default: pass, none). A job is
 * as expected when its verdict and failing-check set both equal those;
 * infra never is (it is retried instead).
 */
#ifndef WF_CTL_EXPECT_H
#define WF_CTL_EXPECT_H

#include <jansson.h>

/* 1 when name is a check lib/invariants.c emits. */
int expect_check_known(const char *name);
/* 1 when v is a verdict a scenario may expect (pass fail hang crash skip). */
int expect_verdict_known(const char *v);

/*
 * Validates one rule; the cause names the key, *badkey is it (or NULL when
 * the rule itself is wrong). fields: the keys "when" may use.
 */
int expect_rule_validate(const json_t *rule, const char *const fields[],
    const char **badkey, char **cause);

/*
 * "when" may also name "kernel_version": a glob ("6.1.*") or a list of
 * them, matched against the version (setup header or uname -r) of a
 * kernel users added, which the controller puts in a case's values; a
 * case without one never matches it.
 */
#define EXPECT_KERNEL_VERSION "kernel_version"

/* {"verdict", "failing_checks"} for a case (new reference). */
json_t *expect_for_case(const json_t *rules, const json_t *values);

/* The sorted, unique names of the checks with "ok": false (new array). */
json_t *expect_failing_set(const json_t *checks);

/* 1 when verdict and failing (sorted set) meet expected. */
int expect_as_expected(
    const char *verdict, const json_t *failing, const json_t *expected);

#endif
