/*
 * api_junit.c: GET /api/v1/runs/{id}/junit.xml, a run as JUnit XML in the
 * dialect of Jenkins' xunit plugin (junit-10.xsd), which Jenkins, GitLab
 * and junitparser read: one <testsuite> per scenario, one <testcase> per
 * job named by its case (export.h: the same name every night, so "newly
 * failed" and "fixed" work across runs), <failure> when not as expected,
 * <error type="infra"> for infra, <skipped> when not finished, earlier
 * attempts as <flakyFailure>/<rerunFailure>, and in <system-out> the job's
 * link, its class against the night before, the first failed check and the
 * end of its guest log. Every string goes through wf_buf_xml: the document
 * is well-formed whatever the guest printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "buf.h"
#include "export.h"
#include "regress.h"
#include "util.h"

#define JUNIT_MAX (64 * 1024 * 1024)

/* What a run's report is made of, read under one lock. */
struct junit_run {
	int64_t id;
	json_t *run; /* id, kind, state, created_at, schedule, day */
	json_t *jobs;
	json_t *attempts; /* by job id: [attempt...] */
	json_t *classes; /* by job id: the case of regress_run, nightly only */
	json_t *details; /* by job id: {"failed", "log"} when not as expected */
};

static void
junit_run_free(struct junit_run *jr)
{
	json_decref(jr->run);
	json_decref(jr->jobs);
	json_decref(jr->attempts);
	json_decref(jr->classes);
	json_decref(jr->details);
}

/* Every list of rows keyed by the value of column col (new object). */
static json_t *
by_column(json_t *rows, const char *col, int list)
{
	json_t *by = json_object(), *row, *l;
	char key[32];
	size_t i;

	json_array_foreach (rows, i, row) {
		export_key(key, json_object_get(row, col));
		if (!list) {
			json_object_set(by, key, row);
			continue;
		}
		if ((l = json_object_get(by, key)) == NULL) {
			l = json_array();
			json_object_set_new(by, key, l);
		}
		json_array_append(l, row);
	}
	return by;
}

static int
not_as_expected(const json_t *job)
{
	return strcmp(json_string_value(json_object_get(job, "state")),
	           "done") == 0 &&
	    json_integer_value(json_object_get(job, "as_expected")) != 1;
}

/*
 * The first failed check, the known issues that explain the failure and
 * the guest log's end of a job not as expected (new object).
 */
static json_t *
job_detail(struct db *db, const json_t *job)
{
	int64_t id = json_integer_value(json_object_get(job, "id"));
	json_t *failed, *known = NULL, *d;
	const char *v = json_string_value(json_object_get(job, "verdict"));
	struct wf_buf log;

	if (v != NULL && strcmp(v, "infra") != 0 &&
	    (known = regress_known(db, id)) == NULL)
		return NULL;
	if ((failed = export_first_failed(db, id)) == NULL) {
		json_decref(known);
		return NULL;
	}
	wf_buf_init(&log, EXPORT_LOG_BYTES + 1);
	if (export_log_tail(
	        db, id, 0, EXPORT_LOG_LINES, EXPORT_LOG_BYTES, &log) == -1) {
		json_decref(failed);
		json_decref(known);
		wf_buf_free(&log);
		return NULL;
	}
	/* Raw bytes, never dumped: kept unchecked, NULs and all. */
	d = json_pack("{s:o, s:o, s:o}", "failed", failed, "log",
	    json_stringn_nocheck(wf_buf_str(&log), log.len), "known",
	    known != NULL ? known : json_array());
	wf_buf_free(&log);
	return d;
}

