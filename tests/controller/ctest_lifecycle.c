/*
 * ctest_lifecycle.c: controller suite cases over whole runs and the
 * controller's life: the nightly matrix against real records, comparing
 * runs, vanished agents, SIGTERM .
 */

#include <pthread.h>
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

/* Scenarios whose cases the guest suite names itself: by quirk set. */
static const char *
named_case(const char *scenario, const char *q, const char *s)
{
	if (strcmp(scenario, "mailbox-poll-race") == 0)
		return strstr(q, "poll-early-command") ?
		    "fix-poll-order-undone" :
		    "mailbox-poll-race";
	if (strcmp(scenario, "quirk-reset-vector-zero") == 0)
		return s[0] ? "quirk-reset-vector-zero-offline" :
		              "quirk-reset-vector-zero-cold";
	if (strcmp(scenario, "handback-irq-pending") == 0)
		return q[0] ? "fix-irq-reclaim-undone" :
		              "handback-irq-pending-halt";
	if (strcmp(scenario, "shim-hand-off") == 0)
		return !q[0]         ? "v1-2cpu-kexec" :
		    strstr(q, "nxe") ? "fix-wakeup-nxe-undone" :
		                       "fix-reset-page-undone";
	if (strcmp(scenario, "kdump-nmi-reaches-parked") == 0)
		return scenario;
	return NULL;
}

/* The guest suite's case name for a job (see data/nightly/). */
static void
guest_case_name(const char *scenario, const json_t *p, char *out, size_t size)
{
	static const struct {
		const char *steps, *suffix;
	} steps[] = {
		{ "", "cold" },
		{ "kexec*5", "kexec-chain-5" },
		{ "cycle*10", "cycle-10" },
		{ "crash@0", "kdump-boot-cpu" },
		{ "crash@1", "kdump-on-ap" },
		{ "crash@2", "kdump-limit-2" },
		{ "offline:1,offline:2,kexec", "kexec-after-offline" },
		{ "offline:1,kexec,online:1", "offline-online-kexec" },
		{ NULL, NULL },
	};
	const char *q = jstr(p, "quirks"), *s = jstr(p, "steps"), *named;
	int v = (int)jint(p, "mailbox_version"), i;

	if (jstr(p, "kernel_package")[0] != '\0') {
		/* tests/linux's records (tests/out/linux): 6.1 as linux61-*,
		 * 6.12 under its own names */
		int k612 = strstr(jstr(p, "kernel_package"), "6.12") != NULL;

		snprintf(out, size, "linux61%s-v%d-%lldcpu-%s", k612 ? "2" : "",
		    v, (long long)jint(p, "cpus"),
		    !s[0]                       ? "cold" :
		        strcmp(s, "kexec") != 0 ? "offline-kexec-hang" :
		        k612                    ? "kexec" :
		                                  "kexec-hang");
	} else if ((named = named_case(scenario, q, s)) != NULL) {
		snprintf(out, size, "%s", named);
	} else if (q[0] != '\0') {
		snprintf(out, size, "quirk-%.*s", (int)strcspn(q, "="), q);
	} else if (strcmp(jstr(p, "policy"), "pre-6.11") == 0) {
		snprintf(out, size,
		    v ? "pre611-v1-kexec-hang" : "pre611-v0-kdump-hang");
	} else if (strcmp(s, "kexec:pre-6.11") == 0) {
		snprintf(out, size, "mixed-611-then-pre611-v0-kexec-hang");
	} else {
		for (i = 0;
		     steps[i].steps != NULL && strcmp(steps[i].steps, s) != 0;
		     i++)
			;
		snprintf(out, size, "v%d-%lldcpu-%s", v,
		    (long long)jint(p, "cpus"),
		    steps[i].suffix != NULL ? steps[i].suffix : "?");
	}
}

/*
 * The shipped nightly matrix against real records of the guest suite
 * (tests/out/guest, copied to data/nightly/): every job as expected.
 */
