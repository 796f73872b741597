/*
 * loadclient: many simulated agents against one controller (tests/load/run).
 *
 * Each agent is a thread with its own connection and agent token that does
 * what bin/wakefarm-agent does over the API, with a fake runner: register,
 * long-poll for a lease, stream the job's records (real records of a guest
 * run, in 3 batches spread over --job-ms), heartbeat, finish. A submitter
 * thread keeps the queue fed until --jobs jobs were submitted (runs of 100
 * repeats of one case); a reader thread reads the run list and a run's page
 * every second (a dashboard). Every minute, and for the whole run at the
 * end (tests/load/README.md says what each figure is):
 *   - the service time (p50/p99/max) of each route class of the non-poll
 *     requests (register, submit, events, heartbeat, finish, read), and of
 *     all of them together;
 *   - lease dispatch time: from the moment a job was runnable (its run's
 *     201 reached the submitter) and an agent was polling, to that agent's
 *     lease reply;
 *   - queue wait: from the job's submission to its lease reply;
 *   - the old mixed figure, labelled: every request, a lease poll that got
 *     a job counted with its whole wait;
 * and jobs finished, the controller's RSS. At the end: leases handed out
 * twice (must be 0), jobs finished, errors, and a "figures:" line with the
 * whole run's non-poll p99/max and dispatch p50/p99 (tests/load/run checks
 * them against its thresholds).
 *
 * Usage: loadclient --server URL --tokens FILE --submit-token T --jobs N
 *        --minutes M --records FILE --pid CONTROLLER_PID [--job-ms MS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "flags.h"
#include "http.h"
#include "util.h"

#define AGENTS_MAX 256
#define JOBS_MAX (1 << 20)

enum {
	OPT_SERVER = WF_FLAG_LONG,
	OPT_TOKENS,
	OPT_SUBMIT,
	OPT_JOBS,
	OPT_MINUTES,
	OPT_RECORDS,
	OPT_PID,
	OPT_JOB_MS,
};

static const struct wf_flag flags[] = {
	{ "server", OPT_SERVER, "URL", "the controller", 1 },
	{ "tokens", OPT_TOKENS, "FILE",
	    "agent tokens, one per line (one agent"
	    " each)",
	    1 },
	{ "submit-token", OPT_SUBMIT, "TOKEN", "a submitter token", 1 },
	{ "jobs", OPT_JOBS, "N", "jobs to submit (multiple of 100)", 1 },
	{ "minutes", OPT_MINUTES, "M", "spread the submissions over M minutes",
	    1 },
	{ "records", OPT_RECORDS, "FILE", "a guest run's records (JSON lines)",
	    1 },
	{ "pid", OPT_PID, "PID", "the controller's pid (its RSS)", 1 },
	{ "job-ms", OPT_JOB_MS, "MS",
	    "how long a fake guest runs (default"
	    " 1000)",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd cmd = {
	"loadclient",
	NULL,
	"Simulated agents against a controller (see"
	" tests/load/run).",
	flags,
	NULL,
};

static const char *server, *submit_token;
static json_t *records;
static int total_jobs, minutes, job_ms = 1000, ctl_pid;

/* What a request is, for the figures: one series per route class. */
enum cls {
	C_REGISTER,
	C_SUBMIT,
	C_EVENTS,
	C_HEARTBEAT,
	C_FINISH,
	C_READ,
	NCLS,
	C_POLL = NCLS, /* the lease long-poll: not a service time */
};

static const char *const cls_names[NCLS] = { "register", "submit", "events",
	"heartbeat", "finish", "read" };

/* A growing list of samples, ms. */
struct series {
	double *v;
	size_t n, cap;
};

/*
 * Per minute (min_*) and over the whole run (all_*): the service time of
 * each non-poll route class, dispatch time, queue wait and the old mixed
 * figure (every request, a lease poll that got a job counted with its
 * wait). Under mu.
 */
enum {
	S_DISPATCH = NCLS,
	S_DISPATCH_POLL, /* the job was waiting: the poll found it */
	S_DISPATCH_WAIT, /* the agent was waiting: the dispatcher's */
	S_QUEUE,
	S_MIXED,
	NSERIES
};
static struct series min_s[NSERIES], all_s[NSERIES];

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long requests, errors, finished, submitted, leased_twice;
static unsigned char *leased; /* by job id */
static int64_t *run_submitted; /* by run id: when its 201 came, wf_now_us */
static json_int_t last_run; /* the latest run submitted */
static volatile int done;

#define RUNS_MAX (JOBS_MAX / 100 + 1024)

