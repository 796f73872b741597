/*
 * bisect_worker.c: the bisect worker thread (bisect_worker.h): takes each
 * running bisect one step further.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "bisect.h"
#include "bisect_req.h"
#include "bisect_worker.h"
#include "bisect_build.h"
#include "buf.h"
#include "db.h"
#include "flags.h"
#include "json.h"
#include "log.h"
#include "proc.h"
#include "runspec.h"
#include "ticker.h"
#include "util.h"

#define BISECT_TICK_MS 1000
#define BUILD_LOG_CAP (1u << 20)

struct bisect_worker {
	struct api *api;
	struct ticker *ticker;
	int stopping; /* a build cut short is not stored */
};

/* ---- the worker ------------------------------------------------------ */

/* The candidates' state as lib/bisect sees it (db locked); NULL on error. */
static struct bisect_cand *
load_cands(struct db *db, int64_t id, int *n)
{
	json_t *rows = db_rows(db,
	    "SELECT verdict, runs, fails, infra, build"
	    " FROM bisect_candidates WHERE bisect_id = ? ORDER BY idx",
	    "i", id);
	struct bisect_cand *c;
	json_t *row;
	size_t i;

	if (rows == NULL)
		return NULL;
	*n = (int)json_array_size(rows);
	if ((c = calloc(*n ? *n : 1, sizeof(*c))) == NULL) {
		json_decref(rows);
		return NULL;
	}
	json_array_foreach (rows, i, row) {
		int v = bisect_verdict_parse(
		    json_string_value(json_object_get(row, "verdict")));

		c[i].verdict = v < 0 ? BISECT_UNTESTED : v;
		c[i].runs = (int)json_integer_value(
		    json_object_get(row, "runs"));
		c[i].fails = (int)json_integer_value(
		    json_object_get(row, "fails"));
		c[i].infra = (int)json_integer_value(
		    json_object_get(row, "infra"));
		c[i].build_failed = strcmp(json_string_value(
		                               json_object_get(row, "build")),
		                        "failed") == 0;
	}
	json_decref(rows);
	return c;
}

static struct bisect_cfg
req_cfg(const json_t *req)
{
	struct bisect_cfg cfg = {
		(int)json_integer_value(json_object_get(req, "repeat")),
		(int)json_integer_value(json_object_get(req, "threshold")),
		(int)json_integer_value(json_object_get(req, "max_runs")),
		json_real_value(json_object_get(req, "confidence")),
	};

	bisect_cfg_check(&cfg, NULL);
	return cfg;
}

static int
save_verdict(struct db *db, int64_t id, int idx, const struct bisect_cand *c)
{
	return db_exec(db, NULL,
	    "UPDATE bisect_candidates SET verdict = ?"
	    " WHERE bisect_id = ? AND idx = ?",
	    "tid", bisect_verdict_name(c->verdict), id, idx);
}

/*
 * The open step's run has ended: its outcomes go to the candidate (db
 * locked, in a transaction). 0, 1 when the run is still going, -1.
 */
static int
close_step(struct db *db, int64_t id, const json_t *req, const json_t *open)
{
	int64_t step = json_integer_value(json_object_get(open, "step"));
	int idx = (int)json_integer_value(json_object_get(open, "idx"));
	int64_t run = json_integer_value(json_object_get(open, "run_id"));
	int pass = 0, fail = 0, infra = 0, n, rc = -1;
	struct bisect b = { .cfg = req_cfg(req) };
	json_t *jobs, *j;
	int64_t done = 0;
	size_t i;

	if (db_int(db, &done,
	        "SELECT state IN ('done', 'cancelled') FROM runs"
	        " WHERE id = ?",
	        "i", run) != 1)
		return -1;
	if (!done)
		return 1;
	if ((jobs = db_rows(db,
	         "SELECT state, verdict, as_expected FROM jobs"
	         " WHERE run_id = ?",
	         "i", run)) == NULL)
		return -1;
	json_array_foreach (jobs, i, j) {
		const char *v = json_string_value(
		    json_object_get(j, "verdict"));

		if (strcmp(json_string_value(json_object_get(j, "state")),
		        "done") != 0 ||
		    v == NULL || strcmp(v, "infra") == 0)
			infra++;
		else if (json_integer_value(json_object_get(j, "as_expected")))
			pass++;
		else
			fail++;
	}
	json_decref(jobs);
	if ((b.c = load_cands(db, id, &n)) == NULL || idx < 0 || idx >= n)
		goto out;
	b.n = n;
	b.c[idx].runs += pass + fail;
	b.c[idx].fails += fail;
	b.c[idx].infra += infra;
	bisect_judge(&b, idx);
	if (db_exec(db, NULL,
	        "UPDATE bisect_candidates SET runs = ?, fails ="
	        " ?, infra = ? WHERE bisect_id = ? AND idx = ?",
	        "dddid", b.c[idx].runs, b.c[idx].fails, b.c[idx].infra, id,
	        idx) == -1 ||
	    save_verdict(db, id, idx, &b.c[idx]) == -1 ||
	    db_exec(db, NULL,
	        "UPDATE bisect_steps SET passes = ?, fails = ?,"
	        " infra = ?, verdict = ?, finished_at = ? WHERE bisect_id = ? AND"
	        " step = ?",
	        "dddtiii", pass, fail, infra,
	        bisect_verdict_name(b.c[idx].verdict), db_now_ms(), id,
	        step) == -1)
		goto out;
	log_info("bisect %lld: step %lld, candidate %d: %d passed, %d failed,"
	         " %d infra: %s",
	    (long long)id, (long long)step, idx, pass, fail, infra,
	    bisect_verdict_name(b.c[idx].verdict));
	rc = 0;
out:
	free(b.c);
	return rc;
}

