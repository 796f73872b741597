/*
 * api.c: the HTTP server. Reads bodies under a cap, authenticates bearer
 * tokens, routes /api/v1 to the handlers of api_*.c, serves the dashboard's
 * static files, and turns every reply into a response.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "api_artifacts.h"
#include "api_events.h"
#include "api_static.h"
#include "api_work.h"
#include "api_bisects.h"
#include "bisect_worker.h"
#include "flags.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "queue.h"
#include "ratelimit.h"
#include "util.h"

enum access {
	ACCESS_READ, /* open unless --read-token-required */
	ACCESS_AGENT,
	ACCESS_SUBMIT,
	ACCESS_ADMIN,
};

struct route {
	const char *method;
	const char *path; /* "*" matches one segment */
	enum access access;
	api_handler fn;
};

static const struct route routes[] = {
	{ "GET", "/api/v1/runs", ACCESS_READ, api_runs_list },
	{ "POST", "/api/v1/runs", ACCESS_SUBMIT, api_runs_submit },
	{ "GET", "/api/v1/runs/*", ACCESS_READ, api_run_get },
	{ "GET", "/api/v1/runs/*/matrix", ACCESS_READ, api_run_matrix },
	{ "GET", "/api/v1/runs/*/junit.xml", ACCESS_READ, api_run_junit },
	{ "GET", "/api/v1/runs/*/compare", ACCESS_READ, api_run_compare },
	{ "GET", "/api/v1/runs/*/regressions", ACCESS_READ,
	    api_run_regressions },
	{ "GET", "/api/v1/runs/*/kcidb.json", ACCESS_READ, api_run_kcidb },
	{ "POST", "/api/v1/runs/*/cancel", ACCESS_SUBMIT, api_run_cancel },
	{ "POST", "/api/v1/runs/*/resubmit", ACCESS_SUBMIT, api_run_resubmit },
	{ "GET", "/api/v1/regressions", ACCESS_READ, api_regressions },
	{ "GET", "/api/v1/bisects", ACCESS_READ, api_bisects_list },
	{ "POST", "/api/v1/bisects", ACCESS_SUBMIT, api_bisects_create },
	{ "GET", "/api/v1/bisects/*", ACCESS_READ, api_bisect_get },
	{ "POST", "/api/v1/bisects/*/cancel", ACCESS_SUBMIT,
	    api_bisect_cancel },
	{ "GET", "/api/v1/bisects/*/candidates/*/build-log", ACCESS_READ,
	    api_bisect_build_log },
	{ "GET", "/api/v1/blobs/*", ACCESS_READ, api_blob_get },
	{ "GET", "/api/v1/kernels", ACCESS_READ, api_kernels_list },
	{ "POST", "/api/v1/kernels", ACCESS_SUBMIT, api_kernels_add },
	{ "POST", "/api/v1/kernels/uploads", ACCESS_SUBMIT,
	    api_kernel_upload_new },
	{ "POST", "/api/v1/kernels/uploads/*", ACCESS_SUBMIT,
	    api_kernel_upload_chunk },
	{ "GET", "/api/v1/admin/schedules", ACCESS_READ, api_schedules_list },
	{ "POST", "/api/v1/admin/schedules", ACCESS_ADMIN,
	    api_admin_schedule_add },
	{ "DELETE", "/api/v1/admin/schedules/*", ACCESS_ADMIN,
	    api_admin_schedule_rm },
	{ "GET", "/api/v1/scenarios", ACCESS_READ, api_scenarios_list },
	{ "GET", "/api/v1/jobs", ACCESS_READ, api_jobs_list },
	{ "GET", "/api/v1/jobs/*", ACCESS_READ, api_job_get },
	{ "GET", "/api/v1/jobs/*/logs/*", ACCESS_READ, api_job_logs_get },
	{ "POST", "/api/v1/jobs/*/logs/*", ACCESS_AGENT, api_job_logs_post },
	{ "POST", "/api/v1/jobs/*/events", ACCESS_AGENT, api_job_events },
	{ "POST", "/api/v1/jobs/*/finish", ACCESS_AGENT, api_job_finish },
	{ "GET", "/api/v1/hosts", ACCESS_READ, api_hosts_list },
	{ "POST", "/api/v1/agents/register", ACCESS_AGENT, api_agent_register },
	{ "POST", "/api/v1/agents/heartbeat", ACCESS_AGENT,
	    api_agent_heartbeat },
	{ "POST", "/api/v1/agents/lease", ACCESS_AGENT, api_agent_lease },
	{ "POST", "/api/v1/agents/release", ACCESS_AGENT, api_agent_release },
	{ "GET", "/api/v1/known-issues", ACCESS_READ, api_known_issues_list },
	{ "GET", "/api/v1/artifacts", ACCESS_READ, api_artifacts_list },
	{ "POST", "/api/v1/admin/known-issues", ACCESS_ADMIN,
	    api_admin_known_issue },
	{ "POST", "/api/v1/admin/hosts/*", ACCESS_ADMIN, api_admin_host },
	{ "GET", "/api/v1/admin/tokens", ACCESS_ADMIN, api_admin_tokens_list },
	{ "POST", "/api/v1/admin/tokens", ACCESS_ADMIN,
	    api_admin_token_create },
	{ "POST", "/api/v1/admin/tokens/*/revoke", ACCESS_ADMIN,
	    api_admin_token_revoke },
	{ "GET", "/api/v1/admin/subscriptions", ACCESS_ADMIN,
	    api_subscriptions_list },
	{ "POST", "/api/v1/admin/subscriptions", ACCESS_ADMIN,
	    api_subscription_add },
	{ "DELETE", "/api/v1/admin/subscriptions/*", ACCESS_ADMIN,
	    api_subscription_rm },
	{ "GET", "/api/v1/admin/deliveries", ACCESS_ADMIN,
	    api_deliveries_list },
	{ "GET", "/api/v1/events", ACCESS_READ, api_events_list },
	{ "GET", "/api/v1/events/stream", ACCESS_READ, api_events_stream },
	{ "GET", "/metrics", ACCESS_READ, api_metrics },
	{ NULL, NULL, 0, NULL },
};

