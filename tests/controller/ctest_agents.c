/*
 * ctest_agents.c: controller suite cases for the agent's calls: leases,
 * event batches, logs, finish and verdicts, retries, expiry, kill -9
 * .
 */

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "suite.h"
#include "../unit/test.h"

/* Submits a one-job run of scenario and leases its job to tok. */
static json_t *
one_job(const char *body, const char *tok)
{
	json_int_t run = submit(body, NULL);
	json_t *l;

	if (run == 0)
		return NULL;
	l = lease(tok, 5);
	if (l != NULL && jint(l, "run") != run) {
		printf("  leased job %lld of run %lld, not of run %lld\n",
		    (long long)jint(l, "job"), (long long)jint(l, "run"),
		    (long long)run);
		json_decref(l);
		return NULL;
	}
	return l;
}

TEST(verdicts_from_real_records)
{
	static const struct {
		const char *submit, *records, *outcome, *verdict;
		int as_expected;
		const char *failing;
	} cases[] = {
		{ "{\"inline\": {\"name\": \"cold2\", \"cpus\": 2}}",
		    "v1-2cpu-cold.records", "completed", "pass", 1, "[]" },
		{ "{\"scenario\": \"quirk-v1-short-entry\"}",
		    "quirk-v1-short-entry.records", "completed", "fail", 1,
		    "[\"madt-entry\"]" },
		{ "{\"scenario\": \"pre611-kexec-hang\"}",
		    "pre611-v1-kexec-hang.records", "hang", "hang", 1,
		    "[\"bring-up-finished\"]" },
		/* Right records, wrong expectation: a real failure. */
		{ "{\"scenario\": \"quirk-v1-short-entry\"}",
		    "v1-2cpu-cold.records", "completed", "fail", 0, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *l = one_job(cases[i].submit, ag1), *recs, *rep, *j;
		json_int_t job;

		REQUIRE(l != NULL);
		job = jint(l, "job");
		CHECK_EQ_INT(jint(l, "attempt"), 1);
		CHECK(json_is_integer(
		    json_object_get(json_object_get(l, "params"), "cpus")));
		CHECK(json_is_string(
		    json_object_get(json_object_get(l, "params"), "quirks")));
		recs = fixture(cases[i].records);
		CHECK_EQ_INT(post_batch(&S, ag1, job, 0, recs, NULL), 200);
		CHECK_EQ_INT(finish(ag1, job, cases[i].outcome, &rep), 200);
		if (i == 3) {
			/* Short-entry quirk expected, clean records seen. */
			CHECK_STR_EQ(jstr(rep, "verdict"), "fail");
		} else {
			json_t *want = json_loads(cases[i].failing, 0, NULL);

			CHECK_STR_EQ(jstr(rep, "verdict"), cases[i].verdict);
			CHECK(json_equal(
			    json_object_get(rep, "failing_checks"), want));
			json_decref(want);
		}
		CHECK_EQ_INT(json_is_true(json_object_get(rep, "as_expected")),
		    cases[i].as_expected);
		j = get_job(job);
		CHECK_STR_EQ(jstr(j, "state"), "done");
		CHECK(json_array_size(json_object_get(j, "checks")) > 5);
		CHECK(json_array_size(json_object_get(j, "generations")) >= 1);
		CHECK_EQ_INT(json_array_size(json_object_get(j, "events")),
		    json_array_size(recs));
		json_decref(j);
		json_decref(rep);
		json_decref(recs);
		json_decref(l);
	}
	cancel_all();
}

TEST(event_batches_idempotent_and_ordered)
{
	json_t *l = one_job(
	    "{\"inline\": {\"name\": \"b\", \"cpus\": 2}}", ag1);
	json_t *recs = fixture("v1-2cpu-cold.records"), *part, *rep, *j;
	json_int_t job;
	size_t i;
	long st;

	REQUIRE(l != NULL);
	job = jint(l, "job");
	part = json_array();
	for (i = 0; i < 3; i++)
		json_array_append(part, json_array_get(recs, i));
	CHECK_EQ_INT(post_batch(&S, ag1, job, 0, part, NULL), 200);
	/* The same batch again (a lost reply): acknowledged, stored once. */
	CHECK_EQ_INT(post_batch(&S, ag1, job, 0, part, &rep), 200);
	CHECK(json_is_true(json_object_get(rep, "duplicate")));
	json_decref(rep);
	/* A gap: refused, naming the batch expected. */
	st = post_batch(&S, ag1, job, 2, part, &rep);
	expect_error(st, rep, 409, "expected batch 1");
	json_decref(rep);
	/* Another agent may not add to this job. */
	st = post_batch(&S, ag2, job, 1, part, &rep);
	expect_error(st, rep, 409, "leased to another agent");
	json_decref(rep);
	/* A bad record refuses the whole batch; nothing of it is stored. */
	json_array_append_new(
	    part, json_pack("{s:i, s:s}", "v", 1, "src", "fw"));
	st = post_batch(&S, ag1, job, 1, part, &rep);
	expect_error(st, rep, 400, "records[3]");
	json_decref(rep);
	{
		char path[64];

		snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events",
		    (long long)job);
		rep = jcall(&S, ag1, "POST", path,
		    "{\"batch\": -1, \"records\": []}", &st);
		expect_error(st, rep, 400, "batch");
		json_decref(rep);
		rep = jcall(&S, ag1, "POST", path,
		    "{\"batch\": 1, \"records\": [],"
		    " \"extra\": true}",
		    &st);
		expect_error(st, rep, 400, "extra");
		json_decref(rep);
		rep = jcall(&S, ag1, "POST", path,
		    "{\"batch\": 1, \"records\":"
		    " [{\"v\": 1, \"src\": \"os\", \"gen\": 1, \"ev\": \"x\\u0000y\","
		    " \"t_us\": 1}]}",
		    &st);
		CHECK_EQ_INT(st, 400);
		json_decref(rep);
	}
	j = get_job(job);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "events")), 3);
	CHECK_STR_EQ(jstr(j, "state"), "running");
	json_decref(j);
	json_decref(part);
	json_decref(recs);
	json_decref(l);
	cancel_all();
}

