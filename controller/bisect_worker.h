/*
 * bisect_worker.h: bisects the controller drives through its agents.
 *
 * POST /api/v1/bisects (api_bisects.h) stores a bisect and its candidates
 * (git revisions, listed at once with `git log`, or an ordered list of
 * kernel artifacts). The worker thread then loops over the running
 * bisects: when a step's run has finished it adds the outcomes to the
 * candidate and judges it (lib/bisect.c); when no step is open it asks
 * lib/bisect.c what to test next, builds that revision if needed
 * (lib/bisect_build.h: the build command on this host, in a shared clone,
 * time-limited, its output kept as the candidate's build log, the image
 * stored as a blob the agents fetch by its SHA-256) and submits a run of
 * kind "bisect" with `repeat` jobs of the scenario's one case. Everything
 * is in the database, so a restarted controller carries on where it was.
 */
#ifndef WF_CTL_BISECT_WORKER_H
#define WF_CTL_BISECT_WORKER_H

#include "api.h"

struct bisect_worker;

struct bisect_worker *bisect_worker_start(struct api *api);
void bisect_worker_stop(struct bisect_worker *b); /* NULL is a no-op */
void bisect_worker_kick(struct api *api); /* look now, not at the next tick */

#endif
