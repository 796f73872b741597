/*
 * ctest_api.c: controller suite cases for submitters, readers and admins
 * (a test binary of its own: suite.h).
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "suite.h"
#include "../unit/test.h"

TEST(roles_and_tokens)
{
	const char *body = "{\"scenario\": \"cold-boot\"}";
	json_int_t before = runs_total();
	long st;
	json_t *j;

	j = jcall(&S, NULL, "POST", "/api/v1/runs", body, &st);
	expect_error(st, j, 401, "token is required");
	json_decref(j);
	j = jcall(&S,
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    "POST", "/api/v1/runs", body, &st);
	expect_error(st, j, 401, "unknown or revoked token");
	json_decref(j);
	j = jcall(&S, "short'; DROP TABLE tokens; --", "GET", "/api/v1/runs",
	    NULL, &st);
	expect_error(st, j, 401, "unknown or revoked token");
	json_decref(j);
	j = jcall(&S, reader, "POST", "/api/v1/runs", body, &st);
	expect_error(st, j, 403, "the reader role may not do this");
	json_decref(j);
	j = jcall(&S, ag1, "POST", "/api/v1/runs", body, &st);
	expect_error(st, j, 403, "agent role");
	json_decref(j);
	j = jcall(&S, ag1, "POST", "/api/v1/admin/tokens",
	    "{\"name\": \"x\", \"role\": \"admin\"}", &st);
	expect_error(st, j, 403, "needs admin");
	json_decref(j);
	j = jcall(&S, submitter, "GET", "/api/v1/admin/tokens", NULL, &st);
	CHECK_EQ_INT(st, 403);
	json_decref(j);
	j = jcall(&S, submitter, "POST", "/api/v1/agents/lease", NULL, &st);
	expect_error(st, j, 403, "needs agent");
	json_decref(j);
	j = jcall(&S, reader, "GET", "/api/v1/runs", NULL, &st);
	CHECK_EQ_INT(st, 200);
	json_decref(j);
	CHECK_EQ_INT(runs_total(), before);

	/* A token made through the API works, and stops working when revoked. */
	j = jcall(&S, admin, "POST", "/api/v1/admin/tokens",
	    "{\"name\": \"tmp\", \"role\": \"submitter\"}", &st);
	CHECK_EQ_INT(st, 201);
	{
		char tok[80], path[64];
		json_t *k;

		snprintf(tok, sizeof(tok), "%s", jstr(j, "token"));
		CHECK_EQ_INT(strlen(tok), 64);
		k = jcall(&S, tok, "GET", "/api/v1/runs", NULL, &st);
		CHECK_EQ_INT(st, 200);
		json_decref(k);
		snprintf(path, sizeof(path), "/api/v1/admin/tokens/%lld/revoke",
		    (long long)jint(j, "id"));
		json_decref(jcall(&S, admin, "POST", path, NULL, &st));
		CHECK_EQ_INT(st, 200);
		k = jcall(&S, tok, "GET", "/api/v1/runs", NULL, &st);
		CHECK_EQ_INT(st, 401);
		json_decref(k);
	}
	json_decref(j);
	/* The list never shows a token or its hash. */
	j = jcall(&S, admin, "GET", "/api/v1/admin/tokens", NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK(json_array_size(json_object_get(j, "tokens")) >= 7);
	CHECK(json_object_get(json_array_get(json_object_get(j, "tokens"), 0),
	          "hash") == NULL);
	json_decref(j);
}

