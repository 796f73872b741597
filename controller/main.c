/*
 * controller/main.c: wakefarm-controller, one per farm. Parses the command
 * line (serve, migrate, token create) and hands over to the subsystems:
 * db.c (schema), api*.c (HTTP), queue.c (leases), scenario.c,
 * schedule.c (nightly schedules).
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "bisector.h"
#include "db.h"
#include "flags.h"
#include "log.h"
#include "queue.h"
#include "ratelimit.h"
#include "schedule.h"
#include "util.h"

enum {
	OPT_LOG_LEVEL = WF_FLAG_LONG,
	OPT_LISTEN,
	OPT_DB,
	OPT_WEB,
	OPT_ROLE,
	OPT_NAME,
	OPT_SCHEMA_DIR,
	OPT_SCENARIOS,
	OPT_PORT_FILE,
	OPT_MAX_BODY,
	OPT_LOG_CAP,
	OPT_LEASE_MS,
	OPT_MAX_ATTEMPTS,
	OPT_THREADS,
	OPT_READ_TOKEN,
	OPT_CLOCK_FILE,
	OPT_SCHED_TICK,
	OPT_SUBMIT_RATE,
	OPT_SUBMIT_BURST,
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
	{ "schema-dir", OPT_SCHEMA_DIR, "DIR", "migrations (default: db/ next"
	    " to bin/)", 0 },
	{ "scenarios", OPT_SCENARIOS, "DIR", "scenario files (default:"
	    " scenarios/ next to bin/)", 0 },
	{ "port-file", OPT_PORT_FILE, "FILE", "write ADDR:PORT here once"
	    " listening", 0 },
	{ "max-body", OPT_MAX_BODY, "BYTES", "request body limit (default"
	    " 1048576)", 0 },
	{ "log-cap", OPT_LOG_CAP, "BYTES", "guest log kept per job and port"
	    " (default 4194304)", 0 },
	{ "lease-ms", OPT_LEASE_MS, "MS", "lease duration (default 60000)",
	    0 },
	{ "max-attempts", OPT_MAX_ATTEMPTS, "N", "attempts before a job is"
	    " infra (default 3)", 0 },
	{ "threads", OPT_THREADS, "N", "HTTP thread pool size (default 8)", 0 },
	{ "read-token-required", OPT_READ_TOKEN, NULL, "reads need a token"
	    " too", 0 },
	{ "clock-file", OPT_CLOCK_FILE, "FILE", "the schedules' clock: read"
	    " FILE (epoch seconds or YYYY-MM-DDTHH:MM:SSZ) at every tick;"
	    " for tests", 0 },
	{ "schedule-tick-ms", OPT_SCHED_TICK, "MS", "how often schedules are"
	    " looked at (default 1000)", 0 },
	{ "submit-rate", OPT_SUBMIT_RATE, "N/min", "submissions (runs, bisects)"
	    " per token, also N/s or N/h; off: no limit (default "
	    RATELIMIT_DEFAULT ")", 0 },
	{ "submit-burst", OPT_SUBMIT_BURST, "N", "submissions a token may make"
	    " at once (default: the rate's N per minute)", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd serve_cmd = {
	"wakefarm-controller serve", NULL,
	"Serve the JSON API (/api/v1) and the dashboard on one port.",
	serve_flags, NULL,
};

static const struct wf_flag db_flags[] = {
	{ "db", OPT_DB, "FILE", "SQLite database file", 1 },
	{ "schema-dir", OPT_SCHEMA_DIR, "DIR", "migrations (default: db/ next"
	    " to bin/)", 0 },
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
	{ "schema-dir", OPT_SCHEMA_DIR, "DIR", "migrations (default: db/ next"
	    " to bin/)", 0 },
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

/* DIR next to the binary's directory: bin/../NAME (static storage). */
static const char *
beside_bin(const char *name)
{
	static char paths[2][PATH_MAX];
	static int next;
	char *out = paths[next++ % 2];

	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", wf_tree_top(), name) >= PATH_MAX)
		return name;
	return out;
}

/* Opens and migrates the database; exits 1 with the cause on failure. */
static struct db *
open_db(const char *path, const char *schema_dir)
{
	char *cause = NULL;
	struct db *db;

	if ((db = db_open(path, &cause)) == NULL ||
	    db_migrate(db, schema_dir, &cause) == -1)
		fatalx("%s", wf_cause_str(cause));
	return db;
}

