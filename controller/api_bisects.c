/*
 * api_bisects.c: the bisects API (api_bisects.h): create, list, read,
 * cancel, build logs and blobs. The worker that carries bisects on is
 * bisect_worker.c; the body of POST /bisects is checked by bisect_req.c;
 * the decisions are lib/bisect.c's.
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
#include "api_bisects.h"
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

#define CTL_CANDIDATES_MAX 20000
#define BLOB_MAX (256u << 20)

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
		wf_set_cause(cause,
		    "git bisects are off on this controller (it"
		    " runs their build commands): start it with"
		    " --bisect-repo-root DIR, or bisect --artifacts");
		return -1;
	}
	if (realpath(repo, real) == NULL || realpath(root, rroot) == NULL ||
	    strncmp(real, rroot, (n = strlen(rroot))) != 0 ||
	    (real[n] != '/' && real[n] != '\0' && strcmp(rroot, "/") != 0)) {
		wf_set_cause(cause,
		    "key 'repo': '%.200s' is not below the"
		    " controller's --bisect-repo-root",
		    repo);
		return -1;
	}
	return 0;
}

/*
 * Every artifact of an artifacts bisect as its step will run it (the
 * worker's submit_step: "kernel" for linux, "test_kernel" for our test
 * kernel): a bad one is refused now, not 10 ms into the bisect.
 */
static int
check_artifacts(struct api *api, const json_t *req, char **cause)
{
	const json_t *arts = json_object_get(req, "artifacts"), *v;
	const char *field = strcmp(
	                        json_string_value(json_object_get(req, "kind")),
	                        "linux") == 0 ?
	    "kernel" :
	    "test_kernel";
	json_t *probe, *set, *reply = NULL;
	char *why = NULL;
	size_t i;
	int rc = 0;

	json_array_foreach (arts, i, v) {
		set = json_deep_copy(json_object_get(req, "set"));
		json_object_set(set, field, (json_t *)v);
		probe = json_pack("{s:O, s:o, s:s}", "scenario",
		    json_object_get(req, "scenario"), "set", set, "kind",
		    "bisect");
		rc = runs_create(api, probe, NULL, 0, &reply, &why) < 0 ? -1 :
		                                                          0;
		json_decref(probe);
		json_decref(reply);
		reply = NULL;
		if (rc == -1) {
			wf_set_cause(cause, "key 'artifacts': item %zu: %s", i,
			    wf_cause_str(why));
			break;
		}
	}
	free(why);
	return rc;
}

/*
 * The normalised request (bisect_req.h), once what it names exists here: the
 * repository below the root, the scenario with its fixed parameters as
 * exactly one case. Returns it (new), or NULL with a cause.
 */
static json_t *
parse_request(
    struct api *api, const json_t *body, struct bisect_cfg *cfg, char **cause)
{
	json_t *req, *probe, *reply = NULL;
	const char *repo;
	json_int_t jobs;
	struct stat st;

