/*
 * agent.c: the agent's threads: registration, heartbeat, and one lease loop
 * per slot.  Leases are renewed by the heartbeat; a slot that cannot reach
 * the controller waits and tries again, while running guests carry on and
 * their output waits in the outbox.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "nethint.h"
#include "job.h"
#include "outbox.h"
#include "state.h"
#include "http.h"
#include "libvirt_run.h"
#include "log.h"
#include "util.h"

#define HEARTBEAT_S 5
#define LEASE_WAIT_S 30
#define STOP_FLUSH_MS 5000 /* stopping: how long the spool may take to drain */
#define REGISTER_TLS_MIN_MS 8000L /* first wait after a TLS set-up error */
#define REGISTER_TLS_MAX_MS 300000L /* and the longest, doubling up to it */

static volatile sig_atomic_t reloading;

struct agent {
	struct agent_config *cfg;
	struct outbox *ob;
	void (*reload)(void *);
	void *reload_arg;
	int registered; /* once: a new token re-registers */
	volatile long heartbeat_ms; /* as the controller asks at registration */
	pthread_mutex_t lock;
	int64_t *running; /* per slot: the job it runs, 0 = none */
	int64_t
	    *ahead; /* per slot: the job leased next (lease ahead), 0 = none */
	int next_slot;
};

/*
 * The slots with lease ahead: per slot a runner and a fetcher around one
 * queue of prepared jobs (their domains created paused), which any free
 * runner takes, the oldest first: a job prepared while one slot's guest
 * runs long is taken by the next slot to be free.
 */
struct pool {
	struct agent *a;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job **q; /* prepared, oldest first */
	int64_t *asked; /* wf_now_us(): when each one's lease was asked for */
	int nq;
	int pending; /* leases for the queue: being prepared, or in it */
	int busy; /* runners running a guest */
	int next_runner;
};

