/*
 * agent/cli/main.c: the wakefarm command-line client. Global options name
 * the controller; each subcommand parses its own options. The controller
 * commands (submit, status, show, logs, cancel, hosts) are in remote.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bisect_cli.h"
#include "config.h"
#include "flags.h"
#include "http.h"
#include "log.h"
#include "nightly.h"
#include "remote.h"
#include "repro.h"
#include "util.h"

enum {
	OPT_SERVER = WF_FLAG_LONG,
	OPT_TOKEN,
	OPT_SET,
	OPT_KERNEL,
	OPT_INITRD,
	OPT_NAME,
	OPT_WAIT,
	OPT_JSON,
	OPT_PORT,
	OPT_FOLLOW,
	OPT_LIBVIRT,
	OPT_ACCEL,
	OPT_WORK,
	OPT_KEEP,
	OPT_QEMU,
	OPT_TOKEN_FILE,
	OPT_CA_FILE,
};

#define DEFAULT_SERVER "http://127.0.0.1:8080"

/* Global options, for every subcommand. */
static const char *server_url;
static const char *token;

static int cmd_submit(int, char **);
static int cmd_status(int, char **);
static int cmd_show(int, char **);
static int cmd_logs(int, char **);
static int cmd_cancel(int, char **);
static int cmd_hosts(int, char **);
static int cmd_repro(int, char **);

static const struct wf_subcmd cli_subcmds[] = {
	{ "submit", "submit scenarios (each expanded over its matrix)",
	    cmd_submit },
	{ "status", "progress of a run, or of the recent runs", cmd_status },
	{ "show", "a run or job in detail: checks, verdicts, generations",
	    cmd_show },
	{ "logs", "a job's guest output (serial ports) and host records",
	    cmd_logs },
	{ "cancel", "cancel a run or a job", cmd_cancel },
	{ "hosts", "the agents' hosts, slots and health", cmd_hosts },
	{ "repro", "run one job or scenario here, without a controller",
	    cmd_repro },
	{ "schedule", "nightly schedules: add, list, rm", cmd_schedule },
	{ "compare", "compare two runs case by case", cmd_compare },
	{ "regressions", "the nightly runs' regressions against the night"
	    " before", cmd_regressions },
	{ "bisect", "find the first bad revision: start, show, list, cancel",
	    cmd_bisect },
	{ NULL, NULL, NULL },
};

