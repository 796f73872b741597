/*
 * notify.c: the notifier thread: the feed into the outbox, the outbox to
 * the receivers (see notify.h).
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "export.h"
#include "log.h"
#include "notify.h"
#include "regress.h"
#include "ticker.h"
#include "util.h"

#define NOTIFY_TICK_MS 200
#define FEED_BATCH 50
#define SEND_BATCH 10

struct notify {
	struct api *api;
	struct ticker *ticker;
};

static int
listed(const json_t *events, const char *event)
{
	const json_t *e;
	size_t i;

	json_array_foreach (events, i, e) {
		if (strcmp(json_string_value(e), event) == 0)
			return 1;
	}
	return 0;
}

static int
glob(const json_t *sub, const char *key, const char *s)
{
	const char *pat = json_string_value(json_object_get(sub, key));

	return pat == NULL || fnmatch(pat, s != NULL ? s : "", 0) == 0;
}

/* Whether sub wants event about (schedule, scenario, kernel). */
static int
matches(const json_t *sub, const char *event, const char *schedule,
    const char *scenario, const char *kernel)
{
	const char *want = json_string_value(json_object_get(sub, "schedule"));

	return listed(json_object_get(sub, "events"), event) &&
	    (want == NULL ||
	        (schedule != NULL && strcmp(want, schedule) == 0)) &&
	    (scenario == NULL || glob(sub, "scenario", scenario)) &&
	    (kernel == NULL || glob(sub, "kernel", kernel));
}

/* The id receivers deduplicate on: a hash of subscription and event. */
static void
delivery_id(int64_t sub, const char *key, char out[40])
{
	char text[600], mac[65];

	snprintf(text, sizeof(text), "%lld:%s", (long long)sub, key);
	if (notify_hmac_hex("wakefarm-delivery", text, mac) == -1)
		snprintf(mac, sizeof(mac), "%lld", (long long)sub);
	snprintf(out, 40, "wf-%.32s", mac);
}

/* One outbox row for sub: queued unless it was already (UNIQUE). */
static int
enqueue(struct api *api, const json_t *sub, const char *event, const char *key,
    const json_t *ctx)
{
	int64_t sid = json_integer_value(json_object_get(sub, "id"));
	const char *kind = json_string_value(json_object_get(sub, "kind"));
	char delivery[40], *body = NULL, *subject = NULL, *mail = NULL;
	json_t *p;
	int rc;

	delivery_id(sid, key, delivery);
	p = notify_msg_json(api, event, ctx,
	    json_string_value(json_object_get(sub, "name")), delivery);
	if (p == NULL)
		return -1;
	if (strcmp(kind, "email") == 0) {
		if (notify_msg_mail(api, p,
		        json_string_value(json_object_get(sub, "target")),
		        &subject, &mail) == -1) {
			json_decref(p);
			return -1;
		}
	} else {
		body = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	}
	rc = db_exec(api->db, NULL,
	    "INSERT OR IGNORE INTO outbox (subscription_id, event, event_key,"
	    " delivery, subject, body, next_at, created_at) VALUES (?, ?, ?, ?,"
	    " ?, ?, ?, ?)",
	    "itttttii", sid, event, key, delivery, subject ? subject : "",
	    mail     ? mail :
	        body ? body :
	               "{}",
	    db_now_ms(), db_now_ms());
	json_decref(p);
	free(body);
	free(subject);
	free(mail);
	return rc;
}

/* The run's context for a notification (new): id, links, counts. */
static json_t *
run_ctx(struct api *api, int64_t run)
{
	char *url = export_url(api, "/#/runs/%lld", (long long)run);
	json_t *r;

	r = db_row(api->db,
	    "SELECT r.id, r.kind, r.state, r.request AS \"request:json\","
	    " r.jobs_total, r.jobs_as_expected, r.jobs_unexpected, s.schedule,"
	    " s.day FROM runs r LEFT JOIN schedule_runs s ON s.run_id = r.id"
	    " WHERE r.id = ?",
	    "i", run);
	if (r != NULL && json_is_object(r) && url != NULL)
		json_object_set_new(r, "url", json_string(url));
	free(url);
	return r;
}

static const char *
case_event(const char *cls)
{
	if (strcmp(cls, "regression") == 0)
		return "regression";
	if (strcmp(cls, "new_failing") == 0)
		return "new-failure";
	if (strcmp(cls, "fixed") == 0)
		return "fixed";
	return NULL;
}

