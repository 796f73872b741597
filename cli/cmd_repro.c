/*
 * cmd_repro.c: `wakefarm repro JOB_ID|SCENARIO|FILE.json [--set K=V]...
 * [--libvirt URI | --qemu] [--accel tcg|kvm] [--work DIR] [--keep]
 * [--json]`: one job or scenario here (repro.c).
 */
#include <string.h>

#include "cli.h"
#include "flags.h"
#include "repro.h"

enum {
	OPT_SET = WF_FLAG_LONG,
	OPT_LIBVIRT,
	OPT_QEMU,
	OPT_ACCEL,
	OPT_WORK,
	OPT_KEEP,
	OPT_JSON,
};

static const struct wf_flag repro_flags[] = {
	{ "set", OPT_SET, "KEY=VALUE",
	    "override a scenario field"
	    " (repeatable)",
	    0 },
	{ "libvirt", OPT_LIBVIRT, "URI",
	    "libvirt connection (default:"
	    " qemu:///system)",
	    0 },
	{ "qemu", OPT_QEMU, NULL,
	    "bare QEMU (guest/run-qemu's runner)"
	    " instead of libvirt",
	    0 },
	{ "accel", OPT_ACCEL, "tcg|kvm", "QEMU accelerator (default: tcg)", 0 },
	{ "work", OPT_WORK, "DIR",
	    "work directory (default: a new temporary"
	    " one)",
	    0 },
	{ "keep", OPT_KEEP, NULL, "keep the work directory afterwards", 0 },
	{ "json", OPT_JSON, NULL,
	    "print the verdicts as one JSON document: {\"cases\", \"exit\"}",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd repro_cmd = {
	"wakefarm repro",
	"JOB_ID|SCENARIO|FILE.json",
	"Run one job (fetched from the controller) or one scenario case here,"
	" with the agent's code and the controller's verdict logic.",
	repro_flags,
	NULL,
};

int
cmd_repro(int argc, char **argv)
{
	static const char *const accels[] = { "tcg", "kvm", NULL };
	struct repro_opts o = { .libvirt_uri = "qemu:///system",
		.accel = "tcg" };
	struct wf_flags f;
	const char *arg;
	char **args;
	int id, n, rc = CLI_USAGE;

	o.set = json_object();
	o.results = json_array();
	wf_flags_begin(&f, &repro_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		switch (id) {
		case OPT_SET:
			cli_check_set(&f, arg);
			if (cli_add_set(o.set, arg) == -1)
				goto out;
			break;
		case OPT_LIBVIRT:
			o.libvirt_uri = arg;
			break;
		case OPT_QEMU:
			o.bare_qemu = 1;
			break;
		case OPT_ACCEL:
			o.accel =
			    accels[wf_flags_choice(&f, "--accel", arg, accels)];
			break;
		case OPT_WORK:
			o.work = arg;
			break;
		case OPT_KEEP:
			o.keep = 1;
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		}
	}
	args = wf_flags_args(&f, 1, 1, &n);
	rc = repro_main(&o, args[0]);
out:
	json_decref(o.set);
	json_decref(o.results);
	return rc;
}
