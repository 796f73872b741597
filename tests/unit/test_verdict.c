/*
 * test_verdict.c: judging a finished job (controller/verdict.c) from real
 * guest records (tests/controller/data/) stored as events, on a real
 * database, without HTTP.
 */
#include "ctl_fixture.h"
#include "test.h"

#include "../../controller/queue.h"
#include "../../controller/verdict.h"

#define COLD2 "{\"cpus\": 2, \"mailbox_version\": 1}"

/* A leased job of a new run, with the records of data file name as events. */
static int64_t
leased_job(struct fixture *fx, const char *params, const char *verdict,
    const char *failing, const char *records)
{
	char path[256], line[8192];
	int64_t host, job, seq = 0;
	json_t *l;
	FILE *f;

	if ((host = fixture_host(fx, "h1", 1)) < 0 ||
	    fixture_run(fx, 1, params, verdict, failing) < 0)
		return -1;
	l = queue_try_lease(&fx->api, host);
	job = json_integer_value(json_object_get(l, "job"));
	json_decref(l);
	snprintf(path, sizeof(path), "tests/controller/data/%s", records);
	if (records == NULL || (f = fopen(path, "r")) == NULL)
		return job;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		db_exec(fx->db, NULL,
		    "INSERT INTO events (job_id, attempt, seq,"
		    " record) VALUES (?, 1, ?, ?)",
		    "iit", job, seq++, line);
	}
	fclose(f);
	return job;
}

static json_t *
finish(struct fixture *fx, int64_t job, const char *outcome)
{
	json_t *res;

	if (db_begin(fx->db) == -1)
		return NULL;
	res = verdict_finish(&fx->api, job, outcome, "t", NULL, 0);
	if (db_commit(fx->db) == -1) {
		json_decref(res);
		return NULL;
	}
	return res;
}

TEST(a_clean_cold_boot_passes_as_expected)
{
	struct fixture fx;
	int64_t job, n = -1;
	json_t *res;
	char v[64];

	REQUIRE(fixture_open(&fx) == 0);
	REQUIRE((job = leased_job(
	             &fx, COLD2, "pass", "[]", "v1-2cpu-cold.records")) > 0);
	res = finish(&fx, job, "completed");
	REQUIRE(res != NULL);
	CHECK_STR_EQ(
	    json_string_value(json_object_get(res, "verdict")), "pass");
	CHECK(json_is_true(json_object_get(res, "as_expected")));
	CHECK(json_is_false(json_object_get(res, "requeued")));
	CHECK_EQ_INT(
	    json_array_size(json_object_get(res, "failing_checks")), 0);
	CHECK_STR_EQ(fixture_job_str(&fx, job, "state", v, sizeof(v)), "done");
	CHECK_STR_EQ(
	    fixture_job_str(&fx, job, "as_expected", v, sizeof(v)), "1");
	/* checks and generations are stored; the agent's end is a record */
	CHECK_EQ_INT(db_int(fx.db, &n,
	                 "SELECT count(*) FROM checks WHERE"
	                 " job_id = ?",
	                 "i", job),
	    1);
	CHECK(n > 3);
	CHECK_EQ_INT(db_int(fx.db, &n,
	                 "SELECT count(*) FROM generations WHERE"
	                 " job_id = ?",
	                 "i", job),
	    1);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(db_int(fx.db, &n,
	                 "SELECT count(*) FROM events WHERE"
	                 " job_id = ? AND record LIKE '%host-exit%'",
	                 "i", job),
	    1);
	CHECK_EQ_INT(n, 1);
	json_decref(res);
	fixture_close(&fx);
}

TEST(the_right_records_against_the_wrong_expectation_fail)
{
	struct fixture fx;
	int64_t job;
	json_t *res;
	char v[64];

	REQUIRE(fixture_open(&fx) == 0);
	REQUIRE((job = leased_job(&fx, COLD2, "fail", "[\"madt-entry\"]",
	             "v1-2cpu-cold.records")) > 0);
	res = finish(&fx, job, "completed");
	REQUIRE(res != NULL);
	CHECK_STR_EQ(
	    json_string_value(json_object_get(res, "verdict")), "pass");
	CHECK(json_is_false(json_object_get(res, "as_expected")));
	CHECK_STR_EQ(
	    fixture_job_str(&fx, job, "as_expected", v, sizeof(v)), "0");
	json_decref(res);
	fixture_close(&fx);
}

TEST(a_hang_is_judged_from_its_records)
{
	struct fixture fx;
	int64_t job;
	json_t *res;

	REQUIRE(fixture_open(&fx) == 0);
	REQUIRE(
	    (job = leased_job(&fx,
	         "{\"cpus\": 2, \"mailbox_version\": 1,"
	         " \"policy\": \"pre-6.11\", \"steps\": \"kexec\", \"timeout_s\": 5}",
	         "hang", "[\"bring-up-finished\"]",
	         "pre611-v1-kexec-hang.records")) > 0);
	res = finish(&fx, job, "hang");
	REQUIRE(res != NULL);
	CHECK_STR_EQ(
	    json_string_value(json_object_get(res, "verdict")), "hang");
	CHECK(json_is_true(json_object_get(res, "as_expected")));
	json_decref(res);
	fixture_close(&fx);
}

TEST(infra_requeues_the_job_without_a_verdict)
{
	struct fixture fx;
	int64_t job;
	json_t *res;
	char v[64];

	REQUIRE(fixture_open(&fx) == 0);
	REQUIRE((job = leased_job(&fx, COLD2, "pass", "[]", NULL)) > 0);
	res = finish(&fx, job, "infra");
	REQUIRE(res != NULL);
	CHECK_STR_EQ(
	    json_string_value(json_object_get(res, "verdict")), "infra");
	CHECK(json_is_true(json_object_get(res, "requeued")));
	CHECK_STR_CONTAINS(
	    json_string_value(json_object_get(res, "reason")), "infra: t");
	CHECK_STR_EQ(
	    fixture_job_str(&fx, job, "state", v, sizeof(v)), "queued");
	CHECK_STR_EQ(fixture_job_str(&fx, job, "attempt", v, sizeof(v)), "2");
	json_decref(res);
	fixture_close(&fx);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
