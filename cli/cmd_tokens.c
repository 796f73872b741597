/*
 * cmd_tokens.c: `wakefarm tokens list` (GET /api/v1/admin/tokens) and
 * `wakefarm tokens revoke ID` (POST /api/v1/admin/tokens/ID/revoke), both
 * with an admin token. Tokens are created on the controller's host
 * (`wakefarm-controller token create`) or by POST /api/v1/admin/tokens.
 */
#include <stdio.h>

#include "cli.h"
#include "flags.h"
#include "util.h"

static int cmd_tokens_list(int, char **);
static int cmd_tokens_revoke(int, char **);

static const struct wf_subcmd tokens_subcmds[] = {
	{ "list", "list the tokens: id, name, role, revoked", cmd_tokens_list },
	{ "revoke", "revoke a token: it is refused from then on",
	    cmd_tokens_revoke },
	{ NULL, NULL, NULL },
};

static const struct wf_cmd tokens_cmd = {
	"wakefarm tokens",
	NULL,
	"The controller's API tokens (admin token). The secrets are never"
	" shown again after their creation.",
	NULL,
	tokens_subcmds,
};

static const struct wf_cmd list_cmd = {
	"wakefarm tokens list",
	NULL,
	"List the tokens (admin token).",
	cli_json_only,
	NULL,
};

static const struct wf_cmd revoke_cmd = {
	"wakefarm tokens revoke",
	"ID",
	"Revoke token ID (admin token): requests with it are refused (401)"
	" from then on. A token cannot revoke itself, and the last admin"
	" token cannot be revoked.",
	cli_json_only,
	NULL,
};

int
cmd_tokens(int argc, char **argv)
{
	return wf_flags_run(&tokens_cmd, argc, argv);
}

static int
cmd_tokens_list(int argc, char **argv)
{
	struct wf_flags f;
	const json_t *t;
	json_t *j;
	size_t i;
	int n, json, rc;

	cli_json_args(&f, &list_cmd, argc, argv, 0, 0, &n, &json);
	if ((j = cli_get_list("/api/v1/admin/tokens", "tokens", json, &rc)) ==
	    NULL)
		return rc;
	printf("%6s %-24s %-10s %-8s %s\n", "ID", "NAME", "ROLE", "STATE",
	    "CREATED");
	json_array_foreach (json_object_get(j, "tokens"), i, t) {
		char when[32];

		cli_fmt_time(when, sizeof(when), cli_num(t, "created_at"));
		printf("%6lld %-24s %-10s %-8s %s\n", cli_num(t, "id"),
		    cli_str(t, "name"), cli_str(t, "role"),
		    cli_num(t, "revoked") ? "revoked" : "active", when);
	}
	json_decref(j);
	return CLI_OK;
}

static int
cmd_tokens_revoke(int argc, char **argv)
{
	struct wf_flags f;
	char path[96], **args;
	long long id;
	json_t *j;
	int n, json, rc;

	args = cli_json_args(&f, &revoke_cmd, argc, argv, 1, 1, &n, &json);
	if (cli_parse_id("token", args[0], &id) == -1)
		return CLI_USAGE;
	snprintf(path, sizeof(path), "/api/v1/admin/tokens/%lld/revoke", id);
	if ((j = cli_call_or_print("POST", path, NULL, json, &rc)) == NULL)
		return rc;
	printf("token %lld revoked\n", id);
	json_decref(j);
	return CLI_OK;
}