static void
finish_bisect(struct db *db, int64_t id, const struct bisect *b,
    const struct bisect_next *next)
{
	if (db_exec(db, NULL,
	        "UPDATE bisects SET state = ?, finished_at = ?,"
	        " first_bad = ?, last_good = ?, confidence = ?, flake_rate = ?,"
	        " message = ? WHERE id = ? AND state = 'running'",
	        "tiiiffti", next->what == BISECT_DONE ? "done" : "failed",
	        db_now_ms(), (int64_t)next->first_bad, (int64_t)next->last_good,
	        next->confidence, bisect_flake_rate(b), next->why, id) == -1)
		log_warnx(
		    "bisect %lld: could not store its end", (long long)id);
	else
		log_info("bisect %lld: %s: %s (confidence %.3f)", (long long)id,
		    next->what == BISECT_DONE ? "done" : "failed", next->why,
		    next->confidence);
}

/*
 * Builds candidate idx (no lock held): stores the log, the blob or the
 * failure. 0 built, 1 build failed, -1 could not try (*why says), -2
 * stopped by a shutdown (nothing stored).
 */
static int
build_candidate(struct api *api, int64_t id, int idx, const json_t *req,
    const char *rev, char *why, size_t whysize)
{
	const json_t *argvj = json_object_get(req, "build"), *v;
	const char *argv[66];
	char dir[PATH_MAX], art[PATH_MAX * 2], hex[65] = "";
	struct wf_buf log;
	char *cause = NULL;
	size_t i;
	int rc;

	json_array_foreach (argvj, i, v)
		argv[i] = json_string_value(v);
	argv[json_array_size(argvj)] = NULL;
	snprintf(dir, sizeof(dir), "%s/%lld-%d", api->cfg->build_dir,
	    (long long)id, idx);
	mkdir(api->cfg->build_dir, 0755);
	bisect_build_remove(dir);
	wf_buf_init(&log, BUILD_LOG_CAP);
	log_info("bisect %lld: building candidate %d (%.12s)", (long long)id,
	    idx, rev);
	rc = bisect_build_rev(json_string_value(json_object_get(req, "repo")),
	    rev, dir, argv,
	    (int)json_integer_value(json_object_get(req, "build_timeout_s")),
	    json_string_value(json_object_get(req, "artifact")), &log, &cause);
	if (__atomic_load_n(&api->bisect_worker->stopping, __ATOMIC_ACQUIRE)) {
		/* cut short by a shutdown: built again after the restart */
		bisect_build_remove(dir);
		wf_buf_free(&log);
		free(cause);
		return -2;
	}
	if (rc == 0) {
		snprintf(art, sizeof(art), "%s/%s", dir,
		    json_string_value(json_object_get(req, "artifact")));
		if (bisect_build_blob_put(
		        api->cfg->blob_dir, art, hex, &cause) == -1)
			rc = -1;
	}
	if (rc == -1)
		snprintf(why, whysize, "building %.12s: %s", rev,
		    wf_cause_str(cause));
	db_lock(api->db);
	if (db_exec(api->db, NULL,
	        "UPDATE bisect_candidates SET build = ?,"
	        " build_log = ?, blob = ? WHERE bisect_id = ? AND idx = ?",
	        "tttid", rc == 0 ? "ok" : "failed",
	        rc == -1 ? wf_cause_str(cause) : wf_buf_str(&log),
	        rc == 0 ? hex : NULL, id, idx) == -1 &&
	    rc == 0)
		rc = -1;
	db_unlock(api->db);
	bisect_build_remove(dir);
	wf_buf_free(&log);
	free(cause);
	return rc;
}

