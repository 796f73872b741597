/*
 * bisect_local.h: `wakefarm bisect start --local`: a flake-aware bisection
 * of a scenario over the revisions of a git repository (built here by a
 * command you give, lib/bisect_build.h), every guest run here (bare QEMU or
 * libvirt, repro.h), with no controller. Without --local the controller
 * does it through its agents (controller/bisect_worker.c) and cmd_bisect.c
 * only submits and follows. The decisions are lib/bisect.c's either way.
 */
#ifndef WF_CLI_BISECT_LOCAL_H
#define WF_CLI_BISECT_LOCAL_H

#include <jansson.h>

#include "bisect.h"
#include "repro.h"

struct bisect_opts {
	const char *scenario;
	const char *repo, *good, *bad;
	const char *artifact; /* the image, in the checkout */
	const char *kind; /* "test-kernel" | "linux" */
	char **build_argv; /* NULL-terminated */
	int build_timeout_s;
	struct bisect_cfg cfg;
	int jobs; /* --local: runs at once */
	unsigned long long seed; /* --local: seed= for each run */
	int have_seed;
	const char *cache; /* --local: builds kept here */
	int json;
	struct repro_opts ro; /* runner; ro.set = --set */
};

/* Exit status: 0 a first bad revision (or range) found, 1 the bisect
 * failed (the message says why), 2 bad input. */
int bisect_local_main(struct bisect_opts *o);

#endif
