/*
 * classify.h: the regression class of one case (scenario + matrix values)
 * of a nightly run against the same case of the previous night. Pure: no
 * database, no I/O; tests/unit/test_classify.c covers every transition.
 */
#ifndef WF_CTL_CLASSIFY_H
#define WF_CTL_CLASSIFY_H

enum case_class {
	CLASS_PENDING, /* not finished yet */
	CLASS_PASS, /* as expected, and as expected before (or new) */
	CLASS_REGRESSION, /* not as expected now, as expected before */
	CLASS_FIXED, /* as expected now, not before */
	CLASS_STILL_FAILING, /* not as expected now nor before */
	CLASS_NEW_FAILING, /* not as expected; no judged case before */
	CLASS_FLAKY, /* both as expected and not across attempts */
	CLASS_INFRA, /* no judged attempt: never counts */
	CLASS_KNOWN, /* not as expected, explained by a known issue */
};

/* What the attempts of one case came to. */
struct case_outcome {
	int present; /* the case exists in that run */
	int finished; /* its job is done (or cancelled) */
	int n_ok; /* judged attempts as expected */
	int n_bad; /* judged attempts not as expected */
	int n_infra; /* attempts without a verdict */
	int last_ok; /* the last judged attempt was as expected */
	int known; /* a known issue explains the failure */
};

/* prev may be NULL (no previous night). */
enum case_class
classify_case(const struct case_outcome *prev, const struct case_outcome *cur);
/* "pass", "regression", ... (static storage). */
const char *classify_name(enum case_class c);
/* 1 when the class is a judged failure the previous night did not have. */
int classify_is_regression(enum case_class c);

#endif
