/*
 * cmd_bisect.c: `wakefarm bisect start|show|list|cancel` (the API:
 * controller/README.md "Bisects").
 * start --local runs the bisect here (bisect_local.c); otherwise the
 * controller runs it and start prints its id (--wait follows it to the end).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bisect_local.h"
#include "cli.h"
#include "flags.h"
#include "util.h"

enum {
	OPT_LOCAL = WF_FLAG_LONG,
	OPT_REPO,
	OPT_GOOD,
	OPT_BAD,
	OPT_ARTIFACT,
	OPT_ARTIFACTS,
	OPT_KIND,
	OPT_BUILD_TIMEOUT,
	OPT_SET,
	OPT_REPEAT,
	OPT_THRESHOLD,
	OPT_MAX_RUNS,
	OPT_CONFIDENCE,
	OPT_JOBS,
	OPT_SEED,
	OPT_CACHE,
	OPT_QEMU,
	OPT_LIBVIRT,
	OPT_JSON,
	OPT_WAIT,
	OPT_REG_RUN,
	OPT_REG_CASE,
};

static int bcmd_start(int, char **);
static int bcmd_show(int, char **);
static int bcmd_list(int, char **);
static int bcmd_cancel(int, char **);

static const struct wf_subcmd bisect_subcmds[] = {
	{ "start", "start a bisect (on the controller, or --local)",
	    bcmd_start },
	{ "show", "a bisect's steps, candidates and result", bcmd_show },
	{ "list", "the recent bisects", bcmd_list },
	{ "cancel", "cancel a running bisect", bcmd_cancel },
	{ NULL, NULL, NULL },
};

static const struct wf_cmd bisect_cmd = {
	"wakefarm bisect",
	NULL,
	"Find the first revision (or kernel) where a"
	" scenario starts failing, flaky failures included.",
	NULL,
	bisect_subcmds,
};

static const struct wf_flag start_flags[] = {
	{ "repo", OPT_REPO, "DIR",
	    "git repository (on the controller's host,"
	    " or here with --local)",
	    0 },
	{ "good", OPT_GOOD, "REV", "a revision where the scenario passes", 0 },
	{ "bad", OPT_BAD, "REV", "a later revision where it fails", 0 },
	{ "artifact", OPT_ARTIFACT, "PATH",
	    "the image the build makes, in the"
	    " checkout (e.g. kernel.elf)",
	    0 },
	{ "artifacts", OPT_ARTIFACTS, "A,B,...",
	    "instead of a repository:"
	    " kernels in order, good first, bad last",
	    0 },
	{ "kind", OPT_KIND, "test-kernel|linux",
	    "what the images are (default:"
	    " test-kernel for a repository, linux for --artifacts)",
	    0 },
	{ "build-timeout", OPT_BUILD_TIMEOUT, "S",
	    "time limit of one build"
	    " (default 1800)",
	    0 },
	{ "set", OPT_SET, "KEY=VALUE",
	    "fix a scenario field (repeatable); the"
	    " scenario must come down to one case",
	    0 },
	{ "repeat", OPT_REPEAT, "N", "runs per candidate and step (default 5)",
	    0 },
	{ "threshold", OPT_THRESHOLD, "N",
	    "failures that make a candidate bad"
	    " (default 1)",
	    0 },
	{ "max-runs", OPT_MAX_RUNS, "N",
	    "most runs of one candidate (default"
	    " 4 x repeat)",
	    0 },
	{ "confidence", OPT_CONFIDENCE, "P",
	    "per-verdict confidence aimed at"
	    " (default 0.99)",
	    0 },
	{ "regression-run", OPT_REG_RUN, "RUN",
	    "the nightly run whose"
	    " regression this bisects (a link)",
	    0 },
	{ "regression-case", OPT_REG_CASE, "CASE", "its case", 0 },
	{ "local", OPT_LOCAL, NULL,
	    "build and run everything here, no"
	    " controller",
	    0 },
	{ "jobs", OPT_JOBS, "N", "--local: guests at once (default 2)", 0 },
	{ "seed", OPT_SEED, "N",
	    "--local: give each run seed=<derived> on the"
	    " guest command line (reproducible flakes)",
	    0 },
	{ "cache", OPT_CACHE, "DIR", "--local: keep builds here across bisects",
	    0 },
	{ "qemu", OPT_QEMU, NULL, "--local: bare QEMU instead of libvirt", 0 },
	{ "libvirt", OPT_LIBVIRT, "URI",
	    "--local: libvirt connection (default"
	    " qemu:///system)",
	    0 },
	{ "wait", OPT_WAIT, NULL, "follow the controller's bisect to its end",
	    0 },
	{ "json", OPT_JSON, NULL, "print JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd start_cmd = {
	"wakefarm bisect start",
	"SCENARIO [-- BUILD COMMAND...]",
	"Bisect SCENARIO between --good and --bad of --repo, building each"
	" revision with the command after '--' (run as is, no shell), or over"
	" --artifacts. Exit status: 0 found (or started), 1 the bisect failed"
	" or was cancelled, 65 bad input (the table below).",
	start_flags,
	NULL,
};
static const struct wf_cmd show_cmd = {
	"wakefarm bisect show",
	"ID",
	"A bisect: result, steps with their runs"
	" and jobs, candidates.",
	cli_json_only,
	NULL,
};
static const struct wf_cmd list_cmd = {
	"wakefarm bisect list",
	NULL,
	"The recent bisects.",
	cli_json_only,
	NULL,
};
static const struct wf_cmd cancel_cmd = {
	"wakefarm bisect cancel",
	"ID",
	"Cancel a running bisect (and its open"
	" step's jobs).",
	cli_json_only,
	NULL,
};

int
cmd_bisect(int argc, char **argv)
{
	return wf_flags_run(&bisect_cmd, argc, argv);
}

static const char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static void
print_bisect(const json_t *b)
{
	const json_t *s, *fb = json_object_get(b, "first_bad_candidate");
	const char *state = str(b, "state");
	size_t i;

	printf("bisect %lld: %s, %s\n",
	    (long long)json_integer_value(json_object_get(b, "id")),
	    str(b, "scenario"), state);
	json_array_foreach (json_object_get(b, "steps"), i, s) {
		/* a commit id is shortened; an artifact is shown whole */
		printf("  step %lld: [%lld] %.*s %s: ",
		    (long long)json_integer_value(json_object_get(s, "step")),
		    (long long)json_integer_value(json_object_get(s, "index")),
		    strlen(str(s, "rev")) == 40 ? 12 : 512, str(s, "rev"),
		    str(s, "subject"));
		if (json_is_null(json_object_get(s, "run")))
			printf("build failed -> skip\n");
		else if (json_is_null(json_object_get(s, "finished_at")))
			printf("run %lld, %lld jobs running\n",
			    (long long)json_integer_value(
			        json_object_get(s, "run")),
			    (long long)json_integer_value(
			        json_object_get(s, "runs")));
		else
			printf("run %lld (jobs %s): %lld passed, %lld failed,"
			       " %lld infra -> %s\n",
			    (long long)json_integer_value(
			        json_object_get(s, "run")),
			    str(s, "jobs"),
			    (long long)json_integer_value(
			        json_object_get(s, "passes")),
			    (long long)json_integer_value(
			        json_object_get(s, "fails")),
			    (long long)json_integer_value(
			        json_object_get(s, "infra")),
			    str(s, "verdict"));
	}
	if (strcmp(state, "done") == 0 && fb != NULL) {
		long long range = json_integer_value(
		                      json_object_get(b, "first_bad")) -
		    json_integer_value(json_object_get(b, "last_good"));

		printf("%s: %s %s\n",
		    range == 1 ? "first bad revision" :
		                 "last of the revisions the first bad may be",
		    str(fb, "rev"), str(fb, "subject"));
		printf(
		    "confidence %.1f%%, failure rate of bad revisions %.0f%%\n",
		    100 * json_number_value(json_object_get(b, "confidence")),
		    100 * json_number_value(json_object_get(b, "flake_rate")));
	} else if (str(b, "message")[0]) {
		printf("%s\n", str(b, "message"));
	}
}

