/*
 * test_queue.c: leasing, retries and run counts (controller/queue.c) on a
 * real database, without HTTP or threads.
 */
#include "ctl_fixture.h"
#include "test.h"

#include "../../controller/queue.h"

#define SPEC "{\"cpus\": 2, \"mailbox_version\": 1, \"steps\": \"kexec\"}"

TEST(a_host_leases_the_queued_jobs_up_to_its_slots)
{
	struct fixture fx;
	int64_t host, run;
	json_t *l1, *l2, *l3;
	char v[64];

	REQUIRE(fixture_open(&fx) == 0);
	REQUIRE((host = fixture_host(&fx, "h1", 2)) > 0);
	REQUIRE((run = fixture_run(&fx, 3, SPEC, "pass", "[]")) > 0);
	l1 = queue_try_lease(&fx.api, host);
	l2 = queue_try_lease(&fx.api, host);
	l3 = queue_try_lease(&fx.api, host);
	REQUIRE(json_is_object(l1) && json_is_object(l2));
	CHECK(json_is_null(l3)); /* both slots busy */
	CHECK_EQ_INT(json_integer_value(json_object_get(l1, "attempt")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(l1, "run")), run);
	CHECK_EQ_INT(
	    json_integer_value(json_object_get(l1, "lease_ms")), 60000);
	CHECK_EQ_INT(json_integer_value(json_object_get(
	                 json_object_get(l1, "params"), "cpus")),
	    2);
	CHECK(json_integer_value(json_object_get(l1, "job")) !=
	    json_integer_value(json_object_get(l2, "job")));
	CHECK_STR_EQ(
	    fixture_job_str(&fx, json_integer_value(json_object_get(l1, "job")),
	        "state", v, sizeof(v)),
	    "leased");
	CHECK(queue_lease_deadline(&fx.api) > 0);
	json_decref(l1);
	json_decref(l2);
	json_decref(l3);
	fixture_close(&fx);
}

TEST(a_bad_host_or_an_unknown_one_gets_nothing)
{
	struct fixture fx;
	int64_t host;
	json_t *l;

	REQUIRE(fixture_open(&fx) == 0);
	REQUIRE((host = fixture_host(&fx, "h1", 1)) > 0);
	REQUIRE(fixture_run(&fx, 1, SPEC, "pass", "[]") > 0);
	REQUIRE(
	    db_exec(fx.db, NULL, "UPDATE hosts SET state = 'bad'", "") == 0);
	l = queue_try_lease(&fx.api, host);
	CHECK(json_is_null(l));
	json_decref(l);
	l = queue_try_lease(&fx.api, host + 100);
	CHECK(json_is_null(l));
	json_decref(l);
	fixture_close(&fx);
}

TEST(an_infra_attempt_is_retried_until_max_attempts)
{
	struct fixture fx;
	int64_t host, run, job, n = -1;
	json_t *l;
	char v[64];
	int i;

	REQUIRE(fixture_open(&fx) == 0);
	REQUIRE((host = fixture_host(&fx, "h1", 1)) > 0);
	REQUIRE((run = fixture_run(&fx, 1, SPEC, "pass", "[]")) > 0);
	for (i = 1; i <= 3; i++) {
		l = queue_try_lease(&fx.api, host);
		REQUIRE(json_is_object(l));
		job = json_integer_value(json_object_get(l, "job"));
		CHECK_EQ_INT(
		    json_integer_value(json_object_get(l, "attempt")), i);
		json_decref(l);
		REQUIRE(db_begin(fx.db) == 0);
		CHECK_EQ_INT(queue_retry(&fx.api, job, "libvirt went away"), 0);
		REQUIRE(db_commit(fx.db) == 0);
	}
	CHECK_STR_EQ(fixture_job_str(&fx, job, "state", v, sizeof(v)), "done");
	CHECK_STR_EQ(
	    fixture_job_str(&fx, job, "verdict", v, sizeof(v)), "infra");
	CHECK_STR_EQ(fixture_job_str(&fx, job, "reason", v, sizeof(v)),
	    "libvirt went away");
	CHECK_EQ_INT(db_int(fx.db, &n,
	                 "SELECT count(*) FROM attempts WHERE"
	                 " job_id = ? AND verdict = 'infra'",
	                 "i", job),
	    1);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(db_int(fx.db, &n,
	                 "SELECT jobs_done FROM runs WHERE id = ?", "i", run),
	    1);
	CHECK_EQ_INT(n, 1);
	fixture_close(&fx);
}