/* A nightly run's regressions, new failures and fixed cases. */
static int
run_cases(struct api *api, const json_t *subs, json_t *run)
{
	const char *sched = json_string_value(json_object_get(run, "schedule"));
	json_t *cls, *c, *details, *ctx, *said;
	const char *event;
	char key[160], *data;
	size_t i, k;
	const json_t *sub;
	int rc = 0;

	if ((cls = regress_run(api->db,
	         json_integer_value(json_object_get(run, "id")))) == NULL)
		return -1;
	json_object_set(run, "previous", json_object_get(cls, "previous"));
	json_array_foreach (json_object_get(cls, "cases"), i, c) {
		if ((event = case_event(json_string_value(
		         json_object_get(c, "class")))) == NULL)
			continue;
		if ((details = notify_msg_case(api, run, c)) == NULL) {
			rc = -1;
			break;
		}
		ctx = json_pack("{s:O, s:o}", "run", run, "case", details);
		/* the feed tells it too (the dashboard, events --follow) */
		said = json_pack("{s:O, s:O, s:O*, s:O*, s:O, s:O*, s:O*}",
		    "run", json_object_get(run, "id"), "job",
		    json_object_get(c, "job"), "scenario",
		    json_object_get(details, "scenario"), "case",
		    json_object_get(details, "name"), "class",
		    json_object_get(c, "class"), "verdict",
		    json_object_get(c, "verdict"), "schedule",
		    json_object_get(run, "schedule"));
		data = json_dumps(said, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(said);
		rc |= db_exec(api->db, NULL,
		    "INSERT INTO feed (at, kind, run_id, job_id, data) VALUES (?,"
		    " ?, ?, ?, ?)",
		    "itiit", db_now_ms(), event,
		    (int64_t)json_integer_value(json_object_get(run, "id")),
		    (int64_t)json_integer_value(json_object_get(c, "job")),
		    data != NULL ? data : "{}");
		free(data);
		snprintf(key, sizeof(key), "%s:run-%lld:job-%lld", event,
		    (long long)json_integer_value(json_object_get(run, "id")),
		    (long long)json_integer_value(json_object_get(c, "job")));
		json_array_foreach (subs, k, sub) {
			if (matches(sub, event, sched,
			        json_string_value(
			            json_object_get(details, "scenario")),
			        json_string_value(
			            json_object_get(details, "kernel"))))
				rc |= enqueue(api, sub, event, key, ctx);
		}
		json_decref(ctx);
	}
	json_decref(cls);
	return rc;
}

/* Whether any job of the run matches sub's scenario and kernel globs. */
static int
run_matches(struct api *api, const json_t *sub, int64_t run)
{
	json_t *jobs, *j;
	size_t i;
	int m = 0;

	jobs = db_rows(api->db,
	    "SELECT DISTINCT scenario, coalesce(json_extract(params,"
	    " '$.kernel_package'), json_extract(params, '$.kernel'),"
	    " json_extract(params, '$.test_kernel'), 'test-kernel') AS kernel"
	    " FROM jobs WHERE run_id = ?",
	    "i", run);
	json_array_foreach (jobs, i, j) {
		if (glob(sub, "scenario",
		        json_string_value(json_object_get(j, "scenario"))) &&
		    glob(sub, "kernel",
		        json_string_value(json_object_get(j, "kernel"))))
			m = 1;
	}
	json_decref(jobs);
	return m;
}

/* A run that ended: run-finished, and a nightly's cases. */
static int
feed_run(struct api *api, const json_t *subs, int64_t id)
{
	json_t *run = run_ctx(api, id), *ctx;
	const json_t *sub;
	char key[64];
	size_t i;
	int rc = 0;

	if (run == NULL || json_is_null(run)) {
		json_decref(run);
		return run == NULL ? -1 : 0;
	}
	if (json_is_string(json_object_get(run, "schedule")) &&
	    strcmp(json_string_value(json_object_get(run, "state")), "done") ==
	        0)
		rc = run_cases(api, subs, run);
	snprintf(key, sizeof(key), "run-finished:run-%lld", (long long)id);
	ctx = json_pack("{s:O}", "run", run);
	json_array_foreach (subs, i, sub) {
		if (matches(sub, "run-finished",
		        json_string_value(json_object_get(run, "schedule")),
		        NULL, NULL) &&
		    run_matches(api, sub, id))
			rc |= enqueue(api, sub, "run-finished", key, ctx);
	}
	json_decref(ctx);
	json_decref(run);
	return rc;
}

/* A bisect that ended: bisect-finished. */
static int
feed_bisect(struct api *api, const json_t *subs, int64_t id)
{
	json_t *b, *ctx;
	const json_t *sub;
	char key[64], *url;
	size_t i;
	int rc = 0;

	b = db_row(api->db,
	    "SELECT b.id, b.scenario, b.state, b.confidence, b.message,"
	    " b.regression_run, c.rev, c.subject, s.schedule FROM bisects b"
	    " LEFT JOIN bisect_candidates c ON c.bisect_id = b.id AND c.idx ="
	    " b.first_bad LEFT JOIN schedule_runs s ON s.run_id ="
	    " b.regression_run WHERE b.id = ?",
	    "i", id);
	if (b == NULL || json_is_null(b)) {
		json_decref(b);
		return b == NULL ? -1 : 0;
	}
	if (json_is_string(json_object_get(b, "rev")))
		json_object_set_new(b, "first_bad",
		    json_pack("{s:O, s:O}", "rev", json_object_get(b, "rev"),
		        "subject", json_object_get(b, "subject")));
	json_object_del(b, "rev");
	json_object_del(b, "subject");
	if ((url = export_url(api, "/#/bisects/%lld", (long long)id)))
		json_object_set_new(b, "url", json_string(url));
	free(url);
	snprintf(
	    key, sizeof(key), "bisect-finished:bisect-%lld", (long long)id);
	ctx = json_pack("{s:O}", "bisect", b);
	json_array_foreach (subs, i, sub) {
		if (matches(sub, "bisect-finished",
		        json_string_value(json_object_get(b, "schedule")),
		        json_string_value(json_object_get(b, "scenario")),
		        NULL))
			rc |= enqueue(api, sub, "bisect-finished", key, ctx);
	}
	json_decref(ctx);
	json_decref(b);
	return rc;
}

/* One feed row: 0, or -1 (the batch is rolled back and read again). */
static int
feed_row(struct api *api, const json_t *subs, const json_t *row)
{
	const char *kind = json_string_value(json_object_get(row, "kind"));
	const char *state = json_string_value(
	    json_object_get(json_object_get(row, "data"), "state"));

	if (state == NULL)
		return 0;
	if (strcmp(kind, "run") == 0 &&
	    (strcmp(state, "done") == 0 || strcmp(state, "cancelled") == 0))
		return feed_run(api, subs,
		    json_integer_value(json_object_get(row, "run_id")));
	if (strcmp(kind, "bisect") == 0 && strcmp(state, "running") != 0)
		return feed_bisect(api, subs,
		    json_integer_value(json_object_get(row, "bisect_id")));
	return 0;
}

/*
 * Reads the feed on from the cursor: 1 more to read, 0 caught up, -1. The
 * lock is held throughout: no other write comes between the reads and the
 * cursor's move, so the feed up to max is all seen.
 */
static int
feed_step(struct api *api)
{
	struct db *db = api->db;
	json_t *rows = NULL, *subs = NULL, *row;
	int64_t cursor = 0, max = 0, last;
	size_t i;
	int rc = -1;

	db_lock(db);
	if (db_int(db, &cursor,
	        "SELECT feed_id FROM notify_cursor WHERE id = 1", "") != 1 ||
	    db_int(db, &max, "SELECT coalesce(max(id), 0) FROM feed", "") !=
	        1 ||
	    (rows = db_rows(db,
	         "SELECT id, kind, run_id, bisect_id, data AS \"data:json\" FROM"
	         " feed WHERE id > ? AND id <= ? AND kind IN ('run', 'bisect')"
	         " ORDER BY id LIMIT ?",
	         "iii", cursor, max, (int64_t)FEED_BATCH)) == NULL ||
	    (subs = db_rows(db,
	         "SELECT id, name, events AS \"events:json\", schedule, scenario,"
	         " kernel, kind, target FROM subscriptions ORDER BY id",
	         "")) == NULL)
		goto out;
	if (max <= cursor) {
		rc = 0;
		goto out;
	}
	/* a full batch: up to its last row; else everything up to max */
	last = json_array_size(rows) == FEED_BATCH ?
	    json_integer_value(
	        json_object_get(json_array_get(rows, FEED_BATCH - 1), "id")) :
	    max;
	if (db_begin(db) == -1)
		goto out;
	json_array_foreach (rows, i, row) {
		if (json_array_size(subs) > 0 &&
		    feed_row(api, subs, row) == -1) {
			db_rollback(db);
			goto out;
		}
	}
	if (db_exec(db, NULL,
	        "UPDATE notify_cursor SET feed_id = ? WHERE id = 1", "i",
	        last) == -1 ||
	    db_commit(db) == -1) {
		db_rollback(db);
		goto out;
	}
	rc = last < max;
out:
	db_unlock(db);
	json_decref(rows);
	json_decref(subs);
	return rc;
}

/* The wait before attempt n + 1: base x 2^(n-1), at most the cap, +-10%. */
static int64_t
backoff_ms(const struct api *api, int64_t attempts)
{
	int64_t d = api->cfg->notify_retry_ms;
	unsigned int r = 0;

	while (attempts-- > 1 && d < NOTIFY_BACKOFF_MAX_MS)
		d *= 2;
	if (d > NOTIFY_BACKOFF_MAX_MS)
		d = NOTIFY_BACKOFF_MAX_MS;
	if (getrandom(&r, sizeof(r), 0) == (ssize_t)sizeof(r))
		d += (int64_t)(r % 201) * d / 1000 - d / 10;
	return d;
}

/* One due row sent (no lock held while sending), then its state stored. */
static void
send_one(struct api *api, const json_t *o)
{
	int64_t id = json_integer_value(json_object_get(o, "id"));
	int64_t attempts = json_integer_value(json_object_get(o, "attempts")) +
	    1;
	int64_t now;
	const char *kind = json_string_value(json_object_get(o, "kind"));
	char *cause = NULL;
	int rc;

	if (strcmp(kind, "email") == 0)
		rc = notify_send_mail(api->cfg,
		    json_string_value(json_object_get(o, "target")),
		    json_string_value(json_object_get(o, "body")), &cause);
	else
		rc = notify_send_webhook(
		    json_string_value(json_object_get(o, "target")),
		    json_string_value(json_object_get(o, "secret")),
		    json_string_value(json_object_get(o, "event")),
		    json_string_value(json_object_get(o, "delivery")),
		    json_string_value(json_object_get(o, "body")), &cause);
	db_lock(api->db);
	now = db_now_ms();
	if (rc == 0) {
		db_exec(api->db, NULL,
		    "UPDATE outbox SET state = 'sent', attempts = ?, sent_at = ?,"
		    " last_error = '' WHERE id = ?",
		    "iii", attempts, now, id);
		log_info("notification %lld (%s, %s) sent to %s", (long long)id,
		    json_string_value(json_object_get(o, "event")), kind,
		    json_string_value(json_object_get(o, "name")));
	} else {
		int gone = now -
		        json_integer_value(json_object_get(o, "created_at")) >
		    NOTIFY_MAX_AGE_MS;

		db_exec(api->db, NULL,
		    "UPDATE outbox SET state = ?, attempts = ?, next_at = ?,"
		    " last_error = ? WHERE id = ?",
		    "tiiti", gone ? "failed" : "pending", attempts,
		    now + backoff_ms(api, attempts), wf_cause_str(cause), id);
		log_warnx("notification %lld (%s) to %s: attempt %lld: %s%s",
		    (long long)id,
		    json_string_value(json_object_get(o, "event")),
		    json_string_value(json_object_get(o, "name")),
		    (long long)attempts, wf_cause_str(cause),
		    gone ? "; given up" : "");
	}
	db_unlock(api->db);
	free(cause);
}

static void
send_due(struct notify *n)
{
	struct api *api = n->api;
	json_t *rows, *o;
	size_t i;

	db_lock(api->db);
	rows = db_rows(api->db,
	    "SELECT o.id, o.event, o.delivery, o.body, o.attempts, o.created_at,"
	    " s.kind, s.target, s.secret, s.name FROM outbox o JOIN"
	    " subscriptions s ON s.id = o.subscription_id WHERE o.state ="
	    " 'pending' AND o.next_at <= ? ORDER BY o.next_at, o.id LIMIT ?",
	    "ii", db_now_ms(), (int64_t)SEND_BATCH);
	db_unlock(api->db);
	json_array_foreach (rows, i, o) {
		if (ticker_stopping(n->ticker))
			break;
		send_one(api, o);
	}
	json_decref(rows);
}

static void
notify_tick(void *arg)
{
	struct notify *n = arg;
	int more;

	/* the database's disk is full: wait, the feed stays */
	if (db_full(n->api->db))
		return;
	while ((more = feed_step(n->api)) == 1 && !ticker_stopping(n->ticker))
		;
	send_due(n);
}

struct notify *
notify_start(struct api *api)
{
	struct notify *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->api = api;
	if ((n->ticker = ticker_start(notify_tick, n, NOTIFY_TICK_MS)) ==
	    NULL) {
		free(n);
		return NULL;
	}
	api->notify = n;
	return n;
}

void
notify_stop(struct notify *n)
{
	if (n == NULL)
		return;
	ticker_stop(n->ticker);
	n->api->notify = NULL;
	free(n);
}

void
notify_kick(struct api *api)
{
	if (api->notify != NULL)
		ticker_kick(api->notify->ticker);
}
