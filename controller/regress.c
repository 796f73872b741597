/*
 * regress.c: attempts, retries before a regression, known issues and the
 * classification of a nightly run (see regress.h).
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "classify.h"
#include "known.h"
#include "log.h"
#include "regress.h"
#include "ticker.h"
#include "util.h"

#define LOG_READ_MAX (64 * 1024 * 1024)

int
regress_record_attempt(struct db *db, int64_t job, int64_t attempt,
    const char *verdict, int as_expected, const char *failing,
    const char *reason)
{
	return db_exec(db, NULL,
	    "INSERT OR REPLACE INTO attempts (job_id,"
	    " attempt, verdict, as_expected, failing, reason, finished_at)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)",
	    "iitdtti", job, attempt, verdict, as_expected,
	    failing != NULL ? failing : "[]", reason != NULL ? reason : "",
	    db_now_ms());
}

/* --- known issues --- */

int
regress_logs_read(struct db *db, int64_t job, struct regress_logs *l)
{
	int port;

	memset(l, 0, sizeof(*l));
	for (port = 0; port < 2; port++)
		wf_buf_init(&l->log[port], LOG_READ_MAX);
	if (db_int(db, &l->rev, "SELECT coalesce(max(id), 0) FROM known_issues",
	        "") != 1 ||
	    (l->issues = db_rows(db,
	         "SELECT id, log_regex FROM known_issues"
	         " WHERE id <= ? AND log_regex != '' ORDER BY id",
	         "i", l->rev)) == NULL)
		return -1;
	/* No regex to match: the logs are not needed. */
	if (json_array_size(l->issues) == 0)
		return 0;
	for (port = 0; port < 2; port++)
		if (db_job_log(db, job, port, &l->log[port]) == -1)
			return -1;
	return 0;
}

void
regress_logs_free(struct regress_logs *l)
{
	json_decref(l->issues);
	l->issues = NULL;
	wf_buf_free(&l->log[0]);
	wf_buf_free(&l->log[1]);
}

json_t *
regress_logs_match(const struct regress_logs *l, int64_t job)
{
	const char *logs[2] = { l->log[0].data, l->log[1].data };
	const size_t lens[2] = { l->log[0].len, l->log[1].len };
	struct known_stats st;
	json_t *m;

	m = known_match_logs(
	    l->issues, logs, lens, wf_now_ms() + KNOWN_BUDGET_MS, &st);
	if (st.out_of_time)
		log_warnx("job %lld: matching the known issues' log regexes"
		          " took over %d ms: the rest do not match",
		    (long long)job, KNOWN_BUDGET_MS);
	if (st.limited > 0)
		log_warnx("job %lld: %lu log line(s) hit the regex engine's"
		          " limits: they do not match",
		    (long long)job, st.limited);
	return m;
}

/* The failing checks an issue covers (new array; empty: none). */
static json_t *
issue_covers(const json_t *issue, const json_t *checks)
{
	const char *pat = json_string_value(json_object_get(issue, "check"));
	json_t *out = json_array(), *c;
	size_t i;

	json_array_foreach (checks, i, c) {
		if (fnmatch(pat, json_string_value(c), 0) == 0)
			json_array_append(out, c);
	}
	return out;
}

/* Stores one issue's row for job: the checks it covers, the line. */
static int
store_known(struct db *db, int64_t job, const json_t *issue,
    const json_t *covers, const json_t *line)
{
	char *ctext = json_dumps(covers, JSON_COMPACT),
	     *ltext = json_is_object(line) ? json_dumps(line, JSON_COMPACT) :
	                                     NULL;
	int rc = -1;

	if (ctext != NULL && (ltext != NULL || !json_is_object(line)))
		rc = db_exec(db, NULL,
		    "INSERT INTO job_known (job_id, issue_id,"
		    " checks, log) VALUES (?, ?, ?, ?)",
		    "iitt", job,
		    (int64_t)json_integer_value(json_object_get(issue, "id")),
		    ctext, ltext);
	free(ctext);
	free(ltext);
	return rc;
}

/*
 * The issues (scenario glob matching) that cover some check, stored; *all
 * = together they cover every check. 0 or -1.
 */
