/*
 * cmd_cancel.c: `wakefarm cancel RUN [--json]`:
 * POST /api/v1/runs/ID/cancel.
 */
#include <stdio.h>

#include "cli.h"
#include "flags.h"

static const struct wf_cmd cancel_cmd = {
	"wakefarm cancel",
	"RUN",
	"Cancel every unfinished job of a run.",
	cli_json_only,
	NULL,
};

int
cmd_cancel(int argc, char **argv)
{
	struct wf_flags f;
	char **args, path[64];
	long long id;
	json_t *j;
	int n, json, rc;

	args = cli_json_args(&f, &cancel_cmd, argc, argv, 1, 1, &n, &json);
	if (cli_parse_id("run", args[0], &id) == -1)
		return CLI_USAGE;
	snprintf(path, sizeof(path), "/api/v1/runs/%lld/cancel", id);
	if ((j = cli_call_or_print("POST", path, NULL, json, &rc)) == NULL)
		return rc;
	printf("run %lld: %lld jobs cancelled\n", id,
	    cli_num(j, "cancelled_jobs"));
	json_decref(j);
	return CLI_OK;
}
