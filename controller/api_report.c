/*
 * api_report.c: a run compared with another case by case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "util.h"

/*
 * GET /api/v1/runs/{id}/compare[?with=ID]: this run against the previous
 * finished run of the same kind (or run ID). Cases are matched by scenario
 * and params. A case not as expected now but as expected before is a
 * regression; the reverse is fixed; a job whose judged attempts were both
 * as expected and not (attempts, regress.h) is listed as flaky too.
 */
void
api_run_compare(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out), with = 0, exists = 0, missing = 0;
	json_t *rows = NULL, *row, *res;
	const char *cat;
	size_t i;
	int rc;

	if (id == -1 ||
	    req_arg_int(r, "with", 1, INT64_MAX, 0, &with, out) == -1)
		return;
	db_lock(r->api->db);
	/* Both runs must exist: a missing one is a 404, not an empty list. */
	if ((rc = db_int(r->api->db, &exists,
	         "SELECT count(*) FROM runs WHERE id = ?", "i", id)) == 1 &&
	    exists && with != 0 &&
	    (rc = db_int(r->api->db, &exists,
	         "SELECT count(*) FROM runs WHERE id = ?", "i", with)) == 1 &&
	    !exists)
		missing = with;
	else if (rc == 1 && !exists)
		missing = id;
	if (rc == -1 || missing != 0) {
		db_unlock(r->api->db);
		if (rc == -1)
			reply_db_error(out);
		else
			reply_error(
			    out, 404, "no run %lld", (long long)missing);
		return;
	}
	rc = with != 0 ?
	    1 :
	    db_int(r->api->db, &with,
	        "SELECT p.id FROM runs p,"
	        " runs c WHERE c.id = ?1 AND p.kind = c.kind AND p.id < c.id AND"
	        " p.state = 'done' ORDER BY p.id DESC LIMIT 1",
	        "i", id);
	if (rc == 1)
		rows = db_rows(r->api->db,
		    "SELECT c.id AS job, c.scenario,"
		    " c.matrix AS \"matrix:json\", c.verdict, c.as_expected,"
		    " c.attempt, (SELECT count(DISTINCT a.as_expected) FROM"
		    " attempts a WHERE a.job_id = c.id AND a.verdict != 'infra')"
		    " AS outcomes, p.id AS previous_job, p.verdict AS"
		    " previous_verdict, p.as_expected AS previous_as_expected"
		    " FROM jobs c LEFT JOIN jobs p ON p.run_id = ?2 AND"
		    " p.scenario = c.scenario AND p.params = c.params AND"
		    " p.state = 'done' WHERE c.run_id = ?1 AND c.state = 'done'"
		    " ORDER BY c.id",
		    "ii", id, with);
	db_unlock(r->api->db);
	if (rc == -1 || (rc == 1 && rows == NULL)) {
		reply_db_error(out);
		return;
	}
	if (rc == 0) {
		reply_error(out, 404,
		    "run %lld has no earlier finished run of"
		    " its kind",
		    (long long)id);
		return;
	}
	res = json_pack("{s:I, s:I, s:[], s:[], s:[], s:[], s:[]}", "run",
	    (json_int_t)id, "previous", (json_int_t)with, "regressions",
	    "fixed", "still_failing", "new_failing", "flaky");
	json_array_foreach (rows, i, row) {
		json_t *now = json_object_get(row, "as_expected");
		json_t *before = json_object_get(row, "previous_as_expected");

		cat = NULL;
		if (json_integer_value(now) != 1 && json_is_null(before))
			cat = "new_failing";
		else if (json_integer_value(now) != 1)
			cat = json_integer_value(before) == 1 ? "regressions" :
			                                        "still_failing";
		else if (!json_is_null(before) &&
		    json_integer_value(before) != 1)
			cat = "fixed";
		if (cat != NULL)
			json_array_append(json_object_get(res, cat), row);
		/* Both as expected and not across its attempts (infra aside). */
		if (json_integer_value(json_object_get(row, "outcomes")) > 1)
			json_array_append(json_object_get(res, "flaky"), row);
		json_object_del(row, "outcomes");
	}
	json_decref(rows);
	reply_json(out, 200, res);
}
