/*
 * ctl_fixture.h: a controller's state for the unit tests of its modules
 * (test_queue.c, test_verdict.c, test_auth.c), header only: a database in
 * a temporary directory migrated with db/, an api over it (no HTTP, no
 * threads), and rows made the way the API makes them. Run from the top of
 * the tree (tests/run does).
 */
#ifndef WF_CTL_FIXTURE_H
#define WF_CTL_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../controller/api.h"
#include "../../controller/db.h"
#include "bisect_build.h"
#include "log.h"
#include "util.h"

struct fixture {
	char dir[64];
	struct ctl_config cfg;
	struct api api;
	struct db *db;
};

/* A fresh migrated database; 0 or -1 (the cause printed). */
static inline int
fixture_open(struct fixture *fx)
{
	char path[128], *cause = NULL;

	memset(fx, 0, sizeof(*fx));
	wf_log_set_level(WF_LOG_WARN); /* the modules log what they do */
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/wf-unit-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/w.db", fx->dir);
	if ((fx->db = db_open(path, &cause)) == NULL ||
	    db_migrate(fx->db, "db", &cause) == -1) {
		printf("  fixture: %s\n", wf_cause_str(cause));
		free(cause);
		return -1;
	}
	fx->cfg.lease_ms = 60000;
	fx->cfg.max_attempts = 3;
	fx->cfg.log_cap = 1 << 20;
	fx->api.cfg = &fx->cfg;
	fx->api.db = fx->db;
	return 0;
}

static inline void
fixture_close(struct fixture *fx)
{
	db_close(fx->db);
	bisect_build_remove(fx->dir);
}

/* A good host with slots; its id. */
static inline int64_t
fixture_host(struct fixture *fx, const char *name, int slots)
{
	if (db_exec(fx->db, NULL,
	        "INSERT INTO hosts (name, slots, libvirt_uri,"
	        " registered_at, last_seen) VALUES (?, ?, 'test:///default', ?, ?)",
	        "tdii", name, slots, db_now_ms(), db_now_ms()) == -1)
		return -1;
	return db_last_id(fx->db);
}

/* A queued run of njobs jobs of one case (params: a run spec as JSON),
 * expecting verdict with failing checks (a JSON array); the run's id. */
static inline int64_t
fixture_run(struct fixture *fx, int njobs, const char *params,
    const char *verdict, const char *failing)
{
	int64_t run, scen;
	int i;

	if (db_exec(fx->db, NULL,
	        "INSERT OR IGNORE INTO scenarios (name,"
	        " sha256, body, created_at) VALUES ('s', 'x', '{}', ?)",
	        "i", db_now_ms()) == -1 ||
	    db_int(fx->db, &scen,
	        "SELECT id FROM"
	        " scenarios WHERE sha256 = 'x'",
	        "") != 1)
		return -1;
	if (db_exec(fx->db, NULL,
	        "INSERT INTO runs (kind, state, request,"
	        " created_at, jobs_total) VALUES ('adhoc', 'queued', '{}', ?, ?)",
	        "ii", db_now_ms(), (int64_t)njobs) == -1)
		return -1;
	run = db_last_id(fx->db);
	for (i = 0; i < njobs; i++) {
		if (db_exec(fx->db, NULL,
		        "INSERT INTO jobs (run_id, scenario_id,"
		        " scenario, case_index, matrix, params, state,"
		        " expected_verdict, expected_failing, created_at) VALUES"
		        " (?, ?, 's', ?, '{}', ?, 'queued', ?, ?, ?)",
		        "iiittti", run, scen, (int64_t)i, params, verdict,
		        failing, db_now_ms()) == -1)
			return -1;
	}
	return run;
}

/* A column of a job, as text ("" for NULL). */
static inline const char *
fixture_job_str(
    struct fixture *fx, int64_t job, const char *col, char *out, size_t size)
{
	char sql[128];
	json_t *row;

	snprintf(
	    sql, sizeof(sql), "SELECT %s AS v FROM jobs WHERE id = ?", col);
	row = db_row(fx->db, sql, "i", job);
	snprintf(out, size, "%s",
	    json_is_string(json_object_get(row, "v")) ?
	        json_string_value(json_object_get(row, "v")) :
	        json_is_integer(json_object_get(row, "v")) ? "" :
	                                                     "");
	if (json_is_integer(json_object_get(row, "v")))
		snprintf(out, size, "%lld",
		    (long long)json_integer_value(json_object_get(row, "v")));
	json_decref(row);
	return out;
}

#endif