static void
series_add(struct series *s, double ms)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		double *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ms;
}

/* A sample of series i, this minute and overall; caller holds mu. */
static void
sample(int i, double ms)
{
	series_add(&min_s[i], ms);
	series_add(&all_s[i], ms);
}

static void
note(int c, double ms, int ok)
{
	pthread_mutex_lock(&mu);
	requests++;
	if (!ok)
		errors++;
	if (c < NCLS)
		sample(c, ms);
	pthread_mutex_unlock(&mu);
}

/* One timed request of class c; the reply's status. *t0 (if not NULL):
 * when it was sent, wf_now_us. */
static long
call(struct wf_http *h, int c, const char *method, const char *path,
    json_t *body, json_t **reply, int64_t *t0p)
{
	int64_t t0 = wf_now_us();
	long status = 0;
	char *cause = NULL;
	int rc;

	if (t0p != NULL)
		*t0p = t0;
	rc = wf_http_request(h, method, path, body, &status, reply, &cause);
	note(c, (wf_now_us() - t0) / 1000.0, rc == 0 || status == 204);
	if (rc == -1 && status != 204 && status != 409)
		fprintf(stderr, "loadclient: %s %s: %s\n", method, path,
		    wf_cause_str(cause));
	free(cause);
	return status;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static long
rss_kib(void)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", ctl_pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * A lease reply for job of run came at t (the poll was sent at sent):
 * dispatch time runs from the moment the job was runnable (its run's 201
 * reached the submitter) and this agent was polling, to the reply; queue
 * wait from runnable to the reply. The 201 may arrive after the lease
 * (the controller dispatches at commit): dispatch 0 then.
 */
static void
leased_at(json_int_t job, json_int_t run, int64_t sent, int64_t t)
{
	int64_t runnable = 0, from;

	pthread_mutex_lock(&mu);
	if (job > 0 && job < JOBS_MAX && leased[job]++)
		leased_twice++;
	if (run > 0 && run < RUNS_MAX)
		runnable = run_submitted[run];
	if (runnable == 0 || runnable > t)
		runnable = t;
	from = runnable > sent ? runnable : sent;
	sample(S_DISPATCH, (t - from) / 1000.0);
	sample(runnable > sent ? S_DISPATCH_WAIT : S_DISPATCH_POLL,
	    (t - from) / 1000.0);
	sample(S_QUEUE, (t - runnable) / 1000.0);
	sample(S_MIXED, (t - sent) / 1000.0);
	pthread_mutex_unlock(&mu);
}

/* A long-poll for a job; its id (0: none) and run. */
static json_int_t
poll_lease(struct wf_http *h, json_int_t *run)
{
	json_t *reply = NULL;
	json_int_t job;
	int64_t sent;

	if (call(h, C_POLL, "POST", "/api/v1/agents/lease?wait=2", NULL, &reply,
	        &sent) != 200 ||
	    reply == NULL) {
		json_decref(reply);
		return 0;
	}
	job = json_integer_value(json_object_get(reply, "job"));
	*run = json_integer_value(json_object_get(reply, "run"));
	json_decref(reply);
	leased_at(job, *run, sent, wf_now_us());
	return job;
}

/* A fake guest run: the records in 3 batches over job_ms, a heartbeat,
 * finish. */
static void
run_job(struct wf_http *h, json_int_t job)
{
	size_t n = json_array_size(records), third = (n + 2) / 3;
	char path[96];
	json_t *body;
	int b;

	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/events", (long long)job);
	for (b = 0; b < 3; b++) {
		json_t *part = json_array();

		for (size_t i = b * third; i < n && i < (b + 1) * third; i++)
			json_array_append(part, json_array_get(records, i));
		usleep(job_ms * 1000 / 3);
		body = json_pack("{s:i, s:o}", "batch", b, "records", part);
		call(h, C_EVENTS, "POST", path, body, NULL, NULL);
		json_decref(body);
		if (b == 1)
			call(h, C_HEARTBEAT, "POST", "/api/v1/agents/heartbeat",
			    json_object(), NULL, NULL);
	}
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/finish", (long long)job);
	body = json_pack("{s:s, s:s}", "outcome", "completed", "detail", "");
	if (call(h, C_FINISH, "POST", path, body, NULL, NULL) == 200) {
		pthread_mutex_lock(&mu);
		finished++;
		pthread_mutex_unlock(&mu);
	}
	json_decref(body);
}

static void *
agent(void *arg)
{
	const char *token = arg;
	struct wf_http *h = wf_http_new(server, token);
	json_t *body;
	char name[32];

	snprintf(name, sizeof(name), "load-%.8s", token);
	body = json_pack("{s:s, s:i, s:s}", "name", name, "slots", 1,
	    "libvirt_uri", "test:///default");
	call(
	    h, C_REGISTER, "POST", "/api/v1/agents/register", body, NULL, NULL);
	json_decref(body);
	while (!done) {
		json_int_t run = 0, job = poll_lease(h, &run);

		if (job > 0)
			run_job(h, job);
	}
	wf_http_free(h);
	return NULL;
}

static void *
submitter(void *arg)
{
	struct wf_http *h = wf_http_new(server, submit_token);
	int64_t t0 = wf_now_ms(), span = (int64_t)minutes * 60000 * 9 / 10;
	json_t *body = json_pack("{s:s, s:{s:i, s:i}, s:i}", "scenario",
	    "kexec-chain", "set", "cpus", 2, "mailbox_version", 1, "repeat",
	    100);

	(void)arg;
	while (submitted < total_jobs && !done) {
		/* on schedule: submitted / total == elapsed / span */
		int64_t due = t0 + span * (submitted + 100) / total_jobs;
		json_t *reply = NULL;
		json_int_t run;

		while (wf_now_ms() < due && !done)
			usleep(50000);
		if (call(h, C_SUBMIT, "POST", "/api/v1/runs", body, &reply,
		        NULL) == 201) {
			run = json_integer_value(json_object_get(reply, "run"));
			pthread_mutex_lock(&mu);
			if (run > 0 && run < RUNS_MAX)
				run_submitted[run] = wf_now_us();
			last_run = run;
			submitted += 100;
			pthread_mutex_unlock(&mu);
		} else {
			sleep(1);
		}
		json_decref(reply);
	}
	json_decref(body);
	wf_http_free(h);
	return NULL;
}

/* A dashboard: every second the run list and the latest run's page. */
static void *
reader(void *arg)
{
	struct wf_http *h = wf_http_new(server, submit_token);
	json_int_t run;
	char path[64];

	(void)arg;
	while (!done) {
		call(h, C_READ, "GET", "/api/v1/runs?limit=20", NULL, NULL,
		    NULL);
		pthread_mutex_lock(&mu);
		run = last_run;
		pthread_mutex_unlock(&mu);
		snprintf(
		    path, sizeof(path), "/api/v1/runs/%lld", (long long)run);
		if (run > 0)
			call(h, C_READ, "GET", path, NULL, NULL, NULL);
		usleep(1000000);
	}
	wf_http_free(h);
	return NULL;
}

/* p50, p99 and max of s (sorted in place); all 0 when empty. */
static void
quantiles(struct series *s, double q[3])
{
	q[0] = q[1] = q[2] = 0;
	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), cmp);
	q[0] = s->v[s->n / 2];
	q[1] = s->v[s->n * 99 / 100];
	q[2] = s->v[s->n - 1];
}

