/*
 * ticker.c: a periodic worker thread (see ticker.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "ticker.h"

struct ticker {
	void (*fn)(void *);
	void *arg;
	int64_t period_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping, kicked;
};

static void *
run(void *p)
{
	struct ticker *t = p;
	struct timespec ts;

	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		t->kicked = 0;
		pthread_mutex_unlock(&t->lock);
		t->fn(t->arg);
		pthread_mutex_lock(&t->lock);
		/* the condition variable runs on CLOCK_MONOTONIC */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)(t->period_ms % 1000) * 1000000L;
		ts.tv_sec += t->period_ms / 1000 + ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		if (!t->stopping && !t->kicked)
			pthread_cond_timedwait(&t->wake, &t->lock, &ts);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

struct ticker *
ticker_start(void (*fn)(void *), void *arg, int64_t period_ms)
{
	struct ticker *t;
	pthread_condattr_t ca;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	t->period_ms = period_ms;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&t->thread, NULL, run, t) != 0) {
		pthread_cond_destroy(&t->wake);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return NULL;
	}
	return t;
}

void
ticker_kick(struct ticker *t)
{
	pthread_mutex_lock(&t->lock);
	t->kicked = 1;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
}

int
ticker_stopping(struct ticker *t)
{
	int s;

	pthread_mutex_lock(&t->lock);
	s = t->stopping;
	pthread_mutex_unlock(&t->lock);
	return s;
}

void
ticker_stop(struct ticker *t)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = 1;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