static const struct wf_flag cli_flags[] = {
	{ "server", OPT_SERVER, "URL", "controller URL (default:"
	    " $WAKEFARM_SERVER or " DEFAULT_SERVER ")", 0 },
	{ "token", OPT_TOKEN, "TOKEN", "API token (default: $WAKEFARM_TOKEN)",
	    0 },
	{ "token-file", OPT_TOKEN_FILE, "FILE", "read the API token from FILE"
	    " (mode 0600)", 0 },
	{ "ca-file", OPT_CA_FILE, "FILE", "verify an https:// server against"
	    " the CA certificates in FILE (default: $WAKEFARM_CA_FILE, else"
	    " the system's)", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd cli_cmd = {
	"wakefarm", NULL, "Submit and follow wakefarm runs.", cli_flags,
	cli_subcmds,
};

static const struct wf_flag json_flag[] = {
	{ "json", OPT_JSON, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_flag submit_flags[] = {
	{ "set", OPT_SET, "KEY=VALUE", "override a scenario field or matrix"
	    " axis (repeatable)", 0 },
	{ "kernel", OPT_KERNEL, "PKG|PATH", "boot this Linux kernel: a Debian"
	    " package (the agent unpacks it) or a bzImage path on the agent's"
	    " host; PKG1,PKG2 is an axis", 0 },
	{ "initrd", OPT_INITRD, "FILE", "initrd for --kernel", 0 },
	{ "name", OPT_NAME, "NAME", "label for the run", 0 },
	{ "wait", OPT_WAIT, NULL, "follow the run to its end; exit 0 only if"
	    " every job was as expected", 0 },
	{ "json", OPT_JSON, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd submit_cmd = {
	"wakefarm submit", "SCENARIO...|nightly|FILE.json",
	"Submit scenarios by name (or the nightly matrix, or a scenario file);"
	" each is expanded over its matrix into jobs. --set KEY=V1,V2 makes an"
	" axis (steps: V1;V2, quirks: a+b or none).",
	submit_flags, NULL,
};

static const struct wf_cmd status_cmd = {
	"wakefarm status", "[RUN]",
	"Show the progress of a run, or of the recent runs.", json_flag, NULL,
};

static const struct wf_cmd show_cmd = {
	"wakefarm show", "JOB",
	"Show a run or a job: checks per generation, verdicts, expected vs"
	" observed.", json_flag, NULL,
};

static const struct wf_flag logs_flags[] = {
	{ "port", OPT_PORT, "0|1|records", "which log (default: 0, the"
	    " guest's human log; 1: its report port; records: stored events)",
	    0 },
	{ "follow", OPT_FOLLOW, NULL, "keep printing while the job runs", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd logs_cmd = {
	"wakefarm logs", "JOB", "Print a job's log.", logs_flags, NULL,
};

static const struct wf_cmd cancel_cmd = {
	"wakefarm cancel", "RUN", "Cancel every unfinished job of a run.",
	json_flag, NULL,
};

static const struct wf_cmd hosts_cmd = {
	"wakefarm hosts", NULL, "List the hosts, their slots and health.",
	json_flag, NULL,
};

static const struct wf_flag repro_flags[] = {
	{ "set", OPT_SET, "KEY=VALUE", "override a scenario field"
	    " (repeatable)", 0 },
	{ "libvirt", OPT_LIBVIRT, "URI", "libvirt connection (default:"
	    " qemu:///system)", 0 },
	{ "qemu", OPT_QEMU, NULL, "bare QEMU (guest/run-qemu's runner)"
	    " instead of libvirt", 0 },
	{ "accel", OPT_ACCEL, "tcg|kvm", "QEMU accelerator (default: tcg)", 0 },
	{ "work", OPT_WORK, "DIR", "work directory (default: a new temporary"
	    " one)", 0 },
	{ "keep", OPT_KEEP, NULL, "keep the work directory afterwards", 0 },
	{ "json", OPT_JSON, NULL, "print the verdict as JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd repro_cmd = {
	"wakefarm repro", "JOB_ID|SCENARIO|FILE.json",
	"Run one job (fetched from the controller) or one scenario case here,"
	" with the agent's code and the controller's verdict logic.",
	repro_flags, NULL,
};

static void
check_set(const struct wf_flags *f, const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg)
		wf_flags_usage_error(f, "invalid value '%s' for --set: expected"
		    " KEY=VALUE", arg);
}

static struct remote
remote_opts(int json)
{
	struct remote r = { server_url, token, json };

	if (r.token != NULL && r.token[0] == '\0')
		r.token = NULL;
	return r;
}

/*
 * --kernel PKG|PATH, --initrd PATH as a --set of that field. A relative
 * path is made absolute here (a name without '/' is a Debian package,
 * resolved on the agent's host); a comma makes a kernels axis.
 */
static char *
os_set(const struct wf_flags *f, const char *key, const char *arg)
{
	char abs[PATH_MAX], *out = NULL;

	if (arg[0] != '/' && strchr(arg, '/') != NULL && strchr(arg, ',') == NULL) {
		if (realpath(arg, abs) == NULL)
			wf_flags_usage_error(f, "--%s %s: no such file", key, arg);
		arg = abs;
	}
	if (asprintf(&out, "%s=%s", key, arg) < 0)
		wf_flags_usage_error(f, "out of memory");
	return out;	/* the caller frees it */
}

static int
cmd_submit(int argc, char **argv)
{
	char *sets[WF_FLAGS_MAX * 4], *made[WF_FLAGS_MAX * 4];
	struct wf_flags f;
	struct remote r;
	const char *arg;
	char **targets;
	int id, n, nsets = 0, nmade = 0, wait = 0, json = 0, rc;

	wf_flags_begin(&f, &submit_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		switch (id) {
		case OPT_SET:
			check_set(&f, arg);
			if (nsets == (int)(sizeof(sets) / sizeof(sets[0])))
				wf_flags_usage_error(&f, "too many --set");
			sets[nsets++] = (char *)arg;
			break;
		case OPT_KERNEL:
		case OPT_INITRD:
			if (nsets == (int)(sizeof(sets) / sizeof(sets[0])))
				wf_flags_usage_error(&f, "too many --set");
			made[nmade] = os_set(&f, id == OPT_KERNEL ?
			    "kernel" : "initrd", arg);
			sets[nsets++] = made[nmade++];
			break;
		case OPT_NAME:
			wf_flags_usage_error(&f, "--name is not supported by"
			    " the controller yet");
			break;
		case OPT_WAIT:
			wait = 1;
			break;
		case OPT_JSON:
			json = 1;
			break;
		}
	}
	targets = wf_flags_args(&f, 1, -1, &n);
	r = remote_opts(json);
	rc = remote_submit(&r, targets, n, sets, nsets, wait);
	while (nmade > 0)
		free(made[--nmade]);
	return rc;
}

/* The subcommand's --json switch (json_flag tables), and its arguments. */
static char **
parse_json_flag(struct wf_flags *f, const struct wf_cmd *cmd, int argc,
    char **argv, int min, int max, int *n, int *json)
{
	const char *arg;

	*json = 0;
	wf_flags_begin(f, cmd, argc, argv);
	while (wf_flags_next(f, &arg) != -1)
		*json = 1;
	return wf_flags_args(f, min, max, n);
}

static int
cmd_status(int argc, char **argv)
{
	struct wf_flags f;
	struct remote r;
	char **args;
	int n, json;

	args = parse_json_flag(&f, &status_cmd, argc, argv, 0, 1, &n, &json);
	r = remote_opts(json);
	return remote_status(&r, n > 0 ? args[0] : NULL);
}

static int
cmd_show(int argc, char **argv)
{
	struct wf_flags f;
	struct remote r;
	char **args;
	int n, json;

	args = parse_json_flag(&f, &show_cmd, argc, argv, 1, 1, &n, &json);
	r = remote_opts(json);
	return remote_show(&r, args[0]);
}

static int
cmd_logs(int argc, char **argv)
{
	static const char *const ports[] = { "0", "1", "records", "serial0",
		"serial1", "host", NULL };
	const char *arg, *port = "0";
	struct wf_flags f;
	struct remote r;
	char **args;
	int id, n, follow = 0;

	wf_flags_begin(&f, &logs_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		if (id == OPT_PORT)
			port = ports[wf_flags_choice(&f, "--port", arg, ports)];
		else if (id == OPT_FOLLOW)
			follow = 1;
	}
	args = wf_flags_args(&f, 1, 1, &n);
	r = remote_opts(0);
	return remote_logs(&r, args[0], port, follow);
}

static int
cmd_cancel(int argc, char **argv)
{
	struct wf_flags f;
	struct remote r;
	char **args;
	int n, json;

	args = parse_json_flag(&f, &cancel_cmd, argc, argv, 1, 1, &n, &json);
	r = remote_opts(json);
	return remote_cancel(&r, args[0]);
}

static int
cmd_hosts(int argc, char **argv)
{
	struct wf_flags f;
	struct remote r;
	int n, json;

	parse_json_flag(&f, &hosts_cmd, argc, argv, 0, 0, &n, &json);
	r = remote_opts(json);
	return remote_hosts(&r);
}

static int
cmd_repro(int argc, char **argv)
{
	static const char *const accels[] = { "tcg", "kvm", NULL };
	struct repro_opts o = { .libvirt_uri = "qemu:///system", .accel = "tcg" };
	struct wf_flags f;
	const char *arg;
	char **args;
	int id, n, rc;

	o.server = server_url ? server_url : getenv("WAKEFARM_SERVER") ?
	    getenv("WAKEFARM_SERVER") : DEFAULT_SERVER;
	o.set = json_object();
	wf_flags_begin(&f, &repro_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		switch (id) {
		case OPT_SET:
			check_set(&f, arg);
			if (remote_add_set(o.set, arg) == -1)
				return 2;
			break;
		case OPT_LIBVIRT: o.libvirt_uri = arg; break;
		case OPT_QEMU: o.bare_qemu = 1; break;
		case OPT_ACCEL: o.accel = accels[wf_flags_choice(&f, "--accel", arg, accels)]; break;
		case OPT_WORK: o.work = arg; break;
		case OPT_KEEP: o.keep = 1; break;
		case OPT_JSON: o.json = 1; break;
		}
	}
	args = wf_flags_args(&f, 1, 1, &n);
	rc = repro_main(&o, args[0]);
	json_decref(o.set);
	return rc;
}

/*
 * The token: --token, or --token-file (a private file), or
 * $WAKEFARM_TOKEN. The CA bundle: --ca-file, or $WAKEFARM_CA_FILE.
 */
static void
global_secrets(struct wf_flags *f, const char *token_file, const char *ca_file)
{
	char *cause = NULL;

	if (token_file != NULL &&
	    (token = wf_token_file_read(token_file, &cause)) == NULL)
		wf_flags_usage_error(f, "--token-file %s", wf_cause_str(cause));
	if (ca_file == NULL && (ca_file = getenv("WAKEFARM_CA_FILE")) != NULL &&
	    ca_file[0] == '\0')
		ca_file = NULL;
	if (ca_file != NULL && access(ca_file, R_OK) == -1)
		wf_flags_usage_error(f, "CA file %s: %s", ca_file,
		    strerror(errno));
	if (wf_http_default_ca_file(ca_file) == -1)
		wf_flags_usage_error(f, "out of memory");
}

int
main(int argc, char **argv)
{
	const char *arg, *token_file = NULL, *ca_file = NULL;
	struct wf_flags f;
	int id, tokens = 0;

	wf_log_init("cli");
	server_url = getenv("WAKEFARM_SERVER");
	if (server_url == NULL || server_url[0] == '\0')
		server_url = DEFAULT_SERVER;
	token = getenv("WAKEFARM_TOKEN");
	wf_flags_begin(&f, &cli_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		if (id == OPT_SERVER)
			server_url = arg;
		else if (id == OPT_TOKEN)
			token = arg;
		else if (id == OPT_TOKEN_FILE)
			token_file = arg;
		else if (id == OPT_CA_FILE)
			ca_file = arg;
		tokens += id == OPT_TOKEN || id == OPT_TOKEN_FILE;
	}
	if (tokens > 1)
		wf_flags_usage_error(&f, "give one of --token and --token-file");
	if (strncmp(server_url, "http://", 7) != 0 &&
	    strncmp(server_url, "https://", 8) != 0)
		wf_flags_usage_error(&f, "the server must be an http:// or"
		    " https:// URL, not '%s'", server_url);
	global_secrets(&f, token_file, ca_file);
	cli_nightly_init(server_url, token);
	return wf_flags_dispatch(&f);
}
