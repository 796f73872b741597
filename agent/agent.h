/*
 * agent.h: the wakefarm agent, one per libvirt host.
 *
 * Threads: one per slot (lease a job by long-poll, run it as a transient
 * domain, stream its records and logs, finish it), one heartbeat (renews
 * this host's leases), one outbox sender (delivers what the slots spooled,
 * in order, exactly once, retrying with backoff while the controller is away).
 */
#ifndef WF_AGENT_H
#define WF_AGENT_H

#include <pthread.h>
#include <stdint.h>

#include <jansson.h>

struct agent_config {
	const char	*server;
	const char	*token;		/* the first one; agent_set_token may replace it */
	const char	*name;
	const char	*libvirt_uri;
	const char	*spool_dir;
	const char	*work_dir;
	const char	*accel;
	const char	*firmware;	/* default: build/guest/ next to bin/ */
	const char	*test_kernel;
	const char	*reporter;	/* build/guest/linux-init: /init of Linux guests */
	const char	*fetch_script;	/* lib/sh/fetch-kernel.sh: kernel packages */
	const char	*kernels_dir;	/* build/kernels: where they are unpacked */
	int		 slots;
	long long	 log_cap;	/* guest output sent per job and port */
};

#define AGENT_LOG_CAP	(8LL << 20)

/* 1 once SIGINT/SIGTERM came: what waits (for a spool with room) gives up. */
int agent_stopping(void);

/*
 * Runs until SIGINT/SIGTERM; returns the exit status. On SIGHUP the main
 * thread calls reload(arg) (main.c: log file, config file, token file).
 */
int agent_run(struct agent_config *cfg, void (*reload)(void *), void *arg);

/*
 * The token every request carries from now on (copied): 1 when it differs
 * from the one in use, 0 when it is the same, -1 when it cannot be sent.
 */
int agent_set_token(const char *token);
/* A client of the controller with the token in use; *gen notes which. */
struct wf_http *agent_http(const struct agent_config *cfg, unsigned *gen);
/* Before a request on a long-lived client: take a token changed since *gen. */
void agent_http_sync(struct wf_http *h, unsigned *gen);

/* --- outbox.c: durable, ordered delivery to the controller --- */

struct outbox;

struct outbox *outbox_open(const struct agent_config *cfg, char **cause);
void outbox_close(struct outbox *ob);
/*
 * Queues one request for job `job`: written to the spool directory (so it
 * survives a controller outage and an agent restart) before this returns,
 * then delivered by the sender thread in the order queued.  kind is
 * "events", "log0", "log1" or "finish"; body is stolen.
 *
 * When the spool cannot be written (its disk is full), the request goes to
 * the controller at once instead, provided nothing of this job waits in
 * the spool (the order per job holds).  0: spooled or delivered; -1:
 * neither, the caller keeps what the body said and tries again later.
 */
int outbox_put(struct outbox *ob, int64_t job, const char *kind, json_t *body);
/* Items still waiting for the controller. */
int outbox_pending(struct outbox *ob);
/* 1 from a failed spool write to the next one that works. */
int outbox_full(struct outbox *ob);
/* Tries a small write to the spool: 0 it has room again (the full state ends). */
int outbox_probe(struct outbox *ob);

/* --- job.c: one job through libvirt --- */

/* Jobs the controller cancelled (heartbeat replies); job.c stops them. */
void agent_cancel_add(int64_t job);
int agent_cancelled(int64_t job);

/* Runs a leased job ({"job", "attempt", "params", ...}) to its finish. */
void job_run(const struct agent_config *cfg, struct outbox *ob, const json_t *lease);
/* Destroys domains of this agent left by a previous run; reports their jobs as infra. */
void job_recover_leftovers(const struct agent_config *cfg, struct outbox *ob);

#endif
