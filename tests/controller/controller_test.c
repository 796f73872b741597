/*
 * controller_test: the controller suite. Every endpoint through real HTTP
 * against a real wakefarm-controller (tests/controller/ctest.h): roles,
 * bad inputs answered with a precise 4xx and nothing stored, idempotent
 * event batches, leases (long-poll, renewal, expiry, retries), verdicts
 * from real guest records (tests/controller/data/), logs, admin, metrics,
 * JUnit, static files, kill -9 during ingest, a full disk under the
 * database and the submission rate limit.
 *
 * Usage: controller_test [TEST...]   (run from the top of the tree)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include <curl/curl.h>

#include "build.h"
#include "ctest.h"
#include "../unit/test.h"

#define LEASE_MS	"1500"

static struct ctl S;
static char *admin, *submitter, *reader, *ag1, *ag2, *ag3;
static char tmp[256];

/* --- helpers --- */

static json_int_t
jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *
jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* Submits body; returns the run id (0 when refused). */
static json_int_t
submit(const char *body, json_int_t *jobs)
{
	long st;
	json_t *j = jcall(&S, submitter, "POST", "/api/v1/runs", body, &st);
	json_int_t run = st == 201 ? jint(j, "run") : 0;

	if (jobs != NULL)
		*jobs = jint(j, "jobs");
	if (st != 201)
		printf("  submit %s: %ld %s\n", body, st, jstr(j, "error"));
	json_decref(j);
	return run;
}

static json_int_t
runs_total(void)
{
	long st;
	json_t *j = jcall(&S, NULL, "GET", "/api/v1/runs", NULL, &st);
	json_int_t n = jint(j, "total");

	json_decref(j);
	return n;
}

/* Cancels every unfinished run, so the next test starts with an empty queue. */
static void
cancel_all(void)
{
	json_t *j, *run;
	char path[64];
	size_t i;
	long st;

	j = jcall(&S, NULL, "GET", "/api/v1/runs?limit=500", NULL, &st);
	json_array_foreach(json_object_get(j, "runs"), i, run) {
		if (strcmp(jstr(run, "state"), "queued") != 0 &&
		    strcmp(jstr(run, "state"), "running") != 0)
			continue;
		snprintf(path, sizeof(path), "/api/v1/runs/%lld/cancel",
		    (long long)jint(run, "id"));
		json_decref(jcall(&S, admin, "POST", path, NULL, &st));
	}
	json_decref(j);
}

/* A lease for this agent (NULL: 204 / none). */
static json_t *
lease(const char *tok, int wait)
{
	char path[64];
	long st;
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/agents/lease?wait=%d", wait);
	j = jcall(&S, tok, "POST", path, NULL, &st);
	if (st != 200) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *
fixture(const char *name)
{
	char path[256], line[8192];
	json_t *arr = json_array();
	FILE *f;

	snprintf(path, sizeof(path), "tests/controller/data/%s", name);
	if ((f = fopen(path, "r")) == NULL)
		return arr;
	while (fgets(line, sizeof(line), f) != NULL)
		json_array_append_new(arr, json_loads(line, 0, NULL));
	fclose(f);
	return arr;
}

/* records is borrowed; NULL sends an empty batch. */
static long
post_batch(const struct ctl *c, const char *tok, json_int_t job, int batch,
    json_t *records, json_t **reply)
{
	char path[64];
	long st;
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events",
	    (long long)job);
	j = jcallj(c, tok, "POST", path, json_pack("{s:i, s:o}", "batch",
	    batch, "records", records != NULL ? json_incref(records) :
	    json_array()), &st);
	if (reply != NULL)
		*reply = j;
	else
		json_decref(j);
	return st;
}

static long
finish(const char *tok, json_int_t job, const char *outcome, json_t **reply)
{
	char path[64], body[128];
	long st;
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/finish", (long long)job);
	snprintf(body, sizeof(body), "{\"outcome\": \"%s\", \"detail\": \"t\"}",
	    outcome);
	j = jcall(&S, tok, "POST", path, body, &st);
	if (reply != NULL)
		*reply = j;
	else
		json_decref(j);
	return st;
}

