/*
 * cmd_wait.c: `wakefarm wait RUN [--timeout S] [--json]`: follows a run to
 * its end, whoever submitted it (a nightly, a colleague's, a bisect step),
 * and exits by what it came to: 0 every job as expected, 1 not, 2 only
 * infra errors, 75 when --timeout ran out first. Also what `submit --wait`
 * runs (cli_follow_run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "flags.h"
#include "util.h"

#define POLL_US 1000000
#define HOSTS_EVERY 5 /* polls between two looks at the hosts */

enum {
	OPT_TIMEOUT = WF_FLAG_LONG,
	OPT_JSON,
};

static const struct wf_flag wait_flags[] = {
	{ "timeout", OPT_TIMEOUT, "S",
	    "give up after S seconds (exit 75; the"
	    " run goes on)",
	    0 },
	{ "json", OPT_JSON, NULL,
	    "print the run (GET /api/v1/runs/RUN) at its end, with \"exit\"",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd wait_cmd = {
	"wakefarm wait",
	"RUN",
	"Follow a run to its end, printing its progress; exit 0 when every job"
	" was as expected, 1 when one was not, 2 when only infra errors kept"
	" jobs from being judged.",
	wait_flags,
	NULL,
};

void
cli_print_unexpected(const json_t *reply)
{
	json_t *job;
	size_t i;

	json_array_foreach (json_object_get(reply, "jobs"), i, job) {
		char *m, *f, *e;

		if (strcmp(cli_str(job, "state"), "done") != 0 ||
		    cli_num(job, "as_expected") == 1)
			continue;
		m = json_dumps(json_object_get(job, "matrix"), JSON_COMPACT);
		f = json_dumps(json_object_get(job, "failing"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		e = json_dumps(json_object_get(job, "expected_failing"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		printf("  job %lld %s %s: %s %s, expected %s %s (%s)\n",
		    cli_num(job, "id"), cli_str(job, "scenario"), m ? m : "",
		    cli_str(job, "verdict"), f ? f : "",
		    cli_str(job, "expected_verdict"), e ? e : "",
		    cli_str(job, "reason"));
		free(m);
		free(f);
		free(e);
	}
}

/*
 * Whether some host can take the run's queued jobs (good and online): when
 * none can, say so once, with each host's state and what to do; and say so
 * again when one is back. *said: 1 while the "no host" line stands.
 */
static void
hosts_hint(long long run, int *said)
{
	char why[512] = "";
	const json_t *h;
	json_t *j;
	size_t i, len = 0;
	int good = 0, n = 0;

	if ((j = cli_call("GET", "/api/v1/hosts", NULL)) == NULL)
		return;
	json_array_foreach (json_object_get(j, "hosts"), i, h) {
		int online = cli_num(h, "online") == 1;
		int ok = strcmp(cli_str(h, "state"), "good") == 0;

		n++;
		good += ok && online;
		if (len < sizeof(why) - 1)
			len += (size_t)snprintf(why + len, sizeof(why) - len,
			    "%s%s %s", len ? ", " : "", cli_str(h, "name"),
			    !online ? "offline" :
			        ok  ? "good" :
			        strcmp(cli_str(h, "state"), "maintenance") ==
			            0 ?
			             "drained (maintenance)" :
			             cli_str(h, "state"));
	}
	json_decref(j);
	if (good == 0 && !*said) {
		fprintf(cli_json() ? stderr : stdout,
		    "run %lld: no good host can take the work (%s): start an"
		    " agent, or once a host is fixed put it back with"
		    " `wakefarm hosts set-state HOST good` (admin token)\n",
		    run, n ? why : "no host registered");
		*said = 1;
	} else if (good > 0 && *said) {
		fprintf(cli_json() ? stderr : stdout,
		    "run %lld: a good host is back (%s)\n", run, why);
		*said = 0;
	}
	fflush(stdout);
}

int
cli_follow_run(long long run, int timeout_s, json_t **final)
{
	int polls = 0, said = 0;
	long long done = -1, bad = -1, total;
	int64_t deadline = wf_now_ms() + (int64_t)timeout_s * 1000;
	char path[64];
	json_t *j, *rs;
	int finished, rc;

	*final = NULL;
	snprintf(path, sizeof(path), "/api/v1/runs/%lld", run);
	for (;;) {
		if ((j = cli_call("GET", path, NULL)) == NULL)
			return cli_failed();
		if (cli_expect(j, "run", JSON_OBJECT, path) == -1 ||
		    cli_expect(j, "jobs", JSON_ARRAY, path) == -1) {
			json_decref(j);
			return cli_failed();
		}
		rs = json_object_get(j, "run");
		total = cli_num(rs, "jobs_total");
		finished = strcmp(cli_str(rs, "state"), "done") == 0 ||
		    strcmp(cli_str(rs, "state"), "cancelled") == 0;
		if (!cli_json() &&
		    (cli_num(rs, "jobs_done") != done ||
		        cli_num(rs, "jobs_unexpected") != bad || finished)) {
			done = cli_num(rs, "jobs_done");
			bad = cli_num(rs, "jobs_unexpected");
			printf("run %lld: %lld/%lld jobs done, %lld not as"
			       " expected (%s)\n",
			    run, done, total, bad, cli_str(rs, "state"));
			fflush(stdout);
		}
		if (finished)
			break;
		if (timeout_s > 0 && wf_now_ms() >= deadline) {
			*final = j;
			return cli_error(CLI_TEMPFAIL, "wait",
			    "run %lld is still %s after %d s", run,
			    cli_str(rs, "state"), timeout_s);
		}
		if ((said || polls++ % HOSTS_EVERY == 0) &&
		    cli_num(rs, "jobs_done") < total)
			hosts_hint(run, &said);
		json_decref(j);
		usleep(POLL_US);
	}
	rc = cli_run_outcome(j);
	if (rc != CLI_OK && !cli_json())
		cli_print_unexpected(j);
	*final = j;
	return rc;
}

int
cli_run_started(json_t *reply, int wait, int json)
{
	json_t *final = NULL;
	int rc;

	if (json && !wait)
		cli_print_json(reply);
	rc = wait ? cli_follow_run(cli_num(reply, "run"), 0, &final) : CLI_OK;
	/* --wait --json: one document, the submission and what came of it */
	if (json && wait && final != NULL) {
		json_object_set_new(reply, "exit", json_integer(rc));
		json_object_set(reply, "result", final);
		cli_print_json(reply);
	}
	json_decref(final);
	return rc;
}

int
cmd_wait(int argc, char **argv)
{
	const char *arg;
	struct wf_flags f;
	long long run;
	json_t *final = NULL;
	char **args;
	int id, n, rc, timeout_s = 0, json = 0;

	wf_flags_begin(&f, &wait_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		if (id == OPT_TIMEOUT)
			timeout_s = (int)wf_flags_int(
			    &f, "--timeout", arg, 1, 7 * 86400);
		else
			json = 1;
	}
	args = wf_flags_args(&f, 1, 1, &n);
	if (cli_parse_id("run", args[0], &run) == -1)
		return CLI_USAGE;
	rc = cli_follow_run(run, timeout_s, &final);
	if (json && final != NULL && rc != CLI_TEMPFAIL) {
		json_object_set_new(final, "exit", json_integer(rc));
		cli_print_json(final);
	}
	json_decref(final);
	return rc;
}
