/*
 * api_jobs.c: reading jobs (detail with checks, generations and events)
 * and their logs; agents appending logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "buf.h"
#include "log.h"
#include "regress.h"
#include "repro_line.h"
#include "runspec_json.h"
#include "util.h"

#define LOG_READ_DEFAULT (64 * 1024)
#define LOG_READ_MAX (4 * 1024 * 1024)

/* Filters: run, state, verdict, scenario, host (name); with a total. */
/* Two texts, so that a run filter can use the jobs_run index. */
#define JOBS_WHERE_RUN " WHERE j.run_id = ?1" JOBS_WHERE_REST
#define JOBS_WHERE_ALL " WHERE ?1 = 0" JOBS_WHERE_REST
#define JOBS_WHERE_REST                                                        \
	" AND (?2 IS NULL OR"                                                  \
	" j.state = ?2) AND (?3 IS NULL OR j.verdict = ?3) AND (?4 IS NULL OR" \
	" j.scenario = ?4) AND (?5 IS NULL OR h.name = ?5)"

void
api_jobs_list(struct req *r, struct reply *out)
{
	const char *state = req_arg(r, "state"),
	           *verdict = req_arg(r, "verdict"),
	           *scenario = req_arg(r, "scenario"),
	           *host = req_arg(r, "host");
	int64_t run, limit, offset, total = 0;
	json_t *rows;

	if (req_arg_int(r, "run", 1, INT64_MAX, 0, &run, out) == -1 ||
	    req_arg_int(r, "limit", 1, 5000, 500, &limit, out) == -1 ||
	    req_arg_int(r, "offset", 0, INT32_MAX, 0, &offset, out) == -1)
		return;
	db_lock(r->api->db);
#define JOBS_PAGE(w)                                                         \
	"SELECT j.id, j.run_id AS run, j.scenario,"                          \
	" j.case_index, j.matrix AS \"matrix:json\", j.state, j.attempt,"    \
	" j.verdict, j.expected_verdict, j.as_expected, j.reason, h.name AS" \
	" host, j.finished_at FROM jobs j LEFT JOIN hosts h ON h.id ="       \
	" coalesce(j.lease_host, j.last_host)" w " ORDER BY j.id"            \
	" LIMIT ?6 OFFSET ?7"
#define JOBS_COUNT(w)                                                \
	"SELECT count(*) FROM"                                       \
	" jobs j LEFT JOIN hosts h ON h.id = coalesce(j.lease_host," \
	" j.last_host)" w
	rows = db_rows(r->api->db,
	    run ? JOBS_PAGE(JOBS_WHERE_RUN) : JOBS_PAGE(JOBS_WHERE_ALL),
	    "ittttii", run, state, verdict, scenario, host, limit, offset);
	if (rows != NULL &&
	    db_int(r->api->db, &total,
	        run ? JOBS_COUNT(JOBS_WHERE_RUN) : JOBS_COUNT(JOBS_WHERE_ALL),
	        "itttt", run, state, verdict, scenario, host) == -1) {
		json_decref(rows);
		rows = NULL;
	}
	db_unlock(r->api->db);
	if (rows == NULL)
		reply_db_error(out);
	else
		reply_json(out, 200,
		    json_pack("{s:o, s:I}", "jobs", rows, "total",
		        (json_int_t)total));
}

/*
 * A self-contained reproduction: {"cli": "wakefarm --server URL repro ID",
 * "run_qemu": the guest/run-qemu line}, the URL the controller's public one.
 */
static json_t *
job_repro(struct api *api, int64_t id, const json_t *job)
{
	const char *server = __atomic_load_n(
	    &api->cfg->public_url, __ATOMIC_ACQUIRE);
	struct runspec rs;
	char *cli, *rq = NULL, *cause = NULL;
	json_t *o;

	if (server == NULL)
		server = "URL";
	cli = repro_cli_line(server, id);
	if (runspec_from_json(json_object_get(job, "params"), &rs, &cause) == 0)
		rq = repro_run_qemu_line(&rs, server);
	o = json_pack("{s:s?, s:s?}", "cli", cli, "run_qemu", rq);
	free(cli);
	free(rq);
	free(cause);
	return o;
}

