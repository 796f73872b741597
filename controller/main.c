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

#include <curl/curl.h>

#include "api.h"
#include "api_events.h"
#include "notify.h"
#include "prune.h"
#include "auth.h"
#include "config.h"
#include "bisect_worker.h"
#include "db.h"
#include "fsutil.h"
#include "flags.h"
#include "log.h"
#include "queue.h"
#include "ratelimit.h"
#include "regress.h"
#include "schedule.h"
#include "util.h"

enum {
	OPT_LOG_LEVEL = WF_FLAG_LONG,
	OPT_LISTEN,
	OPT_DB,
	OPT_WEB,
	OPT_ROLE,
	OPT_NAME,
	OPT_OUT,
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
	OPT_CLOCK_SKEW_FILE,
	OPT_BISECT_ROOT,
	OPT_SCHED_TICK,
	OPT_CONFIG,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_LOG_FILE,
	OPT_SUBMIT_RATE,
	OPT_SUBMIT_BURST,
	OPT_PUBLIC_URL,
	OPT_SMTP_URL,
	OPT_SMTP_FROM,
	OPT_NOTIFY_RETRY_MS,
	OPT_RETAIN_DAYS,
	OPT_DAYS,
	OPT_DRY_RUN,
	OPT_JSON,
};

#define TOKEN_NAME_MAX 64

