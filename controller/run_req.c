/*
 * run_req.c: checking and expanding a POST /api/v1/runs body (see
 * run_req.h).
 */
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "json.h"
#include "run_req.h"
#include "util.h"

/* "kernels": 1 to 16 strings (resolved by the caller). */
static int
check_kernels(const json_t *v, char **cause)
{
	const json_t *k;
	size_t i;

	if (v == NULL)
		return 0;
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > 16) {
		wf_set_cause(cause,
		    "key 'kernels': expected 1 to 16 kernel names,"
		    " sha256: blobs or packages");
		return -1;
	}
	json_array_foreach (v, i, k) {
		if (!json_is_string(k) || json_string_length(k) == 0 ||
		    json_string_length(k) > 80) {
			wf_set_cause(cause,
			    "key 'kernels': element %zu is not a kernel name",
			    i);
			return -1;
		}
	}
	return 0;
}

int
run_req_check(const json_t *body, struct run_req *rr, char **cause)
{
	static const char *const keys[] = {
		"scenario",
		"scenarios",
		"matrix",
		"inline",
		"set",
		"priority",
		"kind",
		"repeat",
		"kernels",
		NULL,
	};
	static const char *const kinds[] = { "adhoc", "nightly", "bisect",
		NULL };
	const char *kind = NULL;
	int k;

	memset(rr, 0, sizeof(*rr));
	rr->repeat = 1;
	if (!json_is_object(body)) {
		wf_set_cause(cause, "expected an object, not %s",
		    wf_json_type_name(body));
		return -1;
	}
	if (wf_json_check_keys(body, keys, cause) == -1 ||
	    wf_json_get_int(
	        body, "priority", 0, -1000, 1000, &rr->priority, cause) == -1 ||
	    wf_json_get_int(body, "repeat", 0, 1, 100, &rr->repeat, cause) ==
	        -1 ||
	    wf_json_get_str(body, "kind", 0, 16, &kind, cause) == -1)
		return -1;
	if (check_kernels(json_object_get(body, "kernels"), cause) == -1)
		return -1;
	if (kind == NULL)
		kind = json_object_get(body, "matrix") != NULL ? "nightly" :
		                                                 "adhoc";
	for (k = 0; kinds[k] != NULL && strcmp(kinds[k], kind) != 0; k++)
		;
	if (kinds[k] == NULL) {
		wf_set_cause(cause,
		    "key 'kind': '%.16s' is not adhoc, nightly"
		    " or bisect",
		    kind);
		return -1;
	}
	rr->kind = kinds[k];
	return 0;
}

static int
pick_copy(struct run_req *rr, const struct scenario *sc, const char *label,
    char **cause)
{
	if (rr->n == RUN_SCENARIOS_MAX) {
		wf_set_cause(
		    cause, "more than %d scenarios", RUN_SCENARIOS_MAX);
		return -1;
	}
	if ((rr->sc[rr->n] = scenario_from_json(label, sc->body, cause)) ==
	    NULL)
		return -1;
	rr->n++;
	return 0;
}

static int
pick_named(struct run_req *rr, struct scenario **all, size_t nall,
    const json_t *name, const char *key, char **cause)
{
	const struct scenario *sc;

	if (!json_is_string(name)) {
		wf_set_cause(cause,
		    "key '%s': expected a scenario name (a"
		    " string), not %s",
		    key, wf_json_type_name(name));
		return -1;
	}
	if ((sc = scenario_find(all, nall, json_string_value(name))) == NULL) {
		wf_set_cause(cause, "key '%s': no scenario named '%.64s'", key,
		    json_string_value(name));
		return -1;
	}
	return pick_copy(rr, sc, sc->name, cause);
}

/* Fills rr->sc from the body's one of scenario|scenarios|matrix|inline. */
static int
pick(struct run_req *rr, const json_t *body, struct scenario **all, size_t nall,
    char **cause)
{
	const json_t *v, *name;
	const char *m = NULL;
	size_t i, given = 0;

	given += json_object_get(body, "scenario") != NULL;
	given += json_object_get(body, "scenarios") != NULL;
	given += json_object_get(body, "matrix") != NULL;
	given += json_object_get(body, "inline") != NULL;
	if (given != 1) {
		wf_set_cause(cause,
		    "give exactly one of 'scenario',"
		    " 'scenarios', 'matrix' or 'inline'");
		return -1;
	}
	if ((v = json_object_get(body, "scenario")) != NULL)
		return pick_named(rr, all, nall, v, "scenario", cause);
	if ((v = json_object_get(body, "scenarios")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) == 0) {
			wf_set_cause(cause,
			    "key 'scenarios': expected a"
			    " non-empty array of names");
			return -1;
		}
		json_array_foreach (v, i, name) {
			if (pick_named(
			        rr, all, nall, name, "scenarios", cause) == -1)
				return -1;
		}
		return 0;
	}
	if ((v = json_object_get(body, "inline")) != NULL) {
		if ((rr->sc[0] = scenario_from_json("inline", v, cause)) ==
		    NULL)
			return -1;
		rr->n = 1;
		return 0;
	}
	if (wf_json_get_str(body, "matrix", 1, 64, &m, cause) == -1)
		return -1;
	if (strcmp(m, "nightly") != 0) {
		wf_set_cause(cause,
		    "key 'matrix': the only matrix is"
		    " 'nightly'");
		return -1;
	}
	for (i = 0; i < nall; i++) {
		if (all[i]->nightly &&
		    pick_copy(rr, all[i], all[i]->name, cause) == -1)
			return -1;
	}
	if (rr->n == 0) {
		wf_set_cause(cause, "no scenario is marked nightly");
		return -1;
	}
	return 0;
}

