/*
 * bisector.c: bisects through the agents (see bisector.h).
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
#include "bisector.h"
#include "build.h"
#include "buf.h"
#include "db.h"
#include "flags.h"
#include "json.h"
#include "log.h"
#include "proc.h"
#include "runspec.h"
#include "ticker.h"
#include "util.h"

#define BISECT_TICK_MS		1000
#define CTL_CANDIDATES_MAX	20000
#define BUILD_LOG_CAP		(1u << 20)
#define BLOB_MAX		(256u << 20)

struct bisector {
	struct api	*api;
	struct ticker	*ticker;
	int		 stopping;	/* a build cut short is not stored */
};

/* ---- creating -------------------------------------------------------- */

/*
 * A git bisect runs its build command on this host: only for repositories
 * below the root the admin named (--bisect-repo-root), symbolic links
 * resolved.
 */
static int
repo_allowed(struct api *api, const char *repo, char **cause)
{
	const char *root = api->cfg->bisect_repo_root;
	char real[PATH_MAX], rroot[PATH_MAX];
	size_t n;

	if (root == NULL) {
		wf_set_cause(cause, "git bisects are off on this controller (it"
		    " runs their build commands): start it with"
		    " --bisect-repo-root DIR, or bisect --artifacts");
		return -1;
	}
	if (realpath(repo, real) == NULL || realpath(root, rroot) == NULL ||
	    strncmp(real, rroot, (n = strlen(rroot))) != 0 ||
	    (real[n] != '/' && real[n] != '\0' && strcmp(rroot, "/") != 0)) {
		wf_set_cause(cause, "key 'repo': '%.200s' is not below the"
		    " controller's --bisect-repo-root", repo);
		return -1;
	}
	return 0;
}

/*
 * The normalised request (bisect_req.h), once what it names exists here: the
 * repository below the root, the scenario with its fixed parameters as
 * exactly one case. Returns it (new), or NULL with a cause.
 */
static json_t *
parse_request(struct api *api, const json_t *body, struct bisect_cfg *cfg,
    char **cause)
{
	json_t *req, *probe, *reply = NULL;
	const char *repo;
	json_int_t jobs;
	struct stat st;

	if ((req = bisect_req_parse(body, cfg, cause)) == NULL)
		return NULL;
	if ((repo = json_string_value(json_object_get(req, "repo"))) != NULL) {
		if (stat(repo, &st) == -1 || !S_ISDIR(st.st_mode)) {
			wf_set_cause(cause, "key 'repo': '%.200s' is not an"
			    " absolute path to a directory on the controller's"
			    " host", repo);
			goto fail;
		}
		if (repo_allowed(api, repo, cause) == -1)
			goto fail;
	}
	probe = json_pack("{s:O, s:O, s:s}", "scenario", json_object_get(req,
	    "scenario"), "set", json_object_get(req, "set"), "kind", "bisect");
	if (runs_create(api, probe, NULL, 0, &reply, cause) < 0) {
		json_decref(probe);
		goto fail;
	}
	json_decref(probe);
	jobs = json_integer_value(json_object_get(reply, "jobs"));
	json_decref(reply);
	if (jobs != 1) {
		wf_set_cause(cause, "a bisect runs one case, and %s expands to"
		    " %lld: fix every axis with 'set'", json_string_value(
		    json_object_get(req, "scenario")), (long long)jobs);
		goto fail;
	}
	return req;
fail:
	json_decref(req);
	return NULL;
}

