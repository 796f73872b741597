/*
 * ctest_prune.c: retention on a database that holds a nightly regression's
 * jobs, a bisect's jobs, a failure a known issue explains and plain jobs,
 * all with logs and records, and bisect images: `wakefarm-controller prune
 * --days 0` (and --dry-run first) drops the plain jobs' logs and records
 * and the old unused image, keeps the others and every verdict, gives the
 * space back and reports it; `serve --retain-days 1` does the same at its
 * start once the clock has moved on (--clock-skew-file).
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <utime.h>
#include <unistd.h>

#include "config.h"
#include "suite.h"
#include "../unit/test.h"

#define GOOD "quirk-v1-short-entry.records"
#define BAD "v1-2cpu-cold.records"
#define LOG_BYTES (512 * 1024)

static void
cleanup(void)
{
	if (nctl_pid > 0)
		kill(nctl_pid, SIGKILL);
}

/* LOG_BYTES of guest log for job (port 0), in 64 KiB appends. */
static void
big_log(struct nctl *n, json_int_t job)
{
	static char chunk[64 * 1024];
	char path[96];
	struct resp r;
	int i;

	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < (int)sizeof(chunk); i += 64)
		chunk[i + 63] = '\n';
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/logs/0", (long long)job);
	for (i = 0; i < LOG_BYTES / (int)sizeof(chunk); i++) {
		http(&n->c, n->agent, "POST", path, chunk, sizeof(chunk), &r);
		resp_free(&r);
	}
}

/* Plays the agent for the next job: a log line, a big log, records. */
static json_int_t
play(struct nctl *n, const char *records, const char *line)
{
	json_t *l, *recs;
	json_int_t job;
	char path[96];
	struct resp r;
	long st;

	l = jcall(
	    &n->c, n->agent, "POST", "/api/v1/agents/lease?wait=5", NULL, &st);
	if (st != 200) {
		json_decref(l);
		return 0;
	}
	job = jint(l, "job");
	json_decref(l);
	if (line != NULL) {
		snprintf(path, sizeof(path), "/api/v1/jobs/%lld/logs/0",
		    (long long)job);
		http(&n->c, n->agent, "POST", path, line, strlen(line), &r);
		resp_free(&r);
	}
	big_log(n, job);
	recs = fixture(records);
	post_batch(&n->c, n->agent, job, 0, recs, NULL);
	json_decref(recs);
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/finish", (long long)job);
	json_decref(jcall(&n->c, n->agent, "POST", path,
	    "{\"outcome\": \"completed\", \"detail\": \"t\"}", &st));
	return job;
}

/* The size of a job's COM1 log, and whether its records are there. */
static long long
log_size(struct nctl *n, json_int_t job, int *events)
{
	char path[96];
	struct resp r;
	json_t *j;
	long long size;
	long st;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/logs/0?limit=1",
	    (long long)job);
	http(&n->c, NULL, "GET", path, NULL, 0, &r);
	size = atoll(r.log_size);
	resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", (long long)job);
	j = jcall(&n->c, NULL, "GET", path, NULL, &st);
	*events = (int)json_array_size(json_object_get(j, "events"));
	json_decref(j);
	return size;
}

/* A bisect over two artifacts: its first step played, then cancelled. */
static json_int_t
bisect_job(struct nctl *n)
{
	json_int_t id, job;
	char path[96];
	json_t *j;
	long st;

	j = jcall(&n->c, n->admin, "POST", "/api/v1/bisects",
	    "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
	    " \"mailbox_version\": 1}, \"artifacts\": [\"/k/0.elf\","
	    " \"/k/1.elf\"], \"kind\": \"test-kernel\", \"repeat\": 1}",
	    &st);
	CHECK_EQ_INT(st, 201);
	id = jint(j, "bisect");
	json_decref(j);
	job = play(n, "nightly/v1-2cpu-kexec.records", NULL);
	snprintf(
	    path, sizeof(path), "/api/v1/bisects/%lld/cancel", (long long)id);
	json_decref(jcall(&n->c, n->admin, "POST", path, NULL, &st));
	return job;
}

