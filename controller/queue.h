/*
 * queue.h: the job queue. Leasing, lease expiry and retries, run counts,
 * and the dispatcher thread that answers suspended lease long-polls.
 *
 * Runnable work is signalled on db->changed (under db->lock): the
 * dispatcher wakes at once, so a waiting agent gets a job within
 * milliseconds of it becoming runnable, with no SQL polling loop. The
 * dispatcher also wakes at the earliest waiter deadline and once a second
 * to requeue expired leases.
 */
#ifndef WF_CTL_QUEUE_H
#define WF_CTL_QUEUE_H

#include <stdint.h>

#include <jansson.h>

#include "api.h"

struct queue *queue_start(struct api *api);
/* Answers every waiter (no job), then joins the dispatcher. */
void queue_stop(struct queue *q);

/* Wakes the dispatcher; caller holds db->lock. */
void queue_kick(struct api *api);

/*
 * Notes host_id as seen (last_seen) and leases it the next job, in one
 * transaction: {"job", "attempt", "run", "scenario", "params",
 * "lease_ms"}, or json_null() when none may be leased now, NULL on a
 * database error. Caller holds db->lock.
 */
json_t *queue_try_lease(struct api *api, int64_t host_id);

/*
 * Suspends r's connection until a job is leased to host_id or wait_ms
 * pass; the dispatcher then resumes it with r->waiter done. Caller holds
 * db->lock. 0, or -1 when stopping or out of memory.
 */
int
queue_wait(struct api *api, struct req *r, int64_t host_id, int64_t wait_ms);
/* The lease a resumed waiter got (json_null(): none); frees the waiter. */
json_t *queue_waiter_take(struct req *r);
/*
 * The connection of a long-poll ended before its answer was sent (the
 * agent went away after the dispatcher resumed it, or the controller is
 * stopping): a job it was handed is queued again, the waiter freed.
 */
void queue_waiter_drop(struct req *r);

/*
 * Ends this attempt of a job without a verdict (infra, expired lease):
 * requeued with attempt + 1, preferring another host, or done with verdict
 * infra once max_attempts attempts have ended without a verdict. The
 * attempt is remembered (regress.h). Caller holds db->lock, in a
 * transaction.
 */
int queue_retry(struct api *api, int64_t job_id, const char *reason);

/*
 * Queues a job again for its next attempt (attempt + 1, preferring
 * another host), whatever its state. Caller holds db->lock, in a
 * transaction.
 */
int queue_requeue(struct api *api, int64_t job_id, const char *reason);

/*
 * A lease whose reply never reached its agent (the connection failed), or
 * one an agent leased ahead and gives back unstarted (POST
 * /api/v1/agents/release): the job is queued again with the same attempt,
 * if nothing came of it. Takes db->lock.
 */
void queue_release(struct api *api, int64_t job, int64_t host);

/* Recomputes a run's counts and state. Caller holds db->lock. */
int queue_run_refresh(struct db *db, int64_t run_id);

/* Requeues leases past their expiry. Caller holds db->lock. */
int queue_reap(struct api *api);

/* Long-polls waiting now (for /metrics). Caller holds db->lock. */
int queue_waiters(struct api *api);

/* A lease's deadline from now: on the monotonic clock (wf_now_ms), so a
 * wall-clock jump neither expires nor extends leases. */
int64_t queue_lease_deadline(const struct api *api);

#endif
