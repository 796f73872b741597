/*
 * queue.c: leasing jobs, retries, lease expiry, run counts and the
 * dispatcher of lease long-polls (see queue.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "queue.h"
#include "regress.h"
#include "util.h"

#define QUEUE_REAP_MS 1000

struct waiter {
	struct req *req;
	struct MHD_Connection *conn;
	int64_t host_id;
	int64_t deadline; /* wf_now_ms */
	json_t *lease; /* json_null(): none; NULL: error */
	uint64_t sync_seq; /* the commit of the lease (db_sync_until) */
	int done;
	struct waiter *next;
};

struct queue {
	struct api *api;
	pthread_t thread;
	int stopping;
	int held; /* the disk was full: no lease expires */
	struct waiter *waiters; /* not yet done; under db->lock */
	int nwaiters;
};

void
queue_kick(struct api *api)
{
	pthread_cond_broadcast(&api->db->changed);
}

int
queue_run_refresh(struct db *db, int64_t run_id)
{
	if (db_exec(db, NULL,
	        "UPDATE runs SET"
	        " jobs_done = (SELECT count(*) FROM jobs WHERE run_id = ?1 AND"
	        "  state IN ('done', 'cancelled')),"
	        " jobs_as_expected = (SELECT count(*) FROM jobs WHERE run_id = ?1"
	        "  AND state = 'done' AND as_expected = 1),"
	        " jobs_unexpected = (SELECT count(*) FROM jobs WHERE run_id = ?1"
	        "  AND state = 'done' AND as_expected = 0)"
	        " WHERE id = ?1",
	        "i", run_id) == -1)
		return -1;
	return db_exec(db, NULL,
	    "UPDATE runs SET state = 'done',"
	    " finished_at = ? WHERE id = ? AND state IN ('queued', 'running')"
	    " AND jobs_done = jobs_total",
	    "ii", db_now_ms(), run_id);
}

/*
 * The next job for host_id leased to it, inside the caller's transaction
 * (under a savepoint of its own: a failure undoes this lease only); as
 * queue_try_lease returns.
 */
static json_t *
lease_one(struct api *api, int64_t host_id)
{
	struct db *db = api->db;
	int64_t now = db_now_ms(), free_slots = 0, job = 0, prev;
	json_t *row;
	int rc;

	rc = db_int(db, &free_slots,
	    "SELECT h.slots * (1 + h.lease_ahead) - (SELECT count(*) FROM"
	    " jobs j WHERE j.lease_host = h.id AND j.state IN ('leased',"
	    " 'running')) FROM hosts h WHERE h.id = ? AND h.state = 'good'",
	    "i", host_id);
	if (rc == -1)
		return NULL;
	if (rc == 0 || free_slots <= 0)
		return json_null();
	/*
	 * A retried job prefers another host: this host skips it while some
	 * other good host was seen within a lease period.
	 */
	rc = db_int(db, &job,
	    "SELECT j.id FROM jobs j JOIN runs r ON"
	    " r.id = j.run_id WHERE j.state = 'queued' AND r.state IN"
	    " ('queued', 'running') AND NOT (j.last_host IS ?1 AND EXISTS"
	    " (SELECT 1 FROM hosts h WHERE h.id != ?1 AND h.state = 'good'"
	    " AND h.last_seen > ?2)) ORDER BY j.priority DESC, j.id LIMIT 1",
	    "ii", host_id, now - api->cfg->lease_ms);
	if (rc == -1)
		return NULL;
	if (rc == 0)
		return json_null();
	if (db_exec(db, NULL, "SAVEPOINT lease", "") == -1)
		return NULL;
	if (db_exec(db, NULL,
	        "UPDATE jobs SET state = 'leased',"
	        " lease_host = ?, lease_expires = ?, leased_at = ?, next_batch = 0"
	        " WHERE id = ? AND state = 'queued'",
	        "iiii", host_id, queue_lease_deadline(api), now, job) == -1 ||
	    db_exec(db, NULL,
	        "UPDATE runs SET state = 'running' WHERE id = (SELECT run_id FROM"
	        " jobs WHERE id = ?) AND state = 'queued'",
	        "i", job) == -1 ||
	    (row = db_row(db,
	         "SELECT id AS job, attempt, run_id AS run, scenario,"
	         " params AS \"params:json\" FROM jobs WHERE id = ?",
	         "i", job)) == NULL) {
		db_exec(db, NULL, "ROLLBACK TO lease", "");
		db_exec(db, NULL, "RELEASE lease", "");
		return NULL;
	}
	db_exec(db, NULL, "RELEASE lease", "");
	json_object_set_new(row, "lease_ms", json_integer(api->cfg->lease_ms));
	prev = wf_log_set_job(job);
	log_info("job %lld (attempt %lld) leased to host %lld", (long long)job,
	    (long long)json_integer_value(json_object_get(row, "attempt")),
	    (long long)host_id);
	wf_log_set_job(prev);
	return row;
}

