/*
 * ctest_cli.c: the CLI's controller commands (bin/wakefarm submit,
 * status, show, logs, cancel, hosts, tokens, known-issues) against the suite's controller, with
 * the test playing the agent .
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "suite.h"
#include "../unit/test.h"

TEST(cli_submit_wait_and_read)
{
	const char *const ok_args[] = { "submit", "quirk-v1-short-entry",
		"--wait", NULL };
	const char *const bad_args[] = { "submit", "cold-boot", "--set",
		"cpus=2", "--set", "mailbox_version=1", "--wait", NULL };
	char out[16384], jobarg[32], runarg[32];
	struct cli c;
	json_int_t job;
	int rc;

	/* Every job as expected: exit 0, with progress lines. */
	cli_start(&c, submitter, ok_args);
	job = agent_runs_next("quirk-v1-short-entry.records", "completed");
	CHECK(job > 0);
	rc = cli_wait(&c, out, sizeof(out));
	CHECK_EQ_INT(rc, 0);
	CHECK_STR_CONTAINS(out, "1 jobs (adhoc)");
	CHECK_STR_CONTAINS(out, "1/1 jobs done, 0 not as expected (done)");

	/* One job whose records do not meet its expectation: exit 1. */
	cli_start(&c, submitter, bad_args);
	job = agent_runs_next("quirk-v1-short-entry.records", "completed");
	CHECK(job > 0);
	rc = cli_wait(&c, out, sizeof(out));
	CHECK_EQ_INT(rc, 1);
	CHECK_STR_CONTAINS(out, "1 not as expected");
	CHECK_STR_CONTAINS(out, "madt-entry\"");
	CHECK_STR_CONTAINS(
	    out, "], expected pass [] (check madt-entry failed)");

	snprintf(jobarg, sizeof(jobarg), "%lld", (long long)job);
	{
		const char *const a[] = { "show", jobarg, NULL };

		CHECK_EQ_INT(cli(NULL, a, out, sizeof(out)), 0);
		/* every check, passed ones too (issue 19, point 10) */
		CHECK_STR_CONTAINS(
		    out, "\nFAIL madt-entry             gen 1   expected ");
		CHECK_STR_CONTAINS(out, "\nok   ");
		CHECK_STR_CONTAINS(out, "NOT as expected");
	}
	{
		const char *const a[] = { "logs", jobarg, "--port", "records",
			NULL };

		CHECK_EQ_INT(cli(NULL, a, out, sizeof(out)), 0);
		CHECK_STR_CONTAINS(out, "\"ev\":\"fw-ready\"");
	}
	{
		const char *const a[] = { "status", NULL };

		CHECK_EQ_INT(cli(NULL, a, out, sizeof(out)), 0);
		CHECK_STR_CONTAINS(out, "UNEXPECTED");
	}
	{
		const char *const a[] = { "hosts", NULL };

		CHECK_EQ_INT(cli(NULL, a, out, sizeof(out)), 0);
		CHECK_STR_CONTAINS(out, "h1");
	}
	{
		const char *const a[] = { "submit", "kexec-chain", NULL };
		json_int_t run;

		CHECK_EQ_INT(cli(submitter, a, out, sizeof(out)), 0);
		run = atoll(out + 4); /* "run N: ..." */
		snprintf(runarg, sizeof(runarg), "%lld", (long long)run);
	}
	{
		const char *const a[] = { "status", runarg, NULL };

		CHECK_EQ_INT(cli(NULL, a, out, sizeof(out)), 0);
		CHECK_STR_CONTAINS(out, "0/4 done");
	}
	{
		const char *const a[] = { "cancel", runarg, NULL };

		CHECK_EQ_INT(cli(reader, a, out, sizeof(out)), 77);
		CHECK_STR_CONTAINS(out, "the reader role may not do this");
		CHECK_EQ_INT(cli(submitter, a, out, sizeof(out)), 0);
		CHECK_STR_CONTAINS(out, "4 jobs cancelled");
	}
	{
		const char *const a[] = { "submit", "no-such-scenario", NULL };

		CHECK_EQ_INT(cli(submitter, a, out, sizeof(out)), 65);
		CHECK_STR_CONTAINS(out, "no scenario named 'no-such-scenario'");
	}
	cancel_all();
}

/* --- the exit status table, verb by verb (cli/README.md) --- */

enum who {
	NOBODY,
	SUB,
	READ,
	ADMIN
};
enum where {
	HERE,
	JUNK,
	BAD,
	DOWN
};

