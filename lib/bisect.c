/*
 * bisect.c: the decisions of a flake-aware bisection (see bisect.h).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bisect.h"
#include "util.h"

#define FLAKE_ASSUMED_MAX 0.5 /* a flaky failure: at most a coin flip */
#define GOOD_SIDE_FAIL 1e-3 /* a good revision failing: the model's slack */

static const char *const verdict_names[] = {
	[BISECT_UNTESTED] = "untested",
	[BISECT_GOOD] = "good",
	[BISECT_BAD] = "bad",
	[BISECT_SKIP] = "skip",
};

const char *
bisect_verdict_name(enum bisect_verdict v)
{
	return (unsigned)v <= BISECT_SKIP ? verdict_names[v] : "?";
}

int
bisect_verdict_parse(const char *s)
{
	for (int v = BISECT_UNTESTED; v <= BISECT_SKIP; v++)
		if (strcmp(s, verdict_names[v]) == 0)
			return v;
	return -1;
}

int
bisect_cfg_check(struct bisect_cfg *cfg, char **cause)
{
	if (cfg->repeat == 0)
		cfg->repeat = 5;
	if (cfg->threshold == 0)
		cfg->threshold = 1;
	if (cfg->max_runs == 0)
		cfg->max_runs = 4 * cfg->repeat;
	if (cfg->target == 0)
		cfg->target = 0.99;
	if (cfg->repeat < 1 || cfg->repeat > 100) {
		wf_set_cause(cause, "repeat: %d is not in 1..100", cfg->repeat);
		return -1;
	}
	if (cfg->threshold < 1 || cfg->threshold > cfg->repeat) {
		wf_set_cause(cause,
		    "threshold: %d is not in 1..%d (the repeat"
		    " count)",
		    cfg->threshold, cfg->repeat);
		return -1;
	}
	if (cfg->max_runs < cfg->repeat || cfg->max_runs > 1000) {
		wf_set_cause(cause, "max_runs: %d is not in %d..1000",
		    cfg->max_runs, cfg->repeat);
		return -1;
	}
	if (!(cfg->target >= 0.5 && cfg->target < 1)) {
		wf_set_cause(cause,
		    "confidence target: %g is not in 0.5..0.9999", cfg->target);
		return -1;
	}
	return 0;
}

/* Pooled over the bad candidates: failures per run, and whether any passed. */
static void
bad_side(const struct bisect *b, int *fails, int *runs)
{
	*fails = *runs = 0;
	for (int i = 0; i < b->n; i++)
		if (b->c[i].verdict == BISECT_BAD) {
			*fails += b->c[i].fails;
			*runs += b->c[i].runs;
		}
}

double
bisect_flake_rate(const struct bisect *b)
{
	int f, r;

	bad_side(b, &f, &r);
	return r > 0 ? (double)f / r : 1.0;
}

int
bisect_good_runs(const struct bisect *b)
{
	const struct bisect_cfg *cfg = &b->cfg;
	double p = bisect_flake_rate(b), k;

	if (p >= 1.0)
		return cfg->repeat; /* no bad revision ever passed */
	if (p > FLAKE_ASSUMED_MAX)
		p = FLAKE_ASSUMED_MAX;
	if (p <= 0)
		return cfg->max_runs;
	k = ceil(log(1 - cfg->target) / log(1 - p));
	if (k < cfg->repeat)
		return cfg->repeat;
	return k > cfg->max_runs ? cfg->max_runs : (int)k;
}

void
bisect_build_failed(struct bisect *b, int idx)
{
	b->c[idx].build_failed = 1;
	b->c[idx].verdict = BISECT_SKIP;
}

void
bisect_judge(struct bisect *b, int idx)
{
	struct bisect_cand *c = &b->c[idx];
	const struct bisect_cfg *cfg = &b->cfg;
	int need_good;

	if (c->verdict != BISECT_UNTESTED)
		return;
	if (c->build_failed) {
		c->verdict = BISECT_SKIP;
		return;
	}
	if (c->fails >= cfg->threshold) {
		c->verdict = BISECT_BAD;
		return;
	}
	/* The bad end must really pass max_runs times to be called good. */
	need_good = idx == b->n - 1 ? cfg->max_runs :
	    idx == 0                ? cfg->repeat :
	                              bisect_good_runs(b);
	if (c->fails == 0 && c->runs >= need_good)
		c->verdict = BISECT_GOOD;
	else if (c->runs + c->infra >= cfg->max_runs ||
	    (c->runs == 0 && c->infra > 0))
		c->verdict = BISECT_SKIP; /* undecided, or only infra */
}

/* More runs of a started, undecided candidate: up to one step's worth. */
static int
runs_wanted(const struct bisect *b, int idx)
{
	const struct bisect_cand *c = &b->c[idx];
	const struct bisect_cfg *cfg = &b->cfg;
	int want;

	if (c->runs == 0 && c->infra == 0)
		return cfg->repeat;
	want = (c->fails == 0 ? (idx == b->n - 1 ? cfg->max_runs :
	                                idx == 0 ? cfg->repeat :
	                                           bisect_good_runs(b)) :
	                        cfg->max_runs) -
	    c->runs - c->infra;
	if (want > cfg->repeat)
		want = cfg->repeat;
	return want < 1 ? 1 : want;
}

