/*
 * api_kcidb.c: GET /api/v1/runs/{id}/kcidb.json, a run in the KCIDB I/O
 * schema v4.0 (kernelci/kcidb-io), origin "wakefarm":
 *
 * - one build per kernel the run booted (our test kernel, a Debian package,
 *   a path, a bisect candidate's image), each from a checkout of its own
 *   that names the git repository and commit where they are known (a
 *   bisect's candidates);
 * - per job a test SCENARIO (its verdict) and one test SCENARIO.CHECK per
 *   check: the status says what happened (PASS, FAIL; ERROR for infra, SKIP
 *   when it did not run), and `waived` marks a failure that the scenario's
 *   expectation or a known issue explains; with the job's duration, its log
 *   URL and files, the host it ran on as the environment, and the end of its
 *   guest log when it was not as expected.
 *
 * No property is ever null (KCIDB forbids it): what is unknown is left out.
 * Every string that may hold guest bytes goes through wf_json_text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "export.h"
#include "json.h"
#include "proc.h"
#include "regress.h"
#include "util.h"

#define ORIGIN "wakefarm"
#define GIT_TIMEOUT_S 5

/* What the export is made of, read under one lock. */
struct kcidb_run {
	int64_t id;
	json_t *run;
	json_t *jobs;
	json_t *checks; /* job id -> [{"check", "ok"}] */
	json_t *classes; /* job id -> nightly case (regress_run) */
	json_t *known; /* job id -> {check: [issue ids]} */
	json_t *excerpts; /* job id -> the end of its guest log (bytes) */
	json_t *versions; /* artifact name -> uname -r */
	json_t *candidates; /* blob -> {"rev", "subject", "repo"} */
};

static void
kcidb_run_free(struct kcidb_run *k)
{
	json_decref(k->run);
	json_decref(k->jobs);
	json_decref(k->checks);
	json_decref(k->classes);
	json_decref(k->known);
	json_decref(k->excerpts);
	json_decref(k->versions);
	json_decref(k->candidates);
}

static json_t *
rfc3339(const json_t *ms)
{
	char s[40];

	if (!json_is_integer(ms))
		return NULL;
	export_time(json_integer_value(ms), s);
	return json_string(s);
}

/* Sets key to v (stolen) unless v is NULL or null: KCIDB has no nulls. */
static void
set_some(json_t *o, const char *key, json_t *v)
{
	if (v != NULL && !json_is_null(v))
		json_object_set_new(o, key, v);
	else
		json_decref(v);
}

static int
judged(const json_t *job)
{
	const char *v = json_string_value(json_object_get(job, "verdict"));

	return strcmp(json_string_value(json_object_get(job, "state")),
	           "done") == 0 &&
	    v != NULL && strcmp(v, "infra") != 0;
}

/* The checks a job's known issues cover: {check: [ids]} (new). */
static json_t *
known_checks(struct db *db, const json_t *job)
{
	json_t *issues, *issue, *c, *by;
	size_t i, k;

	issues = regress_known(
	    db, json_integer_value(json_object_get(job, "id")));
	if (issues == NULL)
		return NULL;
	by = json_object();
	json_array_foreach (issues, i, issue) {
		json_array_foreach (json_object_get(issue, "checks"), k, c) {
			json_t *ids = json_object_get(by, json_string_value(c));

			if (ids == NULL) {
				ids = json_array();
				json_object_set_new(
				    by, json_string_value(c), ids);
			}
			json_array_append(ids, json_object_get(issue, "id"));
		}
	}
	json_decref(issues);
	return by;
}

/* Per job not as expected: the issues that explain it, its log's end. */
static int
read_failures(struct db *db, struct kcidb_run *k)
{
	json_t *job, *by;
	struct wf_buf log;
	char key[32];
	size_t i;

	json_array_foreach (k->jobs, i, job) {
		if (!judged(job) ||
		    json_integer_value(json_object_get(job, "as_expected")) ==
		        1)
			continue;
		export_key(key, json_object_get(job, "id"));
		if ((by = known_checks(db, job)) == NULL)
			return -1;
		json_object_set_new(k->known, key, by);
		wf_buf_init(&log, EXPORT_LOG_BYTES + 1);
		if (export_log_tail(db,
		        json_integer_value(json_object_get(job, "id")), 0,
		        EXPORT_LOG_LINES, EXPORT_LOG_BYTES, &log) == -1) {
			wf_buf_free(&log);
			return -1;
		}
		if (log.len > 0)
			json_object_set_new(
			    k->excerpts, key, wf_json_text(log.data, log.len));
		wf_buf_free(&log);
	}
	return 0;
}

