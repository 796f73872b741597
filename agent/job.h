/*
 * job.h: one leased job through libvirt (lib/runner/libvirt_run.h): the
 * transient domain wakefarm-AGENT-JOB-ATTEMPT, its records and logs
 * streamed through the outbox, its finish.
 */
#ifndef WF_AGENT_JOB_H
#define WF_AGENT_JOB_H

#include <stdint.h>

#include <jansson.h>

#include "outbox.h"
#include "state.h"

/* Runs a leased job ({"job", "attempt", "params", ...}) to its finish:
 * job_prepare then job_start. */
void
job_run(const struct agent_config *cfg, struct outbox *ob, const json_t *lease);

/*
 * A leased job in two steps (lease ahead, agent/README.md). job_prepare
 * resolves its files (kernel package, blobs) and creates its domain
 * paused (lib/runner/libvirt_run.h: libvirt_prepare); NULL only when out
 * of memory. ahead: it is made while the slot's previous guest runs: the
 * marker WORK/<domain>.ahead says so until it is resumed, so that an agent
 * killed meanwhile gives the job back at its next start instead of
 * failing it (job_recover_leftovers). A job that cannot run (bad
 * parameters, a kernel that cannot be had) is finished infra by
 * job_start. job_start resumes it and runs it to its finish; t_free: when
 * its slot was free for it (wf_now_us(); 0 unknown), for the log's
 * "slot free -> guest running N ms" and the timings' "wait". job_discard
 * destroys the domain without running it and, with detail, finishes the
 * job infra with that detail (a cancel); without, the caller gives the
 * lease back. Both free the job.
 */
struct job;
struct job *job_prepare(const struct agent_config *cfg, struct outbox *ob,
    const json_t *lease, int ahead);
void job_start(struct job *j, int64_t t_free);
void job_discard(struct job *j, const char *detail);
void job_lease_of(const struct job *j, int64_t *id, int64_t *attempt);
/* Gives a lease back unstarted (POST /api/v1/agents/release): 0, or -1
 * (logged: the lease then expires and is requeued). */
int job_release(const struct agent_config *cfg, int64_t job, int64_t attempt);
/* Destroys domains of this agent left by a previous run; reports their jobs
 * as infra, but gives back those made ahead and never resumed (markers). */
void job_recover_leftovers(const struct agent_config *cfg, struct outbox *ob);

#endif
