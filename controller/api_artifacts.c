/*
 * api_artifacts.c: GET /api/v1/artifacts -> {"artifacts": [{"name", "kind",
 * "version", "jobs"}]}: every kernel a job named (package or path), its
 * version (uname -r) once a job booted it, null before, and how many jobs
 * named it.  The rows are kept by triggers (db/003_artifacts.sql).
 */
#include "api_artifacts.h"
#include "db.h"

void
api_artifacts_list(struct req *r, struct reply *out)
{
	json_t *rows;

	db_lock(r->api->db);
	rows = db_rows(r->api->db,
	    "SELECT name, kind, version FROM artifacts"
	    " ORDER BY name",
	    "");
	db_unlock(r->api->db);
	if (rows == NULL)
		reply_db_error(out);
	else
		reply_json(out, 200, json_pack("{s:o}", "artifacts", rows));
}
