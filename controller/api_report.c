/*
 * api_report.c: /metrics (Prometheus text format) and a run compared
 * with another case by case.
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
