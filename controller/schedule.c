/*
 * schedule.c: the scheduler thread and its clock (see schedule.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flags.h"
#include "json.h"
#include "log.h"
#include "schedule.h"
#include "ticker.h"
#include "util.h"

#define DAY_MS (24LL * 3600 * 1000)

struct sched {
	struct api *api;
	char failed[96]; /* "NAME DAY" last refused: warned once */
	struct ticker *ticker;
};

int
sched_parse_hhmm(const char *s)
{
	int h, m;
	char tail;

	if (strlen(s) != 5 || sscanf(s, "%2d:%2d%c", &h, &m, &tail) != 2 ||
	    s[2] != ':' || h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	return h * 60 + m;
}

int
sched_parse_time(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	long long secs;
	const char *end;

	if (wf_parse_int(s, 0, 1LL << 40, &secs) == 0) {
		*ms = secs * 1000;
		return 0;
	}
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*end == 'T' &&
	    ((end = strptime(end + 1, "%H:%M", &tm)) == NULL ||
	        (*end == ':' && (end = strptime(end + 1, "%S", &tm)) == NULL) ||
	        *end++ != 'Z'))
		return -1;
	if (*end != '\0')
		return -1;
	*ms = (int64_t)timegm(&tm) * 1000;
	return 0;
}

int64_t
sched_now_ms(const struct ctl_config *cfg)
{
	char line[64] = "";
	int64_t ms;
	FILE *f;

	if (cfg->clock_file == NULL)
		return db_now_ms();
	if ((f = fopen(cfg->clock_file, "r")) != NULL) {
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		fclose(f);
	}
	line[strcspn(line, " \r\n")] = '\0';
	if (sched_parse_time(line, &ms) == 0)
		return ms;
	log_warnx("--clock-file %s: '%s' is not a time; using the real clock",
	    cfg->clock_file, line);
	return db_now_ms();
}

void
sched_day(int64_t ms, char out[11])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Starts one schedule's run for day; 1 started, 0 refused, -1 error. */
static int
fire(struct api *api, const json_t *s, const char *day, char *failed,
    size_t failed_size)
{
	char key[96];
	struct run_link link = {
		.schedule = json_string_value(json_object_get(s, "name")),
		.day = day,
		.retries = (int)json_integer_value(
		    json_object_get(s, "retries")),
	};
	json_t *reply = NULL;
	char *cause = NULL;
	int64_t run;

	run = runs_create(
	    api, json_object_get(s, "request"), &link, 1, &reply, &cause);
	snprintf(key, sizeof(key), "%s %s", link.schedule, day);
	if (run > 0) {
		log_info("schedule %s: run %lld for %s", link.schedule,
		    (long long)run, day);
	} else if (failed == NULL || strcmp(failed, key) != 0) {
		/* Tried again every tick (a scenario may come back): say it once. */
		log_warnx("schedule %s: cannot start the run for %s: %s",
		    link.schedule, day, wf_cause_str(cause));
		if (failed != NULL)
			snprintf(failed, failed_size, "%s", key);
	}
	json_decref(reply);
	free(cause);
	return run > 0 ? 1 : run == -1 ? 0 : -1;
}

int
sched_tick(struct api *api)
{
	int64_t now = sched_now_ms(api->cfg), start = now - now % DAY_MS;
	json_t *due, *s;
	char day[11];
	size_t i;
	int n = 0, rc;

	sched_day(now, day);
	/* Due: its time today has come, it existed then, not run today. */
	db_lock(api->db);
	due = db_rows(api->db,
	    "SELECT name, request AS \"request:json\","
	    " retries FROM schedules s WHERE ?1 + at_minute * 60000 <= ?2 AND"
	    " created_at <= ?1 + at_minute * 60000 AND NOT EXISTS (SELECT 1"
	    " FROM schedule_runs r WHERE r.schedule = s.name AND r.day = ?3)"
	    " ORDER BY at_minute, name",
	    "iit", start, now, day);
	db_unlock(api->db);
	if (due == NULL)
		return -1;
	json_array_foreach (due, i, s) {
		if ((rc = fire(api, s, day,
		         api->sched != NULL ? api->sched->failed : NULL,
		         sizeof(api->sched->failed))) == -1) {
			n = -1;
			break;
		}
		n += rc;
	}
	json_decref(due);
	return n;
}

static void
sched_run(void *arg)
{
	struct sched *s = arg;

	sched_tick(s->api);
}

struct sched *
sched_start(struct api *api)
{
	struct sched *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->api = api;
	api->sched = s;
	if ((s->ticker = ticker_start(sched_run, s, api->cfg->sched_tick_ms)) ==
	    NULL) {
		api->sched = NULL;
		free(s);
		return NULL;
	}
	return s;
}

void
sched_stop(struct sched *s)
{
	if (s == NULL)
		return;
	ticker_stop(s->ticker);
	s->api->sched = NULL;
	free(s);
}
