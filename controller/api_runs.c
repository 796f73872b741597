/*
 * api_runs.c: submitting runs and reading them back (/api/v1/runs...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "json.h"
#include "log.h"
#include "queue.h"
#include "regress.h"
#include "run_req.h"
#include "scenario.h"
#include "util.h"

/* Stores the scenarios, the run and its jobs in one transaction. */
static int64_t
store_run(struct api *api, const json_t *body, const struct run_req *rr,
    const struct run_link *link, const char *left_out)
{
	struct db *db = api->db;
	const struct scenario *sc;
	int64_t run = -1, scen;
	json_t *c;
	char *request, *text, *matrix, *params, *failing;
	size_t i, k;
	json_int_t r;
	int rc = 0;

	request = json_dumps(body, JSON_COMPACT);
	if (db_begin(db) == -1) {
		free(request);
		return -1;
	}
	if (db_exec(db, NULL,
	        "INSERT INTO runs (kind, state, priority,"
	        " request, created_at, jobs_total, left_out) VALUES (?,"
	        " 'queued', ?, ?, ?, ?, ?)",
	        "titiit", rr->kind, (int64_t)rr->priority, request, db_now_ms(),
	        (int64_t)rr->njobs, left_out) == -1)
		goto fail;
	run = db_last_id(db);
	/* In the same transaction: a schedule never fires twice a day. */
	if (link != NULL && link->schedule != NULL &&
	    db_exec(db, NULL,
	        "INSERT INTO schedule_runs (run_id, schedule, day, retries) VALUES"
	        " (?, ?, ?, ?)",
	        "ittd", run, link->schedule, link->day, link->retries) == -1)
		goto fail;
	if (link != NULL && link->bisect > 0 &&
	    db_exec(db, NULL,
	        "INSERT"
	        " INTO bisect_steps (bisect_id, step, idx, run_id, runs, why,"
	        " started_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
	        "iiiiiti", link->bisect, link->bisect_step, link->bisect_idx,
	        run, (int64_t)rr->njobs, link->why ? link->why : "",
	        db_now_ms()) == -1)
		goto fail;
	for (i = 0; i < rr->n && rc == 0; i++) {
		sc = rr->sc[i];
		text = json_dumps(sc->body, JSON_COMPACT | JSON_SORT_KEYS);
		rc = db_exec(db, NULL,
		    "INSERT OR IGNORE INTO scenarios (name,"
		    " sha256, body, created_at) VALUES (?, ?, ?, ?)",
		    "ttti", sc->name, sc->sha256, text, db_now_ms());
		free(text);
		if (rc == -1 ||
		    db_int(db, &scen,
		        "SELECT id FROM scenarios"
		        " WHERE sha256 = ?",
		        "t", sc->sha256) != 1)
			goto fail;
		json_array_foreach (rr->cases[i], k, c)
			for (r = 0; r < rr->repeat; r++) {
				matrix = json_dumps(
				    json_object_get(c, "matrix"),
				    JSON_COMPACT | JSON_SORT_KEYS);
				params = json_dumps(
				    json_object_get(c, "params"), JSON_COMPACT);
				failing = json_dumps(
				    json_object_get(
				        json_object_get(c, "expected"),
				        "failing_checks"),
				    JSON_COMPACT);
				rc = db_exec(db, NULL,
				    "INSERT INTO jobs (run_id,"
				    " scenario_id, scenario, case_index, matrix, params,"
				    " priority, state, expected_verdict,"
				    " expected_failing, created_at) VALUES (?, ?, ?, ?,"
				    " ?, ?, ?, 'queued', ?, ?, ?)",
				    "iitittitti", run, scen, sc->name,
				    (int64_t)k, matrix, params,
				    (int64_t)rr->priority,
				    json_string_value(json_object_get(
				        json_object_get(c, "expected"),
				        "verdict")),
				    failing, db_now_ms());
				free(matrix);
				free(params);
				free(failing);
				if (rc == -1)
					goto fail;
			}
	}
	free(request);
	if (db_commit(db) == -1)
		return -1;
	queue_kick(api);
	return run;
fail:
	free(request);
	db_rollback(db);
	return -1;
}

/*
 * A scenario the body names whose file did not load: refused with that
 * file's error rather than "no scenario named".
 */
