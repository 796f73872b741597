/*
 * api_report.c: /metrics (Prometheus text format) and a run as JUnit XML
 * (a nightly run's cases with their regression class, regress.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "buf.h"
#include "queue.h"
#include "regress.h"
#include "util.h"

#define REPORT_MAX (64 * 1024 * 1024)

/* One gauge per label value: "SELECT label, count(*) ... GROUP BY label". */
static int
gauge(struct db *db, struct wf_buf *b, const char *name, const char *help,
    const char *label, const char *sql)
{
	json_t *rows, *row;
	size_t i;

	if ((rows = db_rows(db, sql, "")) == NULL)
		return -1;
	wf_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	json_array_foreach (rows, i, row) {
		wf_buf_printf(b, "%s{%s=\"%s\"} %lld\n", name, label,
		    json_string_value(json_object_get(row, "k")),
		    (long long)json_integer_value(json_object_get(row, "n")));
	}
	json_decref(rows);
	return 0;
}

void
api_metrics(struct req *r, struct reply *out)
{
	struct db *db = r->api->db;
	int64_t events = 0, waiters;
	struct wf_buf b;
	size_t len;
	int rc;

	wf_buf_init(&b, REPORT_MAX);
	db_lock(db);
	rc = gauge(db, &b, "wakefarm_jobs", "Jobs by state.", "state",
	         "SELECT state AS k, count(*) AS n FROM jobs GROUP BY state") |
	    gauge(db, &b, "wakefarm_jobs_done", "Finished jobs by verdict.",
	        "verdict",
	        "SELECT verdict AS k, count(*) AS n FROM jobs WHERE"
	        " state = 'done' GROUP BY verdict") |
	    gauge(db, &b, "wakefarm_runs", "Runs by state.", "state",
	        "SELECT state AS k, count(*) AS n FROM runs GROUP BY state") |
	    gauge(db, &b, "wakefarm_hosts", "Hosts by state.", "state",
	        "SELECT state AS k, count(*) AS n FROM hosts GROUP BY state");
	if (rc == 0 &&
	    db_int(db, &events, "SELECT count(*) FROM events", "") == -1)
		rc = -1;
	waiters = queue_waiters(r->api);
	db_unlock(db);
	if (rc != 0) {
		wf_buf_free(&b);
		reply_db_error(out);
		return;
	}
	wf_buf_printf(&b,
	    "# HELP wakefarm_events Stored event records.\n"
	    "# TYPE wakefarm_events gauge\nwakefarm_events %lld\n"
	    "# HELP wakefarm_lease_waiters Agents waiting in a lease long-poll.\n"
	    "# TYPE wakefarm_lease_waiters gauge\nwakefarm_lease_waiters %lld\n"
	    "# HELP wakefarm_http_requests_total HTTP requests received.\n"
	    "# TYPE wakefarm_http_requests_total counter\n"
	    "wakefarm_http_requests_total %llu\n"
	    "# HELP wakefarm_http_errors_total HTTP replies with status >= 400.\n"
	    "# TYPE wakefarm_http_errors_total counter\n"
	    "wakefarm_http_errors_total %llu\n",
	    (long long)events, (long long)waiters,
	    (unsigned long long)__atomic_load_n(
	        &r->api->requests, __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(
	        &r->api->errors, __ATOMIC_RELAXED));
	len = b.len;
	reply_raw(out, 200, "text/plain; version=0.0.4; charset=utf-8",
	    wf_buf_steal(&b), len);
}

/* A nightly case's class (regress.c) as testcase properties. */
static void
junit_class(struct wf_buf *b, const json_t *cls)
{
	const json_t *k;
	size_t i;

	if (cls == NULL)
		return;
	wf_buf_printf(b,
	    "   <properties>\n    <property name=\"class\""
	    " value=\"");
	wf_buf_xml(b, json_string_value(json_object_get(cls, "class")));
	wf_buf_printf(b,
	    "\"/>\n    <property name=\"attempts\" value=\"%zu\"/>\n",
	    json_array_size(json_object_get(cls, "attempts")));
	json_array_foreach (json_object_get(cls, "known"), i, k) {
		wf_buf_printf(b,
		    "    <property name=\"known_issue\" value=\"#%lld ",
		    (long long)json_integer_value(json_object_get(k, "id")));
		wf_buf_xml(
		    b, json_string_value(json_object_get(k, "description")));
		if (json_is_object(json_object_get(k, "log"))) {
			wf_buf_printf(b, "; log line %lld: ",
			    (long long)json_integer_value(json_object_get(
			        json_object_get(k, "log"), "line_no")));
			wf_buf_xml(b,
			    json_string_value(json_object_get(
			        json_object_get(k, "log"), "line")));
		}
		wf_buf_printf(b, "\"/>\n");
	}
	wf_buf_printf(b, "   </properties>\n");
}

static void
junit_case(struct wf_buf *b, const json_t *job, const json_t *cls)
{
	const char *state = json_string_value(json_object_get(job, "state"));
	const char *verdict = json_string_value(
	    json_object_get(job, "verdict"));
	char *matrix = json_dumps(
	    json_object_get(job, "matrix"), JSON_COMPACT | JSON_SORT_KEYS);
	char *failing = json_dumps(
	    json_object_get(job, "failing"), JSON_COMPACT | JSON_ENCODE_ANY);
	char *expected = json_dumps(json_object_get(job, "expected_failing"),
	    JSON_COMPACT | JSON_ENCODE_ANY);

	wf_buf_printf(b, "  <testcase classname=\"");
	wf_buf_xml(b, json_string_value(json_object_get(job, "scenario")));
	wf_buf_printf(b, "\" name=\"job %lld ",
	    (long long)json_integer_value(json_object_get(job, "id")));
	wf_buf_xml(b, matrix);
	wf_buf_printf(b, "\">\n");
	junit_class(b, cls);
	if (strcmp(state, "cancelled") == 0 || strcmp(state, "done") != 0) {
		wf_buf_printf(b, "   <skipped message=\"%s\"/>\n", state);
	} else if (!json_is_true(json_object_get(job, "as_expected")) &&
	    json_integer_value(json_object_get(job, "as_expected")) != 1) {
		wf_buf_printf(b, "   <failure type=\"%s\" message=\"",
		    verdict != NULL ? verdict : "none");
		if (cls != NULL) {
			wf_buf_xml(b,
			    json_string_value(json_object_get(cls, "class")));
			wf_buf_printf(b, ": ");
		}
		wf_buf_printf(
		    b, "verdict %s, failing ", verdict ? verdict : "-");
		wf_buf_xml(b, failing);
		wf_buf_printf(b, "; expected %s, failing ",
		    json_string_value(
		        json_object_get(job, "expected_verdict")));
		wf_buf_xml(b, expected);
		wf_buf_printf(b, "\">");
		wf_buf_xml(
		    b, json_string_value(json_object_get(job, "reason")));
		wf_buf_printf(b, "</failure>\n");
	}
	wf_buf_printf(b, "  </testcase>\n");
	free(matrix);
	free(failing);
	free(expected);
}

void
api_run_junit(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out), exists = 0, nightly = 0;
	json_t *jobs = NULL, *job, *cls = NULL, *by_job, *c;
	char key[32];
	struct wf_buf b;
	size_t i, failures = 0, skipped = 0;
	int rc;

	if (id == -1)
		return;
	db_lock(r->api->db);
	rc = db_int(r->api->db, &exists,
	    "SELECT count(*) FROM runs WHERE"
	    " id = ?",
	    "i", id);
	if (rc == 1 && exists &&
	    (jobs = db_rows(r->api->db,
	         "SELECT id,"
	         " scenario, matrix AS \"matrix:json\", state, verdict, failing AS"
	         " \"failing:json\", expected_verdict, expected_failing AS"
	         " \"expected_failing:json\", as_expected, reason FROM jobs WHERE"
	         " run_id = ? ORDER BY id",
	         "i", id)) == NULL)
		rc = -1;
	/* A nightly run's cases carry their class against the last night. */
	if (rc == 1 && exists &&
	    db_int(r->api->db, &nightly,
	        "SELECT kind ="
	        " 'nightly' FROM runs WHERE id = ?",
	        "i", id) == 1 &&
	    nightly && (cls = regress_run(r->api->db, id)) == NULL)
		rc = -1;
	db_unlock(r->api->db);
	if (rc == -1) {
		json_decref(jobs);
		reply_db_error(out);
		return;
	}
	by_job = json_object();
	json_array_foreach (json_object_get(cls, "cases"), i, c) {
		snprintf(key, sizeof(key), "%lld",
		    (long long)json_integer_value(json_object_get(c, "job")));
		json_object_set(by_job, key, c);
	}
	json_decref(cls);
	if (!exists) {
		reply_error(out, 404, "no run %lld", (long long)id);
		return;
	}
	json_array_foreach (jobs, i, job) {
		const char *st = json_string_value(
		    json_object_get(job, "state"));

		if (strcmp(st, "done") != 0)
			skipped++;
		else if (json_integer_value(
		             json_object_get(job, "as_expected")) != 1)
			failures++;
	}
	wf_buf_init(&b, REPORT_MAX);
	wf_buf_printf(&b,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites>\n <testsuite name=\"wakefarm run %lld\" tests=\"%zu\""
	    " failures=\"%zu\" skipped=\"%zu\">\n",
	    (long long)id, json_array_size(jobs), failures, skipped);
	json_array_foreach (jobs, i, job) {
		snprintf(key, sizeof(key), "%lld",
		    (long long)json_integer_value(json_object_get(job, "id")));
		junit_case(&b, job, json_object_get(by_job, key));
	}
	json_decref(by_job);
	wf_buf_printf(&b, " </testsuite>\n</testsuites>\n");
	json_decref(jobs);
	i = b.len;
	reply_raw(out, 200, "application/xml", wf_buf_steal(&b), i);
}

