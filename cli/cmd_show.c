/*
 * cmd_show.c: `wakefarm show JOB [--json]`: a job in detail
 * (GET /api/v1/jobs/ID): verdict, generations, the failed checks.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "flags.h"

static const struct wf_cmd show_cmd = {
	"wakefarm show",
	"JOB",
	"Show a run or a job: checks per generation, verdicts, expected vs"
	" observed.",
	cli_json_only,
	NULL,
};

static void
print_checks(const json_t *j)
{
	const json_t *x;
	size_t i;

	json_array_foreach (json_object_get(j, "generations"), i, x) {
		printf("gen %lld: %s on CPU %lld, %lld CPUs online (expected"
		       " %lld), MADT v%lld/%lld, mailbox %s\n",
		    cli_num(x, "gen"), cli_str(x, "kind"), cli_num(x, "cpu"),
		    cli_num(x, "cpus_online"), cli_num(x, "expected_online"),
		    cli_num(x, "madt_version"), cli_num(x, "madt_length"),
		    cli_str(x, "mailbox"));
	}
	/* every check, as guest/run-qemu --check prints them */
	json_array_foreach (json_object_get(j, "checks"), i, x) {
		int ok = json_is_true(json_object_get(x, "ok")) ||
		    cli_num(x, "ok") == 1;
		char gen[32] = "", *e, *o;

		if (json_is_integer(json_object_get(x, "gen")) &&
		    cli_num(x, "gen") > 0)
			snprintf(
			    gen, sizeof(gen), "gen %lld", cli_num(x, "gen"));
		e = json_dumps(json_object_get(x, "expected"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		o = json_dumps(json_object_get(x, "observed"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%-4s %-22s %-7s expected %s, observed %s\n",
		    ok ? "ok" : "FAIL", cli_str(x, "check"), gen, e ? e : "",
		    o ? o : "");
		free(e);
		free(o);
	}
}

static void
print_job(const json_t *j)
{
	char *s;

	s = json_dumps(json_object_get(j, "params"), JSON_COMPACT);
	printf("job %lld, run %lld, scenario %s, attempt %lld, %s on %s\n"
	       "params: %s\n",
	    cli_num(j, "id"), cli_num(j, "run"), cli_str(j, "scenario"),
	    cli_num(j, "attempt"), cli_str(j, "state"), cli_str(j, "host"),
	    s ? s : "");
	free(s);
	s = json_dumps(json_object_get(j, "expected"), JSON_COMPACT);
	printf("verdict: %s (%s); expected %s; %s\n", cli_str(j, "verdict"),
	    cli_str(j, "reason"), s ? s : "",
	    cli_num(j, "as_expected") == 1 ? "as expected" :
	        json_is_integer(json_object_get(j, "as_expected")) ?
	                                     "NOT as expected" :
	                                     "not judged yet");
	free(s);
	print_checks(j);
	printf("%zu checks, %zu events\n",
	    json_array_size(json_object_get(j, "checks")),
	    json_array_size(json_object_get(j, "events")));
}

/* The job's self-contained reproduction (the controller's lines). */
static void
print_repro(const json_t *rp)
{
	if (json_is_string(json_object_get(rp, "cli")))
		printf("reproduce: %s\n", cli_str(rp, "cli"));
	if (json_is_string(json_object_get(rp, "run_qemu")))
		printf("without farm access (from a wakefarm tree): %s\n",
		    cli_str(rp, "run_qemu"));
}

int
cmd_show(int argc, char **argv)
{
	struct wf_flags f;
	char **args, path[64];
	long long id;
	json_t *j;
	int n, json;

	args = cli_json_args(&f, &show_cmd, argc, argv, 1, 1, &n, &json);
	if (cli_parse_id("job", args[0], &id) == -1)
		return CLI_USAGE;
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
	if ((j = cli_call("GET", path, NULL)) == NULL)
		return cli_failed();
	if (cli_expect(j, "id", JSON_INTEGER, path) == -1) {
		json_decref(j);
		return cli_failed();
	}
	if (json)
		cli_print_json(j);
	else
		print_job(j);
	if (!json)
		print_repro(json_object_get(j, "repro"));
	json_decref(j);
	return CLI_OK;
}
