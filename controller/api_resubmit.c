/*
 * api_resubmit.c: POST /api/v1/runs/{id}/resubmit: a new run of a run's
 * cases, every one or ({"failed": true}) those that finished not as
 * expected, each with the same scenario body, parameters and
 * expectations (an ad hoc run; `wakefarm resubmit [--failed] RUN`).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "json.h"
#include "log.h"
#include "queue.h"
#include "util.h"

#define RESUBMIT_WHERE                                          \
	" WHERE run_id = ?1 AND (?2 = 0 OR (state = 'done' AND" \
	" as_expected = 0)) ORDER BY id"

/* The new run (db locked); 0 when no job matches, -1 on error. */
static int64_t
resubmit(struct db *db, int64_t id, int failed, int64_t *njobs)
{
	json_t *request = json_pack(
	    "{s:I, s:b}", "resubmit", (json_int_t)id, "failed", failed);
	char *text = json_dumps(request, JSON_COMPACT);
	int64_t run = -1, prio = 0;

	json_decref(request);
	if (db_int(db, njobs, "SELECT count(*) FROM jobs" RESUBMIT_WHERE, "id",
	        id, failed) != 1 ||
	    db_int(db, &prio, "SELECT priority FROM runs WHERE id = ?", "i",
	        id) != 1) {
		free(text);
		return -1;
	}
	if (*njobs == 0) {
		free(text);
		return 0;
	}
	if (db_begin(db) == -1 ||
	    db_exec(db, NULL,
	        "INSERT INTO runs (kind, state, priority, request, created_at,"
	        " jobs_total) VALUES ('adhoc', 'queued', ?, ?, ?, ?)",
	        "itii", prio, text, db_now_ms(), *njobs) == -1 ||
	    (run = db_last_id(db)) <= 0 ||
	    db_exec(db, NULL,
	        "INSERT INTO jobs (run_id, scenario_id, scenario, case_index,"
	        " matrix, params, priority, state, expected_verdict,"
	        " expected_failing, created_at) SELECT ?3, scenario_id,"
	        " scenario, case_index, matrix, params, ?4, 'queued',"
	        " expected_verdict, expected_failing, ?5 FROM jobs" RESUBMIT_WHERE,
	        "idiii", id, failed, run, prio, db_now_ms()) == -1 ||
	    db_commit(db) == -1) {
		db_rollback(db);
		run = -1;
	}
	free(text);
	return run;
}

void
api_run_resubmit(struct req *r, struct reply *out)
{
	static const char *const keys[] = { "failed", NULL };
	int64_t id = req_id(r, 3, out), exists = 0, run = -1, njobs = 0;
	json_t *body = NULL;
	char *cause = NULL;
	int failed = 0, rc;

	if (id == -1 || req_submit_allowed(r, out) == -1)
		return;
	body = r->body.len == 0 ? json_object() : req_body_object(r, out);
	if (body == NULL)
		return;
	if (wf_json_check_keys(body, keys, &cause) == -1 ||
	    wf_json_get_bool(body, "failed", 0, &failed, &cause) == -1) {
		reply_error(out, 400, "%s", wf_cause_str(cause));
		goto out;
	}
	db_lock(r->api->db);
	rc = db_int(r->api->db, &exists,
	    "SELECT count(*) FROM runs WHERE id = ?", "i", id);
	if (rc == 1 && exists)
		run = resubmit(r->api->db, id, failed, &njobs);
	db_unlock(r->api->db);
	if (rc != 1 || (exists && run == -1)) {
		reply_db_error(out);
	} else if (!exists) {
		reply_error(out, 404, "no run %lld", (long long)id);
	} else if (run == 0) {
		reply_error(out, 409, "run %lld has no %s to run again",
		    (long long)id,
		    failed ? "finished job that was not as expected" : "job");
	} else {
		queue_kick(r->api);
		log_info("run %lld: %lld jobs of run %lld again%s",
		    (long long)run, (long long)njobs, (long long)id,
		    failed ? " (those not as expected)" : "");
		reply_json(out, 201,
		    json_pack("{s:I, s:I, s:s, s:I}", "run", (json_int_t)run,
		        "jobs", (json_int_t)njobs, "kind", "adhoc",
		        "resubmit_of", (json_int_t)id));
	}
out:
	json_decref(body);
	free(cause);
}
