/*
 * ctlbench.c: the controller benchmark's HTTP client (see ctlbench.h):
 * agents ingesting events through the real agent protocol, reads timed
 * against a large database, and lease hand-out to a waiting agent. One
 * thread per client, each with its own keep-alive connection (lib/http.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "ctlbench.h"
#include "http.h"
#include "records.h"
#include "util.h"

#define INGEST_CLIENTS_MAX 64
#define TOKEN_MAX 128

const char *
cb_opt(const struct cb_opts *o, const char *key, const char *dflt)
{
	int i;

	for (i = 0; i + 1 < o->argc; i += 2) {
		if (strncmp(o->argv[i], "--", 2) == 0 &&
		    strcmp(o->argv[i] + 2, key) == 0)
			return o->argv[i + 1];
	}
	return dflt;
}

long
cb_opt_long(const struct cb_opts *o, const char *key, long dflt)
{
	const char *v = cb_opt(o, key, NULL);

	return v != NULL ? strtol(v, NULL, 10) : dflt;
}

int
cb_records_load(const char *path, struct cb_records *r)
{
	struct records_reader stats;
	char *cause = NULL;
	size_t i;

	memset(r, 0, sizeof(*r));
	/* Every line must be a contract record: nothing silently dropped. */
	if ((r->recs = records_load_file(path, &stats, &cause)) == NULL ||
	    json_array_size(r->recs) == 0 ||
	    records_reader_dropped(&stats) > 0) {
		if (cause == NULL && r->recs != NULL &&
		    json_array_size(r->recs) > 0)
			wf_set_cause(&cause, "%lu lines dropped (%s)",
			    records_reader_dropped(&stats), stats.last_cause);
		fprintf(stderr, "ctlbench: records %s: %s\n", path,
		    cause != NULL ? cause : "empty");
		free(cause);
		json_decref(r->recs);
		r->recs = NULL;
		return -1;
	}
	r->n = json_array_size(r->recs);
	r->text = calloc(r->n, sizeof(*r->text));
	for (i = 0; i < r->n; i++)
		r->text[i] = json_dumps(
		    json_array_get(r->recs, i), JSON_COMPACT);
	return 0;
}

void
cb_records_free(struct cb_records *r)
{
	size_t i;

	for (i = 0; r->text != NULL && i < r->n; i++)
		free(r->text[i]);
	free(r->text);
	json_decref(r->recs);
	memset(r, 0, sizeof(*r));
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
cb_percentile(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	/* Nearest rank: the smallest sample with p% at or below it. */
	i = (size_t)((p / 100.0) * (double)n + 0.999999);
	return v[i > 0 ? i - 1 : 0];
}

static struct wf_http *
client(const char *url, const char *token)
{
	struct wf_http *c = wf_http_new(url, token);

	if (c == NULL)
		fprintf(stderr, "ctlbench: cannot make an HTTP client for %s\n",
		    url);
	return c;
}

/* A JSON request that must succeed; the reply (may be NULL) or -1. */
static int
call(struct wf_http *c, const char *method, const char *path, json_t *body,
    json_t **reply)
{
	char *cause = NULL;

	if (wf_http_request(c, method, path, body, NULL, reply, &cause) == 0)
		return 0;
	fprintf(
	    stderr, "ctlbench: %s %s: %s\n", method, path, wf_cause_str(cause));
	free(cause);
	return -1;
}

/* --- ingest ------------------------------------------------------------ */

struct ingest {
	const char *url;
	long jobs, batches;
	char **bodies; /* by batch number */
	size_t *lens;
	pthread_barrier_t ready;
	int failed;
};

struct agent {
	struct ingest *in;
	char token[TOKEN_MAX];
	int index;
	int64_t *job;
	pthread_t thread;
};

/* Registers the host and leases every job it will post events for. */
static int
agent_setup(struct agent *a, struct wf_http *c)
{
	json_t *body, *reply = NULL;
	char name[32];
	long i;
	int rc;

	snprintf(name, sizeof(name), "bench-agent-%d", a->index);
	body = json_pack("{s:s, s:I, s:s}", "name", name, "slots",
	    (json_int_t)a->in->jobs, "libvirt_uri", "qemu:///system");
	rc = call(c, "POST", "/api/v1/agents/register", body, NULL);
	json_decref(body);
	for (i = 0; rc == 0 && i < a->in->jobs; i++) {
		if ((rc = call(c, "POST", "/api/v1/agents/lease?wait=0", NULL,
		         &reply)) == -1)
			break;
		if (reply == NULL) {
			fprintf(stderr, "ctlbench: agent %d: no job to lease\n",
			    a->index);
			rc = -1;
			break;
		}
		a->job[i] = json_integer_value(json_object_get(reply, "job"));
		json_decref(reply);
	}
	return rc;
}

static void *
agent_main(void *arg)
{
	struct agent *a = arg;
	struct ingest *in = a->in;
	struct wf_http *c = client(in->url, a->token);
	struct wf_buf out;
	char path[96], *cause = NULL;
	long i, b, status = 0;
	int ok = c != NULL && agent_setup(a, c) == 0;

	if (!ok)
		__atomic_store_n(&in->failed, 1, __ATOMIC_RELAXED);
	wf_buf_init(&out, 1 << 16);
	pthread_barrier_wait(&in->ready);
	for (i = 0; ok && !in->failed && i < in->jobs; i++) {
		snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events",
		    (long long)a->job[i]);
		for (b = 0; b < in->batches; b++) {
			wf_buf_reset(&out);
			if (wf_http_request_raw(c, "POST", path,
			        "application/json", in->bodies[b], in->lens[b],
			        &status, &out, &cause) == -1 ||
			    status != 200) {
				fprintf(stderr, "ctlbench: POST %s: %s\n", path,
				    cause != NULL ? cause : wf_buf_str(&out));
				free(cause);
				__atomic_store_n(
				    &in->failed, 1, __ATOMIC_RELAXED);
				ok = 0;
				break;
			}
		}
	}
	pthread_barrier_wait(&in->ready);
	wf_buf_free(&out);
	wf_http_free(c);
	return NULL;
}