/* Runs `wakefarm-controller prune ARGS --json` on n's database. */
static json_t *
prune(struct nctl *n, const char *days, int dry)
{
	static char out[1 << 16];
	char db[340];
	const char *argv[] = { "bin/wakefarm-controller", "prune", "--db", db,
		"--days", days, "--json", "--schema-dir", "db",
		dry ? "--dry-run" : NULL, NULL };

	snprintf(db, sizeof(db), "%s/w.db", n->dir);
	CHECK_EQ_INT(ctl_run(argv, out, sizeof(out)), 0);
	return json_loads(out, 0, NULL);
}

struct jobs {
	json_int_t pass, regression, plain, known, bisect;
};

/* The history: two nights (a regression), a plain job, a known one, a
 * bisect's; every one with a big log. */
static void
history(struct nctl *n, struct jobs *j)
{
	json_t *x;
	long st;

	json_decref(jcall(&n->c, n->admin, "POST", "/api/v1/admin/schedules",
	    "{\"name\": \"n\", \"at\": \"02:00\", \"matrix\":"
	    " [\"quirk-v1-short-entry\"], \"retries\": 0}",
	    &st));
	nctl_clock(n, "2026-01-01T02:00:00Z");
	REQUIRE((j->pass = play(n, GOOD, NULL)) > 0);
	nctl_clock(n, "2026-01-02T02:00:00Z");
	REQUIRE((j->regression = play(n, BAD, NULL)) > j->pass);
	/* adhoc: a plain job, and a failure a known issue explains */
	x = jcall(&n->c, n->admin, "POST", "/api/v1/runs",
	    "{\"scenario\": \"cold-boot\", \"set\": {\"cpus\": 2,"
	    " \"mailbox_version\": 1}}",
	    &st);
	json_decref(x);
	j->plain = play(n, "v1-2cpu-cold.records", "boot ok\n");
	x = jcall(&n->c, n->admin, "POST", "/api/v1/runs",
	    "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
	    " \"mailbox_version\": 1}}",
	    &st);
	json_decref(x);
	j->known = play(n, BAD, "FIRMWARE BUG 7 here\n"); /* no kexec: fails */
	json_decref(jcall(&n->c, n->admin, "POST", "/api/v1/admin/known-issues",
	    "{\"scenario\": \"kexec-chain\", \"check\": \"*\", \"description\":"
	    " \"bug 7\", \"log_regex\": \"FIRMWARE BUG 7\"}",
	    &st));
	j->bisect = bisect_job(n);
	CHECK(j->pass && j->regression && j->plain && j->known && j->bisect);
}

/* Two images: one old that nothing boots, one new. */
static void
blobs(struct nctl *n, char old[500], char young[500])
{
	struct utimbuf t = { 1000000000, 1000000000 };
	char dir[340];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/blobs", n->dir);
	mkdir(dir, 0755);
	snprintf(old, 500, "%s/%064d", dir, 1);
	snprintf(young, 500, "%s/%064d", dir, 2);
	if ((f = fopen(old, "w")) != NULL) {
		fputs("old image\n", f);
		fclose(f);
	}
	if ((f = fopen(young, "w")) != NULL) {
		fputs("young image\n", f);
		fclose(f);
	}
	utime(old, &t);
	/* "young": made after any cutoff this test uses */
	t.actime = t.modtime = time(NULL) + 3600;
	utime(young, &t);
}

