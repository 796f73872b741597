/*
 * api.h: the HTTP API server (libmicrohttpd) and what its handlers share.
 * Endpoints are documented in controller/README.md.
 *
 * Threads: libmicrohttpd's internal thread pool runs the handlers; every
 * database access holds db->lock. A lease long-poll never blocks a pool
 * thread: the connection is suspended and the queue's dispatcher thread
 * (queue.h) resumes it with a job or at its deadline.
 */
#ifndef WF_CTL_API_H
#define WF_CTL_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "auth.h"
#include "buf.h"
#include "db.h"
#include "tls.h"

struct ctl_config {
	const char *listen; /* ADDR:PORT */
	const char *db_path;
	const char *schema_dir;
	const char *scenario_dir;
	const char *web_dir; /* NULL: no static files */
	const char *port_file; /* NULL, or where to write ADDR:PORT */
	size_t max_body; /* request bodies, bytes */
	size_t log_cap; /* per job and port, bytes */
	int64_t lease_ms; /* lease duration */
	int max_attempts; /* infra retries end here */
	int threads; /* HTTP thread pool size */
	int read_token_required;
	const char *clock_file; /* NULL: the real clock (schedule.h) */
	int sched_tick_ms; /* how often schedules are looked at */
	const char *submit_rate; /* per token: "N/min" (ratelimit.h) */
	double submit_per_min; /* 0: no limit */
	double submit_burst; /* 0: submit_per_min */
	const char *blob_dir; /* bisect builds by SHA-256 (agents fetch) */
	const char *build_dir; /* bisect checkouts while they build */
	const char
	    *bisect_repo_root; /* git bisects only below it; NULL: none */
	const char *tls_cert; /* NULL: plain HTTP; else HTTPS only */
	const char *tls_key;
	const char *public_url; /* links in exports and notifications */
	const char *smtp_url; /* NULL: no mail (notify.h) */
	const char *smtp_from; /* NULL: wakefarm@HOSTNAME */
	int64_t notify_retry_ms; /* the first backoff of a delivery */
	int retain_days; /* 0: keep everything (prune.h) */
};

struct queue;
struct sched;
struct bisect_worker;
struct ratelimit;
struct ticker;
struct events;
struct api_work;
struct notify;

struct api {
	const struct ctl_config *cfg;
	struct db *db;
	struct queue *queue;
	struct sched *sched;
	struct bisect_worker *bisect_worker;
	struct ticker *classifier; /* known issues (regress.h) */
	struct events *events; /* GET /events/stream (api_events.h) */
	struct notify *notify; /* subscriptions' deliveries (notify.h) */
	struct ratelimit *submits; /* submissions per token */
	struct MHD_Daemon *mhd;
	struct api_work *work; /* the request workers (api_work.h) */
	struct tls_server *tls; /* while mhd runs, with TLS */
	uint64_t requests; /* counters for /metrics */
	uint64_t errors;
	int polls; /* long-polls not yet completed */
};

struct waiter;

/*
 * Connections (controller/README.md, "Connections"): a client address may
 * hold API_CONNS_PER_IP at once (the rest are closed as they come), all
 * of them together API_CONNS_MAX (the fd limit allowing), and a connection
 * with nothing to do for API_IDLE_TIMEOUT_S (no request yet, or between
 * two) is closed. A suspended long-poll is not idle. GET /healthz answers
 * without the database.
 */
#define API_CONNS_PER_IP 256
#define API_CONNS_MAX 8192
#define API_IDLE_TIMEOUT_S 10

/* One request, alive from its first callback to its completion. */
struct req {
	struct api *api;
	struct MHD_Connection *conn;
	const char *method;
	char url[1024];
	char *seg[12]; /* URL path segments */
	int nseg;
	struct wf_buf body;
	int too_big; /* over cfg->max_body */
	int started; /* handler ran (or suspended) */
	enum role role;
	int64_t token_id;
	struct waiter *waiter; /* a suspended lease long-poll */
	int polled; /* counted in api->polls */
	int64_t lease_job; /* a job this reply hands out */
	int64_t lease_host;
	struct reply *work_out; /* queued to a worker: its reply */
	struct req *work_next; /* the workers' queue */
	int synced; /* a worker waited for the sync: sync_rc */
	int sync_rc;
	int db_held; /* the handler runs under db->lock (a lease poll) */
	const char *route; /* for /metrics: the route's pattern (static) */
};

/* What a handler answers: JSON, or raw bytes with a content type. */
struct reply {
	unsigned int status;
	json_t *json;
	char *raw; /* malloc'd */
	size_t rawlen;
	const char *ctype;
	int suspended; /* the handler suspended the connection */
	const char *hname; /* one extra header, or NULL */
	char hval[64];
	int close; /* close the connection after this reply */
	int has_fd; /* the body is the file fd (owned) */
	int fd;
	uint64_t fdsize;
	struct MHD_Response *response; /* made by the handler (a stream) */
};

typedef void (*api_handler)(struct req *r, struct reply *out);

/* Handlers (api_*.c). */
void api_runs_submit(struct req *r, struct reply *out);
void api_runs_list(struct req *r, struct reply *out);
void api_run_get(struct req *r, struct reply *out);
void api_run_matrix(struct req *r, struct reply *out);
void api_run_cancel(struct req *r, struct reply *out);
void api_run_resubmit(struct req *r, struct reply *out);
void api_kernels_list(struct req *r, struct reply *out);
/*
 * A run body's "kernels" (names, "sha256:HEX", Debian packages) as kernel
 * values in *refs and {value: {"version", "initrd"}} in *info (both new,
 * NULL when names is not an array). 0; -1 with a cause for an unknown
 * kernel (400); -2 on a database error.
 */