/* The body of batch b: records b*size.. of the fixture, cycled. */
static char *
batch_body(const struct cb_records *r, long b, long size)
{
	json_t *recs = json_array(), *body;
	char *text;
	long k;

	for (k = 0; k < size; k++)
		json_array_append(recs,
		    json_array_get(r->recs, (size_t)(b * size + k) % r->n));
	body = json_pack("{s:I, s:o}", "batch", (json_int_t)b, "records", recs);
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return text;
}

static int
read_tokens(const char *path, struct agent *agents, int max)
{
	FILE *f = fopen(path, "r");
	char line[TOKEN_MAX];
	int n = 0;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] != '\0')
			wf_strlcpy(agents[n++].token, line, TOKEN_MAX);
	}
	fclose(f);
	return n;
}

static int
cb_ingest(const struct cb_opts *o)
{
	struct ingest in = { .url = cb_opt(o, "url", "") };
	struct agent agents[INGEST_CLIENTS_MAX];
	struct cb_records r = { 0 };
	struct wf_http *admin = NULL;
	json_t *sub = NULL, *reply = NULL;
	long size = cb_opt_long(o, "batch-size", 100), b;
	int n, i, started = 0, rc = -1;
	int64_t t0, t1;

	memset(agents, 0, sizeof(agents));
	in.jobs = cb_opt_long(o, "jobs", 64);
	in.batches = cb_opt_long(o, "batches", 4);
	if ((n = read_tokens(
	         cb_opt(o, "tokens", ""), agents, INGEST_CLIENTS_MAX)) < 1 ||
	    cb_records_load(cb_opt(o, "records", ""), &r) == -1)
		return -1;
	in.bodies = calloc((size_t)in.batches, sizeof(*in.bodies));
	in.lens = calloc((size_t)in.batches, sizeof(*in.lens));
	for (b = 0; b < in.batches; b++) {
		in.bodies[b] = batch_body(&r, b, size);
		in.lens[b] = strlen(in.bodies[b]);
	}
	/* One run with a job for each (agent, slot): kexec-chain, widened. */
	if ((admin = client(in.url, cb_opt(o, "admin-token", ""))) == NULL)
		goto out;
	sub = json_loads(cb_opt(o, "submit", "{}"), 0, NULL);
	if (sub == NULL ||
	    call(admin, "POST", "/api/v1/runs", sub, &reply) == -1)
		goto out;
	if (json_integer_value(json_object_get(reply, "jobs")) < n * in.jobs) {
		fprintf(stderr, "ctlbench: the run has %lld jobs, %ld needed\n",
		    (long long)json_integer_value(
		        json_object_get(reply, "jobs")),
		    n * in.jobs);
		goto out;
	}
	pthread_barrier_init(&in.ready, NULL, (unsigned)n + 1);
	for (i = 0; i < n; i++) {
		agents[i].in = &in;
		agents[i].index = i + 1;
		agents[i].job = calloc((size_t)in.jobs, sizeof(int64_t));
		pthread_create(&agents[i].thread, NULL, agent_main, &agents[i]);
		started++;
	}
	pthread_barrier_wait(&in.ready); /* every job leased */
	t0 = wf_now_us();
	pthread_barrier_wait(&in.ready); /* every batch acknowledged */
	t1 = wf_now_us();
	for (i = 0; i < started; i++) {
		pthread_join(agents[i].thread, NULL);
		free(agents[i].job);
	}
	pthread_barrier_destroy(&in.ready);
	if (in.failed)
		goto out;
	printf("clients %d\nevents %ld\nseconds %.3f\nrate %.0f\nrun %lld\n", n,
	    n * in.jobs * in.batches * size, (t1 - t0) / 1e6,
	    n * in.jobs * in.batches * size / ((t1 - t0) / 1e6),
	    (long long)json_integer_value(json_object_get(reply, "run")));
	rc = 0;
out:
	for (b = 0; in.bodies != NULL && b < in.batches; b++)
		free(in.bodies[b]);
	free(in.bodies);
	free(in.lens);
	json_decref(sub);
	json_decref(reply);
	wf_http_free(admin);
	cb_records_free(&r);
	return rc;
}

