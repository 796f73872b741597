/*
 * ctlbench_db.c: the benchmark's direct-to-SQLite parts, both through the
 * controller's own db.c (same pragmas: WAL, synchronous=FULL, foreign
 * keys) and schema (the db/ migrations):
 *   bare  the rows an ingest run stores, inserted in a plain loop: one
 *         transaction per batch of 100, one prepared statement reused; the
 *         baseline the HTTP ingest rate is compared with.
 *   seed  a large database for the latency benchmark (too slow to fill
 *         over HTTP): runs of done jobs, with events cycled from the real
 *         fixture, and the checks and generations invariants_evaluate finds in it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../controller/db.h"
#include "ctlbench.h"
#include "invariants.h"
#include "runspec.h"
#include "runspec_json.h"
#include "util.h"

#define SEED_HOSTS 4

static const char *const seed_scenarios[] = {
	"cold-boot",
	"kexec-chain",
	"offline-online-cycle",
	"kdump-on-bsp",
	"kdump-on-ap",
	"kdump-cpu-limit",
	"kexec-after-offline",
	"offline-kexec-online",
	"quirk-v1-short-entry",
	"quirk-no-test-ack",
	"quirk-clear-vector",
	"quirk-stale-checksum",
	"quirk-slow-ack",
	"pre611-kexec-hang",
	"pre611-kdump-hang",
	"mixed-611-to-pre611",
};
#define SEED_NSCEN (sizeof(seed_scenarios) / sizeof(seed_scenarios[0]))
/* The scenario whose jobs carry the whole fixture (a kexec*5 run). */
#define SEED_FULL 1

static struct db *
open_schema(const char *path, const char *schema_dir)
{
	struct db *db;
	char *cause = NULL;

	if ((db = db_open(path, &cause)) == NULL ||
	    db_migrate(db, schema_dir, &cause) == -1) {
		fprintf(stderr, "ctlbench: %s\n", wf_cause_str(cause));
		free(cause);
		db_close(db);
		return NULL;
	}
	return db;
}

static sqlite3_stmt *
prep(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(
		    stderr, "ctlbench: %s: %s\n", sqlite3_errmsg(db->sql), sql);
		return NULL;
	}
	return st;
}

/* Steps a bound statement that returns no rows and resets it. */
static int
step(struct db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		fprintf(
		    stderr, "ctlbench: sqlite: %s\n", sqlite3_errmsg(db->sql));
		return -1;
	}
	return 0;
}

/* One scenario, one run and njobs queued jobs: what the events refer to. */
static int
bare_jobs(struct db *db, long njobs)
{
	long i;

	if (db_begin(db) == -1 ||
	    db_exec(db, NULL,
	        "INSERT INTO scenarios"
	        " (name, sha256, body, created_at) VALUES ('kexec-chain', 'bare',"
	        " '{}', 0)",
	        "") == -1 ||
	    db_exec(db, NULL,
	        "INSERT INTO runs"
	        " (kind, state, request, created_at, jobs_total) VALUES ('adhoc',"
	        " 'running', '{}', 0, ?)",
	        "i", (int64_t)njobs) == -1)
		return -1;
	for (i = 0; i < njobs; i++) {
		if (db_exec(db, NULL,
		        "INSERT INTO jobs (run_id, scenario_id,"
		        " scenario, case_index, matrix, params, state,"
		        " expected_verdict, expected_failing, created_at) VALUES"
		        " (1, 1, 'kexec-chain', ?, '{}', '{}', 'running', 'pass',"
		        " '[]', 0)",
		        "i", (int64_t)i) == -1)
			return -1;
	}
	return db_commit(db);
}

static int
bare_row(struct db *db, sqlite3_stmt *ins, long job, long seq, const char *text)
{
	sqlite3_bind_int64(ins, 1, job);
	sqlite3_bind_int64(ins, 2, seq);
	sqlite3_bind_text(ins, 3, text, -1, SQLITE_STATIC);
	return step(db, ins);
}

/*
 * --prepare once (the baseline) reuses one statement; --prepare each goes
 * through db_exec, a prepare per row as the controller's store_batch does,
 * to show what that costs.
 */
