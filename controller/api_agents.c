/*
 * api_agents.c: the agent's calls: register, heartbeat, lease (long-poll),
 * events (idempotent numbered batches) and finish.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "batch.h"
#include "json.h"
#include "log.h"
#include "queue.h"
#include "regress.h"
#include "util.h"
#include "verdict.h"

#define LEASE_WAIT_MAX_S 30

int api_job_check_lease(
    struct req *r, int64_t job, int64_t host, struct reply *out);
int api_job_check_attempt(
    struct req *r, int64_t job, int64_t attempt, struct reply *out);

/*
 * The host this token holds under another name (one token per host,
 * controller/README.md): 0 none, 1 after a 409, -1 after a 500.
 */
static int
other_host(struct db *db, int64_t token, const char *name, struct reply *out)
{
	json_t *row = db_row(db,
	    "SELECT name FROM hosts WHERE token_id = ? AND name"
	    " != ? ORDER BY id LIMIT 1",
	    "it", token, name);
	int rc = 0;

	if (row == NULL) {
		reply_db_error(out);
		return -1;
	}
	if (json_is_object(row)) {
		reply_error(out, 409,
		    "this agent token is host '%s''s: one agent token per host"
		    " (create another agent token for '%s')",
		    json_string_value(json_object_get(row, "name")), name);
		rc = 1;
	}
	json_decref(row);
	return rc;
}

void
api_agent_register(struct req *r, struct reply *out)
{
	static const char *const keys[] = { "name", "slots", "libvirt_uri",
		"lease_ahead", NULL };
	struct db *db = r->api->db;
	const char *name = NULL, *uri = NULL;
	json_int_t slots = 0;
	int64_t owner = 0, id = 0, now = db_now_ms(), ahead;
	char *cause = NULL;
	json_t *body;
	int rc;

	if ((body = req_body_object(r, out)) == NULL)
		return;
	if (wf_json_check_keys(body, keys, &cause) == -1 ||
	    wf_json_get_str(body, "name", 1, 64, &name, &cause) == -1 ||
	    wf_json_get_int(body, "slots", 1, 1, 256, &slots, &cause) == -1 ||
	    wf_json_get_str(body, "libvirt_uri", 1, 512, &uri, &cause) == -1) {
		reply_error(out, 400, "%s", wf_cause_str(cause));
		goto out;
	}
	if (json_object_get(body, "lease_ahead") &&
	    !json_is_boolean(json_object_get(body, "lease_ahead"))) {
		reply_error(
		    out, 400, "key 'lease_ahead': expected true or false");
		goto out;
	}
	ahead = json_is_true(json_object_get(body, "lease_ahead"));
	if (!wf_name_ok(name, 64)) {
		reply_error(
		    out, 400, "key 'name': 1 to 64 of A-Z a-z 0-9 . _ -");
		goto out;
	}
	db_lock(db);
	/*
	 * A host belongs to the token it registered with, until that token is
	 * revoked: then another agent token may take it over (a rotated token,
	 * read again by the agent on SIGHUP), with the host's history.
	 */
	rc = db_int(db, &owner,
	    "SELECT coalesce(h.token_id, 0) FROM hosts h"
	    " LEFT JOIN tokens t ON t.id = h.token_id WHERE h.name = ? AND"
	    " coalesce(t.revoked, 0) = 0",
	    "t", name);
	if (rc == 1 && owner != r->token_id) {
		db_unlock(db);
		reply_error(out, 409,
		    "host '%s' is registered with another"
		    " agent token",
		    name);
		goto out;
	}
	/* One agent token per host: a second name needs a token of its own. */
	if (rc != -1 && other_host(db, r->token_id, name, out) != 0) {
		db_unlock(db);
		goto out;
	}
	if (rc == 0 &&
	    db_int(db, &owner,
	        "SELECT token_id FROM hosts WHERE"
	        " name = ?",
	        "t", name) == 1)
		log_info("host %s: its agent token %lld was revoked; token %lld"
		         " takes it over",
		    name, (long long)owner, (long long)r->token_id);
	if (rc == -1 ||
	    db_exec(db, NULL,
	        "INSERT INTO hosts (name, slots,"
	        " libvirt_uri, token_id, registered_at, last_seen, lease_ahead)"
	        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
	        " slots = excluded.slots, libvirt_uri = excluded.libvirt_uri,"
	        " token_id = excluded.token_id, last_seen = excluded.last_seen,"
	        " lease_ahead = excluded.lease_ahead",
	        "titiiii", name, (int64_t)slots, uri, r->token_id, now, now,
	        ahead) == -1 ||
	    db_int(db, &id,
	        "SELECT id FROM"
	        " hosts WHERE name = ?",
	        "t", name) != 1) {
		db_unlock(db);
		reply_db_error(out);
		goto out;
	}
	queue_kick(r->api);
	db_unlock(db);
	log_info("host %s registered (%lld slots%s, %s)", name,
	    (long long)slots, ahead ? ", leasing ahead" : "", uri);
	reply_json(out, 200,
	    json_pack("{s:I, s:s, s:I, s:I}", "host", (json_int_t)id, "name",
	        name, "lease_ms", (json_int_t)r->api->cfg->lease_ms,
	        "heartbeat_ms", (json_int_t)(r->api->cfg->lease_ms / 3)));
out:
	json_decref(body);
	free(cause);
}