TEST(nightly_matrix_meets_real_records)
{
	json_int_t run, jobs = 0, n = 0;
	char name[128], file[160], path[64];
	json_t *l, *recs, *rep, *j;
	long st;

	cancel_all();
	run = submit("{\"matrix\": \"nightly\", \"priority\": 1000}", &jobs);
	REQUIRE(run > 0);
	while (n < jobs && (l = lease(ag1, 0)) != NULL) {
		REQUIRE(jint(l, "run") == run);
		guest_case_name(jstr(l, "scenario"),
		    json_object_get(l, "params"), name, sizeof(name));
		snprintf(file, sizeof(file), "nightly/%s.records", name);
		recs = fixture(file);
		CHECK(json_array_size(recs) > 3);
		CHECK_EQ_INT(
		    post_batch(&S, ag1, jint(l, "job"), 0, recs, NULL), 200);
		CHECK_EQ_INT(
		    finish(ag1, jint(l, "job"), "completed", &rep), 200);
		if (!json_is_true(json_object_get(rep, "as_expected"))) {
			char *t = json_dumps(rep, JSON_COMPACT);

			printf("  %s (%s): %s\n", jstr(l, "scenario"), name, t);
			free(t);
		}
		CHECK(json_is_true(json_object_get(rep, "as_expected")));
		json_decref(rep);
		json_decref(recs);
		json_decref(l);
		n++;
	}
	CHECK_EQ_INT(n, jobs);
	snprintf(path, sizeof(path), "/api/v1/runs/%lld", (long long)run);
	j = jcall(&S, NULL, "GET", path, NULL, &st);
	CHECK_STR_EQ(jstr(json_object_get(j, "run"), "state"), "done");
	CHECK_EQ_INT(jint(json_object_get(j, "run"), "jobs_as_expected"), jobs);
	json_decref(j);
}

/*
 * Two kernels compared (wakefarm compare --kernels): the nightly's
 * linux-kexec, Debian's 6.1 and 6.12 side by side, fed with their real
 * records: 6.12 fixes the version-1 hang and turns the version-0 one into
 * the one-CPU kexec (a fail of mailbox-address, its documented outcome).
 */
