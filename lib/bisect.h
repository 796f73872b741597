/*
 * bisect.h: the decisions of a flake-aware bisection, with no I/O.
 *
 * Candidates are the revisions (or artifacts) in order, index 0 the known
 * good one and n - 1 the known bad one. The caller owns the candidate array
 * (the controller keeps it in SQLite, `wakefarm bisect --local` in memory)
 * and loops:
 *
 *	bisect_next() says which candidate to test and how many runs to add;
 *	the caller builds it (bisect_build_failed() when that fails), runs it,
 *	adds the outcomes to its counts and calls bisect_judge().
 *
 * until bisect_next() says done or failed. Everything bisect_next() decides
 * is a function of the counts and verdicts, so a bisect can be resumed from
 * its stored state.
 *
 * Rules (cfg): every candidate first gets `repeat` runs. It is bad when its
 * failures reach `threshold`; good when none of its runs failed and it has
 * enough of them: `repeat`, or more once a bad candidate has been seen to
 * pass (the failure is flaky), so that a bad candidate would have shown at
 * least one failure with probability `target` at the estimated failure rate
 * (at most 50% assumed, at most `max_runs` runs). It is skipped when its
 * build failed, when only infrastructure errors came back, or when it stays
 * undecided (some failures, under the threshold) after max_runs. The bad end
 * is checked first (it must fail: its runs also estimate the flake rate),
 * then the good end (it must not). Between them, the untested candidate
 * nearest the middle of the range is tested, stepping around skipped ones as
 * `git bisect skip` does; when no candidate is left inside, the range is the
 * answer (one revision when nothing in it was skipped).
 *
 * The confidence is the posterior probability of the answer under the
 * model "one first bad revision, uniformly likely anywhere after the good
 * end; at and after it a run fails with the estimated rate; before it runs
 * do not fail".
 */
#ifndef WF_BISECT_H
#define WF_BISECT_H

enum bisect_verdict {
	BISECT_UNTESTED = 0,
	BISECT_GOOD,
	BISECT_BAD,
	BISECT_SKIP,
};

struct bisect_cand {
	enum bisect_verdict verdict;
	int runs; /* runs with a pass or fail verdict */
	int fails; /* of those: fail, hang or crash */
	int infra; /* runs lost to infrastructure */
	int build_failed;
};

struct bisect_cfg {
	int repeat; /* R: runs per step (default 5) */
	int threshold; /* failures that make a candidate bad (default 1) */
	int max_runs; /* most runs of one candidate (default 4 R) */
	double target; /* per-verdict confidence aimed at (default 0.99) */
};

struct bisect {
	struct bisect_cfg cfg;
	int n;
	struct bisect_cand *c; /* n candidates, borrowed */
};

enum bisect_action {
	BISECT_TEST, /* run candidate idx `runs` more times */
	BISECT_DONE, /* first bad within (last_good, first_bad] */
	BISECT_FAILED, /* cannot bisect: why says */
};

struct bisect_next {
	enum bisect_action what;
	int idx, runs; /* BISECT_TEST */
	int last_good, first_bad; /* BISECT_DONE */
	double confidence; /* BISECT_DONE */
	char why[256];
};

#define BISECT_MAX_CANDIDATES 100000

/* Defaults for zero fields; -1 with a cause when a value is out of range. */
int bisect_cfg_check(struct bisect_cfg *cfg, char **cause);

void bisect_next(const struct bisect *b, struct bisect_next *next);

/* After runs were added to candidate idx: its verdict, if one is due. */
void bisect_judge(struct bisect *b, int idx);
void bisect_build_failed(struct bisect *b, int idx);

/* Failure rate of a bad revision, from the runs of the bad candidates. */
double bisect_flake_rate(const struct bisect *b);
/* Passes a candidate needs to be called good, given what is known now. */
int bisect_good_runs(const struct bisect *b);
/* Posterior probability that the first bad is in (last_good, first_bad]. */
double bisect_confidence(const struct bisect *b, int last_good, int first_bad);

const char *bisect_verdict_name(enum bisect_verdict v);
int bisect_verdict_parse(const char *s); /* -1 if unknown */

#endif
