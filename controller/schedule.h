/*
 * schedule.h: nightly schedules. A thread looks at the schedules table
 * every cfg->sched_tick_ms and starts each schedule's run (kind nightly,
 * linked in schedule_runs) once its time of day (UTC) has come, at most
 * once per day: UNIQUE (schedule, day) in the same transaction as the run.
 *
 * The clock is injectable: with --clock-file FILE the controller's "now"
 * for schedules (and for regressions' default window) is read from FILE at
 * every tick: seconds since the epoch, or YYYY-MM-DDTHH:MM[:SS]Z. Tests
 * write the file to jump time. Without it, the real clock.
 */
#ifndef WF_CTL_SCHEDULE_H
#define WF_CTL_SCHEDULE_H

#include <stdint.h>

#include "api.h"

/* Now, in ms since the epoch, by the scheduler's clock. */
int64_t sched_now_ms(const struct ctl_config *cfg);
/* "YYYY-MM-DD" (UTC) of ms into out (11 bytes). */
void sched_day(int64_t ms, char out[11]);
/* "HH:MM" into minutes after midnight; -1 when malformed. */
int sched_parse_hhmm(const char *s);
/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS]Z" or seconds into ms; 0 or -1. */
int sched_parse_time(const char *s, int64_t *ms);

/* Fires what is due now; returns how many runs started, -1 on error. */
int sched_tick(struct api *api);

struct sched *sched_start(struct api *api);
void sched_stop(struct sched *s); /* NULL is a no-op */

#endif
