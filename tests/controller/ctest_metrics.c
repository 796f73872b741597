/*
 * ctest_metrics.c: GET /metrics through `promtool check metrics` (Debian's
 * prometheus package) before and after jobs ran: every job, run and host
 * state is a series (zeros too), running totals are counters, durations
 * are _seconds histograms, hosts, HTTP requests by route and status, the
 * build. The nightly gauges are checked in ctest_nightly.c.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"
#include "../unit/test.h"

/* /metrics (new), after promtool accepted it. */
static char *
scrape(void)
{
	struct resp r;
	char *body, said[8192];

	CHECK_EQ_INT(http(&S, NULL, "GET", "/metrics", NULL, 0, &r), 200);
	body = strdup(r.body != NULL ? r.body : "");
	resp_free(&r);
	CHECK_EQ_INT(
	    consume("promtool", body, strlen(body), said, sizeof(said)), 0);
	return body;
}

TEST(metrics_pass_promtool_with_every_state)
{
	char *m = scrape();

	CHECK_STR_CONTAINS(m, "# TYPE wakefarm_jobs gauge");
	/* a state with no job is a series of its own: alerts find it */
	CHECK_STR_CONTAINS(m, "wakefarm_jobs{state=\"queued\"} 0\n");
	CHECK_STR_CONTAINS(m, "wakefarm_jobs{state=\"leased\"} 0\n");
	CHECK_STR_CONTAINS(m, "wakefarm_runs{state=\"running\"} 0\n");
	CHECK_STR_CONTAINS(m, "wakefarm_hosts{state=\"bad\"} 0\n");
	CHECK_STR_CONTAINS(m, "# TYPE wakefarm_jobs_finished_total counter");
	CHECK_STR_CONTAINS(m,
	    "wakefarm_jobs_finished_total{verdict=\"hang\",as_expected=\"true\"}"
	    " 0\n");
	CHECK_STR_CONTAINS(m, "# TYPE wakefarm_events_total counter");
	CHECK_STR_CONTAINS(m, "# TYPE wakefarm_job_duration_seconds histogram");
	CHECK_STR_CONTAINS(m, "wakefarm_build_info{version=\"");
	CHECK_STR_CONTAINS(m, "wakefarm_host_up{host=\"h1\"} 1\n");
	CHECK_STR_CONTAINS(m, "wakefarm_host_slots{host=\"h2\"} 2\n");
	free(m);
}

TEST(metrics_count_finished_jobs_and_time_them)
{
	json_int_t run, jobs = 0;
	json_t *l, *recs;
	char *m;

	cancel_all();
	REQUIRE((run = submit("{\"scenario\": \"linux61-cold-boot\", \"set\":"
	                      " {\"mailbox_version\": 1}, \"priority\": 900}",
	             &jobs)) > 0);
	REQUIRE((l = lease(ag1, 2)) != NULL);
	m = scrape();
	CHECK_STR_CONTAINS(m, "wakefarm_jobs{state=\"leased\"} 1\n");
	CHECK_STR_CONTAINS(m, "wakefarm_host_busy_slots{host=\"h1\"} 1\n");
	free(m);
	recs = fixture("nightly/linux61-v1-2cpu-cold.records");
	CHECK_EQ_INT(post_batch(&S, ag1, jint(l, "job"), 0, recs, NULL), 200);
	CHECK_EQ_INT(finish(ag1, jint(l, "job"), "completed", NULL), 200);
	json_decref(recs);
	json_decref(l);
	m = scrape();
	CHECK_STR_CONTAINS(m,
	    "wakefarm_jobs_finished_total{verdict=\"pass\",as_expected=\"true\"}"
	    " 1\n");
	CHECK_STR_CONTAINS(m, "wakefarm_job_duration_seconds_count 1\n");
	CHECK_STR_CONTAINS(m, "wakefarm_job_queue_wait_seconds_count 1\n");
	/* the Linux reporter's boot record: t_us from the firmware's start */
	CHECK_STR_CONTAINS(m, "wakefarm_guest_boot_seconds_count 1\n");
	CHECK_STR_CONTAINS(m, "wakefarm_attempts_total{verdict=\"pass\"} 1\n");
	CHECK_STR_CONTAINS(m,
	    "wakefarm_http_requests_total{method=\"POST\",route=\"/api/v1/jobs/"
	    "*/finish\",code=\"200\"} 1\n");
	CHECK_STR_CONTAINS(m,
	    "wakefarm_http_requests_total{method=\"GET\",route=\"/metrics\","
	    "code=\"200\"} ");
	free(m);
	/* an infra attempt run again is an infra retry */
	REQUIRE(submit("{\"scenario\": \"cold-boot\", \"set\": {\"cpus\": 1,"
	               " \"mailbox_version\": 0}, \"priority\": 900}",
	            NULL) > 0);
	REQUIRE((l = lease(ag1, 2)) != NULL);
	CHECK_EQ_INT(finish(ag1, jint(l, "job"), "infra", NULL), 200);
	json_decref(l);
	m = scrape();
	CHECK_STR_CONTAINS(m, "wakefarm_infra_retries_total 1\n");
	CHECK_STR_CONTAINS(m, "wakefarm_jobs{state=\"queued\"} 1\n");
	free(m);
	cancel_all();
	(void)run;
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_metrics", test_main);
}
