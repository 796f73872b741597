/*
 * preflight.h: what this host needs before the agent takes a job, checked
 * once at start, so that a host that cannot run guests is refused with the
 * reason and its fix instead of turning every job into infra.
 */
#ifndef WF_AGENT_PREFLIGHT_H
#define WF_AGENT_PREFLIGHT_H

#include "state.h"

/*
 * Checks, logging each problem with its fix (log_warnx): work and spool
 * directories absolute, made when missing and writable; libvirt at
 * cfg->libvirt_uri answering; on a local qemu:/// URI, the guest images
 * (firmware, test kernel, the Linux guests' /init) and the work directory
 * reachable and readable by the user QEMU runs as (libvirt-qemu, when that
 * user exists). 0 when all is well, else the number of problems.
 */
int preflight(const struct agent_config *cfg);

#endif