TEST(finish_and_renewal_need_the_lease)
{
	json_t *l = one_job("{\"inline\": {\"name\": \"f\"}}", ag1), *rep;
	json_int_t job, queued;
	char body[128];
	long st;

	REQUIRE(l != NULL);
	job = jint(l, "job");
	CHECK_EQ_INT(finish(ag2, job, "completed", &rep), 409);
	CHECK_STR_CONTAINS(jstr(rep, "error"), "leased to another agent");
	json_decref(rep);
	snprintf(body, sizeof(body), "{\"jobs\": [%lld]}", (long long)job);
	rep = jcall(&S, ag2, "POST", "/api/v1/agents/heartbeat", body, &st);
	expect_error(st, rep, 409, "leased to another agent");
	json_decref(rep);
	rep = jcall(&S, ag1, "POST", "/api/v1/agents/heartbeat", body, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(json_integer_value(
	                 json_array_get(json_object_get(rep, "renewed"), 0)),
	    job);
	json_decref(rep);
	rep = jcall(&S, ag1, "POST", "/api/v1/jobs/1/finish",
	    "{\"outcome\": \"exploded\"}", &st);
	CHECK_EQ_INT(st, 400);
	json_decref(rep);
	{
		/* the agent's phase timings: checked, then not stored */
		static const char *const bad[][2] = {
			{ "[1]", "not an object" },
			{ "{\"boot\": \"x\"}", "timings.boot" },
			{ "{\"run\": -1}", "timings.run" },
			{ "{\"run\": 1e9}", "timings.run" },
			{ "{\"warp\": 1}", "warp" },
		};
		char path[64], b[256];

		snprintf(path, sizeof(path), "/api/v1/jobs/%lld/finish",
		    (long long)job);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(b, sizeof(b),
			    "{\"outcome\": \"completed\", \"timings\": %s}",
			    bad[i][0]);
			rep = jcall(&S, ag1, "POST", path, b, &st);
			expect_error(st, rep, 400, bad[i][1]);
			json_decref(rep);
		}
		rep = jcall(&S, ag1, "POST", path,
		    "{\"outcome\": \"completed\", \"detail\": \"t\","
		    " \"timings\": {\"prepare\": 0.008, \"create\": 0.2,"
		    " \"boot\": 0.2, \"run\": 1.6, \"settle\": 0,"
		    " \"teardown\": 0.002}}",
		    &st);
		CHECK_EQ_INT(st, 200);
		json_decref(rep);
	}
	/* Done now: a second finish, or more events, are refused. */
	CHECK_EQ_INT(finish(ag1, job, "completed", &rep), 409);
	CHECK_STR_CONTAINS(jstr(rep, "error"), "is not leased (it is done)");
	json_decref(rep);
	json_decref(l);
	/* A queued job was never leased. */
	queued = submit("{\"inline\": {\"name\": \"q\"}}", NULL);
	REQUIRE(queued > 0);
	rep = jcall(&S, admin, "POST", "/api/v1/admin/hosts/h1",
	    "{\"state\": \"maintenance\"}", &st);
	json_decref(rep);
	rep = jcall(&S, admin, "POST", "/api/v1/admin/hosts/h2",
	    "{\"state\": \"maintenance\"}", &st);
	json_decref(rep);
	{
		char path[64];
		json_t *jobs;
		json_int_t qjob;

		snprintf(path, sizeof(path), "/api/v1/jobs?run=%lld",
		    (long long)queued);
		jobs = jcall(&S, NULL, "GET", path, NULL, &st);
		qjob = jint(
		    json_array_get(json_object_get(jobs, "jobs"), 0), "id");
		json_decref(jobs);
		/* Hosts in maintenance get nothing. */
		CHECK(lease(ag1, 0) == NULL);
		CHECK_EQ_INT(finish(ag1, qjob, "completed", &rep), 409);
		CHECK_STR_CONTAINS(jstr(rep, "error"),
		    "is not leased (it is"
		    " queued)");
		json_decref(rep);
	}
	json_decref(jcall(&S, admin, "POST", "/api/v1/admin/hosts/h1",
	    "{\"state\": \"good\"}", &st));
	json_decref(jcall(&S, admin, "POST", "/api/v1/admin/hosts/h2",
	    "{\"state\": \"good\"}", &st));
	cancel_all();
}