TEST(bad_queries_and_paths_are_named)
{
	json_t *j;
	long st;

	j = jcall(&S, NULL, "GET", "/api/v1/runs?limit=0", NULL, &st);
	expect_error(st, j, 400, "query 'limit'");
	json_decref(j);
	j = jcall(&S, NULL, "GET", "/api/v1/runs/999999", NULL, &st);
	expect_error(st, j, 404, "no run 999999");
	json_decref(j);
	j = jcall(&S, NULL, "GET", "/api/v1/jobs/abc", NULL, &st);
	expect_error(st, j, 404, "not an id");
	json_decref(j);
	j = jcall(&S, NULL, "DELETE", "/api/v1/runs", NULL, &st);
	expect_error(st, j, 405, "DELETE");
	json_decref(j);
	j = jcall(&S, NULL, "GET", "/api/v1/nope", NULL, &st);
	expect_error(st, j, 404, "no such endpoint");
	json_decref(j);
	j = jcall(&S, NULL, "GET", "/api/v1/scenarios", NULL, &st);
	CHECK(json_array_size(json_object_get(j, "scenarios")) >= 12);
	json_decref(j);
}

TEST(submit_and_read_runs)
{
	json_int_t run, jobs = 0, run2, nightly_jobs = 0, job;
	json_t *j, *cases;
	char path[96];
	long st;

	run = submit("{\"scenario\": \"kexec-chain\", \"priority\": 5}", &jobs);
	CHECK(run > 0);
	CHECK_EQ_INT(jobs, 4);
	run2 = submit(
	    "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": [1, 2, 4],"
	    " \"mailbox_version\": 1}}",
	    &jobs);
	CHECK(run2 > 0);
	CHECK_EQ_INT(jobs, 3);
	CHECK(submit("{\"scenarios\": [\"cold-boot\", \"kdump-cpu-limit\"]}",
	          &jobs) > 0);
	CHECK_EQ_INT(jobs, 5);
	CHECK(submit("{\"matrix\": \"nightly\"}", &nightly_jobs) > 0);
	CHECK(nightly_jobs >= 30);
	CHECK(
	    submit("{\"inline\": {\"name\": \"mine\", \"cpus\": 2, \"matrix\":"
	           " {\"quirks\": [[], [\"slow-ack=5\"]]}}}",
	        &jobs) > 0);
	CHECK_EQ_INT(jobs, 2);

	snprintf(path, sizeof(path), "/api/v1/runs/%lld", (long long)run);
	j = jcall(&S, reader, "GET", path, NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_STR_EQ(jstr(json_object_get(j, "run"), "kind"), "adhoc");
	CHECK_EQ_INT(jint(json_object_get(j, "run"), "jobs_total"), 4);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "jobs")), 4);
	job = jint(json_array_get(json_object_get(j, "jobs"), 0), "id");
	json_decref(j);

	snprintf(
	    path, sizeof(path), "/api/v1/runs/%lld/matrix", (long long)run);
	j = jcall(&S, NULL, "GET", path, NULL, &st);
	CHECK_EQ_INT(st, 200);
	cases = json_object_get(
	    json_array_get(json_object_get(j, "scenarios"), 0), "cases");
	CHECK_EQ_INT(json_array_size(cases), 4);
	CHECK_EQ_INT(
	    json_array_size(json_object_get(
	        json_array_get(json_object_get(j, "scenarios"), 0), "axes")),
	    2);
	CHECK_STR_EQ(
	    jstr(json_object_get(json_array_get(cases, 0), "params"), "steps"),
	    "kexec*5");
	json_decref(j);

	snprintf(path, sizeof(path), "/api/v1/jobs?run=%lld", (long long)run2);
	j = jcall(&S, NULL, "GET", path, NULL, &st);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "jobs")), 3);
	json_decref(j);

	j = get_job(job);
	CHECK_STR_EQ(jstr(j, "state"), "queued");
	CHECK_STR_EQ(jstr(json_object_get(j, "params"), "steps"), "kexec*5");
	CHECK_STR_EQ(jstr(json_object_get(j, "expected"), "verdict"), "pass");
	CHECK(json_is_array(json_object_get(j, "checks")));
	CHECK(json_is_array(json_object_get(j, "events")));
	CHECK_EQ_INT(strlen(jstr(j, "scenario_sha256")), 64);
	json_decref(j);

	j = jcall(
	    &S, NULL, "GET", "/api/v1/runs?kind=nightly&limit=1", NULL, &st);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "runs")), 1);
	CHECK_EQ_INT(jint(j, "total"), 1);
	json_decref(j);
	/* Filters, echoed back. */
	j = jcall(&S, NULL, "GET",
	    "/api/v1/runs?scenario=kdump-cpu-limit&since=1", NULL, &st);
	CHECK_EQ_INT(jint(j, "total"), 2); /* its own run and the nightly */
	CHECK_STR_EQ(
	    jstr(json_object_get(j, "filters"), "scenario"), "kdump-cpu-limit");
	CHECK_EQ_INT(jint(json_object_get(j, "filters"), "since"), 1);
	json_decref(j);
	j = jcall(
	    &S, NULL, "GET", "/api/v1/runs?verdict=pass&until=1", NULL, &st);
	CHECK_EQ_INT(jint(j, "total"), 0);
	json_decref(j);
	j = jcall(&S, NULL, "GET",
	    "/api/v1/jobs?scenario=cold-boot&state=queued", NULL, &st);
	CHECK_EQ_INT(jint(j, "total"), 8); /* 4 + 4 in the nightly */
	CHECK_EQ_INT(json_array_size(json_object_get(j, "jobs")), 8);
	json_decref(j);
	j = jcall(&S, NULL, "GET", "/api/v1/jobs?host=nohost", NULL, &st);
	CHECK_EQ_INT(jint(j, "total"), 0);
	json_decref(j);

	/* Cancel: every unfinished job of the run. */
	snprintf(
	    path, sizeof(path), "/api/v1/runs/%lld/cancel", (long long)run);
	j = jcall(&S, submitter, "POST", path, NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(jint(j, "cancelled_jobs"), 4);
	json_decref(j);
	j = get_job(job);
	CHECK_STR_EQ(jstr(j, "state"), "cancelled");
	json_decref(j);
	cancel_all();
}

