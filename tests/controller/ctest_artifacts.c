/*
 * ctest_artifacts.c: controller suite cases for Linux kernels as
 * artifacts: the scenario fields kernel/initrd/append in params, their
 * validation, GET /api/v1/artifacts with the version a job's boot record
 * reported, and the migration that made the table .
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "suite.h"
#include "../unit/test.h"

/* The first artifact named name in GET /api/v1/artifacts (new ref), or NULL. */
static json_t *
artifact(const char *name)
{
	json_t *j, *a, *found = NULL;
	size_t i;
	long st;

	j = jcall(&S, reader, "GET", "/api/v1/artifacts", NULL, &st);
	json_array_foreach (json_object_get(j, "artifacts"), i, a)
		if (strcmp(jstr(a, "name"), name) == 0 && found == NULL)
			found = json_incref(a);
	json_decref(j);
	return found;
}

TEST(kernel_fields_reach_params_and_are_validated)
{
	static const struct {
		const char *body, *want;
	} bad[] = {
		{ "{\"scenario\": \"cold-boot\", \"set\": {\"kernel\": \"/a,b\"}}",
		    "comma" },
		{ "{\"scenario\": \"cold-boot\", \"set\": {\"kernel\": \"Linux Image\"}}",
		    "package" },
		{ "{\"scenario\": \"cold-boot\", \"set\": {\"kernel\": \"rel/vmlinuz\"}}",
		    "kernel" },
		{ "{\"scenario\": \"cold-boot\", \"set\": {\"initrd\": \"/x.cpio\"}}",
		    "only with a Linux kernel" },
		{ "{\"scenario\": \"cold-boot\", \"set\": {\"kernel\": 5}}",
		    "kernel" },
		{ "{\"inline\": {\"name\": \"k\", \"kernel\": \"/k\", \"initrd\": \"x\"}}",
		    "initrd" },
	};
	json_int_t run, jobs = 0;
	json_t *l, *p, *a;
	long st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = jcall(
		    &S, submitter, "POST", "/api/v1/runs", bad[i].body, &st);

		CHECK_EQ_INT(st, 400);
		CHECK_STR_CONTAINS(jstr(j, "error"), bad[i].want);
		json_decref(j);
	}
	cancel_all();
	/* a kernels axis: a package and a path, each a job; 32 MiB becomes 512 */
	run = submit(
	    "{\"scenario\": \"cold-boot\", \"priority\": 900, \"set\":"
	    " {\"kernel\": [\"linux-image-cloud-amd64\", \"/srv/k/vmlinuz-t\"],"
	    " \"cpus\": 2, \"mailbox_version\": 1, \"append\": \"quiet\"}}",
	    &jobs);
	REQUIRE(run > 0);
	CHECK_EQ_INT(jobs, 2);
	REQUIRE((l = lease(ag1, 0)) != NULL);
	p = json_object_get(l, "params");
	CHECK_STR_EQ(jstr(p, "kernel_package"), "linux-image-cloud-amd64");
	CHECK(json_object_get(p, "kernel") == NULL);
	CHECK_STR_EQ(jstr(p, "append"), "quiet");
	CHECK_EQ_INT(jint(p, "memory_mb"), 512);
	json_decref(l);
	REQUIRE((l = lease(ag1, 0)) != NULL); /* h1 has 2 slots */
	p = json_object_get(l, "params");
	CHECK_STR_EQ(jstr(p, "kernel"), "/srv/k/vmlinuz-t");
	CHECK(json_object_get(p, "kernel_package") == NULL);
	json_decref(l);
	cancel_all();
	/* both are artifacts as soon as a job names them; no version yet */
	REQUIRE((a = artifact("linux-image-cloud-amd64")) != NULL);
	CHECK_STR_EQ(jstr(a, "kind"), "package");
	json_decref(a);
	REQUIRE((a = artifact("/srv/k/vmlinuz-t")) != NULL);
	CHECK_STR_EQ(jstr(a, "kind"), "path");
	CHECK(json_is_null(json_object_get(a, "version")));
	json_decref(a);
	/* a test-kernel job's params carry none of the OS fields */
	run = submit("{\"scenario\": \"cold-boot\", \"priority\": 900, \"set\":"
	             " {\"cpus\": 1, \"mailbox_version\": 1}}",
	    &jobs);
	REQUIRE((l = lease(ag1, 0)) != NULL);
	p = json_object_get(l, "params");
	CHECK(json_object_get(p, "kernel") == NULL &&
	    json_object_get(p, "kernel_package") == NULL &&
	    json_object_get(p, "initrd") == NULL &&
	    json_object_get(p, "append") == NULL);
	json_decref(l);
	cancel_all();
}

