/*
 * bisect_req.c: checking a POST /api/v1/bisects body (see bisect_req.h).
 */
#include <stdint.h>
#include <string.h>

#include "bisect_req.h"
#include "json.h"
#include "runspec.h"
#include "util.h"

/* wf_json_get_str, and a string given must not be empty. */
static int
get_word(const json_t *body, const char *key, int required, size_t maxlen,
    const char **out, char **cause)
{
	if (wf_json_get_str(body, key, required, maxlen, out, cause) == -1)
		return -1;
	if (*out != NULL && (*out)[0] == '\0') {
		wf_set_cause(cause, "key '%s': an empty string", key);
		return -1;
	}
	return 0;
}

/* An optional array of min..max strings of 1..maxlen bytes, borrowed. */
static int
get_strings(const json_t *body, const char *key, size_t min, size_t max,
    size_t maxlen, json_t **out, char **cause)
{
	json_t *a = json_object_get(body, key), *v;
	size_t i;

	*out = NULL;
	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) < min ||
	    json_array_size(a) > max) {
		wf_set_cause(cause,
		    "key '%s': expected an array of %zu to %zu"
		    " strings",
		    key, min, max);
		return -1;
	}
	json_array_foreach (a, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > maxlen ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			wf_set_cause(cause,
			    "key '%s': item %zu is not a string"
			    " of 1 to %zu bytes",
			    key, i, maxlen);
			return -1;
		}
	}
	*out = a;
	return 0;
}

/* The optional link to the nightly case bisected: {run, case}. */
static int
get_regression(
    const json_t *body, json_int_t *run, const char **rcase, char **cause)
{
	static const char *const keys[] = { "run", "case", NULL };
	const json_t *reg = json_object_get(body, "regression");

	if (reg == NULL)
		return 0;
	if (!json_is_object(reg)) {
		wf_set_cause(cause,
		    "key 'regression': expected an object {run,"
		    " case}");
		return -1;
	}
	if (wf_json_check_keys(reg, keys, cause) == -1 ||
	    wf_json_get_int(reg, "run", 1, 1, INT64_MAX, run, cause) == -1 ||
	    wf_json_get_str(reg, "case", 0, 512, rcase, cause) == -1)
		return -1;
	return 0;
}

/*
 * What is bisected: a git repository (with good, bad, build and artifact)
 * or a list of artifacts, never both; *kind defaults from it. 0, or -1
 * with a cause.
 */
static int
check_source(const char *repo, const char *good, const char *bad,
    const json_t *build, const char *artifact, const json_t *artifacts,
    const char **kindp, char **cause)
{
	const char *kind = *kindp;

	if ((repo != NULL) == (artifacts != NULL)) {
		wf_set_cause(cause,
		    "give either 'repo' (with good, bad, build"
		    " and artifact) or 'artifacts', not %s",
		    repo ? "both" : "neither");
		return -1;
	}
	if (repo != NULL) {
		if (!good || !bad || !build || !artifact) {
			wf_set_cause(cause,
			    "a git bisect needs 'good', 'bad',"
			    " 'build' (an argv list) and 'artifact' (the image's"
			    " path in the checkout)");
			return -1;
		}
		if (repo[0] != '/') {
			wf_set_cause(cause,
			    "key 'repo': '%.200s' is not an"
			    " absolute path to a directory on the controller's"
			    " host",
			    repo);
			return -1;
		}
		if (artifact[0] == '/' || strstr(artifact, "..") != NULL) {
			wf_set_cause(cause,
			    "key 'artifact': a path inside the"
			    " checkout, without '..'");
			return -1;
		}
	}
	if (kind == NULL)
		kind = repo != NULL ? "test-kernel" : "linux";
	if (strcmp(kind, "test-kernel") != 0 && strcmp(kind, "linux") != 0) {
		wf_set_cause(cause,
		    "key 'kind': '%s' is not test-kernel or"
		    " linux",
		    kind);
		return -1;
	}
	if (repo != NULL && strcmp(kind, "linux") == 0) {
		wf_set_cause(cause,
		    "key 'kind': a git bisect builds our test"
		    " kernel (linux builds are not supported yet)");
		return -1;
	}
	*kindp = kind;
	return 0;
}

