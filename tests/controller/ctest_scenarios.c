/*
 * ctest_scenarios.c: a bad file in the scenario directory (issue 19,
 * point 7) leaves the good ones served: /api/v1/scenarios lists them with
 * an "errors" list (file and message, a "did you mean" for a typo'd key
 * and an unknown check name), a run of the nightly matrix takes the good
 * ones and says which it "left_out" (in the reply and the run), a run
 * naming the bad one is refused with its file's error, and the controller
 * logs each bad file.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suite.h"
#include "../unit/test.h"

static struct nctl n = { .name = "scen" };
static char dir[400];

static void
cleanup(void)
{
	if (nctl_pid > 0)
		kill(nctl_pid, SIGKILL);
}

static void
put(const char *name, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* The controller, on a directory of two good and two bad scenarios. */
static int
start(void)
{
	static char flag[400];

	if (nctl_pid > 0)
		return 0;
	snprintf(dir, sizeof(dir), "%s/scenario-dir", tmp);
	mkdir(dir, 0755);
	put("good-a.json",
	    "{\"name\": \"good-a\", \"nightly\": true,"
	    " \"matrix\": {\"cpus\": [1, 2]}}\n");
	put("good-b.json", "{\"name\": \"good-b\", \"nightly\": true}\n");
	put("typo.json", "{\n \"name\": \"typo\",\n \"nigthly\": true\n}\n");
	put("badcheck.json",
	    "{\"name\": \"badcheck\", \"nightly\": true, \"expect\":"
	    " [{\"verdict\": \"fail\", \"failing_checks\": [\"cpus-onlin\"]}]}"
	    "\n");
	snprintf(flag, sizeof(flag), "%s", dir);
	n.extra[0] = "--scenarios";
	n.extra[1] = flag;
	atexit(cleanup);
	return nctl_start(&n, NULL);
}

static const json_t *
error_of(const json_t *errors, const char *file)
{
	const json_t *e;
	size_t i;

	json_array_foreach (errors, i, e) {
		if (strcmp(jstr(e, "file"), file) == 0)
			return e;
	}
	return NULL;
}

TEST(scenarios_lists_the_good_and_the_errors)
{
	const json_t *e, *list;
	json_t *j;
	long st;

	REQUIRE(start() == 0);
	j = jcall(&n.c, n.admin, "GET", "/api/v1/scenarios", NULL, &st);
	CHECK_EQ_INT(st, 200);
	list = json_object_get(j, "scenarios");
	CHECK_EQ_INT(json_array_size(list), 2);
	CHECK_STR_EQ(jstr(json_array_get(list, 0), "name"), "good-a");
	CHECK_STR_EQ(jstr(json_array_get(list, 1), "name"), "good-b");
	CHECK_EQ_INT(json_array_size(json_object_get(j, "errors")), 2);
	e = error_of(json_object_get(j, "errors"), "typo.json");
	REQUIRE(e != NULL);
	CHECK_STR_CONTAINS(jstr(e, "message"), "typo.json:3");
	CHECK_STR_CONTAINS(jstr(e, "message"), "did you mean 'nightly'?");
	e = error_of(json_object_get(j, "errors"), "badcheck.json");
	REQUIRE(e != NULL);
	CHECK_STR_CONTAINS(jstr(e, "message"), "'cpus-onlin'");
	CHECK_STR_CONTAINS(jstr(e, "message"), "did you mean 'cpus-online'?");
	json_decref(j);
}

TEST(the_nightly_runs_the_good_ones_and_says_what_it_left_out)
{
	json_t *j, *run;
	char path[64], log[600], *text;
	long st;
	FILE *f;
	size_t len;

	REQUIRE(start() == 0);
	j = jcall(&n.c, n.admin, "POST", "/api/v1/runs",
	    "{\"matrix\": \"nightly\"}", &st);
	CHECK_EQ_INT(st, 201);
	CHECK_EQ_INT(jint(j, "jobs"), 3);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "left_out")), 2);
	CHECK(error_of(json_object_get(j, "left_out"), "typo.json") != NULL);
	snprintf(path, sizeof(path), "/api/v1/runs/%lld", jint(j, "run"));
	run = jcall(&n.c, n.admin, "GET", path, NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(json_array_size(json_object_get(
	                 json_object_get(run, "run"), "left_out")),
	    2);
	json_decref(run);
	json_decref(j);
	/* the controller's log names each bad file */
	snprintf(log, sizeof(log), "%s/controller.log", n.c.dir);
	REQUIRE((f = fopen(log, "r")) != NULL);
	text = calloc(1, 1 << 20);
	len = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	text[len] = '\0';
	CHECK_STR_CONTAINS(text, "scenarios: typo.json left out:");
	CHECK_STR_CONTAINS(text, "scenarios: badcheck.json left out:");
	free(text);
}

TEST(a_run_of_a_bad_scenario_gets_its_error_and_good_ones_still_run)
{
	json_t *j;
	long st;

	REQUIRE(start() == 0);
	j = jcall(&n.c, n.admin, "POST", "/api/v1/runs",
	    "{\"scenario\": \"typo\"}", &st);
	expect_error(st, j, 400, "scenario 'typo' is left out");
	CHECK_STR_CONTAINS(jstr(j, "error"), "did you mean 'nightly'?");
	json_decref(j);
	j = jcall(&n.c, n.admin, "POST", "/api/v1/runs",
	    "{\"scenarios\": [\"good-b\"]}", &st);
	CHECK_EQ_INT(st, 201);
	CHECK_EQ_INT(jint(j, "jobs"), 1);
	CHECK(json_object_get(j, "left_out") == NULL);
	json_decref(j);
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_scenarios", test_main);
}