/* 1 read, 0 no such run, -1 error. Takes and releases the lock. */
static int
junit_read(struct api *api, struct junit_run *jr)
{
	struct db *db = api->db;
	json_t *rows = NULL, *job, *cls = NULL, *d;
	char key[32];
	size_t i;
	int rc = -1;

	db_lock(db);
	jr->run = db_row(db,
	    "SELECT r.id, r.kind, r.state, r.created_at, r.finished_at,"
	    " s.schedule, s.day FROM runs r LEFT JOIN schedule_runs s ON"
	    " s.run_id = r.id WHERE r.id = ?",
	    "i", jr->id);
	if (jr->run == NULL || json_is_null(jr->run)) {
		rc = jr->run == NULL ? -1 : 0;
		goto out;
	}
	jr->jobs = db_rows(db,
	    "SELECT j.id, j.scenario, j.matrix AS \"matrix:json\", j.params"
	    " AS \"params:json\", j.state, j.attempt, j.verdict, j.failing AS"
	    " \"failing:json\", j.expected_verdict, j.expected_failing AS"
	    " \"expected_failing:json\", j.as_expected, j.reason,"
	    " j.created_at, j.started_at, j.finished_at, h.name AS host FROM"
	    " jobs j LEFT JOIN hosts h ON h.id = coalesce(j.last_host,"
	    " j.lease_host) WHERE j.run_id = ? ORDER BY j.id",
	    "i", jr->id);
	rows = db_rows(db,
	    "SELECT a.job_id, a.attempt, a.verdict, a.as_expected, a.failing"
	    " AS \"failing:json\", a.reason FROM attempts a JOIN jobs j ON"
	    " j.id = a.job_id WHERE j.run_id = ? ORDER BY a.job_id,"
	    " a.attempt",
	    "i", jr->id);
	if (jr->jobs == NULL || rows == NULL)
		goto out;
	jr->attempts = by_column(rows, "job_id", 1);
	jr->details = json_object();
	json_array_foreach (jr->jobs, i, job) {
		if (!not_as_expected(job))
			continue;
		if ((d = job_detail(db, job)) == NULL)
			goto out;
		json_object_set_new(jr->details,
		    export_key(key, json_object_get(job, "id")), d);
	}
	/* A nightly run's cases carry their class against the last night. */
	if (strcmp(json_string_value(json_object_get(jr->run, "kind")),
	        "nightly") == 0) {
		if ((cls = regress_run(db, jr->id)) == NULL)
			goto out;
		jr->classes = by_column(
		    json_object_get(cls, "cases"), "job", 0);
	} else {
		jr->classes = json_object();
	}
	rc = 1;
out:
	db_unlock(db);
	json_decref(rows);
	json_decref(cls);
	return rc;
}

static double
job_seconds(const json_t *job)
{
	const json_t *s = json_object_get(job, "started_at");
	const json_t *f = json_object_get(job, "finished_at");

	if (!json_is_integer(s) || !json_is_integer(f) ||
	    json_integer_value(f) < json_integer_value(s))
		return 0;
	return (double)(json_integer_value(f) - json_integer_value(s)) / 1000;
}

/* A JSON value as compact text into b, XML-escaped. */
static void
xml_json(struct wf_buf *b, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	wf_buf_xml(b, s != NULL ? s : "null");
	free(s);
}

/* "verdict V, failing [..]; expected V, failing [..]" */
static void
outcome_text(struct wf_buf *b, const json_t *job)
{
	wf_buf_printf(b, "verdict ");
	wf_buf_xml(b, json_string_value(json_object_get(job, "verdict")));
	wf_buf_printf(b, ", failing ");
	xml_json(b, json_object_get(job, "failing"));
	wf_buf_printf(b, "; expected ");
	wf_buf_xml(
	    b, json_string_value(json_object_get(job, "expected_verdict")));
	wf_buf_printf(b, ", failing ");
	xml_json(b, json_object_get(job, "expected_failing"));
}

/* <failure>, <error> or <skipped> of a case; nothing when as expected. */
static void
case_result(struct wf_buf *b, const json_t *job, const json_t *cls,
    const json_t *detail)
{
	const char *state = json_string_value(json_object_get(job, "state"));
	const char *v = json_string_value(json_object_get(job, "verdict"));
	const json_t *failed = json_object_get(detail, "failed");

	if (strcmp(state, "done") != 0) {
		wf_buf_printf(b, "   <skipped message=\"");
		wf_buf_xml(b, state);
		wf_buf_printf(b, "\"/>\n");
		return;
	}
	if (!not_as_expected(job))
		return;
	if (v != NULL && strcmp(v, "infra") == 0) {
		wf_buf_printf(b, "   <error type=\"infra\" message=\"");
		wf_buf_xml(
		    b, json_string_value(json_object_get(job, "reason")));
		wf_buf_printf(b, "\">");
		wf_buf_xml(
		    b, json_string_value(json_object_get(job, "reason")));
		wf_buf_printf(b, "</error>\n");
		return;
	}
	wf_buf_printf(b, "   <failure type=\"");
	wf_buf_xml(b, v != NULL ? v : "none");
	wf_buf_printf(b, "\" message=\"");
	if (cls != NULL) {
		wf_buf_xml(b, json_string_value(json_object_get(cls, "class")));
		wf_buf_printf(b, ": ");
	} else if (json_array_size(json_object_get(detail, "known")) > 0) {
		wf_buf_printf(b, "known: ");
	}
	outcome_text(b, job);
	wf_buf_printf(b, "\">");
	wf_buf_xml(b, json_string_value(json_object_get(job, "reason")));
	if (json_is_object(failed)) {
		wf_buf_printf(b, "\nfirst failed check: ");
		wf_buf_xml(
		    b, json_string_value(json_object_get(failed, "check")));
		wf_buf_printf(b, " (gen %lld): expected ",
		    (long long)json_integer_value(
		        json_object_get(failed, "gen")));
		xml_json(b, json_object_get(failed, "expected"));
		wf_buf_printf(b, ", observed ");
		xml_json(b, json_object_get(failed, "observed"));
	}
	wf_buf_printf(b, "</failure>\n");
}

