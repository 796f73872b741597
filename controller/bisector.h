/*
 * bisector.h: bisects the controller drives through its agents.
 *
 * POST /api/v1/bisects stores a bisect and its candidates (git revisions,
 * listed at once with `git log`, or an ordered list of kernel artifacts).
 * A worker thread then loops over the running bisects: when a step's run
 * has finished it adds the outcomes to the candidate and judges it
 * (lib/bisect.c); when no step is open it asks lib/bisect.c what to test
 * next, builds that revision if needed (the build command on this host, in
 * a shared clone, time-limited, its output kept as the candidate's build
 * log, the image stored as a blob the agents fetch by its SHA-256) and
 * submits a run of kind "bisect" with `repeat` jobs of the scenario's one
 * case. Everything is in the database, so a restarted controller carries
 * on where it was.
 */
#ifndef WF_CTL_BISECTOR_H
#define WF_CTL_BISECTOR_H

#include "api.h"

struct bisector;

struct bisector *bisector_start(struct api *api);
void bisector_stop(struct bisector *b);	/* NULL is a no-op */
void bisector_kick(struct api *api);	/* look now, not at the next tick */

void api_bisects_create(struct req *r, struct reply *out);
void api_bisects_list(struct req *r, struct reply *out);
void api_bisect_get(struct req *r, struct reply *out);
void api_bisect_cancel(struct req *r, struct reply *out);
void api_bisect_build_log(struct req *r, struct reply *out);
void api_blob_get(struct req *r, struct reply *out);

#endif
