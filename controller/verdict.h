/*
 * verdict.h: judging a finished job. The controller, never the agent,
 * decides: the stored events of the job's current attempt go through
 * invariants_evaluate (lib/invariants.h), the failing checks are compared with the
 * scenario's expectation, and checks and generations are stored.
 */
#ifndef WF_CTL_VERDICT_H
#define WF_CTL_VERDICT_H

#include <stdint.h>

#include <jansson.h>

#include "api.h"

/*
 * outcome: completed, guest-error, hang or infra (as the agent saw the
 * guest end). infra, or an evaluation that says infra, requeues the job
 * (queue_retry). Caller holds db->lock inside a transaction. Returns a new
 * {"job", "verdict", "as_expected", "expected", "failing_checks",
 * "reason", "requeued"} or NULL on a database error. A judged job is
 * classified against the known issues up to known_rev, matches being
 * what their log regexes found (regress_logs_match; NULL: nothing).
 */
json_t *verdict_finish(struct api *api, int64_t job, const char *outcome,
    const char *detail, const json_t *matches, int64_t known_rev);

#endif
