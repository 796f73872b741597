/*
 * ticker.h: a thread that calls one function every period, or at once when
 * kicked, until stopped. The scheduler (schedule.c) and the bisect worker
 * (bisect_worker.c) run on one each.
 */
#ifndef WF_CTL_TICKER_H
#define WF_CTL_TICKER_H

#include <stdint.h>

struct ticker;

/* NULL when the thread cannot start. */
struct ticker *
ticker_start(void (*fn)(void *arg), void *arg, int64_t period_ms);
/* The next call comes now (or right after the one under way). */
void ticker_kick(struct ticker *t);
/* Whether ticker_stop has begun: for a long fn to cut itself short. */
int ticker_stopping(struct ticker *t);
/* Waits for a call under way to return, then frees. NULL is a no-op. */
void ticker_stop(struct ticker *t);

#endif
