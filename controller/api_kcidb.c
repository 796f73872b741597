/*
 * api_kcidb.c: GET /api/v1/runs/{id}/kcidb.json, a run in the KCIDB
 * I/O schema v4 (one checkout per run, one build per kernel, one test per
 * job and check with path SCENARIO.CHECK), origin "wakefarm".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "regress.h"
#include "util.h"

#define ORIGIN "wakefarm"

/* RFC 3339 (UTC, ms) of ms since the epoch; json_null() for NULL. */
static json_t *
rfc3339(const json_t *ms)
{
	time_t t;
	struct tm tm;
	char s[40], z[8];
	int64_t v;

	if (!json_is_integer(ms))
		return json_null();
	v = json_integer_value(ms);
	t = (time_t)(v / 1000);
	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(z, sizeof(z), ".%03dZ", (int)(v % 1000));
	strcat(s, z);
	return json_string(s);
}

/* The build a job ran: its kernel artifact, or our test kernel. */
static const char *
kernel_of(const json_t *job)
{
	const char *k = json_string_value(
	    json_object_get(json_object_get(job, "params"), "kernel"));

	return k != NULL && k[0] != '\0' ? k : "wakefarm-test-kernel";
}

static int
in_list(const json_t *list, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach (list, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	}
	return 0;
}

/* One KCIDB test (new). status: PASS FAIL ERROR SKIP. */
static json_t *
test_entry(int64_t run, const json_t *job, const char *build_id,
    const char *check, const char *status, const json_t *cls)
{
	char id[256], path[256];
	json_t *t, *misc;
	json_int_t jid = json_integer_value(json_object_get(job, "id"));

	snprintf(id, sizeof(id), ORIGIN ":job-%lld:%s", (long long)jid, check);
	snprintf(path, sizeof(path), "%s.%s",
	    json_string_value(json_object_get(job, "scenario")), check);
	misc = json_pack("{s:I, s:I, s:O, s:O, s:O, s:O, s:O}", "run",
	    (json_int_t)run, "job", jid, "matrix",
	    json_object_get(job, "matrix"), "verdict",
	    json_object_get(job, "verdict"), "expected_verdict",
	    json_object_get(job, "expected_verdict"), "as_expected",
	    json_object_get(job, "as_expected"), "attempt",
	    json_object_get(job, "attempt"));
	if (cls != NULL) {
		json_object_set(misc, "class", json_object_get(cls, "class"));
		if (json_object_get(cls, "known") != NULL)
			json_object_set(misc, "known_issues",
			    json_object_get(cls, "known"));
	}
	t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id", id,
	    "build_id", build_id, "origin", ORIGIN, "path", path, "status",
	    status, "start_time", rfc3339(json_object_get(job, "started_at")),
	    "misc", misc);
	if (json_is_null(json_object_get(t, "start_time")))
		json_object_set_new(t, "start_time",
		    rfc3339(json_object_get(job, "created_at")));
	return t;
}

/* A job's tests: one per check (over every generation), or one "run". */
static void
job_tests(int64_t run, const json_t *job, const json_t *checks,
    const char *build_id, const json_t *cls, json_t *tests)
{
	const char *state = json_string_value(json_object_get(job, "state"));
	const char *v = json_string_value(json_object_get(job, "verdict"));
	const json_t *c, *expected = json_object_get(job, "expected_failing");
	json_t *t;
	size_t i;
	int failed, want_fail, n = 0;

	if (strcmp(state, "done") != 0 || v == NULL ||
	    strcmp(v, "infra") == 0) {
		json_array_append_new(tests,
		    test_entry(run, job, build_id, "run",
		        strcmp(state, "done") == 0 ? "ERROR" : "SKIP", cls));
		return;
	}
	json_array_foreach (checks, i, c) {
		if (json_integer_value(json_object_get(c, "job_id")) !=
		    json_integer_value(json_object_get(job, "id")))
			continue;
		failed = json_integer_value(json_object_get(c, "ok")) != 1;
		want_fail = in_list(
		    expected, json_string_value(json_object_get(c, "check")));
		/* Judged against the scenario's expectation, like the job. */
		t = test_entry(run, job, build_id,
		    json_string_value(json_object_get(c, "check")),
		    failed == want_fail ? "PASS" : "FAIL", cls);
		json_object_set_new(json_object_get(t, "misc"), "check_ok",
		    json_boolean(!failed));
		json_object_set_new(json_object_get(t, "misc"),
		    "expected_to_fail", json_boolean(want_fail));
		json_array_append_new(tests, t);
		n++;
	}
	if (n == 0)
		json_array_append_new(tests,
		    test_entry(run, job, build_id, "run",
		        json_integer_value(
		            json_object_get(job, "as_expected")) == 1 ?
		            "PASS" :
		            "FAIL",
		        cls));
}