/*
 * The attempts before the last that were judged not as expected:
 * <flakyFailure> when the case ended as expected, else <rerunFailure>.
 */
static void
case_reruns(struct wf_buf *b, const json_t *job, const json_t *attempts)
{
	const char *el = json_integer_value(
	                     json_object_get(job, "as_expected")) == 1 ?
	    "flakyFailure" :
	    "rerunFailure";
	size_t i, n = json_array_size(attempts);
	const json_t *a;

	json_array_foreach (attempts, i, a) {
		const char *v = json_string_value(
		    json_object_get(a, "verdict"));

		if (i + 1 == n || v == NULL || strcmp(v, "infra") == 0 ||
		    json_integer_value(json_object_get(a, "as_expected")) == 1)
			continue;
		wf_buf_printf(b, "   <%s type=\"", el);
		wf_buf_xml(b, v);
		wf_buf_printf(b, "\" message=\"attempt %lld: verdict ",
		    (long long)json_integer_value(
		        json_object_get(a, "attempt")));
		wf_buf_xml(b, v);
		wf_buf_printf(b, ", failing ");
		xml_json(b, json_object_get(a, "failing"));
		wf_buf_printf(b, "\">");
		wf_buf_xml(b, json_string_value(json_object_get(a, "reason")));
		wf_buf_printf(b, "</%s>\n", el);
	}
}

/* The known issues that explain a failure, one a line. */
static void
out_known(struct wf_buf *b, const json_t *known)
{
	const json_t *k, *log;
	size_t i;

	json_array_foreach (known, i, k) {
		wf_buf_printf(b, "known issue #%lld: ",
		    (long long)json_integer_value(json_object_get(k, "id")));
		wf_buf_xml(
		    b, json_string_value(json_object_get(k, "description")));
		if (json_string_length(json_object_get(k, "url")) > 0) {
			wf_buf_printf(b, " (");
			wf_buf_xml(
			    b, json_string_value(json_object_get(k, "url")));
			wf_buf_printf(b, ")");
		}
		if (json_is_object(log = json_object_get(k, "log"))) {
			wf_buf_printf(b, "; log port %lld line %lld: ",
			    (long long)json_integer_value(
			        json_object_get(log, "port")),
			    (long long)json_integer_value(
			        json_object_get(log, "line_no")));
			wf_buf_xml(
			    b, json_string_value(json_object_get(log, "line")));
		}
		wf_buf_printf(b, "\n");
	}
}

/* The class of a nightly case against the night before. */
static void
out_class(struct wf_buf *b, const json_t *cls)
{
	wf_buf_printf(b, "class: ");
	wf_buf_xml(b, json_string_value(json_object_get(cls, "class")));
	wf_buf_printf(b, " (%zu attempts)",
	    json_array_size(json_object_get(cls, "attempts")));
	if (json_is_integer(json_object_get(cls, "previous_job"))) {
		wf_buf_printf(b, "; the night before: job %lld, ",
		    (long long)json_integer_value(
		        json_object_get(cls, "previous_job")));
		wf_buf_xml(b,
		    json_string_value(
		        json_object_get(cls, "previous_verdict")));
		wf_buf_printf(b, "%s",
		    json_integer_value(
		        json_object_get(cls, "previous_as_expected")) == 1 ?
		        ", as expected" :
		        ", not as expected");
	}
	wf_buf_printf(b, "\n");
}