struct exit_case {
	const char *args[14];
	enum who who;
	enum where where;
	int want;
	const char *says; /* in stdout + stderr */
};

/* The runs and jobs the table talks about (ids as text). */
struct fixture_runs {
	char ok[24], bad[24], infra[24], queued[24], job_ok[24];
};

static const char *
token_of(enum who w)
{
	return w == SUB ? submitter :
	    w == READ   ? reader :
	    w == ADMIN  ? admin :
	                  NULL;
}

/* @OK, @BAD, @INFRA, @QUEUED, @JOB in args: the fixture's ids. */
static const char *
arg_of(const char *a, const struct fixture_runs *f)
{
	if (strcmp(a, "@OK") == 0)
		return f->ok;
	if (strcmp(a, "@BAD") == 0)
		return f->bad;
	if (strcmp(a, "@INFRA") == 0)
		return f->infra;
	if (strcmp(a, "@QUEUED") == 0)
		return f->queued;
	if (strcmp(a, "@JOB") == 0)
		return f->job_ok;
	return a;
}

/* One run of quirk-v1-short-entry played with records: its id. */
static json_int_t
played_run(const char *records, const char *outcome, int times)
{
	json_int_t run = submit("{\"scenario\": \"quirk-v1-short-entry\","
	                        " \"priority\": 900}",
	    NULL);
	int i;

	for (i = 0; i < times; i++)
		agent_runs_next(records, outcome);
	return run;
}

static void
make_fixture(struct fixture_runs *f)
{
	char path[64];
	json_t *j;
	long st;

	cancel_all();
	snprintf(f->ok, sizeof(f->ok), "%lld",
	    (long long)played_run(
	        "quirk-v1-short-entry.records", "completed", 1));
	snprintf(f->bad, sizeof(f->bad), "%lld",
	    (long long)played_run("v1-2cpu-cold.records", "completed", 1));
	snprintf(f->infra, sizeof(f->infra), "%lld",
	    (long long)played_run(NULL, "infra", 3));
	snprintf(f->queued, sizeof(f->queued), "%lld",
	    (long long)submit("{\"scenario\": \"cold-boot\", \"set\":"
	                      " {\"cpus\": 1, \"mailbox_version\": 0}}",
	        NULL));
	snprintf(path, sizeof(path), "/api/v1/runs/%s", f->ok);
	j = jcall(&S, NULL, "GET", path, NULL, &st);
	snprintf(f->job_ok, sizeof(f->job_ok), "%lld",
	    (long long)jint(
	        json_array_get(json_object_get(j, "jobs"), 0), "id"));
	json_decref(j);
}

/* A controller's answers that make no sense: static files under --web. */
static void
junk_replies(void)
{
	static const char *const files[][2] = {
		{ "junk/api/v1/hosts", "this is not JSON" },
		{ "junk/api/v1/runs", "<html>nope</html>" },
		{ "bad/api/v1/hosts", "{\"hosts\": 5}" },
		{ "bad/api/v1/runs", "{\"runs\": {}}" },
	};
	char path[512], dir[512];
	size_t i;
	FILE *fp;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/web/%s", tmp, files[i][0]);
		snprintf(dir, sizeof(dir), "%s", path);
		*strrchr(dir, '/') = '\0';
		for (char *p = dir + strlen(tmp) + 1;
		     (p = strchr(p, '/')) != NULL; p++) {
			*p = '\0';
			mkdir(dir, 0755);
			*p = '/';
		}
		mkdir(dir, 0755);
		if ((fp = fopen(path, "w")) != NULL) {
			fputs(files[i][1], fp);
			fclose(fp);
		}
	}
}