void
api_job_get(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out);
	struct db *db = r->api->db;
	json_t *job, *checks = NULL, *gens = NULL, *events = NULL,
	             *known = NULL;
	int known_all = 0;

	if (id == -1)
		return;
	db_lock(db);
	job = db_row(db,
	    "SELECT j.id, j.run_id AS run, j.scenario,"
	    " s.sha256 AS scenario_sha256, j.case_index, j.matrix AS"
	    " \"matrix:json\", j.params AS \"params:json\", j.state,"
	    " j.attempt, h.name AS host, j.lease_expires - ? AS lease_left_ms,"
	    " j.verdict,"
	    " j.failing AS \"failing:json\", j.as_expected, j.reason,"
	    " j.outcome, j.detail, j.expected_verdict, j.expected_failing AS"
	    " \"expected_failing:json\", j.created_at, j.leased_at,"
	    " j.started_at, j.finished_at, j.run_ms FROM jobs j JOIN"
	    " scenarios s ON"
	    " s.id = j.scenario_id LEFT JOIN hosts h ON h.id ="
	    " coalesce(j.lease_host, j.last_host) WHERE j.id = ?",
	    "ii", wf_now_ms(), id);
	if (job != NULL && !json_is_null(job)) {
		checks = db_rows(db,
		    "SELECT gen, check_name AS \"check\", ok,"
		    " expected AS \"expected:json\", observed AS"
		    " \"observed:json\" FROM checks WHERE job_id = ? ORDER BY"
		    " id",
		    "i", id);
		gens = db_rows(db,
		    "SELECT data AS \"data:json\" FROM"
		    " generations WHERE job_id = ? ORDER BY gen",
		    "i", id);
		events = db_rows(db,
		    "SELECT seq, attempt, record AS"
		    " \"record:json\" FROM events WHERE job_id = ? ORDER BY"
		    " seq",
		    "i", id);
		/* Issues naming a failing check, as classified (regress.h). */
		if (json_array_size(json_object_get(job, "failing")) > 0 ||
		    json_integer_value(json_object_get(job, "as_expected")) ==
		        0)
			known = regress_known_any(db, id, &known_all);
		else
			known = json_array();
	}
	db_unlock(db);
	if (job == NULL ||
	    (!json_is_null(job) &&
	        (checks == NULL || gens == NULL || events == NULL ||
	            known == NULL))) {
		reply_db_error(out);
	} else if (json_is_null(job)) {
		reply_error(out, 404, "no job %lld", (long long)id);
	} else {
		json_t *g, *rows = json_array();
		size_t i;

		json_array_foreach (gens, i, g)
			json_array_append(rows, json_object_get(g, "data"));
		json_object_set_new(job, "expected",
		    json_pack("{s:O, s:O}", "verdict",
		        json_object_get(job, "expected_verdict"),
		        "failing_checks",
		        json_object_get(job, "expected_failing")));
		json_object_set(job, "checks", checks);
		json_object_set_new(job, "generations", rows);
		json_object_set(job, "events", events);
		json_object_set(job, "known_issues", known);
		json_object_set_new(job, "known", json_boolean(known_all));
		json_object_set_new(job, "repro", job_repro(r->api, id, job));
		reply_json(out, 200, json_incref(job));
	}
	json_decref(job);
	json_decref(checks);
	json_decref(gens);
	json_decref(events);
	json_decref(known);
}

/* Port segment: 0, 1 or (reading only) "records"; -1 after a 404. */
static int
log_port(struct req *r, int records_ok, struct reply *out)
{
	const char *p = r->seg[5];

	if (strcmp(p, "0") == 0 || strcmp(p, "1") == 0)
		return p[0] - '0';
	if (records_ok && strcmp(p, "records") == 0)
		return 2;
	reply_error(out, 404, "no log port '%.32s' (0, 1%s)", p,
	    records_ok ? " or records" : "");
	return -1;
}

/* The whole log of a port as one buffer. Caller locks. */
static int
log_collect(struct db *db, int64_t job, int port, struct wf_buf *b)
{
	json_t *rows, *row;
	size_t i;

	if (port == 2) {
		if ((rows = db_rows(db,
		         "SELECT record FROM events WHERE"
		         " job_id = ? ORDER BY seq",
		         "i", job)) == NULL)
			return -1;
		json_array_foreach (rows, i, row) {
			wf_buf_printf(b, "%s\n",
			    json_string_value(json_object_get(row, "record")));
		}
		json_decref(rows);
		return 0;
	}
	return db_job_log(db, job, port, b);
}

