/*
 * run_req.h: the body of POST /api/v1/runs (controller/README.md), checked
 * and expanded into jobs against a list of scenarios, without touching the
 * database or the file system. api_runs.c loads the scenario directory and
 * stores what comes out; tests/fuzz/fuzz_run_body.c runs it on any bytes.
 */
#ifndef WF_CTL_RUN_REQ_H
#define WF_CTL_RUN_REQ_H

#include <stddef.h>

#include <jansson.h>

#include "scenario.h"

#define RUN_JOBS_MAX 20000
#define RUN_SCENARIOS_MAX 256

struct run_req {
	const char *kind; /* adhoc, nightly or bisect (static) */
	json_int_t priority;
	json_int_t repeat; /* jobs per case */
	size_t n; /* scenarios picked */
	struct scenario *sc[RUN_SCENARIOS_MAX]; /* copies, "set" applied */
	json_t *cases[RUN_SCENARIOS_MAX]; /* scenario_expand of each */
	size_t njobs; /* cases x repeat, at most RUN_JOBS_MAX */
	/* The body's "kernels" as resolved by the caller (NULL: none): an
	 * array of kernel values ("sha256:HEX" or a package), made the kernel
	 * of (an axis of) every scenario that boots Linux and of no other;
	 * kernel_info: value -> {"version", "initrd"} (either may be absent):
	 * a case's "kernel_version" for expectations, an initrd with it. */
	const json_t *kernels;
	const json_t *kernel_info;
};

/*
 * The body's own keys: known, typed, in range (kind, priority, repeat into
 * rr, which it initialises). 0, or -1 with a cause naming the key.
 */
int run_req_check(const json_t *body, struct run_req *rr, char **cause);

/*
 * After run_req_check: picks the scenarios the body names among all (nall
 * of them), applies its "set" and expands them into rr->cases. 0, or -1
 * with a cause (an unknown scenario, a bad override, too many jobs).
 * run_req_free releases what it made, whatever it returned.
 */
int run_req_expand(const json_t *body, struct scenario **all, size_t nall,
    struct run_req *rr, char **cause);
void run_req_free(struct run_req *rr);

#endif