static int
mkdir_p(const char *path)
{
	char buf[4096];

	if (wf_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return -1;
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reloading = 1;
	else
		agent_stop();
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct wf_http *
client(const struct agent_config *cfg, long total_ms, unsigned *gen)
{
	struct wf_http *h = agent_http(cfg, gen);

	if (h)
		wf_http_set_timeouts(h, 5000, total_ms);
	return h;
}

static int register_host(struct agent *a, long *status);

/*
 * SIGHUP is acted on here, in the main thread, never in the handler. A new
 * token registers the host again at once: the controller binds a host to
 * the token it registered with, and lets another take it over only once
 * that one is revoked. Until then (409) the old token stays in use, so the
 * leases of running guests are still renewed.
 */
static void
sleep_reloading(struct agent *a, long ms)
{
	for (long t = 0; t < ms && !agent_stopping(); t += 100) {
		sleep_ms(100);
		if (reloading) {
			unsigned before = agent_token_generation();
			long status = 0;

			reloading = 0;
			if (a->reload)
				a->reload(a->reload_arg);
			if (!a->registered ||
			    agent_token_generation() == before)
				continue;
			if (register_host(a, &status) == 0) {
				log_info(
				    "registered again as %s with the new token",
				    a->cfg->name);
			} else if (status == 409) {
				agent_token_restore();
				log_warnx(
				    "the controller keeps host %s with the old token: revoke"
				    " that one first, then reload again; the old token stays in use",
				    a->cfg->name);
			}
		}
	}
}

static int
register_host(struct agent *a, long *statusp)
{
	unsigned gen;
	struct wf_http *h = client(a->cfg, 10000, &gen);
	json_t *body = json_pack("{s:s, s:i, s:s, s:b}", "name", a->cfg->name,
	    "slots", a->cfg->slots, "libvirt_uri", a->cfg->libvirt_uri,
	    "lease_ahead", !a->cfg->no_lease_ahead);
	long status = 0;
	char *cause = NULL;
	json_t *reply = NULL;
	int rc = -1;

	if (!h)
		wf_set_cause(&cause, "cannot make an HTTP client for %s",
		    a->cfg->server);
	else
		rc = wf_http_request(h, "POST", "/api/v1/agents/register", body,
		    &status, &reply, &cause);
	/* TLS set-up errors do not fix themselves: the caller waits longer */
	if (rc < 0 && h && wf_net_tls_error(wf_http_last_error(h)))
		rc = -2;
	if (statusp)
		*statusp = status;
	if (rc < 0)
		log_warnx("register: %s", wf_cause_str(cause));
	else {
		/* renew well inside the lease, whatever the controller's settings */
		json_int_t hb = json_integer_value(
		    json_object_get(reply, "heartbeat_ms"));
		json_int_t lease = json_integer_value(
		    json_object_get(reply, "lease_ms"));

		a->heartbeat_ms = HEARTBEAT_S * 1000;
		if (hb > 0 && hb < a->heartbeat_ms)
			a->heartbeat_ms = hb;
		if (lease > 0 && lease / 3 < a->heartbeat_ms)
			a->heartbeat_ms = lease / 3 > 100 ? lease / 3 : 100;
	}
	json_decref(reply);
	json_decref(body);
	free(cause);
	wf_http_free(h);
	return rc;
}

/* One heartbeat: renews `job`'s lease (0: every lease of this host) and
 * learns whether the job was cancelled or is no longer ours. */
static void
beat(struct agent *a, struct wf_http *h, int64_t job, json_t *leftovers)
{
	json_t *body = json_pack("{s:O}", "leftovers", leftovers);
	json_t *reply = NULL, *v;
	char *cause = NULL;
	long status = 0;
	size_t i;
	int64_t prev = wf_log_set_job(job);

	/* the jobs it runs: none after a restart, so the leases of a killed
	 * run's jobs expire (and are requeued) rather than being renewed */
	json_object_set_new(body, "jobs",
	    job ? json_pack("[I]", (json_int_t)job) : json_array());
	if (wf_http_request(h, "POST", "/api/v1/agents/heartbeat", body,
	        &status, &reply, &cause) < 0) {
		if (status == 409 && job) {
			/* requeued while we could not renew it: another host
			 * runs it now, so stop ours */
			log_warnx("job %lld: %s; stopping it here",
			    (long long)job, wf_cause_str(cause));
			agent_cancel_add(job);
		} else {
			log_warnx("heartbeat: %s", wf_cause_str(cause));
		}
	}
	json_array_foreach (json_object_get(reply, "cancel"), i, v)
		if (json_is_integer(v) &&
		    !agent_cancelled(json_integer_value(v))) {
			wf_log_set_job(json_integer_value(v));
			log_info("job %lld cancelled by the controller",
			    (long long)json_integer_value(v));
			agent_cancel_add(json_integer_value(v));
		}
	wf_log_set_job(prev);
	json_decref(reply);
	json_decref(body);
	free(cause);
}

static void *
heartbeat(void *arg)
{
	struct agent *a = arg;
	unsigned gen;
	struct wf_http *h = client(a->cfg, 10000, &gen);
	int64_t *jobs = calloc(2 * a->cfg->slots, sizeof(*jobs));

	while (!agent_stopping()) {
		int n = 0, spooled = outbox_pending(a->ob);
		json_t *left;

		agent_http_sync(h, &gen);
		pthread_mutex_lock(&a->lock);
		for (int i = 0; i < a->cfg->slots; i++) {
			if (a->running[i])
				jobs[n++] = a->running[i];
			if (a->ahead[i]) /* renewed like a running one */
				jobs[n++] = a->ahead[i];
		}
		pthread_mutex_unlock(&a->lock);
		/* domains it could not destroy: tried again, and said */
		left = agent_leftovers_retry(a->cfg->libvirt_uri);
		if (!n)
			beat(a, h, 0, left);
		for (int i = 0; i < n; i++)
			beat(a, h, jobs[i], left);
		json_decref(left);
		if (spooled)
			log_info(
			    "heartbeat: %d item(s) still spooled", spooled);
		for (long t = 0; t < a->heartbeat_ms && !agent_stopping();
		     t += 100)
			sleep_ms(100);
	}
	free(jobs);
	wf_http_free(h);
	return NULL;
}

/* Waits on cond for at most ms (lock held). */
static void
cond_wait_ms(pthread_cond_t *cond, pthread_mutex_t *lock, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cond, lock, &ts);
}

/* Sets a slot's entry of running or ahead (under a->lock). */
static void
slot_set(struct agent *a, int64_t *v, int64_t job)
{
	pthread_mutex_lock(&a->lock);
	*v = job;
	pthread_mutex_unlock(&a->lock);
}

/*
 * One long-poll for a job: the lease, or NULL (none came, or an error:
 * waited with backoff). *asked: when it was asked for.
 */
static json_t *
lease_next(struct agent *a, struct wf_http *h, unsigned *gen, long *backoff,
    int64_t *asked)
{
	json_t *lease = NULL;
	char *cause = NULL, path[64];
	long status = 0;

	agent_http_sync(h, gen);
	/* A new job's output would have nowhere to wait: none is taken
	 * while the spool cannot be written (outbox.c says so, once). */
	if (outbox_full(a->ob) && outbox_probe(a->ob) < 0) {
		sleep_ms(2000);
		return NULL;
	}
	snprintf(
	    path, sizeof(path), "/api/v1/agents/lease?wait=%d", LEASE_WAIT_S);
	*asked = wf_now_us();
	if (wf_http_request(h, "POST", path, NULL, &status, &lease, &cause) <
	    0) {
		log_warnx("lease: %s", wf_cause_str(cause));
		free(cause);
		*backoff = *backoff ?
		    (*backoff * 2 > 10000 ? 10000 : *backoff * 2) :
		    500;
		sleep_ms(*backoff / 2 + rand() % (*backoff / 2 + 1));
		if (status == 403 ||
		    status == 409) /* not registered (controller restarted?) */
			register_host(a, NULL);
		return NULL;
	}
	*backoff = 0;
	if (!lease || !json_is_integer(json_object_get(lease, "job"))) {
		json_decref(lease);
		return NULL;
	}
	/* the spool filled while the poll waited (a guest of this host
	 * wrote meanwhile): the job is given back, not taken */
	if (outbox_full(a->ob) && outbox_probe(a->ob) < 0) {
		job_release(a->cfg,
		    json_integer_value(json_object_get(lease, "job")),
		    json_integer_value(json_object_get(lease, "attempt")));
		json_decref(lease);
		return NULL;
	}
	return lease;
}

static int
slot_number(struct agent *a)
{
	int me;

	pthread_mutex_lock(&a->lock);
	me = a->next_slot++;
	pthread_mutex_unlock(&a->lock);
	return me;
}

/* --no-lease-ahead: lease a job, run it, and only then lease the next. */
static void *
slot(void *arg)
{
	struct agent *a = arg;
	unsigned gen;
	struct wf_http *h = client(a->cfg, (LEASE_WAIT_S + 10) * 1000L, &gen);
	long backoff = 0;
	int me = slot_number(a);
	int64_t t_free = 0, asked;

	while (!agent_stopping()) {
		json_t *lease = lease_next(a, h, &gen, &backoff, &asked);
		struct job *j;

		if (!lease)
			continue;
		slot_set(a, &a->running[me],
		    json_integer_value(json_object_get(lease, "job")));
		if ((j = job_prepare(a->cfg, a->ob, lease, 0)) != NULL)
			job_start(
			    j, t_free ? (t_free > asked ? t_free : asked) : 0);
		slot_set(a, &a->running[me], 0);
		t_free = wf_now_us();
		json_decref(lease);
	}
	wf_http_free(h);
	return NULL;
}

/* a->ahead as a set of job ids (under a->lock): id into a free entry, or
 * (add 0) id out of it. */
static void
ahead_set(struct agent *a, int64_t id, int add)
{
	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < a->cfg->slots; i++)
		if (a->ahead[i] == (add ? 0 : id)) {
			a->ahead[i] = add ? id : 0;
			break;
		}
	pthread_mutex_unlock(&a->lock);
}