static int
follow(long long id, int json)
{
	char path[64];
	json_t *b;
	int rc;

	snprintf(path, sizeof(path), "/api/v1/bisects/%lld", id);
	for (;;) {
		if ((b = cli_call("GET", path, NULL)) == NULL)
			return cli_failed();
		if (strcmp(str(b, "state"), "running") != 0)
			break;
		json_decref(b);
		sleep(1);
	}
	if (json)
		cli_print_json(b);
	else
		print_bisect(b);
	rc = strcmp(str(b, "state"), "done") == 0 ? CLI_OK : CLI_UNEXPECTED;
	json_decref(b);
	return rc;
}

/* What `bisect start` was given. */
struct start_args {
	struct bisect_opts o;
	json_t *body, *set, *arts; /* the POST /bisects body so far */
	const char *reg_case;
	int wait, local;
};

/* One option into a; -1 (the error printed) for a bad --set. */
static int
start_option(struct wf_flags *f, int id, const char *arg, struct start_args *a)
{
	switch (id) {
	case OPT_REPO:
		a->o.repo = arg;
		break;
	case OPT_GOOD:
		a->o.good = arg;
		break;
	case OPT_BAD:
		a->o.bad = arg;
		break;
	case OPT_ARTIFACT:
		a->o.artifact = arg;
		break;
	case OPT_ARTIFACTS:
		cli_add_list(a->arts, arg);
		break;
	case OPT_KIND:
		a->o.kind = arg;
		break;
	case OPT_BUILD_TIMEOUT:
		a->o.build_timeout_s = (int)wf_flags_int(
		    f, "--build-timeout", arg, 1, 86400);
		break;
	case OPT_SET:
		if (cli_add_set(a->set, arg) == -1)
			return -1;
		break;
	case OPT_REPEAT:
		a->o.cfg.repeat = (int)wf_flags_int(f, "--repeat", arg, 1, 100);
		break;
	case OPT_THRESHOLD:
		a->o.cfg.threshold = (int)wf_flags_int(
		    f, "--threshold", arg, 1, 100);
		break;
	case OPT_MAX_RUNS:
		a->o.cfg.max_runs = (int)wf_flags_int(
		    f, "--max-runs", arg, 1, 1000);
		break;
	case OPT_CONFIDENCE:
		a->o.cfg.target = atof(arg);
		break;
	case OPT_REG_RUN:
		json_object_set_new(a->body, "regression",
		    json_pack("{s:I}", "run",
		        (json_int_t)wf_flags_int(
		            f, "--regression-run", arg, 1, INT32_MAX)));
		break;
	case OPT_REG_CASE:
		a->reg_case = arg;
		break;
	case OPT_LOCAL:
		a->local = 1;
		break;
	case OPT_JOBS:
		a->o.jobs = (int)wf_flags_int(f, "--jobs", arg, 1, 64);
		break;
	case OPT_SEED:
		a->o.seed = (unsigned long long)wf_flags_int(
		    f, "--seed", arg, 0, INT64_MAX);
		a->o.have_seed = 1;
		break;
	case OPT_CACHE:
		a->o.cache = arg;
		break;
	case OPT_QEMU:
		a->o.ro.bare_qemu = 1;
		break;
	case OPT_LIBVIRT:
		a->o.ro.libvirt_uri = arg;
		break;
	case OPT_WAIT:
		a->wait = 1;
		break;
	case OPT_JSON:
		a->o.json = 1;
		break;
	}
	return 0;
}

