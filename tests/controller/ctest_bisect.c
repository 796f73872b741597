/*
 * ctest_bisect.c: bisects on the controller (controller/api_bisects.c, bisect_worker.c):
 * bad requests refused with the reason and nothing stored; an artifacts
 * bisect starts with the bad end as a run of `repeat` jobs booting that
 * candidate; cancelling stops it and its jobs; "bisect this" from the
 * dashboard: the link to the regression's run, build logs of every
 * candidate from 0 on . The whole loop with
 * agents and builds is in tests/bisect/run.
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

static json_int_t
bisects_total(void)
{
	long st;
	json_t *j = jcall(
	    &S, NULL, "GET", "/api/v1/bisects?limit=1", NULL, &st);
	json_int_t n = jint(j, "total");

	/* total counts them all; the page holds at most limit of them */
	CHECK(json_array_size(json_object_get(j, "bisects")) <= 1);
	CHECK(n == 0 || json_array_size(json_object_get(j, "bisects")) == 1);
	json_decref(j);
	return n;
}

TEST(bad_bisect_requests_store_nothing)
{
	static const struct {
		const char *body, *want;
	} bad[] = {
		{ "{}", "scenario" },
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
		  " \"mailbox_version\": 1}}",
		    "either 'repo'" },
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
		  " \"mailbox_version\": 1}, \"artifacts\": [\"/a\"]}",
		    "2 to 1000" },
		{ "{\"scenario\": \"kexec-chain\", \"artifacts\": [\"/a\","
		  " \"/b\"]}",
		    "expands to 4" },
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
		  " \"mailbox_version\": 1}, \"repo\": \"/nonexistent\","
		  " \"good\": \"a\", \"bad\": \"b\", \"build\": [\"make\"],"
		  " \"artifact\": \"k\"}",
		    "not an absolute path to a directory" },
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
		  " \"mailbox_version\": 1}, \"repo\": \"/tmp\", \"good\":"
		  " \"a\", \"bad\": \"b\", \"build\": [\"make\"], \"artifact\":"
		  " \"../k\"}",
		    "without '..'" },
		/* build commands run on the controller: only below the root */
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
		  " \"mailbox_version\": 1}, \"repo\": \"/usr\", \"good\":"
		  " \"a\", \"bad\": \"b\", \"build\": [\"make\"], \"artifact\":"
		  " \"k\"}",
		    "not below the controller's --bisect-repo-root" },
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
		  " \"mailbox_version\": 1}, \"repo\": \"/tmp\", \"good\":"
		  " \"a\", \"bad\": \"b\", \"build\": [\"make\"], \"artifact\":"
		  " \"k\"}",
		    "not a git repository" },
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
		  " \"mailbox_version\": 1}, \"repo\": \"/tmp\", \"good\":"
		  " \"-x\", \"bad\": \"b\", \"build\": [\"make\"], \"artifact\":"
		  " \"k\"}",
		    "starts with '-'" },
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
		  " \"mailbox_version\": 1}, \"repo\": \"/tmp\", \"good\":"
		  " \"a\", \"bad\": \"b\", \"build\": [\"make\"], \"artifact\":"
		  " \"\"}",
		    "key 'artifact': an empty string" },
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
		  " \"mailbox_version\": 1}, \"artifacts\": [\"/a\", \"/b\"],"
		  " \"repeat\": 3, \"threshold\": 4}",
		    "threshold: 4" },
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
		  " \"mailbox_version\": 1}, \"artifacts\": [\"/a\", \"/b\"],"
		  " \"kind\": \"rpm\"}",
		    "test-kernel or linux" },
		{ "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
		  " \"mailbox_version\": 1}, \"artifacts\": [\"/a\", \"/b\"],"
		  " \"sneaky\": 1}",
		    "sneaky" },
	};
	json_int_t before = bisects_total();
	size_t i;
	long st;
	json_t *j;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = jcall(
		    &S, submitter, "POST", "/api/v1/bisects", bad[i].body, &st);
		expect_error(st, j, 400, bad[i].want);
		json_decref(j);
	}
	j = jcall(&S, reader, "POST", "/api/v1/bisects", bad[0].body, &st);
	CHECK_EQ_INT(st, 403);
	json_decref(j);
	CHECK_EQ_INT(bisects_total(), before);
}