static void
print_series(const char *what, struct series *s)
{
	double q[3];

	quantiles(s, q);
	printf("#   %-34s %7zu  p50 %7.1f  p99 %7.1f  max %7.1f ms\n", what,
	    s->n, q[0], q[1], q[2]);
}

/* The figures of s[] (one minute's or the whole run's); caller holds mu. */
static void
print_figures(struct series *s)
{
	struct series nonpoll = { NULL, 0, 0 };

	for (int c = 0; c < NCLS; c++) {
		char what[64];

		snprintf(what, sizeof(what), "service %s", cls_names[c]);
		print_series(what, &s[c]);
		for (size_t i = 0; i < s[c].n; i++)
			series_add(&nonpoll, s[c].v[i]);
	}
	print_series("service, every non-poll request", &nonpoll);
	print_series("lease dispatch (runnable -> lease)", &s[S_DISPATCH]);
	print_series("  of which the job was waiting", &s[S_DISPATCH_POLL]);
	print_series("  of which the agent was waiting", &s[S_DISPATCH_WAIT]);
	print_series("queue wait (submitted -> lease)", &s[S_QUEUE]);
	print_series("mixed (old figure, polls with wait)", &s[S_MIXED]);
	free(nonpoll.v);
}

static void
report(int minute)
{
	pthread_mutex_lock(&mu);
	printf("# minute %2d: %ld jobs submitted, %ld finished; controller RSS"
	       " %ld KiB\n",
	    minute, submitted, finished, rss_kib());
	print_figures(min_s);
	fflush(stdout);
	for (int i = 0; i < NSERIES; i++)
		min_s[i].n = 0;
	pthread_mutex_unlock(&mu);
}

