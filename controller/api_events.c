/*
 * api_events.c: the feed as JSON pages and as server-sent events (see
 * api_events.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_events.h"
#include "buf.h"
#include "flags.h"
#include "log.h"
#include "ticker.h"
#include "util.h"

#define EVENTS_TICK_MS 250
#define EVENTS_KEEPALIVE_MS 15000
#define EVENTS_BATCH 200
#define EVENTS_PAGE_MAX 1000

/* One server-sent event stream (a connection). */
struct stream {
	struct events *ev;
	struct MHD_Connection *conn;
	int64_t last; /* the last feed id sent */
	int64_t quiet_since; /* wf_now_ms of the last bytes sent */
	struct wf_buf out; /* formatted, not yet taken by libmicrohttpd */
	size_t off;
	int suspended; /* in ev->waiting (under ev->lock) */
	struct stream *next;
};

struct events {
	struct api *api;
	struct ticker *ticker;
	pthread_mutex_t lock;
	struct stream *waiting; /* suspended streams */
	int64_t seen; /* the highest feed id the ticker saw */
	int64_t keepalive_at; /* wf_now_ms of the last wake for keep-alives */
	int stopping;
};

#define FEED_COLUMNS                                                   \
	"SELECT id, at, kind, run_id AS run, job_id AS job, bisect_id" \
	" AS bisect, data AS \"data:json\" FROM feed"

/* A feed row for the outside: no nulls, data as it is. */
static void
tidy(json_t *row)
{
	static const char *const keys[] = { "run", "job", "bisect", NULL };
	int i;

	for (i = 0; keys[i] != NULL; i++) {
		if (json_is_null(json_object_get(row, keys[i])))
			json_object_del(row, keys[i]);
	}
}

/* GET /api/v1/events?since=ID&limit=N */
void
api_events_list(struct req *r, struct reply *out)
{
	int64_t since, limit, last = 0;
	json_t *rows, *row;
	size_t i;

	if (req_arg_int(r, "since", 0, INT64_MAX, -1, &since, out) == -1 ||
	    req_arg_int(r, "limit", 1, EVENTS_PAGE_MAX, 100, &limit, out) == -1)
		return;
	db_lock(r->api->db);
	if (since >= 0)
		rows = db_rows(r->api->db,
		    FEED_COLUMNS " WHERE id > ? ORDER BY id LIMIT ?", "ii",
		    since, limit);
	else /* the latest ones, oldest first */
		rows = db_rows(r->api->db,
		    "SELECT * FROM (" FEED_COLUMNS " ORDER BY id DESC LIMIT ?)"
		    " ORDER BY id",
		    "i", limit);
	if (rows != NULL &&
	    db_int(r->api->db, &last, "SELECT coalesce(max(id), 0) FROM feed",
	        "") == -1) {
		json_decref(rows);
		rows = NULL;
	}
	db_unlock(r->api->db);
	if (rows == NULL) {
		reply_db_error(out);
		return;
	}
	json_array_foreach (rows, i, row)
		tidy(row);
	reply_json(
	    out, 200, json_pack("{s:o, s:I}", "events", rows, "last", last));
}

/* The next rows after st->last formatted into st->out; how many. */
static int
stream_fill(struct stream *st)
{
	struct db *db = st->ev->api->db;
	json_t *rows, *row;
	char *data;
	size_t i;

	db_lock(db);
	rows = db_rows(db, FEED_COLUMNS " WHERE id > ? ORDER BY id LIMIT ?",
	    "ii", st->last, (int64_t)EVENTS_BATCH);
	db_unlock(db);
	if (rows == NULL)
		return -1;
	wf_buf_reset(&st->out);
	st->off = 0;
	json_array_foreach (rows, i, row) {
		tidy(row);
		st->last = json_integer_value(json_object_get(row, "id"));
		data = json_dumps(row, JSON_COMPACT);
		wf_buf_printf(&st->out, "id: %lld\nevent: %s\ndata: %s\n\n",
		    (long long)st->last,
		    json_string_value(json_object_get(row, "kind")),
		    data != NULL ? data : "{}");
		free(data);
	}
	i = json_array_size(rows);
	json_decref(rows);
	return (int)i;
}

/* Copies what is ready; 0 when nothing is. */
static ssize_t
stream_take(struct stream *st, char *buf, size_t max)
{
	size_t n = st->out.len - st->off;

	if (n > max)
		n = max;
	if (n > 0) {
		memcpy(buf, st->out.data + st->off, n);
		st->off += n;
		st->quiet_since = wf_now_ms();
	}
	return (ssize_t)n;
}

/*
 * libmicrohttpd asks for more: what is ready, the next events, a
 * keep-alive, or (nothing to say) the connection suspended until the
 * ticker resumes it.
 */