TEST(artifacts_bisect_runs_the_bad_end_then_cancels)
{
	json_t *j, *b, *step, *job;
	json_int_t id, run = 0, adhoc;
	char path[96];
	long st;
	int i;

	cancel_all();
	j = jcall(&S, submitter, "POST", "/api/v1/bisects",
	    "{\"scenario\":"
	    " \"kexec-chain\", \"set\": {\"cpus\": 2, \"mailbox_version\": 1},"
	    " \"artifacts\": [\"/k/0.elf\", \"/k/1.elf\", \"/k/2.elf\"],"
	    " \"kind\": \"test-kernel\", \"repeat\": 3}",
	    &st);
	CHECK_EQ_INT(st, 201);
	id = jint(j, "bisect");
	CHECK_EQ_INT(jint(j, "candidates"), 3);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/bisects/%lld", (long long)id);
	for (i = 0; i < 100 && run == 0; i++) {
		b = jcall(&S, NULL, "GET", path, NULL, &st);
		step = json_array_get(json_object_get(b, "steps"), 0);
		run = step ? jint(step, "run") : 0;
		if (run) {
			CHECK_EQ_INT(jint(step, "index"), 2);
			CHECK_EQ_INT(jint(step, "runs"), 3);
			CHECK_STR_EQ(jstr(step, "rev"), "/k/2.elf");
			CHECK_STR_CONTAINS(jstr(step, "why"), "bad");
			CHECK_STR_EQ(jstr(b, "state"), "running");
			CHECK_EQ_INT(
			    json_array_size(json_object_get(b, "candidates")),
			    3);
		}
		json_decref(b);
		if (!run)
			usleep(50000);
	}
	REQUIRE(run > 0);
	/* The step's jobs boot the candidate. */
	job = lease(ag1, 0);
	REQUIRE(job != NULL);
	CHECK_EQ_INT(jint(job, "run"), run);
	CHECK_STR_EQ(
	    jstr(json_object_get(job, "params"), "test_kernel"), "/k/2.elf");
	json_decref(job);
	/* The step's run links back to its bisect; other runs say null. */
	snprintf(path, sizeof(path), "/api/v1/runs/%lld", (long long)run);
	j = jcall(&S, NULL, "GET", path, NULL, &st);
	CHECK_EQ_INT(jint(json_object_get(j, "run"), "bisect"), id);
	json_decref(j);
	/* (an adhoc run of this test's own: the file runs on its own) */
	adhoc = submit("{\"scenario\": \"kexec-chain\"}", NULL);
	REQUIRE(adhoc > 0);
	j = jcall(
	    &S, NULL, "GET", "/api/v1/runs?kind=adhoc&limit=1", NULL, &st);
	CHECK(json_is_null(json_object_get(
	    json_array_get(json_object_get(j, "runs"), 0), "bisect")));
	json_decref(j);
	snprintf(
	    path, sizeof(path), "/api/v1/runs/%lld/cancel", (long long)adhoc);
	json_decref(jcall(&S, submitter, "POST", path, NULL, &st));
	snprintf(
	    path, sizeof(path), "/api/v1/bisects/%lld/cancel", (long long)id);
	j = jcall(&S, submitter, "POST", path, NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(jint(j, "cancelled_jobs"), 3);
	json_decref(j);
	j = jcall(&S, submitter, "POST", path, NULL, &st);
	CHECK_EQ_INT(st, 409);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/bisects/%lld", (long long)id);
	b = jcall(&S, NULL, "GET", path, NULL, &st);
	CHECK_STR_EQ(jstr(b, "state"), "cancelled");
	json_decref(b);
	j = jcall(&S, NULL, "GET", "/api/v1/bisects/999999", NULL, &st);
	CHECK_EQ_INT(st, 404);
	json_decref(j);
	cancel_all();
}

/* A git repository of n commits, each writing its number to `state`. */
static int
bisect_repo(const char *dir, int n)
{
	char cmd[1024];
	int i;

	snprintf(cmd, sizeof(cmd), "git init -q '%s'", dir);
	if (system(cmd) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(cmd, sizeof(cmd),
		    "cd '%s' && echo %d > state && git add"
		    " state && git -c user.name=t -c user.email=t@t.invalid"
		    " commit -q -m 'change %d'",
		    dir, i, i);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static json_t *
get_bisect(json_int_t id)
{
	char path[64];
	long st;

	snprintf(path, sizeof(path), "/api/v1/bisects/%lld", (long long)id);
	return jcall(&S, reader, "GET", path, NULL, &st);
}

static long
build_log(json_int_t id, int idx, struct resp *r)
{
	char path[96];

	snprintf(path, sizeof(path),
	    "/api/v1/bisects/%lld/candidates/%d/"
	    "build-log",
	    (long long)id, idx);
	return http(&S, reader, "GET", path, NULL, 0, r);
}

/* Waits (bounded) until candidate idx of bisect id has been built. */
static int
bisect_built(json_int_t id, int idx)
{
	json_t *b, *c;
	int i, ok = 0;

	for (i = 0; i < 200 && !ok; i++) {
		b = get_bisect(id);
		c = json_array_get(
		    json_object_get(b, "candidates"), (size_t)idx);
		ok = strcmp(jstr(c, "build"), "none") != 0;
		json_decref(b);
		if (!ok)
			usleep(50000);
	}
	return ok;
}

/*
 * A bisect step's KCIDB: its build is the candidate's image, from a
 * checkout naming the commit and the repository's origin; valid.
 */
static void
kcidb_of_step(json_int_t run, json_int_t bisect)
{
	char path[96];
	struct resp r;
	json_t *k, *b, *co;

	b = get_bisect(bisect);
	snprintf(
	    path, sizeof(path), "/api/v1/runs/%lld/kcidb.json", (long long)run);
	CHECK_EQ_INT(http(&S, NULL, "GET", path, NULL, 0, &r), 200);
	CHECK_EQ_INT(consume("check-kcidb", r.body, r.len, NULL, 0), 0);
	k = json_loads(r.body, 0, NULL);
	resp_free(&r);
	co = json_array_get(json_object_get(k, "checkouts"), 0);
	CHECK_STR_EQ(jstr(co, "git_commit_hash"),
	    jstr(json_array_get(json_object_get(b, "candidates"), 2), "rev"));
	CHECK_STR_EQ(jstr(co, "git_repository_url"),
	    "https://git.example.org/fixture.git");
	CHECK_STR_EQ(jstr(co, "comment"), "change 2");
	CHECK_STR_CONTAINS(jstr(json_array_get(json_object_get(k, "builds"), 0),
	                       "config_name"),
	    "sha256:");
	json_decref(k);
	json_decref(b);
}

TEST(bisect_this_link_and_build_logs_from_candidate_0)
{
	char repo[300], body[1024], path[96];
	json_int_t run, id, other;
	json_t *j, *l;
	struct resp r;
	long st;

	cancel_all();
	/* A link to a run that is not there is no link. */
	j = jcall(&S, submitter, "POST", "/api/v1/bisects",
	    "{\"scenario\":"
	    " \"cold-boot\", \"set\": {\"cpus\": 2, \"mailbox_version\": 1},"
	    " \"artifacts\": [\"/k/a\", \"/k/b\"], \"kind\": \"test-kernel\","
	    " \"repeat\": 1, \"regression\": {\"run\": 999999, \"case\":"
	    " \"x\"}}",
	    &st);
	CHECK_EQ_INT(st, 201);
	other = jint(j, "bisect");
	json_decref(j);
	REQUIRE(other > 0);
	j = get_bisect(other);
	CHECK(json_is_null(json_object_get(j, "regression_run")));
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/bisects/%lld/cancel",
	    (long long)other);
	json_decref(jcall(&S, submitter, "POST", path, NULL, &st));
	CHECK_EQ_INT(st, 200);

	/* "bisect this" on a run's case: a git range, linked. */
	run = submit("{\"scenario\": \"cold-boot\", \"set\": {\"cpus\": 2,"
	             " \"mailbox_version\": 1}}",
	    NULL);
	REQUIRE(run > 0);
	cancel_all();
	snprintf(repo, sizeof(repo), "%s/bisect-repo", tmp);
	REQUIRE(bisect_repo(repo, 3) == 0);
	/* a remote as a real checkout has one (KCIDB's git_repository_url) */
	snprintf(body, sizeof(body),
	    "git -C '%s' remote add origin https://git.example.org/fixture.git",
	    repo);
	REQUIRE(system(body) == 0);
	snprintf(body, sizeof(body),
	    "{\"scenario\": \"cold-boot\", \"set\":"
	    " {\"cpus\": 2, \"mailbox_version\": 1}, \"repo\": \"%s\", \"good\":"
	    " \"HEAD~2\", \"bad\": \"HEAD\", \"build\": [\"sh\", \"-c\", \"echo"
	    " building $(cat state); cp state kernel.elf\"], \"artifact\":"
	    " \"kernel.elf\", \"repeat\": 1, \"regression\": {\"run\": %lld,"
	    " \"case\": \"cold-boot {\\\"cpus\\\":2}\"}}",
	    repo, (long long)run);
	j = jcall(&S, submitter, "POST", "/api/v1/bisects", body, &st);
	CHECK_EQ_INT(st, 201);
	CHECK_EQ_INT(jint(j, "candidates"), 3);
	id = jint(j, "bisect");
	json_decref(j);
	REQUIRE(id > 0);
	j = get_bisect(id);
	CHECK_EQ_INT(jint(j, "regression_run"), run);
	CHECK_STR_EQ(jstr(j, "regression_case"), "cold-boot {\"cpus\":2}");
	json_decref(j);

	/* The bad end is built first; the good end (candidate 0) is not yet. */
	REQUIRE(bisect_built(id, 2));
	CHECK_EQ_INT(build_log(id, 2, &r), 200);
	CHECK_STR_CONTAINS(r.body ? r.body : "", "building 2");
	resp_free(&r);
	CHECK_EQ_INT(build_log(id, 0, &r), 404);
	CHECK_STR_CONTAINS(
	    r.body ? r.body : "", "no build log for candidate 0");
	resp_free(&r);
	CHECK_EQ_INT(build_log(id, -1, &r), 404);
	resp_free(&r);

	/* Its one run fails (a hang): the bad end is bad, candidate 0 next. */
	REQUIRE((l = lease(ag1, 5)) != NULL);
	kcidb_of_step(jint(l, "run"), id);
	CHECK_EQ_INT(finish(ag1, jint(l, "job"), "hang", NULL), 200);
	json_decref(l);
	REQUIRE(bisect_built(id, 0));
	CHECK_EQ_INT(build_log(id, 0, &r), 200);
	CHECK_STR_CONTAINS(r.body ? r.body : "", "building 0");
	resp_free(&r);

	snprintf(
	    path, sizeof(path), "/api/v1/bisects/%lld/cancel", (long long)id);
	json_decref(jcall(&S, submitter, "POST", path, NULL, &st));
	CHECK_EQ_INT(st, 200);
	cancel_all();
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_bisect", test_main);
}