json_t *
queue_try_lease(struct api *api, int64_t host_id)
{
	struct db *db = api->db;
	json_t *lease;

	/* the host was seen, and its lease: one commit */
	if (db_begin(db) == -1)
		return NULL;
	if (db_exec(db, NULL, "UPDATE hosts SET last_seen = ? WHERE id = ?",
	        "ii", db_now_ms(), host_id) == -1 ||
	    (lease = lease_one(api, host_id)) == NULL) {
		db_rollback(db);
		return NULL;
	}
	if (db_commit(db) == -1) {
		json_decref(lease);
		return NULL;
	}
	return lease;
}

int
queue_requeue(struct api *api, int64_t job_id, const char *reason)
{
	if (api->db == NULL ||
	    db_exec(api->db, NULL,
	        "UPDATE jobs SET state ="
	        " 'queued', attempt = attempt + 1, last_host = coalesce(lease_host,"
	        " last_host), lease_host = NULL, lease_expires = NULL, next_batch ="
	        " 0, reason = ? WHERE id = ?",
	        "ti", reason, job_id) == -1)
		return -1;
	queue_kick(api);
	return 0;
}

int
queue_retry(struct api *api, int64_t job_id, const char *reason)
{
	struct db *db = api->db;
	int64_t attempt = 0, run = 0, infra = 0, prev;

	if (db_int(db, &attempt, "SELECT attempt FROM jobs WHERE id = ?", "i",
	        job_id) != 1 ||
	    db_int(db, &run,
	        "SELECT run_id FROM jobs WHERE"
	        " id = ?",
	        "i", job_id) != 1)
		return -1;
	/*
	 * Attempts without a verdict count; judged ones (nightly retries,
	 * regress.c) do not. Counted as attempt - judged, so attempts made
	 * before the attempts table existed count too.
	 */
	if (regress_record_attempt(
	        db, job_id, attempt, "infra", 0, "[]", reason) == -1 ||
	    db_int(db, &infra,
	        "SELECT ? - count(*) FROM"
	        " attempts WHERE job_id = ? AND verdict != 'infra'",
	        "ii", attempt, job_id) != 1)
		return -1;
	prev = wf_log_set_job(job_id);
	if (infra < api->cfg->max_attempts) {
		log_info("job %lld: attempt %lld ended without a verdict (%s);"
		         " requeued",
		    (long long)job_id, (long long)attempt, reason);
		wf_log_set_job(prev);
		return queue_requeue(api, job_id, reason);
	}
	log_info("job %lld: attempt %lld ended without a verdict (%s); no"
	         " attempts left",
	    (long long)job_id, (long long)attempt, reason);
	wf_log_set_job(prev);
	if (db_exec(db, NULL,
	        "UPDATE jobs SET state = 'done', verdict ="
	        " 'infra', as_expected = 0, failing = '[]', reason = ?,"
	        " last_host = lease_host, lease_host = NULL, lease_expires = NULL,"
	        " finished_at = ? WHERE id = ?",
	        "tii", reason, db_now_ms(), job_id) == -1)
		return -1;
	return queue_run_refresh(db, run);
}

void
queue_release(struct api *api, int64_t job, int64_t host)
{
	int changes = 0;

	db_lock(api->db);
	if (db_exec(api->db, &changes,
	        "UPDATE jobs SET state = 'queued',"
	        " lease_host = NULL, lease_expires = NULL, leased_at = NULL WHERE"
	        " id = ? AND lease_host = ? AND state = 'leased' AND next_batch ="
	        " 0",
	        "ii", job, host) == 0 &&
	    changes > 0) {
		int64_t prev = wf_log_set_job(job);

		log_info("job %lld: host %lld's lease given back unused (the"
		         " reply did not reach it, or it leased ahead and"
		         " stopped); queued again",
		    (long long)job, (long long)host);
		wf_log_set_job(prev);
		queue_kick(api);
	}
	db_unlock(api->db);
}

/*
 * Every held lease gets one full lease period from now: the agents could
 * not renew them while the controller could not write (a restart, a full
 * disk). An agent that really died is still found, one lease later.
 */