static const struct wf_flag global_flags[] = {
	{ "log-level", OPT_LOG_LEVEL, "LEVEL",
	    "debug, info or warn"
	    " (default: $WF_LOG_LEVEL or info)",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

/* Set by --log-level; applied after wf_log_init so the flag beats $WF_LOG_LEVEL. */
static const char *log_level_arg;
/* The level before any flag or file: $WF_LOG_LEVEL or info. */
static enum wf_log_level base_level;

static int cmd_serve(int, char **);
static int cmd_migrate(int, char **);
static int cmd_token(int, char **);
static int cmd_token_create(int, char **);
static int cmd_prune(int, char **);

static const struct wf_subcmd controller_subcmds[] = {
	{ "serve", "run the HTTP API, scheduler and dashboard", cmd_serve },
	{ "migrate", "create or upgrade the database schema", cmd_migrate },
	{ "token", "manage API tokens", cmd_token },
	{ "prune", "drop old logs, records and images; reclaim the space",
	    cmd_prune },
	{ NULL, NULL, NULL },
};

static const struct wf_cmd controller_cmd = {
	"wakefarm-controller",
	NULL,
	"The wakefarm controller: HTTP API, scheduler, verdicts and dashboard.",
	global_flags,
	controller_subcmds,
};

/*
 * Every serve flag but config is also a key of the --config file; listen
 * and db are required from one or the other.
 */
static const struct wf_flag serve_flags[] = {
	{ "config", OPT_CONFIG, "FILE",
	    "read settings from FILE (KEY = VALUE"
	    " lines, keys are these flags' names); flags given here win",
	    0 },
	{ "listen", OPT_LISTEN, "ADDR:PORT",
	    "address to serve on, e.g."
	    " 127.0.0.1:8080 or [::1]:8080 (port 0: any free port); required",
	    0 },
	{ "db", OPT_DB, "FILE", "SQLite database file; required", 0 },
	{ "tls-cert", OPT_TLS_CERT, "FILE",
	    "serve HTTPS only, with this PEM"
	    " certificate (and its chain)",
	    0 },
	{ "tls-key", OPT_TLS_KEY, "FILE",
	    "the certificate's PEM private key"
	    " (a file only its user may read); both read again on SIGHUP",
	    0 },
	{ "log-level", OPT_LOG_LEVEL, "LEVEL",
	    "debug, info or warn (default:"
	    " $WF_LOG_LEVEL or info)",
	    0 },
	{ "log-file", OPT_LOG_FILE, "FILE",
	    "log to FILE (appended; reopened on"
	    " SIGHUP) instead of stderr",
	    0 },
	{ "web", OPT_WEB, "DIR", "serve the dashboard's static files from DIR",
	    0 },
	{ "schema-dir", OPT_SCHEMA_DIR, "DIR",
	    "migrations (default: db/ next"
	    " to bin/)",
	    0 },
	{ "scenarios", OPT_SCENARIOS, "DIR",
	    "scenario files (default:"
	    " scenarios/ next to bin/)",
	    0 },
	{ "port-file", OPT_PORT_FILE, "FILE",
	    "write ADDR:PORT here once"
	    " listening",
	    0 },
	{ "max-body", OPT_MAX_BODY, "BYTES",
	    "request body limit (default"
	    " 1048576)",
	    0 },
	{ "log-cap", OPT_LOG_CAP, "BYTES",
	    "guest log kept per job and port"
	    " (default 4194304)",
	    0 },
	{ "lease-ms", OPT_LEASE_MS, "MS", "lease duration (default 60000)", 0 },
	{ "max-attempts", OPT_MAX_ATTEMPTS, "N",
	    "attempts before a job is"
	    " infra (default 3)",
	    0 },
	{ "threads", OPT_THREADS, "N", "HTTP thread pool size (default 8)", 0 },
	{ "read-token-required", OPT_READ_TOKEN, NULL,
	    "reads need a token"
	    " too",
	    0 },
	{ "clock-file", OPT_CLOCK_FILE, "FILE",
	    "the schedules' clock: read"
	    " FILE (epoch seconds or YYYY-MM-DDTHH:MM:SSZ) at every tick;"
	    " for tests",
	    0 },
	{ "clock-skew-file", OPT_CLOCK_SKEW_FILE, "FILE",
	    "seconds added to"
	    " the wall clock, read from FILE at every use: a clock jump, for"
	    " tests",
	    0 },
	{ "bisect-repo-root", OPT_BISECT_ROOT, "DIR",
	    "allow git bisects of"
	    " repositories below DIR (their build commands run on this host;"
	    " default: none)",
	    0 },
	{ "schedule-tick-ms", OPT_SCHED_TICK, "MS",
	    "how often schedules are"
	    " looked at (default 1000)",
	    0 },
	{ "submit-rate", OPT_SUBMIT_RATE, "N/min",
	    "submissions (runs, bisects)"
	    " per token, also N/s or N/h; off: no limit (default " RATELIMIT_DEFAULT
	    ")",
	    0 },
	{ "submit-burst", OPT_SUBMIT_BURST, "N",
	    "submissions a token may make"
	    " at once (default: the rate's N per minute)",
	    0 },
	{ "public-url", OPT_PUBLIC_URL, "URL",
	    "where people reach this"
	    " controller, for the links of exports and notifications (default:"
	    " http[s]://LISTEN, this host's name for a wildcard address)",
	    0 },
	{ "smtp-url", OPT_SMTP_URL, "URL",
	    "send subscriptions' mail through"
	    " this server: smtp://HOST:PORT, or smtps:// (default: no mail)",
	    0 },
	{ "smtp-from", OPT_SMTP_FROM, "ADDR",
	    "the sender of that mail (default:"
	    " wakefarm@HOSTNAME)",
	    0 },
	{ "notify-retry-ms", OPT_NOTIFY_RETRY_MS, "MS",
	    "first wait before a failed"
	    " delivery is tried again; it doubles, up to 10 min (default 2000)",
	    0 },
	{ "retain-days", OPT_RETAIN_DAYS, "N",
	    "prune logs, records and blobs"
	    " older than N days, once a day (as `prune --days N`; default 0:"
	    " keep everything)",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd serve_cmd = {
	"wakefarm-controller serve",
	NULL,
	"Serve the JSON API (/api/v1) and the dashboard on one port.",
	serve_flags,
	NULL,
};

static const struct wf_flag db_flags[] = {
	{ "db", OPT_DB, "FILE", "SQLite database file", 1 },
	{ "schema-dir", OPT_SCHEMA_DIR, "DIR",
	    "migrations (default: db/ next"
	    " to bin/)",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd migrate_cmd = {
	"wakefarm-controller migrate",
	NULL,
	"Create the database or bring its schema up to date.",
	db_flags,
	NULL,
};

static const struct wf_flag prune_flags[] = {
	{ "db", OPT_DB, "FILE", "SQLite database file", 1 },
	{ "days", OPT_DAYS, "N",
	    "what finished more than N days ago (0: all"
	    " that finished)",
	    1 },
	{ "dry-run", OPT_DRY_RUN, NULL, "count what would go, change nothing",
	    0 },
	{ "json", OPT_JSON, NULL, "print the report as JSON", 0 },
	{ "schema-dir", OPT_SCHEMA_DIR, "DIR",
	    "migrations (default: db/ next"
	    " to bin/)",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd prune_cmd = {
	"wakefarm-controller prune",
	NULL,
	"Drop the guest logs and records of jobs that finished more than N days"
	" ago (not those a nightly regression, a known issue or a bisect points"
	" at: verdicts stay), old bisect images nothing runs, old feed and"
	" notifications; then give the space back (incremental vacuum) and say"
	" what was freed. May run while the controller serves.",
	prune_flags,
	NULL,
};

static const struct wf_subcmd token_subcmds[] = {
	{ "create", "create a token and print it once", cmd_token_create },
	{ NULL, NULL, NULL },
};

static const struct wf_cmd token_cmd = {
	"wakefarm-controller token",
	NULL,
	"Manage API tokens.",
	NULL,
	token_subcmds,
};

static const struct wf_flag token_create_flags[] = {
	{ "db", OPT_DB, "FILE", "SQLite database file", 1 },
	{ "role", OPT_ROLE, "ROLE", "admin, submitter, agent or reader", 1 },
	{ "name", OPT_NAME, "NAME", "who the token is for (shown in logs)", 1 },
	{ "out", OPT_OUT, "FILE",
	    "write the token to FILE (mode 0600, only once created)"
	    " instead of stdout",
	    0 },
	{ "schema-dir", OPT_SCHEMA_DIR, "DIR",
	    "migrations (default: db/ next"
	    " to bin/)",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd token_create_cmd = {
	"wakefarm-controller token create",
	NULL,
	"Create an API token with a role; it is printed (or written to --out)"
	" once and stored hashed. The database's directory is created when"
	" missing.",
	token_create_flags,
	NULL,
};

/*
 * Check "HOST:PORT" or "[V6ADDR]:PORT". The socket layer resolves HOST;
 * this only rejects what could never work.
 */
static int
check_listen(const char *name, const char *arg, char **cause)
{
	const char *colon = strrchr(arg, ':');
	char what[64];
	size_t hostlen;
	long long port;

	if (colon == NULL) {
		wf_set_cause(cause,
		    "invalid value '%s' for %s: expected"
		    " ADDR:PORT",
		    arg, name);
		return -1;
	}
	hostlen = (size_t)(colon - arg);
	if (hostlen == 0 || hostlen > 255 ||
	    (arg[0] == '[' && (hostlen < 3 || arg[hostlen - 1] != ']'))) {
		wf_set_cause(cause, "invalid address in %s '%s'", name, arg);
		return -1;
	}
	snprintf(what, sizeof what, "the %s port", name);
	return wf_flag_int(what, colon + 1, 0, 65535, &port, cause);
}

/* DIR next to the binary's directory: bin/../NAME (static storage). */
static const char *
beside_bin(const char *name)
{
	static char paths[2][PATH_MAX];
	static int next;
	char *out = paths[next++ % 2];

	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", wf_tree_top(), name) >=
	    PATH_MAX)
		return name;
	return out;
}

/* Opens and migrates the database; exits 1 with the cause on failure. */
static struct db *
open_db(const char *path, const char *schema_dir)
{
	char *cause = NULL;
	struct db *db;

	/* A fresh checkout has no var/ yet: make the database's directory. */
	if (wf_mkdir_parent(path, 0755, &cause) == -1 ||
	    (db = db_open(path, &cause)) == NULL ||
	    db_migrate(db, schema_dir, &cause) == -1)
		fatalx("%s", wf_cause_str(cause));
	return db;
}

/* What serve runs with, and what a reload (SIGHUP) needs to know. */
struct serve_opts {
	struct ctl_config cfg;
	const char *config; /* --config FILE */
	const char *log_file;
	const char *log_level;
	int cli_log_level; /* fixed by a flag: a reload keeps it */
};

/* The settings of exports, notifications and retention (issue 15). */
static int
serve_set_ci(struct ctl_config *cfg, int id, const char *name, const char *v,
    char **cause)
{
	long long n = 0;
	int rc = 0;

	switch (id) {
	case OPT_PUBLIC_URL:
		if (strncmp(v, "http://", 7) != 0 &&
		    strncmp(v, "https://", 8) != 0) {
			wf_set_cause(cause,
			    "invalid value '%s' for %s: expected an http:// or"
			    " https:// URL",
			    v, name);
			return -1;
		}
		cfg->public_url = v;
		break;
	case OPT_SMTP_URL:
		if (strncmp(v, "smtp://", 7) != 0 &&
		    strncmp(v, "smtps://", 8) != 0) {
			wf_set_cause(cause,
			    "invalid value '%s' for %s: expected smtp://HOST[:PORT]"
			    " or smtps://",
			    v, name);
			return -1;
		}
		cfg->smtp_url = v;
		break;
	case OPT_SMTP_FROM:
		if (strchr(v, '@') == NULL || strpbrk(v, " <>\r\n") != NULL) {
			wf_set_cause(cause,
			    "invalid value '%s' for %s: expected an address", v,
			    name);
			return -1;
		}
		cfg->smtp_from = v;
		break;
	case OPT_NOTIFY_RETRY_MS:
		rc = wf_flag_int(name, v, 10, 3600000, &n, cause);
		cfg->notify_retry_ms = n;
		break;
	case OPT_RETAIN_DAYS:
		rc = wf_flag_int(name, v, 0, 36500, &n, cause);
		cfg->retain_days = (int)n;
		break;
	}
	return rc;
}

/*
 * One serve setting from the command line (name "--listen") or the config
 * file (name "listen"): 0, or -1 with a cause. Also checks a reloaded file.
 */
static int
serve_set(void *arg, int id, const char *name, const char *v, char **cause)
{
	struct serve_opts *o = arg;
	struct ctl_config *cfg = &o->cfg;
	enum wf_log_level level;
	long long n = 0;
	int rc = 0;

	switch (id) {
	case OPT_LISTEN:
		rc = check_listen(name, v, cause);
		cfg->listen = v;
		break;
	case OPT_DB:
		cfg->db_path = v;
		break;
	case OPT_WEB:
		cfg->web_dir = v;
		break;
	case OPT_SCHEMA_DIR:
		cfg->schema_dir = v;
		break;
	case OPT_SCENARIOS:
		cfg->scenario_dir = v;
		break;
	case OPT_PORT_FILE:
		cfg->port_file = v;
		break;
	case OPT_TLS_CERT:
		cfg->tls_cert = v;
		break;
	case OPT_TLS_KEY:
		cfg->tls_key = v;
		break;
	case OPT_LOG_FILE:
		o->log_file = v;
		break;
	case OPT_CLOCK_FILE:
		cfg->clock_file = v;
		break;
	case OPT_CLOCK_SKEW_FILE:
		db_set_clock_skew_file(v);
		break;
	case OPT_BISECT_ROOT:
		cfg->bisect_repo_root = v;
		break;
	case OPT_READ_TOKEN:
		cfg->read_token_required = 1;
		break;
	case OPT_LOG_LEVEL:
		if (wf_log_parse_level(v, &level) == -1) {
			wf_set_cause(cause,
			    "invalid value '%s' for %s: expected"
			    " debug, info or warn",
			    v, name);
			return -1;
		}
		o->log_level = v;
		break;
	case OPT_MAX_BODY:
		rc = wf_flag_int(name, v, 1024, 1LL << 30, &n, cause);
		cfg->max_body = (size_t)n;
		break;
	case OPT_LOG_CAP:
		rc = wf_flag_int(name, v, 1024, 1LL << 32, &n, cause);
		cfg->log_cap = (size_t)n;
		break;
	case OPT_LEASE_MS:
		rc = wf_flag_int(name, v, 100, 86400000, &n, cause);
		cfg->lease_ms = n;
		break;
	case OPT_MAX_ATTEMPTS:
		rc = wf_flag_int(name, v, 1, 100, &n, cause);
		cfg->max_attempts = (int)n;
		break;
	case OPT_THREADS:
		rc = wf_flag_int(name, v, 1, 256, &n, cause);
		cfg->threads = (int)n;
		break;
	case OPT_SCHED_TICK:
		rc = wf_flag_int(name, v, 10, 3600000, &n, cause);
		cfg->sched_tick_ms = (int)n;
		break;
	case OPT_SUBMIT_RATE:
		if (ratelimit_parse(v, &cfg->submit_per_min, cause) == -1) {
			wf_set_cause(cause,
			    "invalid value '%s' for %s: N/s,"
			    " N/min, N/h or off",
			    v, name);
			return -1;
		}
		cfg->submit_rate = v;
		break;
	case OPT_SUBMIT_BURST:
		rc = wf_flag_int(name, v, 1, 1000000, &n, cause);
		cfg->submit_burst = (double)n;
		break;
	default:
		rc = serve_set_ci(cfg, id, name, v, cause);
		break;
	}
	return rc;
}

static void
serve_flag_seen(void *arg, int id)
{
	struct serve_opts *o = arg;

	if (id == OPT_LOG_LEVEL)
		o->cli_log_level = 1;
}

static const struct wf_settings serve_settings = {
	&serve_cmd,
	OPT_CONFIG,
	serve_set,
	NULL,
	serve_flag_seen,
};

/*
 * Links without --public-url: the scheme, --listen's address (this host's
 * name for a wildcard one) and the port listened on (static storage).
 */
static const char *
default_public_url(const struct ctl_config *cfg, unsigned int port)
{
	static char url[600];
	const char *colon = strrchr(cfg->listen, ':');
	char host[256];
	int hlen = colon != NULL ? (int)(colon - cfg->listen) : 0;

	if ((hlen == 7 && strncmp(cfg->listen, "0.0.0.0", 7) == 0) ||
	    (hlen == 4 && strncmp(cfg->listen, "[::]", 4) == 0)) {
		if (gethostname(host, sizeof(host)) != 0)
			wf_strlcpy(host, "localhost", sizeof(host));
		host[sizeof(host) - 1] = '\0';
	} else {
		snprintf(host, sizeof(host), "%.*s", hlen, cfg->listen);
	}
	snprintf(url, sizeof(url), "%s://%s:%u",
	    cfg->tls_cert ? "https" : "http", host, port);
	return url;
}

/*
 * The settings: the --config file first, then the flags over it, then the
 * checks that need both. Exits 2 on a usage or config error.
 */
static void
serve_parse(struct serve_opts *o, struct wf_config *conf, int argc, char **argv)
{
	enum wf_log_level level;
	struct wf_flags f;

	o->config = wf_settings_parse(&serve_settings, &f, argc, argv, conf, o);
	if (o->cfg.listen == NULL || o->cfg.db_path == NULL)
		wf_flags_usage_error(&f,
		    "missing --%s (a flag or a line of the"
		    " --config file)",
		    o->cfg.listen == NULL ? "listen" : "db");
	if ((o->cfg.tls_cert == NULL) != (o->cfg.tls_key == NULL))
		wf_flags_usage_error(
		    &f, "--tls-cert and --tls-key go together");
	if (log_level_arg != NULL)
		o->cli_log_level = 1; /* the global flag, already applied */
	else if (o->log_level != NULL &&
	    wf_log_parse_level(o->log_level, &level) == 0)
		wf_log_set_level(level);
}

/*
 * SIGHUP: reopen the log file, read the config file again and apply what
 * can change while serving (log-level); other keys whose value differs from
 * the running one are named: they need a restart. A bad file changes
 * nothing.
 */
static void
serve_reload(struct serve_opts *o, const struct wf_config *running)
{
	struct serve_opts fresh = { .cfg = { 0 } };
	enum wf_log_level level = base_level;
	static const char *const live[] = { "log-level", NULL };
	struct wf_config conf = { 0 };
	char *cause = NULL;

	if (wf_log_reopen(&cause) == -1) {
		log_warnx("SIGHUP: %s; logging on to the old file",
		    wf_cause_str(cause));
		free(cause);
		cause = NULL;
	}
	if (o->config == NULL) {
		log_info("SIGHUP: log file reopened%s; no --config to read",
		    o->log_file != NULL ? "" : " (none)");
		return;
	}
	if (wf_settings_file(
	        &serve_settings, o->config, &conf, &fresh, &cause) == -1) {
		log_warnx("SIGHUP: %s; nothing changed", wf_cause_str(cause));
		goto out;
	}
	wf_settings_changed(
	    &serve_settings, running, &conf, live, "the controller");
	if (!o->cli_log_level) {
		if (fresh.log_level != NULL)
			wf_log_parse_level(fresh.log_level, &level);
		wf_log_set_level(level);
	}
	log_info("SIGHUP: reloaded %s; log level %s%s", o->config,
	    wf_log_level_name(wf_log_get_level()),
	    o->cli_log_level ? " (set by a flag)" : "");
out:
	free(cause);
	wf_config_free(&conf);
}

static int
cmd_serve(int argc, char **argv)
{
	struct serve_opts o = { .cfg = {
		                    .max_body = 1024 * 1024,
		                    .log_cap = 4 * 1024 * 1024,
		                    .lease_ms = 60000,
		                    .max_attempts = 3,
		                    .threads = 8,
		                    .sched_tick_ms = 1000,
		                    .submit_rate = RATELIMIT_DEFAULT,
		                    .notify_retry_ms = 2000,
		                } };
	struct api api = { .cfg = &o.cfg };
	struct wf_config conf = { 0 };
	struct pruner *pruner = NULL;
	MHD_socket listen_fd;
	char *cause = NULL;
	sigset_t sigs;
	int sig;

	o.cfg.schema_dir = beside_bin("db");
	o.cfg.scenario_dir = beside_bin("scenarios");
	serve_parse(&o, &conf, argc, argv);
	if (o.log_file != NULL && wf_log_open_file(o.log_file, &cause) == -1)
		fatalx("%s", wf_cause_str(cause));
	log_info("wakefarm-controller %s%s%s", WF_VERSION,
	    o.config != NULL ? ", config " : "",
	    o.config != NULL ? o.config : "");
	if (o.cfg.submit_per_min == 0 &&
	    ratelimit_parse(o.cfg.submit_rate, &o.cfg.submit_per_min, &cause) ==
	        -1)
		fatalx("--submit-rate: %s", wf_cause_str(cause));
	if (o.cfg.submit_burst == 0)
		o.cfg.submit_burst = o.cfg.submit_per_min >= 1 ?
		    (double)(int64_t)o.cfg.submit_per_min :
		    1;
	if ((api.submits = ratelimit_new(
	         o.cfg.submit_per_min, o.cfg.submit_burst)) == NULL)
		fatalx("out of memory");
	/* Signals go to sigwait below, not to the server's threads. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* libcurl (notifications) set up before any thread runs */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("cannot initialise libcurl");
	api.db = open_db(o.cfg.db_path, o.cfg.schema_dir);
	if (db_checkpointer_start(api.db, &cause) == -1)
		fatalx("%s", wf_cause_str(cause));
	{
		/* Bisect builds and their images live beside the database. */
		static char blobs[PATH_MAX], builds[PATH_MAX];
		char *slash = strrchr(o.cfg.db_path, '/');
		int dl = slash ? (int)(slash - o.cfg.db_path) : 1;
		const char *dir = slash ? o.cfg.db_path : ".";

		snprintf(blobs, sizeof(blobs), "%.*s/blobs", dl, dir);
		snprintf(builds, sizeof(builds), "%.*s/bisect-builds", dl, dir);
		o.cfg.blob_dir = blobs;
		o.cfg.build_dir = builds;
	}
	if (queue_start(&api) == NULL)
		fatalx("cannot start the queue dispatcher");
	if (api_start(&api, &cause) == -1)
		fatalx("%s", wf_cause_str(cause));
	if (o.cfg.public_url == NULL) {
		const union MHD_DaemonInfo *info = MHD_get_daemon_info(
		    api.mhd, MHD_DAEMON_INFO_BIND_PORT);

		__atomic_store_n(&o.cfg.public_url,
		    default_public_url(&o.cfg, info != NULL ? info->port : 0),
		    __ATOMIC_RELEASE);
	}
	if (sched_start(&api) == NULL)
		fatalx("cannot start the scheduler");
	if (bisect_worker_start(&api) == NULL)
		fatalx("cannot start the bisect worker");
	if (regress_worker_start(&api) == -1)
		fatalx("cannot start the known-issue classifier");
	if (events_start(&api) == NULL)
		fatalx("cannot start the event stream");
	if (notify_start(&api) == NULL)
		fatalx("cannot start the notifier");
	if (o.cfg.retain_days > 0 && (pruner = pruner_start(&api)) == NULL)
		fatalx("cannot start the pruner");
	for (;;) {
		sigwait(&sigs, &sig);
		if (sig != SIGHUP)
			break;
		serve_reload(&o, &conf);
		api_tls_reload(&api);
	}
	log_info("signal %d: stopping", sig);
	pruner_stop(pruner);
	notify_stop(api.notify);
	bisect_worker_stop(api.bisect_worker);
	regress_worker_stop(&api);
	sched_stop(api.sched);
	/* No new connections; waiting long-polls are answered, then stop. */
	listen_fd = MHD_quiesce_daemon(api.mhd);
	queue_stop(api.queue);
	events_stop(api.events);
	api_stop(&api);
	events_free(api.events);
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
	db_close(api.db);
	wf_config_free(&conf);
	ratelimit_free(api.submits);
	curl_global_cleanup();
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
	return wf_flags_run(&token_cmd, argc, argv);
}

static int
cmd_token_create(int argc, char **argv)
{
	static const char *const roles[] = {
		"admin",
		"submitter",
		"agent",
		"reader",
		NULL,
	};
	const char *arg, *path = NULL, *role = NULL, *name = NULL, *out = NULL;
	const char *schema_dir = beside_bin("db");
	char *cause = NULL;
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
				wf_flags_usage_error(&f,
				    "--name must be 1 to"
				    " %d characters",
				    TOKEN_NAME_MAX);
			name = arg;
			break;
		case OPT_OUT:
			if (arg[0] == '\0')
				wf_flags_usage_error(&f, "--out needs a file");
			out = arg;
			break;
		}
	}
	wf_flags_args(&f, 0, 0, &n);
	db = open_db(path, schema_dir);
	/* With --out: no file, no token (the row is rolled back). */
	if (db_begin(db) == -1)
		tid = -1;
	else if ((tid = auth_token_create(
	              db, name, auth_role_parse(role), token)) != -1 &&
	    out != NULL && wf_write_secret(out, token, &cause) == -1) {
		log_warn("%s: no token created", wf_cause_str(cause));
		free(cause);
		tid = -1;
	}
	if (tid == -1)
		db_rollback(db);
	else if (db_commit(db) == -1) {
		if (out != NULL)
			unlink(out);
		tid = -1;
	}
	db_close(db);
	if (tid == -1)
		return 1;
	/* The only time the token is shown: it is stored hashed. */
	if (out == NULL)
		printf("%s\n", token);
	log_info("token %lld created for %s (%s)%s%s", (long long)tid, name,
	    role, out != NULL ? ", written to " : "", out != NULL ? out : "");
	return 0;
}

/* DIR/blobs beside the database (static storage). */
static const char *
blob_dir_of(const char *db_path)
{
	static char blobs[PATH_MAX];
	const char *slash = strrchr(db_path, '/');

	if (slash != NULL)
		snprintf(blobs, sizeof(blobs), "%.*s/blobs",
		    (int)(slash - db_path), db_path);
	else
		snprintf(blobs, sizeof(blobs), "./blobs");
	return blobs;
}

static int
cmd_prune(int argc, char **argv)
{
	const char *arg, *path = NULL, *schema_dir = beside_bin("db");
	struct prune_opts o = { .vacuum_full = 1 };
	struct wf_flags f;
	char *cause = NULL;
	struct db *db;
	json_t *rep;
	int id, n, json = 0;

	wf_flags_begin(&f, &prune_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		if (id == OPT_DB)
			path = arg;
		else if (id == OPT_DAYS)
			o.days = (int)wf_flags_int(&f, "--days", arg, 0, 36500);
		else if (id == OPT_DRY_RUN)
			o.dry_run = 1;
		else if (id == OPT_JSON)
			json = 1;
		else if (id == OPT_SCHEMA_DIR)
			schema_dir = arg;
	}
	wf_flags_args(&f, 0, 0, &n);
	db = open_db(path, schema_dir);
	o.blob_dir = blob_dir_of(path);
	rep = prune_apply(db, &o, &cause);
	db_close(db);
	if (rep == NULL) {
		fprintf(stderr, "wakefarm-controller prune: %s\n",
		    wf_cause_str(cause));
		free(cause);
		return 1;
	}
	if (json) {
		char *t = json_dumps(rep, JSON_INDENT(2) | JSON_SORT_KEYS);

		printf("%s\n", t != NULL ? t : "{}");
		free(t);
	} else {
		printf(
		    "%s%lld jobs' logs and records pruned (%lld events, %lld"
		    " log chunks, %lld bytes); kept %lld regression, %lld known,"
		    " %lld bisect jobs; %lld images (%lld bytes), %lld feed rows,"
		    " %lld notifications; database %lld -> %lld bytes (%lld"
		    " freed)\n",
		    o.dry_run ? "dry run: " : "",
		    (long long)json_integer_value(
		        json_object_get(rep, "jobs_pruned")),
		    (long long)json_integer_value(
		        json_object_get(rep, "events")),
		    (long long)json_integer_value(
		        json_object_get(rep, "log_chunks")),
		    (long long)json_integer_value(
		        json_object_get(rep, "bytes")),
		    (long long)json_integer_value(json_object_get(
		        json_object_get(rep, "kept"), "regression")),
		    (long long)json_integer_value(
		        json_object_get(json_object_get(rep, "kept"), "known")),
		    (long long)json_integer_value(json_object_get(
		        json_object_get(rep, "kept"), "bisect")),
		    (long long)json_integer_value(
		        json_object_get(rep, "blobs")),
		    (long long)json_integer_value(
		        json_object_get(rep, "blob_bytes")),
		    (long long)json_integer_value(json_object_get(rep, "feed")),
		    (long long)json_integer_value(
		        json_object_get(rep, "outbox")),
		    (long long)json_integer_value(
		        json_object_get(rep, "db_bytes_before")),
		    (long long)json_integer_value(
		        json_object_get(rep, "db_bytes_after")),
		    (long long)json_integer_value(
		        json_object_get(rep, "freed_bytes")));
	}
	json_decref(rep);
	return 0;
}

int
main(int argc, char **argv)
{
	enum wf_log_level level;
	struct wf_flags f;
	const char *arg;

	wf_log_init("controller");
	base_level = wf_log_get_level();
	wf_flags_begin(&f, &controller_cmd, argc, argv);
	while (wf_flags_next(&f, &arg) != -1)
		log_level_arg = arg;
	if (log_level_arg != NULL) {
		if (wf_log_parse_level(log_level_arg, &level) == -1)
			wf_flags_usage_error(&f,
			    "invalid value '%s' for"
			    " --log-level: expected debug, info or warn",
			    log_level_arg);
		wf_log_set_level(level);
	}
	return wf_flags_dispatch(&f);
}