/* The run of one step: the scenario, its fixed set, the candidate's OS. */
static int64_t
submit_step(struct api *api, int64_t id, int64_t step, int idx,
    const json_t *req, const json_t *cand, int runs, const char *why)
{
	json_t *set = json_deep_copy(json_object_get(req, "set")), *body,
	       *reply = NULL;
	struct run_link link = {
		.bisect = id, .bisect_step = step, .bisect_idx = idx, .why = why
	};
	const char *rev = json_string_value(json_object_get(cand, "rev"));
	char ref[80], *cause = NULL;
	int64_t run;

	if (strcmp(json_string_value(json_object_get(req, "mode")), "git") ==
	    0) {
		snprintf(ref, sizeof(ref), RUNSPEC_BLOB_PREFIX "%s",
		    json_string_value(json_object_get(cand, "blob")));
		json_object_set_new(set, "test_kernel", json_string(ref));
	} else if (strcmp(json_string_value(json_object_get(req, "kind")),
	               "linux") == 0) {
		json_object_set_new(set, "kernel", json_string(rev));
	} else {
		json_object_set_new(set, "test_kernel", json_string(rev));
	}
	body = json_pack("{s:s, s:o, s:s, s:i, s:O}", "scenario",
	    json_string_value(json_object_get(req, "scenario")), "set", set,
	    "kind", "bisect", "repeat", runs, "priority",
	    json_object_get(req, "priority"));
	run = runs_create(api, body, &link, 1, &reply, &cause);
	if (run < 0)
		log_warnx("bisect %lld: step %lld: %s", (long long)id,
		    (long long)step, wf_cause_str(cause));
	json_decref(body);
	json_decref(reply);
	free(cause);
	return run;
}

static void
fail_bisect(struct db *db, int64_t id, const char *why)
{
	db_lock(db);
	db_exec(db, NULL,
	    "UPDATE bisects SET state = 'failed', finished_at ="
	    " ?, message = ? WHERE id = ? AND state = 'running'",
	    "iti", db_now_ms(), why, id);
	db_unlock(db);
	log_warnx("bisect %lld: failed: %s", (long long)id, why);
}

/*
 * The bisect's open step, if any, closed when its run has finished (db
 * locked): 0 when no step is open any more, 1 while it runs, -1 on an
 * error.
 */
static int
close_open_step(struct db *db, int64_t id, const json_t *req)
{
	json_t *open;
	int rc = 0;

	open = db_row(db,
	    "SELECT step, idx, run_id FROM bisect_steps"
	    " WHERE bisect_id = ? AND finished_at IS NULL",
	    "i", id);
	if (open == NULL)
		return -1;
	if (json_is_object(open)) {
		if (db_begin(db) == -1) {
			rc = -1;
		} else if ((rc = close_step(db, id, req, open)) == 0) {
			if (db_commit(db) == -1)
				rc = -1;
		} else {
			db_rollback(db);
		}
	}
	json_decref(open);
	return rc;
}

/* Candidate idx did not build: a skip, and a step saying so; 0 or -1. */
static int
build_failed(struct db *db, int64_t id, int64_t step, int idx, struct bisect *b)
{
	int rc;

	db_lock(db);
	b->c[idx].verdict = BISECT_SKIP;
	b->c[idx].build_failed = 1;
	rc = save_verdict(db, id, idx, &b->c[idx]);
	if (rc == 0)
		rc = db_exec(db, NULL,
		    "INSERT INTO bisect_steps (bisect_id, step, idx, verdict, why,"
		    " started_at, finished_at) VALUES (?, ?, ?, 'skip', 'the build"
		    " failed', ?, ?)",
		    "iidii", id, step, idx, db_now_ms(), db_now_ms());
	db_unlock(db);
	return rc;
}