/* A scenario whose cases boot Linux: a kernel field or axis. */
static int
boots_linux(const struct scenario *sc)
{
	const json_t *k = json_object_get(sc->values, "kernel");

	return json_object_get(sc->matrix, "kernel") != NULL ||
	    (json_is_string(k) && json_string_length(k) > 0);
}

/* rr->kernels as sc's kernel (one) or kernel axis (more), its initrd. */
static int
apply_kernels(const struct run_req *rr, struct scenario *sc, char **cause)
{
	json_t *set = json_object(), *k;
	const char *initrd = NULL;
	size_t i, n = json_array_size(rr->kernels);
	int rc;

	json_array_foreach (rr->kernels, i, k) {
		const char *ir = json_string_value(json_object_get(
		    json_object_get(rr->kernel_info, json_string_value(k)),
		    "initrd"));

		if (ir != NULL && n > 1) {
			wf_set_cause(cause,
			    "kernel %s has an initrd: give it as the only"
			    " kernel",
			    json_string_value(k));
			json_decref(set);
			return -1;
		}
		if (ir != NULL)
			initrd = ir;
	}
	json_object_set(set, "kernel",
	    n == 1 ? json_array_get(rr->kernels, 0) : (json_t *)rr->kernels);
	if (initrd != NULL)
		json_object_set_new(set, "initrd", json_string(initrd));
	rc = scenario_set(sc, set, cause);
	json_decref(set);
	return rc;
}

/* Each case of a kernel whose version is known: "kernel_version" in its
 * values and its expectation looked up again with it. */
static void
case_versions(
    const struct run_req *rr, const struct scenario *sc, json_t *cases)
{
	json_t *c, *values;
	const json_t *ver;
	size_t i;

	json_array_foreach (cases, i, c) {
		values = json_object_get(c, "values");
		ver = json_object_get(
		    json_object_get(rr->kernel_info,
		        json_string_value(json_object_get(values, "kernel"))),
		    "version");
		if (!json_is_string(ver))
			continue;
		json_object_set(values, "kernel_version", (json_t *)ver);
		json_object_set_new(
		    c, "expected", expect_for_case(sc->expect, values));
	}
}

int
run_req_expand(const json_t *body, struct scenario **all, size_t nall,
    struct run_req *rr, char **cause)
{
	const json_t *set;
	char *why = NULL;
	size_t i;
	int rc = -1;

	if (pick(rr, body, all, nall, cause) == -1)
		return -1;
	set = json_object_get(body, "set");
	/* Counted as they come: a small body must not expand without bound. */
	for (i = 0; i < rr->n; i++) {
		if ((set != NULL && scenario_set(rr->sc[i], set, &why) == -1) ||
		    (rr->kernels != NULL && boots_linux(rr->sc[i]) &&
		        apply_kernels(rr, rr->sc[i], &why) == -1) ||
		    (rr->cases[i] = scenario_expand(rr->sc[i], &why)) == NULL) {
			wf_set_cause(cause, "scenario %s: %s", rr->sc[i]->name,
			    wf_cause_str(why));
			goto out;
		}
		if (rr->kernel_info != NULL)
			case_versions(rr, rr->sc[i], rr->cases[i]);
		rr->njobs += json_array_size(rr->cases[i]) * (size_t)rr->repeat;
		if (rr->njobs > RUN_JOBS_MAX) {
			wf_set_cause(cause, "more than %d jobs in one run",
			    RUN_JOBS_MAX);
			goto out;
		}
	}
	rc = 0;
out:
	free(why);
	return rc;
}

void
run_req_free(struct run_req *rr)
{
	size_t i;

	for (i = 0; i < rr->n; i++) {
		scenario_free(rr->sc[i]);
		json_decref(rr->cases[i]);
		rr->sc[i] = NULL;
		rr->cases[i] = NULL;
	}
	rr->n = 0;
}
