/*
 * ctest_nightly.c: nightly schedules and regressions against a
 * controller of their own, whose clock is a file (--clock-file) the tests
 * write to jump time: a schedule fires at its time and never twice a day;
 * a failure is retried before it is a regression; pass/fail transitions,
 * flaky, infra, known issues with a log regex; KCIDB and JUnit exports;
 * the CLI (a test binary of its own: suite.h).
 */

#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "suite.h"
#include "../golden/golden.h"
#include "../unit/test.h"

struct night {
	struct ctl c;
	char dir[300];
	char clock[320];
	char *admin, *agent;
};

static void
night_clock(struct night *n, const char *when)
{
	char tmpf[340];
	FILE *f;

	snprintf(tmpf, sizeof(tmpf), "%s.tmp", n->clock);
	if ((f = fopen(tmpf, "w")) != NULL) {
		fprintf(f, "%s\n", when);
		fclose(f);
		rename(tmpf, n->clock);
	}
}

static int
night_start(struct night *n, const char *name, const char *when)
{
	char db[320];
	const char *migrate[] = { "bin/wakefarm-controller", "migrate", "--db",
		db, "--schema-dir", "db", NULL };
	const char *extra[] = { "--clock-file", n->clock, "--schedule-tick-ms",
		"20", "--scenarios", "scenarios", NULL };
	long st;

	snprintf(n->dir, sizeof(n->dir), "%s/%s", tmp, name);
	mkdir(n->dir, 0755);
	snprintf(db, sizeof(db), "%s/w.db", n->dir);
	snprintf(n->clock, sizeof(n->clock), "%s/clock", n->dir);
	night_clock(n, when);
	if (n->admin == NULL) {
		if (ctl_run(migrate, NULL, 0) != 0)
			return -1;
		n->admin = ctl_token(n->dir, "admin", "admin");
		n->agent = ctl_token(n->dir, "agent", "nh");
	}
	if (n->admin == NULL || n->agent == NULL ||
	    ctl_start(&n->c, n->dir, extra) == -1)
		return -1;
	json_decref(jcall(&n->c, n->agent, "POST", "/api/v1/agents/register",
	    "{\"name\": \"nh\", \"slots\": 1, \"libvirt_uri\": \"x\"}", &st));
	return st == 200 ? 0 : -1;
}

static void
night_stop(struct night *n)
{
	ctl_stop(&n->c, SIGTERM);
	free(n->admin);
	free(n->agent);
	n->admin = n->agent = NULL;
}

static json_int_t
night_runs(struct night *n, json_int_t *newest)
{
	long st;
	json_t *j = jcall(
	    &n->c, NULL, "GET", "/api/v1/runs?kind=nightly", NULL, &st);
	json_int_t total = jint(j, "total");

	if (newest != NULL)
		*newest = jint(
		    json_array_get(json_object_get(j, "runs"), 0), "id");
	json_decref(j);
	return total;
}

/* Waits (bounded) until the scheduler has started want nightly runs. */
static json_int_t
night_wait_runs(struct night *n, json_int_t want)
{
	json_int_t run = 0;
	int i;

	for (i = 0; i < 150 && night_runs(n, &run) < want; i++)
		usleep(20000);
	return night_runs(n, &run) == want ? run : 0;
}

/* Plays the agent for one attempt: optional log line, records, finish. */
static json_t *
night_attempt(struct night *n, const char *records, const char *outcome,
    const char *log_line)
{
	char path[96], body[128];
	json_t *l, *recs, *rep;
	json_int_t job;
	long st;

	l = jcall(
	    &n->c, n->agent, "POST", "/api/v1/agents/lease?wait=3", NULL, &st);
	if (st != 200) {
		json_decref(l);
		return NULL;
	}
	job = jint(l, "job");
	if (log_line != NULL) {
		struct resp r;

		snprintf(path, sizeof(path), "/api/v1/jobs/%lld/logs/0",
		    (long long)job);
		http(&n->c, n->agent, "POST", path, log_line, strlen(log_line),
		    &r);
		resp_free(&r);
	}
	if (records != NULL) {
		recs = fixture(records);
		post_batch(&n->c, n->agent, job, 0, recs, NULL);
		json_decref(recs);
	}
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/finish", (long long)job);
	snprintf(body, sizeof(body), "{\"outcome\": \"%s\", \"detail\": \"t\"}",
	    outcome);
	rep = jcall(&n->c, n->agent, "POST", path, body, &st);
	json_object_set_new(rep, "attempt", json_integer(jint(l, "attempt")));
	json_decref(l);
	return rep;
}

/* The class of the one case of a run. */
static json_t *
night_case(struct night *n, json_int_t run)
{
	char path[64];
	long st;
	json_t *j, *c;

	snprintf(path, sizeof(path), "/api/v1/runs/%lld/regressions",
	    (long long)run);
	j = jcall(&n->c, NULL, "GET", path, NULL, &st);
	c = json_incref(json_array_get(json_object_get(j, "cases"), 0));
	json_decref(j);
	return c;
}

