/*
 * ctest_exports.c: the exports fed to their real consumers
 * (tests/controller/consumers/: xmllint with the JUnit XSD, junitparser,
 * the KCIDB v4.0 schema with python3-jsonschema, promtool): a run with a
 * Linux kernel and the test kernel (one build each), and a job whose guest
 * log and known issue hold every kind of hostile byte (U+FFFF, ill-formed
 * UTF-8, NUL, control characters, markup): every export stays well-formed
 * and valid (issue 16, item 2). The nightly runs' exports are checked the
 * same way in ctest_nightly.c, /metrics in ctest_metrics.c.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suite.h"
#include "../unit/test.h"

#define FFFD "\xef\xbf\xbd"

/* The run's JUnit through check-junit: what junitparser saw (new). */
static json_t *
junit_seen(json_int_t run)
{
	static char seen[1 << 20];
	long st;
	char *xml = get_text(&S, "/api/v1/runs/%lld/junit.xml", run, &st);
	int rc;

	CHECK_EQ_INT(st, 200);
	rc = consume("check-junit", xml, strlen(xml), seen, sizeof(seen));
	CHECK_EQ_INT(rc, 0);
	free(xml);
	return rc == 0 ? json_loads(seen, 0, NULL) : NULL;
}

/* The run's KCIDB through check-kcidb (new, parsed). */
static json_t *
kcidb_seen(json_int_t run)
{
	long st;
	char *text = get_text(&S, "/api/v1/runs/%lld/kcidb.json", run, &st);
	json_t *j;

	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(consume("check-kcidb", text, strlen(text), NULL, 0), 0);
	j = json_loads(text, 0, NULL);
	free(text);
	return j;
}

/* A case of check-junit's output by its classname (borrowed). */
static json_t *
seen_case(const json_t *seen, const char *classname)
{
	json_t *s, *c;
	size_t i, k;

	json_array_foreach (json_object_get(seen, "suites"), i, s) {
		json_array_foreach (json_object_get(s, "cases"), k, c) {
			if (strcmp(jstr(c, "classname"), classname) == 0)
				return c;
		}
	}
	return NULL;
}

static json_t *
kcidb_build(const json_t *j, const char *id)
{
	json_t *b;
	size_t i;

	json_array_foreach (json_object_get(j, "builds"), i, b) {
		if (strcmp(jstr(b, "id"), id) == 0)
			return b;
	}
	return NULL;
}

/* Plays agent 1 for every job of the run: records by scenario. */
static void
run_jobs(json_int_t jobs)
{
	json_int_t i;

	for (i = 0; i < jobs; i++) {
		json_t *l = lease(ag1, 2), *recs;

		REQUIRE(l != NULL);
		recs = fixture(strncmp(jstr(l, "scenario"), "linux61", 7) == 0 ?
		        "nightly/linux61-v1-2cpu-cold.records" :
		        "v1-2cpu-cold.records");
		CHECK_EQ_INT(
		    post_batch(&S, ag1, jint(l, "job"), 0, recs, NULL), 200);
		CHECK_EQ_INT(
		    finish(ag1, jint(l, "job"), "completed", NULL), 200);
		json_decref(recs);
		json_decref(l);
	}
}

TEST(kcidb_one_build_per_kernel_and_junit_names)
{
	json_int_t run, jobs = 0;
	json_t *k, *t, *b, *seen, *c;

	cancel_all();
	REQUIRE((run = submit("{\"scenarios\": [\"linux61-cold-boot\","
	                      " \"cold-boot\"], \"priority\": 900, \"set\":"
	                      " {\"mailbox_version\": 1, \"cpus\": 2}}",
	             &jobs)) > 0);
	CHECK_EQ_INT(jobs, 2);
	run_jobs(jobs);
	k = kcidb_seen(run);
	REQUIRE(k != NULL);
	CHECK_EQ_INT(json_array_size(json_object_get(k, "builds")), 2);
	CHECK_EQ_INT(json_array_size(json_object_get(k, "checkouts")), 2);
	/* The Linux job points at the build of the kernel it booted. */
	t = kcidb_test(k, "linux61-cold-boot");
	REQUIRE(t != NULL);
	CHECK_STR_EQ(jstr(t, "status"), "PASS");
	b = kcidb_build(k, jstr(t, "build_id"));
	REQUIRE(b != NULL);
	CHECK_STR_EQ(jstr(b, "config_name"), "linux-image-cloud-amd64");
	CHECK_STR_EQ(jstr(b, "comment"), "Linux 6.1.0-57-cloud-amd64");
	t = kcidb_test(k, "cold-boot");
	REQUIRE(t != NULL);
	b = kcidb_build(k, jstr(t, "build_id"));
	REQUIRE(b != NULL);
	CHECK_STR_EQ(jstr(b, "config_name"), "wakefarm-test-kernel");
	json_decref(k);
	/* JUnit: the kernel is part of the case's name. */
	seen = junit_seen(run);
	c = seen_case(seen, "wakefarm.linux61-cold-boot");
	REQUIRE(c != NULL);
	CHECK_STR_EQ(jstr(c, "name"), "kernel=linux-image-cloud-amd64");
	CHECK_STR_EQ(jstr(c, "result"), "pass");
	c = seen_case(seen, "wakefarm.cold-boot");
	REQUIRE(c != NULL);
	CHECK_STR_EQ(jstr(c, "name"), "default");
	json_decref(seen);
}

