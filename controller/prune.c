/*
 * prune.c: retention (see prune.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "log.h"
#include "prune.h"
#include "regress.h"
#include "ticker.h"
#include "util.h"

#define PRUNE_BATCH 100
#define DAY_MS (86400LL * 1000)
#define PRUNER_TICK_MS (3600LL * 1000)

struct keep {
	json_t *ids; /* job id -> why */
	int64_t regression, known, bisect;
};

static void
keep_job(struct keep *k, json_int_t id, const char *why)
{
	char key[32];

	snprintf(key, sizeof(key), "%lld", (long long)id);
	if (json_object_get(k->ids, key) != NULL)
		return;
	json_object_set_new(k->ids, key, json_string(why));
	if (strcmp(why, "regression") == 0)
		k->regression++;
	else if (strcmp(why, "known") == 0)
		k->known++;
	else
		k->bisect++;
}

static int
kept(const struct keep *k, json_int_t id)
{
	char key[32];

	snprintf(key, sizeof(key), "%lld", (long long)id);
	return json_object_get(k->ids, key) != NULL;
}

/* The jobs of bisects: their steps' runs, the regression they bisect. */
static int
keep_bisects(struct db *db, struct keep *k)
{
	json_t *rows, *row;
	size_t i;

	db_lock(db);
	rows = db_rows(db,
	    "SELECT id FROM jobs WHERE run_id IN (SELECT run_id FROM"
	    " bisect_steps WHERE run_id IS NOT NULL) UNION SELECT j.id FROM jobs"
	    " j JOIN bisects b ON b.regression_run = j.run_id WHERE j.state ="
	    " 'done' AND j.as_expected = 0",
	    "");
	db_unlock(db);
	if (rows == NULL)
		return -1;
	json_array_foreach (rows, i, row)
		keep_job(k, json_integer_value(json_object_get(row, "id")),
		    "bisect");
	json_decref(rows);
	return 0;
}

/*
 * Nightly regressions (the job and the night before's) and known cases:
 * every nightly run that still has logs, classified one run at a time.
 */
static int
keep_nights(struct db *db, struct keep *k)
{
	json_t *runs, *run, *cls, *c;
	size_t i, x;
	int rc = 0;

	db_lock(db);
	runs = db_rows(db,
	    "SELECT DISTINCT r.id FROM runs r JOIN jobs j ON j.run_id = r.id"
	    " WHERE r.kind = 'nightly' AND j.pruned_at IS NULL ORDER BY r.id",
	    "");
	db_unlock(db);
	if (runs == NULL)
		return -1;
	json_array_foreach (runs, i, run) {
		db_lock(db);
		cls = regress_run(
		    db, json_integer_value(json_object_get(run, "id")));
		db_unlock(db);
		if (cls == NULL) {
			rc = -1;
			break;
		}
		json_array_foreach (json_object_get(cls, "cases"), x, c) {
			const char *what = json_string_value(
			    json_object_get(c, "class"));

			if (strcmp(what, "regression") == 0) {
				keep_job(k,
				    json_integer_value(
				        json_object_get(c, "job")),
				    "regression");
				if (json_is_integer(
				        json_object_get(c, "previous_job")))
					keep_job(k,
					    json_integer_value(json_object_get(
					        c, "previous_job")),
					    "regression");
			} else if (strcmp(what, "known") == 0) {
				keep_job(k,
				    json_integer_value(
				        json_object_get(c, "job")),
				    "known");
			}
		}
		json_decref(cls);
	}
	json_decref(runs);
	return rc;
}

/* Other runs' failures a known issue explains. */
static int
keep_known(struct db *db, const json_t *jobs, struct keep *k)
{
	json_t *job, *m;
	size_t i;

	json_array_foreach (jobs, i, job) {
		if (json_integer_value(json_object_get(job, "as_expected")) !=
		        0 ||
		    !json_is_string(json_object_get(job, "verdict")) ||
		    strcmp(json_string_value(json_object_get(job, "verdict")),
		        "infra") == 0 ||
		    kept(k, json_integer_value(json_object_get(job, "id"))))
			continue;
		db_lock(db);
		m = regress_known(
		    db, json_integer_value(json_object_get(job, "id")));
		db_unlock(db);
		if (m == NULL)
			return -1;
		if (json_array_size(m) > 0)
			keep_job(k,
			    json_integer_value(json_object_get(job, "id")),
			    "known");
		json_decref(m);
	}
	return 0;
}

