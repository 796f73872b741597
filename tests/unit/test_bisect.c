/*
 * test_bisect.c: unit tests for lib/bisect, the decisions of a flake-aware
 * bisection, against simulated revisions (the real thing, with guests and
 * a fixture repository, is tests/bisect/).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bisect.h"
#include "test.h"

struct sim {
	int n, first_bad, broken; /* broken: -1 = none */
	double p; /* failure rate at/after first_bad */
	int infra_at; /* -1 = none: runs there are infra */
	uint64_t rng;
	int runs_total, steps;
};

static double
sim_rand(struct sim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (s->rng >> 11) * (1.0 / 9007199254740992.0);
}

/* Runs the loop to the end; returns the final decision. */
static struct bisect_next
simulate(struct sim *s, struct bisect_cfg cfg)
{
	struct bisect_cand *c = calloc(s->n, sizeof(*c));
	struct bisect b = { .cfg = cfg, .n = s->n, .c = c };
	struct bisect_next next;

	CHECK(bisect_cfg_check(&b.cfg, NULL) == 0);
	for (;;) {
		bisect_next(&b, &next);
		if (next.what != BISECT_TEST || s->steps > 1000)
			break;
		s->steps++;
		if (next.idx == s->broken) {
			bisect_build_failed(&b, next.idx);
			continue;
		}
		for (int r = 0; r < next.runs; r++) {
			s->runs_total++;
			if (next.idx == s->infra_at)
				c[next.idx].infra++;
			else {
				c[next.idx].runs++;
				if (next.idx >= s->first_bad &&
				    sim_rand(s) < s->p)
					c[next.idx].fails++;
			}
		}
		bisect_judge(&b, next.idx);
	}
	free(c);
	return next;
}

TEST(deterministic_regression_is_found_with_full_confidence)
{
	for (int fb = 1; fb < 12; fb++) {
		struct sim s = { .n = 12,
			.first_bad = fb,
			.broken = -1,
			.p = 1,
			.infra_at = -1,
			.rng = 1 };
		struct bisect_next r = simulate(&s, (struct bisect_cfg){ 0 });

		CHECK_EQ_INT(r.what, BISECT_DONE);
		CHECK_EQ_INT(r.first_bad, fb);
		CHECK_EQ_INT(r.last_good, fb - 1);
		CHECK(r.confidence > 0.999);
		/* 2 ends + log2(10) steps, 5 runs each */
		CHECK(s.runs_total <= 5 * 6);
	}
}

TEST(a_broken_build_is_stepped_around)
{
	struct sim s = { .n = 10,
		.first_bad = 2,
		.broken = 4,
		.p = 1,
		.infra_at = -1,
		.rng = 7 };
	struct bisect_next r = simulate(&s, (struct bisect_cfg){ 0 });

	CHECK_EQ_INT(r.what, BISECT_DONE);
	CHECK_EQ_INT(r.first_bad, 2);
	CHECK_EQ_INT(r.last_good, 1);
}

TEST(an_untestable_first_bad_gives_a_range)
{
	struct sim s = { .n = 10,
		.first_bad = 5,
		.broken = 5,
		.p = 1,
		.infra_at = -1,
		.rng = 7 };
	struct bisect_next r = simulate(&s, (struct bisect_cfg){ 0 });

	CHECK_EQ_INT(r.what, BISECT_DONE);
	CHECK_EQ_INT(r.last_good, 4);
	CHECK_EQ_INT(r.first_bad, 6);
	CHECK_STR_CONTAINS(r.why, "could not be tested");
	/* 5 or 6, equally likely: the range is certain, not either one */
	CHECK(r.confidence > 0.99);
}

TEST(infra_only_candidate_is_skipped)
{
	struct sim s = { .n = 8,
		.first_bad = 3,
		.broken = -1,
		.p = 1,
		.infra_at = 3,
		.rng = 3 };
	struct bisect_next r = simulate(&s, (struct bisect_cfg){ 0 });

	CHECK_EQ_INT(r.what, BISECT_DONE);
	CHECK_EQ_INT(r.last_good, 2);
	CHECK_EQ_INT(r.first_bad, 4);
}

TEST(ends_that_contradict_fail_the_bisect)
{
	struct sim s = { .n = 8,
		.first_bad = 100,
		.broken = -1,
		.p = 1,
		.infra_at = -1,
		.rng = 3 };
	struct bisect_next r = simulate(&s, (struct bisect_cfg){ 0 });

	CHECK_EQ_INT(r.what, BISECT_FAILED);
	CHECK_STR_CONTAINS(r.why, "bad revision passed all 20 runs");

	s = (struct sim){ .n = 8,
		.first_bad = 0,
		.broken = -1,
		.p = 1,
		.infra_at = -1,
		.rng = 3 };
	r = simulate(&s, (struct bisect_cfg){ 0 });
	CHECK_EQ_INT(r.what, BISECT_FAILED);
	CHECK_STR_CONTAINS(r.why, "good revision failed 5 of 5 runs");

	s = (struct sim){ .n = 8,
		.first_bad = 3,
		.broken = 7,
		.p = 1,
		.infra_at = -1,
		.rng = 3 };
	r = simulate(&s, (struct bisect_cfg){ 0 });
	CHECK_EQ_INT(r.what, BISECT_FAILED);
	CHECK_STR_CONTAINS(r.why, "bad revision does not build");
}

