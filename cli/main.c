/*
 * cli/main.c: bin/wakefarm, the command-line client. The global options
 * name the controller (cli.h's one client); each command (cmd_*.c) parses
 * its own options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "flags.h"
#include "http.h"
#include "log.h"
#include "util.h"

enum {
	OPT_SERVER = WF_FLAG_LONG,
	OPT_TOKEN,
	OPT_TOKEN_FILE,
	OPT_CA_FILE,
};

static const struct wf_subcmd cli_subcmds[] = {
	{ "submit", "submit scenarios (each expanded over its matrix)",
	    cmd_submit },
	{ "status", "progress of a run, or of the recent runs", cmd_status },
	{ "show", "a run or job in detail: checks, verdicts, generations",
	    cmd_show },
	{ "logs", "a job's guest output (serial ports) and host records",
	    cmd_logs },
	{ "cancel", "cancel a run or a job", cmd_cancel },
	{ "resubmit", "run a run's cases again (--failed: the unexpected)",
	    cmd_resubmit },
	{ "kernel", "kernels of your own on the controller: add, list",
	    cmd_kernel },
	{ "hosts", "the agents' hosts, slots and health; set-state",
	    cmd_hosts },
	{ "repro", "run one job or scenario here, without a controller",
	    cmd_repro },
	{ "schedule", "nightly schedules: add, list, rm", cmd_schedule },
	{ "compare", "compare two runs case by case", cmd_compare },
	{ "regressions",
	    "the nightly runs' regressions against the night"
	    " before",
	    cmd_regressions },
	{ "bisect", "find the first bad revision: start, show, list, cancel",
	    cmd_bisect },
	{ "wait", "follow a run to its end, whoever submitted it", cmd_wait },
	{ "scenario", "check scenario files without submitting: validate",
	    cmd_scenario },
	{ "events", "what happens on the farm, as it happens (--follow)",
	    cmd_events },
	{ "subscription",
	    "who hears about regressions and finished runs: add, list, rm,"
	    " deliveries",
	    cmd_subscription },
	{ "tokens", "the API tokens: list, revoke (admin)", cmd_tokens },
	{ "known-issues", "failures explained by known bugs: list, add",
	    cmd_known_issues },
	{ NULL, NULL, NULL },
};

static const struct wf_flag cli_flags[] = {
	{ "server", OPT_SERVER, "URL",
	    "controller URL (default:"
	    " $WAKEFARM_SERVER or " CLI_DEFAULT_SERVER ")",
	    0 },
	{ "token", OPT_TOKEN, "TOKEN", "API token (default: $WAKEFARM_TOKEN)",
	    0 },
	{ "token-file", OPT_TOKEN_FILE, "FILE",
	    "read the API token from FILE"
	    " (mode 0600)",
	    0 },
	{ "ca-file", OPT_CA_FILE, "FILE",
	    "verify an https:// server against"
	    " the CA certificates in FILE (default: $WAKEFARM_CA_FILE, else"
	    " the system's)",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd cli_cmd = {
	"wakefarm",
	NULL,
	"Submit and follow wakefarm runs.",
	cli_flags,
	cli_subcmds,
};

/*
 * The token: --token, or --token-file (a private file), or
 * $WAKEFARM_TOKEN. The CA bundle: --ca-file, or $WAKEFARM_CA_FILE.
 */
static const char *
global_secrets(struct wf_flags *f, const char *token, const char *token_file,
    const char *ca_file)
{
	char *cause = NULL;

	if (token_file != NULL &&
	    (token = wf_token_file_read(token_file, &cause)) == NULL)
		wf_flags_usage_error(f, "--token-file %s", wf_cause_str(cause));
	if (ca_file == NULL && (ca_file = getenv("WAKEFARM_CA_FILE")) != NULL &&
	    ca_file[0] == '\0')
		ca_file = NULL;
	if (ca_file != NULL && access(ca_file, R_OK) == -1)
		wf_flags_usage_error(
		    f, "CA file %s: %s", ca_file, strerror(errno));
	if (wf_http_default_ca_file(ca_file) == -1)
		wf_flags_usage_error(f, "out of memory");
	return token;
}

/* A usage error with --json: the error as JSON on stdout too. */
static void
usage_as_json(const char *prog, const char *msg)
{
	char text[1200];

	snprintf(text, sizeof(text), "%s: %s", prog, msg);
	cli_json_error(CLI_USAGE, text);
}

/* --json anywhere before "--": errors must be JSON from the start. */
static int
wants_json(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--json") == 0)
			return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *arg, *server, *token, *token_file = NULL, *ca_file = NULL;
	struct wf_flags f;
	int id, tokens = 0;

	wf_log_init("cli");
	cli_set_json(wants_json(argc, argv));
	wf_flags_set_usage(CLI_USAGE, cli_json() ? usage_as_json : NULL);
	wf_flags_set_epilog(CLI_EXIT_HELP);
	server = getenv("WAKEFARM_SERVER");
	if (server == NULL || server[0] == '\0')
		server = CLI_DEFAULT_SERVER;
	token = getenv("WAKEFARM_TOKEN");
	wf_flags_begin(&f, &cli_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		if (id == OPT_SERVER)
			server = arg;
		else if (id == OPT_TOKEN)
			token = arg;
		else if (id == OPT_TOKEN_FILE)
			token_file = arg;
		else if (id == OPT_CA_FILE)
			ca_file = arg;
		tokens += id == OPT_TOKEN || id == OPT_TOKEN_FILE;
	}
	if (tokens > 1)
		wf_flags_usage_error(
		    &f, "give one of --token and --token-file");
	if (strncmp(server, "http://", 7) != 0 &&
	    strncmp(server, "https://", 8) != 0)
		wf_flags_usage_error(&f,
		    "the server must be an http:// or"
		    " https:// URL, not '%s'",
		    server);
	token = global_secrets(&f, token, token_file, ca_file);
	cli_init(server, token);
	return wf_flags_dispatch(&f);
}