/*
 * The leases a heartbeat renews: the jobs it names (an agent that restarted
 * names none of the jobs its previous run held: they expire and are
 * requeued), or without "jobs" every job of the host. 0 or -1.
 */
static int
renew(struct api *api, int64_t host, const json_t *jobs)
{
	const json_t *v;
	size_t i;

	if (jobs == NULL)
		return db_exec(api->db, NULL,
		    "UPDATE jobs SET lease_expires = ? WHERE lease_host"
		    " = ? AND state IN ('leased', 'running')",
		    "ii", queue_lease_deadline(api), host);
	json_array_foreach (jobs, i, v) {
		if (db_exec(api->db, NULL,
		        "UPDATE jobs SET lease_expires = ? WHERE id = ? AND"
		        " lease_host = ? AND state IN ('leased', 'running')",
		        "iii", queue_lease_deadline(api),
		        (int64_t)json_integer_value(v), host) == -1)
			return -1;
	}
	return 0;
}

/*
 * {"jobs": [ID...]} (optional): renews the leases of those jobs, or of all
 * this host's jobs. A named job leased to another host, or not leased, is
 * a 409; a job cancelled meanwhile is listed in "cancel" instead.
 */
void
api_agent_heartbeat(struct req *r, struct reply *out)
{
	static const char *const keys[] = { "jobs", "leftovers", NULL };
	struct db *db = r->api->db;
	json_t *body = NULL, *jobs, *v, *renewed = json_array(), *left;
	char *ltext = NULL;
	json_t *cancel = json_array(), *row;
	int64_t host, now = db_now_ms(), id;
	char *cause = NULL;
	size_t i;

	if (r->body.len > 0 && (body = req_body_object(r, out)) == NULL)
		goto out;
	if (body != NULL && wf_json_check_keys(body, keys, &cause) == -1) {
		reply_error(out, 400, "%s", wf_cause_str(cause));
		goto out;
	}
	jobs = json_object_get(body, "jobs");
	if (jobs != NULL &&
	    (!json_is_array(jobs) || json_array_size(jobs) > 1024)) {
		reply_error(
		    out, 400, "key 'jobs': expected an array of job ids");
		goto out;
	}
	json_array_foreach (jobs, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			reply_error(out, 400,
			    "key 'jobs': element %zu is not a"
			    " job id",
			    i);
			goto out;
		}
	}
	/* Domains the agent could not destroy (agent/README.md). */
	left = json_object_get(body, "leftovers");
	if (left != NULL) {
		if (!json_is_array(left) || json_array_size(left) > 64) {
			reply_error(out, 400,
			    "key 'leftovers': expected an array of at most 64"
			    " domain names");
			goto out;
		}
		json_array_foreach (left, i, v) {
			if (!json_is_string(v) ||
			    !wf_name_ok(json_string_value(v), 127)) {
				reply_error(out, 400,
				    "key 'leftovers': element %zu is not a"
				    " domain name",
				    i);
				goto out;
			}
		}
		ltext = json_dumps(left, JSON_COMPACT);
	}
	db_lock(db);
	if ((host = req_host(r, out)) == -1)
		goto unlock;
	json_array_foreach (jobs, i, v) {
		id = json_integer_value(v);
		row = db_row(
		    db, "SELECT state FROM jobs WHERE id = ?", "i", id);
		if (row != NULL && !json_is_null(row) &&
		    strcmp(json_string_value(json_object_get(row, "state")),
		        "cancelled") == 0) {
			json_array_append_new(cancel, json_integer(id));
			json_decref(row);
			continue;
		}
		json_decref(row);
		if (api_job_check_lease(r, id, host, out) == -1)
			goto unlock;
	}
	if (db_exec(db, NULL,
	        "UPDATE hosts SET last_seen = ?, leftovers ="
	        " coalesce(?, leftovers) WHERE id = ?",
	        "iti", now, ltext, host) == -1 ||
	    renew(r->api, host, jobs) == -1 ||
	    (row = db_rows(db,
	         "SELECT id FROM jobs WHERE lease_host = ? AND"
	         " state IN ('leased', 'running') ORDER BY id",
	         "i", host)) == NULL) {
		reply_db_error(out);
		goto unlock;
	}
	/* what was renewed: the host's leased jobs (those named, if named) */
	json_array_foreach (row, i, v) {
		json_t *n;
		size_t k;
		int named = jobs == NULL;

		json_array_foreach (jobs, k, n)
			named |= json_integer_value(n) ==
			    json_integer_value(json_object_get(v, "id"));
		if (named)
			json_array_append(renewed, json_object_get(v, "id"));
	}
	json_decref(row);
	reply_json(out, 200,
	    json_pack("{s:O, s:O, s:I}", "renewed", renewed, "cancel", cancel,
	        "lease_ms", (json_int_t)r->api->cfg->lease_ms));