static int
extend_leases(struct api *api, const char *why, int reset)
{
	int changes = 0;

	/* reset: deadlines from another process's monotonic clock */
	if (db_exec(api->db, &changes,
	        reset ?
	            "UPDATE jobs SET lease_expires"
	            " = ? WHERE state IN ('leased', 'running')" :
	            "UPDATE jobs SET"
	            " lease_expires = max(lease_expires, ?) WHERE state IN ('leased',"
	            " 'running')",
	        "i", queue_lease_deadline(api)) == -1)
		return -1;
	if (changes > 0)
		log_info(
		    "%d lease(s) held across %s: extended by one lease period"
		    " (%lld ms)",
		    changes, why, (long long)api->cfg->lease_ms);
	return 0;
}

int
queue_reap(struct api *api)
{
	struct db *db = api->db;
	struct queue *q = api->queue;
	json_t *rows, *row;
	size_t i;
	int rc = 0;

	/*
	 * While the disk is full, heartbeats cannot renew leases: none may
	 * expire then, and each gets a whole period once writes work again.
	 */
	if (q != NULL && (db_full(db) || q->held)) {
		q->held = 1;
		if (db_full(db) || extend_leases(api, "a full disk", 0) == -1)
			return 0;
		q->held = 0;
		return 0;
	}
	rows = db_rows(db,
	    "SELECT id FROM jobs WHERE state IN ('leased',"
	    " 'running') AND lease_expires < ?",
	    "i", wf_now_ms());
	if (rows == NULL)
		return -1;
	json_array_foreach (rows, i, row) {
		if (db_begin(db) == -1 ||
		    queue_retry(api,
		        json_integer_value(json_object_get(row, "id")),
		        "lease expired") == -1 ||
		    db_commit(db) == -1) {
			db_rollback(db);
			rc = -1;
		}
	}
	json_decref(rows);
	return rc;
}