/* The controller's base URL (its port changes) as @URL@ in s (new). */
static char *
url_normalize(const char *s, const char *base)
{
	return golden_replace(s, base, "@URL@");
}

/*
 * Times and the controller's port vary from run to run: the golden file
 * says only where they are.
 */
static void
golden_normalize(json_t *j, const char *base)
{
	const char *k;
	json_t *v;
	size_t i;
	char *u;

	if (json_is_array(j)) {
		json_array_foreach (j, i, v) {
			if (json_is_string(v) &&
			    strstr(json_string_value(v), base) != NULL) {
				u = url_normalize(json_string_value(v), base);
				json_array_set_new(j, i, json_string(u));
				free(u);
			} else {
				golden_normalize(v, base);
			}
		}
	} else if (json_is_object(j)) {
		json_object_foreach (j, k, v) {
			if (strcmp(k, "start_time") == 0 && json_is_string(v))
				json_object_set_new(
				    j, k, json_string("<time>"));
			else if (strcmp(k, "duration") == 0)
				json_object_set_new(j, k, json_integer(0));
			else if (json_is_string(v) &&
			    strstr(json_string_value(v), base) != NULL) {
				u = url_normalize(json_string_value(v), base);
				json_object_set_new(j, k, json_string(u));
				free(u);
			} else
				golden_normalize(v, base);
		}
	}
}

/*
 * j (normalized) against tests/controller/golden/NAME; REGENERATE=1
 * rewrites the file.
 */
static void
json_golden(const char *name, json_t *j, const char *base)
{
	char path[256];
	char *text;
	json_t *want;

	snprintf(path, sizeof(path), "tests/controller/golden/%s", name);
	golden_normalize(j, base);
	if (getenv("REGENERATE") != NULL) {
		mkdir("tests/controller/golden", 0755);
		CHECK(json_dump_file(
		          j, path, JSON_INDENT(1) | JSON_SORT_KEYS) == 0);
		return;
	}
	want = json_load_file(path, 0, NULL);
	if (want == NULL || !json_equal(want, j)) {
		text = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
		printf(
		    "  %s differs (REGENERATE=1 rewrites it); got:\n%.3000s\n",
		    path, text ? text : "");
		free(text);
		CHECK(!"golden file matches");
	}
	json_decref(want);
}

/* Every match of the extended regex rx in s replaced by rep (new). */
static char *
rx_replace(const char *s, const char *rx, const char *rep)
{
	regex_t re;
	regmatch_t m;
	struct wf_buf b;

	if (regcomp(&re, rx, REG_EXTENDED) != 0)
		return strdup(s);
	wf_buf_init(&b, 16 << 20);
	while (regexec(&re, s, 1, &m, 0) == 0 && m.rm_eo > 0) {
		wf_buf_append(&b, s, (size_t)m.rm_so);
		wf_buf_append(&b, rep, strlen(rep));
		s += m.rm_eo;
	}
	wf_buf_append(&b, s, strlen(s));
	regfree(&re);
	return wf_buf_steal(&b);
}

/*
 * A JUnit export against tests/controller/golden/NAME (golden.h; REGENERATE=1
 * rewrites it), with what changes from run to run made @...@: the run, the
 * controller's URL, times and timestamps, the host names. The file pins the
 * shape, the names, the classes and the messages.
 */
static void
junit_golden(const char *name, const char *xml, const char *base)
{
	static const char *const subst[][2] = {
		{ "wakefarm.run\" value=\"[0-9]+\"",
		    "wakefarm.run\" value=\"@RUN@\"" },
		{ "/#/runs/[0-9]+", "/#/runs/@RUN@" },
		{ " time=\"[0-9.]+\"", " time=\"@T@\"" },
		{ "timestamp=\"[^\"]*\"", "timestamp=\"@TS@\"" },
		{ "hostname=\"[^\"]*\"", "hostname=\"@HOST@\"" },
	};
	char path[256], *norm, *next, *cause = NULL;
	int regenerated = 0;
	size_t i;

	norm = url_normalize(xml, base);
	REQUIRE(norm != NULL);
	for (i = 0; i < sizeof(subst) / sizeof(subst[0]); i++) {
		next = rx_replace(norm, subst[i][0], subst[i][1]);
		free(norm);
		norm = next;
	}
	snprintf(path, sizeof(path), "tests/controller/golden/%s", name);
	if (golden_check(path, path, norm, &regenerated, &cause) == -1) {
		printf("  %s\n", cause ? cause : "out of memory");
		CHECK(!"golden file matches");
	}
	free(cause);
	free(norm);
}