static int
cmd_serve(int argc, char **argv)
{
	struct ctl_config cfg = {
		.max_body = 1024 * 1024, .log_cap = 4 * 1024 * 1024,
		.lease_ms = 60000, .max_attempts = 3, .threads = 8,
		.sched_tick_ms = 1000, .submit_rate = RATELIMIT_DEFAULT,
	};
	struct api api = { .cfg = &cfg };
	MHD_socket listen_fd;
	char *cause = NULL;
	const char *arg;
	struct wf_flags f;
	sigset_t sigs;
	int id, n, sig;

	cfg.schema_dir = beside_bin("db");
	cfg.scenario_dir = beside_bin("scenarios");
	wf_flags_begin(&f, &serve_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		switch (id) {
		case OPT_LISTEN:
			check_listen(&f, arg);
			cfg.listen = arg;
			break;
		case OPT_DB:
			cfg.db_path = arg;
			break;
		case OPT_WEB:
			cfg.web_dir = arg;
			break;
		case OPT_SCHEMA_DIR:
			cfg.schema_dir = arg;
			break;
		case OPT_SCENARIOS:
			cfg.scenario_dir = arg;
			break;
		case OPT_PORT_FILE:
			cfg.port_file = arg;
			break;
		case OPT_MAX_BODY:
			cfg.max_body = (size_t)wf_flags_int(&f, "--max-body",
			    arg, 1024, 1LL << 30);
			break;
		case OPT_LOG_CAP:
			cfg.log_cap = (size_t)wf_flags_int(&f, "--log-cap", arg,
			    1024, 1LL << 32);
			break;
		case OPT_LEASE_MS:
			cfg.lease_ms = wf_flags_int(&f, "--lease-ms", arg, 100,
			    86400000);
			break;
		case OPT_MAX_ATTEMPTS:
			cfg.max_attempts = (int)wf_flags_int(&f,
			    "--max-attempts", arg, 1, 100);
			break;
		case OPT_THREADS:
			cfg.threads = (int)wf_flags_int(&f, "--threads", arg, 1,
			    256);
			break;
		case OPT_READ_TOKEN:
			cfg.read_token_required = 1;
			break;
		case OPT_CLOCK_FILE:
			cfg.clock_file = arg;
			break;
		case OPT_SCHED_TICK:
			cfg.sched_tick_ms = (int)wf_flags_int(&f,
			    "--schedule-tick-ms", arg, 10, 3600000);
			break;
		case OPT_SUBMIT_RATE:
			cfg.submit_rate = arg;
			break;
		case OPT_SUBMIT_BURST:
			cfg.submit_burst = (double)wf_flags_int(&f,
			    "--submit-burst", arg, 1, 1000000);
			break;
		}
	}
	wf_flags_args(&f, 0, 0, &n);
	if (ratelimit_parse(cfg.submit_rate, &cfg.submit_per_min, &cause) == -1)
		wf_flags_usage_error(&f, "--submit-rate: %s", wf_cause_str(cause));
	if (cfg.submit_burst == 0)
		cfg.submit_burst = cfg.submit_per_min >= 1 ?
		    (double)(int64_t)cfg.submit_per_min : 1;
	if ((api.submits = ratelimit_new(cfg.submit_per_min,
	    cfg.submit_burst)) == NULL)
		fatalx("out of memory");
	/* Signals go to sigwait below, not to the server's threads. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	api.db = open_db(cfg.db_path, cfg.schema_dir);
	{
		/* Bisect builds and their images live beside the database. */
		static char blobs[PATH_MAX], builds[PATH_MAX];
		char *slash = strrchr(cfg.db_path, '/');
		int dl = slash ? (int)(slash - cfg.db_path) : 1;
		const char *dir = slash ? cfg.db_path : ".";

		snprintf(blobs, sizeof(blobs), "%.*s/blobs", dl, dir);
		snprintf(builds, sizeof(builds), "%.*s/bisect-builds", dl, dir);
		cfg.blob_dir = blobs;
		cfg.build_dir = builds;
	}
	if (queue_start(&api) == NULL)
		fatalx("cannot start the queue dispatcher");
	if (api_start(&api, &cause) == -1)
		fatalx("%s", wf_cause_str(cause));
	if (sched_start(&api) == NULL)
		fatalx("cannot start the scheduler");
	if (bisector_start(&api) == NULL)
		fatalx("cannot start the bisect worker");
	sigwait(&sigs, &sig);
	log_info("signal %d: stopping", sig);
	bisector_stop(api.bisector);
	sched_stop(api.sched);
	/* No new connections; waiting long-polls are answered, then stop. */
	listen_fd = MHD_quiesce_daemon(api.mhd);
	queue_stop(api.queue);
	api_stop(&api);
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
	db_close(api.db);
	ratelimit_free(api.submits);
	return 0;
}

static int
cmd_migrate(int argc, char **argv)
{
	const char *arg, *path = NULL, *schema_dir = beside_bin("db");
	struct wf_flags f;
	struct db *db;
	int id, n;

	wf_flags_begin(&f, &migrate_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		if (id == OPT_DB)
			path = arg;
		else if (id == OPT_SCHEMA_DIR)
			schema_dir = arg;
	}
	wf_flags_args(&f, 0, 0, &n);
	db = open_db(path, schema_dir);
	printf("%s: schema version %d\n", path, db_user_version(db));
	db_close(db);
	return 0;
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
	const char *arg, *path = NULL, *role = NULL, *name = NULL;
	const char *schema_dir = beside_bin("db");
	char token[AUTH_TOKEN_LEN + 1];
	struct wf_flags f;
	struct db *db;
	int64_t tid;
	int id, n;

	wf_flags_begin(&f, &token_create_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		switch (id) {
		case OPT_DB:
			path = arg;
			break;
		case OPT_SCHEMA_DIR:
			schema_dir = arg;
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
	db = open_db(path, schema_dir);
	tid = auth_token_create(db, name, auth_role_parse(role), token);
	db_close(db);
	if (tid == -1)
		return 1;
	/* The only time the token is shown: it is stored hashed. */
	printf("%s\n", token);
	log_info("token %lld created for %s (%s)", (long long)tid, name, role);
	return 0;
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