static const struct exit_case exit_cases[] = {
	/* usage: 64 */
	{ { "status", "--bogus", NULL }, NOBODY, HERE, 64, "unknown option" },
	{ { "show", NULL }, NOBODY, HERE, 64, "missing" },
	{ { "wait", "x", NULL }, NOBODY, HERE, 64, "not a run id" },
	{ { "logs", "@JOB", "--port", "9", NULL }, NOBODY, HERE, 64, "--port" },
	{ { "hosts", "set-state", "h1", "broken", NULL }, ADMIN, HERE, 64,
	    "good" },
	{ { "frobnicate", NULL }, NOBODY, HERE, 64, "unknown command" },
	{ { "events", "--count", "1", NULL }, NOBODY, HERE, 64, "--follow" },
	{ { "tokens", "revoke", "x", NULL }, ADMIN, HERE, 64,
	    "not a token id" },
	{ { "tokens", "revoke", NULL }, ADMIN, HERE, 64, "missing" },
	{ { "known-issues", "add", "--scenario", "x", "--check", "y", NULL },
	    ADMIN, HERE, 64, "--description" },
	{ { "known-issues", "add", "--scenario", "", "--check", "y",
	      "--description", "d", NULL },
	    ADMIN, HERE, 64, "--scenario must not be empty" },
	{ { "known-issues", "add", "extra", "--scenario", "x", "--check", "y",
	      "--description", "d", NULL },
	    ADMIN, HERE, 64, "" },
	/* a run's outcome: 0, 1, 2; a timeout: 75 */
	{ { "wait", "@OK", NULL }, NOBODY, HERE, 0, "0 not as expected" },
	{ { "wait", "@BAD", NULL }, NOBODY, HERE, 1, "1 not as expected" },
	{ { "wait", "@INFRA", NULL }, NOBODY, HERE, 2, "infra" },
	{ { "wait", "@QUEUED", "--timeout", "1", NULL }, NOBODY, HERE, 75,
	    "still" },
	{ { "compare", "@OK", "@BAD", NULL }, NOBODY, HERE, 1,
	    "1 regressions" },
	{ { "compare", "@OK", "@OK", NULL }, NOBODY, HERE, 0, "0 regressions" },
	{ { "regressions", NULL }, NOBODY, HERE, 0, "0 regressions" },
	/* not found: 66 */
	{ { "wait", "999999", NULL }, NOBODY, HERE, 66, "no run 999999" },
	{ { "status", "999999", NULL }, NOBODY, HERE, 66, "no run 999999" },
	{ { "show", "999999", NULL }, NOBODY, HERE, 66, "no job 999999" },
	{ { "logs", "999999", NULL }, NOBODY, HERE, 66,
	    "no job 999999 (HTTP 404)" },
	{ { "compare", "999998", "999999", NULL }, NOBODY, HERE, 66, "no run" },
	{ { "cancel", "999999", NULL }, SUB, HERE, 66, "no run" },
	{ { "bisect", "show", "999999", NULL }, NOBODY, HERE, 66, "404" },
	{ { "hosts", "set-state", "nohost", "good", NULL }, ADMIN, HERE, 66,
	    "no host" },
	{ { "schedule", "rm", "nosched", NULL }, ADMIN, HERE, 66,
	    "no schedule" },
	{ { "scenario", "validate", "/nonexistent.json", NULL }, NOBODY, HERE,
	    66, "No such file" },
	{ { "repro", "999999", NULL }, NOBODY, HERE, 66, "no job 999999" },
	{ { "tokens", "revoke", "999999", NULL }, ADMIN, HERE, 66,
	    "no token 999999" },
	/* refused input: 65 */
	{ { "submit", "no-such-scenario", NULL }, SUB, HERE, 65,
	    "no scenario" },
	{ { "submit", "cold-boot", "--set", "cpuz=1", NULL }, SUB, HERE, 65,
	    "cpuz" },
	{ { "scenario", "validate", "tests/controller/data/bad-scenario.json",
	      NULL },
	    NOBODY, HERE, 65, "unknown key" },
	{ { "known-issues", "add", "--scenario", "x", "--check", "y",
	      "--description", "d", "--log-regex", "(", NULL },
	    ADMIN, HERE, 65, "log_regex" },
	/* permission: 77 */
	{ { "submit", "cold-boot", NULL }, NOBODY, HERE, 77, "token" },
	{ { "cancel", "@QUEUED", NULL }, READ, HERE, 77, "reader role" },
	{ { "hosts", "set-state", "h1", "good", NULL }, SUB, HERE, 77,
	    "submitter role" },
	{ { "schedule", "add", "x", "--at", "01:00", NULL }, SUB, HERE, 77,
	    "role" },
	{ { "tokens", "list", NULL }, SUB, HERE, 77, "submitter role" },
	{ { "known-issues", "add", "--scenario", "x", "--check", "y",
	      "--description", "d", NULL },
	    SUB, HERE, 77, "submitter role" },
	/* the controller: away 69, nonsense 70 */
	{ { "status", NULL }, NOBODY, DOWN, 69, "" },
	{ { "hosts", NULL }, NOBODY, DOWN, 69, "" },
	{ { "hosts", NULL }, NOBODY, JUNK, 70, "not JSON" },
	{ { "status", NULL }, NOBODY, JUNK, 70, "not JSON" },
	{ { "hosts", NULL }, NOBODY, BAD, 70, "malformed reply" },
	{ { "status", NULL }, NOBODY, BAD, 70, "malformed reply" },
	/* fine: 0 */
	{ { "status", NULL }, NOBODY, HERE, 0, "RUN" },
	{ { "status", "@OK", NULL }, NOBODY, HERE, 0, "as expected" },
	{ { "show", "@JOB", NULL }, NOBODY, HERE, 0, "verdict" },
	{ { "logs", "@JOB", "--port", "records", NULL }, NOBODY, HERE, 0,
	    "fw-ready" },
	{ { "hosts", NULL }, NOBODY, HERE, 0, "h1" },
	{ { "hosts", "set-state", "h2", "maintenance", NULL }, ADMIN, HERE, 0,
	    "host h2: maintenance" },
	{ { "hosts", "set-state", "h2", "good", NULL }, ADMIN, HERE, 0,
	    "host h2: good" },
	{ { "schedule", "list", NULL }, NOBODY, HERE, 0, "NAME" },
	{ { "bisect", "list", NULL }, NOBODY, HERE, 0, "" },
	{ { "scenario", "validate", "scenarios/cold-boot.json",
	      "scenarios/kexec-chain.json", NULL },
	    NOBODY, HERE, 0, "ok, scenario kexec-chain" },
	{ { "events", "--limit", "5", NULL }, NOBODY, HERE, 0, "" },
	{ { "tokens", "list", NULL }, ADMIN, HERE, 0, "ROLE" },
	{ { "known-issues", "list", NULL }, NOBODY, HERE, 0, "DESCRIPTION" },
	{ { "cancel", "@QUEUED", NULL }, SUB, HERE, 0, "cancelled" },
};

