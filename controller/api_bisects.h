/*
 * api_bisects.h: the bisects API (controller/README.md "Bisects"). A new
 * bisect's body is checked by bisect_req.h; the worker that runs it is
 * bisect_worker.h.
 */
#ifndef WF_CTL_API_BISECTS_H
#define WF_CTL_API_BISECTS_H

#include "api.h"

void api_bisects_create(struct req *r, struct reply *out);
void api_bisects_list(struct req *r, struct reply *out);
void api_bisect_get(struct req *r, struct reply *out);
void api_bisect_cancel(struct req *r, struct reply *out);
void api_bisect_build_log(struct req *r, struct reply *out);
void api_blob_get(struct req *r, struct reply *out);

#endif
