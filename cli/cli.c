/*
 * cli.c: the CLI's one client of the controller, its error path and its
 * display helpers (see cli.h). All JSON goes through Jansson; the HTTP
 * client is lib/http.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "http.h"
#include "util.h"

const struct wf_flag cli_json_only[] = {
	{ "json", WF_FLAG_LONG, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const char *server, *token;
static struct wf_http *client;

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

int
cli_error(int status, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "wakefarm%s%s: ", cmd != NULL ? " " : "",
	    cmd != NULL ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
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

int
cli_request(const char *method, const char *path, json_t *body, json_t **reply,
    char **cause)
{
	struct wf_http *c = get_client(cause);
	long status = 0;

	*reply = NULL;
	if (c == NULL ||
	    wf_http_request(c, method, path, body, &status, reply, cause) == -1)
		return -1;
	if (*reply == NULL)
		*reply = json_object();
	return 0;
}

json_t *
cli_call(const char *method, const char *path, json_t *body)
{
	json_t *reply;
	char *cause = NULL;

	if (cli_request(method, path, body, &reply, &cause) == -1) {
		if (client == NULL)
			cli_error(CLI_FAIL, NULL, "%s", wf_cause_str(cause));
		else
			cli_error(CLI_FAIL, NULL, "%s %s: %s", method, path,
			    wf_cause_str(cause));
		free(cause);
		return NULL;
	}
	return reply;
}

json_t *
cli_get_or_print(const char *path, int json, int *rc)
{
	json_t *j;

	*rc = CLI_FAIL;
	if ((j = cli_call("GET", path, NULL)) == NULL)
		return NULL;
	if (json) {
		cli_print_json(j);
		json_decref(j);
		*rc = CLI_OK;
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
		cli_error(CLI_FAIL, NULL, "%s", wf_cause_str(cause));
		free(cause);
		return -1;
	}
	if (wf_http_request_raw(
	        c, "GET", path, NULL, NULL, 0, &status, out, &cause) == -1 ||
	    status != 200) {
		cli_error(CLI_FAIL, NULL, "GET %s: %s", path,
		    cause ? cause : wf_buf_str(out));
		free(cause);
		return -1;
	}
	return 0;
}

int
cli_parse_id(const char *what, const char *s, long long *id)
{
	if (wf_parse_int(s, 1, 1LL << 62, id) == -1) {
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