static json_t *
get_job(json_int_t job)
{
	char path[64];
	long st;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", (long long)job);
	return jcall(&S, NULL, "GET", path, NULL, &st);
}

/* Expects status and an {"error"} body containing want. */
static void
expect_error(long st, const json_t *j, long want_st, const char *want)
{
	CHECK_EQ_INT(st, want_st);
	CHECK(json_is_string(json_object_get(j, "error")));
	CHECK_STR_CONTAINS(jstr(j, "error"), want);
}

/* The cases, in two files that share this one test registry (test.h). */
#include "ctest_api.inc"
#include "ctest_agents.inc"
#include "ctest_lifecycle.inc"
#include "ctest_cli.inc"
#include "ctest_nightly.inc"
#include "ctest_artifacts.inc"
#include "ctest_bisect.inc"
#include "ctest_deploy.inc"
#include "ctest_faults.inc"

/* --- setup --- */

static int
setup(void)
{
	const char *const extra[] = { "--lease-ms", LEASE_MS, "--log-cap",
		"2048", "--web", NULL, "--scenarios", "scenarios",
		"--schema-dir", "db", "--bisect-repo-root", "/tmp", NULL };
	const char *ex[13];
	char web[300], path[320];
	FILE *f;
	long st;

	snprintf(tmp, sizeof(tmp), "/tmp/wf-ctest-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(web, sizeof(web), "%s/web", tmp);
	mkdir(web, 0755);
	snprintf(path, sizeof(path), "%s/index.html", web);
	if ((f = fopen(path, "w")) != NULL) {
		fputs("<h1>wakefarm</h1>\n", f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/escape", web);
	if (symlink("/etc", path) == -1)
		return -1;
	memcpy(ex, extra, sizeof(ex));
	ex[5] = web;
	{
		char db[300];
		const char *argv[] = { "bin/wakefarm-controller", "migrate",
			"--db", db, "--schema-dir", "db", NULL };

		snprintf(db, sizeof(db), "%s/w.db", tmp);
		if (ctl_run(argv, NULL, 0) != 0)
			return -1;
	}
	admin = ctl_token(tmp, "admin", "admin");
	submitter = ctl_token(tmp, "submitter", "sub");
	reader = ctl_token(tmp, "reader", "reader");
	ag1 = ctl_token(tmp, "agent", "agent1");
	ag2 = ctl_token(tmp, "agent", "agent2");
	ag3 = ctl_token(tmp, "agent", "agent3");
	if (!admin || !submitter || !reader || !ag1 || !ag2 || !ag3 ||
	    ctl_start(&S, tmp, ex) == -1)
		return -1;
	json_decref(jcall(&S, ag1, "POST", "/api/v1/agents/register",
	    "{\"name\": \"h1\", \"slots\": 2, \"libvirt_uri\": \"qemu:///system\"}",
	    &st));
	if (st != 200)
		return -1;
	json_decref(jcall(&S, ag2, "POST", "/api/v1/agents/register",
	    "{\"name\": \"h2\", \"slots\": 2, \"libvirt_uri\": \"qemu+ssh://b/system\"}",
	    &st));
	return st == 200 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (setup() == -1) {
		printf("controller_test: setup failed (see %s/controller.log)\n",
		    tmp);
		printf("0 passed, 1 failed\n");
		ctl_stop(&S, SIGTERM);
		return 1;
	}
	/* Before the closing line: tests/run reads the last line. */
	printf("controller_test: controller and files in %s (kept if a test"
	    " fails)\n", tmp);
	rc = test_main(argc, argv);
	ctl_stop(&S, SIGTERM);
	if (rc == 0 && getenv("WF_KEEP_TMP") == NULL)
		wf_build_remove(tmp);	/* rm -rf as an argv: no shell */
	return rc;
}
