/*
 * cmd_submit.c: `wakefarm submit SCENARIO...|nightly|FILE.json [--set
 * K=V]... [--kernel NAME|sha256:HEX|PKG|PATH]... [--initrd F] [--wait]
 * [--json]`:
 * POST /api/v1/runs, and with --wait the run followed to its end.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "flags.h"
#include "json.h"
#include "util.h"

enum {
	OPT_SET = WF_FLAG_LONG,
	OPT_KERNEL,
	OPT_INITRD,
	OPT_NAME,
	OPT_WAIT,
	OPT_JSON,
};

static const struct wf_flag submit_flags[] = {
	{ "set", OPT_SET, "KEY=VALUE",
	    "override a scenario field or matrix"
	    " axis (repeatable)",
	    0 },
	{ "kernel", OPT_KERNEL, "NAME|sha256:HEX|PKG|PATH",
	    "the Linux scenarios boot this"
	    " kernel (the test-kernel ones keep theirs): one `kernel add`"
	    " stored, a Debian package (the agent unpacks it) or a bzImage path"
	    " on the agent's host; repeatable (or A,B): a kernel axis",
	    0 },
	{ "initrd", OPT_INITRD, "FILE", "initrd for --kernel", 0 },
	{ "name", OPT_NAME, "NAME", "label for the run", 0 },
	{ "wait", OPT_WAIT, NULL,
	    "follow the run to its end (as `wait RUN`);"
	    " exit 0 only if every job was as expected",
	    0 },
	{ "json", OPT_JSON, NULL,
	    "print the controller's JSON (with --wait: one"
	    " document at the end, the run in \"result\")",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd submit_cmd = {
	"wakefarm submit",
	"SCENARIO...|nightly|FILE.json",
	"Submit scenarios by name (or the nightly matrix, or a scenario file);"
	" each is expanded over its matrix into jobs. --set KEY=V1,V2 makes an"
	" axis (steps: V1;V2, quirks: a+b or none).",
	submit_flags,
	NULL,
};

static int
is_file(const char *t)
{
	size_t len = strlen(t);

	return strchr(t, '/') != NULL ||
	    (len > 5 && strcmp(t + len - 5, ".json") == 0);
}

/* The targets as a POST /runs body: "matrix", "inline" or "scenarios". */
static int
add_targets(json_t *body, char **targets, int n)
{
	json_t *names, *sc;
	char *cause = NULL;
	int i;

	if (n == 1 && strcmp(targets[0], "nightly") == 0) {
		json_object_set_new(body, "matrix", json_string("nightly"));
		return 0;
	}
	if (n == 1 && is_file(targets[0])) {
		if ((sc = wf_json_load_file(targets[0], 256 * 1024, &cause)) ==
		    NULL) {
			cli_error(CLI_USAGE, NULL, "%s", wf_cause_str(cause));
			free(cause);
			return -1;
		}
		json_object_set_new(body, "inline", sc);
		return 0;
	}
	names = json_array();
	for (i = 0; i < n; i++) {
		if (is_file(targets[i]) || strcmp(targets[i], "nightly") == 0) {
			cli_error(CLI_USAGE, NULL,
			    "submit one file, or"
			    " 'nightly', or scenario names");
			json_decref(names);
			return -1;
		}
		json_array_append_new(names, json_string(targets[i]));
	}
	json_object_set_new(body, "scenarios", names);
	return 0;
}

/* --kernel's values (A,B or repeated) as the body's "kernels"; a
 * relative path made absolute here. */
static int
add_kernel(const struct wf_flags *f, json_t *kernels, const char *arg)
{
	char abs[PATH_MAX], *copy, *k, *save = NULL;

	if ((copy = strdup(arg)) == NULL)
		return -1;
	for (k = strtok_r(copy, ",", &save); k != NULL;
	     k = strtok_r(NULL, ",", &save)) {
		if (k[0] != '/' && strchr(k, '/') != NULL) {
			if (realpath(k, abs) == NULL)
				wf_flags_usage_error(
				    f, "--kernel %s: no such file", k);
			k = abs;
		}
		json_array_append_new(kernels, json_string(k));
	}
	free(copy);
	return 0;
}