static int
named_bad(const json_t *body, const json_t *errors, char **cause)
{
	const json_t *names = json_object_get(body, "scenarios"), *e, *one;
	char file[SCENARIO_NAME_MAX + 8];
	json_t *list = json_array();
	size_t i, k;
	int rc = 0;

	if ((one = json_object_get(body, "scenario")) != NULL)
		json_array_append((json_t *)list, (json_t *)one);
	else if (json_is_array(names))
		json_array_extend(list, (json_t *)names);
	json_array_foreach (list, i, one) {
		if (!json_is_string(one))
			continue;
		snprintf(
		    file, sizeof(file), "%.64s.json", json_string_value(one));
		json_array_foreach (errors, k, e) {
			if (rc == 0 &&
			    strcmp(
			        json_string_value(json_object_get(e, "file")),
			        file) == 0) {
				wf_set_cause(cause,
				    "scenario '%s' is left out: its"
				    " file does not load: %s",
				    json_string_value(one),
				    json_string_value(
				        json_object_get(e, "message")));
				rc = -1;
			}
		}
	}
	json_decref(list);
	return rc;
}

/* The scenario directory, file by file; each bad file logged. */
int
runs_scenarios(struct api *api, struct scenario ***all, size_t *n,
    json_t **errors, char **cause)
{
	const json_t *e;
	size_t i;

	*errors = json_array();
	if (scenario_load_dir_errors(
	        api->cfg->scenario_dir, all, n, *errors, cause) == -1)
		return -1;
	json_array_foreach (*errors, i, e)
		log_warnx("scenarios: %s left out: %s",
		    json_string_value(json_object_get(e, "file")),
		    json_string_value(json_object_get(e, "message")));
	return 0;
}

int64_t
runs_create(struct api *api, const json_t *body, const struct run_link *link,
    int store, json_t **reply, char **cause)
{
	struct scenario **all = NULL;
	struct run_req rr;
	json_t *errors = NULL, *krefs = NULL, *kinfo = NULL;
	char *why = NULL, *left = NULL;
	size_t nall = 0;
	int64_t run = -1;
	int matrix, rc;

	*reply = NULL;
	if (run_req_check(body, &rr, cause) == -1)
		return -1;
	if (runs_scenarios(api, &all, &nall, &errors, &why) == -1) {
		log_warnx("%s", wf_cause_str(why));
		wf_set_cause(cause, "scenarios: %s", wf_cause_str(why));
		run = -2;
		goto out;
	}
	if ((rc = kernels_resolve(api, json_object_get(body, "kernels"), &krefs,
	         &kinfo, cause)) != 0) {
		run = rc == -2 ? -2 : -1;
		goto out;
	}
	rr.kernels = krefs;
	rr.kernel_info = kinfo;
	if (named_bad(body, errors, cause) == -1 ||
	    run_req_expand(body, all, nall, &rr, cause) == -1)
		goto out;
	/* Only the nightly matrix takes every file: it says what it missed. */
	matrix = json_object_get(body, "matrix") != NULL;
	if (!matrix)
		json_array_clear(errors);
	left = json_dumps(errors, JSON_COMPACT);
	if (!store) {
		run = 0;
	} else {
		db_lock(api->db);
		run = store_run(api, body, &rr, link, left);
		db_unlock(api->db);
		if (run == -1) {
			wf_set_cause(cause,
			    "database error (see the"
			    " controller's log)");
			run = -2;
			goto out;
		}
		log_info("run %lld: %zu jobs (%s)", (long long)run, rr.njobs,
		    rr.kind);
		if (json_array_size(errors) > 0)
			log_warnx("run %lld: %zu scenario files left out",
			    (long long)run, json_array_size(errors));
	}
	*reply = json_pack("{s:I, s:I, s:s}", "run", (json_int_t)run, "jobs",
	    (json_int_t)rr.njobs, "kind", rr.kind);
	if (matrix)
		json_object_set(*reply, "left_out", errors);
out:
	run_req_free(&rr);
	scenario_list_free(all, nall);
	json_decref(errors);
	json_decref(krefs);
	json_decref(kinfo);
	free(left);
	free(why);
	return run;
}

void
api_runs_submit(struct req *r, struct reply *out)
{
	json_t *body, *reply = NULL;
	char *cause = NULL;
	int64_t run;

	if (req_submit_allowed(r, out) == -1 ||
	    (body = req_body_object(r, out)) == NULL)
		return;
	run = runs_create(r->api, body, NULL, 1, &reply, &cause);
	if (run >= 0)
		reply_json(out, 201, reply);
	else if (run == -2 && db_failed_full())
		reply_db_full(out);
	else
		reply_error(
		    out, run == -2 ? 500 : 400, "%s", wf_cause_str(cause));
	json_decref(body);
	free(cause);
}

