/*
 * cli.c: the CLI's one client of the controller, its error path and its
 * display helpers (see cli.h). All JSON goes through Jansson; the HTTP
 * client is lib/http.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "http.h"
#include "json.h"
#include "util.h"

const struct wf_flag cli_json_only[] = {
	{ "json", WF_FLAG_LONG, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

const char CLI_EXIT_HELP[] =
    "Exit status:\n"
    "  0   done; for a run (submit --wait, wait, repro): every job as"
    " expected;\n"
    "      compare and regressions: no regression\n"
    "  1   something not as expected, or a regression (compare, regressions)\n"
    "  2   only infra errors kept jobs from being judged\n"
    "  64  usage: a bad option or argument\n"
    "  65  the input or the request was refused (a scenario file; HTTP 400,"
    " 409)\n"
    "  66  no such run, job, host, bisect or file (HTTP 404)\n"
    "  69  the controller cannot be reached or failed (HTTP 5xx, 429)\n"
    "  70  the controller's reply makes no sense\n"
    "  75  wait --timeout ran out first\n"
    "  77  no token, or its role may not do this (HTTP 401, 403)\n"
    "With --json, stdout holds JSON only: one document (events --follow: one"
    " a line),\nan error too: {\"error\": \"...\", \"exit\": N}.\n";

static const char *server, *token;
static struct wf_http *client;
static int json_mode, json_error_printed;
static int last_failure = CLI_UNAVAILABLE;

void
cli_init(const char *url, const char *tok)
{
	server = url;
	token = tok != NULL && tok[0] != '\0' ? tok : NULL;
}

const char *
cli_server(void)
{
	return server;
}

void
cli_set_json(int on)
{
	json_mode = on;
}

int
cli_json(void)
{
	return json_mode;
}

void
cli_json_error(int status, const char *msg)
{
	json_t *j;

	if (!json_mode || json_error_printed)
		return;
	json_error_printed = 1;
	j = json_pack(
	    "{s:o, s:i}", "error", wf_json_textz(msg), "exit", status);
	cli_print_json(j);
	json_decref(j);
	fflush(stdout);
}

int
cli_error(int status, const char *cmd, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "wakefarm%s%s: %s\n", cmd != NULL ? " " : "",
	    cmd != NULL ? cmd : "", msg);
	cli_json_error(status, msg);
	return status;
}

int
cli_exit_for_http(long status)
{
	if (status == 0)
		return CLI_UNAVAILABLE;
	if (status == 401 || status == 403)
		return CLI_NOPERM;
	if (status == 404)
		return CLI_NOINPUT;
	if (status >= 200 && status <= 299)
		return CLI_SOFTWARE; /* a 2xx we could not read */
	if (status == 429 || status >= 500)
		return CLI_UNAVAILABLE;
	return CLI_DATAERR;
}

int
cli_failed(void)
{
	return last_failure;
}

int
cli_expect(
    const json_t *reply, const char *key, json_type type, const char *path)
{
	const json_t *v = json_object_get(reply, key);

	if (v != NULL && json_typeof(v) == type)
		return 0;
	last_failure = CLI_SOFTWARE;
	cli_error(CLI_SOFTWARE, NULL,
	    "GET %s: malformed reply: no '%s' %s in it", path, key,
	    type == JSON_ARRAY      ? "array" :
	        type == JSON_OBJECT ? "object" :
	                              "value of the right type");
	return -1;
}

int
cli_run_outcome(const json_t *reply)
{
	const json_t *job;
	size_t i;
	int infra = 0, bad = 0;

	json_array_foreach (json_object_get(reply, "jobs"), i, job) {
		const char *st = json_string_value(
		    json_object_get(job, "state"));
		const char *v = json_string_value(
		    json_object_get(job, "verdict"));

		if (st == NULL || strcmp(st, "done") != 0)
			bad++; /* cancelled, or not finished */
		else if (json_integer_value(
		             json_object_get(job, "as_expected")) == 1)
			continue;
		else if (v != NULL && strcmp(v, "infra") == 0)
			infra++;
		else
			bad++;
	}
	return bad > 0 ? CLI_UNEXPECTED : infra > 0 ? CLI_INFRA : CLI_OK;
}

/* The client, made at the first request and kept. */
static struct wf_http *
get_client(char **cause)
{
	if (client == NULL && (client = wf_http_new(server, token)) == NULL)
		wf_set_cause(
		    cause, "cannot use server %s (or the token)", server);
	return client;
}