/* Each bad body gets its precise 4xx, and no run is stored. */
TEST(bad_submissions_store_nothing)
{
	static const struct {
		const char *body;
		long status;
		const char *error;
	} bad[] = {
		{ "{\"scenario\": ", 400, "invalid JSON" },
		{ "[1, 2]", 400, "must be a JSON object" },
		{ "{\"scenario\": 5}", 400, "expected a scenario name" },
		{ "{\"scenario\": \"kexec-chain\", \"bogus\": 1}", 400,
		    "bogus" },
		{ "{\"scenario\": \"kexec-chain\", \"priority\": 99999999999999999999999}",
		    400, "" },
		{ "{\"scenario\": \"kexec-chain\", \"priority\": 1e300}", 400,
		    "priority" },
		{ "{\"scenario\": \"kexec-chain\", \"priority\": 100000}", 400,
		    "priority" },
		{ "{\"scenario\": \"no\\u0000pe\"}", 400, "" },
		{ "{\"scenario\": \"x'); DROP TABLE runs; --\"}", 400,
		    "no scenario named" },
		{ "{\"scenario\": \"kexec-chain\", \"kind\": \"weekly\"}", 400,
		    "key 'kind'" },
		{ "{\"scenario\": \"kexec-chain\", \"matrix\": \"nightly\"}",
		    400, "exactly one" },
		{ "{}", 400, "exactly one" },
		{ "{\"matrix\": \"weekly\"}", 400, "only matrix" },
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": [0]}}",
		    400, "set: key 'cpus': value 0: 0 is not in 1..64" },
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": \"4\"}}",
		    400, "set: key 'cpus'" },
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"steps\": \"dance\"}}",
		    400, "scenario kexec-chain" },
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"memory_mb\": [32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96]}}",
		    400, "1 to 64 values" },
		{ "{\"inline\": {\"name\": \"x\", \"cpuz\": 2}}", 400,
		    "inline: key 'cpuz': unknown key" },
		{ "{\"scenarios\": [\"cold-boot\", \"kexec-chain\"], \"repeat\": 100,"
		  " \"set\": {\"cpus\": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64]}}",
		    400, "more than 20000 jobs" },
		{ "{\"inline\": {\"name\": \"x\", \"expect\": [{\"verdict\": \"fail\"}]}}",
		    400, "inline: key 'expect[0].failing_checks'" },
	};
	json_int_t before = runs_total();
	size_t i;
	long st;
	json_t *j;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = jcall(
		    &S, submitter, "POST", "/api/v1/runs", bad[i].body, &st);
		if (st != bad[i].status)
			printf("  case %zu: %ld %s\n", i, st, jstr(j, "error"));
		expect_error(st, j, bad[i].status, bad[i].error);
		json_decref(j);
	}
	CHECK_EQ_INT(runs_total(), before);
}