/* Guest output with every kind of byte an export must survive. */
static const char hostile[] =
    "boot ok\n"
    "U+FFFF here: \xef\xbf\xbf and U+FFFE: \xef\xbf\xbe\n"
    "ill-formed: \xff\xfe \xc0\x80 \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82\n"
    "a NUL: \x00 after it\n"
    "control: \x01\x08\x0b\x0c\x1b[31mred\x1b[0m\x7f\r\n"
    "markup: ]]> <x a=\"1\"> & 'q' &amp; <!-- -->\n"
    "FIRMWARE BUG \xef\xbf\xbf in the mailbox\n"
    "cut at the end \xe2\x82";

TEST(exports_survive_any_bytes_in_logs_and_descriptions)
{
	json_int_t run, job;
	json_t *l, *recs, *j, *seen, *c, *k, *t;
	char path[96];
	struct resp r;
	long st;

	cancel_all();
	REQUIRE((run = submit("{\"scenario\": \"quirk-v1-short-entry\","
	                      " \"priority\": 900}",
	             NULL)) > 0);
	REQUIRE((l = lease(ag1, 2)) != NULL);
	job = jint(l, "job");
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/logs/0", (long long)job);
	CHECK_EQ_INT(
	    http(&S, ag1, "POST", path, hostile, sizeof(hostile) - 1, &r), 200);
	resp_free(&r);
	recs = fixture("v1-2cpu-cold.records"); /* not as expected */
	CHECK_EQ_INT(post_batch(&S, ag1, job, 0, recs, NULL), 200);
	CHECK_EQ_INT(finish(ag1, job, "completed", NULL), 200);
	json_decref(recs);
	json_decref(l);
	/* A known issue whose description holds U+FFFF and markup, whose
	 * regex matches the log line with U+FFFF. */
	j = jcall(&S, admin, "POST", "/api/v1/admin/known-issues",
	    "{\"scenario\": \"quirk-v1-short-entry\", \"check\": \"*\","
	    " \"description\": \"bug \\uffff<&>\\\"]]>\\u0001\","
	    " \"url\": \"https://b/\\uffff\", \"log_regex\": \"FIRMWARE BUG\"}",
	    &st);
	CHECK_EQ_INT(st, 201);
	json_decref(j);
	/* Finished jobs are classified against a new issue in the background
	 * (controller/README.md): wait for it, at most 10 s. */
	for (int i = 0; i < 200; i++) {
		j = get_job(job);
		st = json_is_true(json_object_get(j, "known"));
		json_decref(j);
		if (st)
			break;
		usleep(50000);
	}

	seen = junit_seen(run);
	REQUIRE(seen != NULL);
	c = seen_case(seen, "wakefarm.quirk-v1-short-entry");
	REQUIRE(c != NULL);
	CHECK_STR_EQ(jstr(c, "result"), "failure");
	CHECK_STR_CONTAINS(jstr(c, "message"), "known: ");
	CHECK_STR_CONTAINS(jstr(c, "system_out"), "bug " FFFD "<&>\"]]>?");
	CHECK_STR_CONTAINS(
	    jstr(c, "system_out"), "FIRMWARE BUG " FFFD " in the mailbox");
	CHECK_STR_CONTAINS(jstr(c, "system_out"), "U+FFFF here: " FFFD);
	CHECK_STR_CONTAINS(jstr(c, "system_out"), "markup: ]]> <x a=\"1\">");
	CHECK_STR_CONTAINS(jstr(c, "system_out"), "a NUL: ? after it");
	json_decref(seen);

	k = kcidb_seen(run);
	REQUIRE(k != NULL);
	t = kcidb_test(k, "quirk-v1-short-entry");
	REQUIRE(t != NULL);
	CHECK_STR_EQ(jstr(t, "status"), "FAIL");
	CHECK(json_is_true(json_object_get(t, "waived"))); /* the issue */
	CHECK_STR_CONTAINS(jstr(t, "log_excerpt"), "U+FFFF here: \xef\xbf\xbf");
	CHECK_STR_CONTAINS(jstr(t, "log_excerpt"), "ill-formed: " FFFD FFFD);
	CHECK_STR_CONTAINS(jstr(t, "log_excerpt"), "cut at the end " FFFD);
	json_decref(k);
	cancel_all();
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_exports", test_main);
}
