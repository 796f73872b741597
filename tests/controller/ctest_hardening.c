/*
 * ctest_hardening.c: what an adversarial pass found (issue 16), each case
 * against a real controller: guest output that is not UTF-8 or is cut
 * inside a character, a log regex with a quadratic cost, a flood of idle
 * connections, two Content-Length fields, log appends after the cap and
 * sent twice, a bisect of a bad artifact, one agent token for two hosts, a
 * record that is no object, an admin revoking itself (a test binary of its
 * own: suite.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suite.h"
#include "../unit/test.h"

/* A job of scenario (one case) leased by ag1: its id, 0 when none. */
static json_int_t
leased_job(const char *scenario)
{
	char body[256];
	json_int_t run, job;
	json_t *l;

	cancel_all();
	snprintf(body, sizeof(body),
	    "{\"scenario\": \"%s\", \"set\": {\"cpus\": 2,"
	    " \"mailbox_version\": 1}}",
	    scenario);
	if ((run = submit(body, NULL)) == 0 || (l = lease(ag1, 5)) == NULL)
		return 0;
	job = jint(l, "job");
	json_decref(l);
	return job;
}

/* POST raw bytes to a job's log of port; the reply's JSON (new). */
static json_t *
post_log(const char *tok, json_int_t job, int port, long long offset,
    const char *data, size_t len, long *st)
{
	char path[128];
	struct resp r;
	json_t *j;

	if (offset >= 0)
		snprintf(path, sizeof(path),
		    "/api/v1/jobs/%lld/logs/%d?offset=%lld", (long long)job,
		    port, offset);
	else
		snprintf(path, sizeof(path), "/api/v1/jobs/%lld/logs/%d",
		    (long long)job, port);
	*st = http(&S, tok, "POST", path, data, len, &r);
	j = json_incref(r.json);
	resp_free(&r);
	return j;
}