static void failed(struct bisect_next *next, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
failed(struct bisect_next *next, const char *fmt, ...)
{
	va_list ap;

	next->what = BISECT_FAILED;
	va_start(ap, fmt);
	vsnprintf(next->why, sizeof(next->why), fmt, ap);
	va_end(ap);
}

static int
end_checked(const struct bisect *b, int idx, const char *name,
    enum bisect_verdict want, struct bisect_next *next)
{
	const struct bisect_cand *c = &b->c[idx];

	switch (c->verdict) {
	case BISECT_UNTESTED:
		next->what = BISECT_TEST;
		next->idx = idx;
		next->runs = runs_wanted(b, idx);
		snprintf(next->why, sizeof(next->why),
		    "checking the %s"
		    " revision",
		    name);
		return 0;
	case BISECT_SKIP:
		if (c->build_failed)
			failed(next, "the %s revision does not build", name);
		else if (c->runs == 0)
			failed(next,
			    "the %s revision: only infrastructure"
			    " errors in %d runs",
			    name, c->infra);
		else
			failed(next,
			    "the %s revision is undecided: %d of %d"
			    " runs failed, under the threshold of %d",
			    name, c->fails, c->runs, b->cfg.threshold);
		return 0;
	default:
		if (c->verdict == want)
			return 1;
		if (want == BISECT_BAD)
			failed(next,
			    "the bad revision passed all %d runs:"
			    " nothing to bisect",
			    c->runs);
		else
			failed(next, "the good revision failed %d of %d runs",
			    c->fails, c->runs);
		return 0;
	}
}

void
bisect_next(const struct bisect *b, struct bisect_next *next)
{
	int lo, hi, mid, i, d;

	memset(next, 0, sizeof(*next));
	next->idx = next->last_good = next->first_bad = -1;
	if (b->n < 2) {
		failed(next, "a bisect needs a good and a bad revision");
		return;
	}
	if (!end_checked(b, b->n - 1, "bad", BISECT_BAD, next) ||
	    !end_checked(b, 0, "good", BISECT_GOOD, next))
		return;
	for (hi = 1; b->c[hi].verdict != BISECT_BAD; hi++)
		;
	for (lo = hi - 1; b->c[lo].verdict != BISECT_GOOD; lo--)
		;
	/* A candidate already under way is finished first. */
	for (i = lo + 1; i < hi; i++)
		if (b->c[i].verdict == BISECT_UNTESTED &&
		    (b->c[i].runs > 0 || b->c[i].infra > 0)) {
			next->what = BISECT_TEST;
			next->idx = i;
			next->runs = runs_wanted(b, i);
			snprintf(next->why, sizeof(next->why),
			    "more runs: %d"
			    " of %d failed so far",
			    b->c[i].fails, b->c[i].runs);
			return;
		}
	mid = lo + (hi - lo) / 2;
	for (d = 0; mid - d > lo || mid + d < hi; d++) {
		for (i = mid - d; i <= mid + d; i += d > 0 ? 2 * d : 1)
			if (i > lo && i < hi &&
			    b->c[i].verdict == BISECT_UNTESTED) {
				next->what = BISECT_TEST;
				next->idx = i;
				next->runs = runs_wanted(b, i);
				snprintf(next->why, sizeof(next->why),
				    "%d candidate(s) left between %d and %d",
				    hi - lo - 1, lo, hi);
				return;
			}
	}
	next->what = BISECT_DONE;
	next->last_good = lo;
	next->first_bad = hi;
	next->confidence = bisect_confidence(b, lo, hi);
	if (hi - lo == 1)
		snprintf(next->why, sizeof(next->why),
		    "first bad: candidate"
		    " %d",
		    hi);
	else
		snprintf(next->why, sizeof(next->why),
		    "first bad within %d"
		    " candidates (%d..%d): those between could not be tested",
		    hi - lo, lo + 1, hi);
}

double
bisect_confidence(const struct bisect *b, int last_good, int first_bad)
{
	double p = bisect_flake_rate(b), lp, lq, *ll, best, sum = 0, in = 0;
	double good_side = 0, bad_side_sum = 0;
	int n = b->n, j;

	if (n < 2 || last_good < 0 || first_bad >= n || last_good >= first_bad)
		return 0;
	if (p < 0.01)
		p = 0.01;
	if (p > 0.999)
		p = 0.999;
	lp = log(p);
	lq = log(1 - p);
	if ((ll = calloc(n, sizeof(*ll))) == NULL)
		return 0;
	/* ll[b]: log-likelihood of the runs if the first bad is b (1..n-1):
	 * candidates before b good, from b on bad. */
	for (j = 0; j < n; j++)
		bad_side_sum += b->c[j].fails * lp +
		    (b->c[j].runs - b->c[j].fails) * lq;
	for (j = 0; j < n; j++) {
		const struct bisect_cand *c = &b->c[j];

		if (j > 0)
			ll[j] = good_side + bad_side_sum;
		good_side += c->fails * log(GOOD_SIDE_FAIL);
		bad_side_sum -= c->fails * lp + (c->runs - c->fails) * lq;
	}
	best = ll[1];
	for (j = 2; j < n; j++)
		if (ll[j] > best)
			best = ll[j];
	for (j = 1; j < n; j++) {
		double w = exp(ll[j] - best);

		sum += w;
		if (j > last_good && j <= first_bad)
			in += w;
	}
	free(ll);
	return sum > 0 ? in / sum : 0;
}