#define GOOD "quirk-v1-short-entry.records"
#define BAD "v1-2cpu-cold.records" /* the quirk expected, not seen */

TEST(nightly_schedule_fires_at_its_time_once)
{
	struct night n = { 0 };
	json_int_t run;
	json_t *j;
	long st;

	REQUIRE(night_start(&n, "sched", "2026-01-01T01:59:00Z") == 0);
	j = jcall(&n.c, n.admin, "POST", "/api/v1/admin/schedules",
	    "{\"name\": \"n1\", \"at\": \"2:00\"}", &st);
	expect_error(st, j, 400, "not HH:MM");
	json_decref(j);
	j = jcall(&n.c, n.admin, "POST", "/api/v1/admin/schedules",
	    "{\"name\": \"n1\", \"at\": \"02:00\", \"matrix\": [\"nope\"]}",
	    &st);
	expect_error(st, j, 400, "no scenario named 'nope'");
	json_decref(j);
	j = jcall(&n.c, n.admin, "POST", "/api/v1/admin/schedules",
	    "{\"name\": \"n1\", \"at\": \"02:00\", \"matrix\": \"cold-boot\","
	    " \"set\": {\"cpuz\": 1}}",
	    &st);
	expect_error(st, j, 400, "cpuz");
	json_decref(j);
	j = jcall(&n.c, n.admin, "POST", "/api/v1/admin/schedules",
	    "{\"name\": \"n1\", \"at\": \"02:00\", \"matrix\": \"cold-boot\","
	    " \"set\": {\"cpus\": 2}}",
	    &st);
	CHECK_EQ_INT(st, 201);
	CHECK_EQ_INT(jint(j, "jobs"), 2);
	json_decref(j);
	j = jcall(&n.c, n.admin, "POST", "/api/v1/admin/schedules",
	    "{\"name\": \"n1\", \"at\": \"03:00\"}", &st);
	expect_error(st, j, 409, "exists");
	json_decref(j);
	j = jcall(&n.c, NULL, "POST", "/api/v1/admin/schedules",
	    "{\"name\": \"n2\", \"at\": \"03:00\"}", &st);
	CHECK_EQ_INT(st, 401);
	json_decref(j);
	/* Readable without a token. */
	j = jcall(&n.c, NULL, "GET", "/api/v1/admin/schedules", NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_STR_EQ(
	    jstr(json_array_get(json_object_get(j, "schedules"), 0), "at"),
	    "02:00");
	CHECK_STR_EQ(jstr(j, "today"), "2026-01-01");
	json_decref(j);

	usleep(200000);
	CHECK_EQ_INT(night_runs(&n, NULL), 0);
	night_clock(&n, "2026-01-01T02:00:30Z");
	run = night_wait_runs(&n, 1);
	CHECK(run > 0);
	j = night_case(&n, run);
	CHECK(json_is_object(j));
	json_decref(j);
	{
		char path[64];

		snprintf(path, sizeof(path), "/api/v1/runs/%lld/regressions",
		    (long long)run);
		j = jcall(&n.c, NULL, "GET", path, NULL, &st);
		CHECK_STR_EQ(jstr(j, "schedule"), "n1");
		CHECK_STR_EQ(jstr(j, "day"), "2026-01-01");
		CHECK_STR_EQ(jstr(j, "kind"), "nightly");
		CHECK_EQ_INT(json_array_size(json_object_get(j, "cases")), 2);
		json_decref(j);
	}
	/* Later the same day, and after a restart: not again. */
	usleep(200000);
	night_clock(&n, "2026-01-01T23:59:59Z");
	usleep(200000);
	CHECK_EQ_INT(night_runs(&n, NULL), 1);
	ctl_stop(&n.c, SIGTERM);
	REQUIRE(night_start(&n, "sched", "2026-01-01T23:59:59Z") == 0);
	usleep(200000);
	CHECK_EQ_INT(night_runs(&n, NULL), 1);
	/* The next day at its time: once more. */
	night_clock(&n, "2026-01-02T01:00:00Z");
	usleep(200000);
	CHECK_EQ_INT(night_runs(&n, NULL), 1);
	night_clock(&n, "2026-01-02T02:00:00Z");
	CHECK(night_wait_runs(&n, 2) > run);
	j = jcall(&n.c, NULL, "GET", "/api/v1/admin/schedules", NULL, &st);
	CHECK_STR_EQ(jstr(json_array_get(json_object_get(j, "schedules"), 0),
	                 "last_day"),
	    "2026-01-02");
	json_decref(j);
	/* Removed: no more runs; its runs stay. */
	j = jcall(
	    &n.c, n.admin, "DELETE", "/api/v1/admin/schedules/n1", NULL, &st);
	CHECK_EQ_INT(st, 200);
	json_decref(j);
	j = jcall(
	    &n.c, n.admin, "DELETE", "/api/v1/admin/schedules/n1", NULL, &st);
	expect_error(st, j, 404, "no schedule 'n1'");
	json_decref(j);
	night_clock(&n, "2026-01-03T02:00:00Z");
	usleep(200000);
	CHECK_EQ_INT(night_runs(&n, NULL), 2);
	night_stop(&n);
}

/* The night controller's /metrics through promtool, with the line want. */
static void
night_metrics(struct night *n, const char *want)
{
	struct resp r;

	CHECK_EQ_INT(http(&n->c, NULL, "GET", "/metrics", NULL, 0, &r), 200);
	CHECK_EQ_INT(consume("promtool", r.body, r.len, NULL, 0), 0);
	CHECK_STR_CONTAINS(r.body, "wakefarm_last_night_cases{schedule=\"r\",");
	CHECK_STR_CONTAINS(r.body, want);
	CHECK_STR_CONTAINS(r.body,
	    "wakefarm_last_nightly_completion_timestamp_seconds{schedule=\"r\"}");
	resp_free(&r);
}

/* One night of schedule "r": jump to it, wait for its run. */
static json_int_t
night_next(struct night *n, int day, json_int_t nth)
{
	char when[40];

	snprintf(when, sizeof(when), "2026-01-%02dT02:00:00Z", day);
	night_clock(n, when);
	return night_wait_runs(n, nth);
}

/*
 * Night 6: a known issue whose log regex does not match leaves it a
 * regression candidate (retried); one whose regex matches the job's log
 * makes it known, explained, and not retried.
 */
static void
night6_known(struct night *n, json_int_t run[8])
{
	json_t *rep, *c, *j, *k;
	char path[96];
	long st;

	j = jcall(&n->c, n->admin, "POST", "/api/v1/admin/known-issues",
	    "{\"scenario\": \"quirk-*\", \"check\": \"*\", \"description\":"
	    " \"other\", \"log_regex\": \"never (seen|here)\"}",
	    &st);
	CHECK_EQ_INT(st, 201);
	json_decref(j);
	j = jcall(&n->c, n->admin, "POST", "/api/v1/admin/known-issues",
	    "{\"scenario\": \"*\", \"check\": \"*\", \"description\": \"x\","
	    " \"log_regex\": \"(unclosed\"}",
	    &st);
	expect_error(st, j, 400, "log_regex");
	json_decref(j);
	REQUIRE((run[6] = night_next(n, 6, 6)) > 0);
	rep = night_attempt(n, BAD, "completed",
	    "boot ok\nACPI: MADT wakeup entry v1 len=16 treated as v0\nend\n");
	CHECK(json_is_true(json_object_get(rep, "requeued")));
	json_decref(rep);
	j = jcall(&n->c, n->admin, "POST", "/api/v1/admin/known-issues",
	    "{\"scenario\": \"quirk-v1-short-entry\", \"check\": \"*\","
	    " \"description\": \"firmware bug 42\", \"url\": \"https://b/42\","
	    " \"log_regex\": \"MADT wakeup entry v[0-9]+ len=16\"}",
	    &st);
	CHECK_EQ_INT(st, 201);
	json_decref(j);
	rep = night_attempt(n, BAD, "completed", NULL);
	CHECK(json_is_false(json_object_get(rep, "requeued")));
	json_decref(rep);
	c = night_case(n, run[6]);
	CHECK_STR_EQ(jstr(c, "class"), "known");
	k = json_array_get(json_object_get(c, "known"), 0);
	CHECK_EQ_INT(json_array_size(json_object_get(c, "known")), 1);
	CHECK_STR_EQ(jstr(k, "description"), "firmware bug 42");
	CHECK_STR_EQ(jstr(json_object_get(k, "log"), "line"),
	    "ACPI: MADT wakeup entry v1 len=16 treated as v0");
	CHECK_EQ_INT(jint(json_object_get(k, "log"), "line_no"), 2);
	CHECK_EQ_INT(jint(json_object_get(k, "log"), "port"), 0);
	CHECK(json_array_size(json_object_get(k, "checks")) == 1);
	/* The job's detail says so too (the issue whose regex missed: not). */
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld", (long long)jint(c, "job"));
	j = jcall(&n->c, NULL, "GET", path, NULL, &st);
	CHECK(json_is_true(json_object_get(j, "known")));
	CHECK_EQ_INT(json_array_size(json_object_get(j, "known_issues")), 1);
	CHECK_STR_EQ(jstr(json_array_get(json_object_get(j, "known_issues"), 0),
	                 "description"),
	    "firmware bug 42");
	json_decref(j);
	/* And the run's job summaries (run and matrix). */
	snprintf(path, sizeof(path), "/api/v1/runs/%lld", (long long)run[6]);
	j = jcall(&n->c, NULL, "GET", path, NULL, &st);
	k = json_array_get(json_object_get(j, "jobs"), 0);
	CHECK(json_is_true(json_object_get(k, "known")));
	CHECK_EQ_INT(json_array_size(json_object_get(k, "known_issues")), 1);
	json_decref(j);
	snprintf(
	    path, sizeof(path), "/api/v1/runs/%lld/matrix", (long long)run[6]);
	j = jcall(&n->c, NULL, "GET", path, NULL, &st);
	k = json_array_get(
	    json_object_get(
	        json_array_get(json_object_get(j, "scenarios"), 0), "cases"),
	    0);
	CHECK(json_is_true(json_object_get(k, "known")));
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/runs/%lld", (long long)run[3]);
	j = jcall(&n->c, NULL, "GET", path, NULL, &st);
	k = json_array_get(json_object_get(j, "jobs"), 0);
	CHECK(json_is_false(json_object_get(k, "known")));
	json_decref(j);
	json_decref(c);
}

/*
 * Night n's JUnit through the consumers (xmllint with the XSD, junitparser):
 * the one case as junitparser saw it (new), NULL when refused.
 */
static json_t *
junit_case_seen(struct night *n, json_int_t run, char **xml)
{
	static char seen[1 << 20];
	json_t *j, *c;
	long st;

	*xml = get_text(&n->c, "/api/v1/runs/%lld/junit.xml", run, &st);
	CHECK_EQ_INT(st, 200);
	if (consume("check-junit", *xml, strlen(*xml), seen, sizeof(seen)) !=
	    0) {
		CHECK(!"check-junit accepts the JUnit export");
		return NULL;
	}
	j = json_loads(seen, 0, NULL);
	c = json_array_get(
	    json_object_get(
	        json_array_get(json_object_get(j, "suites"), 0), "cases"),
	    0);
	json_incref(c);
	json_decref(j);
	return c;
}

/* Every night's JUnit: valid, the same case name, the right outcome. */
static void
nightly_junit(struct night *n, json_int_t run[8])
{
	static const char *const want[8] = { NULL, "pass", "failure", "failure",
		"pass", "pass", "failure", "error" };
	json_t *c;
	char *xml;
	int i;

	for (i = 1; i <= 7; i++) {
		if ((c = junit_case_seen(n, run[i], &xml)) == NULL) {
			free(xml);
			continue;
		}
		/* The same name every night: GitLab's "new/fixed" can work. */
		CHECK_STR_EQ(
		    jstr(c, "classname"), "wakefarm.quirk-v1-short-entry");
		CHECK_STR_EQ(jstr(c, "name"), "default");
		CHECK_STR_EQ(jstr(c, "result"), want[i]);
		CHECK_STR_CONTAINS(jstr(c, "system_out"), "job page: http://");
		CHECK(json_real_value(json_object_get(c, "time")) >= 0);
		if (i == 2) {
			CHECK_STR_CONTAINS(jstr(c, "message"), "regression: ");
			CHECK_STR_CONTAINS(xml, "<rerunFailure type=\"fail\"");
			CHECK_STR_CONTAINS(jstr(c, "system_out"),
			    "class: regression (3 attempts)");
			junit_golden("junit-regression.xml", xml, n->c.base);
		} else if (i == 5) {
			CHECK_STR_CONTAINS(xml, "<flakyFailure type=\"fail\"");
		} else if (i == 6) {
			CHECK_STR_CONTAINS(
			    jstr(c, "system_out"), "firmware bug 42");
			junit_golden("junit-known.xml", xml, n->c.base);
		} else if (i == 7) {
			CHECK_STR_EQ(jstr(c, "type"), "infra");
		}
		json_decref(c);
		free(xml);
	}
}

/* One night's KCIDB through check-kcidb (the schema with jsonschema). */
static json_t *
kcidb_seen(struct night *n, json_int_t run)
{
	long st;
	char *text = get_text(&n->c, "/api/v1/runs/%lld/kcidb.json", run, &st);
	json_t *j;

	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(consume("check-kcidb", text, strlen(text), NULL, 0), 0);
	j = json_loads(text, 0, NULL);
	free(text);
	return j;
}

/* KCIDB: what happened as the status, waived when explained. */
static void
nightly_kcidb(struct night *n, json_int_t run[8])
{
	json_t *j, *t, *co, *b;
	long st;
	size_t x;

	/* Night 1: the expected failure happened: FAIL, waived. */
	j = kcidb_seen(n, run[1]);
	t = kcidb_test(j, "quirk-v1-short-entry");
	CHECK_STR_EQ(jstr(t, "status"), "FAIL");
	CHECK(json_is_true(json_object_get(t, "waived")));
	t = kcidb_test(j, "quirk-v1-short-entry.madt-entry");
	CHECK_STR_EQ(jstr(t, "status"), "FAIL");
	CHECK(json_is_true(json_object_get(t, "waived")));
	json_decref(j);
	/* Night 2: a regression, not waived, with its log and host. */
	j = kcidb_seen(n, run[2]);
	CHECK_EQ_INT(jint(json_object_get(j, "version"), "major"), 4);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "checkouts")), 1);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "builds")), 1);
	co = json_array_get(json_object_get(j, "checkouts"), 0);
	b = json_array_get(json_object_get(j, "builds"), 0);
	CHECK_STR_EQ(jstr(co, "tree_name"), "r");
	CHECK_STR_EQ(jstr(b, "checkout_id"), jstr(co, "id"));
	CHECK_STR_EQ(jstr(b, "config_name"), "wakefarm-test-kernel");
	json_array_foreach (json_object_get(j, "tests"), x, t) {
		CHECK_STR_EQ(jstr(t, "build_id"), jstr(b, "id"));
		CHECK_STR_EQ(
		    jstr(json_object_get(t, "misc"), "class"), "regression");
		CHECK_STR_CONTAINS(jstr(t, "log_url"), "/logs/0");
		CHECK(json_is_number(json_object_get(t, "duration")));
		CHECK_STR_CONTAINS(
		    jstr(json_object_get(t, "environment"), "comment"),
		    "host nh");
	}
	t = kcidb_test(j, "quirk-v1-short-entry");
	CHECK_STR_EQ(jstr(t, "status"), "FAIL");
	CHECK(json_is_false(json_object_get(t, "waived")));
	t = kcidb_test(j, "quirk-v1-short-entry.generations");
	CHECK_STR_EQ(jstr(t, "status"), "FAIL");
	CHECK(json_is_false(json_object_get(t, "waived")));
	/* the expected failure that did not happen: it passed */
	t = kcidb_test(j, "quirk-v1-short-entry.madt-entry");
	CHECK_STR_EQ(jstr(t, "status"), "PASS");
	json_golden("kcidb-regression.json", j, n->c.base);
	json_decref(j);
	/* Night 6: known: waived by the known issue. */
	j = kcidb_seen(n, run[6]);
	t = kcidb_test(j, "quirk-v1-short-entry.generations");
	CHECK_STR_EQ(jstr(t, "status"), "FAIL");
	CHECK(json_is_true(json_object_get(t, "waived")));
	json_decref(j);
	/* Night 7: infra only: one ERROR. */
	j = kcidb_seen(n, run[7]);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "tests")), 1);
	t = json_array_get(json_object_get(j, "tests"), 0);
	CHECK_STR_EQ(jstr(t, "path"), "quirk-v1-short-entry");
	CHECK_STR_EQ(jstr(t, "status"), "ERROR");
	json_golden("kcidb-infra.json", j, n->c.base);
	json_decref(j);
	j = jcall(
	    &n->c, NULL, "GET", "/api/v1/runs/99999/kcidb.json", NULL, &st);
	expect_error(st, j, 404, "no run 99999");
	json_decref(j);
}