/* --- latency ----------------------------------------------------------- */

/* Times n GETs of one endpoint; prints "NAME p50 p99 bytes". */
static int
time_gets(struct wf_http *c, const char *name, const char *fmt, long runs,
    long per_run, long n)
{
	double *ms = calloc((size_t)n, sizeof(double));
	struct wf_buf out;
	char path[160], *cause = NULL;
	long i, run, status = 0;
	size_t bytes = 0;
	int64_t t0;
	int rc = -1;

	wf_buf_init(&out, 64 * 1024 * 1024);
	for (i = 0; i < n; i++) {
		/* Spread over every run: a late run must not be slower. */
		run = 1 + (i * 7919) % runs;
		/* The format takes a run id and a job of it with full events. */
		snprintf(path, sizeof(path), fmt, (long long)run,
		    (long long)((run - 1) * per_run + 2));
		wf_buf_reset(&out);
		t0 = wf_now_us();
		if (wf_http_request_raw(c, "GET", path, NULL, NULL, 0, &status,
		        &out, &cause) == -1 ||
		    status != 200) {
			fprintf(stderr, "ctlbench: GET %s: %s (%ld)\n", path,
			    cause != NULL ? cause : wf_buf_str(&out), status);
			free(cause);
			goto out;
		}
		ms[i] = (wf_now_us() - t0) / 1000.0;
		bytes += out.len;
	}
	printf("%s %.2f %.2f %zu\n", name, cb_percentile(ms, (size_t)n, 50),
	    cb_percentile(ms, (size_t)n, 99), bytes / (size_t)n);
	rc = 0;
out:
	wf_buf_free(&out);
	free(ms);
	return rc;
}

static int
cb_latency(const struct cb_opts *o)
{
	struct wf_http *c = client(cb_opt(o, "url", ""), NULL);
	long runs = cb_opt_long(o, "runs", 100);
	long per = cb_opt_long(o, "jobs-per-run", 1000);
	long n = cb_opt_long(o, "n", 200);
	int rc = -1;

	if (c == NULL)
		return -1;
	/* A short warm-up: the first reads fault the file into the cache. */
	if (time_gets(c, "warmup", "/api/v1/runs/%1$lld/matrix", runs, per,
	        runs < 20 ? runs : 20) == 0 &&
	    time_gets(
	        c, "matrix", "/api/v1/runs/%1$lld/matrix", runs, per, n) == 0 &&
	    time_gets(c, "jobs", "/api/v1/jobs?run=%1$lld&limit=100", runs, per,
	        n) == 0 &&
	    time_gets(c, "job", "/api/v1/jobs/%2$lld", runs, per, n) == 0)
		rc = 0;
	wf_http_free(c);
	return rc;
}

/* --- lease hand-out ---------------------------------------------------- */

struct waiting {
	const char *url, *token;
	long n;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	long polls; /* long-polls about to be sent */
	long got; /* leases received */
	int64_t at; /* when the last one arrived, us */
	int64_t run; /* of the last one */
	int failed;
};

