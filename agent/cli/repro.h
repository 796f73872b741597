/*
 * repro.h: `wakefarm repro`: one job or scenario case here, through the
 * agent's runner, judged by the controller's own evaluation code
 * (lib/invariants.c, controller/expect.c).
 */
#ifndef WF_CLI_REPRO_H
#define WF_CLI_REPRO_H

#include <jansson.h>

struct repro_opts {
	const char	*server;	/* for a job ID */
	const char	*libvirt_uri;	/* NULL with bare_qemu */
	int		 bare_qemu;	/* guest/run-qemu's runner instead of libvirt */
	const char	*accel;
	const char	*work;		/* NULL: a temporary directory */
	int		 keep;
	int		 json;
	json_t		*set;		/* --set overrides, scenario_set form */
};

/* TARGET: a job ID, a scenario name, or a scenario file.  Exit status:
 * 0 when every case ended as expected, 1 when one did not, 2 usage/input. */
int repro_main(const struct repro_opts *o, const char *target);

#endif
