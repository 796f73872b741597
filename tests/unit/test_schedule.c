/*
 * test_schedule.c: the scheduler's parsers and its injectable clock
 * (controller/schedule.c).
 */
#include <stdio.h>
#include <unistd.h>

#include "../../controller/schedule.h"
#include "test.h"

TEST(hhmm)
{
	CHECK_EQ_INT(sched_parse_hhmm("00:00"), 0);
	CHECK_EQ_INT(sched_parse_hhmm("02:30"), 150);
	CHECK_EQ_INT(sched_parse_hhmm("23:59"), 1439);
	CHECK_EQ_INT(sched_parse_hhmm("24:00"), -1);
	CHECK_EQ_INT(sched_parse_hhmm("12:60"), -1);
	CHECK_EQ_INT(sched_parse_hhmm("2:00"), -1);
	CHECK_EQ_INT(sched_parse_hhmm("02:00x"), -1);
	CHECK_EQ_INT(sched_parse_hhmm("02-00"), -1);
	CHECK_EQ_INT(sched_parse_hhmm(""), -1);
}

TEST(times_and_days)
{
	int64_t ms = 0;
	char day[11];

	CHECK_EQ_INT(sched_parse_time("2026-01-02", &ms), 0);
	CHECK_EQ_INT(ms, 1767312000000LL);
	CHECK_EQ_INT(sched_parse_time("2026-01-02T02:00Z", &ms), 0);
	CHECK_EQ_INT(ms, 1767312000000LL + 7200000);
	CHECK_EQ_INT(sched_parse_time("2026-01-02T02:00:05Z", &ms), 0);
	CHECK_EQ_INT(ms, 1767312000000LL + 7205000);
	CHECK_EQ_INT(sched_parse_time("1767312000", &ms), 0);
	CHECK_EQ_INT(ms, 1767312000000LL);
	CHECK_EQ_INT(sched_parse_time("2026-01-02T02:00", &ms), -1);
	CHECK_EQ_INT(sched_parse_time("2026-01-02 junk", &ms), -1);
	CHECK_EQ_INT(sched_parse_time("yesterday", &ms), -1);
	CHECK_EQ_INT(sched_parse_time("", &ms), -1);
	sched_day(1767312000000LL + 86399999, day);
	CHECK_STR_EQ(day, "2026-01-02");
	sched_day(1767312000000LL + 86400000, day);
	CHECK_STR_EQ(day, "2026-01-03");
}

TEST(clock_file)
{
	struct ctl_config cfg = { 0 };
	char path[] = "/tmp/wf-clock-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	REQUIRE(fd != -1);
	close(fd);
	cfg.clock_file = path;
	REQUIRE((f = fopen(path, "w")) != NULL);
	fputs("2026-01-02T02:00:00Z\n", f);
	fclose(f);
	CHECK_EQ_INT(sched_now_ms(&cfg), 1767312000000LL + 7200000);
	/* Not a time: the real clock (and a warning). */
	REQUIRE((f = fopen(path, "w")) != NULL);
	fputs("soon\n", f);
	fclose(f);
	CHECK(sched_now_ms(&cfg) > 1767312000000LL + 7200000);
	unlink(path);
	cfg.clock_file = NULL;
	CHECK(sched_now_ms(&cfg) > 1700000000000LL);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
