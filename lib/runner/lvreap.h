/*
 * lvreap.h: libvirt domains whose runner is gone.
 *
 * Every runner names the transient domain it asks for after its owner:
 * wakefarm-AGENT-JOB-ATTEMPT (an agent's job), wakefarm-repro-PID (`wakefarm
 * repro` and `bisect --local`), wakefarm-run-qemu-PID (`guest/run-qemu
 * --libvirt`). A runner that died (kill -9, a host reboot, a libvirtd that
 * restarted under a create) leaves its domain behind, paused or running,
 * holding a QEMU process and its memory: every runner reaps such leftovers
 * when it starts.
 *
 *   - wakefarm-repro-PID and wakefarm-run-qemu-PID: when the URI is local
 *     (no host in it: the PID is one of this host's) and no wakefarm runner
 *     with that PID is alive (the PID is free, belongs to another program,
 *     or is this very process, which has not started a domain yet);
 *   - wakefarm-AGENT-J-A: by the agent AGENT only (at its start it runs
 *     nothing yet), whatever the URI. The two forms cannot be taken for
 *     each other (an agent's has two numbers after its name).
 */
#ifndef WF_LVREAP_H
#define WF_LVREAP_H

#include <stddef.h>

/* One leftover found: its name, the job and attempt of an agent's (else -1),
 * and whether it was destroyed (else err says why). */
typedef void (*lvreap_cb)(void *arg, const char *name, long long job,
    long long attempt, int destroyed, const char *err);

/*
 * Destroys the leftovers of dead owners on uri (agent: the name of the
 * agent calling, or NULL), calling cb for each. The number found, or -1
 * with a cause when libvirt cannot be reached.
 */
int lvreap(
    const char *uri, const char *agent, lvreap_cb cb, void *arg, char **cause);

/*
 * Destroys the domain name on uri, whose runner is gone or gave up on it:
 * reconnecting (libvirtd may be restarting) for up to wait_s seconds. 1
 * destroyed, 0 there was none, -1 it could not be (err, when not NULL,
 * gets libvirt's reason).
 */
int lvreap_destroy(
    const char *uri, const char *name, int wait_s, char *err, size_t errsize);

/*
 * Whose leftover name is, as lvreap decides: 1 a dead owner's (*job and
 * *attempt an agent's, else -1), 0 a live owner's or no runner's. local:
 * the URI is this host's.
 */
int lvreap_owner_dead(const char *name, const char *agent, int local,
    long long *job, long long *attempt);

/* 1 when uri names this host's libvirtd (no host part), else 0. */
int lvreap_uri_local(const char *uri);

#endif