struct wf_http *
cli_http(void)
{
	char *cause = NULL;
	struct wf_http *c = get_client(&cause);

	if (c == NULL) {
		last_failure = CLI_USAGE;
		cli_error(last_failure, NULL, "%s", wf_cause_str(cause));
	}
	free(cause);
	return c;
}

void
cli_set_failed(int status)
{
	last_failure = status;
}

/* cli_request, with the HTTP status of a failure. */
static int
request_status(const char *method, const char *path, json_t *body,
    json_t **reply, long *status, char **cause)
{
	struct wf_http *c = get_client(cause);

	*reply = NULL;
	*status = 0;
	if (c == NULL ||
	    wf_http_request(c, method, path, body, status, reply, cause) == -1)
		return -1;
	if (*reply == NULL)
		*reply = json_object();
	return 0;
}

int
cli_request(const char *method, const char *path, json_t *body, json_t **reply,
    char **cause)
{
	long status = 0;

	if (request_status(method, path, body, reply, &status, cause) == -1) {
		last_failure = client == NULL ? CLI_USAGE :
		                                cli_exit_for_http(status);
		return -1;
	}
	return 0;
}

json_t *
cli_call(const char *method, const char *path, json_t *body)
{
	json_t *reply;
	char *cause = NULL;
	long status = 0;

	if (request_status(method, path, body, &reply, &status, &cause) == -1) {
		last_failure = client == NULL ? CLI_USAGE :
		                                cli_exit_for_http(status);
		if (client == NULL)
			cli_error(
			    last_failure, NULL, "%s", wf_cause_str(cause));
		else
			cli_error(last_failure, NULL, "%s %s: %s", method, path,
			    wf_cause_str(cause));
		free(cause);
		return NULL;
	}
	if (!json_is_object(reply)) {
		last_failure = CLI_SOFTWARE;
		cli_error(last_failure, NULL,
		    "%s %s: malformed reply: not a JSON object", method, path);
		json_decref(reply);
		return NULL;
	}
	return reply;
}

json_t *
cli_get_or_print(const char *path, int json, int *rc)
{
	return cli_call_or_print("GET", path, NULL, json, rc);
}

json_t *
cli_call_or_print(
    const char *method, const char *path, json_t *body, int json, int *rc)
{
	json_t *j;

	if ((j = cli_call(method, path, body)) == NULL) {
		*rc = cli_failed();
		return NULL;
	}
	*rc = CLI_OK;
	if (json) {
		cli_print_json(j);
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *
cli_get_list(const char *path, const char *key, int json, int *rc)
{
	json_t *j;

	if ((j = cli_get_or_print(path, json, rc)) == NULL)
		return NULL;
	if (cli_expect(j, key, JSON_ARRAY, path) == -1) {
		json_decref(j);
		*rc = cli_failed();
		return NULL;
	}
	return j;
}

int
cli_get_raw(const char *path, struct wf_buf *out)
{
	struct wf_http *c;
	char *cause = NULL;
	long status = 0;

	if ((c = get_client(&cause)) == NULL) {
		last_failure = CLI_USAGE;
		cli_error(last_failure, NULL, "%s", wf_cause_str(cause));
		free(cause);
		return -1;
	}
	if (wf_http_request_raw(
	        c, "GET", path, NULL, NULL, 0, &status, out, &cause) == -1 ||
	    status != 200) {
		/* the reply's {"error"} as the message, not the raw JSON */
		json_t *e = cause ?
		    NULL :
		    json_loadb(wf_buf_str(out), out->len, 0, NULL);
		const char *msg = json_string_value(
		    json_object_get(e, "error"));

		last_failure = cli_exit_for_http(cause ? 0 : status);
		if (cause != NULL)
			cli_error(
			    last_failure, NULL, "GET %s: %s", path, cause);
		else if (msg != NULL)
			cli_error(last_failure, NULL, "GET %s: %s (HTTP %ld)",
			    path, msg, status);
		else
			cli_error(last_failure, NULL, "GET %s: HTTP %ld", path,
			    status);
		json_decref(e);
		free(cause);
		return -1;
	}
	return 0;
}

int
cli_parse_id(const char *what, const char *s, long long *id)
{
	if (wf_parse_int(s, 1, 1LL << 62, id) == -1) {
		last_failure = CLI_USAGE;
		cli_error(CLI_USAGE, NULL, "'%s' is not a %s id", s, what);
		return -1;
	}
	return 0;
}

/* One --set value in the scenario's JSON form. */
static json_t *
set_value(const char *key, const char *v)
{
	static const char *const strs[] = { "policy", "steps", NULL };
	json_t *arr;
	long long n;
	char *copy, *p, *save = NULL;
	int i;

	if (strcmp(key, "quirks") == 0) {
		arr = json_array();
		if (strcmp(v, "none") == 0 || v[0] == '\0')
			return arr;
		copy = strdup(v);
		for (p = strtok_r(copy, "+", &save); p != NULL;
		     p = strtok_r(NULL, "+", &save))
			json_array_append_new(arr, json_string(p));
		free(copy);
		return arr;
	}
	for (i = 0; strs[i] != NULL; i++) {
		if (strcmp(key, strs[i]) == 0)
			return json_string(v);
	}
	if (wf_parse_int(v, -(1LL << 40), 1LL << 40, &n) == 0)
		return json_integer(n);
	return json_string(v); /* the controller names the type error */
}

int
cli_add_set(json_t *set, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *sep = ",";
	char key[64], *vals, *p, *save = NULL;
	json_t *list;

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(key)) {
		cli_error(CLI_USAGE, NULL, "--set %s: expected KEY=VALUE", arg);
		return -1;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	if (strcmp(key, "steps") == 0)
		sep = ";"; /* a step list has commas of its own */
	list = json_array();
	vals = strdup(eq + 1);
	for (p = strtok_r(vals, sep, &save); p != NULL;
	     p = strtok_r(NULL, sep, &save))
		json_array_append_new(list, set_value(key, p));
	if (json_array_size(list) == 0)
		json_array_append_new(list, set_value(key, ""));
	free(vals);
	if (json_array_size(list) == 1)
		json_object_set(set, key, json_array_get(list, 0));
	else
		json_object_set(set, key, list);
	json_decref(list);
	return 0;
}

void
cli_check_set(const struct wf_flags *f, const char *arg)
{
	if (strchr(arg, '=') == NULL || arg[0] == '=')
		wf_flags_usage_error(
		    f, "invalid value '%s' for --set: expected KEY=VALUE", arg);
}

void
cli_add_list(json_t *list, const char *arg)
{
	char *copy = strdup(arg), *p, *save = NULL;

	for (p = strtok_r(copy, ",", &save); p != NULL;
	     p = strtok_r(NULL, ",", &save))
		json_array_append_new(list, json_string(p));
	free(copy);
}

void
cli_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s != NULL)
		printf("%s\n", s);
	free(s);
}