/* The bisect candidate behind each stored image the jobs booted. */
static int
read_candidates(struct db *db, struct kcidb_run *k)
{
	const char *kernel;
	json_t *job, *row;
	size_t i;

	json_array_foreach (k->jobs, i, job) {
		kernel = export_kernel(json_object_get(job, "params"));
		if (kernel == NULL || strncmp(kernel, "sha256:", 7) != 0 ||
		    json_object_get(k->candidates, kernel) != NULL)
			continue;
		row = db_row(db,
		    "SELECT c.rev, c.subject, json_extract(b.request, '$.repo')"
		    " AS repo FROM bisect_candidates c JOIN bisects b ON b.id ="
		    " c.bisect_id WHERE c.blob = ? ORDER BY c.bisect_id DESC"
		    " LIMIT 1",
		    "t", kernel + 7);
		if (row == NULL)
			return -1;
		json_object_set_new(k->candidates, kernel, row);
	}
	return 0;
}

static json_t *
rows_by_job(json_t *rows)
{
	json_t *by = json_object(), *row, *l;
	char key[32];
	size_t i;

	json_array_foreach (rows, i, row) {
		export_key(key, json_object_get(row, "job_id"));
		if ((l = json_object_get(by, key)) == NULL) {
			l = json_array();
			json_object_set_new(by, key, l);
		}
		json_object_del(row, "job_id");
		json_array_append(l, row);
	}
	return by;
}

/* 1 read, 0 no such run, -1 error. Takes and releases the lock. */
static int
kcidb_read(struct api *api, struct kcidb_run *k)
{
	struct db *db = api->db;
	json_t *rows = NULL, *cls = NULL, *c;
	char key[32];
	size_t i;
	int rc = -1;

	db_lock(db);
	k->run = db_row(db,
	    "SELECT r.id, r.kind, r.created_at, r.request AS \"request:json\","
	    " s.schedule, s.day FROM runs r LEFT JOIN schedule_runs s ON"
	    " s.run_id = r.id WHERE r.id = ?",
	    "i", k->id);
	if (k->run == NULL || json_is_null(k->run)) {
		rc = k->run == NULL ? -1 : 0;
		goto out;
	}
	k->jobs = db_rows(db,
	    "SELECT j.id, j.scenario, j.matrix AS \"matrix:json\", j.params AS"
	    " \"params:json\", j.state, j.attempt, j.verdict, j.as_expected,"
	    " j.failing AS \"failing:json\", j.expected_verdict,"
	    " j.expected_failing AS \"expected_failing:json\", j.reason,"
	    " j.created_at, j.started_at, j.finished_at, h.name AS host,"
	    " h.libvirt_uri FROM jobs j LEFT JOIN hosts h ON h.id ="
	    " coalesce(j.last_host, j.lease_host) WHERE j.run_id = ? ORDER BY"
	    " j.id",
	    "i", k->id);
	rows = db_rows(db,
	    "SELECT c.job_id, c.check_name AS \"check\", min(c.ok) AS ok FROM"
	    " checks c JOIN jobs j ON j.id = c.job_id WHERE j.run_id = ?"
	    " GROUP BY c.job_id, c.check_name ORDER BY c.job_id, min(c.id)",
	    "i", k->id);
	k->versions = json_object();
	k->known = json_object();
	k->excerpts = json_object();
	k->candidates = json_object();
	k->classes = json_object();
	if (k->jobs == NULL || rows == NULL)
		goto out;
	k->checks = rows_by_job(rows);
	json_decref(rows);
	if ((rows = db_rows(db,
	         "SELECT name, version FROM artifacts WHERE"
	         " version IS NOT NULL",
	         "")) == NULL)
		goto out;
	json_array_foreach (rows, i, c)
		json_object_set(k->versions,
		    json_string_value(json_object_get(c, "name")),
		    json_object_get(c, "version"));
	if (strcmp(json_string_value(json_object_get(k->run, "kind")),
	        "nightly") == 0) {
		if ((cls = regress_run(db, k->id)) == NULL)
			goto out;
		json_array_foreach (json_object_get(cls, "cases"), i, c)
			json_object_set(k->classes,
			    export_key(key, json_object_get(c, "job")), c);
	}
	if (read_failures(db, k) == -1 || read_candidates(db, k) == -1)
		goto out;
	rc = 1;
out:
	db_unlock(db);
	json_decref(rows);
	json_decref(cls);
	return rc;
}