/* --- replies --- */

static void
reply_drop_fd(struct reply *out)
{
	if (out->has_fd)
		close(out->fd);
	out->has_fd = 0;
}

/* Frees what out holds (a reply that is not sent). */
static void
reply_free(struct reply *out)
{
	json_decref(out->json);
	out->json = NULL;
	free(out->raw);
	out->raw = NULL;
	reply_drop_fd(out);
	if (out->response != NULL)
		MHD_destroy_response(out->response);
	out->response = NULL;
}

void
reply_json(struct reply *out, unsigned int status, json_t *json)
{
	json_decref(out->json);
	free(out->raw);
	out->raw = NULL;
	reply_drop_fd(out);
	out->status = status;
	out->json = json;
}

void
reply_error(struct reply *out, unsigned int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_json(out, status, json_pack("{s:s}", "error", msg));
}

void
reply_db_error(struct reply *out)
{
	if (db_failed_full())
		reply_db_full(out);
	else
		reply_error(
		    out, 500, "database error (see the controller's log)");
}

void
reply_db_full(struct reply *out)
{
	reply_error(out, 503,
	    "the controller's disk is full: nothing was"
	    " stored; try again later");
	out->hname = "Retry-After";
	snprintf(out->hval, sizeof(out->hval), "%d", DB_FULL_RETRY_S);
}

void
reply_raw(struct reply *out, unsigned int status, const char *ctype, char *data,
    size_t len)
{
	json_decref(out->json);
	out->json = NULL;
	free(out->raw);
	reply_drop_fd(out);
	out->status = status;
	out->raw = data;
	out->rawlen = len;
	out->ctype = ctype;
}

void
reply_fd(struct reply *out, unsigned int status, const char *ctype, int fd,
    uint64_t size)
{
	reply_raw(out, status, ctype, NULL, 0);
	out->has_fd = 1;
	out->fd = fd;
	out->fdsize = size;
}

/* --- request helpers --- */

json_t *
req_body_object(struct req *r, struct reply *out)
{
	char *cause = NULL;
	json_t *body;

	body = wf_json_loadb(r->body.len ? r->body.data : "", r->body.len,
	    r->api->cfg->max_body, &cause);
	if (body != NULL && !json_is_object(body)) {
		wf_set_cause(&cause, "the body must be a JSON object, not %s",
		    wf_json_type_name(body));
		json_decref(body);
		body = NULL;
	}
	if (body == NULL)
		reply_error(out, 400, "%s", wf_cause_str(cause));
	free(cause);
	return body;
}

