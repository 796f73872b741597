/*
 * regress.c: attempts, retries before a regression, known issues and the
 * classification of a nightly run (see regress.h).
 */
#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "classify.h"
#include "log.h"
#include "regress.h"
#include "util.h"

#define LOG_LINE_SHOWN 300
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

/*
 * The first line of the job's logs (port 0, then 1) that re matches, as
 * {"port", "line_no", "line"}; json_null() when none, NULL on error.
 */
static json_t *
log_match(struct db *db, int64_t job, const regex_t *re)
{
	struct wf_buf b;
	json_t *found = json_null();
	char *line, *p, *end, *nl;
	int port, line_no;

	for (port = 0; port <= 1 && json_is_null(found); port++) {
		wf_buf_init(&b, LOG_READ_MAX);
		if (db_job_log(db, job, port, &b) == -1) {
			wf_buf_free(&b);
			json_decref(found);
			return NULL;
		}
		p = b.data;
		end = b.data != NULL ? b.data + b.len : NULL;
		for (line_no = 1; p != NULL && p < end; line_no++) {
			nl = memchr(p, '\n', (size_t)(end - p));
			if (nl == NULL)
				nl = end;
			/* NULs inside a line would end it early: harmless. */
			line = strndup(p, (size_t)(nl - p));
			if (line != NULL &&
			    regexec(re, line, 0, NULL, 0) == 0) {
				line[strcspn(line, "\r")] = '\0';
				if (strlen(line) > LOG_LINE_SHOWN)
					line[LOG_LINE_SHOWN] = '\0';
				json_decref(found);
				found = json_pack("{s:i, s:i, s:s}", "port",
				    port, "line_no", line_no, "line", line);
				free(line);
				break;
			}
			free(line);
			p = nl + 1;
		}
		wf_buf_free(&b);
	}
	return found;
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

json_t *
regress_known(struct db *db, int64_t job, const char *scenario,
    const json_t *failing, const char *verdict)
{
	json_t *m;
	int all = 0;

	if ((m = regress_known_any(
	         db, job, scenario, failing, verdict, &all)) != NULL &&
	    !all)
		json_array_clear(m);
	return m;
}

json_t *
regress_known_any(struct db *db, int64_t job, const char *scenario,
    const json_t *failing, const char *verdict, int *all)
{
	json_t *issues, *issue, *checks, *covers, *m, *matched, *covered;
	const char *rx;
	regex_t re;
	size_t i, k;

	issues = db_rows(db,
	    "SELECT id, description, url, scenario, check_name"
	    " AS \"check\", log_regex FROM known_issues ORDER BY id",
	    "");
	if (issues == NULL)
		return NULL;
	checks = json_array_size(failing) > 0 ?
	    json_incref((json_t *)failing) :
	    json_pack("[s]", verdict != NULL ? verdict : "fail");
	matched = json_array();
	covered = json_object();
	json_array_foreach (issues, i, issue) {
		if (fnmatch(
		        json_string_value(json_object_get(issue, "scenario")),
		        scenario, 0) != 0)
			continue;
		covers = issue_covers(issue, checks);
		if (json_array_size(covers) == 0) {
			json_decref(covers);
			continue;
		}
		m = json_null();
		rx = json_string_value(json_object_get(issue, "log_regex"));
		if (rx != NULL && rx[0] != '\0') {
			/* Checked when stored; a bad one never matches. */
			if (regcomp(&re, rx, REG_EXTENDED | REG_NOSUB) != 0) {
				json_decref(covers);
				continue;
			}
			m = log_match(db, job, &re);
			regfree(&re);
			if (m == NULL || json_is_null(m)) {
				json_decref(covers);
				if (m == NULL)
					goto fail;
				continue;
			}
		}
		json_object_set_new(issue, "checks", covers);
		json_object_set_new(issue, "log", m);
		json_array_append(matched, issue);
		json_array_foreach (covers, k, m)
			json_object_set(
			    covered, json_string_value(m), json_true());
	}
	/* Known only when every failing check is explained. */
	*all = json_array_size(matched) > 0 &&
	    json_object_size(covered) >= json_array_size(checks);
	json_decref(issues);
	json_decref(checks);
	json_decref(covered);
	return matched;
fail:
	json_decref(issues);
	json_decref(checks);
	json_decref(covered);
	json_decref(matched);
	return NULL;
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
			m = regress_known(db,
			    json_integer_value(json_object_get(job, "id")),
			    json_string_value(json_object_get(job, "scenario")),
			    json_object_get(job, "failing"),
			    json_string_value(json_object_get(job, "verdict")));
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
	known = regress_known(db, job,
	    json_string_value(json_object_get(row, "scenario")),
	    json_object_get(row, "failing"),
	    json_string_value(json_object_get(row, "verdict")));
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
			known = regress_known(db,
			    json_integer_value(json_object_get(job, "id")),
			    json_string_value(json_object_get(job, "scenario")),
			    json_object_get(job, "failing"),
			    json_string_value(json_object_get(job, "verdict")));
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
