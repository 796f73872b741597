/*
 * cmd_events.c: `wakefarm events [--follow] [--since ID] [--kind K]...
 * [--count N] [--limit N] [--json]`: the controller's feed (jobs, runs,
 * bisects and hosts changing state; regressions, fixed and new failures of
 * nightly runs). Without --follow, a page of it (GET /api/v1/events); with
 * --follow, the server-sent events of GET /api/v1/events/stream as they
 * come, resuming after the last id seen when the connection drops (as a
 * browser's EventSource does), until --count events were printed or it is
 * interrupted. --json: one JSON object a line (--follow) or one document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "flags.h"
#include "http.h"
#include "util.h"

#define RECONNECT_US 2000000
#define KINDS_MAX 8

enum {
	OPT_FOLLOW = WF_FLAG_LONG,
	OPT_SINCE,
	OPT_KIND,
	OPT_COUNT,
	OPT_LIMIT,
	OPT_JSON,
};

static const struct wf_flag events_flags[] = {
	{ "follow", OPT_FOLLOW, NULL,
	    "keep printing events as they happen"
	    " (server-sent events)",
	    0 },
	{ "since", OPT_SINCE, "ID",
	    "events after this id (default: the last"
	    " --limit; with --follow: from now)",
	    0 },
	{ "kind", OPT_KIND, "KIND",
	    "only these: job, run, bisect, host, regression,"
	    " fixed, new-failure (repeatable)",
	    0 },
	{ "count", OPT_COUNT, "N", "--follow: stop after N events", 0 },
	{ "limit", OPT_LIMIT, "N", "without --follow: at most N (default 100)",
	    0 },
	{ "json", OPT_JSON, NULL,
	    "JSON: one event a line with --follow, else"
	    " {\"events\", \"last\"}",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd events_cmd = {
	"wakefarm events",
	NULL,
	"What happens on the farm: jobs, runs, bisects and hosts changing"
	" state, a nightly's regressions, fixed cases and new failures.",
	events_flags,
	NULL,
};

struct follow {
	const char *kinds[KINDS_MAX];
	int nkinds;
	long long count, printed;
	long long last; /* the last id seen */
	int json;
	struct wf_buf line; /* a line not yet ended */
	char id[32], event[64];
	struct wf_buf data;
};

static int
wanted(const struct follow *fo, const char *kind)
{
	int i;

	for (i = 0; i < fo->nkinds; i++) {
		if (strcmp(fo->kinds[i], kind) == 0)
			return 1;
	}
	return fo->nkinds == 0;
}

/* One event of the feed, as a line for people or as JSON. */
static void
print_event(const json_t *e, int json)
{
	const json_t *d = json_object_get(e, "data");
	char *text;

	if (json) {
		cli_print_json_line(e);
		return;
	}
	text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%lld %s %s\n", cli_num(e, "id"), cli_str(e, "kind"),
	    text != NULL ? text : "{}");
	free(text);
	fflush(stdout);
}

/* An event's lines are complete: print it if wanted. 1 when enough. */
static int
dispatch(struct follow *fo)
{
	json_t *e;

	if (fo->data.len > 0 &&
	    (e = json_loadb(fo->data.data, fo->data.len, 0, NULL)) != NULL) {
		if (fo->id[0] != '\0')
			fo->last = atoll(fo->id);
		if (wanted(fo, cli_str(e, "kind"))) {
			print_event(e, fo->json);
			fo->printed++;
		}
		json_decref(e);
	}
	wf_buf_reset(&fo->data);
	fo->id[0] = fo->event[0] = '\0';
	return fo->count > 0 && fo->printed >= fo->count;
}

/* One line of the text/event-stream format: 1 when enough was printed. */
static int
sse_line(struct follow *fo, const char *l)
{
	if (l[0] == '\0')
		return dispatch(fo);
	if (l[0] == ':')
		return 0; /* a comment: the keep-alive */
	if (strncmp(l, "id: ", 4) == 0)
		wf_strlcpy(fo->id, l + 4, sizeof(fo->id));
	else if (strncmp(l, "event: ", 7) == 0)
		wf_strlcpy(fo->event, l + 7, sizeof(fo->event));
	else if (strncmp(l, "data: ", 6) == 0)
		wf_buf_append(&fo->data, l + 6, strlen(l + 6));
	return 0;
}