TEST(prune_keeps_regression_known_and_bisect_jobs)
{
	struct nctl n = { .name = "prune" };
	struct jobs j = { 0 };
	char old[500], young[500];
	json_t *rep;
	int ev;

	REQUIRE(nctl_start(&n, NULL) == 0);
	history(&n, &j);
	CHECK(log_size(&n, j.plain, &ev) >= LOG_BYTES && ev > 0);
	ctl_stop(&n.c, SIGTERM);
	nctl_pid = 0;
	blobs(&n, old, young);
	/* a dry run changes nothing */
	rep = prune(&n, "0", 1);
	REQUIRE(rep != NULL);
	CHECK(json_is_true(json_object_get(rep, "dry_run")));
	CHECK(jint(rep, "jobs_pruned") >= 1);
	CHECK_EQ_INT(access(old, F_OK), 0);
	json_decref(rep);
	rep = prune(&n, "0", 0);
	REQUIRE(rep != NULL);
	CHECK(jint(rep, "jobs_pruned") >= 1);
	CHECK_EQ_INT(jint(json_object_get(rep, "kept"), "regression"), 2);
	CHECK_EQ_INT(jint(json_object_get(rep, "kept"), "known"), 1);
	CHECK(jint(json_object_get(rep, "kept"), "bisect") >= 1);
	CHECK(jint(rep, "bytes") >= LOG_BYTES);
	CHECK_EQ_INT(jint(rep, "blobs"), 1);
	/* the space came back: the plain job's log was most of it */
	CHECK(jint(rep, "freed_bytes") >= LOG_BYTES / 2);
	CHECK(jint(rep, "db_bytes_after") < jint(rep, "db_bytes_before"));
	json_decref(rep);
	CHECK(access(old, F_OK) != 0);
	CHECK_EQ_INT(access(young, F_OK), 0);
	REQUIRE(nctl_start(&n, NULL) == 0);
	/* gone: the plain job's log and records; its verdict stays */
	CHECK_EQ_INT(log_size(&n, j.plain, &ev), 0);
	CHECK_EQ_INT(ev, 0);
	/* kept: what a regression, a known issue and a bisect point at */
	CHECK(log_size(&n, j.pass, &ev) >= LOG_BYTES && ev > 0);
	CHECK(log_size(&n, j.regression, &ev) >= LOG_BYTES && ev > 0);
	CHECK(log_size(&n, j.known, &ev) >= LOG_BYTES && ev > 0);
	CHECK(log_size(&n, j.bisect, &ev) >= LOG_BYTES && ev > 0);
	{
		char path[96];
		json_t *x;
		long st;

		snprintf(path, sizeof(path), "/api/v1/jobs/%lld",
		    (long long)j.plain);
		x = jcall(&n.c, NULL, "GET", path, NULL, &st);
		CHECK_STR_EQ(jstr(x, "verdict"), "pass");
		CHECK(json_array_size(json_object_get(x, "checks")) > 0);
		json_decref(x);
	}
	/* a second prune finds nothing more */
	ctl_stop(&n.c, SIGTERM);
	nctl_pid = 0;
	rep = prune(&n, "0", 0);
	CHECK_EQ_INT(jint(rep, "jobs_pruned"), 0);
	json_decref(rep);
	free(n.admin);
	free(n.agent);
}

TEST(retain_days_prunes_at_start_once_the_days_went_by)
{
	struct nctl n = { .name = "retain" };
	char skew[340], log[340], *text;
	json_int_t job;
	json_t *x;
	FILE *f;
	long st;
	int ev;

	REQUIRE(nctl_start(&n, NULL) == 0);
	x = jcall(&n.c, n.admin, "POST", "/api/v1/runs",
	    "{\"scenario\": \"cold-boot\", \"set\": {\"cpus\": 2,"
	    " \"mailbox_version\": 1}}",
	    &st);
	json_decref(x);
	REQUIRE((job = play(&n, "v1-2cpu-cold.records", "boot ok\n")) > 0);
	ctl_stop(&n.c, SIGTERM);
	/* three days later, with a policy of one */
	snprintf(skew, sizeof(skew), "%s/skew", n.dir);
	if ((f = fopen(skew, "w")) != NULL) {
		fprintf(f, "%d\n", 3 * 86400);
		fclose(f);
	}
	n.extra[0] = "--retain-days";
	n.extra[1] = "1";
	n.extra[2] = "--clock-skew-file";
	n.extra[3] = skew;
	REQUIRE(nctl_start(&n, NULL) == 0);
	snprintf(log, sizeof(log), "%s/controller.log", n.dir);
	for (int i = 0; i < 200; i++) {
		text = wf_file_read(log, 1 << 22, NULL, NULL);
		if (text != NULL &&
		    strstr(text, "prune (--retain-days 1)") != NULL)
			break;
		free(text);
		text = NULL;
		usleep(25000);
	}
	CHECK(text != NULL);
	free(text);
	CHECK_EQ_INT(log_size(&n, job, &ev), 0);
	CHECK_EQ_INT(ev, 0);
	ctl_stop(&n.c, SIGTERM);
	nctl_pid = 0;
	free(n.admin);
	free(n.agent);
}

int
main(int argc, char **argv)
{
	atexit(cleanup);
	return suite_main(argc, argv, "ctest_prune", test_main);
}
