/*
 * ctest_notify.c: subscriptions and their deliveries against real receivers
 * on 127.0.0.1 (consumers/webhook-receiver: an HTTP server that checks the
 * HMAC-SHA256 signature; consumers/smtp-receiver: Debian's aiosmtpd). A
 * controller of its own with an injected clock plays two nights of a
 * schedule, the test playing the agent: a regression on the second night
 * sends a signed webhook and a mail a developer can read; a receiver that
 * is down gets it later, after a kill -9 of the controller, once; filters
 * keep other subscriptions quiet; the admin API and the CLI's subscription
 * verbs. The end-to-end version (real agent, QEMU) is tests/e2e/notify.sh.
 */

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "proc.h"
#include "suite.h"
#include "util.h"
#include "../unit/test.h"

#define GOOD "quirk-v1-short-entry.records"
#define BAD "v1-2cpu-cold.records"
#define SECRET "a-webhook-secret-of-ours-0123456789"

struct rx {
	pid_t pid;
	char port[16];
};

static struct rx hook, mail;
static char hook_out[320], mail_dir[320], secret_file[320];
/* Whatever a failed REQUIRE left running. */
static void
cleanup(void)
{
	if (nctl_pid > 0)
		kill(nctl_pid, SIGKILL);
	if (hook.pid > 0)
		kill(hook.pid, SIGKILL);
	if (mail.pid > 0)
		kill(mail.pid, SIGKILL);
}

/* Starts a receiver (consumers/NAME ARGS...); its port when listening. */
static int
rx_start(struct rx *r, const char *name, const char *const extra[])
{
	char script[128], portfile[340], log[340];
	const char *argv[16];
	char *cause = NULL;
	int i = 0, k, n;
	FILE *f;

	snprintf(script, sizeof(script), "tests/controller/consumers/%s", name);
	snprintf(portfile, sizeof(portfile), "%s/%s.port", tmp, name);
	snprintf(log, sizeof(log), "%s/%s.log", tmp, name);
	unlink(portfile);
	argv[i++] = script;
	argv[i++] = "--port-file";
	argv[i++] = portfile;
	for (k = 0; extra[k] != NULL && i < 15; k++)
		argv[i++] = extra[k];
	argv[i] = NULL;
	if ((r->pid = wf_proc_spawn(argv, NULL, log, &cause)) == -1) {
		printf("  %s: %s\n", name, wf_cause_str(cause));
		free(cause);
		return -1;
	}
	for (n = 0; n < 200; n++) {
		if ((f = fopen(portfile, "r")) != NULL) {
			if (fgets(r->port, sizeof(r->port), f) != NULL)
				r->port[strcspn(r->port, "\n")] = '\0';
			fclose(f);
			return 0;
		}
		usleep(25000);
	}
	printf("  %s did not start (%s)\n", name, log);
	return -1;
}

static void
rx_stop(struct rx *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		waitpid(r->pid, NULL, 0);
	}
	r->pid = 0;
}

static int
hook_start(const char *status, const char *port)
{
	const char *a[] = { "--out", hook_out, "--secret-file", secret_file,
		"--status", status, port ? "--port" : NULL, port, NULL };

	return rx_start(&hook, "webhook-receiver", a);
}

static int
mail_start(const char *port)
{
	const char *a[] = { "--dir", mail_dir, port ? "--port" : NULL, port,
		NULL };

	return rx_start(&mail, "smtp-receiver", a);
}

/* The webhook receiver's lines (new array), after at least want of them
 * arrived or about 10 s passed; hook_now: what is there now. */
static json_t *
hook_wait(size_t want, int tries)
{
	json_t *all = json_array();
	char line[1 << 16];
	FILE *f;
	int i;

	for (i = 0; i < tries; i++) {
		json_array_clear(all);
		if ((f = fopen(hook_out, "r")) != NULL) {
			while (fgets(line, sizeof(line), f) != NULL)
				json_array_append_new(
				    all, json_loads(line, 0, NULL));
			fclose(f);
		}
		if (json_array_size(all) >= want)
			break;
		usleep(25000);
	}
	return all;
}

static json_t *
hook_seen(size_t want)
{
	return hook_wait(want, 400);
}

static json_t *
hook_now(void)
{
	return hook_wait(0, 1);
}

/* How many mails arrived, after waiting (about 10 s) for want (want 0:
 * how many are there now). */
