/*
 * cmd_resubmit.c: `wakefarm resubmit RUN [--failed] [--wait] [--json]`:
 * POST /api/v1/runs/RUN/resubmit: a new run of RUN's cases (with --failed,
 * only those that finished not as expected), the same scenario bodies,
 * parameters and expectations.
 */
#include <stdio.h>

#include "cli.h"
#include "flags.h"

enum {
	OPT_FAILED = WF_FLAG_LONG,
	OPT_WAIT,
	OPT_JSON,
};

static const struct wf_flag resubmit_flags[] = {
	{ "failed", OPT_FAILED, NULL,
	    "only the cases that finished not as"
	    " expected",
	    0 },
	{ "wait", OPT_WAIT, NULL,
	    "follow the new run to its end (as `wait RUN`)", 0 },
	{ "json", OPT_JSON, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd resubmit_cmd = {
	"wakefarm resubmit",
	"RUN",
	"Run a run's cases again as a new run (with --failed only those that"
	" were not as expected: failures, hangs, infra errors); exit as"
	" `submit`.",
	resubmit_flags,
	NULL,
};

int
cmd_resubmit(int argc, char **argv)
{
	const char *arg;
	struct wf_flags f;
	long long run;
	json_t *body, *reply;
	char **args, path[64];
	int id, n, rc, failed = 0, wait = 0, json = 0;

	wf_flags_begin(&f, &resubmit_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		if (id == OPT_FAILED)
			failed = 1;
		else if (id == OPT_WAIT)
			wait = 1;
		else
			json = 1;
	}
	args = wf_flags_args(&f, 1, 1, &n);
	if (cli_parse_id("run", args[0], &run) == -1)
		return CLI_USAGE;
	snprintf(path, sizeof(path), "/api/v1/runs/%lld/resubmit", run);
	body = json_pack("{s:b}", "failed", failed);
	reply = cli_call("POST", path, body);
	json_decref(body);
	if (reply == NULL)
		return cli_failed();
	if (!json)
		printf("run %lld: %lld jobs of run %lld again\n",
		    cli_num(reply, "run"), cli_num(reply, "jobs"), run);
	rc = cli_run_started(reply, wait, json);
	json_decref(reply);
	return rc;
}