void
api_run_kcidb(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out);
	json_t *run = NULL, *jobs = NULL, *checks = NULL, *cls = NULL;
	json_t *builds, *tests, *job, *by_job, *checkout, *res;
	char cid[64], bid[320], key[32];
	size_t i;

	if (id == -1)
		return;
	db_lock(r->api->db);
	run = db_row(r->api->db,
	    "SELECT r.id, r.kind, r.created_at,"
	    " r.request AS \"request:json\", s.schedule, s.day FROM runs r"
	    " LEFT JOIN schedule_runs s ON s.run_id = r.id WHERE r.id = ?",
	    "i", id);
	if (run != NULL && !json_is_null(run)) {
		jobs = db_rows(r->api->db,
		    "SELECT id, scenario, matrix AS"
		    " \"matrix:json\", params AS \"params:json\", state, attempt,"
		    " verdict, as_expected, expected_verdict, expected_failing AS"
		    " \"expected_failing:json\", created_at, started_at,"
		    " finished_at FROM jobs WHERE run_id = ? ORDER BY id",
		    "i", id);
		checks = db_rows(r->api->db,
		    "SELECT c.job_id, c.check_name AS"
		    " \"check\", min(c.ok) AS ok FROM checks c JOIN jobs j ON"
		    " j.id = c.job_id WHERE j.run_id = ? GROUP BY c.job_id,"
		    " c.check_name ORDER BY c.job_id, min(c.id)",
		    "i", id);
		if (strcmp(json_string_value(json_object_get(run, "kind")),
		        "nightly") == 0)
			cls = regress_run(r->api->db, id);
		else
			cls = json_object();
	}
	db_unlock(r->api->db);
	if (run == NULL ||
	    (!json_is_null(run) &&
	        (jobs == NULL || checks == NULL || cls == NULL))) {
		reply_db_error(out);
		goto out;
	}
	if (json_is_null(run)) {
		reply_error(out, 404, "no run %lld", (long long)id);
		goto out;
	}
	by_job = json_object();
	json_array_foreach (json_object_get(cls, "cases"), i, job) {
		snprintf(key, sizeof(key), "%lld",
		    (long long)json_integer_value(json_object_get(job, "job")));
		json_object_set(by_job, key, job);
	}
	snprintf(cid, sizeof(cid), ORIGIN ":run-%lld", (long long)id);
	checkout = json_pack("{s:s, s:s, s:s, s:o, s:b, s:{s:I, s:O, s:O,"
	                     " s:O}}",
	    "id", cid, "origin", ORIGIN, "tree_name",
	    json_is_string(json_object_get(run, "schedule")) ?
	        json_string_value(json_object_get(run, "schedule")) :
	        ORIGIN,
	    "start_time", rfc3339(json_object_get(run, "created_at")), "valid",
	    1, "misc", "run", (json_int_t)id, "kind",
	    json_object_get(run, "kind"), "day", json_object_get(run, "day"),
	    "request", json_object_get(run, "request"));
	builds = json_object();
	tests = json_array();
	json_array_foreach (jobs, i, job) {
		snprintf(bid, sizeof(bid), "%s:%.200s", cid, kernel_of(job));
		if (json_object_get(builds, bid) == NULL)
			json_object_set_new(builds, bid,
			    json_pack("{s:s, s:s,"
			              " s:s, s:o, s:b, s:s, s:s}",
			        "id", bid, "origin", ORIGIN, "checkout_id", cid,
			        "start_time",
			        rfc3339(json_object_get(run, "created_at")),
			        "valid", 1, "architecture", "x86_64",
			        "config_name", kernel_of(job)));
		snprintf(key, sizeof(key), "%lld",
		    (long long)json_integer_value(json_object_get(job, "id")));
		job_tests(
		    id, job, checks, bid, json_object_get(by_job, key), tests);
	}
	json_decref(by_job);
	res = json_pack("{s:{s:i, s:i}, s:[o], s:[], s:o}", "version", "major",
	    4, "minor", 0, "checkouts", checkout, "builds", "tests", tests);
	{
		const char *k;
		json_t *b;

		json_object_foreach (builds, k, b)
			json_array_append(json_object_get(res, "builds"), b);
	}
	json_decref(builds);
	reply_json(out, 200, res);
out:
	json_decref(run);
	json_decref(jobs);
	json_decref(checks);
	json_decref(cls);
}