static int
mails(int want)
{
	char path[400];
	int i, n = 0;

	for (i = 0; i < (want > 0 ? 400 : 1); i++) {
		for (n = 0;; n++) {
			snprintf(
			    path, sizeof(path), "%s/%d.eml", mail_dir, n + 1);
			if (access(path, R_OK) != 0)
				break;
		}
		if (n >= want)
			break;
		usleep(25000);
	}
	return n;
}

static char *
mail_text(int i)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%d.eml", mail_dir, i);
	return wf_file_read(path, 1 << 20, NULL, NULL);
}

/* Lines of the receiver of event, not duplicates. */
static int
count_event(const json_t *seen, const char *event, int *dups)
{
	const json_t *s;
	size_t i;
	int n = 0;

	json_array_foreach (seen, i, s) {
		if (strcmp(jstr(s, "event"), event) != 0 ||
		    jint(s, "status") >= 300)
			continue;
		if (json_is_true(json_object_get(s, "duplicate")))
			(*dups)++;
		else
			n++;
	}
	return n;
}

static void
setup_files(void)
{
	FILE *f;

	snprintf(hook_out, sizeof(hook_out), "%s/hook.jsonl", tmp);
	snprintf(mail_dir, sizeof(mail_dir), "%s/mail", tmp);
	snprintf(secret_file, sizeof(secret_file), "%s/secret", tmp);
	if ((f = fopen(secret_file, "w")) != NULL) {
		fprintf(f, "%s\n", SECRET);
		fclose(f);
	}
	chmod(secret_file, 0600);
}

TEST(subscriptions_api_and_cli)
{
	struct nctl n = { .name = "api", .smtp_port = "25" };
	char out[8192], url[96];
	const char *add_hook[] = { "subscription", "add", "h1", "--webhook",
		url, "--event", "regression,fixed", "--schedule", "n", NULL };
	const char *add_bad[] = { "subscription", "add", "h2", "--webhook", url,
		"--event", "nope", NULL };
	const char *add_none[] = { "subscription", "add", "h3", NULL };
	const char *list[] = { "subscription", "list", "--json", NULL };
	const char *rm[] = { "subscription", "rm", "h1", NULL };
	json_t *j;
	long st;

	setup_files();
	REQUIRE(nctl_start(&n, NULL) == 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:9/hook");
	/* the API: a secret made and shown once, never listed */
	j = jcall(&n.c, n.admin, "POST", "/api/v1/admin/subscriptions",
	    "{\"name\": \"api1\", \"webhook\": \"http://127.0.0.1:9/x\"}", &st);
	CHECK_EQ_INT(st, 201);
	CHECK_EQ_INT(strlen(jstr(j, "secret")), 64);
	CHECK_STR_EQ(
	    json_string_value(json_array_get(json_object_get(j, "events"), 0)),
	    "regression");
	json_decref(j);
	j = jcall(&n.c, n.admin, "POST", "/api/v1/admin/subscriptions",
	    "{\"name\": \"api1\", \"webhook\": \"http://127.0.0.1:9/x\"}", &st);
	expect_error(st, j, 409, "exists");
	json_decref(j);
	j = jcall(&n.c, n.admin, "POST", "/api/v1/admin/subscriptions",
	    "{\"name\": \"m\", \"email\": [\"a@b\", \"x y@z\"]}", &st);
	expect_error(st, j, 400, "not an address");
	json_decref(j);
	j = jcall(&n.c, n.admin, "POST", "/api/v1/admin/subscriptions",
	    "{\"name\": \"w\", \"webhook\": \"ftp://h/\"}", &st);
	expect_error(st, j, 400, "http://");
	json_decref(j);
	j = jcall(
	    &n.c, n.agent, "GET", "/api/v1/admin/subscriptions", NULL, &st);
	CHECK_EQ_INT(st, 403);
	json_decref(j);
	j = jcall(
	    &n.c, n.admin, "GET", "/api/v1/admin/subscriptions", NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK(json_object_get(
	          json_array_get(json_object_get(j, "subscriptions"), 0),
	          "secret") == NULL);
	json_decref(j);
	/* the CLI, exit status by status */
	memcpy(S.base, n.c.base, sizeof(S.base));
	CHECK_EQ_INT(cli(n.admin, add_hook, out, sizeof(out)), 0);
	CHECK_STR_CONTAINS(out, "webhook secret (shown once)");
	CHECK_EQ_INT(cli(n.admin, add_hook, out, sizeof(out)), 65); /* 409 */
	CHECK_EQ_INT(cli(n.admin, add_bad, out, sizeof(out)), 65);
	CHECK_EQ_INT(cli(n.admin, add_none, out, sizeof(out)), 64);
	CHECK_EQ_INT(cli(n.agent, add_hook, out, sizeof(out)), 77);
	CHECK_EQ_INT(cli(n.admin, list, out, sizeof(out)), 0);
	j = json_loads(out, 0, NULL);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "subscriptions")), 2);
	json_decref(j);
	CHECK_EQ_INT(cli(n.admin, rm, out, sizeof(out)), 0);
	CHECK_EQ_INT(cli(n.admin, rm, out, sizeof(out)), 66);
	ctl_stop(&n.c, SIGTERM);
	free(n.admin);
	free(n.agent);
}