void
api_scenarios_list(struct req *r, struct reply *out)
{
	struct scenario **all = NULL;
	json_t *list = json_array(), *cases, *errors = NULL;
	char *cause = NULL;
	size_t n = 0, i;

	if (runs_scenarios(r->api, &all, &n, &errors, &cause) == -1) {
		reply_error(out, 500, "scenarios: %s", wf_cause_str(cause));
		json_decref(list);
		json_decref(errors);
		free(cause);
		return;
	}
	for (i = 0; i < n; i++) {
		cases = scenario_expand(all[i], NULL);
		json_array_append_new(list,
		    json_pack("{s:s, s:s, s:b, s:I,"
		              " s:O}",
		        "name", all[i]->name, "sha256", all[i]->sha256,
		        "nightly", all[i]->nightly, "cases",
		        (json_int_t)json_array_size(cases), "scenario",
		        all[i]->body));
		json_decref(cases);
	}
	scenario_list_free(all, n);
	reply_json(out, 200,
	    json_pack("{s:o, s:o}", "scenarios", list, "errors", errors));
}

/* bisect: the bisect a run of kind bisect is a step of (else null). */
#define RUN_COLUMNS                                                          \
	"id, kind, state, priority, created_at, finished_at,"                \
	" jobs_total, jobs_done, jobs_as_expected, jobs_unexpected, (SELECT" \
	" bisect_id FROM bisect_steps WHERE run_id = runs.id LIMIT 1) AS bisect"

/*
 * Filters: kind, state, verdict (some job has it), scenario (some job runs
 * it), since/until (created_at, ms, [since, until)). Each applied filter is
 * echoed in "filters".
 */
#define RUNS_WHERE                                                              \
	" WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR"                   \
	" state = ?2) AND (?3 IS NULL OR EXISTS (SELECT 1 FROM jobs j WHERE"    \
	" j.run_id = runs.id AND j.verdict = ?3)) AND (?4 IS NULL OR EXISTS"    \
	" (SELECT 1 FROM jobs j WHERE j.run_id = runs.id AND j.scenario = ?4))" \
	" AND created_at >= ?5 AND created_at < ?6"

void
api_runs_list(struct req *r, struct reply *out)
{
	static const char *const names[] = { "kind", "state", "verdict",
		"scenario", NULL };
	const char *f[4];
	int64_t limit, offset, since, until, total = 0;
	json_t *rows, *filters = json_object();
	int i;

	for (i = 0; names[i] != NULL; i++) {
		if ((f[i] = req_arg(r, names[i])) != NULL)
			json_object_set_new(
			    filters, names[i], json_string(f[i]));
	}
	if (req_arg_int(r, "limit", 1, 500, 50, &limit, out) == -1 ||
	    req_arg_int(r, "offset", 0, INT32_MAX, 0, &offset, out) == -1 ||
	    req_arg_int(r, "since", 0, INT64_MAX, 0, &since, out) == -1 ||
	    req_arg_int(r, "until", 0, INT64_MAX, INT64_MAX, &until, out) ==
	        -1) {
		json_decref(filters);
		return;
	}
	if (req_arg(r, "since") != NULL)
		json_object_set_new(filters, "since", json_integer(since));
	if (req_arg(r, "until") != NULL)
		json_object_set_new(filters, "until", json_integer(until));
	db_lock(r->api->db);
	rows = db_rows(r->api->db,
	    "SELECT " RUN_COLUMNS " FROM runs" RUNS_WHERE
	    " ORDER BY id DESC LIMIT ?7 OFFSET ?8",
	    "ttttiiii", f[0], f[1], f[2], f[3], since, until, limit, offset);
	if (rows != NULL &&
	    db_int(r->api->db, &total,
	        "SELECT count(*) FROM"
	        " runs" RUNS_WHERE,
	        "ttttii", f[0], f[1], f[2], f[3], since, until) == -1) {
		json_decref(rows);
		rows = NULL;
	}
	db_unlock(r->api->db);
	if (rows == NULL) {
		json_decref(filters);
		reply_db_error(out);
		return;
	}
	reply_json(out, 200,
	    json_pack("{s:o, s:I, s:I, s:I, s:o}", "runs", rows, "total",
	        (json_int_t)total, "limit", (json_int_t)limit, "offset",
	        (json_int_t)offset, "filters", filters));
}

/* The run row (json_null() when absent, NULL on error). Caller locks. */
static json_t *
run_row(struct db *db, int64_t id)
{
	return db_row(db,
	    "SELECT " RUN_COLUMNS ", request AS"
	    " \"request:json\", left_out AS \"left_out:json\" FROM runs"
	    " WHERE id = ?",
	    "i", id);
}