TEST(body_limits)
{
	json_int_t before = runs_total();
	size_t big = 20 * 1024 * 1024, field = 1000000;
	struct resp r;
	char *body;

	/* 20 MB with a Content-Length: refused before it is read. */
	body = malloc(big);
	REQUIRE(body != NULL);
	memset(body, ' ', big);
	http(&S, submitter, "POST", "/api/v1/runs", body, big, &r);
	CHECK_EQ_INT(r.status, 413);
	CHECK_STR_CONTAINS(jstr(r.json, "error"), "over 1048576 bytes");
	resp_free(&r);
	/* 2 MB chunked (no length given): counted while read. */
	http_chunked(&S, submitter, "/api/v1/runs", 2 * 1024 * 1024, &r);
	CHECK_EQ_INT(r.status, 413);
	resp_free(&r);
	/* A 1 MB string field inside the cap: the field's own limit speaks. */
	snprintf(
	    body, big, "{\"inline\": {\"name\": \"x\", \"description\": \"");
	memset(body + strlen(body), 'd', field);
	strcpy(body +
	        strlen("{\"inline\": {\"name\": \"x\", \"description\": \"") +
	        field,
	    "\"}}");
	http(&S, submitter, "POST", "/api/v1/runs", body, strlen(body), &r);
	CHECK_EQ_INT(r.status, 400);
	CHECK_STR_CONTAINS(jstr(r.json, "error"), "key 'description'");
	resp_free(&r);
	/* An agent's event batch is capped the same way. */
	http(&S, ag1, "POST", "/api/v1/jobs/1/events", body, 3 * 1024 * 1024,
	    &r);
	CHECK_EQ_INT(r.status, 413);
	resp_free(&r);
	free(body);
	CHECK_EQ_INT(runs_total(), before);
}

TEST(static_files_and_traversal)
{
	static const char *const refused[] = {
		"/../../etc/passwd",
		"/%2e%2e/%2e%2e/etc/passwd",
		"/escape/passwd",
		"/a/../../etc/passwd",
		"/..%2fetc%2fpasswd",
	};
	struct resp r;
	size_t i;

	http(&S, NULL, "GET", "/", NULL, 0, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK_STR_CONTAINS(r.body, "<h1>wakefarm</h1>");
	resp_free(&r);
	http(&S, NULL, "GET", "/index.html", NULL, 0, &r);
	CHECK_EQ_INT(r.status, 200);
	resp_free(&r);
	http(&S, NULL, "GET", "/missing.js", NULL, 0, &r);
	CHECK_EQ_INT(r.status, 404);
	resp_free(&r);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		http(&S, NULL, "GET", refused[i], NULL, 0, &r);
		if (r.status != 400)
			printf("  %s: %ld\n", refused[i], r.status);
		CHECK_EQ_INT(r.status, 400);
		CHECK(r.body == NULL || strstr(r.body, "root:") == NULL);
		resp_free(&r);
	}
	/* Log ports are names, not paths. */
	http(&S, NULL, "GET", "/api/v1/jobs/1/logs/..%2f..%2fetc%2fpasswd",
	    NULL, 0, &r);
	CHECK(r.status == 404);
	resp_free(&r);
	http(&S, NULL, "GET", "/api/v1/jobs/1/logs/../../../etc/passwd", NULL,
	    0, &r);
	CHECK(r.status == 404 || r.status == 400);
	CHECK(r.body == NULL || strstr(r.body, "root:") == NULL);
	resp_free(&r);
}