int
cb_bare(const struct cb_opts *o)
{
	const char *path = cb_opt(o, "db", NULL);
	long njobs = cb_opt_long(o, "jobs", 256);
	long nbatch = cb_opt_long(o, "batches", 4);
	long per = cb_opt_long(o, "batch-size", 100);
	struct cb_records r = { 0 };
	sqlite3_stmt *ins = NULL, *begin = NULL, *commit = NULL;
	struct db *db = NULL;
	int64_t t0, t1, rows = 0;
	long j, b, k, seq;
	int rc = -1, each = strcmp(cb_opt(o, "prepare", "once"), "each") == 0;

	if (path == NULL || cb_records_load(cb_opt(o, "records", ""), &r) == -1)
		return -1;
	if ((db = open_schema(path, cb_opt(o, "schema-dir", "db"))) == NULL ||
	    bare_jobs(db, njobs) == -1 ||
	    (ins = prep(db,
	         "INSERT INTO events (job_id, attempt, seq, record)"
	         " VALUES (?, 1, ?, ?)")) == NULL ||
	    (begin = prep(db, "BEGIN IMMEDIATE")) == NULL ||
	    (commit = prep(db, "COMMIT")) == NULL)
		goto out;
	t0 = wf_now_us();
	for (j = 1; j <= njobs; j++) {
		for (b = 0, seq = 0; b < nbatch; b++) {
			if (step(db, begin) == -1)
				goto out;
			for (k = 0; k < per; k++, seq++) {
				if (each ?
				        db_exec(db, NULL,
				            "INSERT INTO events"
				            " (job_id, attempt, seq, record) VALUES (?,"
				            " 1, ?, ?)",
				            "iit", (int64_t)j, (int64_t)seq,
				            r.text[seq % r.n]) == -1 :
				        bare_row(db, ins, j, seq,
				            r.text[seq % r.n]) == -1)
					goto out;
				rows++;
			}
			if (step(db, commit) == -1)
				goto out;
		}
	}
	t1 = wf_now_us();
	printf("events %lld\nseconds %.3f\nrate %.0f\n", (long long)rows,
	    (t1 - t0) / 1e6, rows / ((t1 - t0) / 1e6));
	rc = 0;
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	db_close(db);
	cb_records_free(&r);
	return rc;
}

/* What every seeded job shares: the evaluation of the fixture. */
struct seed {
	struct db *db;
	struct cb_records r;
	json_t *eval;
	char *params[4][2]; /* by cpus index and mailbox version */
	long runs, per_run, events;
	sqlite3_stmt *run, *job, *ev, *batch, *check, *gen;
	int64_t now;
};

static int
seed_static(struct seed *s)
{
	static const int cpus[4] = { 1, 2, 4, 8 };
	struct runspec rs;
	char sha[65];
	size_t i;
	int c, v;

	for (c = 0; c < 4; c++) {
		for (v = 0; v < 2; v++) {
			json_t *j;

			runspec_init(&rs);
			rs.cpus = cpus[c];
			rs.mailbox_version = v;
			snprintf(rs.steps, sizeof(rs.steps), "kexec*5");
			j = runspec_to_json(&rs);
			s->params[c][v] = json_dumps(j, JSON_COMPACT);
			json_decref(j);
		}
	}
	runspec_init(&rs);
	rs.cpus = 4;
	rs.mailbox_version = 1;
	snprintf(rs.steps, sizeof(rs.steps), "kexec*5");
	s->eval = invariants_evaluate(&rs, s->r.recs);
	for (i = 0; i < SEED_NSCEN; i++) {
		snprintf(sha, sizeof(sha), "%064zx", i + 1);
		if (db_exec(s->db, NULL,
		        "INSERT INTO scenarios (name, sha256,"
		        " body, created_at) VALUES (?, ?, json_object('name', ?,"
		        " 'nightly', json('true')), ?)",
		        "ttti", seed_scenarios[i], sha, seed_scenarios[i],
		        s->now) == -1)
			return -1;
	}
	for (i = 1; i <= SEED_HOSTS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "seed-host-%zu", i);
		if (db_exec(s->db, NULL,
		        "INSERT INTO hosts (name, slots,"
		        " libvirt_uri, registered_at, last_seen) VALUES (?, 2,"
		        " 'qemu:///system', ?, ?)",
		        "tii", name, s->now, s->now) == -1)
			return -1;
	}
	return 0;
}