/* The exports of the nights through their consumers and golden files. */
static void
nightly_exports(struct night *n, json_int_t run[8])
{
	nightly_junit(n, run);
	nightly_kcidb(n, run);
}

/* The CLI against the nights: schedules, compare, regressions. */
static void
nightly_cli(struct night *n, json_int_t run[8])
{
	char out[16384], base[80], a1[32], a2[32];
	const char *const add[] = { "schedule", "add", "late", "--at", "23:30",
		"--matrix", "cold-boot", "--matrix", "kexec-chain", "--set",
		"cpus=2", NULL };
	const char *const list[] = { "schedule", "list", NULL };
	const char *const rm[] = { "schedule", "rm", "late", NULL };
	const char *const regs[] = { "regressions", "--since", "2026-01-01",
		NULL };
	const char *const cmp[] = { "compare", a1, a2, NULL };

	memcpy(base, S.base, sizeof(base));
	memcpy(S.base, n->c.base, sizeof(S.base));
	CHECK_EQ_INT(cli(n->admin, add, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, "schedule late: 23:30 UTC");
	CHECK_EQ_INT(cli(NULL, list, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, "late");
	CHECK_STR_CONTAINS(out, "kexec-chain");
	CHECK_STR_CONTAINS(out, "2026-01-07");
	CHECK_EQ_INT(cli(n->admin, rm, out, sizeof(out)), 0);
	CHECK_EQ_INT(cli(n->admin, rm, out, sizeof(out)), 66);
	CHECK_STR_CONTAINS(out, "no schedule 'late'");
	/* a regression in the window: exit 1 (cli/README.md) */
	CHECK_EQ_INT(cli(NULL, regs, out, sizeof(out)), 1);
	CHECK_STR_CONTAINS(out, "regression");
	CHECK_STR_CONTAINS(out, "known");
	CHECK_STR_CONTAINS(out, "firmware bug 42");
	snprintf(a1, sizeof(a1), "%lld", (long long)run[1]);
	snprintf(a2, sizeof(a2), "%lld", (long long)run[2]);
	CHECK_EQ_INT(cli(NULL, cmp, out, sizeof(out)), 1); /* a regression */
	CHECK_STR_CONTAINS(out, "1 regressions");
	CHECK_STR_CONTAINS(out, "quirk-v1-short-entry");
	CHECK_STR_CONTAINS(out, "0 flaky");
	/* Flaky: both outcomes across attempts; infra retries are not. */
	snprintf(a1, sizeof(a1), "%lld", (long long)run[4]);
	snprintf(a2, sizeof(a2), "%lld", (long long)run[5]);
	CHECK_EQ_INT(cli(NULL, cmp, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, "1 flaky");
	snprintf(a1, sizeof(a1), "%lld", (long long)run[6]);
	snprintf(a2, sizeof(a2), "%lld", (long long)run[7]);
	CHECK_EQ_INT(cli(NULL, cmp, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, "0 flaky");
	memcpy(S.base, base, sizeof(base));
}

TEST(nightly_regressions_retries_flaky_known)
{
	struct night n = { 0 };
	json_int_t run[8];
	json_t *rep, *c, *prev, *j;
	long st;
	int i;

	REQUIRE(night_start(&n, "regress", "2026-01-01T00:00:00Z") == 0);
	j = jcall(&n.c, n.admin, "POST", "/api/v1/admin/schedules",
	    "{\"name\": \"r\", \"at\": \"02:00\", \"matrix\":"
	    " [\"quirk-v1-short-entry\"]}",
	    &st);
	CHECK_EQ_INT(st, 201);
	CHECK_EQ_INT(jint(j, "retries"), 2);
	json_decref(j);

	/* Night 1: as expected, nothing before. */
	REQUIRE((run[1] = night_next(&n, 1, 1)) > 0);
	json_decref(night_attempt(&n, GOOD, "completed", NULL));
	c = night_case(&n, run[1]);
	CHECK_STR_EQ(jstr(c, "class"), "pass");
	json_decref(c);

	/* Night 2: fails; tried twice more before it is a regression. */
	REQUIRE((run[2] = night_next(&n, 2, 2)) > 0);
	for (i = 1; i <= 3; i++) {
		rep = night_attempt(&n, BAD, "completed", NULL);
		REQUIRE(rep != NULL);
		CHECK_EQ_INT(jint(rep, "attempt"), i);
		CHECK(json_is_false(json_object_get(rep, "as_expected")));
		CHECK_EQ_INT(
		    json_is_true(json_object_get(rep, "requeued")), i < 3);
		json_decref(rep);
	}
	c = night_case(&n, run[2]);
	prev = night_case(&n, run[1]);
	CHECK_STR_EQ(jstr(c, "class"), "regression");
	CHECK_EQ_INT(json_array_size(json_object_get(c, "attempts")), 3);
	CHECK_EQ_INT(jint(c, "previous_job"), jint(prev, "job"));
	json_decref(prev);
	json_decref(c);
	night_metrics(&n, "class=\"regression\"} 1\n");

	/* Night 3: fails again: still failing, no retry. */
	REQUIRE((run[3] = night_next(&n, 3, 3)) > 0);
	rep = night_attempt(&n, BAD, "completed", NULL);
	CHECK(json_is_false(json_object_get(rep, "requeued")));
	json_decref(rep);
	c = night_case(&n, run[3]);
	CHECK_STR_EQ(jstr(c, "class"), "still_failing");
	json_decref(c);

	/* Night 4: fixed. */
	REQUIRE((run[4] = night_next(&n, 4, 4)) > 0);
	json_decref(night_attempt(&n, GOOD, "completed", NULL));
	c = night_case(&n, run[4]);
	CHECK_STR_EQ(jstr(c, "class"), "fixed");
	json_decref(c);

	/* Night 5: fails, then passes on the retry: flaky. */
	REQUIRE((run[5] = night_next(&n, 5, 5)) > 0);
	rep = night_attempt(&n, BAD, "completed", NULL);
	CHECK(json_is_true(json_object_get(rep, "requeued")));
	json_decref(rep);
	rep = night_attempt(&n, GOOD, "completed", NULL);
	CHECK(json_is_true(json_object_get(rep, "as_expected")));
	json_decref(rep);
	c = night_case(&n, run[5]);
	CHECK_STR_EQ(jstr(c, "class"), "flaky");
	json_decref(c);
	night_metrics(&n, "class=\"flaky\"} 1\n");

	night6_known(&n, run);

	/* Night 7: only infra attempts: never counts. */
	REQUIRE((run[7] = night_next(&n, 7, 7)) > 0);
	for (i = 0; i < 3; i++)
		json_decref(night_attempt(&n, NULL, "infra", NULL));
	c = night_case(&n, run[7]);
	CHECK_STR_EQ(jstr(c, "class"), "infra");
	CHECK_EQ_INT(json_array_size(json_object_get(c, "attempts")), 3);
	json_decref(c);

	/* The list: one regression (night 2), every notable night. */
	j = jcall(&n.c, NULL, "GET", "/api/v1/regressions?since=2026-01-02",
	    NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "regressions")), 1);
	CHECK_EQ_INT(
	    jint(json_array_get(json_object_get(j, "regressions"), 0), "run"),
	    run[2]);
	CHECK_STR_EQ(
	    jstr(json_array_get(json_object_get(j, "regressions"), 0), "day"),
	    "2026-01-02");
	CHECK_EQ_INT(json_array_size(json_object_get(j, "runs")), 6);
	json_decref(j);
	j = jcall(&n.c, NULL, "GET", "/api/v1/regressions?since=2026-01-03",
	    NULL, &st);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "regressions")), 0);
	json_decref(j);
	j = jcall(&n.c, NULL, "GET", "/api/v1/regressions?since=yesterday",
	    NULL, &st);
	expect_error(st, j, 400, "not a date");
	json_decref(j);

	nightly_exports(&n, run);

	nightly_cli(&n, run);
	night_stop(&n);
}

