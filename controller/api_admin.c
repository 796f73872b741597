/*
 * api_admin.c: hosts (list; admin: good|bad|maintenance), tokens (admin:
 * create, list, revoke) and known issues.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "json.h"
#include "known.h"
#include "log.h"
#include "queue.h"
#include "regress.h"
#include "util.h"

void
api_hosts_list(struct req *r, struct reply *out)
{
	json_t *rows;

	db_lock(r->api->db);
	rows = db_rows(r->api->db,
	    "SELECT h.id, h.name, h.slots,"
	    " h.libvirt_uri, h.state, h.registered_at, h.last_seen,"
	    " h.leftovers AS \"leftovers:json\", (SELECT"
	    " count(*) FROM jobs j WHERE j.lease_host = h.id AND j.state IN"
	    " ('leased', 'running')) AS busy,"
	    /* seen within a lease period, as the queue counts hosts */
	    " (h.last_seen > ?) AS online FROM hosts h ORDER BY h.name",
	    "i", db_now_ms() - r->api->cfg->lease_ms);
	db_unlock(r->api->db);
	if (rows == NULL)
		reply_db_error(out);
	else
		reply_json(out, 200, json_pack("{s:o}", "hosts", rows));
}

/* POST /api/v1/admin/hosts/{name} {"state": "good|bad|maintenance"} */
void
api_admin_host(struct req *r, struct reply *out)
{
	static const char *const keys[] = { "state", NULL };
	const char *state = NULL;
	char *cause = NULL;
	json_t *body;
	int changes = 0;

	if ((body = req_body_object(r, out)) == NULL)
		return;
	if (wf_json_check_keys(body, keys, &cause) == -1 ||
	    wf_json_get_str(body, "state", 1, 16, &state, &cause) == -1) {
		reply_error(out, 400, "%s", wf_cause_str(cause));
		goto out;
	}
	if (strcmp(state, "good") && strcmp(state, "bad") &&
	    strcmp(state, "maintenance")) {
		reply_error(out, 400,
		    "key 'state': '%.16s' is not good, bad or"
		    " maintenance",
		    state);
		goto out;
	}
	db_lock(r->api->db);
	/* putting a host back gives it a clean infra record */
	if (db_exec(r->api->db, &changes,
	        "UPDATE hosts SET state = ?,"
	        " infra_streak = 0 WHERE name = ?",
	        "tt", state, r->seg[4]) == -1) {
		db_unlock(r->api->db);
		reply_db_error(out);
		goto out;
	}
	queue_kick(r->api);
	db_unlock(r->api->db);
	if (changes == 0)
		reply_error(out, 404, "no host '%.64s'", r->seg[4]);
	else
		reply_json(out, 200,
		    json_pack("{s:s, s:s}", "name", r->seg[4], "state", state));
out:
	json_decref(body);
	free(cause);
}

void
api_admin_token_create(struct req *r, struct reply *out)
{
	static const char *const keys[] = { "name", "role", NULL };
	const char *name = NULL, *role = NULL;
	char *cause = NULL, token[AUTH_TOKEN_LEN + 1];
	enum role rl;
	int64_t id;
	json_t *body;

	if ((body = req_body_object(r, out)) == NULL)
		return;
	if (wf_json_check_keys(body, keys, &cause) == -1 ||
	    wf_json_get_str(body, "name", 1, 64, &name, &cause) == -1 ||
	    wf_json_get_str(body, "role", 1, 16, &role, &cause) == -1) {
		reply_error(out, 400, "%s", wf_cause_str(cause));
		goto out;
	}
	if ((rl = auth_role_parse(role)) == ROLE_NONE || name[0] == '\0') {
		reply_error(out, 400, "key '%s': %s", name[0] ? "role" : "name",
		    name[0] ? "expected admin, submitter, agent or reader" :
		              "must not be empty");
		goto out;
	}
	db_lock(r->api->db);
	id = auth_token_create(r->api->db, name, rl, token);
	db_unlock(r->api->db);
	if (id == -1) {
		reply_db_error(out);
		goto out;
	}
	log_info("token %lld created for %s (%s)", (long long)id, name, role);
	reply_json(out, 201,
	    json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "name",
	        name, "role", role, "token", token));
out:
	json_decref(body);
	free(cause);
}

void
api_admin_tokens_list(struct req *r, struct reply *out)
{
	json_t *rows;

	db_lock(r->api->db);
	rows = db_rows(r->api->db,
	    "SELECT id, name, role, created_at, revoked"
	    " FROM tokens ORDER BY id",
	    "");
	db_unlock(r->api->db);
	if (rows == NULL)
		reply_db_error(out);
	else
		reply_json(out, 200, json_pack("{s:o}", "tokens", rows));
}