TEST(a_requeued_job_prefers_another_good_host)
{
	struct fixture fx;
	int64_t h1, h2, job;
	json_t *l;

	REQUIRE(fixture_open(&fx) == 0);
	REQUIRE((h1 = fixture_host(&fx, "h1", 1)) > 0);
	REQUIRE((h2 = fixture_host(&fx, "h2", 1)) > 0);
	REQUIRE(fixture_run(&fx, 1, SPEC, "pass", "[]") > 0);
	l = queue_try_lease(&fx.api, h1);
	REQUIRE(json_is_object(l));
	job = json_integer_value(json_object_get(l, "job"));
	json_decref(l);
	CHECK_EQ_INT(queue_requeue(&fx.api, job, "lease expired"), 0);
	l = queue_try_lease(&fx.api, h1);
	CHECK(json_is_null(l)); /* h2 was seen: it gets the job */
	json_decref(l);
	l = queue_try_lease(&fx.api, h2);
	REQUIRE(json_is_object(l));
	CHECK_EQ_INT(json_integer_value(json_object_get(l, "job")), job);
	CHECK_EQ_INT(json_integer_value(json_object_get(l, "attempt")), 2);
	json_decref(l);
	fixture_close(&fx);
}

TEST(run_counts_and_its_end)
{
	struct fixture fx;
	int64_t run, n = -1;
	json_t *row;

	REQUIRE(fixture_open(&fx) == 0);
	REQUIRE((run = fixture_run(&fx, 3, SPEC, "pass", "[]")) > 0);
	REQUIRE(
	    db_exec(fx.db, NULL,
	        "UPDATE jobs SET state = 'done',"
	        " as_expected = 1 WHERE id IN (SELECT id FROM jobs WHERE run_id = ?"
	        " ORDER BY id LIMIT 1)",
	        "i", run) == 0);
	REQUIRE(db_exec(fx.db, NULL,
	            "UPDATE jobs SET state = 'cancelled'"
	            " WHERE id = (SELECT max(id) FROM jobs WHERE run_id = ?)",
	            "i", run) == 0);
	CHECK_EQ_INT(queue_run_refresh(fx.db, run), 0);
	row = db_row(fx.db,
	    "SELECT state, jobs_done, jobs_as_expected,"
	    " jobs_unexpected FROM runs WHERE id = ?",
	    "i", run);
	CHECK_EQ_INT(json_integer_value(json_object_get(row, "jobs_done")), 2);
	CHECK_EQ_INT(
	    json_integer_value(json_object_get(row, "jobs_as_expected")), 1);
	CHECK_EQ_INT(
	    json_integer_value(json_object_get(row, "jobs_unexpected")), 0);
	CHECK_STR_EQ(
	    json_string_value(json_object_get(row, "state")), "queued");
	json_decref(row);
	REQUIRE(db_exec(fx.db, NULL,
	            "UPDATE jobs SET state = 'done',"
	            " as_expected = 0 WHERE run_id = ? AND state = 'queued'",
	            "i", run) == 0);
	CHECK_EQ_INT(queue_run_refresh(fx.db, run), 0);
	CHECK_EQ_INT(
	    db_int(fx.db, &n,
	        "SELECT jobs_unexpected FROM runs WHERE"
	        " id = ? AND state = 'done' AND finished_at IS NOT NULL",
	        "i", run),
	    1);
	CHECK_EQ_INT(n, 1);
	fixture_close(&fx);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
