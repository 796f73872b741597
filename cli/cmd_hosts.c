/*
 * cmd_hosts.c: `wakefarm hosts [--json]`: GET /api/v1/hosts.
 */
#include <stdio.h>

#include "cli.h"
#include "flags.h"

static const struct wf_cmd hosts_cmd = {
	"wakefarm hosts",
	NULL,
	"List the hosts, their slots and health.",
	cli_json_only,
	NULL,
};

int
cmd_hosts(int argc, char **argv)
{
	struct wf_flags f;
	const json_t *h;
	json_t *j;
	size_t i;
	int n, json;

	cli_json_args(&f, &hosts_cmd, argc, argv, 0, 0, &n, &json);
	if ((j = cli_call("GET", "/api/v1/hosts", NULL)) == NULL)
		return CLI_FAIL;
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