/*
 * An admin token may not revoke itself, nor the last admin token: either
 * would leave the farm without anyone to create or revoke tokens (a new
 * admin token then needs the database file: `token create`).
 */
void
api_admin_token_revoke(struct req *r, struct reply *out)
{
	int64_t id = req_id(r, 4, out), admins = 0;
	struct db *db = r->api->db;
	json_t *row;
	int changes = 0, rc = -1;

	if (id == -1)
		return;
	if (id == r->token_id) {
		reply_error(out, 409,
		    "a token cannot revoke itself: revoke it with"
		    " another admin token");
		return;
	}
	db_lock(db);
	row = db_row(
	    db, "SELECT role, revoked FROM tokens WHERE id = ?", "i", id);
	if (row != NULL && json_is_object(row) &&
	    strcmp(json_string_value(json_object_get(row, "role")), "admin") ==
	        0 &&
	    json_integer_value(json_object_get(row, "revoked")) == 0 &&
	    (rc = db_int(db, &admins,
	         "SELECT count(*) FROM tokens WHERE role ="
	         " 'admin' AND revoked = 0",
	         "")) == 1 &&
	    admins <= 1) {
		db_unlock(db);
		json_decref(row);
		reply_error(out, 409, "token %lld is the last admin token",
		    (long long)id);
		return;
	}
	if (row != NULL &&
	    (rc = db_exec(db, &changes,
	         "UPDATE tokens SET revoked = 1"
	         " WHERE id = ?",
	         "i", id)) == 0 &&
	    changes > 0)
		log_info("token %lld revoked", (long long)id);
	db_unlock(db);
	json_decref(row);
	if (rc == -1 || row == NULL)
		reply_db_error(out);
	else if (changes == 0)
		reply_error(out, 404, "no token %lld", (long long)id);
	else
		reply_json(out, 200,
		    json_pack(
		        "{s:I, s:b}", "id", (json_int_t)id, "revoked", 1));
}

void
api_known_issues_list(struct req *r, struct reply *out)
{
	json_t *rows;

	db_lock(r->api->db);
	rows = db_rows(r->api->db,
	    "SELECT id, scenario, check_name AS"
	    " \"check\", description, url, log_regex, created_at FROM"
	    " known_issues ORDER BY id",
	    "");
	db_unlock(r->api->db);
	if (rows == NULL)
		reply_db_error(out);
	else
		reply_json(out, 200, json_pack("{s:o}", "known_issues", rows));
}

/*
 * {"scenario": NAME|GLOB, "check": NAME|GLOB, "description", "url",
 * "log_regex": PCRE2 over each line of the job's guest logs (known.h)}
 */
void
api_admin_known_issue(struct req *r, struct reply *out)
{
	static const char *const keys[] = { "scenario", "check", "description",
		"url", "log_regex", NULL };
	const char *sc = NULL, *check = NULL, *desc = NULL, *url = "", *rx = "";
	char *cause = NULL;
	json_t *body;
	int64_t id;

	if ((body = req_body_object(r, out)) == NULL)
		return;
	if (wf_json_check_keys(body, keys, &cause) == -1 ||
	    wf_json_get_str(body, "scenario", 1, 64, &sc, &cause) == -1 ||
	    wf_json_get_str(body, "check", 1, 64, &check, &cause) == -1 ||
	    wf_json_get_str(body, "description", 1, 4096, &desc, &cause) ==
	        -1 ||
	    wf_json_get_str(body, "url", 0, 1024, &url, &cause) == -1 ||
	    wf_json_get_str(body, "log_regex", 0, 1024, &rx, &cause) == -1) {
		reply_error(out, 400, "%s", wf_cause_str(cause));
		goto out;
	}
	if (rx[0] != '\0' && known_regex_check(rx, &cause) == -1) {
		reply_error(
		    out, 400, "key 'log_regex': %s", wf_cause_str(cause));
		goto out;
	}
	db_lock(r->api->db);
	if (db_exec(r->api->db, NULL,
	        "INSERT INTO known_issues (scenario,"
	        " check_name, description, url, log_regex, created_at) VALUES (?,"
	        " ?, ?, ?, ?, ?)",
	        "ttttti", sc, check, desc, url, rx, db_now_ms()) == -1) {
		db_unlock(r->api->db);
		reply_db_error(out);
		goto out;
	}
	id = db_last_id(r->api->db);
	db_unlock(r->api->db);
	/* Finished jobs are classified against it in the background. */
	regress_worker_kick(r->api);
	reply_json(out, 201, json_pack("{s:I}", "id", (json_int_t)id));
out:
	json_decref(body);
	free(cause);
}
