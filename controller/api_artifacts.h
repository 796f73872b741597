/*
 * api_artifacts.h: GET /api/v1/artifacts, the kernel artifacts jobs named
 * (table artifacts, db/003_artifacts.sql).
 */
#ifndef WF_CTL_API_ARTIFACTS_H
#define WF_CTL_API_ARTIFACTS_H

#include "api.h"

void api_artifacts_list(struct req *r, struct reply *out);

#endif