TEST(hosts_admin_known_issues)
{
	const char *inj = "x'); DROP TABLE known_issues; -- \"quoted\" <b>";
	json_t *j, *h;
	size_t i;
	long st;
	int seen = 0;

	j = jcall(&S, NULL, "GET", "/api/v1/hosts", NULL, &st);
	CHECK_EQ_INT(st, 200);
	json_array_foreach (json_object_get(j, "hosts"), i, h) {
		if (strcmp(jstr(h, "name"), "h1") == 0) {
			seen = 1;
			CHECK_EQ_INT(jint(h, "slots"), 2);
			CHECK_STR_EQ(jstr(h, "state"), "good");
		}
	}
	CHECK(seen);
	json_decref(j);
	j = jcall(&S, admin, "POST", "/api/v1/admin/hosts/h1",
	    "{\"state\": \"broken\"}", &st);
	expect_error(st, j, 400, "key 'state'");
	json_decref(j);
	j = jcall(&S, admin, "POST", "/api/v1/admin/hosts/nohost",
	    "{\"state\": \"bad\"}", &st);
	expect_error(st, j, 404, "no host");
	json_decref(j);
	j = jcall(&S, ag1, "POST", "/api/v1/admin/hosts/h1",
	    "{\"state\": \"bad\"}", &st);
	CHECK_EQ_INT(st, 403);
	json_decref(j);

	/* Text with SQL in it is stored as text, byte for byte. */
	j = jcallj(&S, admin, "POST", "/api/v1/admin/known-issues",
	    json_pack("{s:s, s:s, s:s}", "scenario", "quirk-no-test-ack",
	        "check", "no-kernel-errors", "description", inj),
	    &st);
	CHECK_EQ_INT(st, 201);
	json_decref(j);
	j = jcall(&S, NULL, "GET", "/api/v1/known-issues", NULL, &st);
	CHECK_STR_EQ(jstr(json_array_get(json_object_get(j, "known_issues"), 0),
	                 "description"),
	    inj);
	json_decref(j);
	j = jcall(&S, admin, "POST", "/api/v1/admin/known-issues",
	    "{\"scenario\": \"a\", \"check\": \"b\", \"description\": \"c\\u0000d\"}",
	    &st);
	expect_error(st, j, 400, "\\u0000 is not allowed");
	json_decref(j);
	j = jcall(&S, ag3, "POST", "/api/v1/agents/register",
	    "{\"name\": \"h1'; DROP TABLE hosts; --\", \"slots\": 1,"
	    " \"libvirt_uri\": \"x\"}",
	    &st);
	expect_error(st, j, 400, "key 'name'");
	json_decref(j);
	j = jcall(&S, ag3, "POST", "/api/v1/agents/register",
	    "{\"name\": \"h1\", \"slots\": 1, \"libvirt_uri\": \"x\"}", &st);
	expect_error(st, j, 409, "registered with another agent token");
	json_decref(j);
	j = jcall(&S, ag3, "POST", "/api/v1/agents/register",
	    "{\"name\": \"h3\", \"slots\": 99999, \"libvirt_uri\": \"x\"}",
	    &st);
	expect_error(st, j, 400, "slots");
	json_decref(j);
	j = jcall(&S, ag3, "POST", "/api/v1/agents/lease", NULL, &st);
	expect_error(st, j, 409, "register first");
	json_decref(j);
}

