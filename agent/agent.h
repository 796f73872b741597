/*
 * agent.h: the wakefarm agent, one per libvirt host.
 *
 * Threads: per slot a runner (runs a job as a transient domain: job.h)
 * and a fetcher (leases jobs by long-poll and prepares their domains
 * paused, one per slot at most, for any free runner; one thread that
 * leases and runs with --no-lease-ahead), one heartbeat (renews this host's leases), one outbox
 * sender (outbox.h: delivers what the slots spooled, in order, exactly
 * once, retrying with backoff while the controller is away). What they
 * share: state.h.
 */
#ifndef WF_AGENT_H
#define WF_AGENT_H

#include "state.h"

/*
 * Runs until SIGINT/SIGTERM; returns the exit status. On SIGHUP the main
 * thread calls reload(arg) (main.c: log file, config file, token file).
 */
int agent_run(struct agent_config *cfg, void (*reload)(void *), void *arg);

#endif
