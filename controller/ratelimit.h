/*
 * ratelimit.h: submissions per API token, as token buckets.
 *
 * Each token id has a bucket of `burst` submissions that refills at `rate`
 * a minute (continuously); a submission (POST /api/v1/runs, POST
 * /api/v1/bisects) takes one. An empty bucket means 429 with Retry-After.
 * Buckets live in memory: a restart refills them. Thread-safe.
 */
#ifndef WF_CTL_RATELIMIT_H
#define WF_CTL_RATELIMIT_H

#include <stdint.h>

#define RATELIMIT_DEFAULT "60/min" /* and a burst of the same */

struct ratelimit;

/* per_min 0: no limit; burst 0: the same as per_min (at least 1). NULL: out of memory. */
struct ratelimit *ratelimit_new(double per_min, double burst);
void ratelimit_free(struct ratelimit *rl); /* NULL is a no-op */

/*
 * Takes one submission for token_id at now_ms (a monotonic clock): 0 when
 * allowed, else the whole seconds (>= 1) until one would be.
 */
int64_t ratelimit_take(struct ratelimit *rl, int64_t token_id, int64_t now_ms);

/* "N/s", "N/min", "N/h", or "0"/"off": submissions a minute; -1 with a cause. */
int ratelimit_parse(const char *s, double *per_min, char **cause);

#endif