/* <system-out>: the job, its links, its class, its guest log's end. */
static void
case_out(struct api *api, struct wf_buf *b, const json_t *job,
    const json_t *cls, const json_t *detail)
{
	int64_t id = json_integer_value(json_object_get(job, "id"));
	const json_t *log = json_object_get(detail, "log");
	char *page = export_url(api, "/#/jobs/%lld", (long long)id);
	char *logs = export_url(api, "/api/v1/jobs/%lld/logs/0", (long long)id);

	wf_buf_printf(b, "   <system-out>job %lld, attempt %lld", (long long)id,
	    (long long)json_integer_value(json_object_get(job, "attempt")));
	if (json_is_string(json_object_get(job, "host"))) {
		wf_buf_printf(b, ", host ");
		wf_buf_xml(b, json_string_value(json_object_get(job, "host")));
	}
	wf_buf_printf(b, ": ");
	wf_buf_xml(b, json_string_value(json_object_get(job, "state")));
	if (json_is_string(json_object_get(job, "verdict"))) {
		wf_buf_printf(b, ", ");
		outcome_text(b, job);
		wf_buf_printf(b, "%s",
		    not_as_expected(job) ? ": NOT as expected" :
		                           ": as expected");
	}
	wf_buf_printf(b, "\njob page: ");
	wf_buf_xml(b, page);
	wf_buf_printf(b, "\nguest log: ");
	wf_buf_xml(b, logs);
	wf_buf_printf(b, "\n");
	if (cls != NULL)
		out_class(b, cls);
	out_known(b, json_object_get(detail, "known"));
	if (json_string_length(log) > 0) {
		wf_buf_printf(b, "--- the end of the guest log (COM1) ---\n");
		wf_buf_xmln(b, json_string_value(log), json_string_length(log));
		if (json_string_value(log)[json_string_length(log) - 1] != '\n')
			wf_buf_printf(b, "\n");
	}
	wf_buf_printf(b, "</system-out>\n");
	free(page);
	free(logs);
}

/* One <testcase>; name is the case's name, unique in its suite. */
static void
junit_case(struct api *api, struct wf_buf *b, const struct junit_run *jr,
    const json_t *job, const char *name)
{
	char key[32];
	const json_t *cls, *detail;

	export_key(key, json_object_get(job, "id"));
	cls = json_object_get(jr->classes, key);
	detail = json_object_get(jr->details, key);
	wf_buf_printf(b, "  <testcase classname=\"wakefarm.");
	wf_buf_xml(b, json_string_value(json_object_get(job, "scenario")));
	wf_buf_printf(b, "\" name=\"");
	wf_buf_xml(b, name);
	wf_buf_printf(b, "\" time=\"%.3f\">\n", job_seconds(job));
	case_result(b, job, cls, detail);
	case_reruns(b, job, json_object_get(jr->attempts, key));
	case_out(api, b, job, cls, detail);
	wf_buf_printf(b, "  </testcase>\n");
}

/* The hosts that ran a scenario's jobs, "h1,h2" (this host when none). */
static void
suite_hosts(struct wf_buf *b, const json_t *jobs, const char *scenario)
{
	json_t *seen = json_object(), *job;
	char self[256];
	size_t i, n = 0;

	json_array_foreach (jobs, i, job) {
		const char *h = json_string_value(json_object_get(job, "host"));

		if (h == NULL ||
		    strcmp(json_string_value(json_object_get(job, "scenario")),
		        scenario) != 0 ||
		    json_object_get(seen, h) != NULL)
			continue;
		json_object_set_new(seen, h, json_true());
		wf_buf_printf(b, "%s", n++ > 0 ? "," : "");
		wf_buf_xml(b, h);
	}
	if (n == 0 && gethostname(self, sizeof(self)) == 0) {
		self[sizeof(self) - 1] = '\0';
		wf_buf_xml(b, self);
	}
	json_decref(seen);
}

struct suite_counts {
	size_t tests, failures, errors, skipped;
	double time;
};

static void
count_job(struct suite_counts *c, const json_t *job)
{
	const char *v = json_string_value(json_object_get(job, "verdict"));

	c->tests++;
	c->time += job_seconds(job);
	if (strcmp(json_string_value(json_object_get(job, "state")), "done"))
		c->skipped++;
	else if (not_as_expected(job) && v != NULL && !strcmp(v, "infra"))
		c->errors++;
	else if (not_as_expected(job))
		c->failures++;
}