static int
classify_store(struct db *db, int64_t job, const json_t *issues,
    const char *scenario, const json_t *checks, const json_t *matches, int *all)
{
	json_t *issue, *covers, *line, *covered = json_object(), *c;
	const char *rx;
	char key[32];
	size_t i, k;
	int n = 0, rc = 0;

	json_array_foreach (issues, i, issue) {
		if (fnmatch(
		        json_string_value(json_object_get(issue, "scenario")),
		        scenario, 0) != 0)
			continue;
		covers = issue_covers(issue, checks);
		line = json_null();
		rx = json_string_value(json_object_get(issue, "log_regex"));
		if (rx != NULL && rx[0] != '\0') {
			snprintf(key, sizeof(key), "%lld",
			    (long long)json_integer_value(
			        json_object_get(issue, "id")));
			line = json_object_get(matches, key);
		}
		if (json_array_size(covers) > 0 &&
		    (rx == NULL || rx[0] == '\0' || json_is_object(line))) {
			rc = store_known(db, job, issue, covers, line);
			json_array_foreach (covers, k, c)
				json_object_set(
				    covered, json_string_value(c), json_true());
			n++;
		}
		json_decref(covers);
		if (rc == -1)
			break;
	}
	/* Known only when every failing check is explained. */
	*all = n > 0 && json_object_size(covered) >= json_array_size(checks);
	json_decref(covered);
	return rc;
}

int
regress_classify(struct db *db, int64_t job, const json_t *matches, int64_t rev)
{
	json_t *row, *issues = NULL, *checks = NULL;
	const char *verdict;
	int all = 0, rc = -1;

	row = db_row(db,
	    "SELECT scenario, state, verdict, as_expected,"
	    " failing AS \"failing:json\" FROM jobs WHERE id = ?",
	    "i", job);
	if (row == NULL || json_is_null(row))
		goto out;
	if (db_exec(db, NULL, "DELETE FROM job_known WHERE job_id = ?", "i",
	        job) == -1)
		goto out;
	verdict = json_string_value(json_object_get(row, "verdict"));
	/* Judged, and failing or not as expected: what explains it. */
	if (strcmp(json_string_value(json_object_get(row, "state")), "done") ==
	        0 &&
	    verdict != NULL && strcmp(verdict, "infra") != 0 &&
	    (json_array_size(json_object_get(row, "failing")) > 0 ||
	        json_integer_value(json_object_get(row, "as_expected")) == 0)) {
		checks = json_array_size(json_object_get(row, "failing")) > 0 ?
		    json_incref(json_object_get(row, "failing")) :
		    json_pack("[s]", verdict);
		if ((issues = db_rows(db,
		         "SELECT id, scenario, check_name AS"
		         " \"check\", log_regex FROM known_issues WHERE id <= ?"
		         " ORDER BY id",
		         "i", rev)) == NULL ||
		    classify_store(db, job, issues,
		        json_string_value(json_object_get(row, "scenario")),
		        checks, matches, &all) == -1)
			goto out;
	}
	rc = db_exec(db, NULL,
	    "UPDATE jobs SET known = ?, known_rev = max(known_rev,"
	    " ?) WHERE id = ?",
	    "dii", all, rev, job);
out:
	json_decref(issues);
	json_decref(checks);
	json_decref(row);
	return rc;
}

json_t *
regress_known(struct db *db, int64_t job)
{
	json_t *m;
	int all = 0;

	if ((m = regress_known_any(db, job, &all)) != NULL && !all)
		json_array_clear(m);
	return m;
}

json_t *
regress_known_any(struct db *db, int64_t job, int *all)
{
	int64_t known = 0;

	*all = 0;
	if (db_int(db, &known, "SELECT known FROM jobs WHERE id = ?", "i",
	        job) == -1)
		return NULL;
	*all = known == 1;
	return db_rows(db,
	    "SELECT k.id, k.description, k.url, k.scenario,"
	    " k.check_name AS \"check\", k.log_regex, jk.checks AS"
	    " \"checks:json\", jk.log AS \"log:json\" FROM job_known jk JOIN"
	    " known_issues k ON k.id = jk.issue_id WHERE jk.job_id = ? ORDER"
	    " BY k.id",
	    "i", job);
}

