/*
 * cmd_scenario.c: `wakefarm scenario validate FILE... [--set K=V]...
 * [--json]`: each scenario file checked here, with the code the controller
 * checks submissions with (lib/scenario.h: strict keys and values with
 * FILE:LINE, the --set overrides, the matrix expanded), without submitting
 * anything. Exit 0 when every file is valid, 65 when one is not, 66 when
 * one cannot be read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "flags.h"
#include "json.h"
#include "scenario.h"
#include "util.h"

enum {
	OPT_SET = WF_FLAG_LONG,
	OPT_JSON,
};

static const struct wf_flag validate_flags[] = {
	{ "set", OPT_SET, "KEY=VALUE",
	    "apply this override too, as submit"
	    " --set would (repeatable)",
	    0 },
	{ "json", OPT_JSON, NULL,
	    "{\"files\": [{\"file\", \"valid\", \"name\", \"cases\" |"
	    " \"error\"}]}",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd validate_cmd = {
	"wakefarm scenario validate",
	"FILE...",
	"Check scenario files as the controller would (keys, values, FILE:LINE"
	" of the first fault, the matrix expanded), submitting nothing.",
	validate_flags,
	NULL,
};

static int scenario_validate(int argc, char **argv);

static const struct wf_subcmd scenario_subcmds[] = {
	{ "validate", "check scenario files without submitting them",
	    scenario_validate },
	{ NULL, NULL, NULL },
};

static const struct wf_cmd scenario_cmd = {
	"wakefarm scenario",
	NULL,
	"Scenario files (format: scenarios/README.md).",
	NULL,
	scenario_subcmds,
};

int
cmd_scenario(int argc, char **argv)
{
	return wf_flags_run(&scenario_cmd, argc, argv);
}

/* One file: {"file", "valid", ...} (new); *rc worsened on a fault. */
static json_t *
validate_one(const char *path, const json_t *set, int *rc)
{
	struct scenario *sc = NULL;
	json_t *cases = NULL, *res;
	char *cause = NULL;
	struct stat st;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		if (stat(path, &st) == -1)
			wf_set_cause(&cause, "%s: %s", path, strerror(errno));
		else
			wf_set_cause(&cause, "%s: not a file", path);
		*rc = CLI_NOINPUT;
	} else if ((sc = scenario_load_file(path, &cause)) != NULL &&
	    (json_object_size(set) == 0 ||
	        scenario_set(sc, set, &cause) == 0) &&
	    (cases = scenario_expand(sc, &cause)) != NULL) {
		res = json_pack("{s:s, s:b, s:s, s:I, s:b}", "file", path,
		    "valid", 1, "name", sc->name, "cases",
		    (json_int_t)json_array_size(cases), "nightly", sc->nightly);
		json_decref(cases);
		scenario_free(sc);
		return res;
	} else if (*rc == CLI_OK) {
		*rc = CLI_DATAERR;
	}
	scenario_free(sc);
	res = json_pack("{s:s, s:b, s:o}", "file", path, "valid", 0, "error",
	    wf_json_textz(cause != NULL ? cause : "out of memory"));
	free(cause);
	return res;
}

static int
scenario_validate(int argc, char **argv)
{
	json_t *set = json_object(), *files = json_array(), *r, *out;
	const char *arg;
	struct wf_flags f;
	char **args;
	int id, n, i, json = 0, rc = CLI_OK;

	wf_flags_begin(&f, &validate_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		if (id == OPT_SET) {
			cli_check_set(&f, arg);
			if (cli_add_set(set, arg) == -1) {
				json_decref(set);
				json_decref(files);
				return CLI_USAGE;
			}
		} else {
			json = 1;
		}
	}
	args = wf_flags_args(&f, 1, -1, &n);
	for (i = 0; i < n; i++) {
		r = validate_one(args[i], set, &rc);
		if (json)
			json_array_append(files, r);
		else if (json_is_true(json_object_get(r, "valid")))
			printf("%s: ok, scenario %s, %lld cases%s\n", args[i],
			    cli_str(r, "name"), cli_num(r, "cases"),
			    json_is_true(json_object_get(r, "nightly")) ?
			        ", nightly" :
			        "");
		else
			fprintf(stderr, "wakefarm scenario validate: %s\n",
			    cli_str(r, "error"));
		json_decref(r);
	}
	if (json) {
		out = json_pack("{s:o, s:i}", "files", files, "exit", rc);
		cli_print_json(out);
		json_decref(out);
	} else {
		json_decref(files);
	}
	json_decref(set);
	return rc;
}
