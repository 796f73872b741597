/*
 * agent/main.c: wakefarm-agent, one per libvirt host: the command line;
 * the agent itself is agent.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "config.h"
#include "flags.h"
#include "fsutil.h"
#include "http.h"
#include "log.h"
#include "preflight.h"
#include "util.h"

enum {
	OPT_SERVER = WF_FLAG_LONG,
	OPT_TOKEN,
	OPT_NAME,
	OPT_LIBVIRT,
	OPT_SLOTS,
	OPT_ACCEL,
	OPT_SPOOL,
	OPT_WORK,
	OPT_LOG_LEVEL,
	OPT_FIRMWARE,
	OPT_TKERNEL,
	OPT_CONFIG,
	OPT_TOKEN_FILE,
	OPT_CA_FILE,
	OPT_LOG_FILE,
	OPT_LOG_CAP,
	OPT_SERIAL_TEARDOWN,
	OPT_WATCHDOG_ONLY,
	OPT_NO_LEASE_AHEAD,
};

#define AGENT_SLOTS_MAX 64
#define AGENT_NAME_MAX 64

/* Every flag but config is also a key of the --config file. */
static const struct wf_flag agent_flags[] = {
	{ "config", OPT_CONFIG, "FILE",
	    "read settings from FILE (KEY = VALUE"
	    " lines, keys are these flags' names); flags given here win",
	    0 },
	{ "server", OPT_SERVER, "URL",
	    "controller URL, e.g."
	    " https://192.0.2.1:8443; required",
	    0 },
	{ "token", OPT_TOKEN, "TOKEN",
	    "agent token (default: $WAKEFARM_TOKEN,"
	    " which keeps it out of ps)",
	    0 },
	{ "token-file", OPT_TOKEN_FILE, "FILE",
	    "read the token from FILE"
	    " (mode 0600; read again on SIGHUP)",
	    0 },
	{ "ca-file", OPT_CA_FILE, "FILE",
	    "verify an https:// controller"
	    " against the CA certificates in FILE (default: the system's)",
	    0 },
	{ "name", OPT_NAME, "NAME",
	    "this host's name at the controller;"
	    " required",
	    0 },
	{ "libvirt", OPT_LIBVIRT, "URI",
	    "libvirt connection"
	    " (default: qemu:///system)",
	    0 },
	{ "slots", OPT_SLOTS, "N",
	    "guests to run at once, 1 to 64"
	    " (default: 1)",
	    0 },
	{ "accel", OPT_ACCEL, "tcg|kvm",
	    "QEMU accelerator (default tcg:"
	    " nested KVM is slower than TCG on our hosts)",
	    0 },
	{ "spool", OPT_SPOOL, "DIR",
	    "events and logs not yet delivered"
	    " (default: var/spool of this tree; a relative DIR is taken from"
	    " the working directory)",
	    0 },
	{ "work", OPT_WORK, "DIR",
	    "per-job work files (default: var/work of this tree; a relative"
	    " DIR is taken from the working directory)",
	    0 },
	{ "log-level", OPT_LOG_LEVEL, "LEVEL",
	    "debug, info or warn (default:"
	    " $WF_LOG_LEVEL or info)",
	    0 },
	{ "log-file", OPT_LOG_FILE, "FILE",
	    "log to FILE (appended; reopened on"
	    " SIGHUP) instead of stderr",
	    0 },
	{ "firmware", OPT_FIRMWARE, "PATH",
	    "firmware shim image"
	    " (default: build/guest/firmware.elf of this tree)",
	    0 },
	{ "test-kernel", OPT_TKERNEL, "PATH",
	    "test kernel image"
	    " (default: build/guest/kernel.elf of this tree)",
	    0 },
	{ "log-cap", OPT_LOG_CAP, "BYTES",
	    "guest output sent per job and"
	    " serial port; the rest is cut with a marker (default 8388608)",
	    0 },
	{ "serial-teardown", OPT_SERIAL_TEARDOWN, NULL,
	    "the old mode: a job's verdict waits for libvirt to see its"
	    " guest exit and for the domain to be gone",
	    0 },
	{ "watchdog-only", OPT_WATCHDOG_ONLY, NULL,
	    "the old mode: a hang is called by the watchdog only, never"
	    " early from the mailbox (docs/hang-detection.md)",
	    0 },
	{ "no-lease-ahead", OPT_NO_LEASE_AHEAD, NULL,
	    "the old mode: a slot leases its next job only once its guest"
	    " ended, never one ahead prepared while it runs",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd agent_cmd = {
	"wakefarm-agent",
	NULL,
	"Run wakefarm jobs on this libvirt host for a controller.",
	agent_flags,
	NULL,
};

/* What the agent runs with, and what a reload (SIGHUP) needs to know. */
struct agent_opts {
	struct agent_config cfg;
	const char *config; /* --config FILE */
	const char *token_file; /* where the token comes from, if a file */
	const char *ca_file;
	const char *log_file;
	const char *log_level;
	int cli_log_level; /* fixed by a flag: a reload keeps it */
	int cli_token; /* --token and --token-file given */
	struct wf_config conf; /* the file as read at start */
};

/* The level before any flag or file: $WF_LOG_LEVEL or info. */
static enum wf_log_level base_level;

/*
 * One setting from the command line (name "--slots") or the config file
 * (name "slots"): 0, or -1 with a cause. A token and a token file replace
 * each other: the later source wins.
 */
static int
agent_set(void *arg, int id, const char *name, const char *v, char **cause)
{
	static const char *const accels[] = { "tcg", "kvm", NULL };
	struct agent_opts *o = arg;
	struct agent_config *cfg = &o->cfg;
	enum wf_log_level level;
	long long n;
	int i;

	switch (id) {
	case OPT_SERVER:
		if (strncmp(v, "http://", 7) != 0 &&
		    strncmp(v, "https://", 8) != 0) {
			wf_set_cause(cause,
			    "%s must be an http:// or https:// URL, not '%s'",
			    name, v);
			return -1;
		}
		cfg->server = v;
		break;
	case OPT_TOKEN:
		cfg->token = v;
		o->token_file = NULL;
		break;
	case OPT_TOKEN_FILE:
		o->token_file = v;
		cfg->token = NULL;
		break;
	case OPT_CA_FILE:
		o->ca_file = v;
		break;
	case OPT_NAME:
		if (v[0] == '\0' || strlen(v) > AGENT_NAME_MAX) {
			wf_set_cause(cause, "%s must be 1 to %d characters",
			    name, AGENT_NAME_MAX);
			return -1;
		}
		cfg->name = v;
		break;
	case OPT_LIBVIRT:
		cfg->libvirt_uri = v;
		break;
	case OPT_SLOTS:
		if (wf_flag_int(name, v, 1, AGENT_SLOTS_MAX, &n, cause) < 0)
			return -1;
		cfg->slots = (int)n;
		break;
	case OPT_ACCEL:
		if ((i = wf_flag_choice(name, v, accels, cause)) < 0)
			return -1;
		cfg->accel = accels[i];
		break;
	case OPT_SPOOL:
		cfg->spool_dir = v;
		break;
	case OPT_WORK:
		cfg->work_dir = v;
		break;
	case OPT_FIRMWARE:
		cfg->firmware = v;
		break;
	case OPT_TKERNEL:
		cfg->test_kernel = v;
		break;
	case OPT_LOG_FILE:
		o->log_file = v;
		break;
	case OPT_LOG_CAP:
		if (wf_flag_int(name, v, 4096, 1LL << 40, &n, cause) < 0)
			return -1;
		cfg->log_cap = n;
		break;
	case OPT_SERIAL_TEARDOWN:
		/* a flag, or "true"/"false" in a config file */
		cfg->serial_teardown = v == NULL || strcmp(v, "false") != 0;
		break;
	case OPT_WATCHDOG_ONLY:
		cfg->watchdog_only = v == NULL || strcmp(v, "false") != 0;
		break;
	case OPT_NO_LEASE_AHEAD:
		cfg->no_lease_ahead = v == NULL || strcmp(v, "false") != 0;
		break;
	case OPT_LOG_LEVEL:
		if (wf_log_parse_level(v, &level) < 0) {
			wf_set_cause(cause,
			    "invalid value '%s' for %s: expected debug, info or warn",
			    v, name);
			return -1;
		}
		o->log_level = v;
		break;
	}
	return 0;
}

/*
 * The config file's own checks: a token in it needs a private file, and
 * token and token-file exclude each other. 0, or -1 with "FILE:LINE: ...".
 */
static int
check_config(const struct wf_config *conf, void *arg, char **cause)
{
	for (size_t i = 0; i < conf->n; i++) {
		const struct wf_config_item *it = &conf->items[i];

		if (it->flag->id == OPT_TOKEN && (conf->mode & 077)) {
			wf_set_cause(cause,
			    "%s:%d: a token in a file group or others may read"
			    " (mode %04o): chmod 600 %s, or use token-file",
			    conf->path, it->line,
			    (unsigned)(conf->mode & 07777), conf->path);
			return -1;
		}
		if (it->flag->id == OPT_TOKEN_FILE &&
		    wf_config_get(conf, "token")) {
			wf_set_cause(cause,
			    "%s:%d: token and token-file both given: keep one",
			    conf->path, it->line);
			return -1;
		}
	}
	return 0;
}

static void
flag_seen(void *arg, int id)
{
	struct agent_opts *o = arg;

	o->cli_log_level |= id == OPT_LOG_LEVEL;
	o->cli_token += id == OPT_TOKEN || id == OPT_TOKEN_FILE;
}

static const struct wf_settings agent_settings = {
	&agent_cmd,
	OPT_CONFIG,
	agent_set,
	check_config,
	flag_seen,
};

/*
 * The settings: the --config file first, then the flags over it, then the
 * token from its source. Exits 2 on a usage or config error.
 */
static void
parse_settings(struct agent_opts *o, int argc, char **argv)
{
	enum wf_log_level level;
	struct wf_flags f;
	char *cause = NULL;

	o->config = wf_settings_parse(
	    &agent_settings, &f, argc, argv, &o->conf, o);
	if (o->cli_token > 1)
		wf_flags_usage_error(
		    &f, "give one of --token and --token-file");
	if (!o->cfg.server || !o->cfg.name)
		wf_flags_usage_error(&f,
		    "missing --%s (a flag or a line of the --config file)",
		    !o->cfg.server ? "server" : "name");
	if (o->ca_file && access(o->ca_file, R_OK) < 0)
		wf_flags_usage_error(
		    &f, "CA file %s: %s", o->ca_file, strerror(errno));
	if (o->token_file) {
		char *t = wf_token_file_read(o->token_file, &cause);

		if (!t)
			wf_flags_usage_error(
			    &f, "--token-file %s", wf_cause_str(cause));
		o->cfg.token = t; /* kept for the life of the process */
	} else if (!o->cfg.token) {
		o->cfg.token = getenv("WAKEFARM_TOKEN");
	}
	if (!o->cfg.token || !o->cfg.token[0])
		wf_flags_usage_error(&f,
		    "no token: give --token-file, --token or set"
		    " WAKEFARM_TOKEN");
	if (!o->cli_log_level && o->log_level &&
	    wf_log_parse_level(o->log_level, &level) == 0)
		wf_log_set_level(level);
}

/* Where the token comes from after a reload: a file, or the value itself. */
struct token_source {
	const char *file;
	const char *value;
};

/*
 * SIGHUP (agent.c calls this from its main thread): reopen the log file,
 * read the config file again and apply what can change while running
 * (log-level, token, token-file), read the token file again; other keys
 * whose value differs from the running one are named, they need a restart.
 * A bad config file or token file changes nothing.
 */
static void
reload(void *arg)
{
	struct agent_opts *o = arg, fresh = { .cfg = { 0 } };
	struct token_source src = { o->token_file, o->cfg.token };
	enum wf_log_level level = base_level;
	struct wf_config conf = { 0 };
	char *cause = NULL, *token = NULL;
	static const char *const live[] = { "log-level", "token", "token-file",
		NULL };
	int conf_ok = 1;

	if (wf_log_reopen(&cause) < 0) {
		log_warnx("SIGHUP: %s; logging on to the old file",
		    wf_cause_str(cause));
		free(cause);
		cause = NULL;
	}
	if (o->config &&
	    wf_settings_file(
	        &agent_settings, o->config, &conf, &fresh, &cause) < 0) {
		log_warnx("SIGHUP: %s; the configuration stays as it was",
		    wf_cause_str(cause));
		free(cause);
		cause = NULL;
		conf_ok = 0;
	} else if (o->config) {
		wf_settings_changed(
		    &agent_settings, &o->conf, &conf, live, "the agent");
		if (!o->cli_log_level) {
			if (fresh.log_level)
				wf_log_parse_level(fresh.log_level, &level);
			wf_log_set_level(level);
		}
		if (!o->cli_token) {
			src.file = fresh.token_file;
			src.value = fresh.token_file ? NULL :
			    fresh.cfg.token          ? fresh.cfg.token :
			                               getenv("WAKEFARM_TOKEN");
		}
	}
	if (src.file && !(token = wf_token_file_read(src.file, &cause))) {
		log_warnx("SIGHUP: token file %s; the token in use stays",
		    wf_cause_str(cause));
		free(cause);
	} else if (src.file || src.value) {
		switch (agent_set_token(token ? token : src.value)) {
		case 1:
			log_info("SIGHUP: a new token from %s",
			    src.file ? src.file :
			        src.value == getenv("WAKEFARM_TOKEN") ?
			               "$WAKEFARM_TOKEN" :
			               o->config);
			break;
		case -1:
			log_warnx(
			    "SIGHUP: the new token holds characters a header cannot carry;"
			    " the token in use stays");
			break;
		}
	}
	if (token)
		explicit_bzero(token, strlen(token));
	free(token);
	wf_config_free(&conf);
	if (conf_ok)
		log_info("SIGHUP: reloaded%s%s; log level %s",
		    o->config ? " " : "", o->config ? o->config : "",
		    wf_log_level_name(wf_log_get_level()));
}

/* Say so when a token would cross a network in clear. */
static void
warn_plain_http(const char *server)
{
	const char *host = server + 7;

	if (strncmp(server, "http://", 7) != 0)
		return;
	if (strncmp(host, "127.", 4) == 0 ||
	    strncmp(host, "localhost", 9) == 0 ||
	    strncmp(host, "[::1]", 5) == 0)
		return;
	log_warnx(
	    "%s is plain HTTP: the token and the results cross the network in clear"
	    " (use https:// and --ca-file)",
	    server);
}

/* The guest images of the tree whose bin/ holds this program. */
static int
default_images(struct agent_config *cfg)
{
	static char fw[PATH_MAX], tk[PATH_MAX], rp[PATH_MAX], fs[PATH_MAX],
	    kd[PATH_MAX];
	const char *top = wf_tree_top();

	snprintf(fw, sizeof(fw), "%s/build/guest/firmware.elf", top);
	snprintf(tk, sizeof(tk), "%s/build/guest/kernel.elf", top);
	snprintf(rp, sizeof(rp), "%s/build/guest/linux-init", top);
	snprintf(fs, sizeof(fs), "%s/lib/sh/fetch-kernel.sh", top);
	snprintf(kd, sizeof(kd), "%s/build/kernels", top);
	if (!cfg->firmware)
		cfg->firmware = fw;
	if (!cfg->test_kernel)
		cfg->test_kernel = tk;
	cfg->reporter = rp;
	cfg->fetch_script = fs;
	cfg->kernels_dir = kd;
	return 0;
}

/*
 * Work and spool as absolute paths (libvirt takes no other): var/ of this
 * tree by default, a relative one from the working directory.
 */
static void
absolute_dirs(struct agent_config *cfg)
{
	static char work[PATH_MAX], spool[PATH_MAX];
	char *w, *s, *cause = NULL;

	snprintf(work, sizeof(work), "%s/var/work", wf_tree_top());
	snprintf(spool, sizeof(spool), "%s/var/spool", wf_tree_top());
	w = cfg->work_dir ? wf_abspath(cfg->work_dir, &cause) : strdup(work);
	s = cfg->spool_dir ? wf_abspath(cfg->spool_dir, &cause) : strdup(spool);
	if (w == NULL || s == NULL)
		fatalx("%s", wf_cause_str(cause));
	/* they live as long as the process */
	cfg->work_dir = w;
	cfg->spool_dir = s;
}

int
main(int argc, char **argv)
{
	static struct agent_opts o = {
		.cfg = {
			.libvirt_uri = "qemu:///system",
			.slots = 1,
			.log_cap = AGENT_LOG_CAP,
		},
	};
	char *cause = NULL;

	wf_log_init("agent");
	base_level = wf_log_get_level();
	parse_settings(&o, argc, argv);
	if (o.log_file && wf_log_open_file(o.log_file, &cause) < 0)
		fatalx("%s", wf_cause_str(cause));
	if (wf_http_default_ca_file(o.ca_file) < 0)
		fatalx("out of memory");
	if (o.cfg.accel == NULL)
		o.cfg.accel = "tcg";
	if (default_images(&o.cfg) < 0)
		return 1;
	absolute_dirs(&o.cfg);
	log_info("host %s: server %s%s%s, libvirt %s, %d slot(s), accel %s%s%s,"
	         " work %s, spool %s",
	    o.cfg.name, o.cfg.server, o.ca_file ? ", CA " : "",
	    o.ca_file ? o.ca_file : "", o.cfg.libvirt_uri, o.cfg.slots,
	    o.cfg.accel, o.config ? ", config " : "", o.config ? o.config : "",
	    o.cfg.work_dir, o.cfg.spool_dir);
	warn_plain_http(o.cfg.server);
	if (preflight(&o.cfg) != 0) {
		log_warnx("this host cannot run jobs yet: not starting (the"
		          " problems above say what to fix)");
		return 1;
	}
	return agent_run(&o.cfg, reload, &o);
}