/* The bytes and rows one job's pruning drops; then drops them. */
static int
prune_job(struct db *db, int64_t id, int dry, int64_t now, json_t *rep)
{
	json_t *n;

	n = db_row(db,
	    "SELECT (SELECT count(*) FROM events WHERE job_id = ?1) AS events,"
	    " (SELECT coalesce(sum(length(record)), 0) FROM events WHERE job_id"
	    " = ?1) AS ebytes, (SELECT count(*) FROM logs WHERE job_id = ?1) AS"
	    " chunks, (SELECT coalesce(sum(length(data)), 0) FROM logs WHERE"
	    " job_id = ?1) AS lbytes",
	    "i", id);
	if (n == NULL)
		return -1;
	json_object_set_new(rep, "events",
	    json_integer(json_integer_value(json_object_get(rep, "events")) +
	        json_integer_value(json_object_get(n, "events"))));
	json_object_set_new(rep, "log_chunks",
	    json_integer(
	        json_integer_value(json_object_get(rep, "log_chunks")) +
	        json_integer_value(json_object_get(n, "chunks"))));
	json_object_set_new(rep, "bytes",
	    json_integer(json_integer_value(json_object_get(rep, "bytes")) +
	        json_integer_value(json_object_get(n, "ebytes")) +
	        json_integer_value(json_object_get(n, "lbytes"))));
	json_decref(n);
	if (dry)
		return 0;
	return db_exec(
	           db, NULL, "DELETE FROM events WHERE job_id = ?", "i", id) |
	    db_exec(db, NULL, "DELETE FROM logs WHERE job_id = ?", "i", id) |
	    db_exec(
	        db, NULL, "DELETE FROM log_ports WHERE job_id = ?", "i", id) |
	    db_exec(db, NULL, "DELETE FROM batches WHERE job_id = ?", "i", id) |
	    db_exec(db, NULL, "UPDATE jobs SET pruned_at = ? WHERE id = ?",
	        "ii", now, id);
}

/* The candidates not kept, in batches of a transaction each. */
static int
prune_jobs(struct db *db, const json_t *jobs, const struct keep *k,
    const struct prune_opts *o, json_t *rep)
{
	int64_t now = db_now_ms(), n = 0;
	size_t i = 0, b;
	int rc = 0;

	while (rc == 0 && i < json_array_size(jobs)) {
		db_lock(db);
		if (!o->dry_run && db_begin(db) == -1) {
			db_unlock(db);
			return -1;
		}
		for (b = 0;
		     rc == 0 && b < PRUNE_BATCH && i < json_array_size(jobs);
		     i++) {
			json_int_t id = json_integer_value(
			    json_object_get(json_array_get(jobs, i), "id"));

			if (kept(k, id))
				continue;
			rc = prune_job(db, id, o->dry_run, now, rep);
			n++;
			b++;
		}
		if (!o->dry_run && (rc == -1 || db_commit(db) == -1)) {
			db_rollback(db);
			rc = -1;
		}
		db_unlock(db);
	}
	json_object_set_new(rep, "jobs_pruned", json_integer(n));
	return rc;
}

static int
is_sha256(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return s[64] == '\0';
}

/* Images older than the cutoff that nothing running boots (a kernel users
 * added, db/008_kernels.sql, is kept while it is named). */