/* The oldest prepared job, out of the queue (p->lock held, p->nq > 0). */
static struct job *
pool_take(struct pool *p, int at, int64_t *asked)
{
	struct job *j = p->q[at];

	if (asked)
		*asked = p->asked[at];
	memmove(&p->q[at], &p->q[at + 1], (p->nq - at - 1) * sizeof(*p->q));
	memmove(&p->asked[at], &p->asked[at + 1],
	    (p->nq - at - 1) * sizeof(*p->asked));
	p->nq--;
	p->pending--;
	pthread_cond_broadcast(&p->cond);
	return j;
}

/* Discards the prepared jobs the controller cancelled (p->lock held;
 * released meanwhile) and finishes them as cancelled. */
static void
pool_cancels(struct pool *p)
{
	int64_t id, attempt;

	for (int i = 0; i < p->nq; i++) {
		struct job *j;

		job_lease_of(p->q[i], &id, &attempt);
		if (!agent_cancelled(id))
			continue;
		j = pool_take(p, i, NULL);
		ahead_set(p->a, id, 0);
		pthread_mutex_unlock(&p->lock);
		job_discard(j, "cancelled by the controller");
		pthread_mutex_lock(&p->lock);
		i = -1; /* the queue changed: from the start */
	}
}

/* A runner: takes the oldest prepared job and resumes it at once. */
static void *
slot_runner(void *arg)
{
	struct pool *p = arg;
	struct agent *a = p->a;
	int64_t t_free = 0, id, attempt, asked;
	struct job *j;
	int me;

	pthread_mutex_lock(&p->lock);
	me = p->next_runner++;
	for (;;) {
		while (!p->nq && !agent_stopping())
			cond_wait_ms(&p->cond, &p->lock, 200);
		if (!p->nq || agent_stopping())
			break; /* the fetchers give the prepared ones back */
		j = pool_take(p, 0, &asked);
		p->busy++;
		job_lease_of(j, &id, &attempt);
		ahead_set(a, id, 0);
		slot_set(a, &a->running[me], id);
		pthread_mutex_unlock(&p->lock);
		job_start(j, t_free ? (t_free > asked ? t_free : asked) : 0);
		t_free = wf_now_us();
		slot_set(a, &a->running[me], 0);
		pthread_mutex_lock(&p->lock);
		p->busy--;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* A fetcher, stopping: the prepared jobs discarded and given back. */
static void
pool_drain(struct pool *p)
{
	int64_t id, attempt;
	struct job *j;

	pthread_mutex_lock(&p->lock);
	while (p->nq) {
		j = pool_take(p, 0, NULL);
		pthread_mutex_unlock(&p->lock);
		job_lease_of(j, &id, &attempt);
		job_discard(j, NULL);
		job_release(p->a->cfg, id, attempt);
		ahead_set(p->a, id, 0);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
}

/* One lease for the queue: prepared and queued, or given back when the
 * agent stops meanwhile. */
static void
fetch_one(struct pool *p, const json_t *lease, int64_t asked)
{
	struct agent *a = p->a;
	int64_t id = json_integer_value(json_object_get(lease, "job"));
	int64_t attempt = json_integer_value(json_object_get(lease, "attempt"));
	struct job *j = NULL;
	int all_busy;

	if (agent_stopping()) { /* came while it stops: not started */
		job_release(a->cfg, id, attempt);
	} else {
		ahead_set(a, id, 1);
		pthread_mutex_lock(&p->lock);
		all_busy = p->busy + p->nq >= a->cfg->slots;
		pthread_mutex_unlock(&p->lock);
		/* NULL: out of memory; the lease expires */
		if (!(j = job_prepare(a->cfg, a->ob, lease, all_busy)))
			ahead_set(a, id, 0);
	}
	pthread_mutex_lock(&p->lock);
	if (j) {
		p->q[p->nq] = j;
		p->asked[p->nq++] = asked;
	} else {
		p->pending--;
	}
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* A fetcher: leases jobs for the queue while it holds fewer than one per
 * slot (being prepared or prepared). */
static void *
slot_fetcher(void *arg)
{
	struct pool *p = arg;
	struct agent *a = p->a;
	unsigned gen;
	struct wf_http *h = client(a->cfg, (LEASE_WAIT_S + 10) * 1000L, &gen);
	long backoff = 0;
	int64_t asked;
	json_t *lease;

	while (!agent_stopping()) {
		pthread_mutex_lock(&p->lock);
		for (;;) {
			pool_cancels(p);
			if (p->pending < a->cfg->slots || agent_stopping())
				break;
			cond_wait_ms(&p->cond, &p->lock, 200);
		}
		if (agent_stopping()) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		p->pending++;
		pthread_mutex_unlock(&p->lock);
		if ((lease = lease_next(a, h, &gen, &backoff, &asked)) !=
		    NULL) {
			fetch_one(p, lease, asked);
			json_decref(lease);
		} else {
			pthread_mutex_lock(&p->lock);
			p->pending--;
			pthread_mutex_unlock(&p->lock);
		}
	}
	pool_drain(p);
	wf_http_free(h);
	return NULL;
}

/* The slots' threads: with lease ahead a runner and a fetcher each
 * around the pool *pp, else one lease loop each (*pp NULL). */
static pthread_t *
start_slots(struct agent *a, struct pool **pp)
{
	int n = a->cfg->slots;
	pthread_t *t = calloc(2 * n, sizeof(*t));
	struct pool *p = NULL;

	if (!a->cfg->no_lease_ahead && (p = calloc(1, sizeof(*p))) != NULL) {
		p->a = a;
		p->q = calloc(n, sizeof(*p->q));
		p->asked = calloc(n, sizeof(*p->asked));
		pthread_mutex_init(&p->lock, NULL);
		pthread_cond_init(&p->cond, NULL);
	}
	*pp = p;
	for (int i = 0; i < n; i++) {
		if (!p) {
			pthread_create(&t[i], NULL, slot, a);
			continue;
		}
		pthread_create(&t[2 * i], NULL, slot_runner, p);
		pthread_create(&t[2 * i + 1], NULL, slot_fetcher, p);
	}
	return t;
}

int
agent_run(struct agent_config *cfg, void (*reload)(void *), void *arg)
{
	struct agent a = { .cfg = cfg,
		.heartbeat_ms = HEARTBEAT_S * 1000,
		.reload = reload,
		.reload_arg = arg };
	pthread_t hb, *slots;
	struct pool *ss;
	struct sigaction sa = { .sa_handler = on_signal };
	char *cause = NULL;

	if (agent_set_token(cfg->token) < 0) {
		log_warnx("the token holds characters a header cannot carry");
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* libvirt writes to its socket: a libvirtd that died must give an
	 * error on that job (infra), not kill the agent */
	signal(SIGPIPE, SIG_IGN);
	srand(getpid() ^ (unsigned)wf_now_us());
	/* QEMU (user libvirt-qemu) reads each run's config from under here */
	if (mkdir_p(cfg->work_dir) < 0 || chmod(cfg->work_dir, 0755) < 0) {
		log_warn("work directory %s", cfg->work_dir);
		return 1;
	}
	a.ob = outbox_open(cfg, &cause);
	if (!a.ob) {
		log_warnx("%s", wf_cause_str(cause));
		free(cause);
		return 1;
	}
	job_recover_leftovers(cfg, a.ob);
	/* A wrong token is fixed in its file and announced with SIGHUP. */
	for (long tls_wait = 0, rc;
	     (rc = register_host(&a, NULL)) < 0 && !agent_stopping();) {
		/* a certificate problem: 8 s, doubling to 5 min; else 2 s */
		tls_wait = rc != -2                    ? 0 :
		    tls_wait == 0                      ? REGISTER_TLS_MIN_MS :
		    tls_wait * 2 > REGISTER_TLS_MAX_MS ? REGISTER_TLS_MAX_MS :
		                                         tls_wait * 2;
		if (tls_wait)
			log_info("register: a TLS problem, next try in %ld s",
			    tls_wait / 1000);
		sleep_reloading(&a, tls_wait ? tls_wait : 2000);
	}
	if (agent_stopping()) {
		log_info("stopped before %s could register", cfg->name);
		outbox_close(a.ob);
		return 0;
	}
	a.registered = 1;
	log_info("registered as %s with %s: %d slot(s)%s, libvirt %s, accel %s",
	    cfg->name, cfg->server, cfg->slots,
	    cfg->no_lease_ahead ? "" : ", leasing one job ahead each",
	    cfg->libvirt_uri, cfg->accel);
	pthread_mutex_init(&a.lock, NULL);
	a.running = calloc(cfg->slots, sizeof(*a.running));
	a.ahead = calloc(cfg->slots, sizeof(*a.ahead));
	pthread_create(&hb, NULL, heartbeat, &a);
	slots = start_slots(&a, &ss);
	while (!agent_stopping())
		sleep_reloading(&a, 1000);
	/* A signal ends the lease loops at their next turn; a slot in the
	 * middle of a long-poll or a guest finishes that first; a job
	 * prepared ahead is given back. */
	for (int i = 0; i < (ss ? 2 : 1) * cfg->slots; i++)
		pthread_join(slots[i], NULL);
	pthread_join(hb, NULL);
	libvirt_run_drain(); /* no domain outlives the agent */
	/* the last jobs' output and finishes: delivered while the controller
	 * takes them (at most STOP_FLUSH_MS), else kept for the next start */
	for (long t = 0; outbox_pending(a.ob) > 0 && t < STOP_FLUSH_MS;
	     t += 100)
		sleep_ms(100);
	free(slots);
	if (ss) {
		free(ss->q);
		free(ss->asked);
		free(ss);
	}
	free(a.running);
	free(a.ahead);
	outbox_close(a.ob);
	log_info("stopped");
	return 0;
}