/*
 * Issue 16, case 1: a nightly failure whose log line, matched by a known
 * issue, is cut at 300 bytes inside a UTF-8 character and holds bytes that
 * are no UTF-8: the finish is judged (not a 500 forever with the job
 * leased), the case is known, and the reads answer with valid text.
 */
TEST(nightly_known_issue_on_untrusted_log_line)
{
	struct night n = { 0 };
	char line[400], path[96];
	json_int_t run1, run2;
	json_t *rep, *c, *k, *j;
	size_t len;
	long st;

	REQUIRE(night_start(&n, "utf8", "2026-01-01T00:00:00Z") == 0);
	json_decref(jcall(&n.c, n.admin, "POST", "/api/v1/admin/schedules",
	    "{\"name\": \"u\", \"at\": \"02:00\", \"matrix\":"
	    " [\"quirk-v1-short-entry\"]}",
	    &st));
	CHECK_EQ_INT(st, 201);
	json_decref(jcall(&n.c, n.admin, "POST", "/api/v1/admin/known-issues",
	    "{\"scenario\": \"quirk-*\", \"check\": \"*\", \"description\":"
	    " \"garbled\", \"log_regex\": \"GARBLE\"}",
	    &st));
	CHECK_EQ_INT(st, 201);
	/* No REQUIRE once started: a controller left running would keep
	 * the test lock's descriptor (tests/README.md). */
	CHECK((run1 = night_next(&n, 1, 1)) > 0);
	json_decref(night_attempt(&n, GOOD, "completed", NULL));
	CHECK((run2 = night_next(&n, 2, 2)) > 0);
	len = (size_t)snprintf(line, sizeof(line), "GARBLE ");
	memset(line + len, 'g', 299 - len);
	memcpy(line + 299, "\xc3\xa9\xff\xfe tail\n", 10);
	line[309] = '\0';
	rep = night_attempt(&n, BAD, "completed", line);
	CHECK(rep != NULL);
	CHECK_STR_EQ(jstr(rep, "verdict"), "fail");
	CHECK(json_is_false(json_object_get(rep, "requeued")));
	json_decref(rep);
	c = night_case(&n, run2);
	CHECK_STR_EQ(jstr(c, "class"), "known");
	k = json_object_get(
	    json_array_get(json_object_get(c, "known"), 0), "log");
	CHECK(json_string_length(json_object_get(k, "line")) <= 300);
	CHECK_STR_CONTAINS(jstr(k, "line"), "GARBLE ggg");
	json_decref(c);
	snprintf(path, sizeof(path), "/api/v1/runs/%lld", (long long)run2);
	j = jcall(&n.c, NULL, "GET", path, NULL, &st);
	CHECK_EQ_INT(st, 200);
	json_decref(j);
	snprintf(
	    path, sizeof(path), "/api/v1/runs/%lld/matrix", (long long)run2);
	j = jcall(&n.c, NULL, "GET", path, NULL, &st);
	CHECK_EQ_INT(st, 200);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs?run=%lld", (long long)run2);
	j = jcall(&n.c, NULL, "GET", path, NULL, &st);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld",
	    (long long)jint(
	        json_array_get(json_object_get(j, "jobs"), 0), "id"));
	json_decref(j);
	j = jcall(&n.c, NULL, "GET", path, NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_STR_EQ(jstr(j, "state"), "done");
	json_decref(j);
	night_stop(&n);
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_nightly", test_main);
}