int64_t
req_id(struct req *r, int i, struct reply *out)
{
	long long v;

	if (i >= r->nseg || wf_parse_int(r->seg[i], 1, INT64_MAX, &v) == -1) {
		reply_error(out, 404, "'%.64s' is not an id",
		    i < r->nseg ? r->seg[i] : "");
		return -1;
	}
	return v;
}

const char *
req_arg(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(
	    r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int
req_arg_int(struct req *r, const char *name, int64_t min, int64_t max,
    int64_t def, int64_t *val, struct reply *out)
{
	const char *s = req_arg(r, name);
	long long v;

	*val = def;
	if (s == NULL)
		return 0;
	if (wf_parse_int(s, min, max, &v) == -1) {
		reply_error(out, 400,
		    "query '%s': expected an integer in"
		    " %lld..%lld",
		    name, (long long)min, (long long)max);
		return -1;
	}
	*val = v;
	return 0;
}

int
req_submit_allowed(struct req *r, struct reply *out)
{
	const struct ctl_config *cfg = r->api->cfg;
	int64_t wait_s;

	if ((wait_s = ratelimit_take(
	         r->api->submits, r->token_id, wf_now_ms())) == 0)
		return 0;
	reply_error(out, 429,
	    "too many submissions with this token (at most"
	    " %s, %g at once): try again in %lld s",
	    cfg->submit_rate, cfg->submit_burst, (long long)wait_s);
	out->hname = "Retry-After";
	snprintf(out->hval, sizeof(out->hval), "%lld", (long long)wait_s);
	return -1;
}

int64_t
req_host(struct req *r, struct reply *out)
{
	int64_t id;
	int rc;

	rc = db_int(r->api->db, &id,
	    "SELECT id FROM hosts WHERE token_id = ?"
	    " ORDER BY last_seen DESC LIMIT 1",
	    "i", r->token_id);
	if (rc == -1) {
		reply_db_error(out);
		return -1;
	}
	if (rc == 0) {
		reply_error(out, 409,
		    "this agent token has no registered host:"
		    " POST /api/v1/agents/register first");
		return -1;
	}
	return id;
}

/* --- routing --- */

static void
split_path(struct req *r, const char *url)
{
	char *p, *save = NULL;

	wf_strlcpy(r->url, url, sizeof(r->url));
	r->nseg = 0;
	for (p = strtok_r(r->url, "/", &save);
	     p != NULL && r->nseg < (int)(sizeof(r->seg) / sizeof(r->seg[0]));
	     p = strtok_r(NULL, "/", &save))
		r->seg[r->nseg++] = p;
}

static int
route_matches(const struct route *rt, const struct req *r)
{
	char path[256], *p, *save = NULL;
	int i = 0;

	wf_strlcpy(path, rt->path, sizeof(path));
	for (p = strtok_r(path, "/", &save); p != NULL;
	     p = strtok_r(NULL, "/", &save), i++) {
		if (i >= r->nseg ||
		    (strcmp(p, "*") != 0 && strcmp(p, r->seg[i]) != 0))
			return 0;
	}
	return i == r->nseg;
}

/* 0 when the caller may go on, else a 401/403 is in out. Takes db->lock
 * unless the caller holds it (r->db_held). */
static int
authorize(struct req *r, enum access access, struct reply *out)
{
	const char *h = MHD_lookup_connection_value(
	    r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	static const enum role needs[] = {
		[ACCESS_READ] = ROLE_READER,
		[ACCESS_AGENT] = ROLE_AGENT,
		[ACCESS_SUBMIT] = ROLE_SUBMITTER,
		[ACCESS_ADMIN] = ROLE_ADMIN,
	};
	int rc;

	r->role = ROLE_NONE;
	if (h != NULL) {
		if (strncmp(h, "Bearer ", 7) != 0) {
			reply_error(out, 401,
			    "the Authorization header must"
			    " be 'Bearer TOKEN'");
			return -1;
		}
		if (!r->db_held)
			db_lock(r->api->db);
		rc = auth_token_check(
		    r->api->db, h + 7, &r->role, &r->token_id);
		if (!r->db_held)
			db_unlock(r->api->db);
		if (rc == -1) {
			reply_error(out, 401, "unknown or revoked token");
			return -1;
		}
	}
	if (access == ACCESS_READ && !r->api->cfg->read_token_required)
		return 0;
	if (r->role == ROLE_NONE) {
		reply_error(out, 401, "a bearer token is required");
		return -1;
	}
	if (access == ACCESS_READ || r->role == needs[access] ||
	    (r->role == ROLE_ADMIN && access != ACCESS_AGENT))
		return 0;
	reply_error(out, 403, "the %s role may not do this (it needs %s)",
	    auth_role_name(r->role), auth_role_name(needs[access]));
	return -1;
}

/* The job a /api/v1/jobs/ID... request is about (0: none), for the log. */
static int64_t
request_job(const struct req *r)
{
	long long id;

	if (r->nseg >= 4 && strcmp(r->seg[0], "api") == 0 &&
	    strcmp(r->seg[1], "v1") == 0 && strcmp(r->seg[2], "jobs") == 0 &&
	    wf_parse_int(r->seg[3], 1, INT64_MAX, &id) == 0)
		return id;
	return 0;
}

static void
dispatch(struct req *r, struct reply *out)
{
	const struct route *rt;
	int64_t prev;
	int path_found = 0;

	for (rt = routes; rt->method != NULL; rt++) {
		if (!route_matches(rt, r))
			continue;
		path_found = 1;
		if (strcmp(rt->method, r->method) != 0)
			continue;
		r->route = rt->path;
		/* Records about a job carry job=ID, whichever thread runs it. */
		prev = wf_log_set_job(request_job(r));
		/*
		 * A lease poll: its token check and its lease are one hold of
		 * the lock, taken ahead of the other requests (db.h).
		 */
		if (rt->fn == api_agent_lease) {
			db_lock_urgent(r->api->db);
			r->db_held = 1;
		}
		if (authorize(r, rt->access, out) == 0)
			rt->fn(r, out);
		if (r->db_held) {
			r->db_held = 0;
			db_unlock(r->api->db);
		}
		wf_log_set_job(prev);
		return;
	}
	if (path_found) {
		reply_error(out, 405, "%s is not allowed here", r->method);
		return;
	}
	if (r->nseg > 0 && strcmp(r->seg[0], "api") == 0) {
		r->route = "unknown";
		reply_error(out, 404, "no such endpoint");
		return;
	}
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		reply_error(out, 405, "%s is not allowed here", r->method);
		return;
	}
	/*
	 * The dashboard's files are open even with --read-token-required: a
	 * browser cannot send a bearer token on a page load; the API stays
	 * protected and the page sends its token there.
	 */
	r->route = "static";
	api_static_serve(r->api->cfg->web_dir, r, out);
}

/*
 * 1 when r must be handled in its libmicrohttpd thread, not by a worker
 * (api_work.h): a lease long-poll and the event stream suspend their own
 * connection (and a lease poll is the request whose latency matters).
 */
static int
runs_inline(const struct req *r)
{
	const struct route *rt;

	for (rt = routes; rt->method != NULL; rt++)
		if (route_matches(rt, r) && strcmp(rt->method, r->method) == 0)
			return rt->fn == api_agent_lease ||
			    rt->fn == api_events_stream;
	return 0;
}

/* A worker's request: handled, its commits synced, then given back to its
 * connection's thread (on_request sends the reply). */
static void
work_run(struct req *r)
{
	struct reply *out = r->work_out;

	db_error_clear();
	dispatch(r, out);
	if (out->status == 0 && out->response == NULL)
		reply_error(out, 500, "no reply");
	r->sync_rc = db_sync_wait(r->api->db);
	r->synced = 1;
	MHD_resume_connection(r->conn);
}

/* --- libmicrohttpd callbacks --- */

static enum MHD_Result
send_reply(struct req *r, struct reply *out)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text;
	size_t len;

	/*
	 * What this request committed is on disk before its reply goes out
	 * (group commit, db.h); if that sync failed, the reply says so.
	 */
	if ((r->synced ? r->sync_rc : db_sync_wait(r->api->db)) == -1 &&
	    out->status < 400 && out->response == NULL) {
		if (r->lease_job > 0)
			queue_release(r->api, r->lease_job, r->lease_host);
		r->lease_job = 0;
		reply_error(out, 500,
		    "the database could not sync its log to disk (see the"
		    " controller's log): this change may be lost");
	}
	if (out->status >= 400)
		__atomic_add_fetch(&r->api->errors, 1, __ATOMIC_RELAXED);
	metrics_http_count(
	    r->method, r->route != NULL ? r->route : "none", out->status);
	if (out->response != NULL) {
		resp = out->response;
		out->response = NULL;
	} else if (out->has_fd) {
		/* libmicrohttpd closes the file with the response */
		out->has_fd = 0;
		resp = MHD_create_response_from_fd64(out->fdsize, out->fd);
		if (resp == NULL) {
			close(out->fd);
			return MHD_NO;
		}
	} else {
		if (out->raw != NULL || out->json == NULL) {
			text = out->raw;
			len = out->rawlen;
			out->raw = NULL;
		} else {
			text = json_dumps(out->json, JSON_COMPACT);
			len = text != NULL ? strlen(text) : 0;
			out->ctype = "application/json";
		}
		resp = MHD_create_response_from_buffer(len,
		    text != NULL ? text : "",
		    text != NULL ? MHD_RESPMEM_MUST_FREE :
		                   MHD_RESPMEM_PERSISTENT);
		if (resp == NULL) {
			free(text);
			return MHD_NO;
		}
	}
	if (out->ctype != NULL)
		MHD_add_response_header(resp, "Content-Type", out->ctype);
	if (out->status == 401)
		MHD_add_response_header(
		    resp, "WWW-Authenticate", "Bearer realm=\"wakefarm\"");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (out->hname != NULL)
		MHD_add_response_header(resp, out->hname, out->hval);
	if (out->close)
		MHD_add_response_header(
		    resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(r->conn, out->status, resp);
	MHD_destroy_response(resp);
	json_decref(out->json);
	out->json = NULL;
	return ret;
}

/* The framing headers of a request, counted (RFC 9112, section 6). */
struct framing {
	int content_length; /* Content-Length fields */
	int transfer_encoding; /* Transfer-Encoding fields */
};

static enum MHD_Result
count_framing(
    void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct framing *f = cls;

	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		f->content_length++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		f->transfer_encoding++;
	return MHD_YES;
}

/*
 * A request whose body's length is ambiguous (two Content-Length fields,
 * or one with Transfer-Encoding, or a Content-Length that is no number)
 * could end where another parser would not: what follows might be taken
 * for a second request (smuggling). 400 and the connection is closed.
 */
static int
framing_ok(struct MHD_Connection *conn, const char *cl, struct reply *out)
{
	struct framing f = { 0, 0 };
	long long n;

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
	if (f.content_length > 1 ||
	    (f.content_length > 0 && f.transfer_encoding > 0) ||
	    (cl != NULL && wf_parse_int(cl, 0, INT64_MAX, &n) == -1)) {
		reply_error(out, 400,
		    "ambiguous request framing (%s): refused, and the"
		    " connection closed",
		    f.content_length > 1 ?
		        "more than one Content-Length" :
		        f.transfer_encoding > 0 ?
		        "Content-Length with Transfer-Encoding" :
		        "a Content-Length that is not a number");
		out->close = 1;
		return 0;
	}
	return 1;
}

/* GET /healthz: answered without the database (its lock may be busy). */
static int
health(struct req *r, const char *url, struct reply *out)
{
	if (strcmp(url, "/healthz") != 0 || strcmp(r->method, "GET") != 0)
		return 0;
	reply_json(out, 200,
	    json_pack(
	        "{s:s, s:b}", "status", "ok", "db_full", db_full(r->api->db)));
	return 1;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct api *api = cls;
	struct req *r = *con_cls;
	struct reply out = { 0 };
	const char *cl;
	long long n;

	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		r->api = api;
		r->conn = conn;
		r->method = method;
		wf_buf_init(&r->body, api->cfg->max_body);
		*con_cls = r;
		__atomic_add_fetch(&api->requests, 1, __ATOMIC_RELAXED);
		cl = MHD_lookup_connection_value(
		    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (!framing_ok(conn, cl, &out)) {
			r->too_big = r->started = 1; /* nothing more */
			return send_reply(r, &out);
		}
		if (cl != NULL && wf_parse_int(cl, 0, INT64_MAX, &n) == 0 &&
		    (unsigned long long)n > api->cfg->max_body) {
			/* Refused before a byte of the body is read. */
			r->too_big = 1;
			reply_error(&out, 413, "the body is over %zu bytes",
			    api->cfg->max_body);
			return send_reply(r, &out);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!r->too_big &&
		    wf_buf_append(&r->body, upload_data, *upload_data_size) ==
		        -1) {
			r->too_big = 1;
			wf_buf_free(&r->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->work_out != NULL) { /* resumed by its worker */
		out = *r->work_out;
		free(r->work_out);
		r->work_out = NULL;
		return send_reply(r, &out);
	}
	db_error_clear();
	if (r->waiter != NULL) {
		json_t *lease = queue_waiter_take(r);

		if (json_is_null(lease)) {
			json_decref(lease);
			reply_raw(&out, 204, NULL, NULL, 0);
		} else if (lease != NULL) {
			r->lease_job = json_integer_value(
			    json_object_get(lease, "job"));
			reply_json(&out, 200, lease);
		} else if (db_full(api->db)) {
			/* the dispatcher's lease failed: its thread knew why */
			reply_db_full(&out);
		} else {
			reply_db_error(&out);
		}
		return send_reply(r, &out);
	}
	if (r->started)
		return MHD_YES;
	r->started = 1;
	if (r->too_big) {
		reply_error(&out, 413, "the body is over %zu bytes",
		    api->cfg->max_body);
		return send_reply(r, &out);
	}
	if (health(r, url, &out))
		return send_reply(r, &out);
	split_path(r, url);
	if (api->work != NULL && !runs_inline(r)) {
		if ((r->work_out = calloc(1, sizeof(*r->work_out))) != NULL &&
		    api_work_submit(api->work, r) == 0)
			return MHD_YES;
		free(r->work_out);
		r->work_out = NULL;
	}
	dispatch(r, &out);
	if (out.suspended)
		return MHD_YES;
	if (out.status == 0)
		reply_error(&out, 500, "no reply");
	return send_reply(r, &out);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	if (r == NULL)
		return;
	if (r->work_out != NULL) { /* its reply was never sent */
		reply_free(r->work_out);
		free(r->work_out);
	}
	if (r->lease_job > 0 && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		queue_release(r->api, r->lease_job, r->lease_host);
	queue_waiter_drop(r); /* a long-poll that never got its answer out */
	if (r->polled)
		__atomic_sub_fetch(&r->api->polls, 1, __ATOMIC_RELAXED);
	wf_buf_free(&r->body);
	free(r);
	*con_cls = NULL;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("libmicrohttpd: %s", msg);
}

/* --- start and stop --- */

static int
resolve_listen(const char *listen, struct sockaddr_storage *ss,
    socklen_t *sslen, char **cause)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char host[256];
	const char *colon = strrchr(listen, ':');
	size_t hlen;
	int rc;

	if (colon == NULL || (hlen = (size_t)(colon - listen)) == 0 ||
	    hlen >= sizeof(host)) {
		wf_set_cause(cause, "--listen %s: expected ADDR:PORT", listen);
		return -1;
	}
	if (listen[0] == '[' && listen[hlen - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)hlen - 2, listen + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)hlen, listen);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &ai)) != 0) {
		wf_set_cause(
		    cause, "--listen %s: %s", listen, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int
write_port_file(const char *path, const struct sockaddr_storage *ss,
    uint16_t port, char **cause)
{
	char addr[INET6_ADDRSTRLEN], tmp[4096];
	FILE *f;

	if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr, addr,
		    sizeof(addr));
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    addr, sizeof(addr));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL ||
	    fprintf(f, ss->ss_family == AF_INET6 ? "[%s]:%u\n" : "%s:%u\n",
	        addr, port) < 0 ||
	    fclose(f) != 0 || rename(tmp, path) != 0) {
		wf_set_cause(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
		    &((const struct sockaddr_in6 *)ss)->sin6_addr);
	return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >>
	           24) == 127;
}

