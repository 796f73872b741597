/*
 * cmd_subscription.c: `wakefarm subscription add|list|rm|deliveries`: who
 * hears about regressions, new failures, fixed cases, finished runs and
 * bisects, by webhook or mail (/api/v1/admin/subscriptions, admin token;
 * controller/README.md "Notifications").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "flags.h"
#include "util.h"

enum {
	OPT_EVENT = WF_FLAG_LONG,
	OPT_SCHEDULE,
	OPT_SCENARIO,
	OPT_KERNEL,
	OPT_WEBHOOK,
	OPT_SECRET_FILE,
	OPT_EMAIL,
	OPT_STATE,
	OPT_JSON,
};

static int sub_add(int, char **);
static int sub_list(int, char **);
static int sub_rm(int, char **);
static int sub_deliveries(int, char **);

static const struct wf_subcmd sub_subcmds[] = {
	{ "add", "subscribe a webhook or mail recipients to events", sub_add },
	{ "list", "the subscriptions", sub_list },
	{ "rm", "remove a subscription (and what it has not sent yet)",
	    sub_rm },
	{ "deliveries", "the outbox: what was sent, what waits, what failed",
	    sub_deliveries },
	{ NULL, NULL, NULL },
};

static const struct wf_cmd sub_cmd = {
	"wakefarm subscription",
	NULL,
	"Notifications: a webhook (a JSON POST signed with HMAC-SHA256) or mail,"
	" on a regression, a new failure, a fixed case, a finished run or"
	" bisect; admin token.",
	NULL,
	sub_subcmds,
};

static const struct wf_flag add_flags[] = {
	{ "event", OPT_EVENT, "EVENT,...",
	    "regression, new-failure, fixed,"
	    " run-finished, bisect-finished (repeatable; default regression)",
	    0 },
	{ "schedule", OPT_SCHEDULE, "NAME",
	    "only runs of this nightly schedule"
	    " (default: any run)",
	    0 },
	{ "scenario", OPT_SCENARIO, "GLOB",
	    "only cases of scenarios matching"
	    " (fnmatch; default *)",
	    0 },
	{ "kernel", OPT_KERNEL, "GLOB",
	    "only cases booting a kernel matching"
	    " (our test kernel is test-kernel; default *)",
	    0 },
	{ "webhook", OPT_WEBHOOK, "URL", "POST each event's JSON to URL", 0 },
	{ "secret-file", OPT_SECRET_FILE, "FILE",
	    "the webhook's HMAC key, from a"
	    " private file (default: one the controller makes, shown once)",
	    0 },
	{ "email", OPT_EMAIL, "ADDR,...",
	    "mail each event to these addresses"
	    " (the controller's --smtp-url)",
	    0 },
	{ "json", OPT_JSON, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd add_cmd = {
	"wakefarm subscription add",
	"NAME",
	"Subscribe a webhook (--webhook) or mail recipients (--email) to"
	" events, narrowed to a schedule, a scenario glob, a kernel glob.",
	add_flags,
	NULL,
};
static const struct wf_cmd list_cmd = {
	"wakefarm subscription list",
	NULL,
	"The subscriptions (webhook secrets are never shown).",
	cli_json_only,
	NULL,
};
static const struct wf_cmd rm_cmd = {
	"wakefarm subscription rm",
	"NAME",
	"Remove a subscription; what it has not sent yet is dropped.",
	cli_json_only,
	NULL,
};
static const struct wf_flag deliveries_flags[] = {
	{ "state", OPT_STATE, "pending|sent|failed", "only these", 0 },
	{ "json", OPT_JSON, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};
static const struct wf_cmd deliveries_cmd = {
	"wakefarm subscription deliveries",
	"[NAME]",
	"The outbox, newest first: each notification's event, state,"
	" attempts and last error.",
	deliveries_flags,
	NULL,
};

int
cmd_subscription(int argc, char **argv)
{
	return wf_flags_run(&sub_cmd, argc, argv);
}

/* The options of add into body; the secret file read. */
static void
add_option(struct wf_flags *f, int id, const char *arg, json_t *body,
    json_t *events, int *json)
{
	char *cause = NULL, *secret;

	switch (id) {
	case OPT_EVENT:
		cli_add_list(events, arg);
		break;
	case OPT_SCHEDULE:
		json_object_set_new(body, "schedule", json_string(arg));
		break;
	case OPT_SCENARIO:
		json_object_set_new(body, "scenario", json_string(arg));
		break;
	case OPT_KERNEL:
		json_object_set_new(body, "kernel", json_string(arg));
		break;
	case OPT_WEBHOOK:
		json_object_set_new(body, "webhook", json_string(arg));
		break;
	case OPT_SECRET_FILE:
		if ((secret = wf_token_file_read(arg, &cause)) == NULL)
			wf_flags_usage_error(
			    f, "--secret-file %s", wf_cause_str(cause));
		json_object_set_new(body, "secret", json_string(secret));
		explicit_bzero(secret, strlen(secret));
		free(secret);
		break;
	case OPT_EMAIL: {
		json_t *to = json_array();

		cli_add_list(to, arg);
		json_object_set_new(body, "email", to);
		break;
	}
	case OPT_JSON:
		*json = 1;
		break;
	}
}