unlock:
	db_unlock(db);
out:
	free(ltext);
	json_decref(renewed);
	json_decref(cancel);
	json_decref(body);
	free(cause);
}

/* Runs under db->lock, taken with its token check (api.c, dispatch). */
void
api_agent_lease(struct req *r, struct reply *out)
{
	int64_t wait_s, host;
	json_t *lease;

	if (req_arg_int(r, "wait", 0, LEASE_WAIT_MAX_S, 0, &wait_s, out) == -1)
		return;
	if ((host = req_host(r, out)) == -1)
		return;
	if ((lease = queue_try_lease(r->api, host)) == NULL) {
		reply_db_error(out);
	} else if (!json_is_null(lease)) {
		r->lease_job = json_integer_value(
		    json_object_get(lease, "job"));
		r->lease_host = host;
		reply_json(out, 200, lease);
	} else if (wait_s == 0) {
		reply_raw(out, 204, NULL, NULL, 0);
	} else if (queue_wait(r->api, r, host, wait_s * 1000) == -1) {
		reply_error(out, 503,
		    "the controller is stopping (or out of"
		    " memory)");
	} else {
		out->suspended = 1;
	}
	if (lease != NULL && json_is_null(lease))
		json_decref(lease);
}

/*
 * {"job", "attempt"}: a lease the host leased ahead and never started (the
 * agent stops) goes back to the queue, its attempt not counted
 * (queue_release). Only a job leased to this host at that attempt, with
 * nothing sent yet; else 409.
 */
void
api_agent_release(struct req *r, struct reply *out)
{
	static const char *const keys[] = { "job", "attempt", NULL };
	struct db *db = r->api->db;
	json_int_t job = 0, attempt = 0;
	int64_t host, ok = 0;
	char *cause = NULL;
	json_t *body;

	if ((body = req_body_object(r, out)) == NULL)
		return;
	if (wf_json_check_keys(body, keys, &cause) == -1 ||
	    wf_json_get_int(body, "job", 1, 1, INT64_MAX, &job, &cause) == -1 ||
	    wf_json_get_int(
	        body, "attempt", 1, 1, INT64_MAX, &attempt, &cause) == -1) {
		reply_error(out, 400, "%s", wf_cause_str(cause));
		goto out;
	}
	db_lock(db);
	if ((host = req_host(r, out)) == -1) {
		db_unlock(db);
		goto out;
	}
	if (db_int(db, &ok,
	        "SELECT count(*) FROM jobs WHERE id = ? AND attempt = ? AND"
	        " lease_host = ? AND state = 'leased' AND next_batch = 0",
	        "iii", (int64_t)job, (int64_t)attempt, host) != 1) {
		db_unlock(db);
		reply_db_error(out);
		goto out;
	}
	db_unlock(db);
	if (!ok) {
		reply_error(out, 409,
		    "job %lld (attempt %lld) is not an unstarted lease of this"
		    " host",
		    (long long)job, (long long)attempt);
		goto out;
	}
	queue_release(r->api, job, host);
	reply_json(
	    out, 200, json_pack("{s:I, s:I}", "job", job, "attempt", attempt));
out:
	json_decref(body);
	free(cause);
}