static json_t *kernels; /* --kernel's values */

static json_t *
submit_body(char **targets, int n, char **sets, int nsets)
{
	json_t *body = json_object(), *set = json_object();
	int i;

	for (i = 0; i < nsets; i++) {
		if (cli_add_set(set, sets[i]) == -1)
			goto fail;
	}
	if (json_object_size(set) > 0)
		json_object_set(body, "set", set);
	if (add_targets(body, targets, n) == -1)
		goto fail;
	if (json_array_size(kernels) > 0)
		json_object_set(body, "kernels", kernels);
	json_decref(set);
	return body;
fail:
	json_decref(set);
	json_decref(body);
	return NULL;
}

/* The nightly's scenario files that did not load, on stderr. */
static void
warn_left_out(const json_t *left)
{
	const json_t *e;
	size_t i;

	json_array_foreach (left, i, e)
		fprintf(stderr, "wakefarm: warning: %s left out: %s\n",
		    cli_str(e, "file"), cli_str(e, "message"));
}

static int
submit(char **targets, int ntargets, char **sets, int nsets, int wait, int json)
{
	json_t *body, *reply;
	int rc;

	if ((body = submit_body(targets, ntargets, sets, nsets)) == NULL)
		return CLI_USAGE;
	if ((reply = cli_call("POST", "/api/v1/runs", body)) == NULL) {
		rc = cli_failed();
		goto out;
	}
	if (!json) {
		printf("run %lld: %lld jobs (%s)\n", cli_num(reply, "run"),
		    cli_num(reply, "jobs"), cli_str(reply, "kind"));
		warn_left_out(json_object_get(reply, "left_out"));
	}
	rc = cli_run_started(reply, wait, json);
	json_decref(reply);
out:
	json_decref(body);
	return rc;
}

/*
 * --initrd PATH as a --set of that field, a relative path made absolute
 * here.
 */
static char *
os_set(const struct wf_flags *f, const char *key, const char *arg)
{
	char abs[PATH_MAX], *out = NULL;

	if (arg[0] != '/' && strchr(arg, '/') != NULL &&
	    strchr(arg, ',') == NULL) {
		if (realpath(arg, abs) == NULL)
			wf_flags_usage_error(
			    f, "--%s %s: no such file", key, arg);
		arg = abs;
	}
	if (asprintf(&out, "%s=%s", key, arg) < 0)
		wf_flags_usage_error(f, "out of memory");
	return out; /* the caller frees it */
}

int
cmd_submit(int argc, char **argv)
{
	char *sets[WF_FLAGS_MAX * 4], *made[WF_FLAGS_MAX * 4];
	struct wf_flags f;
	const char *arg;
	char **targets;
	int id, n, nsets = 0, nmade = 0, wait = 0, json = 0, rc;

	kernels = json_array();
	wf_flags_begin(&f, &submit_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		if ((id == OPT_SET || id == OPT_KERNEL || id == OPT_INITRD) &&
		    nsets == (int)(sizeof(sets) / sizeof(sets[0])))
			wf_flags_usage_error(&f, "too many --set");
		switch (id) {
		case OPT_SET:
			cli_check_set(&f, arg);
			sets[nsets++] = (char *)arg;
			break;
		case OPT_KERNEL:
			add_kernel(&f, kernels, arg);
			break;
		case OPT_INITRD:
			made[nmade] = os_set(&f, "initrd", arg);
			sets[nsets++] = made[nmade++];
			break;
		case OPT_NAME:
			wf_flags_usage_error(&f,
			    "--name is not supported by"
			    " the controller yet");
			break;
		case OPT_WAIT:
			wait = 1;
			break;
		case OPT_JSON:
			json = 1;
			break;
		}
	}
	targets = wf_flags_args(&f, 1, -1, &n);
	rc = submit(targets, n, sets, nsets, wait, json);
	while (nmade > 0)
		free(made[--nmade]);
	json_decref(kernels);
	return rc;
}