static int
prune_blobs(
    struct db *db, const struct prune_opts *o, int64_t cutoff, json_t *rep)
{
	char path[4200], ref[300];
	int64_t used = 0, n = 0, bytes = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (o->blob_dir == NULL || (d = opendir(o->blob_dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!is_sha256(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", o->blob_dir, de->d_name);
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
		    (int64_t)st.st_mtime * 1000 >= cutoff)
			continue;
		snprintf(ref, sizeof(ref), "sha256:%s", de->d_name);
		db_lock(db);
		if (db_int(db, &used,
		        "SELECT (SELECT count(*) FROM bisect_candidates c JOIN"
		        " bisects b ON b.id = c.bisect_id WHERE c.blob = ? AND"
		        " b.state = 'running') + (SELECT count(*) FROM jobs WHERE"
		        " state IN ('queued', 'leased', 'running') AND"
		        " json_extract(params, '$.test_kernel') = ?) + (SELECT"
		        " count(*) FROM kernels WHERE sha256 = ? OR initrd_sha256 ="
		        " ?)",
		        "tttt", de->d_name, ref, de->d_name, de->d_name) != 1)
			used = 1;
		db_unlock(db);
		if (used)
			continue;
		if (!o->dry_run && unlink(path) == -1) {
			log_warnx("prune: %s: %s", path, strerror(errno));
			continue;
		}
		n++;
		bytes += (int64_t)st.st_size;
	}
	closedir(d);
	json_object_set_new(rep, "blobs", json_integer(n));
	json_object_set_new(rep, "blob_bytes", json_integer(bytes));
	return 0;
}

/* The feed and finished notifications older than the cutoff. */
static int
prune_feed(
    struct db *db, const struct prune_opts *o, int64_t cutoff, json_t *rep)
{
	int64_t feed = 0, outbox = 0;
	int rc;

	db_lock(db);
	rc = db_int(db, &feed,
	         "SELECT count(*) FROM feed WHERE at < ? AND id <= (SELECT"
	         " feed_id FROM notify_cursor)",
	         "i", cutoff) != 1 ||
	    db_int(db, &outbox,
	        "SELECT count(*) FROM outbox WHERE state IN ('sent', 'failed')"
	        " AND created_at < ?",
	        "i", cutoff) != 1;
	if (rc == 0 && !o->dry_run)
		rc =
		    db_exec(db, NULL,
		        "DELETE FROM feed WHERE at < ? AND id <= (SELECT feed_id"
		        " FROM notify_cursor)",
		        "i", cutoff) |
		    db_exec(db, NULL,
		        "DELETE FROM outbox WHERE state IN ('sent', 'failed') AND"
		        " created_at < ?",
		        "i", cutoff);
	db_unlock(db);
	json_object_set_new(rep, "feed", json_integer(feed));
	json_object_set_new(rep, "outbox", json_integer(outbox));
	return rc ? -1 : 0;
}

/* The database's size on disk: the file and its WAL. */
static int64_t
db_bytes_on_disk(const struct db *db)
{
	char wal[4200];
	struct stat st;
	int64_t n = 0;

	if (stat(db->path, &st) == 0)
		n += (int64_t)st.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", db->path);
	if (stat(wal, &st) == 0)
		n += (int64_t)st.st_size;
	return n;
}

/* The space back: incremental vacuum (one VACUUM first if allowed). */
static int
reclaim(struct db *db, const struct prune_opts *o, json_t *rep)
{
	int64_t mode = 0;
	int rc = 0;

	db_lock(db);
	if (db_int(db, &mode, "PRAGMA auto_vacuum", "") != 1)
		rc = -1;
	else if (mode != 2 && o->vacuum_full)
		rc = db_exec(db, NULL, "PRAGMA auto_vacuum = INCREMENTAL", "") |
		    db_exec(db, NULL, "VACUUM", "");
	else if (mode == 2)
		rc = db_exec(db, NULL, "PRAGMA incremental_vacuum", "");
	else
		log_info("prune: this database predates auto_vacuum: run"
		         " `wakefarm-controller prune` once to convert it");
	if (rc == 0)
		rc = db_exec(db, NULL, "PRAGMA wal_checkpoint(TRUNCATE)", "");
	db_unlock(db);
	json_object_set_new(rep, "vacuum",
	    json_string(mode == 2  ? "incremental" :
	            o->vacuum_full ? "full, once (now incremental)" :
	                             "none"));
	return rc;
}

json_t *
prune_apply(struct db *db, const struct prune_opts *o, char **cause)
{
	int64_t cutoff = db_now_ms() - (int64_t)o->days * DAY_MS;
	struct keep k = { .ids = json_object() };
	json_t *rep, *jobs;

	rep = json_pack("{s:i, s:I, s:b, s:I, s:i, s:i, s:i, s:i, s:i}", "days",
	    o->days, "cutoff", (json_int_t)cutoff, "dry_run", o->dry_run,
	    "db_bytes_before", (json_int_t)db_bytes_on_disk(db), "events", 0,
	    "log_chunks", 0, "bytes", 0, "blobs", 0, "blob_bytes", 0);
	db_lock(db);
	jobs = db_rows(db,
	    "SELECT id, scenario, verdict, as_expected, failing AS"
	    " \"failing:json\" FROM jobs WHERE state IN ('done', 'cancelled') AND"
	    " pruned_at IS NULL AND coalesce(finished_at, created_at) < ? ORDER"
	    " BY id",
	    "i", cutoff);
	db_unlock(db);
	if (jobs == NULL || keep_bisects(db, &k) == -1 ||
	    keep_nights(db, &k) == -1 || keep_known(db, jobs, &k) == -1 ||
	    prune_jobs(db, jobs, &k, o, rep) == -1 ||
	    prune_blobs(db, o, cutoff, rep) == -1 ||
	    prune_feed(db, o, cutoff, rep) == -1 ||
	    (!o->dry_run && reclaim(db, o, rep) == -1)) {
		wf_set_cause(cause, "database error (see the log)");
		json_decref(rep);
		rep = NULL;
		goto out;
	}
	json_object_set_new(rep, "kept",
	    json_pack("{s:I, s:I, s:I}", "regression", (json_int_t)k.regression,
	        "known", (json_int_t)k.known, "bisect", (json_int_t)k.bisect));
	json_object_set_new(
	    rep, "db_bytes_after", json_integer(db_bytes_on_disk(db)));
	json_object_set_new(rep, "freed_bytes",
	    json_integer(
	        json_integer_value(json_object_get(rep, "db_bytes_before")) -
	        json_integer_value(json_object_get(rep, "db_bytes_after"))));
out:
	json_decref(jobs);
	json_decref(k.ids);
	return rep;
}

/* --- the policy --- */

struct pruner {
	struct api *api;
	struct ticker *ticker;
	int64_t last; /* wf_now_ms of the last prune, 0: none yet */
};

static void
pruner_tick(void *arg)
{
	struct pruner *p = arg;
	struct prune_opts o = { .days = p->api->cfg->retain_days,
		.blob_dir = p->api->cfg->blob_dir };
	json_t *rep;
	char *cause = NULL;

	if (p->last != 0 && wf_now_ms() - p->last < DAY_MS)
		return;
	p->last = wf_now_ms();
	if ((rep = prune_apply(p->api->db, &o, &cause)) == NULL) {
		log_warnx("prune: %s", wf_cause_str(cause));
		free(cause);
		return;
	}
	log_info("prune (--retain-days %d): %lld jobs' logs and records (%lld"
	         " bytes), %lld images, %lld feed rows; kept %lld regression,"
	         " %lld known, %lld bisect jobs; %lld bytes freed on disk",
	    o.days,
	    (long long)json_integer_value(json_object_get(rep, "jobs_pruned")),
	    (long long)json_integer_value(json_object_get(rep, "bytes")),
	    (long long)json_integer_value(json_object_get(rep, "blobs")),
	    (long long)json_integer_value(json_object_get(rep, "feed")),
	    (long long)json_integer_value(
	        json_object_get(json_object_get(rep, "kept"), "regression")),
	    (long long)json_integer_value(
	        json_object_get(json_object_get(rep, "kept"), "known")),
	    (long long)json_integer_value(
	        json_object_get(json_object_get(rep, "kept"), "bisect")),
	    (long long)json_integer_value(json_object_get(rep, "freed_bytes")));
	json_decref(rep);
}

struct pruner *
pruner_start(struct api *api)
{
	struct pruner *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->api = api;
	if ((p->ticker = ticker_start(pruner_tick, p, PRUNER_TICK_MS)) ==
	    NULL) {
		free(p);
		return NULL;
	}
	ticker_kick(p->ticker); /* once at start */
	return p;
}

void
pruner_stop(struct pruner *p)
{
	if (p == NULL)
		return;
	ticker_stop(p->ticker);
	free(p);
}