/* The rest of the POST /bisects body from the options. */
static void
start_body(struct start_args *a)
{
	const struct bisect_opts *o = &a->o;
	json_t *body = a->body, *argvj;

	json_object_set_new(body, "scenario", json_string(o->scenario));
	if (json_object_size(a->set) > 0)
		json_object_set(body, "set", a->set);
	if (json_array_size(a->arts) > 0) {
		json_object_set(body, "artifacts", a->arts);
	} else {
		argvj = json_array();
		for (int i = 0; o->build_argv[i]; i++)
			json_array_append_new(
			    argvj, json_string(o->build_argv[i]));
		json_object_set_new(body, "build", argvj);
		json_object_set_new(body, "repo", json_string(o->repo));
		json_object_set_new(body, "good", json_string(o->good));
		json_object_set_new(body, "bad", json_string(o->bad));
		json_object_set_new(body, "artifact", json_string(o->artifact));
		json_object_set_new(
		    body, "build_timeout_s", json_integer(o->build_timeout_s));
	}
	if (o->kind)
		json_object_set_new(body, "kind", json_string(o->kind));
	if (o->cfg.repeat)
		json_object_set_new(
		    body, "repeat", json_integer(o->cfg.repeat));
	if (o->cfg.threshold)
		json_object_set_new(
		    body, "threshold", json_integer(o->cfg.threshold));
	if (o->cfg.max_runs)
		json_object_set_new(
		    body, "max_runs", json_integer(o->cfg.max_runs));
	if (o->cfg.target)
		json_object_set_new(
		    body, "confidence", json_real(o->cfg.target));
}

/* The bisect on the controller: submitted, and with --wait followed. */
static int
start_remote(struct start_args *a)
{
	json_t *reply;
	int rc;

	start_body(a);
	if ((reply = cli_call("POST", "/api/v1/bisects", a->body)) == NULL)
		return cli_failed();
	if (!a->wait) {
		if (a->o.json)
			cli_print_json(reply);
		else
			printf("bisect %lld: %lld candidates\n",
			    (long long)json_integer_value(
			        json_object_get(reply, "bisect")),
			    (long long)json_integer_value(
			        json_object_get(reply, "candidates")));
		rc = 0;
	} else {
		rc = follow((long long)json_integer_value(
		                json_object_get(reply, "bisect")),
		    a->o.json);
	}
	json_decref(reply);
	return rc;
}

