/*
 * ctest_rerun.c: issue 19's job page facts and reruns: the agent's own run
 * time (finish's run_ms) stored and shown, a job's self-contained
 * reproduction (`wakefarm --server URL repro ID` and the guest/run-qemu
 * line) in GET /jobs/{id} and `wakefarm show`, and POST
 * /runs/{id}/resubmit (`wakefarm resubmit [--failed] RUN`): every case, or
 * only those not as expected, again with the same params and expectations.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"
#include "../unit/test.h"

#define GOOD "quirk-v1-short-entry.records"
#define BAD "v1-2cpu-cold.records"

/* A run of two jobs of quirk-v1-short-entry: the first as expected, the
 * second not. */
static json_int_t
mixed_run(void)
{
	json_int_t run;

	cancel_all();
	run = submit("{\"scenario\": \"quirk-v1-short-entry\", \"repeat\": 2,"
	             " \"priority\": 900}",
	    NULL);
	agent_runs_next(GOOD, "completed");
	agent_runs_next(BAD, "completed");
	return run;
}

TEST(finish_run_ms_is_stored_and_a_bad_one_refused)
{
	json_t *l, *j, *recs;
	json_int_t job;
	char path[96];

	cancel_all();
	REQUIRE(submit("{\"scenario\": \"quirk-v1-short-entry\","
	               " \"priority\": 900}",
	            NULL) > 0);
	REQUIRE((l = lease(ag1, 10)) != NULL);
	job = jint(l, "job");
	recs = fixture(GOOD);
	post_batch(&S, ag1, job, 0, recs, NULL);
	json_decref(recs);
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/finish", (long long)job);
	expect_refused(ag1, "POST", path,
	    "{\"outcome\": \"completed\", \"run_ms\": \"soon\"}", 400,
	    "run_ms");
	CHECK_EQ_INT(jstatus(ag1, "POST", path,
	                 "{\"outcome\": \"completed\", \"run_ms\": 960}"),
	    200);
	j = get_job(job);
	CHECK_EQ_INT(jint(j, "run_ms"), 960);
	json_decref(j);
	json_decref(l);
}

TEST(a_job_names_its_server_and_its_run_qemu_line)
{
	json_int_t run = mixed_run(), job;
	json_t *r = get_run(run), *j;
	const json_t *rp;
	char want[160], out[8192];
	const char *args[3] = { "show", NULL, NULL };
	char id[32];

	REQUIRE(r != NULL);
	job = jint(json_array_get(json_object_get(r, "jobs"), 1), "id");
	j = get_job(job);
	rp = json_object_get(j, "repro");
	snprintf(want, sizeof(want), "wakefarm --server %s repro %lld", S.base,
	    (long long)job);
	CHECK_STR_EQ(jstr(rp, "cli"), want);
	CHECK_STR_EQ(jstr(rp, "run_qemu"),
	    "guest/run-qemu --cpus 2 --mailbox-version 1 --policy 6.11"
	    " --steps kexec --quirk v1-short-entry --memory 32 --timeout 60"
	    " --records job.records --log job.log --check");
	snprintf(id, sizeof(id), "%lld", (long long)job);
	args[1] = id;
	CHECK_EQ_INT(cli(reader, args, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, want);
	CHECK_STR_CONTAINS(out, "without farm access");
	CHECK_STR_CONTAINS(out, "guest/run-qemu --cpus 2");
	json_decref(j);
	json_decref(r);
}

TEST(resubmit_failed_reruns_only_the_unexpected_case)
{
	json_int_t run = mixed_run(), again;
	json_t *r = get_run(run), *j, *a, *old, *nu;
	char path[96];
	long st;

	REQUIRE(r != NULL);
	CHECK_EQ_INT(jint(json_object_get(r, "run"), "jobs_unexpected"), 1);
	snprintf(
	    path, sizeof(path), "/api/v1/runs/%lld/resubmit", (long long)run);
	j = jcall(&S, submitter, "POST", path, "{\"failed\": true}", &st);
	CHECK_EQ_INT(st, 201);
	CHECK_EQ_INT(jint(j, "jobs"), 1);
	CHECK_EQ_INT(jint(j, "resubmit_of"), run);
	again = jint(j, "run");
	json_decref(j);
	a = get_run(again);
	REQUIRE(a != NULL);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "jobs")), 1);
	old = get_job(
	    jint(json_array_get(json_object_get(r, "jobs"), 1), "id"));
	nu = get_job(jint(json_array_get(json_object_get(a, "jobs"), 0), "id"));
	CHECK(json_equal(
	    json_object_get(old, "params"), json_object_get(nu, "params")));
	CHECK(json_equal(
	    json_object_get(old, "expected"), json_object_get(nu, "expected")));
	CHECK_STR_EQ(jstr(nu, "state"), "queued");
	json_decref(old);
	json_decref(nu);
	json_decref(a);
	/* without --failed: every case */
	j = jcall(&S, submitter, "POST", path, NULL, &st);
	CHECK_EQ_INT(st, 201);
	CHECK_EQ_INT(jint(j, "jobs"), 2);
	json_decref(j);
	expect_refused(
	    submitter, "POST", path, "{\"failed\": 1}", 400, "failed");
	CHECK_EQ_INT(jstatus(reader, "POST", path, NULL), 403);
	expect_refused(submitter, "POST", "/api/v1/runs/99999/resubmit", NULL,
	    404, "no run 99999");
	json_decref(r);
	cancel_all();
}

TEST(cli_resubmit_failed_and_nothing_to_rerun)
{
	json_int_t run = mixed_run(), good;
	char out[4096], id[32], want[96];
	const char *args[] = { "resubmit", "--failed", id, NULL };

	snprintf(id, sizeof(id), "%lld", (long long)run);
	CHECK_EQ_INT(cli(submitter, args, out, sizeof(out)), 0);
	snprintf(
	    want, sizeof(want), ": 1 jobs of run %lld again", (long long)run);
	CHECK_STR_CONTAINS(out, want);
	/* a run whose only job was as expected: nothing to rerun (65) */
	cancel_all();
	good = submit("{\"scenario\": \"quirk-v1-short-entry\","
	              " \"priority\": 900}",
	    NULL);
	agent_runs_next(GOOD, "completed");
	snprintf(id, sizeof(id), "%lld", (long long)good);
	CHECK_EQ_INT(cli(submitter, args, out, sizeof(out)), 65);
	CHECK_STR_CONTAINS(out, "no finished job that was not as expected");
	cancel_all();
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_rerun", test_main);
}