struct poller {
	const char *tok;
	json_t *lease;
	long long at; /* when the reply arrived */
};

static void *
poll_thread(void *arg)
{
	struct poller *p = arg;

	p->lease = lease(p->tok, 10);
	p->at = ctest_now_ms();
	return NULL;
}

TEST(long_poll_hands_out_at_once)
{
	struct poller p = { ag1, NULL, 0 };
	long long t0, submitted;
	pthread_t th;
	long st;
	json_t *j;

	/* Nothing queued: the poll returns 204 at its deadline, not before. */
	t0 = ctest_now_ms();
	CHECK(lease(ag1, 1) == NULL);
	CHECK(ctest_now_ms() - t0 >= 900);
	pthread_create(&th, NULL, poll_thread, &p);
	/* Bounded: until the controller counts the waiter. */
	wait_metric(&S, "wakefarm_lease_waiters 1", 500);
	j = jcall(&S, submitter, "POST", "/api/v1/runs",
	    "{\"inline\": {\"name\": \"lp\"}}", &st);
	submitted = ctest_now_ms();
	CHECK_EQ_INT(st, 201);
	pthread_join(th, NULL);
	REQUIRE(p.lease != NULL);
	CHECK_EQ_INT(jint(p.lease, "run"), jint(j, "run"));
	printf("  lease arrived %lld ms after the submission's reply\n",
	    p.at - submitted);
	CHECK(p.at - submitted <= 50);
	json_decref(j);
	json_decref(p.lease);
	cancel_all();
}

TEST(expired_lease_is_requeued_elsewhere)
{
	json_t *l = one_job("{\"inline\": {\"name\": \"exp\"}}", ag1), *j, *l2;
	json_int_t job;
	long long deadline;
	int requeued = 0;

	REQUIRE(l != NULL);
	job = jint(l, "job");
	/* No heartbeat: within lease + reaper period it is queued again. */
	deadline = ctest_now_ms() + 6000;
	while (!requeued && ctest_now_ms() < deadline) {
		j = get_job(job);
		requeued = strcmp(jstr(j, "state"), "queued") == 0 &&
		    jint(j, "attempt") == 2;
		json_decref(j);
		if (!requeued)
			usleep(50000);
	}
	CHECK(requeued);
	CHECK_EQ_INT(post_batch(&S, ag1, job, 0, NULL, NULL), 409);
	/* h2 is alive: h1 does not get the job back, h2 does. */
	json_decref(jcall(
	    &S, ag2, "POST", "/api/v1/agents/heartbeat", NULL, &(long){ 0 }));
	CHECK(lease(ag1, 0) == NULL);
	l2 = lease(ag2, 0);
	REQUIRE(l2 != NULL);
	CHECK_EQ_INT(jint(l2, "job"), job);
	CHECK_EQ_INT(jint(l2, "attempt"), 2);
	json_decref(l2);
	json_decref(l);
	cancel_all();
}