/* The https:// or git:// URL of a repository's origin, or NULL (new). */
static json_t *
git_origin_url(const char *repo)
{
	const char *argv[] = { "git", "-C", repo, "remote", "get-url", "origin",
		NULL };
	struct wf_proc_result res;
	struct wf_buf out;
	json_t *url = NULL;
	char *cause = NULL;

	wf_buf_init(&out, 4096);
	if (wf_proc_run(argv, NULL, GIT_TIMEOUT_S, &out, &res, &cause) == 0 &&
	    res.status == 0 &&
	    (strncmp(wf_buf_str(&out), "https://", 8) == 0 ||
	        strncmp(wf_buf_str(&out), "git://", 6) == 0)) {
		out.data[strcspn(out.data, "\r\n")] = '\0';
		url = wf_json_textz(out.data);
	}
	free(cause);
	wf_buf_free(&out);
	return url;
}

static int
is_sha1(const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < 40; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return s != NULL && s[40] == '\0';
}

/* The checkout a kernel came from (new), id cid. */
static json_t *
kcidb_checkout(const struct kcidb_run *k, const char *kernel, const char *cid)
{
	const json_t *run = k->run;
	const json_t *cand = kernel ? json_object_get(k->candidates, kernel) :
	                              NULL;
	const char *rev = json_string_value(json_object_get(cand, "rev"));
	const char *repo = json_string_value(json_object_get(cand, "repo"));
	json_t *co;

	co = json_pack("{s:s, s:s, s:s, s:b, s:{s:I, s:O}}", "id", cid,
	    "origin", ORIGIN, "tree_name",
	    json_is_string(json_object_get(run, "schedule")) ?
	        json_string_value(json_object_get(run, "schedule")) :
	        ORIGIN,
	    "valid", 1, "misc", "run", (json_int_t)k->id, "kind",
	    json_object_get(run, "kind"));
	set_some(co, "start_time", rfc3339(json_object_get(run, "created_at")));
	set_some(json_object_get(co, "misc"), "day",
	    json_incref(json_object_get(run, "day")));
	if (kernel == NULL) {
		json_object_set_new(co, "comment",
		    json_string("wakefarm's test kernel and firmware shim"));
		json_object_set(json_object_get(co, "misc"), "request",
		    json_object_get(run, "request"));
	} else if (cand != NULL && !json_is_null(cand)) {
		set_some(co, "comment",
		    wf_json_textz(
		        json_string_value(json_object_get(cand, "subject"))));
		if (is_sha1(rev))
			json_object_set_new(
			    co, "git_commit_hash", json_string(rev));
		if (repo != NULL) {
			set_some(
			    co, "git_repository_url", git_origin_url(repo));
			set_some(json_object_get(co, "misc"), "repository",
			    wf_json_textz(repo));
		}
	} else {
		set_some(co, "comment", wf_json_textz(kernel));
	}
	return co;
}

/* The build of one kernel (NULL: the test kernel), id bid (new). */
static json_t *
kcidb_build(const struct kcidb_run *k, const char *kernel, const char *bid,
    const char *cid)
{
	json_t *version = kernel ? json_object_get(k->versions, kernel) : NULL;
	json_t *b;

	b = json_pack("{s:s, s:s, s:s, s:b, s:s, s:o, s:{}}", "id", bid,
	    "origin", ORIGIN, "checkout_id", cid, "valid", 1, "architecture",
	    "x86_64", "config_name",
	    kernel != NULL ? wf_json_textz(kernel) :
	                     json_string("wakefarm-test-kernel"),
	    "misc");
	set_some(
	    b, "start_time", rfc3339(json_object_get(k->run, "created_at")));
	if (json_is_string(version)) {
		json_object_set_new(b, "comment",
		    json_sprintf("Linux %s", json_string_value(version)));
		json_object_set(json_object_get(b, "misc"), "version", version);
	}
	if (kernel != NULL)
		set_some(json_object_get(b, "misc"), "kernel",
		    wf_json_textz(kernel));
	return b;
}

/* A test path component: [.a-zA-Z0-9_-] only (KCIDB's pattern). */
static void
path_part(struct wf_buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '_' || c == '-'))
			c = '_';
		wf_buf_append(b, &c, 1);
	}
}

static int
in_list(const json_t *list, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach (list, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	}
	return 0;
}

