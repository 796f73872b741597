/*
 * notify_msg.c: what a notification says: the webhook's JSON and the
 * mail's plain text, for a kernel developer reading it in a mail client:
 * what regressed, the first failed check, the end of the guest log, links
 * to the job and the run, and a "bisect this" command line (see notify.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "export.h"
#include "json.h"
#include "notify.h"
#include "regress.h"
#include "util.h"

#define MAIL_MAX (1024 * 1024)
#define MAIL_LINE_MAX 900 /* RFC 5322 allows 998 */

/* A word as a POSIX shell reads it: as is, or in single quotes. */
static void
shell_word(struct wf_buf *b, const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || strchr("._-/:=+,@%", *p)))
			break;
	}
	if (*p == '\0' && s[0] != '\0') {
		wf_buf_printf(b, "%s", s);
		return;
	}
	wf_buf_printf(b, "'");
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'')
			wf_buf_printf(b, "'\\''");
		else
			wf_buf_append(b, p, 1);
	}
	wf_buf_printf(b, "'");
}

/* One --set value as `wakefarm --set` spells it (quirks: a+b, none). */
static void
set_value(struct wf_buf *v, const json_t *x)
{
	const json_t *e;
	size_t i;

	if (json_is_array(x)) {
		if (json_array_size(x) == 0)
			wf_buf_printf(v, "none");
		json_array_foreach (x, i, e) {
			wf_buf_printf(
			    v, "%s%s", i ? "+" : "", json_string_value(e));
		}
	} else if (json_is_string(x)) {
		wf_buf_printf(v, "%s", json_string_value(x));
	} else if (json_is_integer(x)) {
		wf_buf_printf(v, "%lld", (long long)json_integer_value(x));
	} else {
		char *t = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);

		wf_buf_printf(v, "%s", t ? t : "");
		free(t);
	}
}

/*
 * The `wakefarm bisect start` line for a case (new string): the run's
 * fixed --set values and the case's matrix values (every axis fixed, so
 * the scenario comes down to this case); the range is the reader's.
 */
static char *
bisect_command(struct api *api, const json_t *run, const json_t *job)
{
	const json_t *set = json_object_get(
	    json_object_get(run, "request"), "set");
	const json_t *matrix = json_object_get(job, "matrix");
	json_t *x;
	const char *k, *kernel = export_kernel(json_object_get(job, "params"));
	char *server = export_url(api, "%s", "");
	struct wf_buf b, v;
	json_t *all = json_object();

	json_object_foreach ((json_t *)set, k, x) {
		if (!json_is_array(x) || strcmp(k, "quirks") == 0)
			json_object_set(all, k, x);
	}
	json_object_foreach ((json_t *)matrix, k, x)
		json_object_set(all, k, x);
	wf_buf_init(&b, 64 * 1024);
	wf_buf_printf(&b, "wakefarm --server ");
	shell_word(&b, server != NULL ? server : "");
	wf_buf_printf(&b, " bisect start ");
	shell_word(&b, json_string_value(json_object_get(job, "scenario")));
	json_object_foreach (all, k, x) {
		/* the kernel is what a bisect varies: not fixed here */
		if (strcmp(k, "kernel") == 0 || strcmp(k, "test_kernel") == 0)
			continue;
		wf_buf_init(&v, 16 * 1024);
		wf_buf_printf(&v, "%s=", k);
		set_value(&v, x);
		wf_buf_printf(&b, " --set ");
		shell_word(&b, wf_buf_str(&v));
		wf_buf_free(&v);
	}
	if (kernel != NULL && strncmp(kernel, "sha256:", 7) != 0)
		wf_buf_printf(&b, " --artifacts GOOD_KERNEL,BAD_KERNEL --wait");
	else
		wf_buf_printf(&b,
		    " --repo REPO --good GOOD --bad BAD --artifact"
		    " kernel.elf --wait -- make -s kernel.elf");
	json_decref(all);
	free(server);
	return wf_buf_steal(&b);
}

