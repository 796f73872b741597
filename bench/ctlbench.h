/*
 * ctlbench.h: the controller benchmark's client (bench/controller.sh runs
 * it). Subcommands, each printing "key value" lines the script formats:
 *   ingest   4 agents post event batches to a real controller over HTTP
 *   bare     the same rows inserted straight into SQLite (controller pragmas)
 *   seed     bulk-fills a database (100k jobs / 1M events) for latency
 *   latency  p50/p99 of the matrix, job list and job detail reads
 *   lease    hand-out latency to an agent whose long-poll is outstanding
 */
#ifndef WF_BENCH_CTLBENCH_H
#define WF_BENCH_CTLBENCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Command-line options: --key value pairs. */
struct cb_opts {
	int argc;
	char **argv;
};

const char *cb_opt(const struct cb_opts *o, const char *key, const char *dflt);
long cb_opt_long(const struct cb_opts *o, const char *key, long dflt);

/*
 * The fixture: a real run's records (guest/run-qemu --records), each as
 * its compact JSON line, the way the controller stores it. Caller frees
 * with cb_records_free.
 */
struct cb_records {
	json_t *recs; /* array of parsed records */
	char **text; /* compact line of each */
	size_t n;
};

int cb_records_load(const char *path, struct cb_records *r);
void cb_records_free(struct cb_records *r);

/* Percentile p (0..100) of n samples, sorted in place. */
double cb_percentile(double *v, size_t n, double p);

int cb_bare(const struct cb_opts *o); /* ctlbench_db.c */
int cb_seed(const struct cb_opts *o);

#endif