json_t *
bisect_req_parse(const json_t *body, struct bisect_cfg *cfg, char **cause)
{
	static const char *const keys[] = {
		"scenario",
		"set",
		"repo",
		"good",
		"bad",
		"build",
		"artifact",
		"build_timeout_s",
		"artifacts",
		"kind",
		"repeat",
		"threshold",
		"max_runs",
		"confidence",
		"priority",
		"regression",
		NULL,
	};
	const char *scenario = NULL, *repo = NULL, *good = NULL, *bad = NULL,
	           *artifact = NULL, *kind = NULL, *reg_case = NULL;
	json_int_t timeout = 1800, repeat = 0, threshold = 0, max_runs = 0,
	           priority = 100, reg_run = 0;
	json_t *set, *build, *artifacts, *req;
	double target = 0;

	if (!json_is_object(body)) {
		wf_set_cause(cause, "expected an object, not %s",
		    wf_json_type_name(body));
		return NULL;
	}
	if (wf_json_check_keys(body, keys, cause) == -1 ||
	    get_word(body, "scenario", 1, 128, &scenario, cause) == -1 ||
	    get_word(body, "repo", 0, 1024, &repo, cause) == -1 ||
	    get_word(body, "good", 0, 200, &good, cause) == -1 ||
	    get_word(body, "bad", 0, 200, &bad, cause) == -1 ||
	    get_word(body, "artifact", 0, 512, &artifact, cause) == -1 ||
	    wf_json_get_str(body, "kind", 0, 16, &kind, cause) == -1 ||
	    wf_json_get_int(
	        body, "build_timeout_s", 0, 1, 86400, &timeout, cause) == -1 ||
	    wf_json_get_int(body, "repeat", 0, 1, 100, &repeat, cause) == -1 ||
	    wf_json_get_int(body, "threshold", 0, 1, 100, &threshold, cause) ==
	        -1 ||
	    wf_json_get_int(body, "max_runs", 0, 1, 1000, &max_runs, cause) ==
	        -1 ||
	    wf_json_get_real(
	        body, "confidence", 0, 0.5, 0.9999, &target, cause) == -1 ||
	    wf_json_get_int(
	        body, "priority", 0, -1000, 1000, &priority, cause) == -1 ||
	    get_strings(body, "build", 1, 64, 1024, &build, cause) == -1 ||
	    get_strings(body, "artifacts", 2, 1000, RUNSPEC_PATH_MAX - 1,
	        &artifacts, cause) == -1)
		return NULL;
	set = json_object_get(body, "set");
	if (set != NULL && !json_is_object(set)) {
		wf_set_cause(cause, "key 'set': expected an object");
		return NULL;
	}
	if (get_regression(body, &reg_run, &reg_case, cause) == -1)
		return NULL;
	*cfg = (struct bisect_cfg){ (int)repeat, (int)threshold, (int)max_runs,
		target };
	if (bisect_cfg_check(cfg, cause) == -1)
		return NULL;
	if (check_source(repo, good, bad, build, artifact, artifacts, &kind,
	        cause) == -1)
		return NULL;
	req = json_pack("{s:s, s:o, s:s, s:i, s:i, s:i, s:f, s:I}", "scenario",
	    scenario, "set", set != NULL ? json_incref(set) : json_object(),
	    "kind", kind, "repeat", cfg->repeat, "threshold", cfg->threshold,
	    "max_runs", cfg->max_runs, "confidence", cfg->target, "priority",
	    priority);
	if (req == NULL) {
		wf_set_cause(cause, "out of memory");
		return NULL;
	}
	if (repo != NULL)
		json_object_update_new(req,
		    json_pack("{s:s, s:s, s:s, s:s, s:O,"
		              " s:s, s:I}",
		        "mode", "git", "repo", repo, "good", good, "bad", bad,
		        "build", build, "artifact", artifact, "build_timeout_s",
		        timeout));
	else
		json_object_update_new(req,
		    json_pack("{s:s, s:O}", "mode", "artifacts", "artifacts",
		        artifacts));
	if (reg_run > 0)
		json_object_set_new(req, "regression",
		    json_pack("{s:I, s:s}", "run", reg_run, "case",
		        reg_case ? reg_case : ""));
	return req;
}
