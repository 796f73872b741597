/*
 * prune.h: retention. `wakefarm-controller prune --days N` and the policy
 * of `serve --retain-days N` (once at start, then once a day) drop what
 * grows without end:
 *
 * - the guest logs and records (events, batches) of jobs that finished more
 *   than N days ago, except the jobs something still points at: a nightly
 *   regression (its job and the night before's), a failure a known issue
 *   explains (the log line is the evidence), a bisect (its steps' jobs and
 *   the job of the regression it bisects). The job rows, their checks,
 *   generations and attempts (the verdicts) stay; the job is marked
 *   pruned_at;
 * - stored images (DB_DIR/blobs) older than N days that no running bisect
 *   and no unfinished job boots;
 * - the feed (events of GET /api/v1/events) and the outbox's sent and failed
 *   notifications older than N days;
 *
 * then gives the space back: PRAGMA incremental_vacuum (a database made
 * before auto_vacuum was set is converted by one VACUUM first), and reports
 * what it freed. Work goes in batches, each its own transaction under the
 * lock, so a serving controller keeps answering in between.
 */
#ifndef WF_CTL_PRUNE_H
#define WF_CTL_PRUNE_H

#include <stdint.h>

#include <jansson.h>

#include "db.h"

struct prune_opts {
	int days; /* older than this (0: everything finished) */
	const char *blob_dir; /* NULL: no blobs */
	int dry_run; /* count, change nothing */
	int vacuum_full; /* allowed to VACUUM once (not while serving) */
};

/*
 * Prunes; the report (new): {"days", "cutoff", "jobs_pruned", "kept":
 * {"regression", "known", "bisect"}, "events", "log_chunks", "bytes",
 * "feed", "outbox", "blobs", "blob_bytes", "db_bytes_before",
 * "db_bytes_after", "freed_bytes", "dry_run"}. NULL with a cause.
 */
json_t *prune_apply(struct db *db, const struct prune_opts *o, char **cause);

/* The policy of --retain-days: a thread pruning once a day. */
struct api;
struct pruner;
struct pruner *pruner_start(struct api *api);
void pruner_stop(struct pruner *p); /* NULL is a no-op */

#endif