void
api_bisects_create(struct req *r, struct reply *out)
{
	struct db *db = r->api->db;
	struct bisect_cfg cfg;
	struct wf_rev *revs = NULL;
	json_t *body, *req, *arts, *v, *reg;
	char *cause = NULL, *text = NULL;
	int n = 0, i, rc = 0;
	int64_t id = -1;
	size_t k;

	if (req_submit_allowed(r, out) == -1 ||
	    (body = req_body_object(r, out)) == NULL)
		return;
	if ((req = parse_request(r->api, body, &cfg, &cause)) == NULL) {
		reply_error(out, 400, "%s", wf_cause_str(cause));
		goto out;
	}
	arts = json_object_get(req, "artifacts");
	if (arts == NULL && wf_git_candidates(json_string_value(
	    json_object_get(req, "repo")), json_string_value(json_object_get(req,
	    "good")), json_string_value(json_object_get(req, "bad")),
	    CTL_CANDIDATES_MAX, &revs, &n, &cause) == -1) {
		reply_error(out, 400, "%s", wf_cause_str(cause));
		goto out;
	}
	text = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
	db_lock(db);
	reg = json_object_get(req, "regression");
	if (db_begin(db) == -1 || db_exec(db, NULL, "INSERT INTO bisects"
	    " (state, scenario, request, created_at) VALUES ('running', ?, ?,"
	    " ?)", "tti", json_string_value(json_object_get(req, "scenario")),
	    text, db_now_ms()) == -1) {
		rc = -1;
	} else {
		id = db_last_id(db);
		/* "bisect this": the run must exist (a foreign key) */
		if (reg != NULL)
			rc = db_exec(db, NULL, "UPDATE bisects SET regression_run"
			    " = (SELECT id FROM runs WHERE id = ?),"
			    " regression_case = ? WHERE id = ?", "iti",
			    (int64_t)json_integer_value(json_object_get(reg,
			    "run")), json_string_value(json_object_get(reg,
			    "case")), id);
		if (arts != NULL) {
			n = (int)json_array_size(arts);
			json_array_foreach(arts, k, v)
				if (rc == 0)
					rc = db_exec(db, NULL, "INSERT INTO"
					    " bisect_candidates (bisect_id, idx,"
					    " rev) VALUES (?, ?, ?)", "idt", id,
					    (int)k, json_string_value(v));
		} else {
			for (i = 0; i < n && rc == 0; i++)
				rc = db_exec(db, NULL, "INSERT INTO"
				    " bisect_candidates (bisect_id, idx, rev,"
				    " subject) VALUES (?, ?, ?, ?)", "idtt", id,
				    i, revs[i].id, revs[i].subject);
		}
	}
	if (rc == -1 || db_commit(db) == -1) {
		db_rollback(db);
		db_unlock(db);
		reply_db_error(out);
		goto out;
	}
	db_unlock(db);
	log_info("bisect %lld: %s over %d candidates", (long long)id,
	    json_string_value(json_object_get(req, "scenario")), n);
	bisector_kick(r->api);
	reply_json(out, 201, json_pack("{s:I, s:i, s:s}", "bisect",
	    (json_int_t)id, "candidates", n, "state", "running"));
out:
	json_decref(body);
	json_decref(req);
	free(revs);
	free(text);
	free(cause);
}

/* ---- reading --------------------------------------------------------- */

void
api_bisects_list(struct req *r, struct reply *out)
{
	struct db *db = r->api->db;
	int64_t limit, offset, total = 0;
	json_t *rows;

	if (req_arg_int(r, "limit", 1, 500, 50, &limit, out) == -1 ||
	    req_arg_int(r, "offset", 0, INT32_MAX, 0, &offset, out) == -1)
		return;
	db_lock(db);
	rows = db_rows(db, "SELECT b.id, b.state, b.scenario, b.created_at,"
	    " b.finished_at, b.confidence, b.message, b.regression_run,"
	    " (SELECT count(*) FROM bisect_candidates c WHERE c.bisect_id ="
	    " b.id) AS candidates, (SELECT count(*) FROM bisect_steps s WHERE"
	    " s.bisect_id = b.id) AS steps, fb.rev AS first_bad_rev,"
	    " fb.subject AS first_bad_subject, b.first_bad - b.last_good AS"
	    " range FROM bisects b LEFT JOIN bisect_candidates fb ON"
	    " fb.bisect_id = b.id AND fb.idx = b.first_bad ORDER BY b.id DESC"
	    " LIMIT ? OFFSET ?", "ii", limit, offset);
	if (rows != NULL && db_int(db, &total, "SELECT count(*) FROM bisects",
	    "") == -1) {
		json_decref(rows);
		rows = NULL;
	}
	db_unlock(db);
	if (rows == NULL)
		reply_db_error(out);
	else
		reply_json(out, 200, json_pack("{s:o, s:I, s:I, s:I}", "bisects",
		    rows, "total", (json_int_t)total, "limit", (json_int_t)limit,
		    "offset", (json_int_t)offset));
}