static int
sub_add(int argc, char **argv)
{
	json_t *body = json_object(), *events = json_array(), *reply;
	struct wf_flags f;
	const char *arg;
	char **args;
	int id, n, json = 0, rc = CLI_OK;

	wf_flags_begin(&f, &add_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1)
		add_option(&f, id, arg, body, events, &json);
	args = wf_flags_args(&f, 1, 1, &n);
	if ((json_object_get(body, "webhook") != NULL) ==
	    (json_object_get(body, "email") != NULL))
		wf_flags_usage_error(&f, "give one of --webhook and --email");
	json_object_set_new(body, "name", json_string(args[0]));
	if (json_array_size(events) > 0)
		json_object_set(body, "events", events);
	if ((reply = cli_call("POST", "/api/v1/admin/subscriptions", body)) ==
	    NULL) {
		rc = cli_failed();
	} else {
		if (json)
			cli_print_json(reply);
		else if (json_is_string(json_object_get(reply, "secret")))
			printf("subscription %s: %s; webhook secret (shown"
			       " once): %s\n",
			    cli_str(reply, "name"), cli_str(reply, "target"),
			    cli_str(reply, "secret"));
		else
			printf("subscription %s: %s\n", cli_str(reply, "name"),
			    cli_str(reply, "target"));
		json_decref(reply);
	}
	json_decref(body);
	json_decref(events);
	return rc;
}

static int
sub_list(int argc, char **argv)
{
	const json_t *s;
	struct wf_flags f;
	json_t *j;
	size_t i;
	int n, json, rc;

	cli_json_args(&f, &list_cmd, argc, argv, 0, 0, &n, &json);
	if ((j = cli_get_list("/api/v1/admin/subscriptions", "subscriptions",
	         json, &rc)) == NULL)
		return rc;
	printf("%-16s %-8s %-36s %-12s %-14s %s\n", "NAME", "KIND", "EVENTS",
	    "SCHEDULE", "SCENARIO", "TARGET");
	json_array_foreach (json_object_get(j, "subscriptions"), i, s) {
		char *ev = json_dumps(
		    json_object_get(s, "events"), JSON_COMPACT);

		printf("%-16s %-8s %-36s %-12s %-14s %s\n", cli_str(s, "name"),
		    cli_str(s, "kind"), ev ? ev : "", cli_str(s, "schedule"),
		    cli_str(s, "scenario"), cli_str(s, "target"));
		free(ev);
	}
	json_decref(j);
	return CLI_OK;
}

static int
sub_rm(int argc, char **argv)
{
	struct wf_flags f;
	char path[160], **args;
	json_t *j;
	int n, json, rc;

	args = cli_json_args(&f, &rm_cmd, argc, argv, 1, 1, &n, &json);
	if (!wf_name_ok(args[0], 64))
		wf_flags_usage_error(
		    &f, "'%s' is not a subscription name", args[0]);
	snprintf(path, sizeof(path), "/api/v1/admin/subscriptions/%s", args[0]);
	if ((j = cli_call_or_print("DELETE", path, NULL, json, &rc)) == NULL)
		return rc;
	printf("subscription %s removed\n", args[0]);
	json_decref(j);
	return CLI_OK;
}

static int
sub_deliveries(int argc, char **argv)
{
	static const char *const states[] = { "pending", "sent", "failed",
		NULL };
	const char *arg, *state = NULL;
	struct wf_flags f;
	char path[256], **args;
	const json_t *d;
	json_t *j;
	size_t i;
	int id, n, rc, json = 0;

	wf_flags_begin(&f, &deliveries_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		if (id == OPT_STATE)
			state =
			    states[wf_flags_choice(&f, "--state", arg, states)];
		else
			json = 1;
	}
	args = wf_flags_args(&f, 0, 1, &n);
	if (n == 1 && !wf_name_ok(args[0], 64))
		wf_flags_usage_error(
		    &f, "'%s' is not a subscription name", args[0]);
	snprintf(path, sizeof(path), "/api/v1/admin/deliveries?%s%s%s%s",
	    n == 1 ? "subscription=" : "", n == 1 ? args[0] : "",
	    n == 1 && state ? "&" : "", state ? "state=" : "");
	if (state != NULL)
		strncat(path, state, sizeof(path) - strlen(path) - 1);
	if ((j = cli_get_list(path, "deliveries", json, &rc)) == NULL)
		return rc;
	json_array_foreach (json_object_get(j, "deliveries"), i, d)
		printf("%-6lld %-16s %-14s %-8s %2lld attempts  %s %s\n",
		    cli_num(d, "id"), cli_str(d, "subscription"),
		    cli_str(d, "event"), cli_str(d, "state"),
		    cli_num(d, "attempts"), cli_str(d, "event_key"),
		    cli_str(d, "last_error"));
	json_decref(j);
	return CLI_OK;
}
