/*
 * job.h: one leased job through libvirt (lib/runner/libvirt_run.h): the
 * transient domain wakefarm-AGENT-JOB-ATTEMPT, its records and logs
 * streamed through the outbox, its finish.
 */
#ifndef WF_AGENT_JOB_H
#define WF_AGENT_JOB_H

#include <jansson.h>

#include "outbox.h"
#include "state.h"

/* Runs a leased job ({"job", "attempt", "params", ...}) to its finish. */
void
job_run(const struct agent_config *cfg, struct outbox *ob, const json_t *lease);
/* Destroys domains of this agent left by a previous run; reports their jobs as infra. */
void job_recover_leftovers(const struct agent_config *cfg, struct outbox *ob);

#endif
