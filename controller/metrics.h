/*
 * metrics.h: GET /metrics, the Prometheus text exposition format (0.0.4),
 * linted by `promtool check metrics` in the controller suite.
 *
 * Counters are `_total`, durations `_seconds` histograms, every label value
 * a state can take is present (a zero is a series too, so an alert on queued
 * jobs finds one). What the database knows (jobs, runs, hosts, attempts,
 * nights, notifications) is counted from it at each scrape; the HTTP
 * requests are counted here, in memory, by route and status.
 */
#ifndef WF_CTL_METRICS_H
#define WF_CTL_METRICS_H

#include "api.h"

/*
 * One HTTP reply: method, route (a route pattern of api.c's table, or
 * "static", "unknown", "none": static strings) and status. Thread safe.
 */
void
metrics_http_count(const char *method, const char *route, unsigned int status);

void api_metrics(struct req *r, struct reply *out);

#endif
