/*
 * cmd_regressions.c: `wakefarm regressions [--since YYYY-MM-DD] [--json]`:
 * the nightly runs' classes against the night before
 * (GET /api/v1/regressions).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "flags.h"
#include "util.h"

enum {
	OPT_SINCE = WF_FLAG_LONG,
	OPT_JSON,
};

static const struct wf_flag regressions_flags[] = {
	{ "since", OPT_SINCE, "YYYY-MM-DD",
	    "nights from this day on (default:"
	    " the last 7 days)",
	    0 },
	{ "json", OPT_JSON, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};
static const struct wf_cmd regressions_cmd = {
	"wakefarm regressions",
	NULL,
	"The nightly runs' regressions, flaky,"
	" fixed, still failing and known cases against the night before. Exits"
	" 1 when there is a regression in the window.",
	regressions_flags,
	NULL,
};

int
cmd_regressions(int argc, char **argv)
{
	const char *arg, *since = NULL;
	struct wf_flags f;
	char path[128];
	json_t *j, *run, *c, *counts, *v;
	const char *k;
	size_t i, x;
	int id, n, rc, json = 0;

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
		snprintf(
		    path, sizeof(path), "/api/v1/regressions?since=%s", since);
	else
		snprintf(path, sizeof(path), "/api/v1/regressions");
	if ((j = cli_call("GET", path, NULL)) == NULL)
		return cli_failed();
	if (cli_expect(j, "regressions", JSON_ARRAY, path) == -1 ||
	    cli_expect(j, "runs", JSON_ARRAY, path) == -1) {
		json_decref(j);
		return cli_failed();
	}
	rc = json_array_size(json_object_get(j, "regressions")) > 0 ?
	    CLI_UNEXPECTED :
	    CLI_OK;
	if (json) {
		cli_print_json(j);
		json_decref(j);
		return rc;
	}
	printf("since %s: %zu nights, %zu regressions\n", cli_str(j, "since"),
	    json_array_size(json_object_get(j, "runs")),
	    json_array_size(json_object_get(j, "regressions")));
	json_array_foreach (json_object_get(j, "runs"), i, run) {
		printf("%s %s: run %lld", cli_str(run, "day"),
		    cli_str(run, "schedule"), cli_num(run, "run"));
		if (json_is_integer(json_object_get(run, "previous")))
			printf(" against run %lld", cli_num(run, "previous"));
		counts = json_object_get(run, "counts");
		json_object_foreach (counts, k, v)
			printf(
			    ", %lld %s", (long long)json_integer_value(v), k);
		printf("\n");
		json_array_foreach (json_object_get(run, "cases"), x, c)
			cli_print_case(cli_str(c, "class"), c);
	}
	json_decref(j);
	return rc;
}