void
api_job_logs_get(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out), offset, limit, exists = 0;
	struct wf_buf b;
	char *data;
	size_t n;
	int port, rc;

	if (id == -1 || (port = log_port(r, 1, out)) == -1 ||
	    req_arg_int(r, "offset", 0, INT64_MAX, 0, &offset, out) == -1 ||
	    req_arg_int(r, "limit", 1, LOG_READ_MAX, LOG_READ_DEFAULT, &limit,
	        out) == -1)
		return;
	wf_buf_init(&b, (size_t)-1);
	db_lock(r->api->db);
	rc = db_int(r->api->db, &exists,
	    "SELECT count(*) FROM jobs WHERE"
	    " id = ?",
	    "i", id);
	if (rc == 1 && exists)
		rc = log_collect(r->api->db, id, port, &b);
	db_unlock(r->api->db);
	if (rc == -1) {
		reply_db_error(out);
	} else if (!exists) {
		reply_error(out, 404, "no job %lld", (long long)id);
	} else {
		size_t off = (uint64_t)offset < b.len ? (size_t)offset : b.len;

		n = b.len - off < (size_t)limit ? b.len - off : (size_t)limit;
		if ((data = malloc(n + 1)) == NULL) {
			reply_error(out, 500, "out of memory");
		} else {
			memcpy(data, b.data != NULL ? b.data + off : "", n);
			reply_raw(
			    out, 200, "text/plain; charset=utf-8", data, n);
			/* The total lets a reader page on. */
			out->hname = "X-Log-Size";
			snprintf(out->hval, sizeof(out->hval), "%zu", b.len);
		}
	}
	wf_buf_free(&b);
}

/* Job leased (or running) by this agent's host: 0, or -1 after a reply. */
int api_job_check_lease(
    struct req *r, int64_t job, int64_t host, struct reply *out);

int
api_job_check_lease(struct req *r, int64_t job, int64_t host, struct reply *out)
{
	json_t *row = db_row(r->api->db,
	    "SELECT j.state, j.lease_host, h.token_id FROM jobs j"
	    " LEFT JOIN hosts h ON h.id = j.lease_host WHERE j.id = ?",
	    "i", job);
	const char *state;
	int rc = -1;

	if (row == NULL) {
		reply_db_error(out);
		return -1;
	}
	if (json_is_null(row)) {
		reply_error(out, 404, "no job %lld", (long long)job);
		goto out;
	}
	state = json_string_value(json_object_get(row, "state"));
	if (strcmp(state, "leased") != 0 && strcmp(state, "running") != 0) {
		reply_error(out, 409, "job %lld is not leased (it is %s)",
		    (long long)job, state);
		goto out;
	}
	/* The host's token, whichever of its hosts req_host found. */
	if (json_integer_value(json_object_get(row, "lease_host")) != host &&
	    json_integer_value(json_object_get(row, "token_id")) !=
	        r->token_id) {
		reply_error(out, 409, "job %lld is leased to another agent",
		    (long long)job);
		goto out;
	}
	rc = 0;
out:
	json_decref(row);
	return rc;
}

/*
 * An agent's call for an attempt of the job (0: not said) that is over
 * (the job was requeued meanwhile, and may be this host's again): 409, so
 * that what it sends is never taken for the new attempt's. 0 or -1.
 */
int api_job_check_attempt(
    struct req *r, int64_t job, int64_t attempt, struct reply *out);

int
api_job_check_attempt(
    struct req *r, int64_t job, int64_t attempt, struct reply *out)
{
	int64_t now = 0;

	if (attempt <= 0)
		return 0;
	if (db_int(r->api->db, &now, "SELECT attempt FROM jobs WHERE id = ?",
	        "i", job) != 1) {
		reply_db_error(out);
		return -1;
	}
	if (now == attempt)
		return 0;
	reply_error(out, 409,
	    "attempt %lld of job %lld is over (it is at"
	    " attempt %lld)",
	    (long long)attempt, (long long)job, (long long)now);
	return -1;
}

/* One append: what was asked, what happened. */
struct log_append {
	int64_t attempt;
	int64_t offset; /* of data in the agent's stream; -1: not given */
	const char *data;
	size_t len;
	size_t stored; /* bytes of data kept (the cap may cut them) */
	int truncated; /* the port's log is at its cap */
	int duplicate; /* every byte was taken before (a resend) */
	int64_t received; /* the stream's bytes taken so far, after */
};

/* The cap's marker, once, where the log stops. */
static int
log_marker(
    struct api *api, int64_t job, int port, int64_t *chunks, int64_t *size)
{
	char marker[96];

	snprintf(marker, sizeof(marker),
	    "\n[wakefarm: log truncated at %zu bytes]\n", api->cfg->log_cap);
	if (db_exec(api->db, NULL,
	        "INSERT INTO logs (job_id, port, chunk,"
	        " data) VALUES (?, ?, ?, ?)",
	        "idib", job, port, (*chunks)++, marker, strlen(marker)) == -1)
		return -1;
	*size += (int64_t)strlen(marker);
	return 0;
}