/*
 * TLS: the certificate and key checked and loaded (tls.c), handed to each
 * handshake by tls.c's callback, so that api_tls_reload can renew them;
 * TLS 1.2 and 1.3 only. The options end in opts.
 */
static int
tls_setup(struct api *api, struct MHD_OptionItem *opts, char **cause)
{
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES ||
	    MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK) !=
	        MHD_YES) {
		wf_set_cause(cause,
		    "--tls-cert: this libmicrohttpd (%s) was"
		    " built without TLS or its certificate callback",
		    MHD_get_version());
		return -1;
	}
	if ((api->tls = tls_server_new(
	         api->cfg->tls_cert, api->cfg->tls_key, cause)) == NULL)
		return -1;
	opts[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
		tls_server_callback() };
	opts[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
		(void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" };
	opts[2] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return 0;
}

void
api_tls_reload(struct api *api)
{
	char *cause = NULL;

	if (api->tls == NULL)
		return;
	switch (tls_server_reload(api->tls, &cause)) {
	case 1:
		log_info("SIGHUP: TLS: new handshakes get certificate %s, valid"
		         " until %s",
		    tls_server_subject(api->tls),
		    tls_server_not_after(api->tls));
		break;
	case 0:
		log_info("SIGHUP: TLS: %s unchanged", api->cfg->tls_cert);
		break;
	default:
		log_warnx("SIGHUP: TLS: %s; serving the certificate loaded"
		          " before",
		    wf_cause_str(cause));
		break;
	}
	free(cause);
}

/*
 * Connections in all: as many as the file descriptors allow, up to
 * API_CONNS_MAX (the soft limit is raised to the hard one first), with
 * room kept for the database, logs, blobs and static files.
 */
static unsigned int
api_conn_limit(void)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 900;
	want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536 ?
	    65536 :
	    rl.rlim_max;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < 256)
		return (unsigned int)rl.rlim_cur / 2;
	return rl.rlim_cur - 128 > API_CONNS_MAX ?
	    API_CONNS_MAX :
	    (unsigned int)rl.rlim_cur - 128;
}

