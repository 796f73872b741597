/*
 * regress.h: nightly regressions. Remembers the outcome of every attempt
 * of a job, decides when a failed nightly case is retried before it may be
 * called a regression, matches failures against known issues (scenario and
 * check glob patterns, optional POSIX regex over the job's guest logs), and
 * classifies each case of a run against the previous night's
 * (classify.h). Every function here is called with db->lock held.
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
 * The known issues that explain a failure (a new array, one object per
 * issue: {"id", "description", "url", "scenario", "check", "checks" (the
 * failing checks it covers), "log_regex", "log": {"port", "line_no",
 * "line"} when a regex matched}); empty when they do not cover every
 * failing check (or the verdict, when no check failed). NULL on error.
 */
json_t *regress_known(struct db *db, int64_t job, const char *scenario,
    const json_t *failing, const char *verdict);

/*
 * The same, but every issue that matches some failing check (new array);
 * *all = 1 when together they explain the whole failure.
 */
json_t *regress_known_any(struct db *db, int64_t job, const char *scenario,
    const json_t *failing, const char *verdict, int *all);

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

#endif
