/* test_ratelimit.c: the submission token buckets (controller/ratelimit.c). */
#include <stdlib.h>

#include "../../controller/ratelimit.h"
#include "test.h"

TEST(a_burst_then_refused_with_the_wait)
{
	struct ratelimit *rl = ratelimit_new(6, 3); /* 6/min: one per 10 s */
	int i;

	REQUIRE(rl != NULL);
	for (i = 0; i < 3; i++)
		CHECK_EQ_INT(ratelimit_take(rl, 1, 1000), 0);
	CHECK_EQ_INT(ratelimit_take(rl, 1, 1000), 10);
	CHECK_EQ_INT(ratelimit_take(rl, 1, 5000), 6); /* half refilled */
	CHECK_EQ_INT(ratelimit_take(rl, 1, 11000), 0);
	CHECK_EQ_INT(ratelimit_take(rl, 1, 11000), 10);
	ratelimit_free(rl);
}

TEST(buckets_are_per_token)
{
	struct ratelimit *rl = ratelimit_new(60, 1);

	REQUIRE(rl != NULL);
	CHECK_EQ_INT(ratelimit_take(rl, 1, 0), 0);
	CHECK(ratelimit_take(rl, 1, 0) > 0);
	CHECK_EQ_INT(ratelimit_take(rl, 2, 0), 0);
	CHECK_EQ_INT(ratelimit_take(rl, 1, 1000), 0); /* 1 a second */
	ratelimit_free(rl);
}

TEST(refill_stops_at_the_burst)
{
	struct ratelimit *rl = ratelimit_new(60, 2);
	int i, ok = 0;

	REQUIRE(rl != NULL);
	CHECK_EQ_INT(ratelimit_take(rl, 7, 0), 0);
	/* an hour idle gives back the burst, not 3600 */
	for (i = 0; i < 5; i++)
		ok += ratelimit_take(rl, 7, 3600000) == 0;
	CHECK_EQ_INT(ok, 2);
	ratelimit_free(rl);
}

TEST(off_never_refuses)
{
	struct ratelimit *rl = ratelimit_new(0, 0);
	int i, refused = 0;

	for (i = 0; i < 10000; i++)
		refused += ratelimit_take(rl, 1, 0) != 0;
	CHECK_EQ_INT(refused, 0);
	CHECK_EQ_INT(ratelimit_take(NULL, 1, 0), 0);
	ratelimit_free(rl);
}

TEST(rates_parse)
{
	double r = -1;
	char *cause = NULL;

	CHECK(ratelimit_parse("60/min", &r, NULL) == 0 && r == 60);
	CHECK(ratelimit_parse("2/s", &r, NULL) == 0 && r == 120);
	CHECK(ratelimit_parse("30/h", &r, NULL) == 0 && r == 0.5);
	CHECK(ratelimit_parse("off", &r, NULL) == 0 && r == 0);
	CHECK(ratelimit_parse("0", &r, NULL) == 0 && r == 0);
	CHECK(ratelimit_parse("5", &r, NULL) == -1);
	CHECK(ratelimit_parse("-1/min", &r, NULL) == -1);
	CHECK(ratelimit_parse("1/day", &r, &cause) == -1);
	CHECK_STR_CONTAINS(cause, "N/min");
	free(cause);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