/*
 * GET /api/v1/runs/{id}/compare[?with=ID]: this run against the previous
 * finished run of the same kind (or run ID). Cases are matched by scenario
 * and params. A case not as expected now but as expected before is a
 * regression; the reverse is fixed; a job whose judged attempts were both
 * as expected and not (attempts, regress.h) is listed as flaky too.
 */
void
api_run_compare(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out), with = 0;
	json_t *rows = NULL, *row, *res;
	const char *cat;
	size_t i;
	int rc;

	if (id == -1 ||
	    req_arg_int(r, "with", 1, INT64_MAX, 0, &with, out) == -1)
		return;
	db_lock(r->api->db);
	rc = with != 0 ?
	    1 :
	    db_int(r->api->db, &with,
	        "SELECT p.id FROM runs p,"
	        " runs c WHERE c.id = ?1 AND p.kind = c.kind AND p.id < c.id AND"
	        " p.state = 'done' ORDER BY p.id DESC LIMIT 1",
	        "i", id);
	if (rc == 1)
		rows = db_rows(r->api->db,
		    "SELECT c.id AS job, c.scenario,"
		    " c.matrix AS \"matrix:json\", c.verdict, c.as_expected,"
		    " c.attempt, (SELECT count(DISTINCT a.as_expected) FROM"
		    " attempts a WHERE a.job_id = c.id AND a.verdict != 'infra')"
		    " AS outcomes, p.id AS previous_job, p.verdict AS"
		    " previous_verdict, p.as_expected AS previous_as_expected"
		    " FROM jobs c LEFT JOIN jobs p ON p.run_id = ?2 AND"
		    " p.scenario = c.scenario AND p.params = c.params AND"
		    " p.state = 'done' WHERE c.run_id = ?1 AND c.state = 'done'"
		    " ORDER BY c.id",
		    "ii", id, with);
	db_unlock(r->api->db);
	if (rc == -1 || (rc == 1 && rows == NULL)) {
		reply_db_error(out);
		return;
	}
	if (rc == 0) {
		reply_error(out, 404,
		    "run %lld has no earlier finished run of"
		    " its kind",
		    (long long)id);
		return;
	}
	res = json_pack("{s:I, s:I, s:[], s:[], s:[], s:[], s:[]}", "run",
	    (json_int_t)id, "previous", (json_int_t)with, "regressions",
	    "fixed", "still_failing", "new_failing", "flaky");
	json_array_foreach (rows, i, row) {
		json_t *now = json_object_get(row, "as_expected");
		json_t *before = json_object_get(row, "previous_as_expected");

		cat = NULL;
		if (json_integer_value(now) != 1 && json_is_null(before))
			cat = "new_failing";
		else if (json_integer_value(now) != 1)
			cat = json_integer_value(before) == 1 ? "regressions" :
			                                        "still_failing";
		else if (!json_is_null(before) &&
		    json_integer_value(before) != 1)
			cat = "fixed";
		if (cat != NULL)
			json_array_append(json_object_get(res, cat), row);
		/* Both as expected and not across its attempts (infra aside). */
		if (json_integer_value(json_object_get(row, "outcomes")) > 1)
			json_array_append(json_object_get(res, "flaky"), row);
		json_object_del(row, "outcomes");
	}
	json_decref(rows);
	reply_json(out, 200, res);
}
