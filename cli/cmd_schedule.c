/*
 * cmd_schedule.c: `wakefarm schedule add|list|rm`: the nightly schedules
 * (/api/v1/admin/schedules, controller/README.md "Nightly runs").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "flags.h"
#include "util.h"

enum {
	OPT_AT = WF_FLAG_LONG,
	OPT_MATRIX,
	OPT_SET,
	OPT_RETRIES,
	OPT_KERNEL,
	OPT_JSON,
};

static int cmd_schedule_add(int, char **);
static int cmd_schedule_list(int, char **);
static int cmd_schedule_rm(int, char **);

static const struct wf_subcmd schedule_subcmds[] = {
	{ "add", "add a nightly schedule", cmd_schedule_add },
	{ "list", "list the schedules and their last night",
	    cmd_schedule_list },
	{ "rm", "remove a schedule (its runs stay)", cmd_schedule_rm },
	{ NULL, NULL, NULL },
};

static const struct wf_cmd schedule_cmd = {
	"wakefarm schedule",
	NULL,
	"Nightly schedules: the controller starts"
	" each once a day at its time (UTC).",
	NULL,
	schedule_subcmds,
};

static const struct wf_flag add_flags[] = {
	{ "at", OPT_AT, "HH:MM", "time of day, UTC", 1 },
	{ "matrix", OPT_MATRIX, "nightly|SCENARIO",
	    "what to run: the nightly"
	    " matrix (default) or scenarios (repeatable, or A,B)",
	    0 },
	{ "set", OPT_SET, "KEY=VALUE",
	    "override a scenario field or axis"
	    " (repeatable)",
	    0 },
	{ "retries", OPT_RETRIES, "N",
	    "attempts after a failure before it is"
	    " a regression (default 2)",
	    0 },
	{ "kernel", OPT_KERNEL, "NAME|sha256:HEX|PKG|PATH",
	    "the Linux scenarios boot"
	    " this kernel each night (the test-kernel ones keep theirs);"
	    " repeatable (or A,B): a kernel axis",
	    0 },
	{ "json", OPT_JSON, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd add_cmd = {
	"wakefarm schedule add",
	"NAME",
	"Add a schedule (admin token).",
	add_flags,
	NULL,
};
static const struct wf_cmd list_cmd = {
	"wakefarm schedule list",
	NULL,
	"List the schedules.",
	cli_json_only,
	NULL,
};
static const struct wf_cmd rm_cmd = {
	"wakefarm schedule rm",
	"NAME",
	"Remove a schedule (admin token).",
	cli_json_only,
	NULL,
};
int
cmd_schedule(int argc, char **argv)
{
	return wf_flags_run(&schedule_cmd, argc, argv);
}

static int
cmd_schedule_add(int argc, char **argv)
{
	json_t *body = json_object(), *set = json_object(), *m = json_array();
	json_t *reply, *kernels = json_array();
	struct wf_flags f;
	const char *arg;
	char **args;
	int id, n, json = 0, rc = CLI_UNAVAILABLE;

	wf_flags_begin(&f, &add_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		switch (id) {
		case OPT_AT:
			json_object_set_new(body, "at", json_string(arg));
			break;
		case OPT_MATRIX:
			cli_add_list(m, arg);
			break;
		case OPT_SET:
			if (cli_add_set(set, arg) == -1) {
				rc = CLI_USAGE;
				goto out;
			}
			break;
		case OPT_RETRIES:
			json_object_set_new(body, "retries",
			    json_integer(
			        wf_flags_int(&f, "--retries", arg, 0, 10)));
			break;
		case OPT_KERNEL:
			cli_add_list(kernels, arg);
			break;
		case OPT_JSON:
			json = 1;
			break;
		}
	}
	args = wf_flags_args(&f, 1, 1, &n);
	if (json_array_size(kernels) > 0)
		json_object_set(body, "kernels", kernels);
	json_object_set_new(body, "name", json_string(args[0]));
	if (json_array_size(m) == 1)
		json_object_set(body, "matrix", json_array_get(m, 0));
	else if (json_array_size(m) > 1)
		json_object_set(body, "matrix", m);
	if (json_object_size(set) > 0)
		json_object_set(body, "set", set);
	if ((reply = cli_call_or_print(
	         "POST", "/api/v1/admin/schedules", body, json, &rc)) == NULL)
		goto out;
	printf("schedule %s: %s UTC, %lld jobs a night, %lld retries before a"
	       " regression\n",
	    cli_str(reply, "name"), cli_str(reply, "at"),
	    cli_num(reply, "jobs"), cli_num(reply, "retries"));
	json_decref(reply);
out:
	json_decref(body);
	json_decref(set);
	json_decref(m);
	json_decref(kernels);
	return rc;
}

static int
cmd_schedule_list(int argc, char **argv)
{
	struct wf_flags f;
	json_t *j, *s, *req;
	size_t i;
	int n, rc, json;

	cli_json_args(&f, &list_cmd, argc, argv, 0, 0, &n, &json);
	if ((j = cli_get_list(
	         "/api/v1/admin/schedules", "schedules", json, &rc)) == NULL)
		return rc;
	printf("%-20s %-5s %-7s %-10s %-8s %s\n", "NAME", "AT", "RETRIES",
	    "LAST DAY", "LAST RUN", "RUNS");
	json_array_foreach (json_object_get(j, "schedules"), i, s) {
		char *what, *set;

		req = json_object_get(s, "request");
		what = json_dumps(json_object_get(req, "scenarios") ?
		        json_object_get(req, "scenarios") :
		        json_object_get(req, "matrix"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		set = json_dumps(json_object_get(req, "set"), JSON_COMPACT);
		printf("%-20s %-5s %-7lld %-10s %-8lld %s%s%s\n",
		    cli_str(s, "name"), cli_str(s, "at"), cli_num(s, "retries"),
		    cli_str(s, "last_day"), cli_num(s, "last_run"),
		    what ? what : "", set ? " set " : "", set ? set : "");
		free(what);
		free(set);
	}
	json_decref(j);
	return CLI_OK;
}

static int
cmd_schedule_rm(int argc, char **argv)
{
	struct wf_flags f;
	char path[160], **args;
	json_t *j;
	int n, rc, json;

	args = cli_json_args(&f, &rm_cmd, argc, argv, 1, 1, &n, &json);
	if (strlen(args[0]) > 64 || strchr(args[0], '/') != NULL ||
	    strchr(args[0], '?') != NULL) {
		return cli_error(
		    CLI_USAGE, NULL, "'%s' is not a schedule name", args[0]);
	}
	snprintf(path, sizeof(path), "/api/v1/admin/schedules/%s", args[0]);
	if ((j = cli_call_or_print("DELETE", path, NULL, json, &rc)) == NULL)
		return rc;
	printf("schedule %s removed (its runs stay)\n", args[0]);
	json_decref(j);
	return CLI_OK;
}
