/*
 * fuzz_run_body.c: libFuzzer target for the body of POST /api/v1/runs
 * (controller/run_req.c), parsed as the API parses it, against the
 * scenarios shipped in scenarios/ (found from the binary, build/fuzz/../..,
 * or $WF_SCENARIOS). Every input ends in jobs or a cause; the jobs are
 * what the controller would store: at most RUN_JOBS_MAX, each with a run
 * spec an agent accepts and an expectation.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../controller/run_req.h"
#include "json.h"
#include "runspec.h"
#include "runspec_json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scenario **all;
static size_t nall;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[PATH_MAX], *cause = NULL, *slash;
	ssize_t n;
	int up;

	if (getenv("WF_SCENARIOS") != NULL) {
		snprintf(dir, sizeof(dir), "%s", getenv("WF_SCENARIOS"));
	} else {
		if ((n = readlink("/proc/self/exe", dir, sizeof(dir) - 32)) <=
		    0)
			abort();
		dir[n] = '\0';
		for (up = 0; up < 3 && (slash = strrchr(dir, '/')) != NULL;
		     up++)
			*slash = '\0'; /* TOP/build/fuzz/fuzz_run_body -> TOP */
		strcat(dir, "/scenarios");
	}
	if (scenario_load_dir(dir, &all, &nall, &cause) == -1 || nall == 0) {
		fprintf(stderr, "fuzz_run_body: scenarios in %s: %s\n", dir,
		    cause != NULL ? cause : "none");
		exit(1);
	}
	return 0;
}

/* A case as the controller stores it and an agent reads it back. */
static void
check_case(const json_t *c)
{
	const json_t *exp = json_object_get(c, "expected");
	struct runspec rs;
	char *cause = NULL;

	if (!json_is_object(json_object_get(c, "matrix")) ||
	    !json_is_string(json_object_get(exp, "verdict")) ||
	    !json_is_array(json_object_get(exp, "failing_checks")))
		abort();
	if (runspec_from_json(json_object_get(c, "params"), &rs, &cause) == -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run_req rr;
	char *cause = NULL;
	json_t *body, *c;
	size_t i, k, cases = 0;

	if ((body = wf_json_loadb((const char *)data, size, 1 << 20, &cause)) ==
	    NULL) {
		free(cause);
		return 0;
	}
	if (run_req_check(body, &rr, &cause) == -1 ||
	    run_req_expand(body, all, nall, &rr, &cause) == -1) {
		/* A rejected body always says why (a 400, never a 500). */
		if (cause == NULL)
			abort();
		goto out;
	}
	if (rr.n == 0 || rr.n > RUN_SCENARIOS_MAX || rr.repeat < 1 ||
	    rr.repeat > 100 || rr.priority < -1000 || rr.priority > 1000)
		abort();
	if (strcmp(rr.kind, "adhoc") != 0 && strcmp(rr.kind, "nightly") != 0 &&
	    strcmp(rr.kind, "bisect") != 0)
		abort();
	for (i = 0; i < rr.n; i++) {
		if (!json_is_array(rr.cases[i]))
			abort();
		json_array_foreach (rr.cases[i], k, c)
			check_case(c);
		cases += json_array_size(rr.cases[i]);
	}
	if (rr.njobs != cases * (size_t)rr.repeat || rr.njobs > RUN_JOBS_MAX)
		abort();
out:
	run_req_free(&rr);
	free(cause);
	json_decref(body);
	return 0;
}
