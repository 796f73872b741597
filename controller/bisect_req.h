/*
 * bisect_req.h: the body of POST /api/v1/bisects (controller/README.md),
 * checked and normalised without touching anything: no file system, no
 * database, no scenario directory. api_bisects.c adds what needs the host
 * (the repository exists below --bisect-repo-root, the scenario expands to
 * one case); tests/fuzz/fuzz_bisect_body.c runs this on any bytes.
 */
#ifndef WF_CTL_BISECT_REQ_H
#define WF_CTL_BISECT_REQ_H

#include <jansson.h>

#include "bisect.h"

/*
 * The request as the worker reads it back (new): {"scenario", "set",
 * "kind", "repeat", "threshold", "max_runs", "confidence", "priority",
 * "mode": "git", "repo", "good", "bad", "build", "artifact",
 * "build_timeout_s" | "mode": "artifacts", "artifacts"} and "regression"
 * when given; *cfg its checked bisect settings. NULL with a cause naming
 * the key at fault.
 */
json_t *
bisect_req_parse(const json_t *body, struct bisect_cfg *cfg, char **cause);

#endif
