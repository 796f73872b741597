/*
 * remote.c: the CLI's controller commands (see remote.h). All JSON goes
 * through Jansson; the HTTP client is lib/http.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flags.h"
#include "http.h"
#include "json.h"
#include "nightly.h"
#include "remote.h"
#include "util.h"

#define POLL_US		1000000
#define LOG_PAGE	(1024 * 1024)

static struct wf_http *
connect_to(const struct remote *r)
{
	struct wf_http *c = wf_http_new(r->server, r->token);

	if (c == NULL)
		fprintf(stderr, "wakefarm: cannot use server %s (or the token)\n",
		    r->server);
	return c;
}

/* One JSON call; prints the error and returns NULL on failure. */
static json_t *
call(struct wf_http *c, const char *method, const char *path, json_t *body)
{
	json_t *reply = NULL;
	char *cause = NULL;
	long status = 0;

	if (wf_http_request(c, method, path, body, &status, &reply, &cause) ==
	    -1) {
		fprintf(stderr, "wakefarm: %s %s: %s\n", method, path,
		    wf_cause_str(cause));
		free(cause);
		return NULL;
	}
	return reply != NULL ? reply : json_object();
}

static int
check_id(const char *what, const char *s, long long *id)
{
	if (wf_parse_int(s, 1, 1LL << 62, id) == -1) {
		fprintf(stderr, "wakefarm: '%s' is not a %s id\n", s, what);
		return -1;
	}
	return 0;
}

/* --- submit --- */

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
	return json_string(v);	/* the controller names the type error */
}

