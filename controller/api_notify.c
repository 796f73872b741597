/*
 * api_notify.c: the subscriptions (admin): POST/GET
 * /api/v1/admin/subscriptions, DELETE /api/v1/admin/subscriptions/{name},
 * and the outbox, GET /api/v1/admin/deliveries (see notify.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api.h"
#include "json.h"
#include "log.h"
#include "notify.h"
#include "util.h"

#define SUB_FIELD_MAX 256
#define EMAIL_MAX 8

static const char *const event_names[] = { "regression", "new-failure", "fixed",
	"run-finished", "bisect-finished", NULL };

/* 0 when every event is known; the default is ["regression"]. */
static int
check_events(json_t *body, char **cause)
{
	json_t *ev = json_object_get(body, "events"), *e;
	size_t i;
	int k, ok;

	if (ev == NULL) {
		json_object_set_new(
		    body, "events", json_pack("[s]", "regression"));
		return 0;
	}
	if (!json_is_array(ev) || json_array_size(ev) == 0) {
		wf_set_cause(cause, "key 'events': expected a list of events");
		return -1;
	}
	json_array_foreach (ev, i, e) {
		for (k = 0, ok = 0; event_names[k] != NULL; k++)
			ok |= json_is_string(e) &&
			    strcmp(json_string_value(e), event_names[k]) == 0;
		if (!ok) {
			wf_set_cause(cause,
			    "key 'events': '%.32s' is not regression,"
			    " new-failure, fixed, run-finished or bisect-finished",
			    json_is_string(e) ? json_string_value(e) : "?");
			return -1;
		}
	}
	return 0;
}

/* An address we will put in RCPT TO: no blanks, <>, commas or controls. */
static int
email_ok(const char *a)
{
	const char *at = strchr(a, '@');

	if (at == NULL || at == a || at[1] == '\0' || strlen(a) > 254)
		return 0;
	for (; *a != '\0'; a++) {
		if ((unsigned char)*a <= ' ' || *a == 0x7f ||
		    strchr("<>,;\"()", *a))
			return 0;
	}
	return 1;
}

/* The target (URL or recipients) and kind of a body; a secret made. */
static int
check_target(struct api *api, json_t *body, char **kind, char **target,
    char secret[65], int *made, char **cause)
{
	const json_t *hook = json_object_get(body, "webhook");
	const json_t *mail = json_object_get(body, "email"), *a;
	const char *s = NULL, *url;
	unsigned char raw[32];
	size_t i;
	char *joined = NULL;

	*made = 0;
	if ((hook != NULL) == (mail != NULL)) {
		wf_set_cause(cause, "give one of 'webhook' and 'email'");
		return -1;
	}
	if (hook != NULL) {
		url = json_string_value(hook);
		if (url == NULL ||
		    (strncmp(url, "http://", 7) &&
		        strncmp(url, "https://", 8)) ||
		    strlen(url) > 2048 || strpbrk(url, " \r\n\t") != NULL) {
			wf_set_cause(cause,
			    "key 'webhook': expected an http:// or"
			    " https:// URL");
			return -1;
		}
		if (wf_json_get_str(body, "secret", 0, 256, &s, cause) == -1)
			return -1;
		if (s != NULL && strlen(s) < 16) {
			wf_set_cause(
			    cause, "key 'secret': at least 16 characters");
			return -1;
		}
		if (s == NULL) {
			if (getrandom(raw, sizeof(raw), 0) !=
			    (ssize_t)sizeof(raw)) {
				wf_set_cause(
				    cause, "no random bytes for a secret");
				return -1;
			}
			wf_hex(secret, raw, sizeof(raw));
			*made = 1;
		} else {
			wf_strlcpy(secret, s, 65);
		}
		*kind = strdup("webhook");
		*target = strdup(url);
		return 0;
	}
	if (api->cfg->smtp_url == NULL) {
		wf_set_cause(
		    cause, "key 'email': this controller has no --smtp-url");
		return -1;
	}
	if (!json_is_array(mail) || json_array_size(mail) == 0 ||
	    json_array_size(mail) > EMAIL_MAX) {
		wf_set_cause(cause, "key 'email': expected 1 to %d addresses",
		    EMAIL_MAX);
		return -1;
	}
	json_array_foreach (mail, i, a) {
		if (!json_is_string(a) || !email_ok(json_string_value(a))) {
			wf_set_cause(cause,
			    "key 'email': '%.64s' is not an address",
			    json_is_string(a) ? json_string_value(a) : "?");
			free(joined);
			*target = NULL;
			return -1;
		}
		if (asprintf(target, "%s%s%s", joined ? joined : "",
		        joined ? "," : "", json_string_value(a)) < 0) {
			free(joined);
			*target = NULL;
			return -1;
		}
		free(joined);
		joined = *target;
	}
	secret[0] = '\0';
	*kind = strdup("email");
	*target = joined;
	return 0;
}