TEST(flaky_regression_needs_more_passes)
{
	struct bisect_cand c[4] = { 0 };
	struct bisect b = { .n = 4, .c = c };

	CHECK(bisect_cfg_check(&b.cfg, NULL) == 0);
	CHECK_EQ_INT(bisect_good_runs(&b), 5); /* nothing known */
	c[3] = (struct bisect_cand){ BISECT_BAD, 5, 5, 0, 0 };
	CHECK_EQ_INT(bisect_good_runs(&b), 5); /* never passed */
	c[3] = (struct bisect_cand){ BISECT_BAD, 5, 3, 0, 0 };
	/* 0.5 at most: 0.5^7 < 1% */
	CHECK_EQ_INT(bisect_good_runs(&b), 7);
	c[3] = (struct bisect_cand){ BISECT_BAD, 5, 1, 0, 0 };
	CHECK_EQ_INT(bisect_good_runs(&b), 20); /* 0.8^20 = 1.2%: capped */
}

/* The bar: a p = 0.5 regression found 19 times in 20; here over
 * 400 seeded trials, with the fixture's shape (10 candidates, regression at
 * 2, broken build at 4). */
TEST(flaky_regression_is_found_19_times_in_20)
{
	int right = 0, trials = 400, runs = 0;
	double conf_right = 0;

	for (int t = 0; t < trials; t++) {
		struct sim s = { .n = 10,
			.first_bad = 2,
			.broken = 4,
			.p = 0.5,
			.infra_at = -1,
			.rng = 0x9e3779b97f4a7c15ull * (t + 1) };
		struct bisect_next r = simulate(&s, (struct bisect_cfg){ 0 });

		runs += s.runs_total;
		if (r.what == BISECT_DONE && r.first_bad == 2 &&
		    r.last_good == 1) {
			right++;
			conf_right += r.confidence;
		}
	}
	printf("  %d of %d right, %.1f runs per bisect, mean confidence when"
	       " right %.3f\n",
	    right, trials, (double)runs / trials,
	    right ? conf_right / right : 0);
	CHECK(right * 20 >= trials * 19);
	CHECK(right * 100 >= trials * 98);
}

TEST(confidence_reflects_the_evidence)
{
	/* Bad end failed 2 of 5 (flaky); candidate 1 passed only 2 runs:
	 * "first bad is 1" is far from certain. */
	struct bisect_cand c[3] = {
		{ BISECT_GOOD, 5, 0, 0, 0 },
		{ BISECT_UNTESTED, 2, 0, 0, 0 },
		{ BISECT_BAD, 5, 2, 0, 0 },
	};
	struct bisect b = { .n = 3, .c = c };
	double c1, c2;

	CHECK(bisect_cfg_check(&b.cfg, NULL) == 0);
	c1 = bisect_confidence(&b, 0, 1);
	c2 = bisect_confidence(&b, 1, 2);
	CHECK(c1 > 0.1 && c1 < 0.3); /* 0.6^2 against 1 */
	CHECK(c2 > 0.7);
	CHECK(c1 + c2 > 0.999 && c1 + c2 < 1.001);
	CHECK(bisect_confidence(&b, 0, 2) > 0.999);
}

TEST(config_is_checked)
{
	struct bisect_cfg cfg = { .repeat = 0 };
	char *cause = NULL;

	CHECK(bisect_cfg_check(&cfg, NULL) == 0);
	CHECK_EQ_INT(cfg.repeat, 5);
	CHECK_EQ_INT(cfg.max_runs, 20);
	cfg = (struct bisect_cfg){ .repeat = 3, .threshold = 4 };
	CHECK(bisect_cfg_check(&cfg, &cause) == -1);
	CHECK_STR_CONTAINS(cause, "threshold: 4 is not in 1..3");
	cfg = (struct bisect_cfg){ .repeat = 101 };
	CHECK(bisect_cfg_check(&cfg, &cause) == -1);
	CHECK_STR_CONTAINS(cause, "repeat");
	cfg = (struct bisect_cfg){ .target = 1.5 };
	CHECK(bisect_cfg_check(&cfg, &cause) == -1);
	CHECK_STR_CONTAINS(cause, "confidence");
	free(cause);
	CHECK_EQ_INT(bisect_verdict_parse("skip"), BISECT_SKIP);
	CHECK_EQ_INT(bisect_verdict_parse("nope"), -1);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