/*
 * Appends a->data to a job's log of port, capped with a truncation marker.
 * With an offset, bytes of the stream taken before are skipped (a resend
 * after a lost reply is stored once) and a gap is refused: 1 (a->received
 * says what was expected). 0 done, -1 database error.
 */
static int
log_append(struct api *api, int64_t job, int port, struct log_append *a)
{
	struct db *db = api->db;
	int64_t size = 0, chunks = 0, room, skip;
	json_t *st;

	st = db_row(db,
	    "SELECT size, chunks, truncated, attempt, received FROM"
	    " log_ports WHERE job_id = ? AND port = ?",
	    "id", job, port);
	if (st == NULL)
		return -1;
	a->received = 0;
	if (!json_is_null(st)) {
		size = json_integer_value(json_object_get(st, "size"));
		chunks = json_integer_value(json_object_get(st, "chunks"));
		a->truncated = (int)json_integer_value(
		    json_object_get(st, "truncated"));
		/* Each attempt's stream counts from 0. */
		if (json_integer_value(json_object_get(st, "attempt")) ==
		    a->attempt)
			a->received = json_integer_value(
			    json_object_get(st, "received"));
	}
	json_decref(st);
	if (a->offset > a->received)
		return 1;
	if (a->offset >= 0) {
		skip = a->received - a->offset;
		a->duplicate = (int64_t)a->len <= skip;
		if (a->duplicate)
			return 0;
		a->data += skip;
		a->len -= (size_t)skip;
	}
	a->received += (int64_t)a->len;
	room = (int64_t)api->cfg->log_cap - size;
	a->stored = a->truncated   ? 0 :
	    (int64_t)a->len > room ? (size_t)(room > 0 ? room : 0) :
	                             a->len;
	if (a->stored > 0 &&
	    db_exec(db, NULL,
	        "INSERT INTO logs (job_id, port,"
	        " chunk, data) VALUES (?, ?, ?, ?)",
	        "idib", job, port, chunks++, a->data, a->stored) == -1)
		return -1;
	size += (int64_t)a->stored;
	if (!a->truncated && a->stored < a->len) {
		a->truncated = 1;
		if (log_marker(api, job, port, &chunks, &size) == -1)
			return -1;
	}
	return db_exec(db, NULL,
	    "INSERT INTO log_ports (job_id, port, size, chunks,"
	    " truncated, attempt, received) VALUES (?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT (job_id, port) DO UPDATE SET size = excluded.size,"
	    " chunks = excluded.chunks, truncated = excluded.truncated,"
	    " attempt = excluded.attempt, received = excluded.received",
	    "idiidii", job, port, size, chunks, a->truncated, a->attempt,
	    a->received);
}

/*
 * POST /jobs/{id}/logs/{port}[?offset=N]: raw bytes appended. N is where
 * they start in the agent's stream of this port and attempt (the bytes it
 * sent before): given, a chunk is stored exactly once.
 */
void
api_job_logs_post(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out), host;
	struct db *db = r->api->db;
	struct log_append a = { .data = r->body.data, .len = r->body.len };
	int64_t of = 0;
	int port, rc;

	if (id == -1 || (port = log_port(r, 0, out)) == -1 ||
	    req_arg_int(r, "offset", 0, INT64_MAX, -1, &a.offset, out) == -1 ||
	    req_arg_int(r, "attempt", 1, INT32_MAX, 0, &of, out) == -1)
		return;
	db_lock(db);
	if ((host = req_host(r, out)) == -1 ||
	    api_job_check_lease(r, id, host, out) == -1 ||
	    api_job_check_attempt(r, id, of, out) == -1)
		goto out;
	if (db_int(db, &a.attempt, "SELECT attempt FROM jobs WHERE id = ?", "i",
	        id) != 1 ||
	    db_begin(db) == -1 ||
	    (rc = log_append(r->api, id, port, &a)) == -1 ||
	    db_commit(db) == -1) {
		db_rollback(db);
		reply_db_error(out);
		goto out;
	}
	if (rc == 1) {
		reply_error(out, 409,
		    "log chunk at offset %lld is out of order:"
		    " expected offset %lld",
		    (long long)a.offset, (long long)a.received);
		goto out;
	}
	reply_json(out, 200,
	    json_pack("{s:I, s:b, s:b, s:I}", "stored", (json_int_t)a.stored,
	        "truncated", a.truncated, "duplicate", a.duplicate, "offset",
	        (json_int_t)a.received));
out:
	db_unlock(db);
}