/* POST /api/v1/admin/subscriptions */
void
api_subscription_add(struct req *r, struct reply *out)
{
	static const char *const keys[] = { "name", "events", "schedule",
		"scenario", "kernel", "webhook", "secret", "email", NULL };
	const char *name = NULL, *sched = NULL, *scen = NULL, *kern = NULL;
	char *cause = NULL, *kind = NULL, *target = NULL, *events = NULL;
	char secret[65] = "";
	json_t *body, *res;
	int64_t n = 0;
	int made = 0, rc;

	if ((body = req_body_object(r, out)) == NULL)
		return;
	if (wf_json_check_keys(body, keys, &cause) == -1 ||
	    wf_json_get_str(body, "name", 1, 64, &name, &cause) == -1 ||
	    wf_json_get_str(body, "schedule", 0, 64, &sched, &cause) == -1 ||
	    wf_json_get_str(
	        body, "scenario", 0, SUB_FIELD_MAX, &scen, &cause) == -1 ||
	    wf_json_get_str(body, "kernel", 0, SUB_FIELD_MAX, &kern, &cause) ==
	        -1 ||
	    check_events(body, &cause) == -1 ||
	    check_target(r->api, body, &kind, &target, secret, &made, &cause) ==
	        -1) {
		reply_error(out, 400, "%s", wf_cause_str(cause));
		goto out;
	}
	if (!wf_name_ok(name, 64)) {
		reply_error(
		    out, 400, "key 'name': letters, digits, '.', '_', '-'");
		goto out;
	}
	events = json_dumps(json_object_get(body, "events"), JSON_COMPACT);
	db_lock(r->api->db);
	if ((rc = db_int(r->api->db, &n,
	         "SELECT count(*) FROM subscriptions WHERE name = ?", "t",
	         name)) == 1 &&
	    n > 0) {
		db_unlock(r->api->db);
		reply_error(out, 409, "subscription '%s' exists", name);
		goto out;
	}
	res = NULL;
	if (rc == 1 &&
	    db_exec(r->api->db, NULL,
	        "INSERT INTO subscriptions (name, events, schedule, scenario,"
	        " kernel, kind, target, secret, created_at) VALUES (?, ?, ?, ?,"
	        " ?, ?, ?, ?, ?)",
	        "tttttttti", name, events, sched, scen ? scen : "*",
	        kern ? kern : "*", kind, target, secret, db_now_ms()) == 0)
		res = db_row(r->api->db,
		    "SELECT id, name, events AS \"events:json\", schedule,"
		    " scenario, kernel, kind, target FROM subscriptions WHERE"
		    " name = ?",
		    "t", name);
	db_unlock(r->api->db);
	if (res == NULL) {
		reply_db_error(out);
		goto out;
	}
	if (made) /* the only time it is shown */
		json_object_set_new(res, "secret", json_string(secret));
	log_info("subscription %s: %s %s", name, kind, target);
	notify_kick(r->api);
	reply_json(out, 201, res);
out:
	explicit_bzero(secret, sizeof(secret));
	json_decref(body);
	free(cause);
	free(kind);
	free(target);
	free(events);
}

/* GET /api/v1/admin/subscriptions (admin: targets are addresses) */
void
api_subscriptions_list(struct req *r, struct reply *out)
{
	json_t *rows;

	db_lock(r->api->db);
	rows = db_rows(r->api->db,
	    "SELECT s.id, s.name, s.events AS \"events:json\", s.schedule,"
	    " s.scenario, s.kernel, s.kind, s.target, s.created_at, (SELECT"
	    " count(*) FROM outbox o WHERE o.subscription_id = s.id AND o.state"
	    " = 'pending') AS pending FROM subscriptions s ORDER BY s.name",
	    "");
	db_unlock(r->api->db);
	if (rows == NULL)
		reply_db_error(out);
	else
		reply_json(out, 200, json_pack("{s:o}", "subscriptions", rows));
}

/* DELETE /api/v1/admin/subscriptions/{name}: its outbox goes with it. */
void
api_subscription_rm(struct req *r, struct reply *out)
{
	const char *name = r->seg[4];
	int changes = 0;

	db_lock(r->api->db);
	if (db_begin(r->api->db) == -1 ||
	    db_exec(r->api->db, NULL,
	        "DELETE FROM outbox WHERE subscription_id IN (SELECT id FROM"
	        " subscriptions WHERE name = ?)",
	        "t", name) == -1 ||
	    db_exec(r->api->db, &changes,
	        "DELETE FROM subscriptions WHERE name = ?", "t", name) == -1 ||
	    db_commit(r->api->db) == -1) {
		db_rollback(r->api->db);
		db_unlock(r->api->db);
		reply_db_error(out);
		return;
	}
	db_unlock(r->api->db);
	if (changes == 0)
		reply_error(out, 404, "no subscription '%.64s'", name);
	else
		reply_json(out, 200, json_pack("{s:s}", "removed", name));
}

/* GET /api/v1/admin/deliveries?subscription=&state=&limit= */
void
api_deliveries_list(struct req *r, struct reply *out)
{
	const char *sub = req_arg(r, "subscription");
	const char *state = req_arg(r, "state");
	int64_t limit;
	json_t *rows;

	if (req_arg_int(r, "limit", 1, 1000, 100, &limit, out) == -1)
		return;
	if (state != NULL && strcmp(state, "pending") &&
	    strcmp(state, "sent") && strcmp(state, "failed")) {
		reply_error(out, 400, "query 'state': pending, sent or failed");
		return;
	}
	db_lock(r->api->db);
	rows = db_rows(r->api->db,
	    "SELECT o.id, s.name AS subscription, s.kind, o.event, o.event_key,"
	    " o.delivery, o.subject, o.state, o.attempts, o.next_at,"
	    " o.last_error, o.created_at, o.sent_at FROM outbox o JOIN"
	    " subscriptions s ON s.id = o.subscription_id WHERE (?1 IS NULL OR"
	    " s.name = ?1) AND (?2 IS NULL OR o.state = ?2) ORDER BY o.id DESC"
	    " LIMIT ?3",
	    "tti", sub, state, limit);
	db_unlock(r->api->db);
	if (rows == NULL)
		reply_db_error(out);
	else
		reply_json(out, 200, json_pack("{s:o}", "deliveries", rows));
}