int
queue_wait(struct api *api, struct req *r, int64_t host_id, int64_t wait_ms)
{
	struct queue *q = api->queue;
	struct waiter *w;

	/* Stopping: the dispatcher would never resume this connection. */
	if (q == NULL || q->stopping || (w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->req = r;
	w->conn = r->conn;
	w->host_id = host_id;
	w->deadline = wf_now_ms() + wait_ms;
	r->waiter = w;
	r->lease_host = host_id;
	r->polled = 1;
	__atomic_add_fetch(&api->polls, 1, __ATOMIC_RELAXED);
	w->next = q->waiters;
	q->waiters = w;
	q->nwaiters++;
	MHD_suspend_connection(r->conn);
	/*
	 * No kick: the caller found no job for this host under the lock it
	 * still holds, and the dispatcher wakes within QUEUE_REAP_MS, before
	 * this waiter's deadline (a second at least). A kick per poll made a
	 * round over every waiter per poll.
	 */
	return 0;
}

json_t *
queue_waiter_take(struct req *r)
{
	struct waiter *w = r->waiter;
	json_t *lease;
	uint64_t seq;
	int64_t job;

	db_lock_urgent(r->api->db); /* a lease reply: as queue_try_lease's */
	lease = w->lease;
	seq = w->sync_seq;
	r->waiter = NULL;
	db_unlock(r->api->db);
	free(w);
	/* the lease is on disk before its reply goes out */
	if (json_is_object(lease) && db_sync_until(r->api->db, seq) == -1) {
		job = json_integer_value(json_object_get(lease, "job"));
		json_decref(lease);
		queue_release(r->api, job, r->lease_host);
		return NULL;
	}
	return lease;
}

void
queue_waiter_drop(struct req *r)
{
	struct queue *q = r->api->queue;
	struct waiter *w = r->waiter, **pw;
	json_t *lease;
	int64_t job = 0;

	if (w == NULL)
		return;
	db_lock(r->api->db);
	if (!w->done && q != NULL) { /* still listed: MHD gave up on it */
		for (pw = &q->waiters; *pw != NULL; pw = &(*pw)->next) {
			if (*pw == w) {
				*pw = w->next;
				q->nwaiters--;
				break;
			}
		}
	}
	db_unlock(r->api->db);
	lease = queue_waiter_take(r);
	if (json_is_object(lease))
		job = json_integer_value(json_object_get(lease, "job"));
	json_decref(lease);
	if (job > 0)
		queue_release(r->api, job, r->lease_host);
}

int
queue_waiters(struct api *api)
{
	return api->queue != NULL ? api->queue->nwaiters : 0;
}

/*
 * 1 when the agent behind a suspended long-poll has closed its end (it
 * timed out or died): such a poll must not be handed a job. MHD does not
 * read a suspended connection, so a peek cannot race with it.
 */
static int
waiter_gone(const struct waiter *w)
{
	const union MHD_ConnectionInfo *ci;
	char c;

	ci = MHD_get_connection_info(
	    w->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return 0;
	return recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/*
 * Finishes the waiters that have a job or whose time is up. The leases of
 * one round are one transaction (one commit, one sync for all, instead of
 * one per job); the connections are resumed after it committed, each
 * waiter noting the commit its reply must wait for (db_sync_take).
 */
static int64_t
serve_waiters(struct queue *q, int64_t now)
{
	struct waiter **pw = &q->waiters, *w, *served = NULL;
	struct db *db = q->api->db;
	int64_t next = now + QUEUE_REAP_MS, work = 0;
	uint64_t seq;
	int tx = 0, gone;

	/* one look for queued work, not a lease attempt per waiter */
	if (q->waiters != NULL && !q->stopping &&
	    db_int(db, &work,
	        "SELECT EXISTS (SELECT 1 FROM jobs j JOIN runs r ON"
	        " r.id = j.run_id WHERE j.state = 'queued' AND r.state IN"
	        " ('queued', 'running'))",
	        "") == -1)
		work = 1; /* the lease attempts report the error */
	while ((w = *pw) != NULL) {
		gone = !q->stopping && waiter_gone(w);
		if (q->stopping || gone || !work)
			w->lease = json_null();
		else if (!tx && db_begin(db) == -1)
			w->lease = NULL;
		else {
			tx = 1;
			w->lease = lease_one(q->api, w->host_id);
		}
		if (gone)
			w->deadline = now; /* answer it: MHD cleans up */
		if (json_is_null(w->lease) && now < w->deadline &&
		    !q->stopping) {
			json_decref(w->lease);
			w->lease = NULL;
			if (w->deadline < next)
				next = w->deadline;
			pw = &w->next;
			continue;
		}
		*pw = w->next;
		q->nwaiters--;
		w->next = served;
		served = w;
	}
	if (tx && db_commit(db) == -1) {
		log_warnx("the leases of a dispatcher round could not be"
		          " committed: their polls are answered with an error");
		for (w = served; w != NULL; w = w->next)
			if (json_is_object(w->lease)) {
				json_decref(w->lease);
				w->lease = NULL;
			}
	}
	seq = db_sync_take();
	for (w = served; w != NULL; w = w->next) {
		w->sync_seq = seq;
		w->done = 1;
		MHD_resume_connection(w->conn);
	}
	return next;
}

static void *
dispatcher(void *arg)
{
	struct queue *q = arg;
	struct db *db = q->api->db;
	int64_t now, next, last_reap = 0;
	struct timespec ts;

	db_lock(db);
	for (;;) {
		now = wf_now_ms();
		if (now - last_reap >= QUEUE_REAP_MS) {
			queue_reap(q->api);
			last_reap = now;
		}
		next = serve_waiters(q, now);
		if (q->stopping)
			break;
		if (next > last_reap + QUEUE_REAP_MS)
			next = last_reap + QUEUE_REAP_MS;
		/* wf_now_ms is monotonic; so is the condition's clock. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		next -= now;
		if (next < 1)
			next = 1;
		ts.tv_sec += next / 1000;
		ts.tv_nsec += (next % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&db->changed, &db->lock, &ts);
	}
	db_unlock(db);
	return NULL;
}

int64_t
queue_lease_deadline(const struct api *api)
{
	return wf_now_ms() + api->cfg->lease_ms;
}

/*
 * Leases that were running when the controller stopped: their agents could
 * not heartbeat while it was down, so each gets one full lease period from
 * now before the reaper may call it lost (an agent that really died is still
 * found, one lease later). The stored deadlines are on the monotonic clock
 * of the previous process (another epoch after a reboot), so all are reset.
 */
static void
extend_orphan_leases(struct api *api)
{
	db_lock(api->db);
	if (extend_leases(api, "the restart", 1) == -1)
		log_warnx("could not extend the leases held across a restart");
	db_unlock(api->db);
}

struct queue *
queue_start(struct api *api)
{
	struct queue *q;

	extend_orphan_leases(api);
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->api = api;
	api->queue = q;
	if (pthread_create(&q->thread, NULL, dispatcher, q) != 0) {
		api->queue = NULL;
		free(q);
		return NULL;
	}
	return q;
}

void
queue_stop(struct queue *q)
{
	if (q == NULL)
		return;
	db_lock(q->api->db);
	q->stopping = 1;
	queue_kick(q->api);
	db_unlock(q->api->db);
	pthread_join(q->thread, NULL);
	q->api->queue = NULL;
	free(q);
}