int
regress_mark_known(struct db *db, json_t *jobs)
{
	json_t *job, *m, *ids, *k;
	size_t i, x;

	json_array_foreach (jobs, i, job) {
		const char *st = json_string_value(
		    json_object_get(job, "state"));

		ids = json_array();
		if (st != NULL && strcmp(st, "done") == 0 &&
		    json_integer_value(json_object_get(job, "as_expected")) ==
		        0 &&
		    strcmp(json_string_value(json_object_get(job, "verdict")) ?
		            json_string_value(json_object_get(job, "verdict")) :
		            "",
		        "infra") != 0) {
			m = regress_known(
			    db, json_integer_value(json_object_get(job, "id")));
			if (m == NULL) {
				json_decref(ids);
				return -1;
			}
			json_array_foreach (m, x, k)
				json_array_append(
				    ids, json_object_get(k, "id"));
			json_decref(m);
		}
		json_object_set_new(
		    job, "known", json_boolean(json_array_size(ids) > 0));
		json_object_set_new(job, "known_issues", ids);
	}
	return 0;
}

/* --- retries --- */

/* The previous night's run of the schedule that started run (0: none). */
static int
previous_run(struct db *db, int64_t run, int64_t *prev)
{
	int rc;

	*prev = 0;
	rc = db_int(db, prev,
	    "SELECT p.run_id FROM schedule_runs p,"
	    " schedule_runs c WHERE c.run_id = ?1 AND p.schedule = c.schedule"
	    " AND p.day < c.day ORDER BY p.day DESC LIMIT 1",
	    "i", run);
	if (rc != 0)
		return rc;
	/* Not started by a schedule: the previous finished run of its kind. */
	if (db_int(db, prev,
	        "SELECT count(*) FROM schedule_runs WHERE"
	        " run_id = ?",
	        "i", run) != 1)
		return -1;
	if (*prev > 0) {
		*prev = 0;
		return 0;
	}
	return db_int(db, prev,
	    "SELECT p.id FROM runs p, runs c WHERE c.id ="
	    " ?1 AND p.kind = c.kind AND p.id < c.id AND p.state = 'done'"
	    " ORDER BY p.id DESC LIMIT 1",
	    "i", run);
}

int
regress_retry_wanted(struct db *db, int64_t job)
{
	json_t *row = NULL, *known = NULL;
	int64_t prev = 0, prev_ok = 0, failed = 0;
	int rc = -1;

	row = db_row(db,
	    "SELECT j.run_id, j.scenario, j.matrix, j.verdict,"
	    " j.failing AS \"failing:json\", r.retries FROM jobs j JOIN"
	    " schedule_runs r ON r.run_id = j.run_id WHERE j.id = ?",
	    "i", job);
	if (row == NULL)
		return -1;
	if (json_is_null(row)) {
		rc = 0;
		goto out;
	}
	if (db_int(db, &failed,
	        "SELECT count(*) FROM attempts WHERE job_id = ?"
	        " AND verdict != 'infra' AND as_expected = 0",
	        "i", job) != 1)
		goto out;
	if (failed > json_integer_value(json_object_get(row, "retries"))) {
		rc = 0;
		goto out;
	}
	if ((rc = previous_run(db,
	         json_integer_value(json_object_get(row, "run_id")), &prev)) !=
	    1)
		goto out;
	rc = db_int(db, &prev_ok,
	    "SELECT as_expected = 1 FROM jobs WHERE"
	    " run_id = ? AND scenario = ? AND matrix = ? AND state = 'done'",
	    "itt", prev, json_string_value(json_object_get(row, "scenario")),
	    json_string_value(json_object_get(row, "matrix")));
	if (rc != 1 || !prev_ok) {
		rc = rc == -1 ? -1 : 0;
		goto out;
	}
	known = regress_known(db, job);
	rc = known == NULL ? -1 : json_array_size(known) == 0;
out:
	json_decref(known);
	json_decref(row);
	return rc;
}

/* --- classification --- */

/* Attempts of a run's jobs, keyed by job id (new object). */
static json_t *
run_attempts(struct db *db, int64_t run)
{
	json_t *rows, *row, *by = json_object(), *list;
	char key[32];
	size_t i;

	rows = db_rows(db,
	    "SELECT a.job_id, a.attempt, a.verdict,"
	    " a.as_expected, a.failing AS \"failing:json\", a.reason FROM"
	    " attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ?"
	    " ORDER BY a.job_id, a.attempt",
	    "i", run);
	if (rows == NULL) {
		json_decref(by);
		return NULL;
	}
	json_array_foreach (rows, i, row) {
		snprintf(key, sizeof(key), "%lld",
		    (long long)json_integer_value(
		        json_object_get(row, "job_id")));
		if ((list = json_object_get(by, key)) == NULL) {
			list = json_array();
			json_object_set_new(by, key, list);
		}
		json_object_del(row, "job_id");
		json_array_append(list, row);
	}
	json_decref(rows);
	return by;
}