static int
bcmd_start(int argc, char **argv)
{
	struct start_args a = { .o = { .build_timeout_s = 1800, .jobs = 2 } };
	struct bisect_opts *o = &a.o;
	struct wf_flags f;
	const char *arg;
	char **args;
	int id, n, rc = CLI_USAGE;

	a.body = json_object();
	a.set = json_object();
	a.arts = json_array();
	o->ro.libvirt_uri = "qemu:///system";
	o->ro.accel = "tcg";
	o->ro.set = a.set;
	wf_flags_begin(&f, &start_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		if (start_option(&f, id, arg, &a) == -1)
			goto out;
	}
	args = wf_flags_args(&f, 1, 66, &n);
	o->scenario = args[0];
	o->build_argv = n > 1 ? args + 1 : NULL;
	if (a.reg_case != NULL) {
		if (json_object_get(a.body, "regression") == NULL)
			wf_flags_usage_error(&f,
			    "--regression-case needs"
			    " --regression-run");
		json_object_set_new(json_object_get(a.body, "regression"),
		    "case", json_string(a.reg_case));
	}
	if (json_array_size(a.arts) == 0 &&
	    (!o->repo || !o->good || !o->bad || !o->artifact || !o->build_argv))
		wf_flags_usage_error(&f,
		    "give --repo, --good, --bad, --artifact"
		    " and the build command after '--' (or --artifacts)");
	if (a.local) {
		if (json_array_size(a.arts) > 0)
			wf_flags_usage_error(&f,
			    "--local bisects a repository"
			    " (--artifacts needs the controller)");
		if (bisect_cfg_check(&o->cfg, NULL) == -1)
			wf_flags_usage_error(&f,
			    "--repeat, --threshold,"
			    " --max-runs or --confidence out of range");
		rc = bisect_local_main(o);
	} else {
		rc = start_remote(&a);
	}
out:
	json_decref(a.body);
	json_decref(a.set);
	json_decref(a.arts);
	return rc;
}

static int
bcmd_show(int argc, char **argv)
{
	struct wf_flags f;
	char **args, path[64];
	json_t *b;
	int n, json, rc;

	args = cli_json_args(&f, &show_cmd, argc, argv, 1, 1, &n, &json);
	snprintf(path, sizeof(path), "/api/v1/bisects/%lld",
	    (long long)wf_flags_int(&f, "ID", args[0], 1, INT64_MAX));
	if ((b = cli_get_or_print(path, json, &rc)) == NULL)
		return rc;
	print_bisect(b);
	json_decref(b);
	return 0;
}

static int
bcmd_list(int argc, char **argv)
{
	struct wf_flags f;
	const json_t *b;
	json_t *j;
	size_t i;
	int n, json, rc;

	cli_json_args(&f, &list_cmd, argc, argv, 0, 0, &n, &json);
	if ((j = cli_get_or_print("/api/v1/bisects", json, &rc)) == NULL)
		return rc;
	json_array_foreach (json_object_get(j, "bisects"), i, b)
		printf("%5lld  %-9s %-24s %3lld steps  %s%s%.12s %s\n",
		    (long long)json_integer_value(json_object_get(b, "id")),
		    str(b, "state"), str(b, "scenario"),
		    (long long)json_integer_value(json_object_get(b, "steps")),
		    str(b, "first_bad_rev")[0] ? "first bad " : "",
		    str(b, "first_bad_rev")[0] ? "" : str(b, "message"),
		    str(b, "first_bad_rev"), str(b, "first_bad_subject"));
	json_decref(j);
	return 0;
}

static int
bcmd_cancel(int argc, char **argv)
{
	struct wf_flags f;
	char **args, path[64];
	json_t *j;
	int n, json, rc;

	args = cli_json_args(&f, &cancel_cmd, argc, argv, 1, 1, &n, &json);
	snprintf(path, sizeof(path), "/api/v1/bisects/%lld/cancel",
	    (long long)wf_flags_int(&f, "ID", args[0], 1, INT64_MAX));
	if ((j = cli_call_or_print("POST", path, NULL, json, &rc)) == NULL)
		return rc;
	printf("bisect %s: cancelled\n", args[0]);
	json_decref(j);
	return 0;
}