TEST(compare_two_kernels)
{
	json_int_t run, jobs = 0, n = 0;
	char name[128], file[160], runarg[32], out[8192];
	const char *const cmp[] = { "compare", "--kernels",
		"linux-image-cloud-amd64,linux-image-6.12-cloud-amd64", runarg,
		NULL };
	const char *const bad[] = { "compare", "--kernels", "only-one", runarg,
		NULL };
	json_t *l, *recs, *rep;

	cancel_all();
	run = submit(
	    "{\"scenario\": \"linux-kexec\", \"priority\": 900}", &jobs);
	REQUIRE(run > 0);
	CHECK_EQ_INT(jobs, 4);
	while (n < jobs && (l = lease(ag1, 0)) != NULL) {
		guest_case_name(jstr(l, "scenario"),
		    json_object_get(l, "params"), name, sizeof(name));
		snprintf(file, sizeof(file), "nightly/%s.records", name);
		recs = fixture(file);
		CHECK_EQ_INT(
		    post_batch(&S, ag1, jint(l, "job"), 0, recs, NULL), 200);
		CHECK_EQ_INT(
		    finish(ag1, jint(l, "job"), "completed", &rep), 200);
		CHECK(json_is_true(json_object_get(rep, "as_expected")));
		json_decref(rep);
		json_decref(recs);
		json_decref(l);
		n++;
	}
	snprintf(runarg, sizeof(runarg), "%lld", (long long)run);
	CHECK_EQ_INT(cli(NULL, cmp, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, "2 pairs of cases: 0 regressions, 1 fixed");
	CHECK_STR_CONTAINS(out, "1 changed");
	CHECK_STR_CONTAINS(out, "\"mailbox_version\":1}: hang (job ");
	CHECK_STR_CONTAINS(out, ") -> pass (job ");
	CHECK_EQ_INT(cli(NULL, bad, out, sizeof(out)), 64);
	CHECK_STR_CONTAINS(out, "--kernels takes two kernels");
}

struct remote_poll {
	struct ctl *c;
	const char *tok;
	long status;
	long long at;
};

static void *
remote_poll_thread(void *arg)
{
	struct remote_poll *p = arg;
	struct resp r;

	http(p->c, p->tok, "POST", "/api/v1/agents/lease?wait=20", NULL, 0, &r);
	p->status = r.status;
	p->at = ctest_now_ms();
	resp_free(&r);
	return NULL;
}

/* SIGTERM answers a waiting long-poll (204) and exits 0. */
TEST(sigterm_answers_waiting_long_polls)
{
	char dir[300], db[320];
	const char *migrate[] = { "bin/wakefarm-controller", "migrate", "--db",
		db, "--schema-dir", "db", NULL };
	struct ctl c = { 0 };
	struct remote_poll p = { &c, NULL, -1, 0 };
	long long t0;
	pthread_t th;
	char *tok;
	int status = -1;
	long st;

	snprintf(dir, sizeof(dir), "%s/term", tmp);
	mkdir(dir, 0755);
	snprintf(db, sizeof(db), "%s/w.db", dir);
	REQUIRE(ctl_run(migrate, NULL, 0) == 0);
	tok = ctl_token(dir, "agent", "t");
	REQUIRE(tok != NULL && ctl_start(&c, dir, NULL) == 0);
	json_decref(jcall(&c, tok, "POST", "/api/v1/agents/register",
	    "{\"name\": \"t\", \"slots\": 1, \"libvirt_uri\": \"x\"}", &st));
	p.tok = tok;
	pthread_create(&th, NULL, remote_poll_thread, &p);
	wait_metric(&c, "wakefarm_lease_waiters 1", 500);
	t0 = ctest_now_ms();
	kill(c.pid, SIGTERM);
	waitpid(c.pid, &status, 0);
	c.pid = 0;
	pthread_join(th, NULL);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ_INT(p.status, 204);
	CHECK(p.at - t0 < 2000);
	free(tok);
}

/*
 * A long-poll whose agent went away: the job it would have got is not
 * lost to a lease expiry (nor does it cost an attempt).
 */
TEST(lease_to_a_vanished_agent_is_released)
{
	struct ctl c = S;
	json_int_t run;
	char path[64];
	json_t *l;
	long st;

	cancel_all();
	{
		/* The client gives up after 300 ms; the poll stays suspended. */
		CURL *cu = curl_easy_init();
		struct curl_slist *h = NULL;
		char url[256], auth[128];

		snprintf(
		    url, sizeof(url), "%s/api/v1/agents/lease?wait=20", c.base);
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ag1);
		h = curl_slist_append(h, auth);
		curl_easy_setopt(cu, CURLOPT_URL, url);
		curl_easy_setopt(cu, CURLOPT_POST, 1L);
		curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, 300L);
		curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
		CHECK(curl_easy_perform(cu) == CURLE_OPERATION_TIMEDOUT);
		curl_slist_free_all(h);
		curl_easy_cleanup(cu);
	}
	run = submit("{\"inline\": {\"name\": \"gone\"}}", NULL);
	REQUIRE(run > 0);
	/* Bounded: the dead poll is dropped, not handed the job. */
	wait_metric(&S, "wakefarm_lease_waiters 0", 200);
	snprintf(path, sizeof(path), "/api/v1/jobs?run=%lld", (long long)run);
	l = jcall(&S, NULL, "GET", path, NULL, &st);
	CHECK_STR_EQ(
	    jstr(json_array_get(json_object_get(l, "jobs"), 0), "state"),
	    "queued");
	json_decref(l);
	l = lease(ag2, 0);
	REQUIRE(l != NULL);
	CHECK_EQ_INT(jint(l, "attempt"), 1);
	CHECK_EQ_INT(jint(l, "run"), run);
	json_decref(l);
	cancel_all();
}