/* The first job that boots a kernel gives the artifact its version. */
TEST(artifact_version_from_the_boot_record)
{
	json_t *l, *recs, *rep, *a;
	json_int_t jobs = 0;

	cancel_all();
	REQUIRE(
	    submit("{\"scenario\": \"cold-boot\", \"priority\": 900,"
	           " \"set\": {\"kernel\": \"/srv/k/vmlinuz-v\", \"cpus\": 2,"
	           " \"mailbox_version\": 1}}",
	        &jobs) > 0);
	REQUIRE((a = artifact("/srv/k/vmlinuz-v")) != NULL);
	CHECK(json_is_null(json_object_get(a, "version")));
	json_decref(a);
	REQUIRE((l = lease(ag1, 0)) != NULL);
	recs = fixture("nightly/linux61-v1-2cpu-cold.records");
	CHECK_EQ_INT(post_batch(&S, ag1, jint(l, "job"), 0, recs, NULL), 200);
	CHECK_EQ_INT(finish(ag1, jint(l, "job"), "completed", &rep), 200);
	CHECK(json_is_true(json_object_get(rep, "as_expected")));
	REQUIRE((a = artifact("/srv/k/vmlinuz-v")) != NULL);
	CHECK_STR_EQ(jstr(a, "version"), "6.1.0-57-cloud-amd64");
	json_decref(a);
	json_decref(rep);
	json_decref(recs);
	json_decref(l);
}

/* The artifacts migration is applied and recorded in user_version. */
TEST(migration_makes_the_artifacts_table)
{
	char db[320], out[512];
	const char *argv[] = { "bin/wakefarm-controller", "migrate", "--db", db,
		"--schema-dir", "db", NULL };
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(db, sizeof(db), "%s/a.db", tmp);
	CHECK_EQ_INT(ctl_run(argv, out, sizeof(out)), 0);
	REQUIRE(sqlite3_open(db, &h) == SQLITE_OK);
	REQUIRE(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) ==
	    SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK(sqlite3_column_int(st, 0) >= 3);
	sqlite3_finalize(st);
	CHECK(sqlite3_exec(h, "SELECT name, kind, version FROM artifacts", NULL,
	          NULL, NULL) == SQLITE_OK);
	/* kind is checked by the schema */
	CHECK(sqlite3_exec(h,
	          "INSERT INTO artifacts (name, kind) VALUES"
	          " ('x', 'rpm')",
	          NULL, NULL, NULL) != SQLITE_OK);
	sqlite3_close(h);
}

/* wakefarm submit --kernel PKG|PATH sets the kernel of the Linux
 * scenarios (a comma: an axis); a test-kernel scenario keeps its own. */
TEST(cli_submit_kernel)
{
	const char *args[] = { "submit", "linux61-cold-boot", "cold-boot",
		"--set", "cpus=2", "--set", "mailbox_version=1", "--kernel",
		"linux-image-cloud-amd64,/srv/k/vmlinuz-cli", "--json", NULL };
	const char *bad[] = { "submit", "cold-boot", "--kernel",
		"no/such/vmlinuz", NULL };
	char out[4096];
	struct cli c;
	json_t *j, *a;

	cancel_all();
	cli_start(&c, submitter, args);
	CHECK_EQ_INT(cli_wait(&c, out, sizeof(out)), 0);
	j = json_loads(out, 0, NULL);
	CHECK_EQ_INT(jint(j, "jobs"), 3); /* 2 kernels, and cold-boot's 1 */
	json_decref(j);
	REQUIRE((a = artifact("/srv/k/vmlinuz-cli")) != NULL);
	CHECK_STR_EQ(jstr(a, "kind"), "path");
	json_decref(a);
	cli_start(&c, submitter, bad); /* a relative path must exist here */
	CHECK_EQ_INT(cli_wait(&c, out, sizeof(out)), 64);
	CHECK_STR_CONTAINS(out, "no such file");
	cancel_all();
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_artifacts", test_main);
}