void
api_bisect_get(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out);
	struct db *db = r->api->db;
	json_t *b = NULL, *cands = NULL, *steps = NULL;

	if (id == -1)
		return;
	db_lock(db);
	b = db_row(db, "SELECT id, state, scenario, request AS"
	    " \"request:json\", created_at, finished_at, first_bad, last_good,"
	    " confidence, flake_rate, message, regression_run, regression_case"
	    " FROM bisects WHERE id = ?", "i", id);
	if (b != NULL && json_is_object(b)) {
		cands = db_rows(db, "SELECT idx AS \"index\", rev, subject,"
		    " verdict, runs, fails, infra, build, blob FROM"
		    " bisect_candidates WHERE bisect_id = ? ORDER BY idx", "i", id);
		steps = db_rows(db, "SELECT s.step, s.idx AS \"index\", c.rev,"
		    " c.subject, s.run_id AS run, s.runs, s.passes, s.fails,"
		    " s.infra, s.verdict, s.why, s.started_at, s.finished_at,"
		    " (SELECT group_concat(j.id) FROM jobs j WHERE j.run_id ="
		    " s.run_id) AS jobs FROM bisect_steps s JOIN"
		    " bisect_candidates c ON c.bisect_id = s.bisect_id AND c.idx ="
		    " s.idx WHERE s.bisect_id = ? ORDER BY s.step", "i", id);
	}
	db_unlock(db);
	if (b == NULL || (json_is_object(b) && (cands == NULL ||
	    steps == NULL))) {
		reply_db_error(out);
	} else if (!json_is_object(b)) {
		reply_error(out, 404, "no bisect %lld", (long long)id);
	} else {
		json_t *fb = json_object_get(b, "first_bad"), *c;

		if (json_is_integer(fb) && (c = json_array_get(cands,
		    (size_t)json_integer_value(fb))) != NULL)
			json_object_set(b, "first_bad_candidate", c);
		json_object_set(b, "candidates", cands);
		json_object_set(b, "steps", steps);
		reply_json(out, 200, b);
		b = NULL;
	}
	json_decref(b);
	json_decref(cands);
	json_decref(steps);
}

void
api_bisect_build_log(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out);
	struct db *db = r->api->db;
	long long idx;
	json_t *row;
	const char *log;
	char *copy;

	if (id == -1)
		return;
	/* An index, not an id: candidate 0 (the good end) is built too. */
	if (r->nseg <= 5 || wf_parse_int(r->seg[5], 0, INT32_MAX, &idx) == -1) {
		reply_error(out, 404, "'%.64s' is not a candidate index",
		    r->nseg > 5 ? r->seg[5] : "");
		return;
	}
	db_lock(db);
	row = db_row(db, "SELECT build, build_log FROM bisect_candidates WHERE"
	    " bisect_id = ? AND idx = ?", "ii", id, (int64_t)idx);
	db_unlock(db);
	if (row == NULL) {
		reply_db_error(out);
		return;
	}
	log = json_string_value(json_object_get(row, "build_log"));
	if (!json_is_object(row) || log == NULL) {
		reply_error(out, 404, "no build log for candidate %lld of bisect"
		    " %lld", (long long)idx, (long long)id);
	} else if ((copy = strdup(log)) != NULL) {
		reply_raw(out, 200, "text/plain; charset=utf-8", copy,
		    strlen(copy));
	}
	json_decref(row);
}

void
api_blob_get(struct req *r, struct reply *out)
{
	const char *hex = r->nseg > 3 ? r->seg[3] : "";
	char ref[80], path[PATH_MAX];
	struct stat st;
	char *data;
	int fd;

	snprintf(ref, sizeof(ref), RUNSPEC_BLOB_PREFIX "%.64s", hex);
	if (strlen(hex) != 64 || runspec_blob_digest(ref) == NULL) {
		reply_error(out, 400, "a blob is named by 64 lowercase hex"
		    " digits (its SHA-256)");
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", r->api->cfg->blob_dir, hex);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		reply_error(out, 404, "no blob %s", hex);
		return;
	}
	if (fstat(fd, &st) == -1 || st.st_size > (off_t)BLOB_MAX ||
	    (data = malloc(st.st_size ? (size_t)st.st_size : 1)) == NULL ||
	    read(fd, data, (size_t)st.st_size) != st.st_size) {
		close(fd);
		reply_error(out, 500, "blob %s: cannot read it", hex);
		return;
	}
	close(fd);
	reply_raw(out, 200, "application/octet-stream", data,
	    (size_t)st.st_size);
}

