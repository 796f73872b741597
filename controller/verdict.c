/*
 * verdict.c: evaluate a finished job's events into its verdict (see
 * verdict.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "invariants.h"
#include "log.h"
#include "queue.h"
#include "regress.h"
#include "runspec_json.h"
#include "util.h"
#include "verdict.h"

/* The events of this attempt, as records (new array), NULL on error. */
static json_t *
attempt_records(struct db *db, int64_t job, int64_t attempt, int *host_exit)
{
	json_t *rows, *row, *rec, *recs;
	size_t i;

	rows = db_rows(db,
	    "SELECT record AS \"record:json\" FROM events WHERE"
	    " job_id = ? AND attempt = ? ORDER BY seq",
	    "ii", job, attempt);
	if (rows == NULL)
		return NULL;
	recs = json_array();
	*host_exit = 0;
	json_array_foreach (rows, i, row) {
		rec = json_object_get(row, "record");
		if (strcmp(json_string_value(json_object_get(rec, "ev")) ?
		            json_string_value(json_object_get(rec, "ev")) :
		            "",
		        "host-exit") == 0)
			*host_exit = 1;
		json_array_append(recs, rec);
	}
	json_decref(rows);
	return recs;
}

/*
 * An agent that ended without sending host-exit still said how the guest
 * ended: record that, so the evaluation (and a reader) sees it.
 */
static int
add_host_exit(struct db *db, int64_t job, int64_t attempt, json_t *recs,
    const char *outcome, const char *detail)
{
	const char *how = strcmp(outcome, "hang") == 0 ? "timeout" : "exited";
	int64_t seq = 0;
	json_t *rec;
	char *text;
	int rc;

	if (db_int(db, &seq, "SELECT next_seq FROM jobs WHERE id = ?", "i",
	        job) != 1)
		return -1;
	rec = json_pack("{s:i, s:s, s:i, s:s, s:i, s:s, s:s, s:s}", "v", 1,
	    "src", "host", "gen", 0, "ev", "host-exit", "t_us", 0, "how", how,
	    "detail", detail, "by", "controller");
	text = json_dumps(rec, JSON_COMPACT);
	rc = db_exec(db, NULL,
	    "INSERT INTO events (job_id, attempt, seq,"
	    " record) VALUES (?, ?, ?, ?)",
	    "iiit", job, attempt, seq, text);
	if (rc == 0)
		rc = db_exec(db, NULL,
		    "UPDATE jobs SET next_seq = ? WHERE"
		    " id = ?",
		    "ii", seq + 1, job);
	free(text);
	json_array_append_new(recs, rec);
	return rc;
}