#define JOB_SUMMARY                                                       \
	"id, scenario, case_index, matrix AS \"matrix:json\","            \
	" state, attempt, verdict, expected_verdict, expected_failing AS" \
	" \"expected_failing:json\", failing AS \"failing:json\","        \
	" as_expected, reason"

void
api_run_get(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out);
	json_t *run, *jobs = NULL;

	if (id == -1)
		return;
	db_lock(r->api->db);
	if ((run = run_row(r->api->db, id)) != NULL && !json_is_null(run))
		jobs = db_rows(r->api->db,
		    "SELECT " JOB_SUMMARY " FROM jobs"
		    " WHERE run_id = ? ORDER BY id",
		    "i", id);
	if (jobs != NULL && regress_mark_known(r->api->db, jobs) == -1) {
		json_decref(jobs);
		jobs = NULL;
	}
	db_unlock(r->api->db);
	if (run == NULL || (!json_is_null(run) && jobs == NULL))
		reply_db_error(out);
	else if (json_is_null(run))
		reply_error(out, 404, "no run %lld", (long long)id);
	else
		reply_json(out, 200,
		    json_pack("{s:O, s:O}", "run", run, "jobs", jobs));
	json_decref(run);
	json_decref(jobs);
}

void
api_run_matrix(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out);
	json_t *run, *jobs = NULL, *groups, *g = NULL, *job;
	const char *last = "";
	size_t i;

	if (id == -1)
		return;
	db_lock(r->api->db);
	if ((run = run_row(r->api->db, id)) != NULL && !json_is_null(run))
		jobs = db_rows(r->api->db,
		    "SELECT " JOB_SUMMARY ", params AS"
		    " \"params:json\" FROM jobs WHERE run_id = ? ORDER BY"
		    " scenario, case_index",
		    "i", id);
	if (jobs != NULL && regress_mark_known(r->api->db, jobs) == -1) {
		json_decref(jobs);
		jobs = NULL;
	}
	db_unlock(r->api->db);
	if (run == NULL || (!json_is_null(run) && jobs == NULL)) {
		reply_db_error(out);
		goto out;
	}
	if (json_is_null(run)) {
		reply_error(out, 404, "no run %lld", (long long)id);
		goto out;
	}
	groups = json_array();
	json_array_foreach (jobs, i, job) {
		const char *name = json_string_value(
		    json_object_get(job, "scenario"));

		if (g == NULL || strcmp(name, last) != 0) {
			g = json_pack("{s:s, s:o, s:[]}", "scenario", name,
			    "axes", json_array(), "cases");
			json_array_append_new(groups, g);
			{
				const char *axis;
				json_t *v;

				json_object_foreach (
				    json_object_get(job, "matrix"), axis, v)
					json_array_append_new(
					    json_object_get(g, "axes"),
					    json_string(axis));
			}
			last = name;
		}
		json_array_append(json_object_get(g, "cases"), job);
	}
	reply_json(out, 200,
	    json_pack("{s:I, s:O, s:o}", "run", (json_int_t)id, "summary", run,
	        "scenarios", groups));
out:
	json_decref(run);
	json_decref(jobs);
}

int
runs_cancel(struct db *db, int64_t id, int *changes)
{
	if (db_exec(db, changes,
	        "UPDATE jobs SET state = 'cancelled',"
	        " lease_expires = NULL, finished_at = ? WHERE run_id = ? AND state"
	        " IN ('queued', 'leased', 'running')",
	        "ii", db_now_ms(), id) == -1 ||
	    db_exec(db, NULL,
	        "UPDATE runs SET state = 'cancelled', finished_at"
	        " = ? WHERE id = ? AND state IN ('queued', 'running')",
	        "ii", db_now_ms(), id) == -1)
		return -1;
	return queue_run_refresh(db, id);
}

void
api_run_cancel(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out), exists = 0;
	struct db *db = r->api->db;
	int changes = 0, rc;

	if (id == -1)
		return;
	db_lock(db);
	rc = db_int(
	    db, &exists, "SELECT count(*) FROM runs WHERE id = ?", "i", id);
	if (rc == 1 && exists) {
		if (db_begin(db) == -1 || runs_cancel(db, id, &changes) == -1 ||
		    db_commit(db) == -1) {
			db_rollback(db);
			rc = -1;
		}
	}
	db_unlock(db);
	if (rc == -1)
		reply_db_error(out);
	else if (!exists)
		reply_error(out, 404, "no run %lld", (long long)id);
	else
		reply_json(out, 200,
		    json_pack("{s:I, s:i}", "run", (json_int_t)id,
		        "cancelled_jobs", changes));
}
