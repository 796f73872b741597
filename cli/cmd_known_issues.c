/*
 * cmd_known_issues.c: `wakefarm known-issues list` (GET
 * /api/v1/known-issues) and `wakefarm known-issues add` (POST
 * /api/v1/admin/known-issues, admin token): the failures a known issue
 * explains (scenario and check globs, an optional regex over the guest's
 * log lines) count as known, not as regressions (controller/README.md).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "flags.h"
#include "util.h"

enum {
	OPT_SCENARIO = WF_FLAG_LONG,
	OPT_CHECK,
	OPT_DESCRIPTION,
	OPT_URL,
	OPT_LOG_REGEX,
	OPT_JSON,
};

static int cmd_known_list(int, char **);
static int cmd_known_add(int, char **);

static const struct wf_subcmd known_subcmds[] = {
	{ "list", "list the known issues", cmd_known_list },
	{ "add", "add a known issue (admin token)", cmd_known_add },
	{ NULL, NULL, NULL },
};

static const struct wf_cmd known_cmd = {
	"wakefarm known-issues",
	NULL,
	"Known issues: failures they explain are shown as known, not counted"
	" as regressions.",
	NULL,
	known_subcmds,
};

static const struct wf_cmd list_cmd = {
	"wakefarm known-issues list",
	NULL,
	"List the known issues.",
	cli_json_only,
	NULL,
};

static const struct wf_flag add_flags[] = {
	{ "scenario", OPT_SCENARIO, "NAME|GLOB",
	    "the scenarios it concerns (fnmatch glob)", 1 },
	{ "check", OPT_CHECK, "NAME|GLOB",
	    "the failing checks it explains (fnmatch glob)", 1 },
	{ "description", OPT_DESCRIPTION, "TEXT", "what the issue is", 1 },
	{ "url", OPT_URL, "URL", "the bug report, a mailing-list thread", 0 },
	{ "log-regex", OPT_LOG_REGEX, "RE",
	    "only when a line of the job's guest logs matches this PCRE2", 0 },
	{ "json", OPT_JSON, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd add_cmd = {
	"wakefarm known-issues add",
	NULL,
	"Add a known issue (admin token). The finished jobs are classified"
	" against it again in the background.",
	add_flags,
	NULL,
};

int
cmd_known_issues(int argc, char **argv)
{
	return wf_flags_run(&known_cmd, argc, argv);
}

static int
cmd_known_list(int argc, char **argv)
{
	struct wf_flags f;
	const char *u, *rx;
	const json_t *k;
	json_t *j;
	size_t i;
	int n, json, rc;

	cli_json_args(&f, &list_cmd, argc, argv, 0, 0, &n, &json);
	if ((j = cli_get_list(
	         "/api/v1/known-issues", "known_issues", json, &rc)) == NULL)
		return rc;
	printf(
	    "%5s %-20s %-24s %s\n", "ID", "SCENARIO", "CHECK", "DESCRIPTION");
	json_array_foreach (json_object_get(j, "known_issues"), i, k) {
		printf("%5lld %-20s %-24s %s\n", cli_num(k, "id"),
		    cli_str(k, "scenario"), cli_str(k, "check"),
		    cli_str(k, "description"));
		u = json_string_value(json_object_get(k, "url"));
		rx = json_string_value(json_object_get(k, "log_regex"));
		if (u != NULL && u[0] != '\0')
			printf("      url %s\n", u);
		if (rx != NULL && rx[0] != '\0')
			printf("      log regex %s\n", rx);
	}
	json_decref(j);
	return CLI_OK;
}

/* A flag's value as a body key: not empty and not too long for the API. */
static void
known_set(struct wf_flags *f, json_t *body, const char *key, const char *flag,
    const char *arg, size_t max)
{
	if (arg[0] == '\0' && strcmp(key, "url") != 0 &&
	    strcmp(key, "log_regex") != 0)
		wf_flags_usage_error(f, "%s must not be empty", flag);
	if (strlen(arg) > max)
		wf_flags_usage_error(
		    f, "%s is longer than %zu bytes", flag, max);
	json_object_set_new(body, key, json_string(arg));
}

static int
cmd_known_add(int argc, char **argv)
{
	json_t *body = json_object(), *j;
	struct wf_flags f;
	const char *arg;
	int id, n, rc, json = 0;

	wf_flags_begin(&f, &add_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		switch (id) {
		case OPT_SCENARIO:
			known_set(&f, body, "scenario", "--scenario", arg, 64);
			break;
		case OPT_CHECK:
			known_set(&f, body, "check", "--check", arg, 64);
			break;
		case OPT_DESCRIPTION:
			known_set(&f, body, "description", "--description", arg,
			    4096);
			break;
		case OPT_URL:
			known_set(&f, body, "url", "--url", arg, 1024);
			break;
		case OPT_LOG_REGEX:
			known_set(
			    &f, body, "log_regex", "--log-regex", arg, 1024);
			break;
		case OPT_JSON:
			json = 1;
			break;
		}
	}
	wf_flags_args(&f, 0, 0, &n);
	j = cli_call_or_print(
	    "POST", "/api/v1/admin/known-issues", body, json, &rc);
	json_decref(body);
	if (j == NULL)
		return rc;
	printf("known issue %lld added\n", cli_num(j, "id"));
	json_decref(j);
	return CLI_OK;
}
