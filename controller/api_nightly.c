/*
 * api_nightly.c: schedules (admin: add, remove; list is a read) and
 * regressions (/api/v1/regressions, /api/v1/runs/{id}/regressions). The
 * scheduler is schedule.c; the classification regress.c and classify.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "json.h"
#include "log.h"
#include "regress.h"
#include "schedule.h"
#include "util.h"

#define SCHEDULE_NAME_MAX 64
#define REGRESSIONS_RUNS_MAX 200
#define DAY_MS (24LL * 3600 * 1000)

/*
 * The POST /runs body a schedule submits: "matrix": "nightly" (every
 * nightly scenario), a scenario name or a list of names; "set" and
 * "priority" as for a run. NULL with a cause.
 */
static json_t *
schedule_request(const json_t *body, char **cause)
{
	const json_t *m = json_object_get(body, "matrix"), *v;
	json_t *req = json_pack("{s:s}", "kind", "nightly");

	if (m == NULL ||
	    (json_is_string(m) && strcmp(json_string_value(m), "nightly") == 0))
		json_object_set_new(req, "matrix", json_string("nightly"));
	else if (json_is_string(m))
		json_object_set_new(req, "scenarios", json_pack("[O]", m));
	else if (json_is_array(m))
		json_object_set(req, "scenarios", (json_t *)m);
	else {
		wf_set_cause(cause,
		    "key 'matrix': expected \"nightly\", a"
		    " scenario name or a list of names, not %s",
		    wf_json_type_name(m));
		json_decref(req);
		return NULL;
	}
	if ((v = json_object_get(body, "set")) != NULL)
		json_object_set(req, "set", (json_t *)v);
	if ((v = json_object_get(body, "priority")) != NULL)
		json_object_set(req, "priority", (json_t *)v);
	/* names, resolved each night (controller/api_kernels.c) */
	if ((v = json_object_get(body, "kernels")) != NULL)
		json_object_set(req, "kernels", (json_t *)v);
	return req;
}

/* POST /api/v1/admin/schedules {"name", "at": "HH:MM", "matrix", "set",
 * "retries", "priority"} */
void
api_admin_schedule_add(struct req *r, struct reply *out)
{
	static const char *const keys[] = { "name", "at", "matrix", "set",
		"retries", "priority", "kernels", NULL };
	const char *name = NULL, *at = NULL;
	json_t *body, *request = NULL, *dry = NULL;
	json_int_t retries = 2;
	char *cause = NULL, *text = NULL;
	int64_t exists = 0, rc;
	int minute;

	if ((body = req_body_object(r, out)) == NULL)
		return;
	if (wf_json_check_keys(body, keys, &cause) == -1 ||
	    wf_json_get_str(body, "name", 1, 256, &name, &cause) == -1 ||
	    wf_json_get_str(body, "at", 1, 16, &at, &cause) == -1 ||
	    wf_json_get_int(body, "retries", 0, 0, 10, &retries, &cause) == -1)
		goto bad;
	if (!wf_name_ok(name, SCHEDULE_NAME_MAX)) {
		wf_set_cause(&cause,
		    "key 'name': 1 to %d letters, digits, '.',"
		    " '_' or '-'",
		    SCHEDULE_NAME_MAX);
		goto bad;
	}
	if ((minute = sched_parse_hhmm(at)) == -1) {
		wf_set_cause(
		    &cause, "key 'at': '%.16s' is not HH:MM (UTC)", at);
		goto bad;
	}
	if ((request = schedule_request(body, &cause)) == NULL)
		goto bad;
	/* Refused now rather than every night: expand it without storing. */
	if ((rc = runs_create(r->api, request, NULL, 0, &dry, &cause)) < 0) {
		if (rc == -2) {
			reply_error(out, 500, "%s", wf_cause_str(cause));
			goto out;
		}
		goto bad;
	}
	text = json_dumps(request, JSON_COMPACT | JSON_SORT_KEYS);
	db_lock(r->api->db);
	rc = db_int(r->api->db, &exists,
	    "SELECT count(*) FROM schedules WHERE"
	    " name = ?",
	    "t", name);
	if (rc == 1 && !exists &&
	    db_exec(r->api->db, NULL,
	        "INSERT INTO"
	        " schedules (name, request, at_minute, retries, created_at) VALUES"
	        " (?, ?, ?, ?, ?)",
	        "ttdii", name, text, minute, (int64_t)retries,
	        sched_now_ms(r->api->cfg)) == -1)
		rc = -1;
	db_unlock(r->api->db);
	if (rc == -1) {
		reply_db_error(out);
	} else if (exists) {
		reply_error(out, 409,
		    "a schedule named '%s' exists (remove it"
		    " first)",
		    name);
	} else {
		log_info("schedule %s: at %s UTC, %lld jobs a night", name, at,
		    (long long)json_integer_value(
		        json_object_get(dry, "jobs")));
		reply_json(out, 201,
		    json_pack("{s:s, s:s, s:O, s:I, s:O}", "name", name, "at",
		        at, "request", request, "retries", retries, "jobs",
		        json_object_get(dry, "jobs")));
	}
	goto out;
bad:
	reply_error(out, 400, "%s", wf_cause_str(cause));
out:
	free(text);
	json_decref(dry);
	json_decref(request);
	json_decref(body);
	free(cause);
}