/* What every test of a job says (new): time, links, host, misc. */
static json_t *
test_common(struct api *api, const struct kcidb_run *k, const json_t *job,
    const char *bid)
{
	json_int_t jid = json_integer_value(json_object_get(job, "id"));
	const json_t *p = json_object_get(job, "params");
	const json_t *s = json_object_get(job, "started_at");
	const json_t *f = json_object_get(job, "finished_at");
	char key[32], *name, *url;
	json_t *t, *misc, *env, *cls;

	export_key(key, json_object_get(job, "id"));
	name = export_case_name(json_object_get(job, "matrix"), p);
	misc = json_pack("{s:I, s:I, s:s, s:O, s:O, s:O, s:O}", "run",
	    (json_int_t)k->id, "job", jid, "case", name ? name : "", "matrix",
	    json_object_get(job, "matrix"), "expected_verdict",
	    json_object_get(job, "expected_verdict"), "expected_failing",
	    json_object_get(job, "expected_failing"), "attempt",
	    json_object_get(job, "attempt"));
	free(name);
	set_some(misc, "verdict", json_incref(json_object_get(job, "verdict")));
	if (json_is_integer(json_object_get(job, "as_expected")))
		json_object_set_new(misc, "as_expected",
		    json_boolean(json_integer_value(
		        json_object_get(job, "as_expected"))));
	if ((cls = json_object_get(k->classes, key)) != NULL) {
		json_object_set(misc, "class", json_object_get(cls, "class"));
		if (json_object_get(cls, "known") != NULL)
			json_object_set(misc, "known_issues",
			    json_object_get(cls, "known"));
	}
	t = json_pack(
	    "{s:s, s:s, s:o}", "build_id", bid, "origin", ORIGIN, "misc", misc);
	set_some(t, "start_time",
	    rfc3339(
	        json_is_integer(s) ? s : json_object_get(job, "created_at")));
	if (json_is_integer(s) && json_is_integer(f))
		json_object_set_new(t, "duration",
		    json_real((double)(json_integer_value(f) -
		                  json_integer_value(s)) /
		        1000));
	if ((url = export_url(api, "/api/v1/jobs/%lld/logs/0", (long long)jid)))
		json_object_set_new(t, "log_url", json_string(url));
	free(url);
	json_object_set_new(t, "output_files", json_array());
	if ((url = export_url(api, "/api/v1/jobs/%lld/logs/1", (long long)jid)))
		json_array_append_new(json_object_get(t, "output_files"),
		    json_pack("{s:s, s:s}", "name", "com2.log", "url", url));
	free(url);
	if ((url = export_url(
	         api, "/api/v1/jobs/%lld/logs/records", (long long)jid)))
		json_array_append_new(json_object_get(t, "output_files"),
		    json_pack(
		        "{s:s, s:s}", "name", "records.jsonl", "url", url));
	free(url);
	env = json_pack("{s:{s:O*, s:O*, s:O*, s:O*}}", "misc", "cpus",
	    json_object_get(p, "cpus"), "mailbox_version",
	    json_object_get(p, "mailbox_version"), "memory_mb",
	    json_object_get(p, "memory_mb"), "policy",
	    json_object_get(p, "policy"));
	if (json_is_string(json_object_get(job, "host"))) {
		json_object_set_new(env, "comment",
		    json_sprintf("host %s (%s), %lld CPUs, mailbox v%lld",
		        json_string_value(json_object_get(job, "host")),
		        json_string_value(json_object_get(job, "libvirt_uri")),
		        (long long)json_integer_value(
		            json_object_get(p, "cpus")),
		        (long long)json_integer_value(
		            json_object_get(p, "mailbox_version"))));
		json_object_set(json_object_get(env, "misc"), "host",
		    json_object_get(job, "host"));
		json_object_set(json_object_get(env, "misc"), "libvirt_uri",
		    json_object_get(job, "libvirt_uri"));
	}
	json_object_set_new(t, "environment", env);
	return t;
}

/* The job's own test: path SCENARIO, status from its verdict. */
static json_t *
job_test(struct api *api, const struct kcidb_run *k, const json_t *job,
    const char *bid)
{
	const char *v = json_string_value(json_object_get(job, "verdict"));
	const char *state = json_string_value(json_object_get(job, "state"));
	json_t *t = test_common(api, k, job, bid), *ex;
	int as_exp = json_integer_value(json_object_get(job, "as_expected")) ==
	    1;
	char key[32];
	struct wf_buf path;
	const char *status;
	int known;

	export_key(key, json_object_get(job, "id"));
	known = json_object_size(json_object_get(k->known, key)) > 0;
	if (strcmp(state, "done") != 0 || v == NULL)
		status = "SKIP";
	else if (strcmp(v, "infra") == 0)
		status = "ERROR";
	else
		status = strcmp(v, "pass") == 0 ? "PASS" : "FAIL";
	wf_buf_init(&path, 1024);
	path_part(&path, json_string_value(json_object_get(job, "scenario")));
	json_object_set_new(t, "id", json_sprintf(ORIGIN ":job-%s", key));
	json_object_set_new(t, "path", json_string(wf_buf_str(&path)));
	json_object_set_new(t, "status", json_string(status));
	if (strcmp(status, "FAIL") == 0)
		json_object_set_new(t, "waived", json_boolean(as_exp || known));
	set_some(t, "comment",
	    wf_json_textz(json_string_value(json_object_get(job, "reason"))));
	if ((ex = json_object_get(k->excerpts, key)) != NULL)
		json_object_set(t, "log_excerpt", ex);
	wf_buf_free(&path);
	return t;
}

