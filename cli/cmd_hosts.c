/*
 * cmd_hosts.c: `wakefarm hosts [--json]` (GET /api/v1/hosts) and
 * `wakefarm hosts set-state HOST good|maintenance|bad [--json]`
 * (POST /api/v1/admin/hosts/HOST, admin token): a host marked bad by the
 * controller comes back with set-state HOST good.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "flags.h"
#include "util.h"

static const struct wf_cmd hosts_cmd = {
	"wakefarm hosts",
	NULL,
	"List the hosts, their slots and health. `wakefarm hosts set-state HOST"
	" good|maintenance|bad` (admin token) sets a host's state: only good"
	" hosts get jobs, and good clears its infra record.",
	cli_json_only,
	NULL,
};

static const struct wf_cmd set_state_cmd = {
	"wakefarm hosts set-state",
	"HOST good|maintenance|bad",
	"Put a host back into service (good), take it out (maintenance), or"
	" mark it bad (admin token).",
	cli_json_only,
	NULL,
};

static int
hosts_set_state(int argc, char **argv)
{
	static const char *const states[] = { "good", "maintenance", "bad",
		NULL };
	struct wf_flags f;
	json_t *body, *j;
	char path[128], **args;
	int n, json, s, rc;

	args = cli_json_args(&f, &set_state_cmd, argc, argv, 2, 2, &n, &json);
	if (!wf_name_ok(args[0], 64))
		wf_flags_usage_error(&f, "'%s' is not a host name", args[0]);
	s = wf_flags_choice(&f, "the state", args[1], states);
	snprintf(path, sizeof(path), "/api/v1/admin/hosts/%s", args[0]);
	body = json_pack("{s:s}", "state", states[s]);
	j = cli_call_or_print("POST", path, body, json, &rc);
	json_decref(body);
	if (j == NULL)
		return rc;
	printf("host %s: %s\n", cli_str(j, "name"), cli_str(j, "state"));
	json_decref(j);
	return CLI_OK;
}

int
cmd_hosts(int argc, char **argv)
{
	struct wf_flags f;
	const json_t *h;
	json_t *j;
	size_t i;
	int n, json;

	if (argc > 1 && strcmp(argv[1], "set-state") == 0)
		return hosts_set_state(argc - 1, argv + 1);
	cli_json_args(&f, &hosts_cmd, argc, argv, 0, 0, &n, &json);
	if ((j = cli_call("GET", "/api/v1/hosts", NULL)) == NULL)
		return cli_failed();
	if (cli_expect(j, "hosts", JSON_ARRAY, "/api/v1/hosts") == -1) {
		json_decref(j);
		return cli_failed();
	}
	if (json) {
		cli_print_json(j);
	} else {
		printf("%-20s %-12s %5s %5s  %s\n", "HOST", "STATE", "BUSY",
		    "SLOTS", "LIBVIRT");
		json_array_foreach (json_object_get(j, "hosts"), i, h)
			printf("%-20s %-12s %5lld %5lld  %s\n",
			    cli_str(h, "name"), cli_str(h, "state"),
			    cli_num(h, "busy"), cli_num(h, "slots"),
			    cli_str(h, "libvirt_uri"));
	}
	json_decref(j);
	return CLI_OK;
}
