/*
 * cmd_status.c: `wakefarm status [RUN] [--json]`: the recent runs
 * (GET /api/v1/runs) or one run and its jobs (GET /api/v1/runs/ID).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "flags.h"

static const struct wf_cmd status_cmd = {
	"wakefarm status",
	"[RUN]",
	"Show the progress of a run, or of the recent runs.",
	cli_json_only,
	NULL,
};

static void
print_runs(const json_t *j)
{
	const json_t *x;
	size_t i;

	printf("%-6s %-8s %-10s %11s %10s\n", "RUN", "KIND", "STATE",
	    "DONE/TOTAL", "UNEXPECTED");
	json_array_foreach (json_object_get(j, "runs"), i, x)
		printf("%-6lld %-8s %-10s %5lld/%-5lld %10lld\n",
		    cli_num(x, "id"), cli_str(x, "kind"), cli_str(x, "state"),
		    cli_num(x, "jobs_done"), cli_num(x, "jobs_total"),
		    cli_num(x, "jobs_unexpected"));
}

static void
print_run(const json_t *j)
{
	const json_t *x = json_object_get(j, "run");
	size_t i;

	printf("run %lld (%s): %s, %lld/%lld done, %lld as expected,"
	       " %lld not\n",
	    cli_num(x, "id"), cli_str(x, "kind"), cli_str(x, "state"),
	    cli_num(x, "jobs_done"), cli_num(x, "jobs_total"),
	    cli_num(x, "jobs_as_expected"), cli_num(x, "jobs_unexpected"));
	json_array_foreach (json_object_get(j, "jobs"), i, x) {
		char *m = json_dumps(
		    json_object_get(x, "matrix"), JSON_COMPACT);

		printf("  job %-6lld %-24s %-28s %-9s %-6s %s\n",
		    cli_num(x, "id"), cli_str(x, "scenario"), m ? m : "",
		    cli_str(x, "state"), cli_str(x, "verdict"),
		    json_is_null(json_object_get(x, "as_expected")) ||
		            !json_object_get(x, "as_expected") ?
		        "" :
		        cli_num(x, "as_expected") ? "as expected" :
		                                    "NOT as expected");
		free(m);
	}
}

int
cmd_status(int argc, char **argv)
{
	struct wf_flags f;
	char **args, path[64];
	long long id;
	json_t *j;
	int n, json;

	args = cli_json_args(&f, &status_cmd, argc, argv, 0, 1, &n, &json);
	if (n > 0 && cli_parse_id("run", args[0], &id) == -1)
		return CLI_USAGE;
	if (n == 0)
		snprintf(path, sizeof(path), "/api/v1/runs?limit=20");
	else
		snprintf(path, sizeof(path), "/api/v1/runs/%lld", id);
	if ((j = cli_call("GET", path, NULL)) == NULL)
		return cli_failed();
	if ((n == 0 && cli_expect(j, "runs", JSON_ARRAY, path) == -1) ||
	    (n > 0 &&
	        (cli_expect(j, "run", JSON_OBJECT, path) == -1 ||
	            cli_expect(j, "jobs", JSON_ARRAY, path) == -1))) {
		json_decref(j);
		return cli_failed();
	}
	if (json)
		cli_print_json(j);
	else if (n == 0)
		print_runs(j);
	else
		print_run(j);
	json_decref(j);
	return CLI_OK;
}