json_t *
notify_msg_case(struct api *api, const json_t *run, const json_t *cls)
{
	struct db *db = api->db;
	int64_t id = json_integer_value(json_object_get(cls, "job"));
	json_t *job, *c, *failed, *known;
	struct wf_buf log;
	char *name, *url, *cmd;
	const char *kernel;

	job = db_row(db,
	    "SELECT id, scenario, matrix AS \"matrix:json\", params AS"
	    " \"params:json\", verdict, as_expected, failing AS"
	    " \"failing:json\", expected_verdict, expected_failing AS"
	    " \"expected_failing:json\", reason, attempt FROM jobs WHERE id = ?",
	    "i", id);
	if (job == NULL || json_is_null(job))
		return job == NULL ? NULL : json_object();
	if ((failed = export_first_failed(db, id)) == NULL) {
		json_decref(job);
		return NULL;
	}
	known = json_object_get(cls, "known") != NULL ?
	    json_incref(json_object_get(cls, "known")) :
	    regress_known(db, id);
	wf_buf_init(&log, EXPORT_LOG_BYTES + 1);
	if (known == NULL ||
	    export_log_tail(
	        db, id, 0, EXPORT_LOG_LINES, EXPORT_LOG_BYTES, &log) == -1) {
		json_decref(known);
		json_decref(failed);
		json_decref(job);
		wf_buf_free(&log);
		return NULL;
	}
	kernel = export_kernel(json_object_get(job, "params"));
	name = export_case_name(
	    json_object_get(job, "matrix"), json_object_get(job, "params"));
	c = json_pack("{s:I, s:O, s:s, s:O, s:s, s:O, s:O, s:O, s:O, s:{s:O,"
	              " s:O}, s:O, s:I, s:o}",
	    "job", (json_int_t)id, "scenario", json_object_get(job, "scenario"),
	    "name", name ? name : "", "matrix", json_object_get(job, "matrix"),
	    "kernel", kernel ? kernel : "test-kernel", "class",
	    json_object_get(cls, "class"), "verdict",
	    json_object_get(job, "verdict"), "as_expected",
	    json_object_get(job, "as_expected"), "failing",
	    json_object_get(job, "failing"), "expected", "verdict",
	    json_object_get(job, "expected_verdict"), "failing_checks",
	    json_object_get(job, "expected_failing"), "reason",
	    json_object_get(job, "reason"), "attempts",
	    (json_int_t)json_array_size(json_object_get(cls, "attempts")),
	    "known_issues", known);
	free(name);
	if (c == NULL) {
		json_decref(failed);
		json_decref(job);
		wf_buf_free(&log);
		return NULL;
	}
	if (json_is_integer(json_object_get(cls, "previous_job"))) {
		json_object_set(
		    c, "previous_job", json_object_get(cls, "previous_job"));
		json_object_set(c, "previous_verdict",
		    json_object_get(cls, "previous_verdict"));
	}
	if (!json_is_null(failed))
		json_object_set(c, "first_failed_check", failed);
	json_object_set_new(c, "log_excerpt", wf_json_text(log.data, log.len));
	if ((url = export_url(api, "/#/jobs/%lld", (long long)id)))
		json_object_set_new(c, "url", json_string(url));
	free(url);
	if ((url = export_url(api, "/api/v1/jobs/%lld/logs/0", (long long)id)))
		json_object_set_new(c, "log_url", json_string(url));
	free(url);
	if ((cmd = bisect_command(api, run, job)) != NULL)
		json_object_set_new(c, "bisect_command", wf_json_textz(cmd));
	free(cmd);
	json_decref(failed);
	json_decref(job);
	wf_buf_free(&log);
	return c;
}

json_t *
notify_msg_json(struct api *api, const char *event, const json_t *ctx,
    const char *subscription, const char *delivery)
{
	char at[40], *base = export_url(api, "%s", "");
	json_t *p;
	const char *k;
	json_t *v;

	export_time(db_now_ms(), at);
	p = json_pack("{s:s, s:s, s:s, s:s, s:s}", "delivery", delivery,
	    "event", event, "subscription", subscription, "at", at,
	    "controller", base != NULL ? base : "");
	free(base);
	json_object_foreach ((json_t *)ctx, k, v)
		json_object_set(p, k, v);
	return p;
}

/* --- mail --- */

/* A header value: printable ASCII only (no header injection). */
static void
header_text(struct wf_buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		wf_buf_printf(b, "%c", *s >= ' ' && *s < 0x7f ? *s : '?');
}