static void
base_of(enum where w, char *out, size_t size)
{
	if (w == DOWN)
		snprintf(out, size, "http://127.0.0.1:9");
	else
		snprintf(out, size, "%s%s", S.base,
		    w == JUNK    ? "/junk" :
		        w == BAD ? "/bad" :
		                   "");
}

/* Every case, then again with --json: stdout one JSON document. */
static void
run_exit_case(const struct exit_case *c, const struct fixture_runs *f, int json)
{
	static char out[1 << 18], err[1 << 16];
	const char *argv[16];
	char base[128], both[(1 << 18) + (1 << 16)];
	json_t *doc;
	int i, n = 0, rc;

	for (i = 0; c->args[i] != NULL; i++)
		argv[n++] = arg_of(c->args[i], f);
	if (json)
		argv[n++] = "--json";
	argv[n] = NULL;
	base_of(c->where, base, sizeof(base));
	rc = cli_split(
	    token_of(c->who), base, argv, out, sizeof(out), err, sizeof(err));
	snprintf(both, sizeof(both), "%s%s", out, err);
	/* --json: a run's outcome is the JSON document, no human line */
	if (json && c->want < 64)
		snprintf(both, sizeof(both), "%s", c->says);
	if (rc != c->want || strstr(both, c->says) == NULL) {
		printf("  wakefarm");
		for (i = 0; argv[i] != NULL; i++)
			printf(" %s", argv[i]);
		printf(
		    ": exit %d (want %d), said:\n%.2000s\n", rc, c->want, both);
	}
	CHECK_EQ_INT(rc, c->want);
	CHECK_STR_CONTAINS(both, c->says);
	if (!json)
		return;
	/* --json: stdout is one JSON document, errors included */
	doc = json_loads(out, 0, NULL);
	if (doc == NULL)
		printf(
		    "  %s --json: stdout is not one JSON document:\n%.2000s\n",
		    c->args[0], out);
	CHECK(doc != NULL);
	if (rc != 0 && c->want != 1 && c->want != 2 && doc != NULL)
		CHECK_EQ_INT(jint(doc, "exit"), rc);
	json_decref(doc);
}

TEST(cli_exit_status_table_verb_by_verb)
{
	struct fixture_runs f;
	size_t i;

	junk_replies();
	make_fixture(&f);
	for (i = 0; i < sizeof(exit_cases) / sizeof(exit_cases[0]); i++) {
		/* cancel @QUEUED goes last: the wait case needs it queued */
		run_exit_case(&exit_cases[i], &f, 0);
		if (exit_cases[i].want != 0 ||
		    strcmp(exit_cases[i].args[0], "cancel") != 0)
			run_exit_case(&exit_cases[i], &f, 1);
	}
	cancel_all();
}

