/*
 * loadclient: many simulated agents against one controller (tests/load/run).
 *
 * Each agent is a thread with its own connection and agent token that does
 * what bin/wakefarm-agent does over the API, with a fake runner: register,
 * long-poll for a lease, stream the job's records (real records of a guest
 * run, in 3 batches spread over --job-ms), heartbeat, finish. A submitter
 * thread keeps the queue fed until --jobs jobs were submitted (runs of 100
 * repeats of one case). Every minute: requests, p50/p99/max latency of all
 * API calls in that minute, jobs finished, the controller's RSS. At the end:
 * leases handed out twice (must be 0), jobs finished, errors.
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
#define LAT_MAX (1 << 20) /* latencies kept per minute */
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

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static double *lat; /* this minute's latencies, ms */
static size_t nlat;
static long requests, errors, finished, submitted, leased_twice;
static unsigned char *leased; /* by job id */
static volatile int done;

static void
note(double ms, int ok)
{
	pthread_mutex_lock(&mu);
	requests++;
	if (!ok)
		errors++;
	if (nlat < LAT_MAX)
		lat[nlat++] = ms;
	pthread_mutex_unlock(&mu);
}

/* One timed request; the reply's status. */
static long
call(struct wf_http *h, const char *method, const char *path, json_t *body,
    json_t **reply)
{
	int64_t t0 = wf_now_us();
	long status = 0;
	char *cause = NULL;
	int rc;

	rc = wf_http_request(h, method, path, body, &status, reply, &cause);
	/* a long-poll's wait is not latency */
	if (strstr(path, "lease?wait=") == NULL || status == 200)
		note((wf_now_us() - t0) / 1000.0, rc == 0 || status == 204);
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

static void *
agent(void *arg)
{
	const char *token = arg;
	struct wf_http *h = wf_http_new(server, token);
	json_t *reply = NULL, *body;
	char name[32], path[96];
	size_t n = json_array_size(records), third = (n + 2) / 3;

	snprintf(name, sizeof(name), "load-%.8s", token);
	body = json_pack("{s:s, s:i, s:s}", "name", name, "slots", 1,
	    "libvirt_uri", "test:///default");
	call(h, "POST", "/api/v1/agents/register", body, NULL);
	json_decref(body);
	while (!done) {
		json_int_t job;
		int b;

		reply = NULL;
		if (call(h, "POST", "/api/v1/agents/lease?wait=2", NULL,
		        &reply) != 200 ||
		    reply == NULL) {
			json_decref(reply);
			continue;
		}
		job = json_integer_value(json_object_get(reply, "job"));
		json_decref(reply);
		pthread_mutex_lock(&mu);
		if (job > 0 && job < JOBS_MAX && leased[job]++)
			leased_twice++;
		pthread_mutex_unlock(&mu);
		snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events",
		    (long long)job);
		for (b = 0; b < 3; b++) {
			json_t *part = json_array();

			for (size_t i = b * third; i < n && i < (b + 1) * third;
			     i++)
				json_array_append(
				    part, json_array_get(records, i));
			usleep(job_ms * 1000 / 3);
			body = json_pack(
			    "{s:i, s:o}", "batch", b, "records", part);
			call(h, "POST", path, body, NULL);
			json_decref(body);
			if (b == 1)
				call(h, "POST", "/api/v1/agents/heartbeat",
				    json_object(), NULL);
		}
		snprintf(path, sizeof(path), "/api/v1/jobs/%lld/finish",
		    (long long)job);
		body = json_pack(
		    "{s:s, s:s}", "outcome", "completed", "detail", "");
		if (call(h, "POST", path, body, NULL) == 200) {
			pthread_mutex_lock(&mu);
			finished++;
			pthread_mutex_unlock(&mu);
		}
		json_decref(body);
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

		while (wf_now_ms() < due && !done)
			usleep(50000);
		if (call(h, "POST", "/api/v1/runs", body, NULL) == 201) {
			pthread_mutex_lock(&mu);
			submitted += 100;
			pthread_mutex_unlock(&mu);
		} else {
			sleep(1);
		}
	}
	json_decref(body);
	wf_http_free(h);
	return NULL;
}

static void
report(int minute)
{
	double p50 = 0, p99 = 0, max = 0;
	size_t n;

	pthread_mutex_lock(&mu);
	n = nlat;
	qsort(lat, n, sizeof(*lat), cmp);
	if (n > 0) {
		p50 = lat[n / 2];
		p99 = lat[n * 99 / 100];
		max = lat[n - 1];
	}
	printf(
	    "# minute %2d: %6zu requests, latency p50 %6.1f ms, p99 %6.1f"
	    " ms, max %7.1f ms; %6ld jobs submitted, %6ld finished; controller"
	    " RSS %ld KiB\n",
	    minute, n, p50, p99, max, submitted, finished, rss_kib());
	fflush(stdout);
	nlat = 0;
	pthread_mutex_unlock(&mu);
}

int
main(int argc, char **argv)
{
	pthread_t th[AGENTS_MAX], sub;
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
	lat = calloc(LAT_MAX, sizeof(*lat));
	leased = calloc(JOBS_MAX, 1);
	if (lat == NULL || leased == NULL || n == 0 ||
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
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	printf(
	    "# total: %ld jobs submitted, %ld finished in %.1f min, %ld"
	    " requests, %ld errors, %ld leases handed out twice; controller RSS"
	    " %ld KiB at start, %ld KiB at the end\n",
	    submitted, finished, (wf_now_ms() - start) / 60000.0, requests,
	    errors, leased_twice, rss0, rss_kib());
	free(cause);
	return finished == total_jobs && leased_twice == 0 ? 0 : 1;
}
