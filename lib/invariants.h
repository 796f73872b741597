/*
 * invariants.h: the default checks of docs/madt-wakeup.md ("Invariants a
 * scenario can check"), evaluated over a run's report records.
 *
 * The checks describe what a correct kernel and firmware do for the run's
 * parameters; the kernel's own opinion (its `done` status) is not trusted.
 * A firmware quirk or an old-kernel policy makes some of them fail: that is
 * the point, and a scenario declares which failures it expects.
 *
 * Verdict classes: pass, fail (a check failed), hang (the watchdog fired),
 * crash (the guest ended without completing, or panicked with no kdump),
 * infra (the host could not run the guest).
 */
#ifndef WF_INVARIANTS_H
#define WF_INVARIANTS_H

#include <jansson.h>

#include "runspec.h"

/*
 * Evaluates every check over `records` (an array of contract records,
 * including the runner's host-exit record).  Returns a new object
 *   {"verdict": "pass|fail|hang|crash|infra", "reason": "...",
 *    "checks": [{"check", "gen", "ok", "expected", "observed"}...],
 *    "generations": [{"gen", "kind", "cpu", "cpus_online", "expected_online",
 *                     "madt_version", "madt_length", "mailbox", "reset_vector"}...]}
 * (caller decrefs).
 */
json_t *invariants_evaluate(const struct runspec *rs, const json_t *records);

#endif
