/*
 * ctest_faults.c: the controller when something runs out: the disk under
 * its database fills up (a small tmpfs mounted for the test: needs root),
 * and a token submits faster than --submit-rate .
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

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>

#define FULL_TMPFS "size=8m"

/* Lines of the controller's log. */
static int
log_lines(const struct ctl *c, const char *word)
{
	char path[320], line[2048];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/controller.log", c->dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		n += word == NULL || strstr(line, word) != NULL;
	fclose(f);
	return n;
}

/* Writes path until the file system has no room left; the bytes written. */
static long long
fill_disk(const char *path)
{
	static char block[65536];
	long long total = 0;
	size_t size;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return -1;
	for (size = sizeof(block); size >= 512; size /= 2) {
		while ((n = write(fd, block, size)) > 0)
			total += n;
		if (errno != ENOSPC)
			break;
	}
	fsync(fd);
	close(fd);
	return total;
}

/* Empties the WAL, so that the controller's next write needs new blocks. */
static int
checkpoint_wal(const char *db)
{
	sqlite3 *h = NULL;
	int rc;

	if (sqlite3_open(db, &h) != SQLITE_OK) {
		sqlite3_close(h);
		return -1;
	}
	rc = sqlite3_wal_checkpoint_v2(
	    h, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_close(h);
	return rc == SQLITE_OK ? 0 : -1;
}

static long
post_log(const struct ctl *c, const char *tok, json_int_t job, const char *text)
{
	char path[80];
	struct resp r;
	long st;

	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/logs/0", (long long)job);
	st = http(c, tok, "POST", path, text, strlen(text), &r);
	resp_free(&r);
	return st;
}

static long
job_events(const struct ctl *c, json_int_t job, json_int_t *attempt)
{
	char path[64];
	json_t *j;
	long st, n;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", (long long)job);
	j = jcall(c, NULL, "GET", path, NULL, &st);
	n = st == 200 ? (long)json_array_size(json_object_get(j, "events")) :
	                -1;
	if (attempt != NULL)
		*attempt = jint(j, "attempt");
	json_decref(j);
	return n;
}

/* A write refused for the full disk: 503, the reason, Retry-After. */
static void
expect_503(const struct ctl *c, const char *tok, const char *method,
    const char *path, const char *body)
{
	struct resp r;

	http(c, tok, method, path, body, body ? strlen(body) : 0, &r);
	if (r.status != 503)
		printf("  %s %s: %ld %s\n", method, path, r.status,
		    r.body ? r.body : "");
	CHECK_EQ_INT(r.status, 503);
	CHECK_STR_CONTAINS(jstr(r.json, "error"), "disk is full");
	CHECK_STR_EQ(r.retry_after, "10");
	resp_free(&r);
}

/* While the disk is full: every write is a 503 and stores nothing. */
static void
writes_refused(struct ctl *cp, const char *sub, const char *agent,
    json_int_t job, json_t *rest, const char *body)
{
	struct ctl c = *cp;
	char path[96];

	expect_503(&c, sub, "POST", "/api/v1/runs", body);
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/events", (long long)job);
	{
		json_t *batch = json_pack(
		    "{s:i, s:O}", "batch", 1, "records", rest);
		char *b = json_dumps(batch, JSON_COMPACT);

		expect_503(&c, agent, "POST", path, b);
		free(b);
		json_decref(batch);
	}
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/logs/0", (long long)job);
	expect_503(&c, agent, "POST", path, "while it was full\n");
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/finish", (long long)job);
	expect_503(&c, agent, "POST", path, "{\"outcome\": \"completed\"}");
	expect_503(&c, agent, "POST", "/api/v1/agents/heartbeat", NULL);
}

/* ... while reads go on, and see everything acknowledged before. */
static void
reads_go_on(struct ctl *cp, json_int_t run, json_int_t job,
    json_int_t runs_before, long events_before)
{
	struct ctl c = *cp;
	char path[96];
	struct resp r;
	json_t *j;
	long st;

	j = jcall(&c, NULL, "GET", "/api/v1/runs", NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(jint(j, "total"), runs_before);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs?run=%lld", (long long)run);
	j = jcall(&c, NULL, "GET", path, NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "jobs")), 1);
	json_decref(j);
	CHECK_EQ_INT(job_events(&c, job, NULL), events_before);
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/logs/0", (long long)job);
	http(&c, NULL, "GET", path, NULL, 0, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK_STR_EQ(r.body, "before the disk filled\n");
	resp_free(&r);
}

static void
disk_full_case(const char *dir)
{
	const char *const extra[] = { "--lease-ms", "1500", "--scenarios",
		"scenarios", NULL };
	char db[320], filler[320], path[96], body[160];
	const char *migrate[] = { "bin/wakefarm-controller", "migrate", "--db",
		db, "--schema-dir", "db", NULL };
	json_t *recs, *first, *rest, *l = NULL, *j;
	struct ctl c = { 0 };
	char *sub = NULL, *agent = NULL;
	json_int_t run, job, runs_before, attempt = 0;
	long st, events_before, warns_before, n;
	size_t i;

	snprintf(db, sizeof(db), "%s/w.db", dir);
	snprintf(filler, sizeof(filler), "%s/filler", dir);
	REQUIRE(ctl_run(migrate, NULL, 0) == 0);
	sub = ctl_token(dir, "submitter", "full-sub");
	agent = ctl_token(dir, "agent", "full-agent");
	REQUIRE(sub != NULL && agent != NULL);
	REQUIRE(ctl_start(&c, dir, extra) == 0);
	json_decref(jcall(&c, agent, "POST", "/api/v1/agents/register",
	    "{\"name\": \"full-host\", \"slots\": 1, \"libvirt_uri\": \"x\"}",
	    &st));
	CHECK_EQ_INT(st, 200);

	/* Acknowledged before the disk fills: a run, half a job's records, a log. */
	json_decref(jcall(&c, sub, "POST", "/api/v1/runs",
	    "{\"scenario\":"
	    " \"cold-boot\", \"set\": {\"cpus\": 2, \"mailbox_version\": 1}}",
	    &st));
	REQUIRE(st == 201);
	j = jcall(&c, agent, "POST", "/api/v1/agents/lease", NULL, &st);
	REQUIRE(st == 200);
	job = jint(j, "job");
	run = jint(j, "run");
	json_decref(j);
	recs = fixture("v1-2cpu-cold.records");
	first = json_array();
	rest = json_array();
	json_array_foreach (recs, i, l)
		json_array_append(i < 5 ? first : rest, l);
	CHECK_EQ_INT(post_batch(&c, agent, job, 0, first, NULL), 200);
	CHECK_EQ_INT(post_log(&c, agent, job, "before the disk filled\n"), 200);
	j = jcall(&c, NULL, "GET", "/api/v1/runs", NULL, &st);
	runs_before = jint(j, "total");
	json_decref(j);
	events_before = job_events(&c, job, NULL);
	CHECK_EQ_INT(events_before, 5);

	REQUIRE(checkpoint_wal(db) == 0);
	REQUIRE(fill_disk(filler) > 0);
	warns_before = log_lines(&c, "WARN");

	snprintf(body, sizeof(body), "{\"scenario\": \"cold-boot\"}");
	writes_refused(&c, sub, agent, job, rest, body);
	reads_go_on(&c, run, job, runs_before, events_before);
	/* Longer than a lease: no lease may expire for want of a heartbeat. */
	usleep(2500 * 1000);
	CHECK(kill(c.pid, 0) == 0 && waitpid(c.pid, NULL, WNOHANG) == 0);
	/* One line says it, not one per refused request. */
	CHECK_EQ_INT(log_lines(&c, "WARN") - warns_before, 1);
	CHECK_EQ_INT(log_lines(&c, "the disk is full"), 1);
	CHECK_EQ_INT(log_lines(&c, "sqlite:"), 0);

	/*
	 * Room again: the retried writes land, exactly once. Agents retry
	 * after a backoff: the lease reaper (every second) runs first.
	 */
	CHECK(unlink(filler) == 0);
	usleep(1500 * 1000);
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/events", (long long)job);
	for (i = 0; i < 2; i++) {
		json_t *rep = NULL;

		CHECK_EQ_INT(post_batch(&c, agent, job, 1, rest, &rep), 200);
		CHECK_EQ_INT(
		    json_is_true(json_object_get(rep, "duplicate")), i == 1);
		CHECK_EQ_INT(jint(rep, "stored"),
		    i == 0 ? (json_int_t)json_array_size(rest) : 0);
		json_decref(rep);
	}
	CHECK_EQ_INT(post_log(&c, agent, job, "after\n"), 200);
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/finish", (long long)job);
	j = jcall(&c, agent, "POST", path, "{\"outcome\": \"completed\"}", &st);
	CHECK_EQ_INT(st, 200);
	CHECK(json_is_true(json_object_get(j, "as_expected")));
	json_decref(j);
	n = job_events(&c, job, &attempt);
	CHECK_EQ_INT(n, (long)json_array_size(recs));
	CHECK_EQ_INT(attempt, 1);
	json_decref(jcall(&c, sub, "POST", "/api/v1/runs", body, &st));
	CHECK_EQ_INT(st, 201);
	CHECK_EQ_INT(log_lines(&c, "there is disk space again"), 1);

	json_decref(recs);
	json_decref(first);
	json_decref(rest);
	ctl_stop(&c, SIGTERM);
	free(sub);
	free(agent);
}

/*
 * The database's disk fills up while the controller runs: every write is
 * a 503 with a reason and Retry-After, one log line says why, reads go
 * on, leases survive, and it all works again once there is room.
 */
TEST(a_full_disk_refuses_writes_with_503_and_recovers)
{
	char dir[300];

	snprintf(dir, sizeof(dir), "%s/full", tmp);
	REQUIRE(mkdir(dir, 0755) == 0 || errno == EEXIST);
	if (mount("tmpfs", dir, "tmpfs", 0, FULL_TMPFS) == -1) {
		printf("  mount tmpfs on %s: %s (this test needs root)\n", dir,
		    strerror(errno));
		CHECK(0);
		return;
	}
	disk_full_case(dir);
	if (umount2(dir, MNT_DETACH) == -1)
		printf("  umount %s: %s\n", dir, strerror(errno));
}

/* --submit-rate: a bucket per token, 429 with Retry-After, nothing stored. */
TEST(submissions_are_rate_limited_per_token)
{
	const char *const extra[] = { "--submit-rate", "60/min",
		"--submit-burst", "2", "--scenarios", "scenarios", NULL };
	const char *const run = "{\"scenario\": \"cold-boot\"}";
	char dir[300], db[320], *s1, *s2;
	const char *migrate[] = { "bin/wakefarm-controller", "migrate", "--db",
		db, "--schema-dir", "db", NULL };
	struct ctl c = { 0 };
	struct resp r;
	json_t *j;
	long st;
	int i;

	snprintf(dir, sizeof(dir), "%s/rate", tmp);
	mkdir(dir, 0755);
	snprintf(db, sizeof(db), "%s/w.db", dir);
	REQUIRE(ctl_run(migrate, NULL, 0) == 0);
	s1 = ctl_token(dir, "submitter", "rate-1");
	s2 = ctl_token(dir, "submitter", "rate-2");
	REQUIRE(s1 != NULL && s2 != NULL && ctl_start(&c, dir, extra) == 0);
	for (i = 0; i < 2; i++) {
		json_decref(jcall(&c, s1, "POST", "/api/v1/runs", run, &st));
		CHECK_EQ_INT(st, 201);
	}
	http(&c, s1, "POST", "/api/v1/runs", run, strlen(run), &r);
	CHECK_EQ_INT(r.status, 429);
	CHECK_STR_CONTAINS(jstr(r.json, "error"), "too many submissions");
	CHECK_STR_EQ(r.retry_after, "1");
	resp_free(&r);
	/* Bisects draw from the same bucket. */
	http(&c, s1, "POST", "/api/v1/bisects", "{}", 2, &r);
	CHECK_EQ_INT(r.status, 429);
	resp_free(&r);
	/* Another token has its own. */
	json_decref(jcall(&c, s2, "POST", "/api/v1/runs", run, &st));
	CHECK_EQ_INT(st, 201);
	j = jcall(&c, NULL, "GET", "/api/v1/runs", NULL, &st);
	CHECK_EQ_INT(jint(j, "total"), 3);
	json_decref(j);
	/* 60/min: one more a second. */
	usleep(1100 * 1000);
	json_decref(jcall(&c, s1, "POST", "/api/v1/runs", run, &st));
	CHECK_EQ_INT(st, 201);
	http(&c, s1, "POST", "/api/v1/runs", run, strlen(run), &r);
	CHECK_EQ_INT(r.status, 429);
	resp_free(&r);
	ctl_stop(&c, SIGTERM);
	free(s1);
	free(s2);
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_faults", test_main);
}