TEST(heartbeat_keeps_the_lease)
{
	json_t *l = one_job("{\"inline\": {\"name\": \"hb\"}}", ag1), *j;
	json_int_t job;
	long long end;
	long st;

	REQUIRE(l != NULL);
	job = jint(l, "job");
	end = ctest_now_ms() + 3000; /* twice the lease */
	while (ctest_now_ms() < end) {
		json_decref(jcall(
		    &S, ag1, "POST", "/api/v1/agents/heartbeat", "{}", &st));
		CHECK_EQ_INT(st, 200);
		usleep(300000);
	}
	j = get_job(job);
	CHECK_STR_EQ(jstr(j, "state"), "leased");
	CHECK_EQ_INT(jint(j, "attempt"), 1);
	json_decref(j);
	json_decref(l);
	cancel_all();
}

TEST(infra_retries_then_gives_up)
{
	json_t *l, *rep, *j;
	json_int_t job;
	int attempt;

	l = one_job("{\"inline\": {\"name\": \"inf\"}}", ag1);
	REQUIRE(l != NULL);
	job = jint(l, "job");
	json_decref(l);
	for (attempt = 1; attempt <= 3; attempt++) {
		const char *tok = attempt % 2 ? ag1 : ag2;

		if (attempt > 1) {
			l = lease(tok, 5);
			REQUIRE(l != NULL);
			CHECK_EQ_INT(jint(l, "job"), job);
			CHECK_EQ_INT(jint(l, "attempt"), attempt);
			json_decref(l);
		}
		CHECK_EQ_INT(finish(tok, job, "infra", &rep), 200);
		CHECK_STR_EQ(jstr(rep, "verdict"), "infra");
		CHECK_EQ_INT(json_is_true(json_object_get(rep, "requeued")),
		    attempt < 3);
		json_decref(rep);
	}
	j = get_job(job);
	CHECK_STR_EQ(jstr(j, "state"), "done");
	CHECK_STR_EQ(jstr(j, "verdict"), "infra");
	CHECK_EQ_INT(jint(j, "as_expected"), 0);
	json_decref(j);
	cancel_all();
}

TEST(logs_ranged_and_capped)
{
	json_t *l = one_job("{\"inline\": {\"name\": \"lg\"}}", ag1), *rep;
	char path[96], chunk[1500];
	json_int_t job;
	struct resp r;
	long st;

	REQUIRE(l != NULL);
	job = jint(l, "job");
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/logs/0", (long long)job);
	memset(chunk, 'a', sizeof(chunk));
	chunk[0] = 'S';
	http(&S, ag1, "POST", path, chunk, sizeof(chunk), &r);
	CHECK_EQ_INT(r.status, 200);
	resp_free(&r);
	http(&S, ag1, "POST", path, chunk, sizeof(chunk), &r); /* over 2048 */
	CHECK(json_is_true(json_object_get(r.json, "truncated")));
	resp_free(&r);
	http(&S, ag1, "POST", path, "more", 4, &r);
	CHECK_EQ_INT(r.status, 200);
	resp_free(&r);
	http(&S, NULL, "GET", path, NULL, 0, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK(r.len > 2048 && r.len < 2048 + 80);
	CHECK_STR_CONTAINS(r.body, "[wakefarm: log truncated at 2048 bytes]");
	CHECK(strstr(r.body, "more") == NULL);
	resp_free(&r);
	snprintf(path, sizeof(path),
	    "/api/v1/jobs/%lld/logs/0?offset=1&limit=3", (long long)job);
	http(&S, NULL, "GET", path, NULL, 0, &r);
	CHECK_EQ_INT(r.len, 3);
	CHECK(r.len == 3 && memcmp(r.body, "aaa", 3) == 0);
	CHECK(atoi(r.log_size) > 2048);
	resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/logs/records",
	    (long long)job);
	CHECK_EQ_INT(http(&S, ag1, "POST", path, "x", 1, &r), 404);
	resp_free(&r);
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/logs/2", (long long)job);
	CHECK_EQ_INT(http(&S, NULL, "GET", path, NULL, 0, &r), 404);
	resp_free(&r);
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/logs/1", (long long)job);
	CHECK_EQ_INT(http(&S, ag2, "POST", path, "x", 1, &r), 409);
	resp_free(&r);
	/* The records port is the stored events, one per line. */
	rep = fixture("v1-2cpu-cold.records");
	CHECK_EQ_INT(post_batch(&S, ag1, job, 0, rep, NULL), 200);
	json_decref(rep);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/logs/records",
	    (long long)job);
	http(&S, NULL, "GET", path, NULL, 0, &r);
	CHECK_STR_CONTAINS(r.body, "\"ev\":\"fw-ready\"");
	resp_free(&r);
	(void)st;
	json_decref(l);
	cancel_all();
}

