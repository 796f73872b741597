/*
 * api_work.h: the request workers.
 *
 * libmicrohttpd's pool threads each serve many connections, one request
 * at a time: a handler that waits (for db->lock, for the WAL's sync) holds
 * up every other connection of its thread. Fifty agents finishing together
 * kept a lease poll waiting behind a dozen other agents' finishes on its
 * thread before its request was even read (tests/load/README.md). So the
 * handlers run in these threads instead: the pool thread suspends the
 * connection and queues the request; a worker runs it (and waits for its
 * sync), then resumes the connection, and the pool thread sends the reply.
 * What must run in the pool thread (a lease long-poll suspends its own
 * connection) is not queued (api.c).
 */
#ifndef WF_CTL_API_WORK_H
#define WF_CTL_API_WORK_H

#include "api.h"

struct api_work;

/*
 * threads workers, each running run(r) for a queued request; run must end
 * with MHD_resume_connection(r->conn) (r is not the worker's after it).
 * NULL when not one thread could be started.
 */
struct api_work *api_work_start(int threads, void (*run)(struct req *r));

/*
 * Suspends r's connection (r->conn: NULL in unit tests) and queues r,
 * first in first out; 0, or -1 (nothing done) once stopping.
 */
int api_work_submit(struct api_work *w, struct req *r);

/*
 * Runs what is queued, then stops the threads: api_work_submit refuses
 * from then on. Before libmicrohttpd stops (a worker resumes connections).
 * NULL is a no-op.
 */
void api_work_stop(struct api_work *w);

/* Stops (if not yet) and frees; after libmicrohttpd stopped (its threads
 * may still call api_work_submit until then). NULL is a no-op. */
void api_work_free(struct api_work *w);

#endif