/* A job's outcome from its attempts (or its row, for older jobs). */
static void
outcome_of(const json_t *job, const json_t *attempts, struct case_outcome *o)
{
	const json_t *a;
	size_t i;

	memset(o, 0, sizeof(*o));
	o->present = 1;
	o->finished = strcmp(json_string_value(json_object_get(job, "state")),
	                  "done") == 0;
	if (attempts == NULL || json_array_size(attempts) == 0) {
		if (!o->finished)
			return;
		attempts = json_pack("[O]", job); /* verdict, as_expected */
		outcome_of(job, attempts, o);
		json_decref((json_t *)attempts);
		return;
	}
	json_array_foreach (attempts, i, a) {
		const char *v = json_string_value(
		    json_object_get(a, "verdict"));

		if (v == NULL || strcmp(v, "infra") == 0) {
			o->n_infra++;
		} else if (json_integer_value(
		               json_object_get(a, "as_expected")) == 1) {
			o->n_ok++;
			o->last_ok = 1;
		} else {
			o->n_bad++;
			o->last_ok = 0;
		}
	}
}

#define CASE_COLUMNS                                         \
	"id, scenario, matrix, state, verdict, as_expected," \
	" failing AS \"failing:json\", attempt"

/* scenario + matrix text: how a case is found in another run. */
static void
case_key(const json_t *job, struct wf_buf *b)
{
	b->len = 0;
	wf_buf_printf(b, "%s\n%s",
	    json_string_value(json_object_get(job, "scenario")),
	    json_string_value(json_object_get(job, "matrix")));
}

static json_t *
classify_jobs(struct db *db, const json_t *jobs, const json_t *att,
    const json_t *prev_jobs, const json_t *prev_att, json_t *counts)
{
	json_t *cases = json_array(), *prev_by = json_object(), *job, *p, *c;
	json_t *known;
	struct case_outcome cur, before;
	enum case_class cls;
	struct wf_buf key;
	char id[32];
	size_t i;
	int n;

	wf_buf_init(&key, 1 << 20);
	json_array_foreach (prev_jobs, i, job) {
		case_key(job, &key);
		json_object_set(prev_by, wf_buf_str(&key), job);
	}
	json_array_foreach (jobs, i, job) {
		case_key(job, &key);
		p = json_object_get(prev_by, wf_buf_str(&key));
		snprintf(id, sizeof(id), "%lld",
		    (long long)json_integer_value(json_object_get(job, "id")));
		outcome_of(job, json_object_get(att, id), &cur);
		if (p != NULL) {
			snprintf(id, sizeof(id), "%lld",
			    (long long)json_integer_value(
			        json_object_get(p, "id")));
			outcome_of(p, json_object_get(prev_att, id), &before);
		}
		known = NULL;
		if (cur.finished && cur.n_bad > 0 && cur.n_ok == 0) {
			known = regress_known(
			    db, json_integer_value(json_object_get(job, "id")));
			if (known == NULL)
				goto fail;
			cur.known = json_array_size(known) > 0;
		}
		cls = classify_case(p != NULL ? &before : NULL, &cur);
		snprintf(id, sizeof(id), "%lld",
		    (long long)json_integer_value(json_object_get(job, "id")));
		c = json_pack("{s:O, s:O, s:o, s:s, s:O, s:O, s:O, s:O, s:O,"
		              " s:O, s:O}",
		    "job", json_object_get(job, "id"), "scenario",
		    json_object_get(job, "scenario"), "matrix",
		    json_loads(
		        json_string_value(json_object_get(job, "matrix")), 0,
		        NULL),
		    "class", classify_name(cls), "verdict",
		    json_object_get(job, "verdict"), "as_expected",
		    json_object_get(job, "as_expected"), "failing",
		    json_object_get(job, "failing"), "attempts",
		    json_object_get(att, id) ? json_object_get(att, id) :
		                               json_array(),
		    "previous_job", p ? json_object_get(p, "id") : json_null(),
		    "previous_verdict",
		    p ? json_object_get(p, "verdict") : json_null(),
		    "previous_as_expected",
		    p ? json_object_get(p, "as_expected") : json_null());
		if (json_object_get(att, id) == NULL)
			json_decref(json_object_get(c, "attempts"));
		if (cur.known)
			json_object_set(c, "known", known);
		json_decref(known);
		json_array_append_new(cases, c);
		n = (int)json_integer_value(
		    json_object_get(counts, classify_name(cls)));
		json_object_set_new(
		    counts, classify_name(cls), json_integer(n + 1));
	}
	wf_buf_free(&key);
	json_decref(prev_by);
	return cases;
fail:
	wf_buf_free(&key);
	json_decref(prev_by);
	json_decref(cases);
	return NULL;
}