/* The whole run's figures, and the two the thresholds are about in a
 * line tests/load/run reads. */
static void
report_total(void)
{
	struct series nonpoll = { NULL, 0, 0 };
	double q[3], d[3];

	pthread_mutex_lock(&mu);
	printf("# whole run:\n");
	print_figures(all_s);
	for (int c = 0; c < NCLS; c++)
		for (size_t i = 0; i < all_s[c].n; i++)
			series_add(&nonpoll, all_s[c].v[i]);
	quantiles(&nonpoll, q);
	quantiles(&all_s[S_DISPATCH], d);
	printf("figures: service_p99_ms=%.1f service_max_ms=%.1f"
	       " dispatch_p50_ms=%.1f dispatch_p99_ms=%.1f\n",
	    q[1], q[2], d[0], d[1]);
	free(nonpoll.v);
	pthread_mutex_unlock(&mu);
}

int
main(int argc, char **argv)
{
	pthread_t th[AGENTS_MAX], sub, rd;
	char *tokens[AGENTS_MAX], line[256], *cause = NULL;
	const char *tokfile = NULL, *recfile = NULL, *arg;
	struct wf_flags f;
	int id, n = 0, minute = 0;
	int64_t start, next;
	long rss0;
	FILE *fp;

	wf_flags_begin(&f, &cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		switch (id) {
		case OPT_SERVER:
			server = arg;
			break;
		case OPT_TOKENS:
			tokfile = arg;
			break;
		case OPT_SUBMIT:
			submit_token = arg;
			break;
		case OPT_JOBS:
			total_jobs = (int)wf_flags_int(
			    &f, "--jobs", arg, 100, JOBS_MAX / 2);
			break;
		case OPT_MINUTES:
			minutes = (int)wf_flags_int(
			    &f, "--minutes", arg, 1, 600);
			break;
		case OPT_RECORDS:
			recfile = arg;
			break;
		case OPT_PID:
			ctl_pid = (int)wf_flags_int(
			    &f, "--pid", arg, 1, INT32_MAX);
			break;
		case OPT_JOB_MS:
			job_ms = (int)wf_flags_int(
			    &f, "--job-ms", arg, 0, 600000);
			break;
		}
	}
	wf_flags_args(&f, 0, 0, &id);
	if ((fp = fopen(tokfile, "r")) == NULL) {
		perror(tokfile);
		return 2;
	}
	while (n < AGENTS_MAX && fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0])
			tokens[n++] = strdup(line);
	}
	fclose(fp);
	records = json_array();
	if ((fp = fopen(recfile, "r")) == NULL) {
		perror(recfile);
		return 2;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		json_t *r = json_loads(line, 0, NULL);

		if (r != NULL)
			json_array_append_new(records, r);
	}
	fclose(fp);
	leased = calloc(JOBS_MAX, 1);
	run_submitted = calloc(RUNS_MAX, sizeof(*run_submitted));
	if (run_submitted == NULL || leased == NULL || n == 0 ||
	    json_array_size(records) == 0) {
		fprintf(stderr,
		    "loadclient: no tokens, no records or no"
		    " memory\n");
		return 2;
	}
	rss0 = rss_kib();
	printf("# %d agents, %d jobs over %d minutes, %zu records per job,"
	       " controller RSS at start %ld KiB\n",
	    n, total_jobs, minutes, json_array_size(records), rss0);
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, agent, tokens[i]);
	pthread_create(&sub, NULL, submitter, NULL);
	pthread_create(&rd, NULL, reader, NULL);
	start = wf_now_ms();
	next = start + 60000;
	/* until every job finished, or 3 minutes past the plan */
	while (!(submitted >= total_jobs && finished >= total_jobs) &&
	    wf_now_ms() < start + (minutes + 3) * 60000LL) {
		usleep(200000);
		if (wf_now_ms() >= next) {
			report(++minute);
			next += 60000;
		}
	}
	report(++minute);
	done = 1;
	pthread_join(sub, NULL);
	pthread_join(rd, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	printf(
	    "# total: %ld jobs submitted, %ld finished in %.1f min, %ld"
	    " requests, %ld errors, %ld leases handed out twice; controller RSS"
	    " %ld KiB at start, %ld KiB at the end\n",
	    submitted, finished, (wf_now_ms() - start) / 60000.0, requests,
	    errors, leased_twice, rss0, rss_kib());
	report_total();
	free(cause);
	return finished == total_jobs && leased_twice == 0 ? 0 : 1;
}