int
api_start(struct api *api, char **cause)
{
	struct MHD_OptionItem tls_opts[3] = { { MHD_OPTION_END, 0, NULL } };
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	unsigned int flags;
	uint16_t port;
	int tls = api->cfg->tls_cert != NULL;

	if (resolve_listen(api->cfg->listen, &ss, &sslen, cause) == -1)
		return -1;
	/* without workers, the handlers run in libmicrohttpd's threads */
	if ((api->work = api_work_start(api->cfg->threads, work_run)) == NULL)
		log_warnx("cannot start the request workers: requests are"
		          " handled in the server's threads");
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls) {
		if (tls_setup(api, tls_opts, cause) == -1)
			return -1;
		flags |= MHD_USE_TLS;
		log_info("TLS: certificate %s, valid until %s",
		    tls_server_subject(api->tls),
		    tls_server_not_after(api->tls));
	} else if (!is_loopback(&ss)) {
		log_warnx(
		    "serving plain HTTP on %s: tokens and results cross"
		    " the network in clear (give --tls-cert and --tls-key)",
		    api->cfg->listen);
	}
	api->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, api,
	    MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
	    api, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)api->cfg->threads,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)API_IDLE_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_LIMIT, api_conn_limit(),
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)API_CONNS_PER_IP,
	    MHD_OPTION_END);
	if (api->mhd == NULL) {
		wf_set_cause(cause, "cannot listen on %s%s", api->cfg->listen,
		    tls ? " with TLS (the libmicrohttpd lines of --log-level"
		          " debug say why)" :
		          "");
		tls_server_free(api->tls);
		api->tls = NULL;
		api_work_stop(api->work);
		api_work_free(api->work);
		api->work = NULL;
		return -1;
	}
	info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_BIND_PORT);
	port = info != NULL ? info->port : 0;
	log_info("serving %s on %s (port %u)", tls ? "HTTPS only" : "HTTP",
	    api->cfg->listen, port);
	if (api->cfg->port_file != NULL &&
	    write_port_file(api->cfg->port_file, &ss, port, cause) == -1) {
		MHD_stop_daemon(api->mhd);
		api->mhd = NULL;
		tls_server_free(api->tls);
		api->tls = NULL;
		api_work_stop(api->work);
		api_work_free(api->work);
		api->work = NULL;
		return -1;
	}
	return 0;
}

void
api_stop(struct api *api)
{
	int64_t deadline = wf_now_ms() + 3000;

	/* Bounded: let the answered long-polls reach their agents. */
	while (__atomic_load_n(&api->polls, __ATOMIC_RELAXED) > 0 &&
	    wf_now_ms() < deadline)
		usleep(10000);
	/* the queued requests are answered: a worker resumes connections */
	api_work_stop(api->work);
	if (api->mhd != NULL)
		MHD_stop_daemon(api->mhd);
	api->mhd = NULL;
	api_work_free(api->work);
	api->work = NULL;
	tls_server_free(api->tls);
	api->tls = NULL;
}