void
api_schedules_list(struct req *r, struct reply *out)
{
	json_t *rows, *row;
	char day[11];
	size_t i;
	int m;

	db_lock(r->api->db);
	rows = db_rows(r->api->db,
	    "SELECT s.name, s.at_minute, s.request AS"
	    " \"request:json\", s.retries, s.created_at, (SELECT run_id FROM"
	    " schedule_runs WHERE schedule = s.name ORDER BY day DESC LIMIT 1)"
	    " AS last_run, (SELECT max(day) FROM schedule_runs WHERE schedule"
	    " = s.name) AS last_day FROM schedules s ORDER BY s.name",
	    "");
	db_unlock(r->api->db);
	if (rows == NULL) {
		reply_db_error(out);
		return;
	}
	json_array_foreach (rows, i, row) {
		char at[8];

		m = (int)json_integer_value(json_object_get(row, "at_minute"));
		snprintf(at, sizeof(at), "%02d:%02d", m / 60 % 24, m % 60);
		json_object_set_new(row, "at", json_string(at));
		json_object_del(row, "at_minute");
	}
	sched_day(sched_now_ms(r->api->cfg), day);
	reply_json(
	    out, 200, json_pack("{s:o, s:s}", "schedules", rows, "today", day));
}

/* DELETE /api/v1/admin/schedules/{name}: its runs stay. */
void
api_admin_schedule_rm(struct req *r, struct reply *out)
{
	int changes = 0, rc;

	db_lock(r->api->db);
	rc = db_exec(r->api->db, &changes,
	    "DELETE FROM schedules WHERE"
	    " name = ?",
	    "t", r->seg[4]);
	db_unlock(r->api->db);
	if (rc == -1)
		reply_db_error(out);
	else if (changes == 0)
		reply_error(out, 404, "no schedule '%.64s'", r->seg[4]);
	else
		reply_json(out, 200,
		    json_pack("{s:s, s:b}", "name", r->seg[4], "deleted", 1));
}

/* GET /api/v1/runs/{id}/regressions: every case of one run, classified. */
void
api_run_regressions(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out);
	json_t *res;

	if (id == -1)
		return;
	db_lock(r->api->db);
	res = regress_run(r->api->db, id);
	db_unlock(r->api->db);
	if (res == NULL)
		reply_db_error(out);
	else if (json_is_null(res))
		reply_error(out, 404, "no run %lld", (long long)id);
	else
		reply_json(out, 200, res);
}

/* The cases of a classified run that are not plain passes (new array). */
static json_t *
notable(const json_t *cases)
{
	json_t *keep = json_array(), *c;
	size_t i;

	json_array_foreach (cases, i, c) {
		if (strcmp(json_string_value(json_object_get(c, "class")),
		        "pass") != 0)
			json_array_append(keep, c);
	}
	return keep;
}

/*
 * GET /api/v1/regressions?since=YYYY-MM-DD: the scheduled nightly runs of
 * days >= since (default: the last 7 days by the scheduler's clock),
 * newest first, each with its cases that are not plain passes; and every
 * regression in one list.
 */
void
api_regressions(struct req *r, struct reply *out)
{
	const char *s = req_arg(r, "since");
	json_t *runs, *run, *res = NULL, *list, *regs, *c, *one;
	int64_t ms;
	char since[11];
	size_t i, k;

	if (s != NULL && sched_parse_time(s, &ms) == -1) {
		reply_error(out, 400,
		    "query 'since': '%.32s' is not a date"
		    " (YYYY-MM-DD)",
		    s);
		return;
	}
	if (s == NULL)
		ms = sched_now_ms(r->api->cfg) - 7 * DAY_MS;
	sched_day(ms, since);
	list = json_array();
	regs = json_array();
	db_lock(r->api->db);
	runs = db_rows(r->api->db,
	    "SELECT run_id FROM schedule_runs WHERE day"
	    " >= ? ORDER BY day DESC, run_id DESC LIMIT ?",
	    "ti", since, (int64_t)REGRESSIONS_RUNS_MAX);
	json_array_foreach (runs, i, run) {
		one = regress_run(r->api->db,
		    json_integer_value(json_object_get(run, "run_id")));
		if (one == NULL || json_is_null(one)) {
			json_decref(one);
			json_decref(runs);
			runs = NULL;
			break;
		}
		json_array_foreach (json_object_get(one, "cases"), k, c) {
			if (strcmp(
			        json_string_value(json_object_get(c, "class")),
			        "regression") != 0)
				continue;
			c = json_deep_copy(c);
			json_object_set(c, "run", json_object_get(one, "run"));
			json_object_set(
			    c, "schedule", json_object_get(one, "schedule"));
			json_object_set(c, "day", json_object_get(one, "day"));
			json_array_append_new(regs, c);
		}
		json_object_set_new(
		    one, "cases", notable(json_object_get(one, "cases")));
		json_array_append_new(list, one);
	}
	db_unlock(r->api->db);
	if (runs == NULL) {
		json_decref(list);
		json_decref(regs);
		reply_db_error(out);
		return;
	}
	res = json_pack("{s:s, s:o, s:o}", "since", since, "runs", list,
	    "regressions", regs);
	json_decref(runs);
	reply_json(out, 200, res);
}