/*
 * Stores a new batch (the next one) of a job's current attempt. The events
 * INSERT is prepared once per batch, not per record: with the artifacts
 * trigger on events, a prepare per row cost most of the ingest rate.
 */
static int
store_batch(struct db *db, int64_t job, int64_t attempt, int64_t batch,
    const json_t *records, int64_t lease_deadline)
{
	int64_t seq = 0, now = db_now_ms();
	struct db_stmt *st;
	const json_t *rec;
	char *text;
	size_t i;
	int rc = 0;

	if (db_int(db, &seq, "SELECT next_seq FROM jobs WHERE id = ?", "i",
	        job) != 1)
		return -1;
	if ((st = db_prepare(db,
	         "INSERT INTO events (job_id, attempt, seq,"
	         " record) VALUES (?, ?, ?, ?)")) == NULL)
		return -1;
	json_array_foreach (records, i, rec) {
		text = json_dumps(rec, JSON_COMPACT);
		rc = db_stmt_exec(st, "iiit", job, attempt, seq++, text);
		free(text);
		if (rc == -1)
			break;
	}
	db_stmt_free(st);
	if (rc == -1)
		return -1;
	return db_exec(db, NULL,
	           "INSERT INTO batches (job_id, attempt, batch,"
	           " records, received_at) VALUES (?, ?, ?, ?, ?)",
	           "iiiii", job, attempt, batch,
	           (int64_t)json_array_size(records), now) == -1 ||
	        db_exec(db, NULL,
	            "UPDATE jobs SET next_batch = ?, next_seq = ?,"
	            " state = 'running', started_at = coalesce(started_at, ?),"
	            " lease_expires = ? WHERE id = ?",
	            "iiiii", batch + 1, seq, now, lease_deadline, job) == -1 ?
	    -1 :
	    0;
}

void
api_job_events(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 3, out), host, batch = 0, next = 0, attempt = 0,
	        of = 0;
	struct db *db = r->api->db;
	json_t *records = NULL;
	char *cause = NULL;

	if (id == -1)
		return;
	if (batch_parse(r->body.len ? r->body.data : "", r->body.len,
	        r->api->cfg->max_body, &batch, &of, &records, &cause) == -1) {
		reply_error(out, 400, "%s", wf_cause_str(cause));
		free(cause);
		return;
	}
	db_lock(db);
	if ((host = req_host(r, out)) == -1 ||
	    api_job_check_lease(r, id, host, out) == -1 ||
	    api_job_check_attempt(r, id, of, out) == -1)
		goto out;
	if (db_int(db, &next, "SELECT next_batch FROM jobs WHERE id = ?", "i",
	        id) != 1 ||
	    db_int(db, &attempt,
	        "SELECT attempt FROM jobs WHERE"
	        " id = ?",
	        "i", id) != 1) {
		reply_db_error(out);
		goto out;
	}
	if (batch < next) {
		/* Acknowledged before (the reply was lost): nothing to store. */
		reply_json(out, 200,
		    json_pack("{s:I, s:i, s:b}", "batch", (json_int_t)batch,
		        "stored", 0, "duplicate", 1));
		goto out;
	}
	if (batch > next) {
		reply_error(out, 409,
		    "batch %lld is out of order: expected"
		    " batch %lld",
		    (long long)batch, (long long)next);
		goto out;
	}
	if (db_begin(db) == -1 ||
	    store_batch(db, id, attempt, batch, records,
	        queue_lease_deadline(r->api)) == -1 ||
	    db_commit(db) == -1) {
		db_rollback(db);
		reply_db_error(out);
		goto out;
	}
	reply_json(out, 200,
	    json_pack("{s:I, s:I, s:b}", "batch", (json_int_t)batch, "stored",
	        (json_int_t)json_array_size(records), "duplicate", 0));
out:
	db_unlock(db);
	json_decref(records);
}

/*
 * A finish's optional "timings": the agent's phases of the job in seconds
 * ({"prepare", "create", "boot", "run", "settle", "teardown", "wait"},
 * each a number from 0 to a day, any of them) and "ahead" (true: prepared
 * while another guest ran). Checked, then not stored: the agent logs them
 * (bench/linux-farm.sh reads them there).
 */