TEST(junit_report)
{
	json_t *l = one_job("{\"scenario\": \"quirk-v1-short-entry\"}", ag1);
	json_t *recs = fixture("v1-2cpu-cold.records");
	char path[64];
	struct resp r;

	REQUIRE(l != NULL);
	CHECK_EQ_INT(post_batch(&S, ag1, jint(l, "job"), 0, recs, NULL), 200);
	CHECK_EQ_INT(finish(ag1, jint(l, "job"), "completed", NULL), 200);
	snprintf(path, sizeof(path), "/api/v1/runs/%lld/junit.xml",
	    (long long)jint(l, "run"));
	http(&S, NULL, "GET", path, NULL, 0, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK_STR_CONTAINS(r.body, "tests=\"1\" failures=\"1\"");
	CHECK_STR_CONTAINS(r.body,
	    "classname=\"wakefarm.quirk-v1-short-entry\" name=\"default\"");
	CHECK_STR_CONTAINS(
	    r.body, "expected fail, failing [&quot;madt-entry&quot;]");
	resp_free(&r);
	snprintf(
	    path, sizeof(path), "/api/v1/runs/%lld", (long long)jint(l, "run"));
	{
		long st;
		json_t *j = jcall(&S, NULL, "GET", path, NULL, &st);

		CHECK_STR_EQ(jstr(json_object_get(j, "run"), "state"), "done");
		CHECK_EQ_INT(
		    jint(json_object_get(j, "run"), "jobs_unexpected"), 1);
		json_decref(j);
	}
	/* A known issue naming a failing check is shown with the job. */
	{
		long st;
		json_t *j;

		json_decref(
		    jcall(&S, admin, "POST", "/api/v1/admin/known-issues",
		        "{\"scenario\": \"*\", \"check\": \"generations\","
		        " \"description\": \"short entry\"}",
		        &st));
		CHECK_EQ_INT(st, 201);
		/* The classifier thread takes the finished job (at once:
		 * it is kicked), bounded. */
		for (int i = 0; i < 100; i++) {
			j = get_job(jint(l, "job"));
			if (json_array_size(json_object_get(j, "known_issues")))
				break;
			json_decref(j);
			j = NULL;
			usleep(20000);
		}
		if (j == NULL)
			j = get_job(jint(l, "job"));
		CHECK_STR_EQ(
		    jstr(json_array_get(json_object_get(j, "known_issues"), 0),
		        "description"),
		    "short entry");
		json_decref(j);
	}
	json_decref(recs);
	json_decref(l);
}

/* --- kill -9 during ingest --- */

struct ingest {
	struct ctl *c;
	const char *tok;
	json_int_t job;
	int acked; /* batches acknowledged (200) */
	int stop;
};

static json_t *
numbered_batch(int batch)
{
	json_t *recs = json_array();
	int i;

	for (i = 0; i < 20; i++)
		json_array_append_new(recs,
		    json_pack("{s:i, s:s, s:i, s:s, s:I}", "v", 1, "src", "os",
		        "gen", 1, "ev", "step", "t_us",
		        (json_int_t)batch * 1000 + i));
	return recs;
}

static void *
ingest_thread(void *arg)
{
	struct ingest *in = arg;
	int b;

	for (b = 0; !__atomic_load_n(&in->stop, __ATOMIC_ACQUIRE); b++) {
		json_t *recs = numbered_batch(b);
		long st = post_batch(in->c, in->tok, in->job, b, recs, NULL);

		json_decref(recs);
		if (st != 200)
			break;
		__atomic_store_n(&in->acked, b + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

TEST(kill9_during_ingest_keeps_every_acknowledged_event)
{
	char dir[300], db[320];
	const char *migrate[] = { "bin/wakefarm-controller", "migrate", "--db",
		db, "--schema-dir", "db", NULL };
	struct ctl c = { 0 };
	struct ingest in = { 0 };
	char *tok;
	pthread_t th;
	json_t *l, *j, *ev;
	long st;
	size_t i;
	int acked, n, ok = 1, b;

	snprintf(dir, sizeof(dir), "%s/kill9", tmp);
	mkdir(dir, 0755);
	snprintf(db, sizeof(db), "%s/w.db", dir);
	REQUIRE(ctl_run(migrate, NULL, 0) == 0);
	tok = ctl_token(dir, "agent", "k");
	REQUIRE(tok != NULL);
	{
		char *sub = ctl_token(dir, "submitter", "s");
		const char *const ex[] = { "--scenarios", "scenarios", NULL };

		REQUIRE(sub != NULL && ctl_start(&c, dir, ex) == 0);
		json_decref(jcall(&c, tok, "POST", "/api/v1/agents/register",
		    "{\"name\": \"k\", \"slots\": 1, \"libvirt_uri\": \"x\"}",
		    &st));
		json_decref(jcall(&c, sub, "POST", "/api/v1/runs",
		    "{\"inline\": {\"name\": \"k9\"}}", &st));
		free(sub);
	}
	l = jcall(&c, tok, "POST", "/api/v1/agents/lease", NULL, &st);
	REQUIRE(st == 200);
	in.c = &c;
	in.tok = tok;
	in.job = jint(l, "job");
	json_decref(l);
	pthread_create(&th, NULL, ingest_thread, &in);
	/* Bounded: kill once 30 batches are acknowledged, mid-stream. */
	for (i = 0;
	     i < 2000 && __atomic_load_n(&in.acked, __ATOMIC_ACQUIRE) < 30; i++)
		usleep(2000);
	ctl_stop(&c, SIGKILL);
	__atomic_store_n(&in.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	acked = in.acked;
	printf("  killed after %d acknowledged batches\n", acked);
	CHECK(acked >= 30);
	{
		const char *const ex[] = { "--scenarios", "scenarios", NULL };

		REQUIRE(ctl_start(&c, dir, ex) == 0);
	}
	/* Every acknowledged record is there exactly once, in order. */
	{
		char path[64];

		snprintf(
		    path, sizeof(path), "/api/v1/jobs/%lld", (long long)in.job);
		j = jcall(&c, NULL, "GET", path, NULL, &st);
	}
	n = (int)json_array_size(json_object_get(j, "events"));
	CHECK(n == acked * 20 || n == (acked + 1) * 20);
	json_array_foreach (json_object_get(j, "events"), i, ev) {
		json_int_t t = jint(json_object_get(ev, "record"), "t_us");

		if (t != (json_int_t)(i / 20) * 1000 + (json_int_t)(i % 20) ||
		    jint(ev, "seq") != (json_int_t)i)
			ok = 0;
	}
	CHECK(ok);
	json_decref(j);
	/* The agent resends what it had not seen acknowledged: stored once. */
	for (b = acked; b < acked + 2; b++) {
		json_t *recs = numbered_batch(b);

		CHECK_EQ_INT(post_batch(&c, tok, in.job, b, recs, NULL), 200);
		json_decref(recs);
	}
	{
		char path[64];

		snprintf(
		    path, sizeof(path), "/api/v1/jobs/%lld", (long long)in.job);
		j = jcall(&c, NULL, "GET", path, NULL, &st);
	}
	CHECK_EQ_INT(
	    json_array_size(json_object_get(j, "events")), (acked + 2) * 20);
	json_decref(j);
	ctl_stop(&c, SIGTERM);
	free(tok);
}

/* Three infra finishes in a row take a host out of the queue; an admin
 * putting it back gives it jobs again. */
TEST(host_with_repeated_infra_is_marked_bad)
{
	json_t *l, *rep, *hosts;
	json_int_t job;
	size_t i;
	const json_t *h;
	const char *state = "";
	long st = 0;

	for (int n = 0; n < 3; n++) {
		l = one_job("{\"inline\": {\"name\": \"sick\"}}", ag1);
		REQUIRE(l != NULL);
		job = jint(l, "job");
		json_decref(l);
		CHECK_EQ_INT(finish(ag1, job, "infra", &rep), 200);
		json_decref(rep);
		cancel_all();
	}
	hosts = jcall(&S, reader, "GET", "/api/v1/hosts", NULL, &st);
	REQUIRE(hosts != NULL);
	json_array_foreach (json_object_get(hosts, "hosts"), i, h)
		if (!strcmp(jstr(h, "name"), "h1"))
			state = jstr(h, "state");
	CHECK_STR_EQ(state, "bad");
	json_decref(hosts);

	/* a bad host gets nothing */
	json_decref(jcall(&S, submitter, "POST", "/api/v1/runs",
	    "{\"inline\": {\"name\": \"after\"}}", &st));
	l = lease(ag1, 0);
	CHECK(l == NULL || !json_is_integer(json_object_get(l, "job")));
	json_decref(l);

	/* back to good: leased again */
	json_decref(jcall(&S, admin, "POST", "/api/v1/admin/hosts/h1",
	    "{\"state\": \"good\"}", &st));
	CHECK_EQ_INT(st, 200);
	l = lease(ag1, 5);
	CHECK(l != NULL && json_is_integer(json_object_get(l, "job")));
	json_decref(l);
	cancel_all();
}

/* h1 re-registered with lease ahead and 1 slot: 2 leases, not 3; a lease
 * given back is queued at the same attempt, once. */
TEST(lease_ahead_doubles_the_slots_and_release_requeues)
{
	json_t *l[3] = { NULL }, *j, *rep;
	char body[128];
	long st;
	int i;

	json_decref(jcall(&S, ag1, "POST", "/api/v1/agents/register",
	    "{\"name\": \"h1\", \"slots\": 1, \"libvirt_uri\": \"x\","
	    " \"lease_ahead\": \"yes\"}",
	    &st));
	CHECK_EQ_INT(st, 400);
	json_decref(jcall(&S, ag1, "POST", "/api/v1/agents/register",
	    "{\"name\": \"h1\", \"slots\": 1, \"libvirt_uri\": \"x\","
	    " \"lease_ahead\": true}",
	    &st));
	REQUIRE(st == 200);
	for (i = 0; i < 3; i++)
		REQUIRE(
		    submit("{\"inline\": {\"name\": \"ahead\"}}", NULL) > 0);
	l[0] = lease(ag1, 0);
	l[1] = lease(ag1, 0);
	l[2] = lease(ag1, 0);
	REQUIRE(l[0] != NULL && l[1] != NULL);
	CHECK(l[2] == NULL); /* 2 x 1 slot */
	/* the second one, prepared ahead, is given back */
	snprintf(body, sizeof(body), "{\"job\": %lld, \"attempt\": 1}",
	    (long long)jint(l[1], "job"));
	rep = jcall(&S, ag1, "POST", "/api/v1/agents/release", body, &st);
	CHECK_EQ_INT(st, 200);
	json_decref(rep);
	j = get_job(jint(l[1], "job"));
	CHECK_STR_EQ(jstr(j, "state"), "queued");
	CHECK_EQ_INT(jint(j, "attempt"), 1);
	json_decref(j);
	json_decref(
	    jcall(&S, ag1, "POST", "/api/v1/agents/release", body, &st));
	CHECK_EQ_INT(st, 409); /* not leased any more */
	/* another host's lease, or one that sent events: not given back */
	json_decref(
	    jcall(&S, ag2, "POST", "/api/v1/agents/release", body, &st));
	CHECK_EQ_INT(st, 409);
	CHECK_EQ_INT(
	    post_batch(&S, ag1, jint(l[0], "job"), 0, NULL, NULL), 200);
	snprintf(body, sizeof(body), "{\"job\": %lld, \"attempt\": 1}",
	    (long long)jint(l[0], "job"));
	json_decref(
	    jcall(&S, ag1, "POST", "/api/v1/agents/release", body, &st));
	CHECK_EQ_INT(st, 409);
	json_decref(jcall(&S, ag1, "POST", "/api/v1/agents/release",
	    "{\"job\": \"x\"}", &st));
	CHECK_EQ_INT(st, 400);
	for (i = 0; i < 3; i++)
		json_decref(l[i]);
	json_decref(jcall(&S, ag1, "POST", "/api/v1/agents/register",
	    "{\"name\": \"h1\", \"slots\": 2, \"libvirt_uri\": \"qemu:///system\"}",
	    &st));
	CHECK_EQ_INT(st, 200);
	cancel_all();
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_agents", test_main);
}