/* "KEY=V1,V2" into set[KEY]: one value, or a list (an axis). */
int
remote_add_set(json_t *set, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *sep = ",";
	char key[64], *vals, *p, *save = NULL;
	json_t *list = json_array();

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(key)) {
		fprintf(stderr, "wakefarm: --set %s: expected KEY=VALUE\n", arg);
		json_decref(list);
		return -1;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	if (strcmp(key, "steps") == 0)
		sep = ";";	/* a step list has commas of its own */
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

static int
is_file(const char *t)
{
	size_t len = strlen(t);

	return strchr(t, '/') != NULL || (len > 5 && strcmp(t + len - 5,
	    ".json") == 0);
}

static json_t *
submit_body(char **targets, int n, char **sets, int nsets)
{
	json_t *body = json_object(), *set = json_object(), *names, *sc;
	char *cause = NULL;
	int i;

	for (i = 0; i < nsets; i++) {
		if (remote_add_set(set, sets[i]) == -1)
			goto fail;
	}
	if (json_object_size(set) > 0)
		json_object_set(body, "set", set);
	if (n == 1 && strcmp(targets[0], "nightly") == 0) {
		json_object_set_new(body, "matrix", json_string("nightly"));
	} else if (n == 1 && is_file(targets[0])) {
		if ((sc = wf_json_load_file(targets[0], 256 * 1024, &cause)) ==
		    NULL) {
			fprintf(stderr, "wakefarm: %s\n", wf_cause_str(cause));
			free(cause);
			goto fail;
		}
		json_object_set_new(body, "inline", sc);
	} else {
		names = json_array();
		for (i = 0; i < n; i++) {
			if (is_file(targets[i]) || strcmp(targets[i],
			    "nightly") == 0) {
				fprintf(stderr, "wakefarm: submit one file, or"
				    " 'nightly', or scenario names\n");
				json_decref(names);
				goto fail;
			}
			json_array_append_new(names, json_string(targets[i]));
		}
		json_object_set_new(body, "scenarios", names);
	}
	json_decref(set);
	return body;
fail:
	json_decref(set);
	json_decref(body);
	return NULL;
}

/* Lists the finished jobs that were not as expected. */
static void
print_unexpected(struct wf_http *c, long long run)
{
	char path[64];
	json_t *j, *job;
	size_t i;

	snprintf(path, sizeof(path), "/api/v1/runs/%lld", run);
	if ((j = call(c, "GET", path, NULL)) == NULL)
		return;
	json_array_foreach(json_object_get(j, "jobs"), i, job) {
		char *m, *f, *e;

		if (strcmp(cli_str(job, "state"), "done") != 0 ||
		    cli_num(job, "as_expected") == 1)
			continue;
		m = json_dumps(json_object_get(job, "matrix"), JSON_COMPACT);
		f = json_dumps(json_object_get(job, "failing"), JSON_COMPACT |
		    JSON_ENCODE_ANY);
		e = json_dumps(json_object_get(job, "expected_failing"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		printf("  job %lld %s %s: %s %s, expected %s %s (%s)\n",
		    cli_num(job, "id"), cli_str(job, "scenario"), m ? m : "",
		    cli_str(job, "verdict"), f ? f : "", cli_str(job,
		    "expected_verdict"), e ? e : "", cli_str(job, "reason"));
		free(m);
		free(f);
		free(e);
	}
	json_decref(j);
}

static int
wait_run(struct wf_http *c, long long run)
{
	long long done = -1, bad = -1, total = 0;
	char path[64];
	json_t *j, *rs;
	int finished = 0, ok;

	snprintf(path, sizeof(path), "/api/v1/runs/%lld", run);
	for (;;) {
		if ((j = call(c, "GET", path, NULL)) == NULL)
			return 1;
		rs = json_object_get(j, "run");
		total = cli_num(rs, "jobs_total");
		finished = strcmp(cli_str(rs, "state"), "done") == 0 ||
		    strcmp(cli_str(rs, "state"), "cancelled") == 0;
		if (cli_num(rs, "jobs_done") != done ||
		    cli_num(rs, "jobs_unexpected") != bad || finished) {
			done = cli_num(rs, "jobs_done");
			bad = cli_num(rs, "jobs_unexpected");
			printf("run %lld: %lld/%lld jobs done, %lld not as"
			    " expected (%s)\n", run, done, total, bad,
			    cli_str(rs, "state"));
			fflush(stdout);
		}
		ok = strcmp(cli_str(rs, "state"), "done") == 0 && bad == 0;
		json_decref(j);
		if (finished)
			break;
		usleep(POLL_US);
	}
	if (!ok)
		print_unexpected(c, run);
	return ok ? 0 : 1;
}

int
remote_submit(const struct remote *r, char **targets, int ntargets,
    char **sets, int nsets, int wait)
{
	struct wf_http *c;
	json_t *body, *reply;
	int rc = 1;

	if ((body = submit_body(targets, ntargets, sets, nsets)) == NULL)
		return 2;
	if ((c = connect_to(r)) == NULL)
		goto out;
	if ((reply = call(c, "POST", "/api/v1/runs", body)) == NULL)
		goto out;
	if (r->json)
		cli_print_json(reply);
	else
		printf("run %lld: %lld jobs (%s)\n", cli_num(reply, "run"),
		    cli_num(reply, "jobs"), cli_str(reply, "kind"));
	rc = wait ? wait_run(c, cli_num(reply, "run")) : 0;
	json_decref(reply);
out:
	json_decref(body);
	wf_http_free(c);
	return rc;
}

/* --- status, show, cancel, hosts --- */

int
remote_status(const struct remote *r, const char *run)
{
	struct wf_http *c;
	char path[64];
	json_t *j, *x;
	long long id;
	size_t i;

	if (run != NULL && check_id("run", run, &id) == -1)
		return 2;
	if ((c = connect_to(r)) == NULL)
		return 1;
	if (run == NULL)
		snprintf(path, sizeof(path), "/api/v1/runs?limit=20");
	else
		snprintf(path, sizeof(path), "/api/v1/runs/%lld", id);
	if ((j = call(c, "GET", path, NULL)) == NULL) {
		wf_http_free(c);
		return 1;
	}
	if (r->json) {
		cli_print_json(j);
	} else if (run == NULL) {
		printf("%-6s %-8s %-10s %11s %10s\n", "RUN", "KIND", "STATE",
		    "DONE/TOTAL", "UNEXPECTED");
		json_array_foreach(json_object_get(j, "runs"), i, x)
			printf("%-6lld %-8s %-10s %5lld/%-5lld %10lld\n",
			    cli_num(x, "id"), cli_str(x, "kind"), cli_str(x, "state"),
			    cli_num(x, "jobs_done"), cli_num(x, "jobs_total"),
			    cli_num(x, "jobs_unexpected"));
	} else {
		x = json_object_get(j, "run");
		printf("run %lld (%s): %s, %lld/%lld done, %lld as expected,"
		    " %lld not\n", cli_num(x, "id"), cli_str(x, "kind"), cli_str(x, "state"),
		    cli_num(x, "jobs_done"), cli_num(x, "jobs_total"),
		    cli_num(x, "jobs_as_expected"), cli_num(x, "jobs_unexpected"));
		json_array_foreach(json_object_get(j, "jobs"), i, x) {
			char *m = json_dumps(json_object_get(x, "matrix"),
			    JSON_COMPACT);

			printf("  job %-6lld %-24s %-28s %-9s %-6s %s\n",
			    cli_num(x, "id"), cli_str(x, "scenario"), m ? m : "",
			    cli_str(x, "state"), cli_str(x, "verdict"),
			    json_is_null(json_object_get(x, "as_expected")) ||
			    !json_object_get(x, "as_expected") ? "" :
			    cli_num(x, "as_expected") ? "as expected" :
			    "NOT as expected");
			free(m);
		}
	}
	json_decref(j);
	wf_http_free(c);
	return 0;
}

int
remote_show(const struct remote *r, const char *job)
{
	struct wf_http *c;
	char path[64], *s;
	json_t *j, *x;
	long long id;
	size_t i;

	if (check_id("job", job, &id) == -1)
		return 2;
	if ((c = connect_to(r)) == NULL)
		return 1;
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
	if ((j = call(c, "GET", path, NULL)) == NULL) {
		wf_http_free(c);
		return 1;
	}
	if (r->json) {
		cli_print_json(j);
		goto out;
	}
	s = json_dumps(json_object_get(j, "params"), JSON_COMPACT);
	printf("job %lld, run %lld, scenario %s, attempt %lld, %s on %s\n"
	    "params: %s\n", cli_num(j, "id"), cli_num(j, "run"),
	    cli_str(j, "scenario"), cli_num(j, "attempt"), cli_str(j, "state"),
	    cli_str(j, "host"), s ? s : "");
	free(s);
	s = json_dumps(json_object_get(j, "expected"), JSON_COMPACT);
	printf("verdict: %s (%s); expected %s; %s\n", cli_str(j, "verdict"),
	    cli_str(j, "reason"), s ? s : "", cli_num(j, "as_expected") == 1 ?
	    "as expected" : json_is_integer(json_object_get(j, "as_expected"))
	    ? "NOT as expected" : "not judged yet");
	free(s);
	json_array_foreach(json_object_get(j, "generations"), i, x) {
		printf("gen %lld: %s on CPU %lld, %lld CPUs online (expected"
		    " %lld), MADT v%lld/%lld, mailbox %s\n", cli_num(x, "gen"),
		    cli_str(x, "kind"), cli_num(x, "cpu"), cli_num(x, "cpus_online"),
		    cli_num(x, "expected_online"), cli_num(x, "madt_version"),
		    cli_num(x, "madt_length"), cli_str(x, "mailbox"));
	}
	json_array_foreach(json_object_get(j, "checks"), i, x) {
		char *e, *o;

		if (json_is_true(json_object_get(x, "ok")) ||
		    cli_num(x, "ok") == 1)
			continue;
		e = json_dumps(json_object_get(x, "expected"), JSON_COMPACT |
		    JSON_ENCODE_ANY);
		o = json_dumps(json_object_get(x, "observed"), JSON_COMPACT |
		    JSON_ENCODE_ANY);
		printf("FAILED %s (gen %lld): expected %s, observed %s\n",
		    cli_str(x, "check"), cli_num(x, "gen"), e ? e : "", o ? o : "");
		free(e);
		free(o);
	}
	printf("%zu checks, %zu events\n", json_array_size(json_object_get(j,
	    "checks")), json_array_size(json_object_get(j, "events")));
out:
	json_decref(j);
	wf_http_free(c);
	return 0;
}

int
remote_cancel(const struct remote *r, const char *run)
{
	struct wf_http *c;
	char path[64];
	long long id;
	json_t *j;

	if (check_id("run", run, &id) == -1)
		return 2;
	if ((c = connect_to(r)) == NULL)
		return 1;
	snprintf(path, sizeof(path), "/api/v1/runs/%lld/cancel", id);
	j = call(c, "POST", path, NULL);
	wf_http_free(c);
	if (j == NULL)
		return 1;
	if (r->json)
		cli_print_json(j);
	else
		printf("run %lld: %lld jobs cancelled\n", id,
		    cli_num(j, "cancelled_jobs"));
	json_decref(j);
	return 0;
}

int
remote_hosts(const struct remote *r)
{
	struct wf_http *c;
	json_t *j, *h;
	size_t i;

	if ((c = connect_to(r)) == NULL)
		return 1;
	j = call(c, "GET", "/api/v1/hosts", NULL);
	wf_http_free(c);
	if (j == NULL)
		return 1;
	if (r->json) {
		cli_print_json(j);
	} else {
		printf("%-20s %-12s %5s %5s  %s\n", "HOST", "STATE", "BUSY",
		    "SLOTS", "LIBVIRT");
		json_array_foreach(json_object_get(j, "hosts"), i, h)
			printf("%-20s %-12s %5lld %5lld  %s\n", cli_str(h, "name"),
			    cli_str(h, "state"), cli_num(h, "busy"), cli_num(h, "slots"),
			    cli_str(h, "libvirt_uri"));
	}
	json_decref(j);
	return 0;
}

/* --- logs --- */

static const char *
port_name(const char *p)
{
	if (strcmp(p, "0") == 0 || strcmp(p, "serial0") == 0)
		return "0";
	if (strcmp(p, "1") == 0 || strcmp(p, "serial1") == 0)
		return "1";
	if (strcmp(p, "records") == 0 || strcmp(p, "host") == 0)
		return "records";
	return NULL;
}

/* Prints the log from *offset on; 0, or -1 with the error printed. */
static int
print_log_from(struct wf_http *c, long long job, const char *port,
    size_t *offset)
{
	struct wf_buf b;
	char path[128], *cause = NULL;
	long status = 0;

	for (;;) {
		wf_buf_init(&b, LOG_PAGE + 1);
		snprintf(path, sizeof(path), "/api/v1/jobs/%lld/logs/%s?offset="
		    "%zu&limit=%d", job, port, *offset, LOG_PAGE);
		if (wf_http_request_raw(c, "GET", path, NULL, NULL, 0, &status,
		    &b, &cause) == -1 || status != 200) {
			fprintf(stderr, "wakefarm: GET %s: %s\n", path, cause ?
			    cause : wf_buf_str(&b));
			free(cause);
			wf_buf_free(&b);
			return -1;
		}
		fwrite(b.data != NULL ? b.data : "", 1, b.len, stdout);
		*offset += b.len;
		if (b.len < LOG_PAGE) {
			wf_buf_free(&b);
			return 0;
		}
		wf_buf_free(&b);
	}
}

int
remote_logs(const struct remote *r, const char *job, const char *port,
    int follow)
{
	const char *p = port_name(port != NULL ? port : "0");
	struct wf_http *c;
	size_t offset = 0;
	char path[64];
	long long id;
	json_t *j;
	int rc = 0, running;

	if (p == NULL) {
		fprintf(stderr, "wakefarm: --port: 0, 1 or records\n");
		return 2;
	}
	if (check_id("job", job, &id) == -1)
		return 2;
	if ((c = connect_to(r)) == NULL)
		return 1;
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
	do {
		if (print_log_from(c, id, p, &offset) == -1) {
			rc = 1;
			break;
		}
		fflush(stdout);
		running = 0;
		if (follow && (j = call(c, "GET", path, NULL)) != NULL) {
			running = strcmp(cli_str(j, "state"), "done") != 0 &&
			    strcmp(cli_str(j, "state"), "cancelled") != 0;
			json_decref(j);
			if (running)
				usleep(POLL_US);
		}
	} while (running);
	wf_http_free(c);
	return rc;
}