static int
check_timings(const json_t *t, char **cause)
{
	static const char *const phases[] = { "prepare", "create", "boot",
		"run", "settle", "teardown", "wait", "ahead", NULL };
	const char *k;
	json_t *v;

	if (t == NULL)
		return 0;
	if (!json_is_object(t)) {
		wf_set_cause(cause, "key 'timings': not an object");
		return -1;
	}
	if (wf_json_check_keys(t, phases, cause) == -1)
		return -1;
	json_object_foreach ((json_t *)t, k, v)
		if (!strcmp(k, "ahead")) {
			if (!json_is_boolean(v)) {
				wf_set_cause(cause,
				    "key 'timings.ahead': expected true or"
				    " false");
				return -1;
			}
		} else if (!json_is_number(v) || json_number_value(v) < 0 ||
		    json_number_value(v) > 86400) {
			wf_set_cause(cause,
			    "key 'timings.%s': not a number of seconds from 0"
			    " to 86400",
			    k);
			return -1;
		}
	return 0;
}

void
api_job_finish(struct req *r, struct reply *out)
{
	static const char *const keys[] = { "outcome", "detail", "attempt",
		"run_ms", "timings", NULL };
	static const char *const outcomes[] = {
		"completed",
		"guest-error",
		"hang",
		"infra",
		NULL,
	};
	int64_t id = req_id(r, 3, out), host;
	struct db *db = r->api->db;
	const char *outcome = NULL, *detail = "";
	json_t *body, *result = NULL, *matches = NULL;
	json_int_t of = 0, run_ms = -1;
	struct regress_logs logs;
	char *cause = NULL;
	int i, rc;

	memset(&logs, 0, sizeof(logs));
	if (id == -1 || (body = req_body_object(r, out)) == NULL)
		return;
	if (wf_json_check_keys(body, keys, &cause) == -1 ||
	    wf_json_get_str(body, "outcome", 1, 16, &outcome, &cause) == -1 ||
	    wf_json_get_str(body, "detail", 0, 4096, &detail, &cause) == -1 ||
	    wf_json_get_int(body, "attempt", 0, 1, INT32_MAX, &of, &cause) ==
	        -1 ||
	    wf_json_get_int(body, "run_ms", 0, 0, 7 * 24 * 3600 * 1000LL,
	        &run_ms, &cause) == -1 ||
	    check_timings(json_object_get(body, "timings"), &cause) == -1) {
		reply_error(out, 400, "%s", wf_cause_str(cause));
		goto out;
	}
	for (i = 0; outcomes[i] != NULL && strcmp(outcomes[i], outcome); i++)
		;
	if (outcomes[i] == NULL) {
		reply_error(out, 400,
		    "key 'outcome': '%.16s' is not completed,"
		    " guest-error, hang or infra",
		    outcome);
		goto out;
	}
	/*
	 * The known issues' regexes run over the logs without the lock
	 * (regress.h): read, unlock, match, lock again and check the lease
	 * again (it may have expired or been cancelled meanwhile).
	 */
	db_lock(db);
	if ((host = req_host(r, out)) == -1 ||
	    api_job_check_lease(r, id, host, out) == -1 ||
	    api_job_check_attempt(r, id, of, out) == -1) {
		db_unlock(db);
		goto out;
	}
	rc = strcmp(outcome, "infra") != 0 ? regress_logs_read(db, id, &logs) :
	                                     0;
	db_unlock(db);
	if (rc == -1 ||
	    (logs.issues != NULL &&
	        (matches = regress_logs_match(&logs, id)) == NULL)) {
		reply_db_error(out);
		goto out;
	}
	db_lock(db);
	if (api_job_check_lease(r, id, host, out) == -1) {
		db_unlock(db);
		goto out;
	}
	if (db_begin(db) == -1 ||
	    (result = verdict_finish(
	         r->api, id, outcome, detail, matches, logs.rev)) == NULL ||
	    (run_ms >= 0 &&
	        db_exec(db, NULL, "UPDATE jobs SET run_ms = ? WHERE id = ?",
	            "ii", (int64_t)run_ms, id) == -1) ||
	    db_commit(db) == -1) {
		db_rollback(db);
		db_unlock(db);
		json_decref(result);
		reply_db_error(out);
		goto out;
	}
	/* The job's slot is free: a poll of its host that waited because all
	 * its slots were leased (the agent polls as soon as it has queued the
	 * finish) is answered now, not at the dispatcher's next tick. */
	queue_kick(r->api);
	db_unlock(db);
	reply_json(out, 200, result);
out:
	json_decref(matches);
	regress_logs_free(&logs);
	json_decref(body);
	free(cause);
}