/* One bisect as far as it goes now (no lock held on entry). */
static void
advance(struct api *api, int64_t id, const json_t *req)
{
	struct db *db = api->db;
	struct bisect b = { .cfg = req_cfg(req) };
	struct bisect_next next;
	json_t *cand = NULL;
	int64_t step = 0, run;
	char why[512];
	int rc;

	for (int round = 0; round < 8; round++) {
		db_lock(db);
		if (close_open_step(db, id, req) != 0) {
			db_unlock(db);
			return; /* still running, or an error */
		}
		free(b.c);
		b.c = load_cands(db, id, &b.n);
		if (b.c == NULL ||
		    db_int(db, &step,
		        "SELECT count(*) + 1 FROM"
		        " bisect_steps WHERE bisect_id = ?",
		        "i", id) != 1) {
			db_unlock(db);
			break;
		}
		bisect_next(&b, &next);
		if (next.what != BISECT_TEST) {
			finish_bisect(db, id, &b, &next);
			db_unlock(db);
			break;
		}
		cand = db_row(db,
		    "SELECT rev, build, blob FROM bisect_candidates"
		    " WHERE bisect_id = ? AND idx = ?",
		    "id", id, next.idx);
		db_unlock(db);
		if (cand == NULL || !json_is_object(cand))
			break;
		if (strcmp(json_string_value(json_object_get(req, "mode")),
		        "git") == 0 &&
		    strcmp(json_string_value(json_object_get(cand, "build")),
		        "none") == 0) {
			rc = build_candidate(api, id, next.idx, req,
			    json_string_value(json_object_get(cand, "rev")),
			    why, sizeof(why));
			if (rc == -2)
				break;
			if (rc == -1 && (db_failed_full() || db_full(db)))
				break; /* tried again once there is room */
			if (rc == -1) {
				fail_bisect(db, id, why);
				break;
			}
			json_decref(cand);
			cand = NULL;
			if (rc == 1 &&
			    build_failed(db, id, step, next.idx, &b) == -1)
				break;
			continue; /* built: look again (cancelled?) */
		}
		run = submit_step(
		    api, id, step, next.idx, req, cand, next.runs, next.why);
		if (run < 0 && (db_failed_full() || db_full(db))) {
			/* not the bisect's fault: the next tick tries again */
		} else if (run < 0) {
			fail_bisect(db, id,
			    "could not submit a step's run (see"
			    " the controller's log)");
		} else {
			int64_t running = 0;

			/* cancelled while this step was being submitted */
			db_lock(db);
			if (db_int(db, &running,
			        "SELECT state = 'running' FROM"
			        " bisects WHERE id = ?",
			        "i", id) == 1 &&
			    !running && db_begin(db) == 0) {
				if (runs_cancel(db, run, NULL) == -1 ||
				    db_commit(db) == -1)
					db_rollback(db);
			}
			db_unlock(db);
		}
		break;
	}
	json_decref(cand);
	free(b.c);
}

static void
tick(struct api *api)
{
	json_t *rows, *row;
	size_t i;

	/* Each step stores something: nothing to do while the disk is full. */
	if (db_full(api->db))
		return;
	db_error_clear();
	db_lock(api->db);
	rows = db_rows(api->db,
	    "SELECT id, request AS \"request:json\" FROM"
	    " bisects WHERE state = 'running' ORDER BY id",
	    "");
	db_unlock(api->db);
	json_array_foreach (rows, i, row)
		advance(api, json_integer_value(json_object_get(row, "id")),
		    json_object_get(row, "request"));
	json_decref(rows);
}

static void
worker(void *arg)
{
	tick(arg);
}

struct bisect_worker *
bisect_worker_start(struct api *api)
{
	struct bisect_worker *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->api = api;
	api->bisect_worker = b;
	if ((b->ticker = ticker_start(worker, api, BISECT_TICK_MS)) == NULL) {
		api->bisect_worker = NULL;
		free(b);
		return NULL;
	}
	return b;
}

void
bisect_worker_kick(struct api *api)
{
	if (api->bisect_worker != NULL && api->bisect_worker->ticker != NULL)
		ticker_kick(api->bisect_worker->ticker);
}

void
bisect_worker_stop(struct bisect_worker *b)
{
	if (b == NULL)
		return;
	__atomic_store_n(&b->stopping, 1, __ATOMIC_RELEASE);
	wf_proc_abort_all(); /* a build under way ends now */
	ticker_stop(b->ticker);
	b->api->bisect_worker = NULL;
	free(b);
}