/* 1 when the string is valid UTF-8 (jansson takes it). */
static int
utf8_ok(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

/* GET path: its status. */
static long
get_status(const char *path)
{
	struct resp r;
	long st = http(&S, NULL, "GET", path, NULL, 0, &r);

	resp_free(&r);
	return st;
}

/*
 * Issue 16, case 1: a log line matched by a known issue, cut at 300 bytes
 * inside a UTF-8 character and holding bytes that are no UTF-8 at all:
 * finish and every read answer, and the line shown is valid text.
 */
TEST(untrusted_log_line_is_shown_as_text)
{
	char line[600], path[96];
	json_int_t job, run;
	json_t *j, *k, *rep;
	long st;
	size_t n;

	j = jcall(&S, admin, "POST", "/api/v1/admin/known-issues",
	    "{\"scenario\": \"quirk-v1-short-entry\", \"check\": \"*\","
	    " \"description\": \"binary\", \"log_regex\": \"BROKEN\"}",
	    &st);
	CHECK_EQ_INT(st, 201);
	json_decref(j);
	REQUIRE((job = leased_job("quirk-v1-short-entry")) > 0);
	/* "BROKEN " and 292 'x', then "é" (c3 a9) across byte 300 */
	n = (size_t)snprintf(line, sizeof(line), "boot\nBROKEN ");
	memset(line + n, 'x', 299 - n);
	n = 299;
	memcpy(line + n, "\xc3\xa9 \xff\xfe\x01 end\n", 12);
	n += 12;
	json_decref(post_log(ag1, job, 0, -1, line, n, &st));
	CHECK_EQ_INT(st, 200);
	j = fixture("v1-2cpu-cold.records");
	post_batch(&S, ag1, job, 0, j, NULL);
	json_decref(j);
	CHECK_EQ_INT(finish(ag1, job, "completed", &rep), 200);
	CHECK_EQ_INT(jint(rep, "job"), job);
	json_decref(rep);
	j = get_job(job);
	CHECK(j != NULL && json_is_true(json_object_get(j, "known")));
	k = json_object_get(
	    json_array_get(json_object_get(j, "known_issues"), 0), "log");
	CHECK(utf8_ok(jstr(k, "line")));
	CHECK(strlen(jstr(k, "line")) <= 300);
	CHECK_STR_CONTAINS(jstr(k, "line"), "BROKEN xxx");
	CHECK_EQ_INT(jint(k, "line_no"), 2);
	run = jint(j, "run");
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/runs/%lld", (long long)run);
	CHECK_EQ_INT(get_status(path), 200);
	snprintf(
	    path, sizeof(path), "/api/v1/runs/%lld/matrix", (long long)run);
	CHECK_EQ_INT(get_status(path), 200);
	snprintf(path, sizeof(path), "/api/v1/runs/%lld/regressions",
	    (long long)run);
	CHECK_EQ_INT(get_status(path), 200);
}

/* A controller of its own with a bigger log cap (for 80 KB lines). */
static int
big_start(struct ctl *c, const char *name, char **adm, char **ag, char **sub)
{
	char dir[300], db[320];
	const char *migrate[] = { "bin/wakefarm-controller", "migrate", "--db",
		db, "--schema-dir", "db", NULL };
	const char *extra[] = { "--scenarios", "scenarios", "--log-cap",
		"1048576", NULL };
	long st;

	snprintf(dir, sizeof(dir), "%s/%s", tmp, name);
	mkdir(dir, 0755);
	snprintf(db, sizeof(db), "%s/w.db", dir);
	if (ctl_run(migrate, NULL, 0) != 0)
		return -1;
	*adm = ctl_token(dir, "admin", "a");
	*ag = ctl_token(dir, "agent", "g");
	*sub = ctl_token(dir, "submitter", "s");
	if (!*adm || !*ag || !*sub || ctl_start(c, dir, extra) == -1)
		return -1;
	json_decref(jcall(c, *ag, "POST", "/api/v1/agents/register",
	    "{\"name\": \"big\", \"slots\": 1, \"libvirt_uri\": \"x\"}", &st));
	return st == 200 ? 0 : -1;
}

/*
 * Case 3: "BUG: .*timeout" against one 80 KB line of "BUG: " (quadratic
 * for a backtracking engine): matched once at finish, bounded, and never
 * again on a read; reads answer at once.
 */
TEST(log_regex_cost_is_bounded_and_never_on_reads)
{
	struct ctl c = { 0 };
	char *adm = NULL, *ag = NULL, *sub = NULL, *line, path[96];
	json_t *j, *l, *recs;
	json_int_t job;
	long long t0, finish_ms, worst = 0;
	struct resp r;
	size_t n = 80 * 1024;
	long st;
	int i;

	if (big_start(&c, "regex", &adm, &ag, &sub) == -1) {
		CHECK(!"a controller with a bigger log cap started");
		goto out;
	}
	json_decref(jcall(&c, adm, "POST", "/api/v1/admin/known-issues",
	    "{\"scenario\": \"*\", \"check\": \"*\", \"description\": \"q\","
	    " \"log_regex\": \"BUG: .*timeout\"}",
	    &st));
	CHECK_EQ_INT(st, 201);
	json_decref(jcall(&c, sub, "POST", "/api/v1/runs",
	    "{\"scenario\": \"quirk-v1-short-entry\", \"set\": {\"cpus\": 2,"
	    " \"mailbox_version\": 1}}",
	    &st));
	l = jcall(&c, ag, "POST", "/api/v1/agents/lease?wait=5", NULL, &st);
	CHECK_EQ_INT(st, 200);
	job = jint(l, "job");
	json_decref(l);
	if ((line = malloc(n + 1)) == NULL)
		goto out;
	for (i = 0; (size_t)i + 5 <= n; i += 5)
		memcpy(line + i, "BUG: ", 5);
	line[n - 1] = '\n';
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/logs/0", (long long)job);
	http(&c, ag, "POST", path, line, n, &r);
	CHECK_EQ_INT(r.status, 200);
	resp_free(&r);
	free(line);
	recs = fixture("v1-2cpu-cold.records");
	post_batch(&c, ag, job, 0, recs, NULL);
	json_decref(recs);
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/finish", (long long)job);
	t0 = ctest_now_ms();
	j = jcall(&c, ag, "POST", path, "{\"outcome\": \"completed\"}", &st);
	finish_ms = ctest_now_ms() - t0;
	CHECK_EQ_INT(st, 200);
	json_decref(j);
	printf("  finish with an 80 KB line: %lld ms\n", finish_ms);
	CHECK(finish_ms < 3000);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", (long long)job);
	for (i = 0; i < 5; i++) {
		t0 = ctest_now_ms();
		j = jcall(&c, NULL, "GET", path, NULL, &st);
		if (ctest_now_ms() - t0 > worst)
			worst = ctest_now_ms() - t0;
		CHECK_EQ_INT(st, 200);
		CHECK(json_is_false(json_object_get(j, "known")));
		json_decref(j);
	}
	printf("  GET /jobs/J: worst %lld ms\n", worst);
	CHECK(worst < 300);
out:
	ctl_stop(&c, SIGTERM);
	free(adm);
	free(ag);
	free(sub);
}

/* A TCP connection to the suite's controller from src (127.x.y.z). */
static int
tcp_from(const char *src)
{
	struct sockaddr_in a = { .sin_family = AF_INET }, b = a;
	const char *port = strrchr(S.base, ':') + 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	inet_pton(AF_INET, src, &a.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &b.sin_addr);
	b.sin_port = htons((uint16_t)atoi(port));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    connect(fd, (struct sockaddr *)&b, sizeof(b)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends req on fd and reads until EOF or ms pass: the bytes read. */
static size_t
exchange(int fd, const char *req, size_t len, char *out, size_t size, int ms)
{
	long long deadline = ctest_now_ms() + ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	if (len > 0 && write(fd, req, len) != (ssize_t)len)
		return 0;
	while (got + 1 < size && ctest_now_ms() < deadline) {
		if (poll(&p, 1, (int)(deadline - ctest_now_ms())) <= 0)
			break;
		if ((n = read(fd, out + got, size - 1 - got)) <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	return got;
}

/* A request from src: its reply's first line ("" when none in 3 s). */
static void
request_from(const char *src, const char *path, char *line, size_t size)
{
	char req[256], buf[4096];
	int fd = tcp_from(src);

	line[0] = '\0';
	if (fd == -1)
		return;
	snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	exchange(fd, req, strlen(req), buf, sizeof(buf), 3000);
	close(fd);
	buf[strcspn(buf, "\r\n")] = '\0';
	snprintf(line, size, "%.200s", buf);
}

/*
 * Case 4: 1,100 connections that never send a request: the controller
 * keeps answering others (its health endpoint and the API), closes the
 * idle ones after its idle timeout, and the address answers again.
 */
TEST(idle_connection_flood_leaves_it_up)
{
	static int fds[1100];
	struct rlimit rl = { 4096, 4096 };
	char line[256], buf[64];
	int i, opened = 0, closed = 0;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 2048) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (i = 0; i < 1100; i++)
		if ((fds[i] = tcp_from("127.0.0.1")) != -1)
			opened++;
	printf("  %d idle connections opened\n", opened);
	CHECK(opened >= 1024);
	usleep(300000);
	request_from("127.0.0.2", "/healthz", line, sizeof(line));
	CHECK_STR_EQ(line, "HTTP/1.1 200 OK");
	request_from("127.0.0.3", "/api/v1/runs?limit=1", line, sizeof(line));
	CHECK_STR_EQ(line, "HTTP/1.1 200 OK");
	/* The idle ones are closed after the idle timeout (10 s). */
	usleep(11500 * 1000);
	for (i = 0; i < 1100; i++) {
		if (fds[i] == -1)
			continue;
		struct pollfd p = { .fd = fds[i], .events = POLLIN };

		/* closed by the peer: readable, and read says EOF */
		if (poll(&p, 1, 0) == 1 && read(fds[i], buf, sizeof(buf)) == 0)
			closed++;
		close(fds[i]);
	}
	printf("  %d of them closed by the controller\n", closed);
	CHECK(closed >= opened - 10);
	request_from("127.0.0.1", "/healthz", line, sizeof(line));
	CHECK_STR_EQ(line, "HTTP/1.1 200 OK");
}

/* Case 5: two Content-Length fields (or one with chunked): 400, closed. */
TEST(ambiguous_framing_is_refused_and_closed)
{
	static const char *const reqs[] = {
		"POST /api/v1/runs HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
		"Content-Length: 41\r\n\r\n{}GET /api/v1/hosts HTTP/1.1\r\n"
		"Host: a\r\n\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
		"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
		"GET /api/v1/hosts HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2"
		"\r\n\r\n{}GET /api/v1/hosts HTTP/1.1\r\nHost: a\r\n\r\n",
	};
	char buf[8192];
	size_t i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		int fd = tcp_from("127.0.0.1");

		REQUIRE(fd != -1);
		exchange(fd, reqs[i], strlen(reqs[i]), buf, sizeof(buf), 3000);
		close(fd);
		/* refused, and the smuggled GET never answered */
		CHECK(strncmp(buf, "HTTP/1.1 400", 12) == 0);
		CHECK(strstr(buf, "\"hosts\"") == NULL);
		CHECK(strstr(buf, "200 OK") == NULL);
		if (strncmp(buf, "HTTP/1.1 400", 12) != 0 ||
		    strstr(buf, "200 OK") != NULL)
			printf("  request %zu got: %.300s\n", i, buf);
	}
}

/* Case 6: an append past the cap says what it kept: nothing. */
TEST(log_append_after_the_cap_stores_nothing)
{
	static char data[1500];
	json_int_t job;
	json_t *j;
	long st;

	memset(data, 'a', sizeof(data));
	REQUIRE((job = leased_job("cold-boot")) > 0);
	j = post_log(ag1, job, 0, -1, data, sizeof(data), &st);
	CHECK_EQ_INT(jint(j, "stored"), 1500);
	CHECK(json_is_false(json_object_get(j, "truncated")));
	json_decref(j);
	/* the suite's cap is 2048 bytes */
	j = post_log(ag1, job, 0, -1, data, sizeof(data), &st);
	CHECK_EQ_INT(jint(j, "stored"), 548);
	CHECK(json_is_true(json_object_get(j, "truncated")));
	json_decref(j);
	j = post_log(ag1, job, 0, -1, data, sizeof(data), &st);
	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(jint(j, "stored"), 0);
	json_decref(j);
}

/* Case 10: log chunks with their offset are stored exactly once. */
TEST(log_chunks_exactly_once)
{
	char path[96];
	json_int_t job;
	struct resp r;
	json_t *j;
	long st;

	REQUIRE((job = leased_job("cold-boot")) > 0);
	j = post_log(ag1, job, 1, 0, "abc", 3, &st);
	CHECK_EQ_INT(jint(j, "stored"), 3);
	json_decref(j);
	/* the reply was lost: sent again */
	j = post_log(ag1, job, 1, 0, "abc", 3, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(jint(j, "stored"), 0);
	CHECK(json_is_true(json_object_get(j, "duplicate")));
	json_decref(j);
	j = post_log(ag1, job, 1, 3, "defg", 4, &st);
	CHECK_EQ_INT(jint(j, "stored"), 4);
	CHECK_EQ_INT(jint(j, "offset"), 7);
	json_decref(j);
	j = post_log(ag1, job, 1, 10, "xyz", 3, &st);
	expect_error(st, j, 409, "expected offset 7");
	json_decref(j);
	/* overlapping: only what is new */
	j = post_log(ag1, job, 1, 5, "fghij", 5, &st);
	CHECK_EQ_INT(jint(j, "stored"), 3);
	json_decref(j);
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/logs/1", (long long)job);
	http(&S, NULL, "GET", path, NULL, 0, &r);
	CHECK_STR_EQ(r.body, "abcdefghij");
	resp_free(&r);
}

/*
 * What an agent sends for an attempt that is over (the job was requeued,
 * maybe to the same host) is refused, never taken for the new attempt's.
 */
TEST(items_of_an_attempt_that_is_over_are_refused)
{
	char path[96];
	json_int_t job;
	json_t *j;
	long st;

	REQUIRE((job = leased_job("cold-boot")) > 0);
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/events", (long long)job);
	j = jcall(&S, ag1, "POST", path,
	    "{\"batch\": 0, \"attempt\": 2, \"records\": []}", &st);
	expect_error(st, j, 409, "attempt 2 of job");
	json_decref(j);
	snprintf(path, sizeof(path),
	    "/api/v1/jobs/%lld/logs/0?offset=0&attempt=3", (long long)job);
	j = jcall(&S, ag1, "POST", path, "abc", &st);
	expect_error(st, j, 409, "is over (it is at attempt 1)");
	json_decref(j);
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/finish", (long long)job);
	j = jcall(&S, ag1, "POST", path,
	    "{\"outcome\": \"infra\", \"attempt\": 2}", &st);
	expect_error(st, j, 409, "is over");
	json_decref(j);
	j = jcall(&S, ag1, "POST", path,
	    "{\"outcome\": \"infra\", \"attempt\": 1}", &st);
	CHECK_EQ_INT(st, 200);
	json_decref(j);
	cancel_all();
}

/* Case 7: a bisect over artifacts the steps could not run: 400 now. */
TEST(bisect_of_bad_artifacts_is_refused_before_storing)
{
	json_t *j;
	long st;

	j = jcall(&S, submitter, "POST", "/api/v1/bisects",
	    "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
	    " \"mailbox_version\": 1}, \"artifacts\": [\"../x\", \"b\"],"
	    " \"kind\": \"test-kernel\"}",
	    &st);
	expect_error(st, j, 400, "key 'artifacts': item 0");
	json_decref(j);
	j = jcall(&S, NULL, "GET", "/api/v1/bisects", NULL, &st);
	CHECK_EQ_INT(jint(j, "total"), 0);
	json_decref(j);
}

/*
 * Case 8: one agent token per host. A second name for the same token is
 * refused, and the token's host keeps finishing its jobs.
 */
TEST(one_agent_token_per_host)
{
	json_int_t job;
	json_t *j, *l;
	long st;

	j = jcall(&S, ag3, "POST", "/api/v1/agents/register",
	    "{\"name\": \"h3\", \"slots\": 1, \"libvirt_uri\": \"x\"}", &st);
	CHECK_EQ_INT(st, 200);
	json_decref(j);
	cancel_all();
	REQUIRE(submit("{\"scenario\": \"cold-boot\", \"set\": {\"cpus\": 2,"
	               " \"mailbox_version\": 1}}",
	            NULL) > 0);
	REQUIRE((l = lease(ag3, 5)) != NULL);
	job = jint(l, "job");
	json_decref(l);
	j = jcall(&S, ag3, "POST", "/api/v1/agents/register",
	    "{\"name\": \"h4\", \"slots\": 1, \"libvirt_uri\": \"x\"}", &st);
	expect_error(st, j, 409, "one agent token per host");
	json_decref(j);
	CHECK_EQ_INT(finish(ag3, job, "infra", NULL), 200);
}

/* Case 9: a record that is not an object is refused as such. */
TEST(record_that_is_no_object_is_named)
{
	json_int_t job;
	json_t *rep = NULL, *recs = json_pack("[i]", 1);
	long st;

	REQUIRE((job = leased_job("cold-boot")) > 0);
	st = post_batch(&S, ag1, job, 0, recs, &rep);
	expect_error(
	    st, rep, 400, "records[0]: a record must be a JSON object");
	json_decref(rep);
	json_decref(recs);
}

/*
 * The soak's find: an agent restarted after kill -9 heartbeats with none of
 * its dead run's jobs; their leases are not renewed, they expire and the
 * job is requeued (attempt 2) instead of staying leased for ever.
 */
TEST(restarted_agent_does_not_renew_its_dead_runs_jobs)
{
	json_int_t job;
	long long end;
	json_t *j;
	long st;

	REQUIRE((job = leased_job("cold-boot")) > 0);
	end = ctest_now_ms() + 4000; /* the suite's lease is 1.5 s */
	while (ctest_now_ms() < end) {
		j = jcall(&S, ag1, "POST", "/api/v1/agents/heartbeat",
		    "{\"jobs\": []}", &st);
		CHECK_EQ_INT(st, 200);
		CHECK_EQ_INT(json_array_size(json_object_get(j, "renewed")), 0);
		json_decref(j);
		usleep(300000);
	}
	j = get_job(job);
	CHECK(
	    strcmp(jstr(j, "state"), "queued") == 0 || jint(j, "attempt") == 2);
	json_decref(j);
	cancel_all();
}

/* An admin token through the API: its id into *id; the token (new). */
static char *
new_admin(const char *name, json_int_t *id)
{
	long st;
	json_t *j = jcallj(&S, admin, "POST", "/api/v1/admin/tokens",
	    json_pack("{s:s, s:s}", "name", name, "role", "admin"), &st);
	char *t = strdup(jstr(j, "token"));

	*id = jint(j, "id");
	json_decref(j);
	return t;
}

/* Case 11: an admin cannot revoke itself (nor, so, the last admin). */
TEST(admin_cannot_revoke_itself)
{
	json_int_t id1, id2;
	char *a1 = new_admin("adm1", &id1), *a2 = new_admin("adm2", &id2);
	char path[96];
	json_t *j;
	long st;

	snprintf(path, sizeof(path), "/api/v1/admin/tokens/%lld/revoke",
	    (long long)id1);
	j = jcall(&S, a1, "POST", path, NULL, &st);
	expect_error(st, j, 409, "cannot revoke itself");
	json_decref(j);
	j = jcall(&S, a2, "POST", path, NULL, &st);
	CHECK_EQ_INT(st, 200);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/admin/tokens/%lld/revoke",
	    (long long)id2);
	j = jcall(&S, a2, "POST", path, NULL, &st);
	expect_error(st, j, 409, "cannot revoke itself");
	json_decref(j);
	free(a1);
	free(a2);
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_hardening", test_main);
}