/* A job's tests: its own, then one per check (judged jobs only). */
static void
job_tests(struct api *api, const struct kcidb_run *k, const json_t *job,
    const char *bid, json_t *tests)
{
	const json_t *c, *expected = json_object_get(job, "expected_failing");
	const json_t *known;
	const char *check;
	struct wf_buf path;
	char key[32];
	json_t *t;
	size_t i;
	int failed, want_fail;

	json_array_append_new(tests, job_test(api, k, job, bid));
	if (!judged(job))
		return;
	export_key(key, json_object_get(job, "id"));
	known = json_object_get(k->known, key);
	json_array_foreach (json_object_get(k->checks, key), i, c) {
		check = json_string_value(json_object_get(c, "check"));
		failed = json_integer_value(json_object_get(c, "ok")) != 1;
		want_fail = in_list(expected, check);
		t = test_common(api, k, job, bid);
		wf_buf_init(&path, 1024);
		path_part(
		    &path, json_string_value(json_object_get(job, "scenario")));
		wf_buf_printf(&path, ".");
		path_part(&path, check);
		json_object_set_new(
		    t, "id", json_sprintf(ORIGIN ":job-%s:%s", key, check));
		json_object_set_new(t, "path", json_string(wf_buf_str(&path)));
		wf_buf_free(&path);
		json_object_set_new(
		    t, "status", json_string(failed ? "FAIL" : "PASS"));
		if (failed)
			json_object_set_new(t, "waived",
			    json_boolean(
			        want_fail || json_object_get(known, check)));
		json_object_set_new(json_object_get(t, "misc"), "check_ok",
		    json_boolean(!failed));
		json_object_set_new(json_object_get(t, "misc"),
		    "expected_to_fail", json_boolean(want_fail));
		if (json_object_get(known, check) != NULL)
			json_object_set(json_object_get(t, "misc"),
			    "known_issue_ids", json_object_get(known, check));
		json_array_append_new(tests, t);
	}
}

void
api_run_kcidb(struct req *r, struct reply *out)
{
	struct kcidb_run k = { .id = req_id(r, 3, out) };
	json_t *checkouts, *builds, *tests, *job;
	char cid[4200], bid[4300];
	const char *kernel;
	size_t i;
	int rc;

	if (k.id == -1)
		return;
	if ((rc = kcidb_read(r->api, &k)) != 1) {
		if (rc == 0)
			reply_error(out, 404, "no run %lld", (long long)k.id);
		else
			reply_db_error(out);
		kcidb_run_free(&k);
		return;
	}
	checkouts = json_object();
	builds = json_object();
	tests = json_array();
	json_array_foreach (k.jobs, i, job) {
		kernel = export_kernel(json_object_get(job, "params"));
		snprintf(cid, sizeof(cid), ORIGIN ":run-%lld%s%s",
		    (long long)k.id, kernel ? ":" : "", kernel ? kernel : "");
		snprintf(bid, sizeof(bid), "%s:build", cid);
		if (json_object_get(builds, bid) == NULL) {
			json_object_set_new(
			    checkouts, cid, kcidb_checkout(&k, kernel, cid));
			json_object_set_new(
			    builds, bid, kcidb_build(&k, kernel, bid, cid));
		}
		job_tests(r->api, &k, job, bid, tests);
	}
	{
		json_t *res = json_pack("{s:{s:i, s:i}, s:[], s:[], s:o}",
		    "version", "major", 4, "minor", 0, "checkouts", "builds",
		    "tests", tests);
		const char *key;
		json_t *v;

		json_object_foreach (checkouts, key, v)
			json_array_append(json_object_get(res, "checkouts"), v);
		json_object_foreach (builds, key, v)
			json_array_append(json_object_get(res, "builds"), v);
		reply_json(out, 200, res);
	}
	json_decref(checkouts);
	json_decref(builds);
	kcidb_run_free(&k);
}