static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	struct events *ev = st->ev;
	ssize_t n;
	int got;

	if ((n = stream_take(st, buf, max)) > 0)
		return n;
	if (__atomic_load_n(&ev->stopping, __ATOMIC_ACQUIRE))
		return MHD_CONTENT_READER_END_OF_STREAM;
	if ((got = stream_fill(st)) == -1)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (got == 0 && wf_now_ms() - st->quiet_since >= EVENTS_KEEPALIVE_MS) {
		wf_buf_reset(&st->out);
		st->off = 0;
		wf_buf_printf(&st->out, ": keep-alive\n\n");
	}
	if ((n = stream_take(st, buf, max)) > 0)
		return n;
	pthread_mutex_lock(&ev->lock);
	if (ev->stopping) {
		pthread_mutex_unlock(&ev->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	/* Suspended under the lock: the ticker cannot resume it before. */
	st->suspended = 1;
	st->next = ev->waiting;
	ev->waiting = st;
	MHD_suspend_connection(st->conn);
	pthread_mutex_unlock(&ev->lock);
	return 0;
}

static void
stream_free(void *cls)
{
	struct stream *st = cls;

	wf_buf_free(&st->out);
	free(st);
}

/* GET /api/v1/events/stream[?since=ID]; Last-Event-ID wins over since. */
void
api_events_stream(struct req *r, struct reply *out)
{
	const char *lei = MHD_lookup_connection_value(
	    r->conn, MHD_HEADER_KIND, "Last-Event-ID");
	struct stream *st;
	long long v;
	int64_t since;

	if (r->api->events == NULL) {
		reply_error(out, 503, "the event stream is not running");
		return;
	}
	if (req_arg_int(r, "since", 0, INT64_MAX, -1, &since, out) == -1)
		return;
	if (lei != NULL && wf_parse_int(lei, 0, INT64_MAX, &v) == 0)
		since = v;
	if (since < 0) { /* from now on */
		db_lock(r->api->db);
		if (db_int(r->api->db, &since,
		        "SELECT coalesce(max(id), 0) FROM feed", "") == -1)
			since = -1;
		db_unlock(r->api->db);
		if (since < 0) {
			reply_db_error(out);
			return;
		}
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		reply_error(out, 500, "out of memory");
		return;
	}
	st->ev = r->api->events;
	st->conn = r->conn;
	st->last = since;
	st->quiet_since = wf_now_ms();
	wf_buf_init(&st->out, 16 << 20);
	/* The first bytes: how soon an EventSource reconnects. */
	wf_buf_printf(&st->out, "retry: 2000\n\n");
	out->response = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, st, stream_free);
	if (out->response == NULL) {
		stream_free(st);
		reply_error(out, 500, "out of memory");
		return;
	}
	out->status = 200;
	out->ctype = "text/event-stream; charset=utf-8";
	out->hname = "Cache-Control";
	snprintf(out->hval, sizeof(out->hval), "no-cache");
}

/* Resumes every waiting stream: each sends what it has, or suspends again. */
static void
events_wake(struct events *ev)
{
	struct stream *st;

	pthread_mutex_lock(&ev->lock);
	while ((st = ev->waiting) != NULL) {
		ev->waiting = st->next;
		st->suspended = 0;
		MHD_resume_connection(st->conn);
	}
	pthread_mutex_unlock(&ev->lock);
}

static void
events_tick(void *arg)
{
	struct events *ev = arg;
	int64_t max = 0, now = wf_now_ms();

	db_lock(ev->api->db);
	if (db_int(ev->api->db, &max, "SELECT coalesce(max(id), 0) FROM feed",
	        "") == -1)
		max = ev->seen;
	db_unlock(ev->api->db);
	/* New events, or time for keep-alives (and to find who left). */
	if (max != ev->seen || now - ev->keepalive_at >= EVENTS_KEEPALIVE_MS) {
		if (now - ev->keepalive_at >= EVENTS_KEEPALIVE_MS)
			ev->keepalive_at = now;
		ev->seen = max;
		events_wake(ev);
	}
}

struct events *
events_start(struct api *api)
{
	struct events *ev = calloc(1, sizeof(*ev));

	if (ev == NULL)
		return NULL;
	ev->api = api;
	ev->keepalive_at = wf_now_ms();
	pthread_mutex_init(&ev->lock, NULL);
	if ((ev->ticker = ticker_start(events_tick, ev, EVENTS_TICK_MS)) ==
	    NULL) {
		pthread_mutex_destroy(&ev->lock);
		free(ev);
		return NULL;
	}
	api->events = ev;
	return ev;
}

void
events_stop(struct events *ev)
{
	if (ev == NULL)
		return;
	ticker_stop(ev->ticker);
	pthread_mutex_lock(&ev->lock);
	__atomic_store_n(&ev->stopping, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ev->lock);
	events_wake(ev);
}

void
events_free(struct events *ev)
{
	if (ev == NULL)
		return;
	ev->api->events = NULL;
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}
