/*
 * agent/cli/nightly.c: wakefarm schedule add|list|rm, compare and
 * regressions (see nightly.h). JSON through Jansson, HTTP through lib/http.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "http.h"
#include "nightly.h"
#include "remote.h"
#include "util.h"

enum {
	OPT_AT = WF_FLAG_LONG,
	OPT_MATRIX,
	OPT_SET,
	OPT_RETRIES,
	OPT_SINCE,
	OPT_JSON,
};

static const char *cli_server, *cli_token;

void
cli_nightly_init(const char *server, const char *token)
{
	cli_server = server;
	cli_token = token != NULL && token[0] != '\0' ? token : NULL;
}

static const struct wf_flag json_only[] = {
	{ "json", OPT_JSON, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static int cmd_schedule_add(int, char **);
static int cmd_schedule_list(int, char **);
static int cmd_schedule_rm(int, char **);

static const struct wf_subcmd schedule_subcmds[] = {
	{ "add", "add a nightly schedule", cmd_schedule_add },
	{ "list", "list the schedules and their last night", cmd_schedule_list },
	{ "rm", "remove a schedule (its runs stay)", cmd_schedule_rm },
	{ NULL, NULL, NULL },
};

static const struct wf_cmd schedule_cmd = {
	"wakefarm schedule", NULL, "Nightly schedules: the controller starts"
	" each once a day at its time (UTC).", NULL, schedule_subcmds,
};

static const struct wf_flag add_flags[] = {
	{ "at", OPT_AT, "HH:MM", "time of day, UTC", 1 },
	{ "matrix", OPT_MATRIX, "nightly|SCENARIO", "what to run: the nightly"
	    " matrix (default) or scenarios (repeatable, or A,B)", 0 },
	{ "set", OPT_SET, "KEY=VALUE", "override a scenario field or axis"
	    " (repeatable)", 0 },
	{ "retries", OPT_RETRIES, "N", "attempts after a failure before it is"
	    " a regression (default 2)", 0 },
	{ "json", OPT_JSON, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd add_cmd = {
	"wakefarm schedule add", "NAME", "Add a schedule (admin token).",
	add_flags, NULL,
};
static const struct wf_cmd list_cmd = {
	"wakefarm schedule list", NULL, "List the schedules.", json_only, NULL,
};
static const struct wf_cmd rm_cmd = {
	"wakefarm schedule rm", "NAME", "Remove a schedule (admin token).",
	json_only, NULL,
};
static const struct wf_cmd compare_cmd = {
	"wakefarm compare", "RUN_A RUN_B", "Compare RUN_B with RUN_A, case by"
	" case: regressions, fixed, still failing, new failing, flaky.",
	json_only, NULL,
};
static const struct wf_flag regressions_flags[] = {
	{ "since", OPT_SINCE, "YYYY-MM-DD", "nights from this day on (default:"
	    " the last 7 days)", 0 },
	{ "json", OPT_JSON, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};
static const struct wf_cmd regressions_cmd = {
	"wakefarm regressions", NULL, "The nightly runs' regressions, flaky,"
	" fixed, still failing and known cases against the night before.",
	regressions_flags, NULL,
};

/* One call; prints the error and returns NULL on failure. */
json_t *
cli_call(const char *method, const char *path, json_t *body)
{
	struct wf_http *c = wf_http_new(cli_server, cli_token);
	json_t *reply = NULL;
	char *cause = NULL;
	long status = 0;

	if (c == NULL) {
		fprintf(stderr, "wakefarm: cannot use server %s\n", cli_server);
		return NULL;
	}
	if (wf_http_request(c, method, path, body, &status, &reply, &cause) ==
	    -1) {
		fprintf(stderr, "wakefarm: %s %s: %s\n", method, path,
		    wf_cause_str(cause));
		reply = NULL;
	} else if (reply == NULL) {
		reply = json_object();
	}
	free(cause);
	wf_http_free(c);
	return reply;
}

void
cli_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s != NULL)
		printf("%s\n", s);
	free(s);
}

const char *
cli_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "-";
}

