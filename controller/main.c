/*
 * controller/main.c: wakefarm-controller, one per farm. Parses the command
 * line (serve, migrate, token create) and hands over to the subsystems.
 * The subsystems are not built yet: each command checks its arguments and
 * then says so and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include "flags.h"
#include "log.h"
#include "util.h"

enum {
	OPT_LOG_LEVEL = WF_FLAG_LONG,
	OPT_LISTEN,
	OPT_DB,
	OPT_WEB,
	OPT_ROLE,
	OPT_NAME,
};

#define TOKEN_NAME_MAX 64

static const struct wf_flag global_flags[] = {
	{ "log-level", OPT_LOG_LEVEL, "LEVEL", "debug, info or warn"
	    " (default: $WF_LOG_LEVEL or info)", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

/* Set by --log-level; applied after wf_log_init so the flag beats $WF_LOG_LEVEL. */
static const char *log_level_arg;

static int cmd_serve(int, char **);
static int cmd_migrate(int, char **);
static int cmd_token(int, char **);
static int cmd_token_create(int, char **);

static const struct wf_subcmd controller_subcmds[] = {
	{ "serve", "run the HTTP API, scheduler and dashboard", cmd_serve },
	{ "migrate", "create or upgrade the database schema", cmd_migrate },
	{ "token", "manage API tokens", cmd_token },
	{ NULL, NULL, NULL },
};

static const struct wf_cmd controller_cmd = {
	"wakefarm-controller", NULL,
	"The wakefarm controller: HTTP API, scheduler, verdicts and dashboard.",
	global_flags, controller_subcmds,
};

static const struct wf_flag serve_flags[] = {
	{ "listen", OPT_LISTEN, "ADDR:PORT", "address to serve on, e.g."
	    " 127.0.0.1:8080 or [::1]:8080 (port 0: any free port)", 1 },
	{ "db", OPT_DB, "FILE", "SQLite database file", 1 },
	{ "web", OPT_WEB, "DIR", "serve the dashboard's static files from DIR",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd serve_cmd = {
	"wakefarm-controller serve", NULL,
	"Serve the JSON API (/api/v1) and the dashboard on one port.",
	serve_flags, NULL,
};

static const struct wf_flag db_flags[] = {
	{ "db", OPT_DB, "FILE", "SQLite database file", 1 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd migrate_cmd = {
	"wakefarm-controller migrate", NULL,
	"Create the database or bring its schema up to date.", db_flags, NULL,
};

static const struct wf_subcmd token_subcmds[] = {
	{ "create", "create a token and print it once", cmd_token_create },
	{ NULL, NULL, NULL },
};

static const struct wf_cmd token_cmd = {
	"wakefarm-controller token", NULL, "Manage API tokens.", NULL,
	token_subcmds,
};

static const struct wf_flag token_create_flags[] = {
	{ "db", OPT_DB, "FILE", "SQLite database file", 1 },
	{ "role", OPT_ROLE, "ROLE", "admin, submitter, agent or reader", 1 },
	{ "name", OPT_NAME, "NAME", "who the token is for (shown in logs)", 1 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd token_create_cmd = {
	"wakefarm-controller token create", NULL,
	"Create an API token with a role; it is printed once and stored hashed.",
	token_create_flags, NULL,
};

/*
 * Check "HOST:PORT" or "[V6ADDR]:PORT". The socket layer resolves HOST;
 * this only rejects what could never work, as a usage error.
 */
static void
check_listen(const struct wf_flags *f, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	size_t hostlen;

	if (colon == NULL)
		wf_flags_usage_error(f, "invalid value '%s' for --listen:"
		    " expected ADDR:PORT", arg);
	hostlen = (size_t)(colon - arg);
	if (hostlen == 0 || hostlen > 255 || (arg[0] == '[' &&
	    (hostlen < 3 || arg[hostlen - 1] != ']')))
		wf_flags_usage_error(f, "invalid address in --listen '%s'", arg);
	wf_flags_int(f, "the --listen port", colon + 1, 0, 65535);
}

static int
cmd_serve(int argc, char **argv)
{
	const char *arg, *listen = NULL, *db = NULL, *web = NULL;
	struct wf_flags f;
	int id, n;

	wf_flags_begin(&f, &serve_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		switch (id) {
		case OPT_LISTEN:
			check_listen(&f, arg);
			listen = arg;
			break;
		case OPT_DB:
			db = arg;
			break;
		case OPT_WEB:
			web = arg;
			break;
		}
	}
	wf_flags_args(&f, 0, 0, &n);
	log_debug("serve: listen=%s db=%s web=%s", listen, db,
	    web != NULL ? web : "(none)");
	return wf_flags_not_implemented(&f, "serve (HTTP API, scheduler,"
	    " dashboard)");
}

static int
cmd_migrate(int argc, char **argv)
{
	const char *arg, *db = NULL;
	struct wf_flags f;
	int n;

	wf_flags_begin(&f, &migrate_cmd, argc, argv);
	while (wf_flags_next(&f, &arg) != -1)
		db = arg;
	wf_flags_args(&f, 0, 0, &n);
	log_debug("migrate: db=%s", db);
	return wf_flags_not_implemented(&f, "migrate (schema from db/)");
}

static int
cmd_token(int argc, char **argv)
{
	const char *arg;
	struct wf_flags f;

	wf_flags_begin(&f, &token_cmd, argc, argv);
	while (wf_flags_next(&f, &arg) != -1)
		;
	return wf_flags_dispatch(&f);
}

static int
cmd_token_create(int argc, char **argv)
{
	static const char *const roles[] = {
		"admin", "submitter", "agent", "reader", NULL,
	};
	const char *arg, *db = NULL, *role = NULL, *name = NULL;
	struct wf_flags f;
	int id, n;

	wf_flags_begin(&f, &token_create_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		switch (id) {
		case OPT_DB:
			db = arg;
			break;
		case OPT_ROLE:
			role = roles[wf_flags_choice(&f, "--role", arg, roles)];
			break;
		case OPT_NAME:
			if (arg[0] == '\0' || strlen(arg) > TOKEN_NAME_MAX)
				wf_flags_usage_error(&f, "--name must be 1 to"
				    " %d characters", TOKEN_NAME_MAX);
			name = arg;
			break;
		}
	}
	wf_flags_args(&f, 0, 0, &n);
	log_debug("token create: db=%s role=%s name=%s", db, role, name);
	return wf_flags_not_implemented(&f, "token create");
}

int
main(int argc, char **argv)
{
	enum wf_log_level level;
	struct wf_flags f;
	const char *arg;

	wf_log_init("controller");
	wf_flags_begin(&f, &controller_cmd, argc, argv);
	while (wf_flags_next(&f, &arg) != -1)
		log_level_arg = arg;
	if (log_level_arg != NULL) {
		if (wf_log_parse_level(log_level_arg, &level) == -1)
			wf_flags_usage_error(&f, "invalid value '%s' for"
			    " --log-level: expected debug, info or warn",
			    log_level_arg);
		wf_log_set_level(level);
	}
	return wf_flags_dispatch(&f);
}