/* The webhook's regression: signed, and what a developer needs. */
static void
check_regression_hook(const json_t *seen, json_int_t run2)
{
	const json_t *s, *c = NULL;
	size_t i;

	json_array_foreach (seen, i, s) {
		if (strcmp(jstr(s, "event"), "regression") == 0)
			c = json_object_get(json_object_get(s, "body"), "case");
		if (strcmp(jstr(s, "event"), "regression") == 0)
			CHECK(json_is_true(json_object_get(s, "signature_ok")));
	}
	REQUIRE(c != NULL);
	CHECK_STR_EQ(jstr(c, "scenario"), "quirk-v1-short-entry");
	CHECK_STR_EQ(jstr(c, "name"), "default");
	CHECK_STR_EQ(jstr(c, "class"), "regression");
	CHECK_STR_EQ(jstr(json_object_get(c, "first_failed_check"), "check"),
	    "generations");
	CHECK_STR_CONTAINS(jstr(c, "url"), "http://wakefarm.test:8080/#/jobs/");
	CHECK_STR_CONTAINS(jstr(c, "bisect_command"),
	    "wakefarm --server http://wakefarm.test:8080 bisect start"
	    " quirk-v1-short-entry");
	(void)run2;
}

/* A bisect that ends (cancelled here) is told to who asked for it. */
static void
bisect_finished(struct nctl *n)
{
	char body[512], path[96];
	const json_t *s, *b = NULL;
	json_t *j, *seen;
	json_int_t id;
	size_t i;
	long st;

	snprintf(body, sizeof(body),
	    "{\"name\": \"bisects\", \"webhook\": \"http://127.0.0.1:%s/b\","
	    " \"secret\": \"" SECRET "\", \"events\": [\"bisect-finished\"],"
	    " \"scenario\": \"kexec-*\"}",
	    hook.port);
	json_decref(jcall(
	    &n->c, n->admin, "POST", "/api/v1/admin/subscriptions", body, &st));
	CHECK_EQ_INT(st, 201);
	j = jcall(&n->c, n->admin, "POST", "/api/v1/bisects",
	    "{\"scenario\": \"kexec-chain\", \"set\": {\"cpus\": 2,"
	    " \"mailbox_version\": 1}, \"artifacts\": [\"/k/0.elf\","
	    " \"/k/1.elf\"], \"kind\": \"test-kernel\", \"repeat\": 1}",
	    &st);
	CHECK_EQ_INT(st, 201);
	id = jint(j, "bisect");
	json_decref(j);
	snprintf(
	    path, sizeof(path), "/api/v1/bisects/%lld/cancel", (long long)id);
	json_decref(jcall(&n->c, n->admin, "POST", path, NULL, &st));
	CHECK_EQ_INT(st, 200);
	seen = hook_seen(4);
	json_array_foreach (seen, i, s) {
		if (strcmp(jstr(s, "event"), "bisect-finished") == 0)
			b = json_object_get(
			    json_object_get(s, "body"), "bisect");
	}
	REQUIRE(b != NULL);
	CHECK_EQ_INT(jint(b, "id"), id);
	CHECK_STR_EQ(jstr(b, "state"), "cancelled");
	CHECK_STR_CONTAINS(jstr(b, "url"), "/#/bisects/");
	json_decref(seen);
}