void
cli_print_json_line(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	if (s != NULL)
		printf("%s\n", s);
	free(s);
	fflush(stdout);
}

const char *
cli_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "-";
}

long long
cli_num(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

void
cli_fmt_time(char *buf, size_t size, long long ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, size, "-");
}

static const char *
expected_word(const json_t *as_expected)
{
	if (!json_is_integer(as_expected) && !json_is_boolean(as_expected))
		return "";
	return json_is_true(as_expected) ||
	        json_integer_value(as_expected) == 1 ?
	    " as expected" :
	    " NOT as expected";
}

void
cli_print_case(const char *cls, const json_t *c)
{
	char *m = json_dumps(json_object_get(c, "matrix"), JSON_COMPACT);
	const json_t *k;
	size_t i;

	printf("  %-13s job %-6lld %-24s %s: %s%s", cls, cli_num(c, "job"),
	    cli_str(c, "scenario"), m ? m : "", cli_str(c, "verdict"),
	    expected_word(json_object_get(c, "as_expected")));
	if (json_object_get(c, "previous_job") != NULL &&
	    !json_is_null(json_object_get(c, "previous_job")))
		printf(" (before: job %lld %s%s)", cli_num(c, "previous_job"),
		    cli_str(c, "previous_verdict"),
		    expected_word(json_object_get(c, "previous_as_expected")));
	if (json_array_size(json_object_get(c, "attempts")) > 1)
		printf(", %zu attempts",
		    json_array_size(json_object_get(c, "attempts")));
	printf("\n");
	json_array_foreach (json_object_get(c, "known"), i, k) {
		printf("    known issue #%lld: %s", cli_num(k, "id"),
		    cli_str(k, "description"));
		if (json_is_object(json_object_get(k, "log")))
			printf(" (log port %lld line %lld: %s)",
			    cli_num(json_object_get(k, "log"), "port"),
			    cli_num(json_object_get(k, "log"), "line_no"),
			    cli_str(json_object_get(k, "log"), "line"));
		printf("\n");
	}
	free(m);
}

char **
cli_json_args(struct wf_flags *f, const struct wf_cmd *cmd, int argc,
    char **argv, int min, int max, int *n, int *json)
{
	const char *arg;

	*json = 0;
	wf_flags_begin(f, cmd, argc, argv);
	while (wf_flags_next(f, &arg) != -1)
		*json = 1;
	return wf_flags_args(f, min, max, n);
}
