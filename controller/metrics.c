/*
 * metrics.c: GET /metrics (see metrics.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "buf.h"
#include "metrics.h"
#include "queue.h"
#include "regress.h"
#include "util.h"

#define METRICS_MAX (16 * 1024 * 1024)
#define HTTP_SERIES 256
#define NIGHT_CACHE_MS 60000 /* a night's classes are computed again after */

/* --- HTTP requests, in memory --- */

struct http_series {
	const char *method, *route; /* static strings */
	unsigned int code;
	uint64_t n;
};

static pthread_mutex_t http_lock = PTHREAD_MUTEX_INITIALIZER;
static struct http_series http_series[HTTP_SERIES];
static size_t http_nseries;

static const char *
static_method(const char *m)
{
	static const char *const known[] = { "GET", "POST", "DELETE", "HEAD",
		"PUT", "PATCH", "OPTIONS", NULL };
	int i;

	for (i = 0; m != NULL && known[i] != NULL; i++) {
		if (strcmp(m, known[i]) == 0)
			return known[i];
	}
	return "OTHER";
}

void
metrics_http_count(const char *method, const char *route, unsigned int status)
{
	const char *m = static_method(method);
	size_t i;

	pthread_mutex_lock(&http_lock);
	for (i = 0; i < http_nseries; i++) {
		if (http_series[i].method == m &&
		    http_series[i].route == route &&
		    http_series[i].code == status)
			break;
	}
	if (i == http_nseries && http_nseries < HTTP_SERIES) {
		http_series[i] = (struct http_series){ m, route, status, 0 };
		http_nseries++;
	}
	if (i < http_nseries)
		http_series[i].n++;
	pthread_mutex_unlock(&http_lock);
}

static void
http_metrics(struct wf_buf *b)
{
	size_t i;

	wf_buf_printf(b,
	    "# HELP wakefarm_http_requests_total HTTP requests answered, by"
	    " method, route and status.\n"
	    "# TYPE wakefarm_http_requests_total counter\n");
	pthread_mutex_lock(&http_lock);
	for (i = 0; i < http_nseries; i++)
		wf_buf_printf(b,
		    "wakefarm_http_requests_total{method=\"%s\",route=\"%s\","
		    "code=\"%u\"} %llu\n",
		    http_series[i].method, http_series[i].route,
		    http_series[i].code, (unsigned long long)http_series[i].n);
	pthread_mutex_unlock(&http_lock);
}

/* --- from the database --- */

/* A label value as the exposition format wants it: \\, \", \n escaped. */
static void
label(struct wf_buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			wf_buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			wf_buf_printf(b, "\\n");
		else
			wf_buf_append(b, s, 1);
	}
}