	if ((req = bisect_req_parse(body, cfg, cause)) == NULL)
		return NULL;
	if ((repo = json_string_value(json_object_get(req, "repo"))) != NULL) {
		if (stat(repo, &st) == -1 || !S_ISDIR(st.st_mode)) {
			wf_set_cause(cause,
			    "key 'repo': '%.200s' is not an"
			    " absolute path to a directory on the controller's"
			    " host",
			    repo);
			goto fail;
		}
		if (repo_allowed(api, repo, cause) == -1)
			goto fail;
	}
	probe = json_pack("{s:O, s:O, s:s}", "scenario",
	    json_object_get(req, "scenario"), "set",
	    json_object_get(req, "set"), "kind", "bisect");
	if (runs_create(api, probe, NULL, 0, &reply, cause) < 0) {
		json_decref(probe);
		goto fail;
	}
	json_decref(probe);
	if (check_artifacts(api, req, cause) == -1) {
		json_decref(reply);
		goto fail;
	}
	jobs = json_integer_value(json_object_get(reply, "jobs"));
	json_decref(reply);
	if (jobs != 1) {
		wf_set_cause(cause,
		    "a bisect runs one case, and %s expands to"
		    " %lld: fix every axis with 'set'",
		    json_string_value(json_object_get(req, "scenario")),
		    (long long)jobs);
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
	struct bisect_rev *revs = NULL;
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
	if (arts == NULL &&
	    bisect_build_candidates(
	        json_string_value(json_object_get(req, "repo")),
	        json_string_value(json_object_get(req, "good")),
	        json_string_value(json_object_get(req, "bad")),
	        CTL_CANDIDATES_MAX, &revs, &n, &cause) == -1) {
		reply_error(out, 400, "%s", wf_cause_str(cause));
		goto out;
	}
	text = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
	db_lock(db);
	reg = json_object_get(req, "regression");
	if (db_begin(db) == -1 ||
	    db_exec(db, NULL,
	        "INSERT INTO bisects"
	        " (state, scenario, request, created_at) VALUES ('running', ?, ?,"
	        " ?)",
	        "tti", json_string_value(json_object_get(req, "scenario")),
	        text, db_now_ms()) == -1) {
		rc = -1;
	} else {
		id = db_last_id(db);
		/* "bisect this": the run must exist (a foreign key) */
		if (reg != NULL)
			rc = db_exec(db, NULL,
			    "UPDATE bisects SET regression_run"
			    " = (SELECT id FROM runs WHERE id = ?),"
			    " regression_case = ? WHERE id = ?",
			    "iti",
			    (int64_t)json_integer_value(
			        json_object_get(reg, "run")),
			    json_string_value(json_object_get(reg, "case")),
			    id);
		if (arts != NULL) {
			n = (int)json_array_size(arts);
			json_array_foreach (arts, k, v)
				if (rc == 0)
					rc = db_exec(db, NULL,
					    "INSERT INTO"
					    " bisect_candidates (bisect_id, idx,"
					    " rev) VALUES (?, ?, ?)",
					    "idt", id, (int)k,
					    json_string_value(v));
		} else {
			for (i = 0; i < n && rc == 0; i++)
				rc = db_exec(db, NULL,
				    "INSERT INTO"
				    " bisect_candidates (bisect_id, idx, rev,"
				    " subject) VALUES (?, ?, ?, ?)",
				    "idtt", id, i, revs[i].id, revs[i].subject);
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
	bisect_worker_kick(r->api);
	reply_json(out, 201,
	    json_pack("{s:I, s:i, s:s}", "bisect", (json_int_t)id, "candidates",
	        n, "state", "running"));
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
	rows = db_rows(db,
	    "SELECT b.id, b.state, b.scenario, b.created_at,"
	    " b.finished_at, b.confidence, b.message, b.regression_run,"
	    " (SELECT count(*) FROM bisect_candidates c WHERE c.bisect_id ="
	    " b.id) AS candidates, (SELECT count(*) FROM bisect_steps s WHERE"
	    " s.bisect_id = b.id) AS steps, fb.rev AS first_bad_rev,"
	    " fb.subject AS first_bad_subject, b.first_bad - b.last_good AS"
	    " range FROM bisects b LEFT JOIN bisect_candidates fb ON"
	    " fb.bisect_id = b.id AND fb.idx = b.first_bad ORDER BY b.id DESC"
	    " LIMIT ? OFFSET ?",
	    "ii", limit, offset);
	if (rows != NULL &&
	    db_int(db, &total, "SELECT count(*) FROM bisects", "") == -1) {
		json_decref(rows);
		rows = NULL;
	}
	db_unlock(db);
	if (rows == NULL)
		reply_db_error(out);
	else
		reply_json(out, 200,
		    json_pack("{s:o, s:I, s:I, s:I}", "bisects", rows, "total",
		        (json_int_t)total, "limit", (json_int_t)limit, "offset",
		        (json_int_t)offset));
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
	b = db_row(db,
	    "SELECT id, state, scenario, request AS"
	    " \"request:json\", created_at, finished_at, first_bad, last_good,"
	    " confidence, flake_rate, message, regression_run, regression_case"
	    " FROM bisects WHERE id = ?",
	    "i", id);
	if (b != NULL && json_is_object(b)) {
		cands = db_rows(db,
		    "SELECT idx AS \"index\", rev, subject,"
		    " verdict, runs, fails, infra, build, blob FROM"
		    " bisect_candidates WHERE bisect_id = ? ORDER BY idx",
		    "i", id);
		steps = db_rows(db,
		    "SELECT s.step, s.idx AS \"index\", c.rev,"
		    " c.subject, s.run_id AS run, s.runs, s.passes, s.fails,"
		    " s.infra, s.verdict, s.why, s.started_at, s.finished_at,"
		    " (SELECT group_concat(j.id) FROM jobs j WHERE j.run_id ="
		    " s.run_id) AS jobs FROM bisect_steps s JOIN"
		    " bisect_candidates c ON c.bisect_id = s.bisect_id AND c.idx ="
		    " s.idx WHERE s.bisect_id = ? ORDER BY s.step",
		    "i", id);
	}
	db_unlock(db);
	if (b == NULL ||
	    (json_is_object(b) && (cands == NULL || steps == NULL))) {
		reply_db_error(out);
	} else if (!json_is_object(b)) {
		reply_error(out, 404, "no bisect %lld", (long long)id);
	} else {
		json_t *fb = json_object_get(b, "first_bad"), *c;

		if (json_is_integer(fb) &&
		    (c = json_array_get(
		         cands, (size_t)json_integer_value(fb))) != NULL)
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
	row = db_row(db,
	    "SELECT build, build_log FROM bisect_candidates WHERE"
	    " bisect_id = ? AND idx = ?",
	    "ii", id, (int64_t)idx);
	db_unlock(db);
	if (row == NULL) {
		reply_db_error(out);
		return;
	}
	log = json_string_value(json_object_get(row, "build_log"));
	if (!json_is_object(row) || log == NULL) {
		reply_error(out, 404,
		    "no build log for candidate %lld of bisect"
		    " %lld",
		    (long long)idx, (long long)id);
	} else if ((copy = strdup(log)) != NULL) {
		reply_raw(
		    out, 200, "text/plain; charset=utf-8", copy, strlen(copy));
	}
	json_decref(row);
}

void
api_blob_get(struct req *r, struct reply *out)
{
	const char *hex = r->nseg > 3 ? r->seg[3] : "";
	char ref[80], path[PATH_MAX];
	struct stat st;
	int fd;

	snprintf(ref, sizeof(ref), RUNSPEC_BLOB_PREFIX "%.64s", hex);
	if (strlen(hex) != 64 || runspec_blob_digest(ref) == NULL) {
		reply_error(out, 400,
		    "a blob is named by 64 lowercase hex"
		    " digits (its SHA-256)");
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", r->api->cfg->blob_dir, hex);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		reply_error(out, 404, "no blob %s", hex);
		return;
	}
	if (fstat(fd, &st) == -1 || st.st_size > (off_t)BLOB_MAX) {
		close(fd);
		reply_error(out, 500, "blob %s: cannot read it", hex);
		return;
	}
	/* sent from the file by libmicrohttpd, which closes it */
	reply_fd(
	    out, 200, "application/octet-stream", fd, (uint64_t)st.st_size);
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
		rc = db_exec(db, &changes,
		    "UPDATE bisects SET state ="
		    " 'cancelled', finished_at = ?, message = 'cancelled' WHERE"
		    " id = ? AND state = 'running'",
		    "ii", db_now_ms(), id);
	if (rc == 0 && changes > 0 &&
	    db_int(db, &run,
	        "SELECT run_id FROM"
	        " bisect_steps WHERE bisect_id = ? AND finished_at IS NULL AND"
	        " run_id IS NOT NULL",
	        "i", id) == 1)
		rc = runs_cancel(db, run, &jobs);
	if (rc == -1 || db_commit(db) == -1) {
		db_rollback(db);
		db_unlock(db);
		reply_db_error(out);
		return;
	}
	db_unlock(db);
	if (changes == 0)
		reply_error(out, 409,
		    "bisect %lld is not running (or does not"
		    " exist)",
		    (long long)id);
	else
		reply_json(out, 200,
		    json_pack("{s:I, s:s, s:i}", "bisect", (json_int_t)id,
		        "state", "cancelled", "cancelled_jobs", jobs));
}
