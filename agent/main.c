/*
 * agent/main.c: wakefarm-agent, one per libvirt host: the command line;
 * the agent itself is agent.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "flags.h"
#include "log.h"
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
	OPT_LOG_CAP,
};

#define AGENT_SLOTS_MAX 64
#define AGENT_NAME_MAX 64

static const struct wf_flag agent_flags[] = {
	{ "server", OPT_SERVER, "URL", "controller URL, e.g."
	    " http://127.0.0.1:8080", 1 },
	{ "token", OPT_TOKEN, "TOKEN", "agent token (default: $WAKEFARM_TOKEN,"
	    " which keeps it out of ps)", 0 },
	{ "name", OPT_NAME, "NAME", "this host's name at the controller", 1 },
	{ "libvirt", OPT_LIBVIRT, "URI", "libvirt connection"
	    " (default: qemu:///system)", 0 },
	{ "slots", OPT_SLOTS, "N", "guests to run at once, 1 to 64"
	    " (default: 1)", 0 },
	{ "accel", OPT_ACCEL, "tcg|kvm", "QEMU accelerator (default tcg:"
	    " nested KVM is slower than TCG on our hosts)", 0 },
	{ "spool", OPT_SPOOL, "DIR", "events and logs not yet delivered"
	    " (default: var/spool)", 0 },
	{ "work", OPT_WORK, "DIR", "per-job work files (default: var/work)", 0 },
	{ "log-level", OPT_LOG_LEVEL, "LEVEL", "debug, info or warn", 0 },
	{ "firmware", OPT_FIRMWARE, "PATH", "firmware shim image"
	    " (default: build/guest/firmware.elf of this tree)", 0 },
	{ "test-kernel", OPT_TKERNEL, "PATH", "test kernel image"
	    " (default: build/guest/kernel.elf of this tree)", 0 },
	{ "log-cap", OPT_LOG_CAP, "BYTES", "guest output sent per job and"
	    " serial port; the rest is cut with a marker (default 8388608)", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd agent_cmd = {
	"wakefarm-agent", NULL,
	"Run wakefarm jobs on this libvirt host for a controller.",
	agent_flags, NULL,
};

static void
parse_flag(struct wf_flags *f, struct agent_config *cfg, int id,
    const char *arg)
{
	static const char *const accels[] = { "tcg", "kvm", NULL };
	enum wf_log_level level;

	switch (id) {
	case OPT_SERVER:
		if (strncmp(arg, "http://", 7) != 0 &&
		    strncmp(arg, "https://", 8) != 0)
			wf_flags_usage_error(f, "--server must be an http:// or"
			    " https:// URL, not '%s'", arg);
		cfg->server = arg;
		break;
	case OPT_TOKEN:
		cfg->token = arg;
		break;
	case OPT_NAME:
		if (arg[0] == '\0' || strlen(arg) > AGENT_NAME_MAX)
			wf_flags_usage_error(f, "--name must be 1 to %d"
			    " characters", AGENT_NAME_MAX);
		cfg->name = arg;
		break;
	case OPT_LIBVIRT:
		cfg->libvirt_uri = arg;
		break;
	case OPT_SLOTS:
		cfg->slots = (int)wf_flags_int(f, "--slots", arg, 1,
		    AGENT_SLOTS_MAX);
		break;
	case OPT_ACCEL:
		cfg->accel = accels[wf_flags_choice(f, "--accel", arg, accels)];
		break;
	case OPT_SPOOL:
		cfg->spool_dir = arg;
		break;
	case OPT_WORK:
		cfg->work_dir = arg;
		break;
	case OPT_FIRMWARE:
		cfg->firmware = arg;
		break;
	case OPT_TKERNEL:
		cfg->test_kernel = arg;
		break;
	case OPT_LOG_CAP:
		cfg->log_cap = wf_flags_int(f, "--log-cap", arg, 4096,
		    1LL << 40);
		break;
	case OPT_LOG_LEVEL:
		if (wf_log_parse_level(arg, &level) == -1)
			wf_flags_usage_error(f, "invalid value '%s' for"
			    " --log-level: expected debug, info or warn", arg);
		wf_log_set_level(level);
		break;
	}
}

/* The guest images of the tree whose bin/ holds this program. */
static int
default_images(struct agent_config *cfg)
{
	static char fw[PATH_MAX], tk[PATH_MAX], rp[PATH_MAX], fs[PATH_MAX], kd[PATH_MAX];
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
	/* Not fatal: every job would then end as infra (a host problem,
	 * retried elsewhere), which is what the controller must hear. */
	if (access(cfg->firmware, R_OK) || access(cfg->test_kernel, R_OK))
		log_warnx("guest images not readable (%s, %s): jobs here will be infra",
			  cfg->firmware, cfg->test_kernel);
	return 0;
}

int
main(int argc, char **argv)
{
	struct agent_config cfg = {
		.libvirt_uri = "qemu:///system",
		.spool_dir = "var/spool",
		.work_dir = "var/work",
		.slots = 1,
		.log_cap = AGENT_LOG_CAP,
	};
	struct wf_flags f;
	const char *arg;
	int id, n;

	wf_log_init("agent");
	cfg.token = getenv("WAKEFARM_TOKEN");
	wf_flags_begin(&f, &agent_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1)
		parse_flag(&f, &cfg, id, arg);
	wf_flags_args(&f, 0, 0, &n);
	if (cfg.token == NULL || cfg.token[0] == '\0')
		wf_flags_usage_error(&f, "no token: give --token or set"
		    " WAKEFARM_TOKEN");
	if (cfg.accel == NULL)
		cfg.accel = "tcg";
	log_info("host %s: server %s, libvirt %s, %d slot(s), accel %s",
	    cfg.name, cfg.server, cfg.libvirt_uri, cfg.slots, cfg.accel);
	if (default_images(&cfg) < 0)
		return 1;
	return agent_run(&cfg);
}
