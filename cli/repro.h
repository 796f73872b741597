/*
 * repro.h: `wakefarm repro`: one job or scenario case here, through the
 * guest runner the agent uses (lib/runner/), judged by the contract the
 * controller judges by (lib/invariants.h, lib/expect.h). A job ID is
 * fetched from the controller (cli.h's client).
 */
#ifndef WF_CLI_REPRO_H
#define WF_CLI_REPRO_H

#include <jansson.h>

struct repro_opts {
	const char *libvirt_uri; /* NULL with bare_qemu */
	int bare_qemu; /* guest/run-qemu's runner instead of libvirt */
	const char *accel;
	const char *work; /* NULL: a temporary directory */
	int keep;
	int json;
	json_t *set; /* --set overrides, scenario_set form */
	const char *test_kernel; /* NULL: build/guest/kernel.elf */
	int quiet; /* print nothing (bisect) */
	json_t *results; /* with json: each case's result (repro_run_case) */
};

/* TARGET: a job ID, a scenario name, or a scenario file.  Exit status
 * (cli.h): 0 when every case ended as expected, 1 when one did not, 2 when
 * only infra (a runner that failed, verdict infra) kept one from it; 64+
 * for bad input, a missing job or scenario, an unreachable controller. */
int repro_main(const struct repro_opts *o, const char *target);

/*
 * Destroys the libvirt domains left by runners that are gone (lvreap.h:
 * a repro or run-qemu killed between create and its end), saying so on
 * stderr; nothing with bare_qemu. repro_main does it itself.
 */
void repro_reap(const struct repro_opts *o);

/* The tree's top for the functions below (repro_main does it itself). */
void repro_init(void);
/* Every case of a scenario (name or file) after o->set; NULL if invalid
 * (the cause printed). Each case: {"params", "expected", "matrix"}. */
json_t *repro_scenario_cases(const struct repro_opts *o, const char *target);
/* One case (c: {"params", "expected", "label"}) run and judged: 0 as
 * expected, 1 not, 2 infra (the run could not be made, or its verdict);
 * 65 bad params; verdict gets the verdict. */
int repro_run_case(const struct repro_opts *o, const json_t *c,
    const char *workdir, char *verdict, size_t vsz);

#endif