long long
cli_num(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

int
cmd_schedule(int argc, char **argv)
{
	struct wf_flags f;
	const char *arg;

	wf_flags_begin(&f, &schedule_cmd, argc, argv);
	while (wf_flags_next(&f, &arg) != -1)
		;
	return wf_flags_dispatch(&f);
}

static void
add_matrix(json_t *list, const char *arg)
{
	char *copy = strdup(arg), *p, *save = NULL;

	for (p = strtok_r(copy, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save))
		json_array_append_new(list, json_string(p));
	free(copy);
}

static int
cmd_schedule_add(int argc, char **argv)
{
	json_t *body = json_object(), *set = json_object(), *m = json_array();
	json_t *reply;
	struct wf_flags f;
	const char *arg;
	char **args;
	int id, n, json = 0, rc = 1;

	wf_flags_begin(&f, &add_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		switch (id) {
		case OPT_AT:
			json_object_set_new(body, "at", json_string(arg));
			break;
		case OPT_MATRIX:
			add_matrix(m, arg);
			break;
		case OPT_SET:
			if (remote_add_set(set, arg) == -1) {
				rc = 2;
				goto out;
			}
			break;
		case OPT_RETRIES:
			json_object_set_new(body, "retries", json_integer(
			    wf_flags_int(&f, "--retries", arg, 0, 10)));
			break;
		case OPT_JSON:
			json = 1;
			break;
		}
	}
	args = wf_flags_args(&f, 1, 1, &n);
	json_object_set_new(body, "name", json_string(args[0]));
	if (json_array_size(m) == 1)
		json_object_set(body, "matrix", json_array_get(m, 0));
	else if (json_array_size(m) > 1)
		json_object_set(body, "matrix", m);
	if (json_object_size(set) > 0)
		json_object_set(body, "set", set);
	if ((reply = cli_call("POST", "/api/v1/admin/schedules", body)) == NULL)
		goto out;
	if (json)
		cli_print_json(reply);
	else
		printf("schedule %s: %s UTC, %lld jobs a night, %lld retries"
		    " before a regression\n", cli_str(reply, "name"), cli_str(reply,
		    "at"), cli_num(reply, "jobs"), cli_num(reply, "retries"));
	json_decref(reply);
	rc = 0;
out:
	json_decref(body);
	json_decref(set);
	json_decref(m);
	return rc;
}

static int
cmd_schedule_list(int argc, char **argv)
{
	struct wf_flags f;
	json_t *j, *s, *req;
	const char *arg;
	size_t i;
	int n, json = 0;

	wf_flags_begin(&f, &list_cmd, argc, argv);
	while (wf_flags_next(&f, &arg) != -1)
		json = 1;
	wf_flags_args(&f, 0, 0, &n);
	if ((j = cli_call("GET", "/api/v1/admin/schedules", NULL)) == NULL)
		return 1;
	if (json) {
		cli_print_json(j);
		json_decref(j);
		return 0;
	}
	printf("%-20s %-5s %-7s %-10s %-8s %s\n", "NAME", "AT", "RETRIES",
	    "LAST DAY", "LAST RUN", "RUNS");
	json_array_foreach(json_object_get(j, "schedules"), i, s) {
		char *what, *set;

		req = json_object_get(s, "request");
		what = json_dumps(json_object_get(req, "scenarios") ?
		    json_object_get(req, "scenarios") : json_object_get(req,
		    "matrix"), JSON_COMPACT | JSON_ENCODE_ANY);
		set = json_dumps(json_object_get(req, "set"), JSON_COMPACT);
		printf("%-20s %-5s %-7lld %-10s %-8lld %s%s%s\n", cli_str(s, "name"),
		    cli_str(s, "at"), cli_num(s, "retries"), cli_str(s, "last_day"),
		    cli_num(s, "last_run"), what ? what : "", set ? " set " : "",
		    set ? set : "");
		free(what);
		free(set);
	}
	json_decref(j);
	return 0;
}

static int
cmd_schedule_rm(int argc, char **argv)
{
	struct wf_flags f;
	char path[160], **args;
	const char *arg;
	json_t *j;
	int n, json = 0;

	wf_flags_begin(&f, &rm_cmd, argc, argv);
	while (wf_flags_next(&f, &arg) != -1)
		json = 1;
	args = wf_flags_args(&f, 1, 1, &n);
	if (strlen(args[0]) > 64 || strchr(args[0], '/') != NULL ||
	    strchr(args[0], '?') != NULL) {
		fprintf(stderr, "wakefarm: '%s' is not a schedule name\n",
		    args[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "/api/v1/admin/schedules/%s", args[0]);
	if ((j = cli_call("DELETE", path, NULL)) == NULL)
		return 1;
	if (json)
		cli_print_json(j);
	else
		printf("schedule %s removed (its runs stay)\n", args[0]);
	json_decref(j);
	return 0;
}

static const char *
expected_word(const json_t *as_expected)
{
	if (!json_is_integer(as_expected) && !json_is_boolean(as_expected))
		return "";
	return json_is_true(as_expected) || json_integer_value(as_expected) ==
	    1 ? " as expected" : " NOT as expected";
}

/* "  CLASS job J scenario {matrix}: verdict (before: verdict)" */
static void
print_case(const char *cls, const json_t *c)
{
	char *m = json_dumps(json_object_get(c, "matrix"), JSON_COMPACT);
	const json_t *k;
	size_t i;

	printf("  %-13s job %-6lld %-24s %s: %s%s", cls, cli_num(c, "job"),
	    cli_str(c, "scenario"), m ? m : "", cli_str(c, "verdict"),
	    expected_word(json_object_get(c, "as_expected")));
	if (json_object_get(c, "previous_job") != NULL &&
	    !json_is_null(json_object_get(c, "previous_job")))
		printf(" (before: job %lld %s%s)", cli_num(c, "previous_job"),
		    cli_str(c, "previous_verdict"), expected_word(json_object_get(c,
		    "previous_as_expected")));
	if (json_array_size(json_object_get(c, "attempts")) > 1)
		printf(", %zu attempts", json_array_size(json_object_get(c,
		    "attempts")));
	printf("\n");
	json_array_foreach(json_object_get(c, "known"), i, k) {
		printf("    known issue #%lld: %s", cli_num(k, "id"),
		    cli_str(k, "description"));
		if (json_is_object(json_object_get(k, "log")))
			printf(" (log port %lld line %lld: %s)",
			    cli_num(json_object_get(k, "log"), "port"),
			    cli_num(json_object_get(k, "log"), "line_no"),
			    cli_str(json_object_get(k, "log"), "line"));
		printf("\n");
	}
	free(m);
}

int
cmd_compare(int argc, char **argv)
{
	static const char *const cats[] = { "regressions", "fixed",
		"still_failing", "new_failing", "flaky", NULL };
	long long a, b;
	struct wf_flags f;
	const char *arg;
	char path[128], **args;
	json_t *j, *c;
	size_t i;
	int n, k, json = 0;

	wf_flags_begin(&f, &compare_cmd, argc, argv);
	while (wf_flags_next(&f, &arg) != -1)
		json = 1;
	args = wf_flags_args(&f, 2, 2, &n);
	if (wf_parse_int(args[0], 1, 1LL << 62, &a) == -1 ||
	    wf_parse_int(args[1], 1, 1LL << 62, &b) == -1) {
		fprintf(stderr, "wakefarm: RUN_A and RUN_B are run ids\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/api/v1/runs/%lld/compare?with=%lld", b,
	    a);
	if ((j = cli_call("GET", path, NULL)) == NULL)
		return 1;
	if (json) {
		cli_print_json(j);
		json_decref(j);
		return 0;
	}
	printf("run %lld against run %lld: %zu regressions, %zu fixed, %zu"
	    " still failing, %zu new failing, %zu flaky\n", b, a,
	    json_array_size(json_object_get(j, "regressions")),
	    json_array_size(json_object_get(j, "fixed")),
	    json_array_size(json_object_get(j, "still_failing")),
	    json_array_size(json_object_get(j, "new_failing")),
	    json_array_size(json_object_get(j, "flaky")));
	for (k = 0; cats[k] != NULL; k++) {
		json_array_foreach(json_object_get(j, cats[k]), i, c)
			print_case(cats[k], c);
	}
	json_decref(j);
	return 0;
}

int
cmd_regressions(int argc, char **argv)
{
	const char *arg, *since = NULL;
	struct wf_flags f;
	char path[128];
	json_t *j, *run, *c, *counts, *v;
	const char *k;
	size_t i, x;
	int id, n, json = 0;

	wf_flags_begin(&f, &regressions_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		if (id == OPT_SINCE)
			since = arg;
		else
			json = 1;
	}
	wf_flags_args(&f, 0, 0, &n);
	if (since != NULL && (strlen(since) > 32 || strpbrk(since, "&?#/ ")))
		wf_flags_usage_error(&f, "--since: expected YYYY-MM-DD");
	if (since != NULL)
		snprintf(path, sizeof(path), "/api/v1/regressions?since=%s",
		    since);
	else
		snprintf(path, sizeof(path), "/api/v1/regressions");
	if ((j = cli_call("GET", path, NULL)) == NULL)
		return 1;
	if (json) {
		cli_print_json(j);
		json_decref(j);
		return 0;
	}
	printf("since %s: %zu nights, %zu regressions\n", cli_str(j, "since"),
	    json_array_size(json_object_get(j, "runs")),
	    json_array_size(json_object_get(j, "regressions")));
	json_array_foreach(json_object_get(j, "runs"), i, run) {
		printf("%s %s: run %lld", cli_str(run, "day"), cli_str(run, "schedule"),
		    cli_num(run, "run"));
		if (json_is_integer(json_object_get(run, "previous")))
			printf(" against run %lld", cli_num(run, "previous"));
		counts = json_object_get(run, "counts");
		json_object_foreach(counts, k, v)
			printf(", %lld %s", (long long)json_integer_value(v), k);
		printf("\n");
		json_array_foreach(json_object_get(run, "cases"), x, c)
			print_case(cli_str(c, "class"), c);
	}
	json_decref(j);
	return 0;
}