TEST(regression_sends_a_signed_webhook_and_a_mail_once)
{
	struct nctl n = { .name = "regression" };
	char body[512], *m;
	json_int_t r1, r2;
	json_t *j, *seen;
	int dups = 0;
	long st;

	setup_files();
	REQUIRE(mail_start(NULL) == 0);
	wf_strlcpy(n.smtp_port, mail.port, sizeof(n.smtp_port));
	REQUIRE(hook_start("200", NULL) == 0);
	REQUIRE(nctl_start(&n, NULL) == 0);
	j = jcall(&n.c, n.admin, "POST", "/api/v1/admin/schedules",
	    "{\"name\": \"n\", \"at\": \"02:00\", \"matrix\":"
	    " [\"quirk-v1-short-entry\"], \"retries\": 0}",
	    &st);
	CHECK_EQ_INT(st, 201);
	json_decref(j);
	snprintf(body, sizeof(body),
	    "{\"name\": \"hook\", \"webhook\": \"http://127.0.0.1:%s/h\","
	    " \"secret\": \"" SECRET "\", \"events\": [\"regression\","
	    " \"run-finished\"], \"schedule\": \"n\"}",
	    hook.port);
	json_decref(jcall(
	    &n.c, n.admin, "POST", "/api/v1/admin/subscriptions", body, &st));
	CHECK_EQ_INT(st, 201);
	json_decref(jcall(&n.c, n.admin, "POST", "/api/v1/admin/subscriptions",
	    "{\"name\": \"mail\", \"email\": [\"dev@wakefarm.test\"]}", &st));
	CHECK_EQ_INT(st, 201);
	/* filtered out: another scenario, another schedule */
	json_decref(jcall(&n.c, n.admin, "POST", "/api/v1/admin/subscriptions",
	    "{\"name\": \"other\", \"email\": [\"o@wakefarm.test\"], \"scenario\":"
	    " \"cold-*\"}",
	    &st));
	json_decref(jcall(&n.c, n.admin, "POST", "/api/v1/admin/subscriptions",
	    "{\"name\": \"other2\", \"email\": [\"o@wakefarm.test\"],"
	    " \"schedule\": \"elsewhere\"}",
	    &st));

	REQUIRE((r1 = nctl_night(&n, 1, GOOD)) > 0);
	seen = hook_seen(1); /* night 1: run-finished only */
	CHECK_EQ_INT(count_event(seen, "run-finished", &dups), 1);
	json_decref(seen);
	REQUIRE((r2 = nctl_night(&n, 2, BAD)) > r1);
	seen = hook_seen(3);
	CHECK_EQ_INT(count_event(seen, "regression", &dups), 1);
	CHECK_EQ_INT(count_event(seen, "run-finished", &dups), 2);
	check_regression_hook(seen, r2);
	json_decref(seen);
	REQUIRE(mails(1) == 1);
	m = mail_text(1);
	REQUIRE(m != NULL);
	CHECK_STR_CONTAINS(m, "To: dev@wakefarm.test");
	CHECK_STR_CONTAINS(
	    m, "Subject: [wakefarm] regression: quirk-v1-short-entry default");
	CHECK_STR_CONTAINS(m, "regressed (passed the night before)");
	CHECK_STR_CONTAINS(m, "First failed check: generations");
	CHECK_STR_CONTAINS(m, "Bisect this");
	CHECK_STR_CONTAINS(m, "Job:       http://wakefarm.test:8080/#/jobs/");
	free(m);
	/* nothing more, nothing twice (the filtered ones stay quiet) */
	usleep(800000);
	CHECK_EQ_INT(mails(0), 1);
	seen = hook_now();
	CHECK_EQ_INT(json_array_size(seen), 3);
	CHECK_EQ_INT(dups, 0);
	json_decref(seen);
	bisect_finished(&n);
	/* the feed says it too */
	j = jcall(&n.c, NULL, "GET", "/api/v1/events?limit=1000", NULL, &st);
	{
		const json_t *e;
		size_t i;
		int regs = 0;

		json_array_foreach (json_object_get(j, "events"), i, e)
			regs += strcmp(jstr(e, "kind"), "regression") == 0;
		CHECK_EQ_INT(regs, 1);
	}
	json_decref(j);
	ctl_stop(&n.c, SIGTERM);
	rx_stop(&hook);
	rx_stop(&mail);
	free(n.admin);
	free(n.agent);
}