/*
 * The controller is down longer than a lease: the agent could not
 * heartbeat, so the restarted controller gives its lease one more period
 * instead of retrying a job that is still running (the e2e farm saw a
 * second attempt and a doubled "done" from this).
 */
TEST(lease_survives_a_controller_restart)
{
	const char *extra[] = { "--lease-ms", "1000", NULL };
	char dir[300], db[320], path[64];
	const char *migrate[] = { "bin/wakefarm-controller", "migrate", "--db",
		db, "--schema-dir", "db", NULL };
	struct ctl c = { 0 };
	char *ag, *sub;
	json_t *l, *j;
	json_int_t job;
	long st;

	snprintf(dir, sizeof(dir), "%s/restart", tmp);
	mkdir(dir, 0755);
	snprintf(db, sizeof(db), "%s/w.db", dir);
	REQUIRE(ctl_run(migrate, NULL, 0) == 0);
	ag = ctl_token(dir, "agent", "r");
	sub = ctl_token(dir, "submitter", "s");
	REQUIRE(ag != NULL && sub != NULL && ctl_start(&c, dir, extra) == 0);
	json_decref(jcall(&c, ag, "POST", "/api/v1/agents/register",
	    "{\"name\": \"r\", \"slots\": 1, \"libvirt_uri\": \"x\"}", &st));
	json_decref(jcall(&c, sub, "POST", "/api/v1/runs",
	    "{\"inline\": {\"name\": \"restart\"}}", &st));
	CHECK_EQ_INT(st, 201);
	l = jcall(&c, ag, "POST", "/api/v1/agents/lease?wait=0", NULL, &st);
	REQUIRE(st == 200);
	job = jint(l, "job");
	json_decref(l);
	ctl_stop(&c, SIGTERM);
	usleep(1500000); /* the stored lease has expired */
	REQUIRE(ctl_start(&c, dir, extra) == 0);
	usleep(300000); /* the reaper has run once at start */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", (long long)job);
	j = jcall(&c, NULL, "GET", path, NULL, &st);
	CHECK_STR_EQ(jstr(j, "state"), "leased");
	CHECK_EQ_INT(jint(j, "attempt"), 1);
	json_decref(j);
	CHECK_EQ_INT(post_batch(&c, ag, job, 0, NULL, NULL), 200);
	/* Not heard from again: lost one lease period later, as always. */
	usleep(2500000);
	j = jcall(&c, NULL, "GET", path, NULL, &st);
	CHECK_EQ_INT(jint(j, "attempt"), 2);
	json_decref(j);
	ctl_stop(&c, SIGTERM);
	free(ag);
	free(sub);
}

static void
write_skew(const char *path, const char *secs)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(secs, f);
		fclose(f);
	}
}

/*
 * The wall clock jumps an hour forward, then two back, while an agent
 * heartbeats: its lease holds (expiry is on the monotonic clock); when the
 * heartbeats stop it expires one lease later as always.
 */