/* ---- cancelling ------------------------------------------------------ */

void
api_bisect_cancel(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out), run = 0;
	struct db *db = r->api->db;
	int changes = 0, jobs = 0, rc;

	if (id == -1)
		return;
	db_lock(db);
	rc = db_begin(db);
	if (rc == 0)
		rc = db_exec(db, &changes, "UPDATE bisects SET state ="
		    " 'cancelled', finished_at = ?, message = 'cancelled' WHERE"
		    " id = ? AND state = 'running'", "ii", db_now_ms(), id);
	if (rc == 0 && changes > 0 && db_int(db, &run, "SELECT run_id FROM"
	    " bisect_steps WHERE bisect_id = ? AND finished_at IS NULL AND"
	    " run_id IS NOT NULL", "i", id) == 1)
		rc = runs_cancel(db, run, &jobs);
	if (rc == -1 || db_commit(db) == -1) {
		db_rollback(db);
		db_unlock(db);
		reply_db_error(out);
		return;
	}
	db_unlock(db);
	if (changes == 0)
		reply_error(out, 409, "bisect %lld is not running (or does not"
		    " exist)", (long long)id);
	else
		reply_json(out, 200, json_pack("{s:I, s:s, s:i}", "bisect",
		    (json_int_t)id, "state", "cancelled", "cancelled_jobs",
		    jobs));
}

/* ---- the worker ------------------------------------------------------ */

