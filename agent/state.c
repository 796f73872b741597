/*
 * state.c: the agent's shared state (state.h): token, cancellations,
 * stopping.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "lvreap.h"
#include "state.h"
#include "util.h"

static volatile sig_atomic_t stopping;

/* The token requests carry; SIGHUP may bring another (a token file read again). */
static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;
static char *token_now, *token_prev;
static unsigned token_gen;

static void
wipe_free(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

int
agent_set_token(const char *token)
{
	char *copy;
	int changed;

	for (const char *p = token; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return -1;
	if (!*token || !(copy = strdup(token)))
		return -1;
	pthread_mutex_lock(&token_lock);
	changed = !token_now || strcmp(token_now, copy) != 0;
	if (changed) {
		wipe_free(token_prev);
		token_prev = token_now;
		token_now = copy;
		token_gen++;
		copy = NULL;
	}
	pthread_mutex_unlock(&token_lock);
	wipe_free(copy);
	return changed;
}

void
agent_token_restore(void)
{
	pthread_mutex_lock(&token_lock);
	if (token_prev) {
		wipe_free(token_now);
		token_now = token_prev;
		token_prev = NULL;
		token_gen++;
	}
	pthread_mutex_unlock(&token_lock);
}

struct wf_http *
agent_http(const struct agent_config *cfg, unsigned *gen)
{
	struct wf_http *h;

	pthread_mutex_lock(&token_lock);
	h = wf_http_new(cfg->server, token_now);
	*gen = token_gen;
	pthread_mutex_unlock(&token_lock);
	return h;
}

void
agent_http_sync(struct wf_http *h, unsigned *gen)
{
	pthread_mutex_lock(&token_lock);
	if (h && *gen != token_gen && wf_http_set_token(h, token_now) == 0)
		*gen = token_gen;
	pthread_mutex_unlock(&token_lock);
}

/* A few recent cancellations are enough: a slot checks its own job only. */
static pthread_mutex_t cancel_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t cancelled[64];
static unsigned ncancelled;

static int
agent_cancelled_locked(int64_t job)
{
	for (unsigned i = 0; i < 64 && i < ncancelled; i++)
		if (cancelled[i] == job)
			return 1;
	return 0;
}

int
agent_stopping(void)
{
	return stopping;
}

void
agent_stop(void)
{
	stopping = 1;
}

int
agent_cancelled(int64_t job)
{
	int r;

	pthread_mutex_lock(&cancel_lock);
	r = agent_cancelled_locked(job);
	pthread_mutex_unlock(&cancel_lock);
	return r;
}

void
agent_cancel_add(int64_t job)
{
	pthread_mutex_lock(&cancel_lock);
	if (!agent_cancelled_locked(job))
		cancelled[ncancelled++ % 64] = job;
	pthread_mutex_unlock(&cancel_lock);
}

unsigned
agent_token_generation(void)
{
	unsigned g;

	pthread_mutex_lock(&token_lock);
	g = token_gen;
	pthread_mutex_unlock(&token_lock);
	return g;
}

/* Domains that could not be destroyed (state.h), at most LEFTOVERS_MAX. */
#define LEFTOVERS_MAX 64
static pthread_mutex_t leftover_lock = PTHREAD_MUTEX_INITIALIZER;
static char leftovers[LEFTOVERS_MAX][128];
static int nleftovers;

void
agent_leftover_add(const char *name)
{
	pthread_mutex_lock(&leftover_lock);
	for (int i = 0; i < nleftovers; i++)
		if (strcmp(leftovers[i], name) == 0)
			goto out;
	if (nleftovers < LEFTOVERS_MAX)
		wf_strlcpy(leftovers[nleftovers++], name, sizeof(leftovers[0]));
out:
	pthread_mutex_unlock(&leftover_lock);
}

json_t *
agent_leftovers_retry(const char *uri)
{
	char names[LEFTOVERS_MAX][128], err[200];
	json_t *left = json_array();
	int n, i;

	pthread_mutex_lock(&leftover_lock);
	n = nleftovers;
	memcpy(names, leftovers, sizeof(names));
	pthread_mutex_unlock(&leftover_lock);
	for (i = 0; i < n; i++) {
		if (lvreap_destroy(uri, names[i], 0, err, sizeof(err)) < 0) {
			json_array_append_new(left, json_string(names[i]));
			continue;
		}
		log_info("leftover domain %s is gone now", names[i]);
		pthread_mutex_lock(&leftover_lock);
		for (int k = 0; k < nleftovers; k++)
			if (strcmp(leftovers[k], names[i]) == 0) {
				memmove(leftovers[k], leftovers[k + 1],
				    (size_t)(nleftovers - k - 1) *
				        sizeof(leftovers[0]));
				nleftovers--;
				break;
			}
		pthread_mutex_unlock(&leftover_lock);
	}
	return left;
}