static int
store_results(struct db *db, int64_t job, const json_t *eval)
{
	const json_t *c, *g;
	char *expected, *observed, *data;
	size_t i;
	int rc = 0;

	if (db_exec(db, NULL, "DELETE FROM checks WHERE job_id = ?", "i",
	        job) == -1 ||
	    db_exec(db, NULL,
	        "DELETE FROM generations WHERE"
	        " job_id = ?",
	        "i", job) == -1)
		return -1;
	json_array_foreach (json_object_get(eval, "checks"), i, c) {
		expected = json_dumps(json_object_get(c, "expected"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		observed = json_dumps(json_object_get(c, "observed"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		rc = db_exec(db, NULL,
		    "INSERT INTO checks (job_id, gen,"
		    " check_name, ok, expected, observed) VALUES (?, ?, ?, ?,"
		    " ?, ?)",
		    "iitdtt", job,
		    (int64_t)json_integer_value(json_object_get(c, "gen")),
		    json_string_value(json_object_get(c, "check")),
		    json_is_true(json_object_get(c, "ok")),
		    expected ? expected : "null", observed ? observed : "null");
		free(expected);
		free(observed);
		if (rc == -1)
			return -1;
	}
	json_array_foreach (json_object_get(eval, "generations"), i, g) {
		data = json_dumps(g, JSON_COMPACT);
		rc = db_exec(db, NULL,
		    "INSERT OR REPLACE INTO generations"
		    " (job_id, gen, data) VALUES (?, ?, ?)",
		    "iit", job,
		    (int64_t)json_integer_value(json_object_get(g, "gen")),
		    data);
		free(data);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/*
 * Host health: HOST_BAD_STREAK infra finishes in a row take the job's host
 * out of the queue (state 'bad', logged) until an admin puts it back; any
 * other finish resets the count.  Called while the job still names its host.
 */
#define HOST_BAD_STREAK 3

static void
host_infra(struct db *db, int64_t job, int infra)
{
	int changes = 0;

	if (!infra) {
		db_exec(db, NULL,
		    "UPDATE hosts SET infra_streak = 0 WHERE id ="
		    " (SELECT lease_host FROM jobs WHERE id = ?)",
		    "i", job);
		return;
	}
	if (db_exec(db, NULL,
	        "UPDATE hosts SET infra_streak = infra_streak + 1"
	        " WHERE id = (SELECT lease_host FROM jobs WHERE id = ?)",
	        "i", job) == -1 ||
	    db_exec(db, &changes,
	        "UPDATE hosts SET state = 'bad'"
	        " WHERE id = (SELECT lease_host FROM jobs WHERE id = ?) AND state ="
	        " 'good' AND infra_streak >= ?",
	        "ii", job, (int64_t)HOST_BAD_STREAK) == -1)
		return;
	if (changes)
		log_warnx(
		    "job %lld: its host had %d infra failures in a row:"
		    " marked bad, no more jobs until an admin puts it back",
		    (long long)job, HOST_BAD_STREAK);
}

json_t *
verdict_finish(struct api *api, int64_t job, const char *outcome,
    const char *detail, const json_t *matches, int64_t known_rev)
{
	struct db *db = api->db;
	json_t *row, *recs = NULL, *eval = NULL, *failing = NULL, *expected;
	json_t *result = NULL;
	struct runspec rs;
	const char *v;
	char *cause = NULL, *ftext = NULL, reason[300];
	int64_t attempt, run;
	int host_exit = 0, as_exp, again = 0;

	row = db_row(db,
	    "SELECT attempt, run_id, params AS \"params:json\","
	    " expected_verdict AS verdict, expected_failing AS"
	    " \"failing_checks:json\" FROM jobs WHERE id = ?",
	    "i", job);
	if (row == NULL || json_is_null(row))
		goto out;
	attempt = json_integer_value(json_object_get(row, "attempt"));
	run = json_integer_value(json_object_get(row, "run_id"));
	expected = json_pack("{s:O, s:O}", "verdict",
	    json_object_get(row, "verdict"), "failing_checks",
	    json_object_get(row, "failing_checks"));
	if (strcmp(outcome, "infra") == 0) {
		snprintf(reason, sizeof(reason), "infra: %.256s", detail);
		goto retry;
	}
	if ((recs = attempt_records(db, job, attempt, &host_exit)) == NULL ||
	    (!host_exit &&
	        add_host_exit(db, job, attempt, recs, outcome, detail) == -1))
		goto out_expected;
	if (runspec_from_json(json_object_get(row, "params"), &rs, &cause) ==
	    -1) {
		/* Stored by the controller itself: never bad, but say so. */
		log_warnx("job %lld: stored params: %s", (long long)job,
		    wf_cause_str(cause));
		goto out_expected;
	}
	eval = invariants_evaluate(&rs, recs);
	v = json_string_value(json_object_get(eval, "verdict"));
	if (strcmp(v, "infra") == 0) {
		snprintf(reason, sizeof(reason), "%.280s",
		    json_string_value(json_object_get(eval, "reason")));
		goto retry;
	}
	host_infra(db, job, 0);
	failing = expect_failing_set(json_object_get(eval, "checks"));
	as_exp = expect_as_expected(v, failing, expected);
	ftext = json_dumps(failing, JSON_COMPACT);
	if (store_results(db, job, eval) == -1 ||
	    db_exec(db, NULL,
	        "UPDATE"
	        " jobs SET state = 'done', verdict = ?, failing = ?, as_expected ="
	        " ?, reason = ?, outcome = ?, detail = ?, finished_at = ?,"
	        " last_host = lease_host, lease_host = NULL, lease_expires = NULL"
	        " WHERE id = ?",
	        "ttdtttii", v, ftext, as_exp,
	        json_string_value(json_object_get(eval, "reason")), outcome,
	        detail, db_now_ms(), job) == -1 ||
	    regress_record_attempt(db, job, attempt, v, as_exp, ftext,
	        json_string_value(json_object_get(eval, "reason"))) == -1 ||
	    regress_classify(db, job, matches, known_rev) == -1)
		goto out_expected;
	/* A nightly failure is tried again before it is a regression. */
	if (!as_exp && (again = regress_retry_wanted(db, job)) == -1)
		goto out_expected;
	snprintf(reason, sizeof(reason), "retried before a regression: %.200s",
	    json_string_value(json_object_get(eval, "reason")));
	if (again ? queue_requeue(api, job, reason) == -1 :
	            queue_run_refresh(db, run) == -1)
		goto out_expected;
	log_info("job %lld: %s (%s)%s", (long long)job, v,
	    as_exp ? "as expected" : "NOT as expected",
	    again ? "; retried" : "");
	result = json_pack("{s:I, s:s, s:b, s:O, s:O, s:O, s:b}", "job",
	    (json_int_t)job, "verdict", v, "as_expected", as_exp, "expected",
	    expected, "failing_checks", failing, "reason",
	    json_object_get(eval, "reason"), "requeued", again);
	goto out_expected;
retry:
	host_infra(db, job, 1);
	if (db_exec(db, NULL,
	        "UPDATE jobs SET outcome = ?, detail = ? WHERE"
	        " id = ?",
	        "tti", outcome, detail, job) == 0 &&
	    queue_retry(api, job, reason) == 0) {
		int64_t state_done = 0;

		db_int(db, &state_done,
		    "SELECT state = 'done' FROM jobs WHERE"
		    " id = ?",
		    "i", job);
		result = json_pack("{s:I, s:s, s:b, s:O, s:[], s:s, s:b}",
		    "job", (json_int_t)job, "verdict", "infra", "as_expected",
		    0, "expected", expected, "failing_checks", "reason", reason,
		    "requeued", !state_done);
	}
out_expected:
	json_decref(expected);
out:
	free(ftext);
	free(cause);
	json_decref(failing);
	json_decref(eval);
	json_decref(recs);
	json_decref(row);
	return result;
}