int kernels_resolve(struct api *api, const json_t *names, json_t **refs,
    json_t **info, char **cause);
void api_kernels_add(struct req *r, struct reply *out);
void api_kernel_upload_new(struct req *r, struct reply *out);
void api_kernel_upload_chunk(struct req *r, struct reply *out);
void api_run_junit(struct req *r, struct reply *out);
void api_run_compare(struct req *r, struct reply *out);
void api_scenarios_list(struct req *r, struct reply *out);
void api_jobs_list(struct req *r, struct reply *out);
void api_job_get(struct req *r, struct reply *out);
void api_job_logs_get(struct req *r, struct reply *out);
void api_job_logs_post(struct req *r, struct reply *out);
void api_job_events(struct req *r, struct reply *out);
void api_job_finish(struct req *r, struct reply *out);
void api_agent_register(struct req *r, struct reply *out);
void api_agent_heartbeat(struct req *r, struct reply *out);
void api_agent_lease(struct req *r, struct reply *out);
void api_agent_release(struct req *r, struct reply *out);
void api_hosts_list(struct req *r, struct reply *out);
void api_admin_host(struct req *r, struct reply *out);
void api_admin_token_create(struct req *r, struct reply *out);
void api_admin_tokens_list(struct req *r, struct reply *out);
void api_admin_token_revoke(struct req *r, struct reply *out);
void api_known_issues_list(struct req *r, struct reply *out);
void api_admin_known_issue(struct req *r, struct reply *out);
void api_metrics(struct req *r, struct reply *out);
void api_schedules_list(struct req *r, struct reply *out);
void api_admin_schedule_add(struct req *r, struct reply *out);
void api_admin_schedule_rm(struct req *r, struct reply *out);
void api_regressions(struct req *r, struct reply *out);
void api_run_regressions(struct req *r, struct reply *out);
void api_run_kcidb(struct req *r, struct reply *out);

/* A run started by a schedule (schedule.c), for its day. */
struct run_link {
	const char *schedule; /* NULL: not a nightly */
	const char *day; /* YYYY-MM-DD */
	int retries; /* attempts after a failure (regress.c) */
	int64_t bisect; /* > 0: a step of this bisect */
	int64_t bisect_step, bisect_idx;
	const char *why; /* the step's reason */
};

/*
 * Validates a POST /runs body and, when store, stores the run and its
 * jobs (linked when link is not NULL), all in one transaction. The run id
 * (0 when !store) with *reply = {"run", "jobs", "kind"} (new); -1 with a
 * cause for a bad body (400), -2 for a server error (500).
 */
int64_t runs_create(struct api *api, const json_t *body,
    const struct run_link *link, int store, json_t **reply, char **cause);
/*
 * The scenario directory file by file (scenario_load_dir_errors): the good
 * ones in *all, the bad ones in *errors (new array, each logged); -1 when
 * the directory cannot be read. A run of the nightly matrix takes the good
 * ones and records the bad ones as its "left_out".
 */
struct scenario;
int runs_scenarios(struct api *api, struct scenario ***all, size_t *n,
    json_t **errors, char **cause);

/* Cancels a run's unfinished jobs and the run (db locked, in a
 * transaction); *changes = jobs cancelled. */
int runs_cancel(struct db *db, int64_t run, int *changes);

/* Reply helpers: the reply takes the json reference. */
void reply_json(struct reply *out, unsigned int status, json_t *json);
void reply_error(struct reply *out, unsigned int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 500, or 503 with Retry-After when the call failed on a full disk (db.h). */
void reply_db_error(struct reply *out);
void reply_db_full(struct reply *out);
#define DB_FULL_RETRY_S 10
void reply_raw(struct reply *out, unsigned int status, const char *ctype,
    char *data, size_t len);
/* The body is the first size bytes of the open file fd (the reply owns
 * it and closes it): libmicrohttpd sends it from there. */
void reply_fd(struct reply *out, unsigned int status, const char *ctype, int fd,
    uint64_t size);

/* The request body as a JSON object (NULL after replying 400). */
json_t *req_body_object(struct req *r, struct reply *out);
/* Path segment i as an id > 0 (-1 after replying 404). */
int64_t req_id(struct req *r, int i, struct reply *out);
/* A query argument, or NULL. */
const char *req_arg(struct req *r, const char *name);
/* A query argument as an integer in [min, max] (def when absent); -1 after 400. */
int req_arg_int(struct req *r, const char *name, int64_t min, int64_t max,
    int64_t def, int64_t *out_val, struct reply *out);
/* A submission with this token is within --submit-rate: 0, or -1 after a 429. */
int req_submit_allowed(struct req *r, struct reply *out);
/* The host registered with this agent token (-1 after replying 409). */
int64_t req_host(struct req *r, struct reply *out);

/*
 * Starts serving; 0 or -1 with a cause. With cfg->tls_cert the one port
 * speaks HTTPS only: a plain HTTP request on it fails its handshake.
 */
int api_start(struct api *api, char **cause);
/*
 * SIGHUP: reads --tls-cert and --tls-key again; new handshakes get a renewed
 * certificate, a bad file keeps the old one (logged either way).
 */
void api_tls_reload(struct api *api);
/* Stops, once answered long-polls are sent (at most 3 s); after queue_stop. */
void api_stop(struct api *api);

#endif
