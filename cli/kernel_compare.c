/*
 * kernel_compare.c: `wakefarm compare --kernels A,B RUN [RUN_B]`: the cases
 * that kernel B ran against the same cases on kernel A.
 *
 * A case is its scenario and its run spec without the OS; two cases pair
 * up when those are equal and one booted A, the other B. Within one run
 * that is a kernel axis (the nightly's linux-kexec); across two runs, the
 * same matrix submitted with --kernel A and --kernel B. Expectations differ
 * between kernels, so the comparison is by verdict: B passes where A did
 * not (fixed), B does not where A did (regression), neither does (still
 * failing, or changed when the verdicts differ).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kernel_compare.h"
#include "util.h"

/* What a case booted: its kernel package or path, else "test-kernel:POLICY". */
static void
case_kernel(const json_t *params, char *out, size_t size)
{
	const char *k = cli_str(params, "kernel_package");

	if (strcmp(k, "-") == 0 || k[0] == '\0')
		k = cli_str(params, "kernel");
	if (strcmp(k, "-") != 0 && k[0] != '\0')
		snprintf(out, size, "%s", k);
	else
		snprintf(
		    out, size, "test-kernel:%s", cli_str(params, "policy"));
}

/* scenario + the run spec without what names or sizes the OS. */
static char *
case_key(const char *scenario, const json_t *params)
{
	static const char *const os[] = { "kernel", "kernel_package", "initrd",
		"test_kernel", "memory_mb", "timeout_s", NULL };
	json_t *p = json_deep_copy(params);
	char *spec, *key = NULL;

	for (int i = 0; os[i] != NULL; i++)
		json_object_del(p, os[i]);
	spec = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	if (spec != NULL && asprintf(&key, "%s %s", scenario, spec) < 0)
		key = NULL;
	free(spec);
	json_decref(p);
	return key;
}

/* Every case of run `run` that booted `kernel`, keyed by case_key. */
static json_t *
cases_of(long long run, const char *kernel)
{
	char path[64], k[512];
	json_t *m, *out = json_object(), *g, *c;
	size_t i, j;

	snprintf(path, sizeof(path), "/api/v1/runs/%lld/matrix", run);
	if ((m = cli_call("GET", path, NULL)) == NULL) {
		json_decref(out);
		return NULL;
	}
	json_array_foreach (json_object_get(m, "scenarios"), i, g) {
		json_array_foreach (json_object_get(g, "cases"), j, c) {
			const json_t *params = json_object_get(c, "params");
			char *key;

			case_kernel(params, k, sizeof(k));
			if (strcmp(k, kernel) != 0)
				continue;
			if ((key = case_key(cli_str(g, "scenario"), params)) !=
			    NULL)
				json_object_set(out, key, c);
			free(key);
		}
	}
	json_decref(m);
	return out;
}

static const char *
classify(const json_t *a, const json_t *b)
{
	int pa = strcmp(cli_str(a, "verdict"), "pass") == 0;
	int pb = strcmp(cli_str(b, "verdict"), "pass") == 0;

	if (strcmp(cli_str(a, "state"), "done") != 0 ||
	    strcmp(cli_str(b, "state"), "done") != 0)
		return "unfinished";
	if (pa && pb)
		return "same";
	if (pa)
		return "regressions";
	if (pb)
		return "fixed";
	return strcmp(cli_str(a, "verdict"), cli_str(b, "verdict")) == 0 ?
	    "still_failing" :
	    "changed";
}

/* {"kernels": [A, B], "runs": [..], CLASS: [{scenario, matrix, a, b}]} */
static json_t *
pair_up(const json_t *ca, const json_t *cb)
{
	static const char *const classes[] = { "regressions", "fixed",
		"still_failing", "changed", "same", "unfinished", NULL };
	json_t *out = json_object();
	const char *key;
	json_t *a, *b;

	for (int i = 0; classes[i] != NULL; i++)
		json_object_set_new(out, classes[i], json_array());
	json_object_foreach ((json_t *)ca, key, a) {
		if ((b = json_object_get(cb, key)) == NULL)
			continue;
		json_array_append_new(json_object_get(out, classify(a, b)),
		    json_pack("{s:O, s:O, s:{s:O, s:O}, s:{s:O, s:O}}",
		        "scenario", json_object_get(a, "scenario"), "matrix",
		        json_object_get(b, "matrix"), "a", "job",
		        json_object_get(a, "id"), "verdict",
		        json_object_get(a, "verdict"), "b", "job",
		        json_object_get(b, "id"), "verdict",
		        json_object_get(b, "verdict")));
	}
	return out;
}

static void
print_pairs(const json_t *r, const char *ka, const char *kb)
{
	static const char *const shown[] = { "regressions", "fixed",
		"still_failing", "changed", NULL };
	const json_t *c;
	size_t i;

	printf("%s against %s: %zu pairs of cases: %zu regressions, %zu fixed,"
	       " %zu still failing, %zu changed, %zu pass on both\n",
	    kb, ka,
	    json_array_size(json_object_get(r, "regressions")) +
	        json_array_size(json_object_get(r, "fixed")) +
	        json_array_size(json_object_get(r, "still_failing")) +
	        json_array_size(json_object_get(r, "changed")) +
	        json_array_size(json_object_get(r, "same")) +
	        json_array_size(json_object_get(r, "unfinished")),
	    json_array_size(json_object_get(r, "regressions")),
	    json_array_size(json_object_get(r, "fixed")),
	    json_array_size(json_object_get(r, "still_failing")),
	    json_array_size(json_object_get(r, "changed")),
	    json_array_size(json_object_get(r, "same")));
	for (int k = 0; shown[k] != NULL; k++) {
		json_array_foreach (json_object_get(r, shown[k]), i, c) {
			char *m = json_dumps(json_object_get(c, "matrix"),
			    JSON_COMPACT | JSON_SORT_KEYS);
			const json_t *a = json_object_get(c, "a");
			const json_t *b = json_object_get(c, "b");

			printf(
			    "  %-13s %-24s %s: %s (job %lld) -> %s (job %lld)\n",
			    shown[k], cli_str(c, "scenario"), m ? m : "",
			    cli_str(a, "verdict"), cli_num(a, "job"),
			    cli_str(b, "verdict"), cli_num(b, "job"));
			free(m);
		}
	}
}

int
kernel_compare(const char *kernels, long long run_a, long long run_b, int json)
{
	char ka[512], *kb;
	json_t *ca, *cb, *r;
	int rc;

	snprintf(ka, sizeof(ka), "%s", kernels);
	if ((kb = strchr(ka, ',')) == NULL || kb == ka || kb[1] == '\0' ||
	    strchr(kb + 1, ',') != NULL) {
		return cli_error(CLI_USAGE, "compare",
		    "--kernels takes two kernels, A,B (a package, a path, or"
		    " test-kernel:6.11)");
	}
	*kb++ = '\0';
	ca = cases_of(run_a, ka);
	cb = ca != NULL ? cases_of(run_b, kb) : NULL;
	if (cb == NULL) {
		json_decref(ca);
		return cli_failed();
	}
	r = pair_up(ca, cb);
	json_object_set_new(r, "kernels", json_pack("[s, s]", ka, kb));
	json_object_set_new(r, "runs", json_pack("[I, I]", run_a, run_b));
	if (json)
		cli_print_json(r);
	else
		print_pairs(r, ka, kb);
	rc = json_array_size(json_object_get(r, "regressions")) > 0 ?
	    CLI_UNEXPECTED :
	    CLI_OK;
	json_decref(ca);
	json_decref(cb);
	json_decref(r);
	return rc;
}