/* Text into the mail body: UTF-8, CRLF ends, long lines cut, no controls. */
static void
body_text(struct wf_buf *b, const char *prefix, const char *s)
{
	struct wf_buf clean;
	const char *p, *nl;
	size_t len;

	if (s == NULL)
		return;
	wf_buf_init(&clean, strlen(s) * 3 + 1);
	wf_buf_utf8(&clean, s, strlen(s));
	for (p = wf_buf_str(&clean); *p != '\0'; p = nl + (*nl != '\0')) {
		nl = p + strcspn(p, "\n");
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > MAIL_LINE_MAX)
			len = MAIL_LINE_MAX;
		wf_buf_printf(b, "%s", prefix);
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)p[i];

			wf_buf_printf(b, "%c", c < ' ' && c != '\t' ? '?' : c);
		}
		wf_buf_printf(b, "\r\n");
	}
	wf_buf_free(&clean);
}

static void
line(struct wf_buf *b, const char *fmt, const char *a)
{
	char text[4096];

	snprintf(text, sizeof(text), fmt, a != NULL ? a : "-");
	body_text(b, "", text);
}

static char *
jtext(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static const char *
event_words(const char *event)
{
	if (strcmp(event, "regression") == 0)
		return "regressed (passed the night before)";
	if (strcmp(event, "new-failure") == 0)
		return "fails, and did not run before";
	if (strcmp(event, "fixed") == 0)
		return "is fixed (failed the night before)";
	return event;
}

/* The body of a case's mail. */
static void
mail_case(struct wf_buf *b, const json_t *p)
{
	const json_t *run = json_object_get(p, "run"),
	             *c = json_object_get(p, "case");
	const json_t *f = json_object_get(c, "first_failed_check"), *k;
	char *a, *e, num[64];
	struct wf_buf t;
	size_t i;

	wf_buf_init(&t, 8192);
	wf_buf_printf(&t, "%s [%s] %s in run %lld",
	    json_string_value(json_object_get(c, "scenario")),
	    json_string_value(json_object_get(c, "name")),
	    event_words(json_string_value(json_object_get(p, "event"))),
	    (long long)json_integer_value(json_object_get(run, "id")));
	if (json_is_string(json_object_get(run, "schedule")))
		wf_buf_printf(&t, " of schedule %s, night of %s",
		    json_string_value(json_object_get(run, "schedule")),
		    json_string_value(json_object_get(run, "day")));
	wf_buf_printf(&t, ".");
	body_text(b, "", wf_buf_str(&t));
	wf_buf_free(&t);
	body_text(b, "", "");
	a = jtext(json_object_get(c, "failing"));
	e = jtext(
	    json_object_get(json_object_get(c, "expected"), "failing_checks"));
	line(b, "verdict:   %s",
	    json_string_value(json_object_get(c, "verdict")));
	line(b, "failing:   %s", a);
	line(b, "expected:  %s",
	    json_string_value(
	        json_object_get(json_object_get(c, "expected"), "verdict")));
	line(b, "           failing %s", e);
	free(a);
	free(e);
	line(b, "reason:    %s",
	    json_string_value(json_object_get(c, "reason")));
	line(b, "kernel:    %s",
	    json_string_value(json_object_get(c, "kernel")));
	snprintf(num, sizeof(num), "%lld",
	    (long long)json_integer_value(json_object_get(c, "attempts")));
	line(b, "attempts:  %s", num);
	if (json_is_object(f)) {
		a = jtext(json_object_get(f, "expected"));
		e = jtext(json_object_get(f, "observed"));
		body_text(b, "", "");
		line(b, "First failed check: %s",
		    json_string_value(json_object_get(f, "check")));
		line(b, "  expected %s", a);
		line(b, "  observed %s", e);
		free(a);
		free(e);
	}
	json_array_foreach (json_object_get(c, "known_issues"), i, k)
		line(b, "Known issue: %s",
		    json_string_value(json_object_get(k, "description")));
	body_text(b, "", "");
	line(b, "Job:       %s", json_string_value(json_object_get(c, "url")));
	line(b, "Guest log: %s",
	    json_string_value(json_object_get(c, "log_url")));
	line(
	    b, "Run:       %s", json_string_value(json_object_get(run, "url")));
	body_text(b, "", "");
	body_text(b, "", "Bisect this (fill in the range):");
	body_text(
	    b, "  ", json_string_value(json_object_get(c, "bisect_command")));
	if (json_string_length(json_object_get(c, "log_excerpt")) > 0) {
		body_text(b, "", "");
		body_text(b, "", "The end of the guest log (COM1):");
		body_text(b, "| ",
		    json_string_value(json_object_get(c, "log_excerpt")));
	}
}

/* The body of a finished run's or bisect's mail. */
static void
mail_other(struct wf_buf *b, const json_t *p)
{
	const json_t *run = json_object_get(p, "run");
	const json_t *bi = json_object_get(p, "bisect");
	char text[512];

	if (run != NULL) {
		snprintf(text, sizeof(text),
		    "Run %lld (%s) ended %s: %lld jobs, %lld as expected, %lld"
		    " not.",
		    (long long)json_integer_value(json_object_get(run, "id")),
		    json_string_value(json_object_get(run, "kind")),
		    json_string_value(json_object_get(run, "state")),
		    (long long)json_integer_value(
		        json_object_get(run, "jobs_total")),
		    (long long)json_integer_value(
		        json_object_get(run, "jobs_as_expected")),
		    (long long)json_integer_value(
		        json_object_get(run, "jobs_unexpected")));
		body_text(b, "", text);
		line(b, "Run: %s",
		    json_string_value(json_object_get(run, "url")));
		return;
	}
	snprintf(text, sizeof(text), "Bisect %lld of %s ended %s.",
	    (long long)json_integer_value(json_object_get(bi, "id")),
	    json_string_value(json_object_get(bi, "scenario")),
	    json_string_value(json_object_get(bi, "state")));
	body_text(b, "", text);
	if (json_is_object(json_object_get(bi, "first_bad"))) {
		line(b, "First bad: %s",
		    json_string_value(json_object_get(
		        json_object_get(bi, "first_bad"), "rev")));
		line(b, "  %s",
		    json_string_value(json_object_get(
		        json_object_get(bi, "first_bad"), "subject")));
	}
	line(b, "%s", json_string_value(json_object_get(bi, "message")));
	line(b, "Bisect: %s", json_string_value(json_object_get(bi, "url")));
}

int
notify_msg_mail(struct api *api, const json_t *p, const char *to,
    char **subject, char **text)
{
	const json_t *c = json_object_get(p, "case");
	const char *event = json_string_value(json_object_get(p, "event"));
	const char *from = api->cfg->smtp_from;
	struct wf_buf s, b;
	char date[64], host[128];
	time_t now = time(NULL);
	struct tm tm;

	wf_buf_init(&s, 1024);
	wf_buf_printf(&s, "[wakefarm] %s: ", event);
	if (c != NULL)
		wf_buf_printf(&s, "%s %s",
		    json_string_value(json_object_get(c, "scenario")),
		    json_string_value(json_object_get(c, "name")));
	else if (json_object_get(p, "run") != NULL)
		wf_buf_printf(&s, "run %lld",
		    (long long)json_integer_value(
		        json_object_get(json_object_get(p, "run"), "id")));
	else
		wf_buf_printf(&s, "bisect %lld of %s",
		    (long long)json_integer_value(
		        json_object_get(json_object_get(p, "bisect"), "id")),
		    json_string_value(json_object_get(
		        json_object_get(p, "bisect"), "scenario")));
	if (gethostname(host, sizeof(host)) != 0)
		wf_strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	wf_buf_init(&b, MAIL_MAX);
	wf_buf_printf(&b, "From: ");
	if (from != NULL)
		header_text(&b, from);
	else
		wf_buf_printf(&b, "wakefarm@%s", host);
	wf_buf_printf(&b, "\r\nTo: ");
	header_text(&b, to);
	wf_buf_printf(&b, "\r\nSubject: ");
	header_text(&b, wf_buf_str(&s));
	wf_buf_printf(&b, "\r\nDate: %s\r\nMessage-ID: <", date);
	header_text(&b, json_string_value(json_object_get(p, "delivery")));
	wf_buf_printf(&b, "@wakefarm>\r\nX-Wakefarm-Event: ");
	header_text(&b, event);
	wf_buf_printf(&b,
	    "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain;"
	    " charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
	if (c != NULL)
		mail_case(&b, p);
	else
		mail_other(&b, p);
	body_text(&b, "", "");
	body_text(&b, "", "-- ");
	line(&b, "wakefarm at %s",
	    json_string_value(json_object_get(p, "controller")));
	*subject = wf_buf_steal(&s);
	*text = wf_buf_steal(&b);
	return *subject != NULL && *text != NULL ? 0 : -1;
}
