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
	int next_slot;
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
	json_t *body = json_pack("{s:s, s:i, s:s}", "name", a->cfg->name,
	    "slots", a->cfg->slots, "libvirt_uri", a->cfg->libvirt_uri);
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
	int64_t *jobs = calloc(a->cfg->slots, sizeof(*jobs));

	while (!agent_stopping()) {
		int n = 0, spooled = outbox_pending(a->ob);
		json_t *left;

		agent_http_sync(h, &gen);
		pthread_mutex_lock(&a->lock);
		for (int i = 0; i < a->cfg->slots; i++)
			if (a->running[i])
				jobs[n++] = a->running[i];
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

static void *
slot(void *arg)
{
	struct agent *a = arg;
	unsigned gen;
	struct wf_http *h = client(a->cfg, (LEASE_WAIT_S + 10) * 1000L, &gen);
	char path[64];
	long backoff = 0;
	int me;

	pthread_mutex_lock(&a->lock);
	me = a->next_slot++;
	pthread_mutex_unlock(&a->lock);
	snprintf(
	    path, sizeof(path), "/api/v1/agents/lease?wait=%d", LEASE_WAIT_S);
	while (!agent_stopping()) {
		json_t *lease = NULL;
		char *cause = NULL;
		long status = 0;
		int rc;

		agent_http_sync(h, &gen);
		/* A new job's output would have nowhere to wait: none is taken
		 * while the spool cannot be written (outbox.c says so, once). */
		if (outbox_full(a->ob) && outbox_probe(a->ob) < 0) {
			sleep_ms(2000);
			continue;
		}
		rc = wf_http_request(
		    h, "POST", path, NULL, &status, &lease, &cause);

		if (rc < 0) {
			log_warnx("lease: %s", wf_cause_str(cause));
			free(cause);
			backoff = backoff ?
			    (backoff * 2 > 10000 ? 10000 : backoff * 2) :
			    500;
			sleep_ms(backoff / 2 + rand() % (backoff / 2 + 1));
			if (status == 403 ||
			    status ==
			        409) /* not registered (controller restarted?) */
				register_host(a, NULL);
			continue;
		}
		backoff = 0;
		if (lease && json_is_integer(json_object_get(lease, "job"))) {
			pthread_mutex_lock(&a->lock);
			a->running[me] = json_integer_value(
			    json_object_get(lease, "job"));
			pthread_mutex_unlock(&a->lock);
			job_run(a->cfg, a->ob, lease);
			pthread_mutex_lock(&a->lock);
			a->running[me] = 0;
			pthread_mutex_unlock(&a->lock);
		}
		json_decref(lease);
	}
	wf_http_free(h);
	return NULL;
}

int
agent_run(struct agent_config *cfg, void (*reload)(void *), void *arg)
{
	struct agent a = { .cfg = cfg,
		.heartbeat_ms = HEARTBEAT_S * 1000,
		.reload = reload,
		.reload_arg = arg };
	pthread_t hb, *slots;
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
	log_info("registered as %s with %s: %d slot(s), libvirt %s, accel %s",
	    cfg->name, cfg->server, cfg->slots, cfg->libvirt_uri, cfg->accel);
	pthread_mutex_init(&a.lock, NULL);
	a.running = calloc(cfg->slots, sizeof(*a.running));
	pthread_create(&hb, NULL, heartbeat, &a);
	slots = calloc(cfg->slots, sizeof(*slots));
	for (int i = 0; i < cfg->slots; i++)
		pthread_create(&slots[i], NULL, slot, &a);
	while (!agent_stopping())
		sleep_reloading(&a, 1000);
	/* A signal ends the lease loops at their next turn; a slot in the
	 * middle of a long-poll or a guest finishes that first. */
	for (int i = 0; i < cfg->slots; i++)
		pthread_join(slots[i], NULL);
	pthread_join(hb, NULL);
	libvirt_run_drain(); /* no domain outlives the agent */
	free(slots);
	free(a.running);
	outbox_close(a.ob);
	log_info("stopped");
	return 0;
}