TEST(lease_ignores_wall_clock_jumps)
{
	char dir[300], db[320], skew[320], path[64];
	const char *extra[] = { "--lease-ms", "1500", "--clock-skew-file", skew,
		NULL };
	const char *migrate[] = { "bin/wakefarm-controller", "migrate", "--db",
		db, "--schema-dir", "db", NULL };
	static const char *const jumps[] = { "3600", "-3600", "0" };
	struct ctl c = { 0 };
	char *ag, *sub;
	json_t *l, *j;
	json_int_t job;
	long st;
	size_t i;

	snprintf(dir, sizeof(dir), "%s/clock", tmp);
	mkdir(dir, 0755);
	snprintf(db, sizeof(db), "%s/w.db", dir);
	snprintf(skew, sizeof(skew), "%s/skew", dir);
	write_skew(skew, "0");
	REQUIRE(ctl_run(migrate, NULL, 0) == 0);
	ag = ctl_token(dir, "agent", "c");
	sub = ctl_token(dir, "submitter", "s");
	REQUIRE(ag != NULL && sub != NULL && ctl_start(&c, dir, extra) == 0);
	json_decref(jcall(&c, ag, "POST", "/api/v1/agents/register",
	    "{\"name\": \"c\", \"slots\": 1, \"libvirt_uri\": \"x\"}", &st));
	json_decref(jcall(&c, sub, "POST", "/api/v1/runs",
	    "{\"inline\": {\"name\": \"clock\"}}", &st));
	l = jcall(&c, ag, "POST", "/api/v1/agents/lease?wait=0", NULL, &st);
	REQUIRE(st == 200);
	job = jint(l, "job");
	json_decref(l);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", (long long)job);
	for (i = 0; i < sizeof(jumps) / sizeof(jumps[0]); i++) {
		write_skew(skew, jumps[i]);
		usleep(1200000); /* the reaper (every 1 s) has looked */
		json_decref(jcall(
		    &c, ag, "POST", "/api/v1/agents/heartbeat", "{}", &st));
		CHECK_EQ_INT(st, 200);
	}
	j = jcall(&c, NULL, "GET", path, NULL, &st);
	CHECK_STR_EQ(jstr(j, "state"), "leased");
	CHECK_EQ_INT(jint(j, "attempt"), 1);
	CHECK(jint(j, "lease_left_ms") > 0 && jint(j, "lease_left_ms") <= 1500);
	json_decref(j);
	usleep(3000000); /* no heartbeat: lost one lease later */
	j = jcall(&c, NULL, "GET", path, NULL, &st);
	CHECK_EQ_INT(jint(j, "attempt"), 2);
	json_decref(j);
	ctl_stop(&c, SIGTERM);
	free(ag);
	free(sub);
}

/* Two runs of a case compared: a regression, then a fix. */
TEST(compare_with_the_previous_run)
{
	static const char *const recs[] = { "quirk-v1-short-entry.records",
		"v1-2cpu-cold.records", "quirk-v1-short-entry.records" };
	json_int_t runs[3];
	char path[96];
	json_t *j, *l, *r;
	long st;
	int i;

	cancel_all();
	for (i = 0; i < 3; i++) {
		runs[i] = submit("{\"scenario\": \"quirk-v1-short-entry\","
		                 " \"kind\": \"bisect\"}",
		    NULL);
		REQUIRE(runs[i] > 0);
		l = lease(ag1, 5);
		REQUIRE(l != NULL);
		r = fixture(recs[i]);
		CHECK_EQ_INT(
		    post_batch(&S, ag1, jint(l, "job"), 0, r, NULL), 200);
		CHECK_EQ_INT(
		    finish(ag1, jint(l, "job"), "completed", NULL), 200);
		json_decref(r);
		json_decref(l);
	}
	snprintf(path, sizeof(path), "/api/v1/runs/%lld/compare",
	    (long long)runs[1]);
	j = jcall(&S, NULL, "GET", path, NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(jint(j, "previous"), runs[0]);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "regressions")), 1);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "fixed")), 0);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/runs/%lld/compare",
	    (long long)runs[2]);
	j = jcall(&S, NULL, "GET", path, NULL, &st);
	CHECK_EQ_INT(jint(j, "previous"), runs[1]);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "fixed")), 1);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "regressions")), 0);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/runs/%lld/compare?with=%lld",
	    (long long)runs[2], (long long)runs[0]);
	j = jcall(&S, NULL, "GET", path, NULL, &st);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "fixed")), 0);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "regressions")), 0);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/runs/%lld/compare",
	    (long long)runs[0]);
	j = jcall(&S, NULL, "GET", path, NULL, &st);
	expect_error(st, j, 404, "no earlier finished run");
	json_decref(j);
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_lifecycle", test_main);
}
