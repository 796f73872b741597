/*
 * api_work.c: the request workers (see api_work.h).
 */
#include <pthread.h>
#include <stdlib.h>

#include "api_work.h"
#include "log.h"

struct api_work {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct req *head, *tail; /* queued, first in first out; under mu */
	int stopping; /* under mu */
	int nthreads;
	pthread_t *threads;
	void (*run)(struct req *r);
};

static void *
worker(void *arg)
{
	struct api_work *w = arg;
	struct req *r;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		if ((r = w->head) == NULL) {
			if (w->stopping)
				break;
			pthread_cond_wait(&w->cv, &w->mu);
			continue;
		}
		if ((w->head = r->work_next) == NULL)
			w->tail = NULL;
		r->work_next = NULL;
		pthread_mutex_unlock(&w->mu);
		w->run(r); /* resumes the connection: r is not ours after */
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct api_work *
api_work_start(int threads, void (*run)(struct req *r))
{
	struct api_work *w;

	if (threads < 1 || (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	if ((w->threads = calloc((size_t)threads, sizeof(*w->threads))) ==
	    NULL) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->run = run;
	for (; w->nthreads < threads; w->nthreads++)
		if (pthread_create(&w->threads[w->nthreads], NULL, worker, w) !=
		    0)
			break;
	if (w->nthreads == 0) {
		api_work_free(w);
		return NULL;
	}
	return w;
}

int
api_work_submit(struct api_work *w, struct req *r)
{
	pthread_mutex_lock(&w->mu);
	if (w->stopping) {
		pthread_mutex_unlock(&w->mu);
		return -1;
	}
	/* before a worker can see it: it resumes the connection */
	if (r->conn != NULL)
		MHD_suspend_connection(r->conn);
	r->work_next = NULL;
	if (w->tail != NULL)
		w->tail->work_next = r;
	else
		w->head = r;
	w->tail = r;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void
api_work_stop(struct api_work *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	w->nthreads = 0;
}

void
api_work_free(struct api_work *w)
{
	if (w == NULL)
		return;
	api_work_stop(w);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->threads);
	free(w);
}
