/*
 * fuzz_bisect_body.c: libFuzzer target for the body of POST
 * /api/v1/bisects (controller/bisect_req.c), parsed as the API parses it.
 * Every input ends in a normalised request or a cause. A request holds
 * what the worker reads back from the database (a mode and its fields,
 * settings in range) and, given again as a body, normalises to itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../controller/bisect_req.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *
str(const json_t *req, const char *key)
{
	const char *s = json_string_value(json_object_get(req, key));

	if (s == NULL || s[0] == '\0')
		abort();
	return s;
}

static void
check_request(const json_t *req, const struct bisect_cfg *cfg)
{
	const json_t *arts;
	const char *mode, *kind, *artifact;

	if (cfg->repeat < 1 || cfg->repeat > 100 || cfg->threshold < 1 ||
	    cfg->threshold > cfg->repeat || cfg->max_runs < cfg->repeat ||
	    cfg->max_runs > 1000 || !(cfg->target >= 0.5 && cfg->target < 1))
		abort();
	str(req, "scenario");
	if (!json_is_object(json_object_get(req, "set")))
		abort();
	mode = str(req, "mode");
	kind = str(req, "kind");
	if (strcmp(kind, "test-kernel") != 0 && strcmp(kind, "linux") != 0)
		abort();
	if (strcmp(mode, "git") == 0) {
		if (str(req, "repo")[0] != '/' ||
		    strcmp(kind, "test-kernel") != 0)
			abort();
		str(req, "good");
		str(req, "bad");
		artifact = str(req, "artifact");
		if (artifact[0] == '/' || strstr(artifact, "..") != NULL)
			abort();
		if (json_array_size(json_object_get(req, "build")) < 1 ||
		    json_integer_value(
		        json_object_get(req, "build_timeout_s")) < 1)
			abort();
	} else if (strcmp(mode, "artifacts") == 0) {
		arts = json_object_get(req, "artifacts");
		if (json_array_size(arts) < 2 || json_array_size(arts) > 1000)
			abort();
	} else {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bisect_cfg cfg, cfg2;
	char *cause = NULL;
	json_t *body, *req, *again, *req2;

	if ((body = wf_json_loadb((const char *)data, size, 1 << 20, &cause)) ==
	    NULL) {
		free(cause);
		return 0;
	}
	if ((req = bisect_req_parse(body, &cfg, &cause)) == NULL) {
		/* A rejected body always says why (a 400). */
		if (cause == NULL)
			abort();
		goto out;
	}
	check_request(req, &cfg);
	/* The stored request, less what only normalising adds, is a body. */
	again = json_deep_copy(req);
	json_object_del(again, "mode");
	if ((req2 = bisect_req_parse(again, &cfg2, &cause)) == NULL ||
	    !json_equal(req, req2) || cfg.repeat != cfg2.repeat ||
	    cfg.threshold != cfg2.threshold || cfg.max_runs != cfg2.max_runs ||
	    cfg.target != cfg2.target)
		abort();
	json_decref(req2);
	json_decref(again);
	json_decref(req);
out:
	free(cause);
	json_decref(body);
	return 0;
}