static void *
waiter_main(void *arg)
{
	struct waiting *w = arg;
	struct wf_http *c = client(w->url, w->token);
	json_t *body, *reply = NULL;
	long i;
	int ok;

	body = json_pack("{s:s, s:I, s:s}", "name", "bench-lease", "slots",
	    (json_int_t)w->n + 1, "libvirt_uri", "qemu:///system");
	ok = c != NULL &&
	    call(c, "POST", "/api/v1/agents/register", body, NULL) == 0;
	json_decref(body);
	if (c != NULL)
		wf_http_set_timeouts(c, 0, 40000);
	for (i = 0; ok && i < w->n; i++) {
		pthread_mutex_lock(&w->lock);
		w->polls++;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
		do {
			json_decref(reply);
			reply = NULL;
			ok = call(c, "POST", "/api/v1/agents/lease?wait=30",
			         NULL, &reply) == 0;
		} while (ok && reply == NULL); /* 204 at the deadline */
		pthread_mutex_lock(&w->lock);
		w->at = wf_now_us();
		w->run = json_integer_value(json_object_get(reply, "run"));
		w->got++;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
	}
	json_decref(reply);
	if (!ok) {
		pthread_mutex_lock(&w->lock);
		w->failed = 1;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
	}
	wf_http_free(c);
	return NULL;
}

static int
cb_lease(const struct cb_opts *o)
{
	struct waiting w = { .url = cb_opt(o, "url", ""),
		.token = cb_opt(o, "agent-token", "") };
	struct wf_http *admin = client(w.url, cb_opt(o, "admin-token", ""));
	json_t *sub = json_loads(cb_opt(o, "submit", "{}"), 0, NULL);
	double *from_submit, *from_reply;
	/* Loopback: the poll is suspended well within this (GET /metrics
	 * would tell, but counts every event: too slow at scale). */
	struct timespec settle = { 0, 20 * 1000000 };
	json_t *reply = NULL;
	int64_t t0, t1, run;
	pthread_t th;
	long i;
	int rc = -1;

	w.n = cb_opt_long(o, "n", 50);
	from_submit = calloc((size_t)w.n, sizeof(double));
	from_reply = calloc((size_t)w.n, sizeof(double));
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	if (admin == NULL || sub == NULL)
		goto out;
	pthread_create(&th, NULL, waiter_main, &w);
	for (i = 0; i < w.n; i++) {
		pthread_mutex_lock(&w.lock);
		while (w.polls <= i && !w.failed)
			pthread_cond_wait(&w.cond, &w.lock);
		pthread_mutex_unlock(&w.lock);
		nanosleep(&settle, NULL);
		t0 = wf_now_us();
		if (call(admin, "POST", "/api/v1/runs", sub, &reply) == -1)
			goto join;
		t1 = wf_now_us();
		run = json_integer_value(json_object_get(reply, "run"));
		json_decref(reply);
		pthread_mutex_lock(&w.lock);
		while (w.got <= i && !w.failed)
			pthread_cond_wait(&w.cond, &w.lock);
		pthread_mutex_unlock(&w.lock);
		if (w.failed)
			goto join;
		/* Some other job (an expired lease put back) would not count. */
		if (w.run != run) {
			fprintf(stderr,
			    "ctlbench: leased a job of run %lld, not"
			    " of the run just submitted (%lld)\n",
			    (long long)w.run, (long long)run);
			goto join;
		}
		from_submit[i] = (w.at - t0) / 1000.0;
		from_reply[i] = (w.at > t1 ? w.at - t1 : 0) / 1000.0;
	}
	printf("lease_submit %.2f %.2f\nlease_reply %.2f %.2f\nlease_n %ld\n",
	    cb_percentile(from_submit, (size_t)w.n, 50),
	    cb_percentile(from_submit, (size_t)w.n, 99),
	    cb_percentile(from_reply, (size_t)w.n, 50),
	    cb_percentile(from_reply, (size_t)w.n, 99), w.n);
	rc = 0;
join:
	/* A failed waiter may sit in a long-poll: exit() ends it. */
	if (rc == 0)
		pthread_join(th, NULL);
out:
	json_decref(sub);
	wf_http_free(admin);
	free(from_submit);
	free(from_reply);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ctlbench ingest|bare|seed|latency|lease"
	    " [--key value]... (see bench/controller.sh)\n");
}

int
main(int argc, char **argv)
{
	struct cb_opts o = { argc - 2, argv + 2 };
	int rc;

	if (argc < 2) {
		usage();
		return 2;
	}
	if (strcmp(argv[1], "ingest") == 0)
		rc = cb_ingest(&o);
	else if (strcmp(argv[1], "bare") == 0)
		rc = cb_bare(&o);
	else if (strcmp(argv[1], "seed") == 0)
		rc = cb_seed(&o);
	else if (strcmp(argv[1], "latency") == 0)
		rc = cb_latency(&o);
	else if (strcmp(argv[1], "lease") == 0)
		rc = cb_lease(&o);
	else {
		usage();
		return 2;
	}
	return rc == 0 ? 0 : 1;
}