/* The candidates' state as lib/bisect sees it (db locked); NULL on error. */
static struct bisect_cand *
load_cands(struct db *db, int64_t id, int *n)
{
	json_t *rows = db_rows(db, "SELECT verdict, runs, fails, infra, build"
	    " FROM bisect_candidates WHERE bisect_id = ? ORDER BY idx", "i", id);
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
	json_array_foreach(rows, i, row) {
		int v = bisect_verdict_parse(json_string_value(json_object_get(row,
		    "verdict")));

		c[i].verdict = v < 0 ? BISECT_UNTESTED : v;
		c[i].runs = (int)json_integer_value(json_object_get(row, "runs"));
		c[i].fails = (int)json_integer_value(json_object_get(row, "fails"));
		c[i].infra = (int)json_integer_value(json_object_get(row, "infra"));
		c[i].build_failed = strcmp(json_string_value(json_object_get(row,
		    "build")), "failed") == 0;
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
	return db_exec(db, NULL, "UPDATE bisect_candidates SET verdict = ?"
	    " WHERE bisect_id = ? AND idx = ?", "tid",
	    bisect_verdict_name(c->verdict), id, idx);
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

	if (db_int(db, &done, "SELECT state IN ('done', 'cancelled') FROM runs"
	    " WHERE id = ?", "i", run) != 1)
		return -1;
	if (!done)
		return 1;
	if ((jobs = db_rows(db, "SELECT state, verdict, as_expected FROM jobs"
	    " WHERE run_id = ?", "i", run)) == NULL)
		return -1;
	json_array_foreach(jobs, i, j) {
		const char *v = json_string_value(json_object_get(j, "verdict"));

		if (strcmp(json_string_value(json_object_get(j, "state")),
		    "done") != 0 || v == NULL || strcmp(v, "infra") == 0)
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
	if (db_exec(db, NULL, "UPDATE bisect_candidates SET runs = ?, fails ="
	    " ?, infra = ? WHERE bisect_id = ? AND idx = ?", "dddid",
	    b.c[idx].runs, b.c[idx].fails, b.c[idx].infra, id, idx) == -1 ||
	    save_verdict(db, id, idx, &b.c[idx]) == -1 ||
	    db_exec(db, NULL, "UPDATE bisect_steps SET passes = ?, fails = ?,"
	    " infra = ?, verdict = ?, finished_at = ? WHERE bisect_id = ? AND"
	    " step = ?", "dddtiii", pass, fail, infra,
	    bisect_verdict_name(b.c[idx].verdict), db_now_ms(), id, step) == -1)
		goto out;
	log_info("bisect %lld: step %lld, candidate %d: %d passed, %d failed,"
	    " %d infra: %s", (long long)id, (long long)step, idx, pass, fail,
	    infra, bisect_verdict_name(b.c[idx].verdict));
	rc = 0;
out:
	free(b.c);
	return rc;
}

static void
finish_bisect(struct db *db, int64_t id, const struct bisect *b,
    const struct bisect_next *next)
{
	if (db_exec(db, NULL, "UPDATE bisects SET state = ?, finished_at = ?,"
	    " first_bad = ?, last_good = ?, confidence = ?, flake_rate = ?,"
	    " message = ? WHERE id = ? AND state = 'running'", "tiiiffti",
	    next->what == BISECT_DONE ? "done" : "failed", db_now_ms(),
	    (int64_t)next->first_bad, (int64_t)next->last_good,
	    next->confidence, bisect_flake_rate(b), next->why, id) == -1)
		log_warnx("bisect %lld: could not store its end", (long long)id);
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

	json_array_foreach(argvj, i, v)
		argv[i] = json_string_value(v);
	argv[json_array_size(argvj)] = NULL;
	snprintf(dir, sizeof(dir), "%s/%lld-%d", api->cfg->build_dir,
	    (long long)id, idx);
	mkdir(api->cfg->build_dir, 0755);
	wf_build_remove(dir);
	wf_buf_init(&log, BUILD_LOG_CAP);
	log_info("bisect %lld: building candidate %d (%.12s)", (long long)id,
	    idx, rev);
	rc = wf_build_rev(json_string_value(json_object_get(req, "repo")), rev,
	    dir, argv, (int)json_integer_value(json_object_get(req,
	    "build_timeout_s")), json_string_value(json_object_get(req,
	    "artifact")), &log, &cause);
	if (__atomic_load_n(&api->bisector->stopping, __ATOMIC_ACQUIRE)) {
		/* cut short by a shutdown: built again after the restart */
		wf_build_remove(dir);
		wf_buf_free(&log);
		free(cause);
		return -2;
	}
	if (rc == 0) {
		snprintf(art, sizeof(art), "%s/%s", dir, json_string_value(
		    json_object_get(req, "artifact")));
		if (wf_blob_put(api->cfg->blob_dir, art, hex, &cause) == -1)
			rc = -1;
	}
	if (rc == -1)
		snprintf(why, whysize, "building %.12s: %s", rev,
		    wf_cause_str(cause));
	db_lock(api->db);
	if (db_exec(api->db, NULL, "UPDATE bisect_candidates SET build = ?,"
	    " build_log = ?, blob = ? WHERE bisect_id = ? AND idx = ?", "tttid",
	    rc == 0 ? "ok" : "failed", rc == -1 ? wf_cause_str(cause) :
	    wf_buf_str(&log), rc == 0 ? hex : NULL, id, idx) == -1 && rc == 0)
		rc = -1;
	db_unlock(api->db);
	wf_build_remove(dir);
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
	struct run_link link = { .bisect = id, .bisect_step = step,
		.bisect_idx = idx, .why = why };
	const char *rev = json_string_value(json_object_get(cand, "rev"));
	char ref[80], *cause = NULL;
	int64_t run;

	if (strcmp(json_string_value(json_object_get(req, "mode")), "git") == 0) {
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
	db_exec(db, NULL, "UPDATE bisects SET state = 'failed', finished_at ="
	    " ?, message = ? WHERE id = ? AND state = 'running'", "iti",
	    db_now_ms(), why, id);
	db_unlock(db);
	log_warnx("bisect %lld: failed: %s", (long long)id, why);
}

/* One bisect as far as it goes now (no lock held on entry). */
static void
advance(struct api *api, int64_t id, const json_t *req)
{
	struct db *db = api->db;
	struct bisect b = { .cfg = req_cfg(req) };
	struct bisect_next next;
	json_t *open, *cand = NULL;
	int64_t step = 0, run;
	char why[512];
	int rc;

	for (int round = 0; round < 8; round++) {
		db_lock(db);
		open = db_row(db, "SELECT step, idx, run_id FROM bisect_steps"
		    " WHERE bisect_id = ? AND finished_at IS NULL", "i", id);
		if (open == NULL) {
			db_unlock(db);
			return;
		}
		if (json_is_object(open)) {
			if (db_begin(db) == -1) {
				rc = -1;
			} else if ((rc = close_step(db, id, req, open)) == 0) {
				if (db_commit(db) == -1)
					rc = -1;
			} else {
				db_rollback(db);
			}
			json_decref(open);
			if (rc != 0) {
				db_unlock(db);
				return;	/* still running, or an error */
			}
		} else {
			json_decref(open);
		}
		free(b.c);
		b.c = load_cands(db, id, &b.n);
		if (b.c == NULL || db_int(db, &step, "SELECT count(*) + 1 FROM"
		    " bisect_steps WHERE bisect_id = ?", "i", id) != 1) {
			db_unlock(db);
			break;
		}
		bisect_next(&b, &next);
		if (next.what != BISECT_TEST) {
			finish_bisect(db, id, &b, &next);
			db_unlock(db);
			break;
		}
		cand = db_row(db, "SELECT rev, build, blob FROM bisect_candidates"
		    " WHERE bisect_id = ? AND idx = ?", "id", id, next.idx);
		db_unlock(db);
		if (cand == NULL || !json_is_object(cand))
			break;
		if (strcmp(json_string_value(json_object_get(req, "mode")),
		    "git") == 0 && strcmp(json_string_value(json_object_get(cand,
		    "build")), "none") == 0) {
			rc = build_candidate(api, id, next.idx, req,
			    json_string_value(json_object_get(cand, "rev")), why,
			    sizeof(why));
			if (rc == -2)
				break;
			if (rc == -1 && (db_failed_full() || db_full(db)))
				break;	/* tried again once there is room */
			if (rc == -1) {
				fail_bisect(db, id, why);
				break;
			}
			json_decref(cand);
			cand = NULL;
			if (rc == 1) {
				db_lock(db);
				b.c[next.idx].verdict = BISECT_SKIP;
				b.c[next.idx].build_failed = 1;
				if (save_verdict(db, id, next.idx,
				    &b.c[next.idx]) == -1 || db_exec(db, NULL,
				    "INSERT INTO bisect_steps (bisect_id, step,"
				    " idx, verdict, why, started_at, finished_at)"
				    " VALUES (?, ?, ?, 'skip', 'the build"
				    " failed', ?, ?)", "iidii", id, step,
				    next.idx, db_now_ms(), db_now_ms()) == -1) {
					db_unlock(db);
					break;
				}
				db_unlock(db);
			}
			continue;	/* built: look again (cancelled?) */
		}
		run = submit_step(api, id, step, next.idx, req, cand, next.runs,
		    next.why);
		if (run < 0 && (db_failed_full() || db_full(db))) {
			/* not the bisect's fault: the next tick tries again */
		} else if (run < 0) {
			fail_bisect(db, id, "could not submit a step's run (see"
			    " the controller's log)");
		} else {
			int64_t running = 0;

			/* cancelled while this step was being submitted */
			db_lock(db);
			if (db_int(db, &running, "SELECT state = 'running' FROM"
			    " bisects WHERE id = ?", "i", id) == 1 && !running &&
			    db_begin(db) == 0) {
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
	rows = db_rows(api->db, "SELECT id, request AS \"request:json\" FROM"
	    " bisects WHERE state = 'running' ORDER BY id", "");
	db_unlock(api->db);
	json_array_foreach(rows, i, row)
		advance(api, json_integer_value(json_object_get(row, "id")),
		    json_object_get(row, "request"));
	json_decref(rows);
}

static void
worker(void *arg)
{
	tick(arg);
}

struct bisector *
bisector_start(struct api *api)
{
	struct bisector *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->api = api;
	api->bisector = b;
	if ((b->ticker = ticker_start(worker, api, BISECT_TICK_MS)) == NULL) {
		api->bisector = NULL;
		free(b);
		return NULL;
	}
	return b;
}

void
bisector_kick(struct api *api)
{
	if (api->bisector != NULL && api->bisector->ticker != NULL)
		ticker_kick(api->bisector->ticker);
}

void
bisector_stop(struct bisector *b)
{
	if (b == NULL)
		return;
	__atomic_store_n(&b->stopping, 1, __ATOMIC_RELEASE);
	wf_proc_abort_all();	/* a build under way ends now */
	ticker_stop(b->ticker);
	b->api->bisector = NULL;
	free(b);
}