static int
seed_results(struct seed *s, int64_t job)
{
	json_t *c, *g;
	char *e, *ob, *d;
	size_t i;
	int rc = 0;

	json_array_foreach (json_object_get(s->eval, "checks"), i, c) {
		e = json_dumps(json_object_get(c, "expected"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		ob = json_dumps(json_object_get(c, "observed"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		sqlite3_bind_int64(s->check, 1, job);
		sqlite3_bind_int64(
		    s->check, 2, json_integer_value(json_object_get(c, "gen")));
		sqlite3_bind_text(s->check, 3,
		    json_string_value(json_object_get(c, "check")), -1,
		    SQLITE_STATIC);
		sqlite3_bind_int(
		    s->check, 4, json_is_true(json_object_get(c, "ok")));
		sqlite3_bind_text(
		    s->check, 5, e ? e : "null", -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(
		    s->check, 6, ob ? ob : "null", -1, SQLITE_TRANSIENT);
		free(e);
		free(ob);
		if ((rc = step(s->db, s->check)) == -1)
			return -1;
	}
	json_array_foreach (json_object_get(s->eval, "generations"), i, g) {
		d = json_dumps(g, JSON_COMPACT);
		sqlite3_bind_int64(s->gen, 1, job);
		sqlite3_bind_int64(
		    s->gen, 2, json_integer_value(json_object_get(g, "gen")));
		sqlite3_bind_text(s->gen, 3, d, -1, SQLITE_TRANSIENT);
		free(d);
		if (step(s->db, s->gen) == -1)
			return -1;
	}
	return rc;
}

static int
seed_events(struct seed *s, int64_t job, long n)
{
	long k;

	for (k = 0; k < n; k++) {
		sqlite3_bind_int64(s->ev, 1, job);
		sqlite3_bind_int64(s->ev, 2, k);
		sqlite3_bind_text(
		    s->ev, 3, s->r.text[k % (long)s->r.n], -1, SQLITE_STATIC);
		if (step(s->db, s->ev) == -1)
			return -1;
	}
	for (k = 0; k * 100 < n; k++) {
		sqlite3_bind_int64(s->batch, 1, job);
		sqlite3_bind_int64(s->batch, 2, k);
		sqlite3_bind_int64(
		    s->batch, 3, n - k * 100 < 100 ? n - k * 100 : 100);
		sqlite3_bind_int64(s->batch, 4, s->now);
		if (step(s->db, s->batch) == -1)
			return -1;
	}
	return 0;
}

/*
 * One run of per_run done jobs. The kexec-chain jobs carry the whole
 * fixture; the others share the rest of the run's event budget evenly.
 * Every 40th job failed unexpectedly, to give the views something to show.
 */
static int
seed_run(struct seed *s, long ri)
{
	int64_t run, job, t = s->now - (s->runs - ri) * 3600 * 1000;
	long budget = s->events / s->runs, full = 0, others, k, n, oi = 0;
	char matrix[64];
	int bad, c, v;

	for (k = 0; k < s->per_run; k++)
		full += (long)(k % SEED_NSCEN) == SEED_FULL;
	others = s->per_run - full;
	budget -= full * (long)s->r.n;
	if (budget < 0)
		budget = 0;
	sqlite3_bind_text(
	    s->run, 1, ri % 4 == 3 ? "adhoc" : "nightly", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->run, 2, t);
	sqlite3_bind_int64(s->run, 3, t + 600000);
	sqlite3_bind_int64(s->run, 4, s->per_run);
	sqlite3_bind_int64(s->run, 5, s->per_run - (s->per_run + 39) / 40);
	sqlite3_bind_int64(s->run, 6, (s->per_run + 39) / 40);
	if (step(s->db, s->run) == -1)
		return -1;
	run = db_last_id(s->db);
	for (k = 0; k < s->per_run; k++) {
		c = (int)(k / SEED_NSCEN) % 4;
		v = (int)(k / SEED_NSCEN / 4) % 2;
		bad = k % 40 == 39;
		snprintf(matrix, sizeof(matrix),
		    "{\"cpus\":%d,"
		    "\"mailbox_version\":%d}",
		    1 << c, v);
		if ((long)(k % SEED_NSCEN) == SEED_FULL) {
			n = (long)s->r.n;
		} else {
			n = (oi + 1) * budget / others - oi * budget / others;
			oi++;
		}
		sqlite3_bind_int64(s->job, 1, run);
		sqlite3_bind_int64(s->job, 2, (int64_t)(k % SEED_NSCEN) + 1);
		sqlite3_bind_text(s->job, 3, seed_scenarios[k % SEED_NSCEN], -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(s->job, 4, k / SEED_NSCEN);
		sqlite3_bind_text(s->job, 5, matrix, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(
		    s->job, 6, s->params[c][v], -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->job, 7, 1 + k % SEED_HOSTS);
		sqlite3_bind_int64(s->job, 8, (n + 99) / 100);
		sqlite3_bind_int64(s->job, 9, n);
		sqlite3_bind_text(
		    s->job, 10, bad ? "fail" : "pass", -1, SQLITE_STATIC);
		sqlite3_bind_int(s->job, 11, !bad);
		sqlite3_bind_text(s->job, 12, bad ? "[\"madt-entry\"]" : "[]",
		    -1, SQLITE_STATIC);
		sqlite3_bind_text(s->job, 13,
		    bad ? "check madt-entry failed" : "every check passed", -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(s->job, 14, t);
		sqlite3_bind_int64(s->job, 15, t + 1000 + k * 500);
		if (step(s->db, s->job) == -1)
			return -1;
		job = db_last_id(s->db);
		if (seed_events(s, job, n) == -1 || seed_results(s, job) == -1)
			return -1;
	}
	return 0;
}

static int
seed_prepare(struct seed *s)
{
	return (s->run = prep(s->db,
	            "INSERT INTO runs (kind, state, request,"
	            " created_at, finished_at, jobs_total, jobs_done, jobs_as_expected,"
	            " jobs_unexpected) VALUES (?1, 'done', '{\"matrix\":\"nightly\"}',"
	            " ?2, ?3, ?4, ?4, ?5, ?6)")) == NULL ||
	        (s->job = prep(s->db,
	             "INSERT INTO jobs (run_id, scenario_id,"
	             " scenario, case_index, matrix, params, state, attempt, last_host,"
	             " next_batch, next_seq, expected_verdict, expected_failing,"
	             " verdict, as_expected, failing, reason, outcome, detail,"
	             " created_at, leased_at, started_at, finished_at) VALUES (?1, ?2,"
	             " ?3, ?4, ?5, ?6, 'done', 1, ?7, ?8, ?9, 'pass', '[]', ?10, ?11,"
	             " ?12, ?13, 'completed', '', ?14, ?15, ?15, ?15 + 900)")) ==
	            NULL ||
	        (s->ev = prep(s->db,
	             "INSERT INTO events (job_id, attempt, seq,"
	             " record) VALUES (?, 1, ?, ?)")) == NULL ||
	        (s->batch = prep(s->db,
	             "INSERT INTO batches (job_id, attempt,"
	             " batch, records, received_at) VALUES (?, 1, ?, ?, ?)")) ==
	            NULL ||
	        (s->check = prep(s->db,
	             "INSERT INTO checks (job_id, gen,"
	             " check_name, ok, expected, observed) VALUES (?, ?, ?, ?, ?, ?)")) ==
	            NULL ||
	        (s->gen = prep(s->db,
	             "INSERT INTO generations (job_id, gen,"
	             " data) VALUES (?, ?, ?)")) == NULL ?
	    -1 :
	    0;
}

int
cb_seed(const struct cb_opts *o)
{
	const char *path = cb_opt(o, "db", NULL);
	struct seed s = { .now = db_now_ms() };
	int64_t events = 0, jobs = 0;
	long ri;
	int rc = -1, c, v;

	s.runs = cb_opt_long(o, "runs", 100);
	s.per_run = cb_opt_long(o, "jobs-per-run", 1000);
	s.events = cb_opt_long(o, "events", 1000000);
	if (path == NULL || s.runs < 1 || s.per_run < (long)SEED_NSCEN ||
	    cb_records_load(cb_opt(o, "records", ""), &s.r) == -1)
		return -1;
	if ((s.db = open_schema(path, cb_opt(o, "schema-dir", "db"))) == NULL ||
	    seed_prepare(&s) == -1)
		goto out;
	if (db_begin(s.db) == -1 || seed_static(&s) == -1 ||
	    db_commit(s.db) == -1)
		goto out;
	/* One transaction per run: the commits are not what is measured. */
	for (ri = 0; ri < s.runs; ri++) {
		if (db_begin(s.db) == -1 || seed_run(&s, ri) == -1 ||
		    db_commit(s.db) == -1)
			goto out;
	}
	/* No ANALYZE: the controller never runs it, so neither do we. */
	if (db_int(s.db, &jobs, "SELECT count(*) FROM jobs", "") != 1 ||
	    db_int(s.db, &events, "SELECT count(*) FROM events", "") != 1)
		goto out;
	printf("jobs %lld\nevents %lld\n", (long long)jobs, (long long)events);
	rc = 0;
out:
	if (rc == -1 && s.db != NULL)
		db_rollback(s.db);
	sqlite3_finalize(s.run);
	sqlite3_finalize(s.job);
	sqlite3_finalize(s.ev);
	sqlite3_finalize(s.batch);
	sqlite3_finalize(s.check);
	sqlite3_finalize(s.gen);
	db_close(s.db);
	for (c = 0; c < 4; c++)
		for (v = 0; v < 2; v++)
			free(s.params[c][v]);
	json_decref(s.eval);
	cb_records_free(&s.r);
	return rc;
}
