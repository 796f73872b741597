/*
 * ratelimit.c: token buckets per API token (see ratelimit.h).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "util.h"

struct bucket {
	int64_t id;
	double tokens;
	int64_t last_ms; /* when tokens was computed */
};

struct ratelimit {
	pthread_mutex_t lock;
	double per_ms; /* refill */
	double burst;
	struct bucket *b; /* one per token seen; tokens are few */
	size_t n, cap;
};

struct ratelimit *
ratelimit_new(double per_min, double burst)
{
	struct ratelimit *rl;

	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	pthread_mutex_init(&rl->lock, NULL);
	rl->per_ms = per_min / 60000.0;
	rl->burst = burst > 0 ? burst : per_min >= 1 ? floor(per_min) : 1;
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl->b);
	free(rl);
}

/* The bucket of id, created full. Caller locks; NULL: out of memory. */
static struct bucket *
bucket_of(struct ratelimit *rl, int64_t id, int64_t now_ms)
{
	struct bucket *nb;
	size_t i;

	for (i = 0; i < rl->n; i++) {
		if (rl->b[i].id == id)
			return &rl->b[i];
	}
	if (rl->n == rl->cap) {
		nb = realloc(rl->b, (rl->cap ? rl->cap * 2 : 16) * sizeof(*nb));
		if (nb == NULL)
			return NULL;
		rl->b = nb;
		rl->cap = rl->cap ? rl->cap * 2 : 16;
	}
	nb = &rl->b[rl->n++];
	nb->id = id;
	nb->tokens = rl->burst;
	nb->last_ms = now_ms;
	return nb;
}

int64_t
ratelimit_take(struct ratelimit *rl, int64_t token_id, int64_t now_ms)
{
	struct bucket *b;
	int64_t wait_s = 0;

	if (rl == NULL || rl->per_ms <= 0)
		return 0;
	pthread_mutex_lock(&rl->lock);
	if ((b = bucket_of(rl, token_id, now_ms)) == NULL)
		goto out; /* no memory for a bucket: do not refuse for that */
	if (now_ms > b->last_ms) {
		b->tokens = fmin(rl->burst,
		    b->tokens + (double)(now_ms - b->last_ms) * rl->per_ms);
		b->last_ms = now_ms;
	}
	if (b->tokens >= 1) {
		b->tokens -= 1;
	} else {
		wait_s = (int64_t)ceil((1 - b->tokens) / rl->per_ms / 1000.0);
		if (wait_s < 1)
			wait_s = 1;
	}
out:
	pthread_mutex_unlock(&rl->lock);
	return wait_s;
}

int
ratelimit_parse(const char *s, double *per_min, char **cause)
{
	static const struct {
		const char *unit;
		double to_min;
	} units[] = { { "s", 60 }, { "sec", 60 }, { "min", 1 }, { "m", 1 },
		{ "h", 1.0 / 60 }, { "hour", 1.0 / 60 }, { NULL, 0 } };
	char *end;
	double n;
	int i;

	if (strcmp(s, "off") == 0 || strcmp(s, "0") == 0) {
		*per_min = 0;
		return 0;
	}
	n = strtod(s, &end);
	if (end == s || *end != '/' || !(n > 0) || n > 1e6)
		goto bad;
	for (i = 0; units[i].unit != NULL; i++) {
		if (strcmp(end + 1, units[i].unit) == 0) {
			*per_min = n * units[i].to_min;
			return 0;
		}
	}
bad:
	wf_set_cause(cause,
	    "'%.32s' is not N/s, N/min or N/h (N > 0), nor"
	    " off",
	    s);
	return -1;
}
