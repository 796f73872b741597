/*
 * state.h: what every part of the agent shares: its configuration, the
 * token its requests carry (SIGHUP may bring another), the jobs the
 * controller cancelled, and whether it is stopping. Thread safe.
 */
#ifndef WF_AGENT_STATE_H
#define WF_AGENT_STATE_H

#include <stdint.h>

#include <jansson.h>

struct wf_http;

struct agent_config {
	const char *server;
	const char *token; /* the first one; agent_set_token may replace it */
	const char *name;
	const char *libvirt_uri;
	const char *spool_dir;
	const char *work_dir;
	const char *accel;
	const char *firmware; /* default: build/guest/ next to bin/ */
	const char *test_kernel;
	const char
	    *reporter; /* build/guest/linux-init: /init of Linux guests */
	const char *fetch_script; /* lib/sh/fetch-kernel.sh: kernel packages */
	const char *kernels_dir; /* build/kernels: where they are unpacked */
	int slots;
	long long log_cap; /* guest output sent per job and port */
	int serial_teardown; /* the verdict waits for the domain's end */
	int watchdog_only; /* no hang called from the mailbox */
	int no_lease_ahead; /* a slot leases its next job only once free */
};

#define AGENT_LOG_CAP (8LL << 20)

/* 1 once SIGINT/SIGTERM came: what waits (for a spool with room) gives up. */
int agent_stopping(void);
/* From the signal handler (async-signal-safe). */
void agent_stop(void);

/*
 * The token every request carries from now on (copied): 1 when it differs
 * from the one in use, 0 when it is the same, -1 when it cannot be sent.
 */
int agent_set_token(const char *token);
/* Back to the token before the last change (the controller refused the new one). */
void agent_token_restore(void);
/* Which token is in use: it changes with every change of token. */
unsigned agent_token_generation(void);
/* A client of the controller with the token in use; *gen notes which. */
struct wf_http *agent_http(const struct agent_config *cfg, unsigned *gen);
/* Before a request on a long-lived client: take a token changed since *gen. */
void agent_http_sync(struct wf_http *h, unsigned *gen);

/*
 * Domains this agent found left behind (or left itself: libvirtd gone under
 * a run) and could not destroy: reported in every heartbeat ("leftovers",
 * shown by GET /api/v1/hosts) and tried again before it, until gone.
 */
void agent_leftover_add(const char *name);
/* Tries each again on uri (once, no wait); the ones left, as a new array. */
json_t *agent_leftovers_retry(const char *uri);

/* Jobs the controller cancelled (heartbeat replies); job.c stops them. */
void agent_cancel_add(int64_t job);
int agent_cancelled(int64_t job);

#endif
