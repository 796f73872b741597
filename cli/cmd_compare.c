/*
 * cmd_compare.c: `wakefarm compare RUN_A RUN_B [--json]`: RUN_B against
 * RUN_A case by case (GET /api/v1/runs/B/compare?with=A); with
 * `--kernels A,B RUN [RUN_B]`, kernel B against kernel A (kernel_compare.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "flags.h"
#include "kernel_compare.h"
#include "util.h"

enum {
	OPT_JSON = WF_FLAG_LONG,
	OPT_KERNELS,
};

static const struct wf_flag compare_flags[] = {
	{ "kernels", OPT_KERNELS, "A,B",
	    "compare two kernels instead of two runs: the cases that booted B"
	    " against the same cases on A, in RUN (a kernel axis) or from"
	    " RUN_A (A) to RUN_B (B); a kernel is a package, a path, or"
	    " test-kernel:6.11",
	    0 },
	{ "json", OPT_JSON, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd compare_cmd = {
	"wakefarm compare",
	"RUN_A RUN_B | --kernels A,B RUN [RUN_B]",
	"Compare RUN_B with RUN_A, case by"
	" case: regressions, fixed, still failing, new failing, flaky. Exits 1"
	" when RUN_B has a regression or a new failure (with --kernels: when B"
	" fails a case A passed).",
	compare_flags,
	NULL,
};
/* 1 when RUN_B has regressions or new failures against RUN_A. */
static int
compare_outcome(const json_t *j)
{
	return json_array_size(json_object_get(j, "regressions")) > 0 ||
	        json_array_size(json_object_get(j, "new_failing")) > 0 ?
	    CLI_UNEXPECTED :
	    CLI_OK;
}

int
cmd_compare(int argc, char **argv)
{
	static const char *const cats[] = { "regressions", "fixed",
		"still_failing", "new_failing", "flaky", NULL };
	long long a, b;
	struct wf_flags f;
	const char *arg, *kernels = NULL;
	char path[128], **args;
	json_t *j, *c;
	size_t i;
	int n, k, rc, opt, json = 0;

	wf_flags_begin(&f, &compare_cmd, argc, argv);
	while ((opt = wf_flags_next(&f, &arg)) != -1) {
		if (opt == OPT_KERNELS)
			kernels = arg;
		else
			json = 1;
	}
	args = wf_flags_args(&f, kernels != NULL ? 1 : 2, 2, &n);
	if (wf_parse_int(args[0], 1, 1LL << 62, &a) == -1 ||
	    (n == 2 && wf_parse_int(args[1], 1, 1LL << 62, &b) == -1)) {
		return cli_error(
		    CLI_USAGE, NULL, "RUN_A and RUN_B are run ids");
	}
	if (kernels != NULL)
		return kernel_compare(kernels, a, n == 2 ? b : a, json);
	snprintf(
	    path, sizeof(path), "/api/v1/runs/%lld/compare?with=%lld", b, a);
	if (json) {
		/* JSON, and the same exit status as without */
		if ((j = cli_call("GET", path, NULL)) == NULL)
			return cli_failed();
		cli_print_json(j);
		rc = compare_outcome(j);
		json_decref(j);
		return rc;
	}
	if ((j = cli_get_or_print(path, 0, &rc)) == NULL)
		return rc;
	printf("run %lld against run %lld: %zu regressions, %zu fixed, %zu"
	       " still failing, %zu new failing, %zu flaky\n",
	    b, a, json_array_size(json_object_get(j, "regressions")),
	    json_array_size(json_object_get(j, "fixed")),
	    json_array_size(json_object_get(j, "still_failing")),
	    json_array_size(json_object_get(j, "new_failing")),
	    json_array_size(json_object_get(j, "flaky")));
	for (k = 0; cats[k] != NULL; k++) {
		json_array_foreach (json_object_get(j, cats[k]), i, c)
			cli_print_case(cats[k], c);
	}
	rc = compare_outcome(j);
	json_decref(j);
	return rc;
}