static void
head(struct wf_buf *b, const char *name, const char *type, const char *help)
{
	wf_buf_printf(
	    b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * One series per value of values[] (zeros included) of the label, from
 * "SELECT k, n ... GROUP BY k".
 */
static int
by_label(struct db *db, struct wf_buf *b, const char *name, const char *type,
    const char *help, const char *lab, const char *const values[],
    const char *sql)
{
	json_t *rows, *row;
	json_int_t n;
	size_t i;
	int v;

	if ((rows = db_rows(db, sql, "")) == NULL)
		return -1;
	head(b, name, type, help);
	for (v = 0; values[v] != NULL; v++) {
		n = 0;
		json_array_foreach (rows, i, row) {
			if (strcmp(
			        json_string_value(json_object_get(row, "k")) ?
			            json_string_value(
			                json_object_get(row, "k")) :
			            "",
			        values[v]) == 0)
				n = json_integer_value(
				    json_object_get(row, "n"));
		}
		wf_buf_printf(b, "%s{%s=\"%s\"} %lld\n", name, lab, values[v],
		    (long long)n);
	}
	json_decref(rows);
	return 0;
}

static const char *const job_states[] = { "queued", "leased", "running", "done",
	"cancelled", NULL };
static const char *const run_states[] = { "queued", "running", "done",
	"cancelled", NULL };
static const char *const host_states[] = { "good", "bad", "maintenance", NULL };
static const char *const verdicts[] = { "pass", "fail", "hang", "crash",
	"infra", NULL };

static int
state_gauges(struct db *db, struct wf_buf *b)
{
	return by_label(db, b, "wakefarm_jobs", "gauge", "Jobs by state.",
	           "state", job_states,
	           "SELECT state AS k, count(*) AS n FROM jobs GROUP BY state") |
	    by_label(db, b, "wakefarm_runs", "gauge", "Runs by state.", "state",
	        run_states,
	        "SELECT state AS k, count(*) AS n FROM runs GROUP BY state") |
	    by_label(db, b, "wakefarm_hosts", "gauge", "Hosts by state.",
	        "state", host_states,
	        "SELECT state AS k, count(*) AS n FROM hosts GROUP BY state");
}

/* Finished jobs by verdict and as expected; attempts; infra retries. */
static int
finished_counters(struct db *db, struct wf_buf *b)
{
	json_t *rows, *row;
	int64_t retries = 0, events = 0;
	size_t i;
	int v, ok;

	if ((rows = db_rows(db,
	         "SELECT verdict, as_expected, count(*) AS n FROM jobs WHERE"
	         " state = 'done' GROUP BY verdict, as_expected",
	         "")) == NULL)
		return -1;
	head(b, "wakefarm_jobs_finished_total", "counter",
	    "Jobs finished, by verdict and whether that was as expected.");
	for (v = 0; verdicts[v] != NULL; v++) {
		for (ok = 1; ok >= 0; ok--) {
			json_int_t n = 0;

			json_array_foreach (rows, i, row) {
				const char *rv = json_string_value(
				    json_object_get(row, "verdict"));

				if (rv != NULL &&
				    strcmp(rv, verdicts[v]) == 0 &&
				    (json_integer_value(json_object_get(
				         row, "as_expected")) == 1) == ok)
					n += json_integer_value(
					    json_object_get(row, "n"));
			}
			wf_buf_printf(b,
			    "wakefarm_jobs_finished_total{verdict=\"%s\","
			    "as_expected=\"%s\"} %lld\n",
			    verdicts[v], ok ? "true" : "false", (long long)n);
		}
	}
	json_decref(rows);
	if (by_label(db, b, "wakefarm_attempts_total", "counter",
	        "Attempts of jobs that ended, by verdict (infra included).",
	        "verdict", verdicts,
	        "SELECT verdict AS k, count(*) AS n FROM attempts GROUP BY"
	        " verdict") == -1 ||
	    db_int(db, &retries,
	        "SELECT count(*) FROM attempts a JOIN jobs j ON j.id ="
	        " a.job_id WHERE a.verdict = 'infra' AND a.attempt < j.attempt",
	        "") == -1 ||
	    db_int(db, &events, "SELECT coalesce(sum(next_seq), 0) FROM jobs",
	        "") == -1)
		return -1;
	head(b, "wakefarm_infra_retries_total", "counter",
	    "Attempts that ended infra and were run again.");
	wf_buf_printf(
	    b, "wakefarm_infra_retries_total %lld\n", (long long)retries);
	head(b, "wakefarm_events_total", "counter",
	    "Records agents sent (every attempt), pruned ones included.");
	wf_buf_printf(b, "wakefarm_events_total %lld\n", (long long)events);
	return 0;
}

#define HIST_BUCKETS 10
#define HIST_SELECT                                                         \
	"SELECT count(x) AS n, total(x) AS s, sum(x <= ?1) AS b0, sum(x <=" \
	" ?2) AS b1, sum(x <= ?3) AS b2, sum(x <= ?4) AS b3, sum(x <= ?5)"  \
	" AS b4, sum(x <= ?6) AS b5, sum(x <= ?7) AS b6, sum(x <= ?8) AS"   \
	" b7, sum(x <= ?9) AS b8, sum(x <= ?10) AS b9 FROM "

struct histogram {
	const char *name, *help, *sql;
	double le[HIST_BUCKETS];
};

static const struct histogram histograms[] = {
	{ "wakefarm_job_duration_seconds",
	    "Time from a job's first start to its verdict.",
	    HIST_SELECT "(SELECT (finished_at - started_at) / 1000.0 AS x FROM"
	                " jobs WHERE state = 'done' AND started_at IS NOT NULL"
	                " AND finished_at >= started_at)",
	    { 1, 2, 5, 10, 20, 30, 60, 120, 300, 900 } },
	{ "wakefarm_job_queue_wait_seconds",
	    "Time a job waited in the queue for its (last) lease.",
	    HIST_SELECT "(SELECT (leased_at - created_at) / 1000.0 AS x FROM"
	                " jobs WHERE leased_at >= created_at)",
	    { 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600 } },
	{ "wakefarm_guest_boot_seconds",
	    "Firmware start to the kernel's cold boot record, by the guest's"
	    " clock.",
	    HIST_SELECT "(SELECT boot_us / 1e6 AS x FROM jobs WHERE boot_us"
	                " IS NOT NULL)",
	    { 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30 } },
};

static int
histogram(struct db *db, struct wf_buf *b, const struct histogram *h)
{
	const double *le = h->le;
	json_t *row;
	char key[8];
	int i;

	row = db_row(db, h->sql, "ffffffffff", le[0], le[1], le[2], le[3],
	    le[4], le[5], le[6], le[7], le[8], le[9]);
	if (row == NULL)
		return -1;
	head(b, h->name, "histogram", h->help);
	for (i = 0; i < HIST_BUCKETS; i++) {
		snprintf(key, sizeof(key), "b%d", i);
		wf_buf_printf(b, "%s_bucket{le=\"%g\"} %lld\n", h->name, le[i],
		    (long long)json_integer_value(json_object_get(row, key)));
	}
	wf_buf_printf(b,
	    "%s_bucket{le=\"+Inf\"} %lld\n%s_sum %.6f\n%s_count %lld\n",
	    h->name, (long long)json_integer_value(json_object_get(row, "n")),
	    h->name, json_number_value(json_object_get(row, "s")), h->name,
	    (long long)json_integer_value(json_object_get(row, "n")));
	json_decref(row);
	return 0;
}

/* Per host: up (seen within a lease period), last seen, slots, busy. */
static int
host_metrics(struct api *api, struct wf_buf *b)
{
	static const char *const names[][3] = {
		{ "wakefarm_host_up", "gauge",
		    "1 when the host's agent was heard from within a lease"
		    " period." },
		{ "wakefarm_host_last_seen_timestamp_seconds", "gauge",
		    "When the host's agent was last heard from." },
		{ "wakefarm_host_slots", "gauge",
		    "Guests the host may run at once." },
		{ "wakefarm_host_busy_slots", "gauge",
		    "Jobs the host holds now." },
	};
	int64_t now = db_now_ms();
	json_t *rows, *h;
	size_t i, m;

	rows = db_rows(api->db,
	    "SELECT h.name, h.slots, h.last_seen, (SELECT count(*) FROM jobs j"
	    " WHERE j.lease_host = h.id AND j.state IN ('leased', 'running'))"
	    " AS busy FROM hosts h ORDER BY h.name",
	    "");
	if (rows == NULL)
		return -1;
	for (m = 0; m < 4; m++) {
		head(b, names[m][0], names[m][1], names[m][2]);
		json_array_foreach (rows, i, h) {
			int64_t seen = json_integer_value(
			    json_object_get(h, "last_seen"));

			wf_buf_printf(b, "%s{host=\"", names[m][0]);
			label(b, json_string_value(json_object_get(h, "name")));
			if (m == 0)
				wf_buf_printf(b, "\"} %d\n",
				    seen >= now - api->cfg->lease_ms);
			else if (m == 1)
				wf_buf_printf(
				    b, "\"} %.3f\n", (double)seen / 1000);
			else
				wf_buf_printf(b, "\"} %lld\n",
				    (long long)json_integer_value(
				        json_object_get(
				            h, m == 2 ? "slots" : "busy")));
		}
	}
	json_decref(rows);
	return 0;
}

/* The classes of each schedule's last finished night, cached per run. */
static pthread_mutex_t night_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *night_cache; /* schedule -> {"run", "at", "counts"} */

static json_t *
night_counts(struct db *db, const char *schedule, int64_t run)
{
	json_t *c, *cls, *counts;
	int64_t now = wf_now_ms();

	pthread_mutex_lock(&night_lock);
	if (night_cache == NULL)
		night_cache = json_object();
	c = json_object_get(night_cache, schedule);
	if (c != NULL && json_integer_value(json_object_get(c, "run")) == run &&
	    now - json_integer_value(json_object_get(c, "at")) <
	        NIGHT_CACHE_MS) {
		counts = json_incref(json_object_get(c, "counts"));
		pthread_mutex_unlock(&night_lock);
		return counts;
	}
	pthread_mutex_unlock(&night_lock);
	if ((cls = regress_run(db, run)) == NULL)
		return NULL;
	counts = json_incref(json_object_get(cls, "counts"));
	json_decref(cls);
	if (counts == NULL)
		counts = json_object();
	pthread_mutex_lock(&night_lock);
	json_object_set_new(night_cache, schedule,
	    json_pack("{s:I, s:I, s:O}", "run", (json_int_t)run, "at",
	        (json_int_t)now, "counts", counts));
	pthread_mutex_unlock(&night_lock);
	return counts;
}

static int
night_metrics(struct db *db, struct wf_buf *b)
{
	static const char *const classes[] = { "regression", "flaky",
		"new_failing", "still_failing", "fixed", "known", "infra",
		"pass", NULL };
	json_t *rows, *row, *counts;
	struct wf_buf cases;
	size_t i;
	int k, rc = 0;

	rows = db_rows(db,
	    "SELECT s.schedule, r.id AS run, r.finished_at FROM schedule_runs s"
	    " JOIN runs r ON r.id = s.run_id WHERE r.state = 'done' AND s.day ="
	    " (SELECT max(s2.day) FROM schedule_runs s2 JOIN runs r2 ON r2.id ="
	    " s2.run_id WHERE s2.schedule = s.schedule AND r2.state = 'done')"
	    " ORDER BY s.schedule",
	    "");
	if (rows == NULL)
		return -1;
	wf_buf_init(&cases, METRICS_MAX);
	head(b, "wakefarm_last_nightly_completion_timestamp_seconds", "gauge",
	    "When each schedule's last complete night finished.");
	head(&cases, "wakefarm_last_night_cases", "gauge",
	    "Cases of each schedule's last complete night, by class against"
	    " the night before (regression, flaky, ...).");
	json_array_foreach (rows, i, row) {
		const char *sched = json_string_value(
		    json_object_get(row, "schedule"));

		wf_buf_printf(b,
		    "wakefarm_last_nightly_completion_timestamp_seconds{schedule=\"");
		label(b, sched);
		wf_buf_printf(b, "\"} %.3f\n",
		    (double)json_integer_value(
		        json_object_get(row, "finished_at")) /
		        1000);
		if ((counts = night_counts(db, sched,
		         json_integer_value(json_object_get(row, "run")))) ==
		    NULL) {
			rc = -1;
			break;
		}
		for (k = 0; classes[k] != NULL; k++) {
			wf_buf_printf(
			    &cases, "wakefarm_last_night_cases{schedule=\"");
			label(&cases, sched);
			wf_buf_printf(&cases, "\",class=\"%s\"} %lld\n",
			    classes[k],
			    (long long)json_integer_value(
			        json_object_get(counts, classes[k])));
		}
		json_decref(counts);
	}
	wf_buf_append(b, wf_buf_str(&cases), cases.len);
	wf_buf_free(&cases);
	json_decref(rows);
	return rc;
}

/* The outbox: notifications by kind and state. */
static int
notify_metrics(struct db *db, struct wf_buf *b)
{
	static const char *const kinds[] = { "webhook", "email", NULL };
	static const char *const states[] = { "pending", "sent", "failed",
		NULL };
	json_t *rows, *row;
	size_t i;
	int k, s;

	rows = db_rows(db,
	    "SELECT s.kind, o.state, count(*) AS n FROM outbox o JOIN"
	    " subscriptions s ON s.id = o.subscription_id GROUP BY s.kind,"
	    " o.state",
	    "");
	if (rows == NULL)
		return -1;
	head(b, "wakefarm_notifications", "gauge",
	    "Notifications in the outbox, by kind and state.");
	for (k = 0; kinds[k] != NULL; k++) {
		for (s = 0; states[s] != NULL; s++) {
			json_int_t n = 0;

			json_array_foreach (rows, i, row) {
				if (!strcmp(json_string_value(
				                json_object_get(row, "kind")),
				        kinds[k]) &&
				    !strcmp(json_string_value(
				                json_object_get(row, "state")),
				        states[s]))
					n = json_integer_value(
					    json_object_get(row, "n"));
			}
			wf_buf_printf(b,
			    "wakefarm_notifications{kind=\"%s\",state=\"%s\"} %lld\n",
			    kinds[k], states[s], (long long)n);
		}
	}
	json_decref(rows);
	return 0;
}

void
api_metrics(struct req *r, struct reply *out)
{
	struct db *db = r->api->db;
	struct wf_buf b;
	size_t len, h;
	int rc;

	wf_buf_init(&b, METRICS_MAX);
	head(&b, "wakefarm_build_info", "gauge",
	    "The controller's version (the value is always 1).");
	wf_buf_printf(
	    &b, "wakefarm_build_info{version=\"%s\"} 1\n", WF_VERSION);
	db_lock(db);
	rc = state_gauges(db, &b) | finished_counters(db, &b);
	for (h = 0; rc == 0 && h < sizeof(histograms) / sizeof(histograms[0]);
	     h++)
		rc = histogram(db, &b, &histograms[h]);
	if (rc == 0)
		rc = host_metrics(r->api, &b) | night_metrics(db, &b) |
		    notify_metrics(db, &b);
	head(&b, "wakefarm_lease_waiters", "gauge",
	    "Agents waiting in a lease long-poll.");
	wf_buf_printf(&b, "wakefarm_lease_waiters %d\n", queue_waiters(r->api));
	db_unlock(db);
	if (rc != 0) {
		wf_buf_free(&b);
		reply_db_error(out);
		return;
	}
	http_metrics(&b);
	len = b.len;
	reply_raw(out, 200, "text/plain; version=0.0.4; charset=utf-8",
	    wf_buf_steal(&b), len);
}
