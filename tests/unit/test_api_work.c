/*
 * test_api_work.c: the request workers (controller/api_work.c): queued
 * requests run first in first out, in parallel threads, and stopping runs
 * what is queued and refuses what comes after. Requests without a
 * connection (r->conn NULL): nothing is suspended.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "../../controller/api_work.h"
#include "test.h"
#include "util.h"

#define NREQ 20

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct req reqs[NREQ];
static int order[NREQ], nran, running, most_running, hold;

static void
run(struct req *r)
{
	pthread_mutex_lock(&mu);
	order[nran++] = (int)(r - reqs);
	running++;
	if (running > most_running)
		most_running = running;
	pthread_cond_broadcast(&cv);
	/* hold: every run waits until hold runs are running at once */
	while (hold > 0 && most_running < hold)
		pthread_cond_wait(&cv, &mu);
	running--;
	pthread_mutex_unlock(&mu);
}

static void
reset(int h)
{
	memset(reqs, 0, sizeof(reqs));
	memset(order, 0, sizeof(order));
	nran = running = most_running = 0;
	hold = h;
}

TEST(queued_requests_run_first_in_first_out)
{
	struct api_work *w;

	reset(0);
	REQUIRE((w = api_work_start(1, run)) != NULL);
	for (int i = 0; i < NREQ; i++)
		CHECK_EQ_INT(api_work_submit(w, &reqs[i]), 0);
	api_work_stop(w); /* runs what is queued first */
	CHECK_EQ_INT(nran, NREQ);
	for (int i = 0; i < NREQ; i++)
		CHECK_EQ_INT(order[i], i);
	api_work_free(w);
}

TEST(requests_run_in_parallel_threads)
{
	struct api_work *w;
	int64_t deadline = wf_now_ms() + 10000;

	reset(4); /* each run returns only once 4 run at the same time */
	REQUIRE((w = api_work_start(4, run)) != NULL);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(api_work_submit(w, &reqs[i]), 0);
	pthread_mutex_lock(&mu);
	while (nran < 4 && wf_now_ms() < deadline) {
		pthread_mutex_unlock(&mu);
		usleep(1000);
		pthread_mutex_lock(&mu);
	}
	pthread_mutex_unlock(&mu);
	CHECK_EQ_INT(nran, 4);
	api_work_stop(w);
	CHECK_EQ_INT(most_running, 4);
	api_work_free(w);
}

TEST(a_stopped_pool_refuses_requests)
{
	struct api_work *w;

	reset(0);
	REQUIRE((w = api_work_start(2, run)) != NULL);
	CHECK_EQ_INT(api_work_submit(w, &reqs[0]), 0);
	api_work_stop(w);
	CHECK_EQ_INT(api_work_submit(w, &reqs[1]), -1);
	api_work_stop(w); /* again: a no-op */
	CHECK_EQ_INT(nran, 1);
	api_work_free(w);
	api_work_stop(NULL);
	api_work_free(NULL);
	CHECK(api_work_start(0, run) == NULL);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