/* Waits (about 10 s) until every pending delivery was tried n times. */
static int
deliveries_tried(struct nctl *n, int want_rows, int times)
{
	const json_t *d;
	json_t *j;
	size_t i;
	long st;
	int k, ok = 0;

	for (k = 0; k < 400 && !ok; k++) {
		j = jcall(&n->c, n->admin, "GET", "/api/v1/admin/deliveries",
		    NULL, &st);
		ok = (int)json_array_size(json_object_get(j, "deliveries")) ==
		    want_rows;
		json_array_foreach (json_object_get(j, "deliveries"), i, d)
			ok &= strcmp(jstr(d, "state"), "pending") == 0 &&
			    jint(d, "attempts") >= times &&
			    jstr(d, "last_error")[0] != '\0';
		json_decref(j);
		if (!ok)
			usleep(25000);
	}
	return ok;
}

TEST(receivers_down_then_a_kill_9_lose_nothing_and_send_nothing_twice)
{
	struct nctl n = { .name = "restart" };
	char body[512], hook_port[16], mail_port[16];
	json_t *seen, *j;
	const json_t *d;
	int dups = 0;
	size_t i;
	long st;

	setup_files();
	unlink(hook_out);
	snprintf(mail_dir, sizeof(mail_dir), "%s/mail2", tmp);
	/* the mail server is down (its port known), the webhook says 503 */
	REQUIRE(mail_start(NULL) == 0);
	wf_strlcpy(mail_port, mail.port, sizeof(mail_port));
	rx_stop(&mail);
	REQUIRE(hook_start("503", NULL) == 0);
	wf_strlcpy(hook_port, hook.port, sizeof(hook_port));
	wf_strlcpy(n.smtp_port, mail_port, sizeof(n.smtp_port));
	REQUIRE(nctl_start(&n, NULL) == 0);
	json_decref(jcall(&n.c, n.admin, "POST", "/api/v1/admin/schedules",
	    "{\"name\": \"n\", \"at\": \"02:00\", \"matrix\":"
	    " [\"quirk-v1-short-entry\"], \"retries\": 0}",
	    &st));
	snprintf(body, sizeof(body),
	    "{\"name\": \"hook\", \"webhook\": \"http://127.0.0.1:%s/h\","
	    " \"secret\": \"" SECRET "\"}",
	    hook_port);
	json_decref(jcall(
	    &n.c, n.admin, "POST", "/api/v1/admin/subscriptions", body, &st));
	CHECK_EQ_INT(st, 201);
	json_decref(jcall(&n.c, n.admin, "POST", "/api/v1/admin/subscriptions",
	    "{\"name\": \"mail\", \"email\": [\"dev@wakefarm.test\"]}", &st));
	CHECK_EQ_INT(st, 201);
	REQUIRE(nctl_night(&n, 1, GOOD) > 0);
	REQUIRE(nctl_night(&n, 2, BAD) > 0);
	/* both tried and refused, more than once; then the controller dies */
	CHECK(deliveries_tried(&n, 2, 2));
	ctl_stop(&n.c, SIGKILL);
	nctl_pid = 0;
	rx_stop(&hook);
	REQUIRE(hook_start("200", hook_port) == 0);
	REQUIRE(mail_start(mail_port) == 0);
	REQUIRE(nctl_start(&n, NULL) == 0);
	/* after the restart: each arrives, once */
	CHECK_EQ_INT(mails(1), 1);
	for (int k = 0; k < 400; k++) {
		seen = hook_now();
		dups = 0;
		if (count_event(seen, "regression", &dups) >= 1)
			break;
		json_decref(seen);
		seen = NULL;
		usleep(25000);
	}
	json_decref(seen);
	usleep(800000);
	seen = hook_now();
	dups = 0;
	CHECK_EQ_INT(count_event(seen, "regression", &dups), 1);
	CHECK_EQ_INT(dups, 0);
	json_decref(seen);
	CHECK_EQ_INT(mails(0), 1);
	j = jcall(&n.c, n.admin, "GET", "/api/v1/admin/deliveries", NULL, &st);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "deliveries")), 2);
	json_array_foreach (json_object_get(j, "deliveries"), i, d) {
		CHECK_STR_EQ(jstr(d, "state"), "sent");
		CHECK(jint(d, "attempts") >= 3);
	}
	json_decref(j);
	ctl_stop(&n.c, SIGTERM);
	nctl_pid = 0;
	rx_stop(&hook);
	rx_stop(&mail);
	free(n.admin);
	free(n.agent);
}

int
main(int argc, char **argv)
{
	atexit(cleanup);
	return suite_main(argc, argv, "ctest_notify", test_main);
}