TEST(metrics_text)
{
	struct resp r;

	http(&S, NULL, "GET", "/metrics", NULL, 0, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK_STR_CONTAINS(r.body, "# TYPE wakefarm_jobs gauge");
	CHECK_STR_CONTAINS(r.body, "wakefarm_hosts{state=\"good\"}");
	CHECK_STR_CONTAINS(r.body, "wakefarm_http_requests_total{");
	resp_free(&r);
}

TEST(migrate_idempotent_and_refuses_newer)
{
	char db[320], out[512];
	const char *argv[] = { "bin/wakefarm-controller", "migrate", "--db", db,
		"--schema-dir", "db", NULL };
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(db, sizeof(db), "%s/m.db", tmp);
	CHECK_EQ_INT(ctl_run(argv, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, "schema version ");
	CHECK_EQ_INT(ctl_run(argv, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, "schema version ");
	REQUIRE(sqlite3_open(db, &h) == SQLITE_OK);
	REQUIRE(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL) ==
	    SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_STR_EQ((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	CHECK(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL) ==
	    SQLITE_OK);
	sqlite3_close(h);
	CHECK_EQ_INT(ctl_run(argv, out, sizeof(out)), 1);
}

/* A second controller: reads need a token; a broken scenario file is named. */
TEST(read_token_required_and_broken_scenario_file)
{
	char dir[300], sdir[320], file[360], db[320];
	const char *migrate[] = { "bin/wakefarm-controller", "migrate", "--db",
		db, "--schema-dir", "db", NULL };
	const char *const ex[] = { "--read-token-required", "--scenarios", sdir,
		NULL };
	struct ctl c = { 0 };
	char *rd, *sb;
	struct resp r;
	json_t *j;
	FILE *f;
	long st;

	snprintf(dir, sizeof(dir), "%s/rtr", tmp);
	snprintf(sdir, sizeof(sdir), "%s/scen", dir);
	snprintf(db, sizeof(db), "%s/w.db", dir);
	mkdir(dir, 0755);
	mkdir(sdir, 0755);
	snprintf(file, sizeof(file), "%s/ok.json", sdir);
	REQUIRE((f = fopen(file, "w")) != NULL);
	fputs("{\"name\": \"ok\"}\n", f);
	fclose(f);
	REQUIRE(ctl_run(migrate, NULL, 0) == 0);
	rd = ctl_token(dir, "reader", "r");
	sb = ctl_token(dir, "submitter", "s");
	REQUIRE(rd != NULL && sb != NULL && ctl_start(&c, dir, ex) == 0);
	j = jcall(&c, NULL, "GET", "/api/v1/runs", NULL, &st);
	expect_error(st, j, 401, "token is required");
	json_decref(j);
	http(&c, NULL, "GET", "/metrics", NULL, 0, &r);
	CHECK_EQ_INT(r.status, 401);
	resp_free(&r);
	/* The dashboard's files stay open (no --web here: 404, not 401). */
	http(&c, NULL, "GET", "/index.html", NULL, 0, &r);
	CHECK_EQ_INT(r.status, 404);
	resp_free(&r);
	j = jcall(&c, rd, "GET", "/api/v1/runs", NULL, &st);
	CHECK_EQ_INT(st, 200);
	json_decref(j);
	j = jcall(
	    &c, sb, "POST", "/api/v1/runs", "{\"scenario\": \"ok\"}", &st);
	CHECK_EQ_INT(st, 201);
	json_decref(j);
	/* Now break the directory: the good scenario still runs (issue 19);
	 * the bad one is refused naming file, line and key. */
	snprintf(file, sizeof(file), "%s/bad.json", sdir);
	REQUIRE((f = fopen(file, "w")) != NULL);
	fputs("{\n  \"name\": \"bad\",\n  \"cpus\": \"four\"\n}\n", f);
	fclose(f);
	j = jcall(
	    &c, sb, "POST", "/api/v1/runs", "{\"scenario\": \"ok\"}", &st);
	CHECK_EQ_INT(st, 201);
	json_decref(j);
	j = jcall(
	    &c, sb, "POST", "/api/v1/runs", "{\"scenario\": \"bad\"}", &st);
	CHECK_EQ_INT(st, 400);
	CHECK_STR_CONTAINS(jstr(j, "error"),
	    "bad.json:3: key 'cpus': expected"
	    " an integer, not string");
	json_decref(j);
	ctl_stop(&c, SIGTERM);
	free(rd);
	free(sb);
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_api", test_main);
}
