/*
 * regress.h: nightly regressions. Remembers the outcome of every attempt
 * of a job, decides when a failed nightly case is retried before it may be
 * called a regression, matches failures against known issues (scenario and
 * check glob patterns, optional POSIX regex over the job's guest logs), and
 * classifies each case of a run against the previous night's
 * (classify.h). Every function here is called with db->lock held, but
 * regress_logs_match and the classifier thread's.
 */
#ifndef WF_CTL_REGRESS_H
#define WF_CTL_REGRESS_H

#include <stdint.h>

#include <jansson.h>

#include "api.h"

/* Stores one attempt's outcome (failing: JSON text). 0 or -1. */
int regress_record_attempt(struct db *db, int64_t job, int64_t attempt,
    const char *verdict, int as_expected, const char *failing,
    const char *reason);

/*
 * 1 when this job's latest attempt (judged, not as expected) is to be run
 * again: its run was started by a schedule, the same case was as expected
 * the previous night, no known issue explains the failure, and fewer than
 * the schedule's retries have been made. 0 no, -1 error.
 */
int regress_retry_wanted(struct db *db, int64_t job);

/*
 * Known issues are matched once, when a job finishes (and again by the
 * classifier thread below when an issue is added), and stored; reads only
 * read that (job_known). Matching is bounded (known.h) and runs without
 * the lock: the logs and issues are read under it, matched, and the result
 * stored under it again.
 */
struct regress_logs {
	json_t *issues; /* [{"id", "log_regex"}] with a regex */
	int64_t rev; /* the newest issue id when read */
	struct wf_buf log[2]; /* the job's COM1 and COM2 logs */
};

/* Reads them (locked); 0 or -1. regress_logs_free in any case. */
int regress_logs_read(struct db *db, int64_t job, struct regress_logs *l);
void regress_logs_free(struct regress_logs *l);
/* Matches them (unlocked): known_match_logs' object, NULL out of memory. */
json_t *regress_logs_match(const struct regress_logs *l, int64_t job);
/*
 * Stores what explains a finished job (locked, in a transaction): every
 * issue up to rev whose scenario glob matches, that covers a failing check
 * (or the verdict's name when none failed) and, with a regex, whose line
 * matches names in matches (regress_logs_match); jobs.known when together
 * they cover every check. Unfinished, infra and passing jobs get none.
 */
int regress_classify(
    struct db *db, int64_t job, const json_t *matches, int64_t rev);

/*
 * The stored known issues that explain a failure (a new array, one object
 * per issue: {"id", "description", "url", "scenario", "check", "checks"
 * (the failing checks it covers), "log_regex", "log": {"port", "line_no",
 * "line"} or null}); empty when they do not cover every failing check.
 * NULL on error.
 */
json_t *regress_known(struct db *db, int64_t job);

/*
 * The same, but every issue that covers some failing check (new array);
 * *all = 1 when together they explain the whole failure.
 */
json_t *regress_known_any(struct db *db, int64_t job, int *all);

/*
 * Sets "known" (bool) and "known_issues" (ids) on each job summary of a
 * list (objects with id, scenario, state, verdict, as_expected, failing):
 * a finished job not as expected that known issues explain. 0 or -1.
 */
int regress_mark_known(struct db *db, json_t *jobs);

/*
 * Every case of a run classified against the previous night: {"run",
 * "kind", "schedule", "day", "previous", "counts": {class: n}, "cases":
 * [{"job", "scenario", "matrix", "class", "verdict", "as_expected",
 * "failing", "attempts": [...], "previous_job", "previous_verdict",
 * "previous_as_expected", "known": [...]}]}. The previous run: the latest
 * earlier day of the same schedule, or (a run no schedule started) the
 * previous finished run of the same kind. json_null() when there is no
 * such run id, NULL on error.
 */
json_t *regress_run(struct db *db, int64_t run);

/*
 * The classifier thread: classifies again (as regress_classify) every
 * finished job that failed or was not as expected and was classified
 * before the newest known issue, oldest first, every 10 s or when kicked
 * (a known issue was added). 0 or -1.
 */
int regress_worker_start(struct api *api);
void regress_worker_kick(struct api *api);
void regress_worker_stop(struct api *api);

#endif