json_t *
regress_run(struct db *db, int64_t run)
{
	json_t *head, *jobs = NULL, *att = NULL, *pjobs = NULL, *patt = NULL;
	json_t *cases, *counts, *res = NULL;
	int64_t prev = 0;

	head = db_row(db,
	    "SELECT r.id AS run, r.kind, r.state, s.schedule,"
	    " s.day FROM runs r LEFT JOIN schedule_runs s ON s.run_id = r.id"
	    " WHERE r.id = ?",
	    "i", run);
	if (head == NULL || json_is_null(head))
		return head;
	if (previous_run(db, run, &prev) == -1 ||
	    (jobs = db_rows(db,
	         "SELECT " CASE_COLUMNS
	         " FROM jobs WHERE run_id = ? ORDER BY id",
	         "i", run)) == NULL ||
	    (att = run_attempts(db, run)) == NULL ||
	    (pjobs = db_rows(db,
	         "SELECT " CASE_COLUMNS " FROM jobs WHERE"
	         " run_id = ? ORDER BY id",
	         "i", prev)) == NULL ||
	    (patt = run_attempts(db, prev)) == NULL)
		goto out;
	counts = json_object();
	if ((cases = classify_jobs(db, jobs, att, pjobs, patt, counts)) ==
	    NULL) {
		json_decref(counts);
		goto out;
	}
	json_object_set_new(
	    head, "previous", prev > 0 ? json_integer(prev) : json_null());
	json_object_set_new(head, "counts", counts);
	json_object_set_new(head, "cases", cases);
	res = json_incref(head);
out:
	json_decref(head);
	json_decref(jobs);
	json_decref(att);
	json_decref(pjobs);
	json_decref(patt);
	return res;
}

/* --- the classifier thread --- */

/*
 * The oldest finished job classified before the newest known issue, done
 * again: its logs read under the lock, matched without it, the result
 * stored. 1 one was done, 0 none was waiting, -1 an error.
 */
static int
classify_one(struct api *api)
{
	struct db *db = api->db;
	struct regress_logs l;
	json_t *m = NULL;
	int64_t job = 0;
	int rc;

	memset(&l, 0, sizeof(l));
	db_lock(db);
	rc = db_int(db, &job,
	    "SELECT id FROM jobs WHERE state = 'done' AND"
	    " verdict != 'infra' AND (as_expected = 0 OR failing != '[]') AND"
	    " known_rev < (SELECT coalesce(max(id), 0) FROM known_issues)"
	    " ORDER BY id LIMIT 1",
	    "");
	if (rc == 1 && regress_logs_read(db, job, &l) == -1)
		rc = -1;
	db_unlock(db);
	if (rc == 1 && (m = regress_logs_match(&l, job)) == NULL)
		rc = -1;
	if (rc == 1) {
		db_lock(db);
		if (db_begin(db) == -1 ||
		    regress_classify(db, job, m, l.rev) == -1 ||
		    db_commit(db) == -1) {
			db_rollback(db);
			rc = -1;
		}
		db_unlock(db);
	}
	json_decref(m);
	regress_logs_free(&l);
	return rc;
}

static void
classify_tick(void *arg)
{
	struct api *api = arg;
	struct ticker *t;

	/* The first call may come before ticker_start has returned. */
	while (((t = __atomic_load_n(&api->classifier, __ATOMIC_ACQUIRE)) ==
	               NULL ||
	           !ticker_stopping(t)) &&
	    classify_one(api) == 1)
		;
}

int
regress_worker_start(struct api *api)
{
	__atomic_store_n(&api->classifier,
	    ticker_start(classify_tick, api, 10000), __ATOMIC_RELEASE);
	return api->classifier != NULL ? 0 : -1;
}

void
regress_worker_kick(struct api *api)
{
	if (api->classifier != NULL)
		ticker_kick(api->classifier);
}

void
regress_worker_stop(struct api *api)
{
	ticker_stop(api->classifier);
	api->classifier = NULL;
}