TEST(cli_help_shows_the_exit_status_table)
{
	static const char *const verbs[] = { "submit", "wait", "status", "show",
		"logs", "cancel", "hosts", "repro", "compare", "regressions",
		"events", NULL };
	char out[16384];
	int i;

	for (i = 0; verbs[i] != NULL; i++) {
		const char *const a[] = { verbs[i], "--help", NULL };

		CHECK_EQ_INT(cli(NULL, a, out, sizeof(out)), 0);
		CHECK_STR_CONTAINS(out, "Exit status:");
		CHECK_STR_CONTAINS(out, "66  no such run");
	}
	{
		const char *const a[] = { "--help", NULL };

		CHECK_EQ_INT(cli(NULL, a, out, sizeof(out)), 0);
		CHECK_STR_CONTAINS(out, "77  no token");
		CHECK_STR_CONTAINS(out, "wait ");
		CHECK_STR_CONTAINS(out, "scenario ");
		CHECK_STR_CONTAINS(out, "events ");
	}
}

/* The JSON object of this list whose key is value (borrowed), or NULL. */
static json_t *
find_in(json_t *list, const char *key, const char *value)
{
	json_t *o;
	size_t i;

	json_array_foreach (list, i, o)
		if (strcmp(jstr(o, key), value) == 0)
			return o;
	return NULL;
}