/* libcurl's pieces, cut into lines. */
static int
on_piece(const char *p, size_t n, void *arg)
{
	struct follow *fo = arg;
	const char *nl;

	while (n > 0) {
		if ((nl = memchr(p, '\n', n)) == NULL) {
			wf_buf_append(&fo->line, p, n);
			return 0;
		}
		wf_buf_append(&fo->line, p, (size_t)(nl - p));
		if (fo->line.len > 0 && fo->line.data[fo->line.len - 1] == '\r')
			fo->line.data[--fo->line.len] = '\0';
		if (sse_line(fo, wf_buf_str(&fo->line)))
			return -1;
		wf_buf_reset(&fo->line);
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	return 0;
}

static int
follow_stream(struct follow *fo, long long since)
{
	struct wf_http *c;
	char path[96], *cause = NULL;
	long status = 0;
	int rc;

	if ((c = cli_http()) == NULL)
		return cli_failed();
	fo->last = since;
	wf_buf_init(&fo->line, 1 << 20);
	wf_buf_init(&fo->data, 16 << 20);
	for (;;) {
		if (fo->last >= 0)
			snprintf(path, sizeof(path),
			    "/api/v1/events/stream?since=%lld", fo->last);
		else
			snprintf(path, sizeof(path), "/api/v1/events/stream");
		wf_buf_reset(&fo->line);
		wf_buf_reset(&fo->data);
		rc = wf_http_stream(c, path, on_piece, fo, &status, &cause);
		if (fo->count > 0 && fo->printed >= fo->count) {
			rc = CLI_OK;
			break;
		}
		/* A refusal is final; a dropped connection is resumed. */
		if (rc == -1 && status != 0) {
			rc = cli_error(cli_exit_for_http(status), "events",
			    "%s", wf_cause_str(cause));
			break;
		}
		if (rc == -1 && !cli_json())
			fprintf(stderr, "wakefarm events: %s; again in 2 s\n",
			    wf_cause_str(cause));
		free(cause);
		cause = NULL;
		usleep(RECONNECT_US);
	}
	free(cause);
	wf_buf_free(&fo->line);
	wf_buf_free(&fo->data);
	return rc;
}

static int
list_page(long long since, long long limit, const struct follow *fo)
{
	char path[128];
	json_t *j, *e, *kept;
	size_t i;

	if (since >= 0)
		snprintf(path, sizeof(path),
		    "/api/v1/events?since=%lld&limit=%lld", since, limit);
	else
		snprintf(
		    path, sizeof(path), "/api/v1/events?limit=%lld", limit);
	if ((j = cli_call("GET", path, NULL)) == NULL)
		return cli_failed();
	if (cli_expect(j, "events", JSON_ARRAY, path) == -1) {
		json_decref(j);
		return cli_failed();
	}
	kept = json_array();
	json_array_foreach (json_object_get(j, "events"), i, e) {
		if (wanted(fo, cli_str(e, "kind")))
			json_array_append(kept, e);
	}
	json_object_set_new(j, "events", kept);
	if (fo->json)
		cli_print_json(j);
	else
		json_array_foreach (kept, i, e)
			print_event(e, 0);
	json_decref(j);
	return CLI_OK;
}

int
cmd_events(int argc, char **argv)
{
	struct follow fo = { .nkinds = 0 };
	const char *arg;
	struct wf_flags f;
	long long since = -1, limit = 100;
	int id, n, follow = 0;

	wf_flags_begin(&f, &events_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		switch (id) {
		case OPT_FOLLOW:
			follow = 1;
			break;
		case OPT_SINCE:
			since = wf_flags_int(&f, "--since", arg, 0, INT64_MAX);
			break;
		case OPT_KIND:
			if (fo.nkinds == KINDS_MAX)
				wf_flags_usage_error(&f, "too many --kind");
			fo.kinds[fo.nkinds++] = arg;
			break;
		case OPT_COUNT:
			fo.count = wf_flags_int(
			    &f, "--count", arg, 1, INT64_MAX);
			break;
		case OPT_LIMIT:
			limit = wf_flags_int(&f, "--limit", arg, 1, 1000);
			break;
		case OPT_JSON:
			fo.json = 1;
			break;
		}
	}
	wf_flags_args(&f, 0, 0, &n);
	if (fo.count > 0 && !follow)
		wf_flags_usage_error(&f, "--count goes with --follow");
	return follow ? follow_stream(&fo, since) :
	                list_page(since, limit, &fo);
}