/* The run's properties, in every suite. */
static void
suite_properties(struct api *api, struct wf_buf *b, const json_t *run)
{
	static const char *const keys[] = { "kind", "schedule", "day", NULL };
	int64_t id = json_integer_value(json_object_get(run, "id"));
	char *url = export_url(api, "/#/runs/%lld", (long long)id);
	int i;

	wf_buf_printf(b,
	    "  <properties>\n   <property name=\"wakefarm.run\""
	    " value=\"%lld\"/>\n",
	    (long long)id);
	for (i = 0; keys[i] != NULL; i++) {
		if (!json_is_string(json_object_get(run, keys[i])))
			continue;
		wf_buf_printf(
		    b, "   <property name=\"wakefarm.%s\" value=\"", keys[i]);
		wf_buf_xml(b, json_string_value(json_object_get(run, keys[i])));
		wf_buf_printf(b, "\"/>\n");
	}
	wf_buf_printf(b, "   <property name=\"wakefarm.url\" value=\"");
	wf_buf_xml(b, url);
	wf_buf_printf(b, "\"/>\n  </properties>\n");
	free(url);
}

/* One <testsuite>: the jobs of one scenario, in job order. */
static void
junit_suite(struct api *api, struct wf_buf *b, const struct junit_run *jr,
    const char *scenario, int index, struct suite_counts *all)
{
	struct suite_counts c = { 0 };
	json_t *names = json_object(), *job;
	char ts[40], *name, *unique;
	size_t i;
	int dup;

	json_array_foreach (jr->jobs, i, job) {
		if (strcmp(json_string_value(json_object_get(job, "scenario")),
		        scenario) == 0)
			count_job(&c, job);
	}
	export_time(
	    json_integer_value(json_object_get(jr->run, "created_at")), ts);
	wf_buf_printf(b, " <testsuite name=\"");
	wf_buf_xml(b, scenario);
	wf_buf_printf(b,
	    "\" package=\"wakefarm\" id=\"%d\" tests=\"%zu\" failures=\"%zu\""
	    " errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\" timestamp=\"%s\""
	    " hostname=\"",
	    index, c.tests, c.failures, c.errors, c.skipped, c.time, ts);
	suite_hosts(b, jr->jobs, scenario);
	wf_buf_printf(b, "\">\n");
	suite_properties(api, b, jr->run);
	json_array_foreach (jr->jobs, i, job) {
		if (strcmp(json_string_value(json_object_get(job, "scenario")),
		        scenario) != 0)
			continue;
		name = export_case_name(json_object_get(job, "matrix"),
		    json_object_get(job, "params"));
		/* The same case twice in a run (a bisect step): #2, #3... */
		dup = (int)json_integer_value(json_object_get(names, name)) + 1;
		json_object_set_new(names, name, json_integer(dup));
		if (dup > 1 && asprintf(&unique, "%s #%d", name, dup) >= 0) {
			free(name);
			name = unique;
		}
		junit_case(api, b, jr, job, name);
		free(name);
	}
	wf_buf_printf(b, " </testsuite>\n");
	json_decref(names);
	all->tests += c.tests;
	all->failures += c.failures;
	all->errors += c.errors;
	all->skipped += c.skipped;
	all->time += c.time;
}

void
api_run_junit(struct req *r, struct reply *out)
{
	struct junit_run jr = { .id = req_id(r, 3, out) };
	struct suite_counts all = { 0 };
	json_t *done, *job;
	struct wf_buf b, suites;
	const char *sc;
	size_t i;
	int rc, n = 0;

	if (jr.id == -1)
		return;
	if ((rc = junit_read(r->api, &jr)) != 1) {
		if (rc == 0)
			reply_error(out, 404, "no run %lld", (long long)jr.id);
		else
			reply_db_error(out);
		junit_run_free(&jr);
		return;
	}
	wf_buf_init(&suites, JUNIT_MAX);
	done = json_object();
	json_array_foreach (jr.jobs, i, job) {
		sc = json_string_value(json_object_get(job, "scenario"));
		if (json_object_get(done, sc) != NULL)
			continue;
		json_object_set_new(done, sc, json_true());
		junit_suite(r->api, &suites, &jr, sc, n++, &all);
	}
	json_decref(done);
	wf_buf_init(&b, JUNIT_MAX);
	wf_buf_printf(&b,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites name=\"wakefarm\" tests=\"%zu\" failures=\"%zu\""
	    " errors=\"%zu\" time=\"%.3f\">\n",
	    all.tests, all.failures, all.errors, all.time);
	wf_buf_append(&b, wf_buf_str(&suites), suites.len);
	wf_buf_printf(&b, "</testsuites>\n");
	wf_buf_free(&suites);
	junit_run_free(&jr);
	if (b.truncated) {
		wf_buf_free(&b);
		reply_error(out, 500, "the report is over %d bytes", JUNIT_MAX);
		return;
	}
	i = b.len;
	reply_raw(
	    out, 200, "application/xml; charset=utf-8", wf_buf_steal(&b), i);
}