/* tokens list shows a token (never its secret); revoked, it is refused. */
TEST(cli_tokens_list_and_revoke)
{
	const char *const list[] = { "tokens", "list", NULL };
	const char *const list_json[] = { "tokens", "list", "--json", NULL };
	const char *const status[] = { "status", NULL };
	char out[65536], tok[80], idarg[32];
	json_t *j, *t;
	long st;

	j = jcall(&S, admin, "POST", "/api/v1/admin/tokens",
	    "{\"name\": \"cli-listed\", \"role\": \"submitter\"}", &st);
	REQUIRE(st == 201);
	snprintf(tok, sizeof(tok), "%s", jstr(j, "token"));
	snprintf(idarg, sizeof(idarg), "%lld", (long long)jint(j, "id"));
	json_decref(j);

	CHECK_EQ_INT(cli(admin, list, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, "cli-listed");
	CHECK(strstr(out, tok) == NULL);
	CHECK_EQ_INT(cli(admin, list_json, out, sizeof(out)), 0);
	REQUIRE((j = json_loads(out, 0, NULL)) != NULL);
	t = find_in(json_object_get(j, "tokens"), "name", "cli-listed");
	REQUIRE(t != NULL);
	CHECK_EQ_INT(jint(t, "id"), atoll(idarg));
	CHECK_STR_EQ(jstr(t, "role"), "submitter");
	CHECK_EQ_INT(jint(t, "revoked"), 0);
	json_decref(j);

	/* the token works, then is revoked and refused */
	CHECK_EQ_INT(cli(tok, status, out, sizeof(out)), 0);
	{
		const char *const a[] = { "tokens", "revoke", idarg, NULL };

		CHECK_EQ_INT(cli(submitter, a, out, sizeof(out)), 77);
		CHECK_EQ_INT(cli(tok, status, out, sizeof(out)), 0);
		CHECK_EQ_INT(cli(admin, a, out, sizeof(out)), 0);
		CHECK_STR_CONTAINS(out, "revoked");
	}
	CHECK_EQ_INT(cli(tok, status, out, sizeof(out)), 77);
	CHECK_STR_CONTAINS(out, "revoked token");
	json_decref(jcall(&S, tok, "GET", "/api/v1/runs", NULL, &st));
	CHECK_EQ_INT(st, 401);
	CHECK_EQ_INT(cli(admin, list, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, "revoked");
	CHECK_EQ_INT(cli(admin, list_json, out, sizeof(out)), 0);
	REQUIRE((j = json_loads(out, 0, NULL)) != NULL);
	t = find_in(json_object_get(j, "tokens"), "name", "cli-listed");
	REQUIRE(t != NULL);
	CHECK_EQ_INT(jint(t, "revoked"), 1);
	json_decref(j);
	/* the admin token (named "admin") may not revoke itself: 65 */
	CHECK_EQ_INT(cli(admin, list_json, out, sizeof(out)), 0);
	REQUIRE((j = json_loads(out, 0, NULL)) != NULL);
	t = find_in(json_object_get(j, "tokens"), "name", "admin");
	REQUIRE(t != NULL);
	snprintf(idarg, sizeof(idarg), "%lld", (long long)jint(t, "id"));
	json_decref(j);
	{
		const char *const a[] = { "tokens", "revoke", idarg, NULL };

		CHECK_EQ_INT(cli(admin, a, out, sizeof(out)), 65);
		CHECK_STR_CONTAINS(out, "cannot revoke itself");
	}
	CHECK_EQ_INT(cli(admin, list, out, sizeof(out)), 0);
}

/* known-issues add, then list shows it with every field. */
TEST(cli_known_issues_add_and_list)
{
	const char *const add[] = { "known-issues", "add", "--scenario",
		"cold-*", "--check", "madt-entry", "--description",
		"cli: the MADT entry bug", "--url", "https://bugs.example/42",
		"--log-regex", "ACPI Error: .*MADT", NULL };
	const char *const list[] = { "known-issues", "list", NULL };
	const char *const list_json[] = { "known-issues", "list", "--json",
		NULL };
	char out[65536];
	json_t *j, *k;
	long long id;

	CHECK_EQ_INT(cli(admin, add, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, "known issue ");
	id = atoll(out + strlen("known issue "));
	CHECK(id > 0);
	CHECK_EQ_INT(cli(reader, list, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, "cli: the MADT entry bug");
	CHECK_STR_CONTAINS(out, "cold-*");
	CHECK_STR_CONTAINS(out, "url https://bugs.example/42");
	CHECK_STR_CONTAINS(out, "log regex ACPI Error: .*MADT");
	CHECK_EQ_INT(cli(reader, list_json, out, sizeof(out)), 0);
	REQUIRE((j = json_loads(out, 0, NULL)) != NULL);
	k = find_in(json_object_get(j, "known_issues"), "description",
	    "cli: the MADT entry bug");
	REQUIRE(k != NULL);
	CHECK_EQ_INT(jint(k, "id"), id);
	CHECK_STR_EQ(jstr(k, "scenario"), "cold-*");
	CHECK_STR_EQ(jstr(k, "check"), "madt-entry");
	CHECK_STR_EQ(jstr(k, "url"), "https://bugs.example/42");
	CHECK_STR_EQ(jstr(k, "log_regex"), "ACPI Error: .*MADT");
	json_decref(j);
}

/* repro under bare QEMU: one JSON document (no header line), 0 or 1. */
TEST(repro_json_is_one_document)
{
	static char out[1 << 18], err[1 << 16];
	const char *const ok[] = { "repro", "quirk-v1-short-entry", "--qemu",
		"--json", NULL };
	const char *const bad[] = { "repro", "quirk-v1-short-entry", "--set",
		"quirks=none", "--qemu", "--json", NULL };
	json_t *j;

	CHECK_EQ_INT(
	    cli_split(NULL, NULL, ok, out, sizeof(out), err, sizeof(err)), 0);
	j = json_loads(out, 0, NULL);
	REQUIRE(j != NULL);
	CHECK_EQ_INT(jint(j, "exit"), 0);
	CHECK(json_is_true(json_object_get(
	    json_array_get(json_object_get(j, "cases"), 0), "as_expected")));
	json_decref(j);
	CHECK_EQ_INT(
	    cli_split(NULL, NULL, bad, out, sizeof(out), err, sizeof(err)), 1);
	j = json_loads(out, 0, NULL);
	REQUIRE(j != NULL);
	CHECK_EQ_INT(jint(j, "exit"), 1);
	json_decref(j);
}

/* events --follow: server-sent events, as they happen. */
TEST(events_follow_streams_what_happens)
{
	const char *const a[] = { "events", "--follow", "--kind", "run",
		"--count", "2", "--json", NULL };
	char out[16384];
	json_int_t run;
	struct cli c;
	json_t *j;

	cancel_all();
	cli_start(&c, NULL, a);
	usleep(400000);
	REQUIRE((run = submit("{\"scenario\": \"kexec-chain\"}", NULL)) > 0);
	cancel_all();
	CHECK_EQ_INT(cli_wait(&c, out, sizeof(out)), 0);
	/* one JSON object a line: the run queued, then cancelled */
	j = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
	REQUIRE(j != NULL);
	CHECK_EQ_INT(jint(json_object_get(j, "data"), "run"), run);
	CHECK_STR_EQ(jstr(json_object_get(j, "data"), "state"), "queued");
	json_decref(j);
	CHECK_STR_CONTAINS(out, "\"state\":\"cancelled\"");
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_cli", test_main);
}
