/*
 * suite.c: what every file of the controller suite shares (suite.h): one
 * controller per test binary, started by suite_main on a fresh temporary
 * database with its tokens and two registered hosts, and the helpers the
 * cases call.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bisect_build.h"
#include "proc.h"
#include "suite.h"

#define LEASE_MS "1500"

struct ctl S;
char *admin, *submitter, *reader, *ag1, *ag2, *ag3;
char tmp[256];

json_int_t
jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

const char *
jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* Submits body; returns the run id (0 when refused). */
json_int_t
submit(const char *body, json_int_t *jobs)
{
	long st;
	json_t *j = jcall(&S, submitter, "POST", "/api/v1/runs", body, &st);
	json_int_t run = st == 201 ? jint(j, "run") : 0;

	if (jobs != NULL)
		*jobs = jint(j, "jobs");
	if (st != 201)
		printf("  submit %s: %ld %s\n", body, st, jstr(j, "error"));
	json_decref(j);
	return run;
}

json_int_t
runs_total(void)
{
	long st;
	json_t *j = jcall(&S, NULL, "GET", "/api/v1/runs", NULL, &st);
	json_int_t n = jint(j, "total");

	json_decref(j);
	return n;
}

/* Cancels every unfinished run, so the next test starts with an empty queue. */
void
cancel_all(void)
{
	json_t *j, *run;
	char path[64];
	size_t i;
	long st;

	j = jcall(&S, NULL, "GET", "/api/v1/runs?limit=500", NULL, &st);
	json_array_foreach (json_object_get(j, "runs"), i, run) {
		if (strcmp(jstr(run, "state"), "queued") != 0 &&
		    strcmp(jstr(run, "state"), "running") != 0)
			continue;
		snprintf(path, sizeof(path), "/api/v1/runs/%lld/cancel",
		    (long long)jint(run, "id"));
		json_decref(jcall(&S, admin, "POST", path, NULL, &st));
	}
	json_decref(j);
}

/* A lease for this agent (NULL: 204 / none). */
json_t *
lease(const char *tok, int wait)
{
	char path[64];
	long st;
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/agents/lease?wait=%d", wait);
	j = jcall(&S, tok, "POST", path, NULL, &st);
	if (st != 200) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *
fixture(const char *name)
{
	char path[256], line[8192];
	json_t *arr = json_array();
	FILE *f;

	snprintf(path, sizeof(path), "tests/controller/data/%s", name);
	if ((f = fopen(path, "r")) == NULL)
		return arr;
	while (fgets(line, sizeof(line), f) != NULL)
		json_array_append_new(arr, json_loads(line, 0, NULL));
	fclose(f);
	return arr;
}

/* records is borrowed; NULL sends an empty batch. */
long
post_batch(const struct ctl *c, const char *tok, json_int_t job, int batch,
    json_t *records, json_t **reply)
{
	char path[64];
	long st;
	json_t *j;

	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/events", (long long)job);
	j = jcallj(c, tok, "POST", path,
	    json_pack("{s:i, s:o}", "batch", batch, "records",
	        records != NULL ? json_incref(records) : json_array()),
	    &st);
	if (reply != NULL)
		*reply = j;
	else
		json_decref(j);
	return st;
}

long
finish(const char *tok, json_int_t job, const char *outcome, json_t **reply)
{
	char path[64], body[128];
	long st;
	json_t *j;

	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/finish", (long long)job);
	snprintf(body, sizeof(body), "{\"outcome\": \"%s\", \"detail\": \"t\"}",
	    outcome);
	j = jcall(&S, tok, "POST", path, body, &st);
	if (reply != NULL)
		*reply = j;
	else
		json_decref(j);
	return st;
}

json_t *
get_job(json_int_t job)
{
	char path[64];
	long st;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", (long long)job);
	return jcall(&S, NULL, "GET", path, NULL, &st);
}

char *
get_text(const struct ctl *c, const char *fmt, json_int_t id, long *st)
{
	char path[128], *body;
	struct resp r;

	snprintf(path, sizeof(path), fmt, (long long)id);
	*st = http(c, NULL, "GET", path, NULL, 0, &r);
	body = strdup(r.body != NULL ? r.body : "");
	resp_free(&r);
	return body;
}

json_t *
kcidb_test(const json_t *kcidb, const char *path)
{
	json_t *t;
	size_t i;

	json_array_foreach (json_object_get(kcidb, "tests"), i, t) {
		if (strcmp(jstr(t, "path"), path) == 0)
			return t;
	}
	return NULL;
}

json_t *
get_run(json_int_t run)
{
	char path[64];
	long st;

	snprintf(path, sizeof(path), "/api/v1/runs/%lld", (long long)run);
	return jcall(&S, NULL, "GET", path, NULL, &st);
}

long
jstatus(const char *tok, const char *method, const char *path, const char *body)
{
	long st;

	json_decref(jcall(&S, tok, method, path, body, &st));
	return st;
}

/* Starts bin/wakefarm --server BASE ARGS... with WAKEFARM_TOKEN=tok. */
void
cli_start(struct cli *c, const char *tok, const char *const args[])
{
	const char *argv[32];
	int fds[2], i = 0, j;

	argv[i++] = "bin/wakefarm";
	argv[i++] = "--server";
	argv[i++] = S.base;
	for (j = 0; args[j] != NULL && i < 31; j++)
		argv[i++] = args[j];
	argv[i] = NULL;
	if (pipe(fds) == -1) {
		c->pid = -1;
		return;
	}
	if ((c->pid = fork()) == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		if (tok != NULL)
			setenv("WAKEFARM_TOKEN", tok, 1);
		else
			unsetenv("WAKEFARM_TOKEN");
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	c->fd = fds[0];
}

/* Waits for it; its output goes to out. Returns the exit status. */
int
cli_wait(struct cli *c, char *out, size_t size)
{
	size_t got = 0;
	ssize_t n;
	int status = 0;

	if (c->pid <= 0)
		return -1;
	while (
	    got + 1 < size && (n = read(c->fd, out + got, size - got - 1)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(c->fd);
	waitpid(c->pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
cli(const char *tok, const char *const args[], char *out, size_t size)
{
	struct cli c;

	cli_start(&c, tok, args);
	return cli_wait(&c, out, size);
}

/* Reads fd to its end into buf (NUL-terminated). */
static void
read_all(int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < size && (n = read(fd, buf + got, size - got - 1)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	/* the rest, if any, is drained so the child never blocks */
	while (read(fd, (char[4096]){ 0 }, 4096) > 0)
		;
}

int
cli_split(const char *tok, const char *base, const char *const args[],
    char *out, size_t osize, char *err, size_t esize)
{
	const char *argv[40];
	char errfile[320];
	int fds[2], i = 0, j, status = 0, efd;
	pid_t pid;

	argv[i++] = "bin/wakefarm";
	argv[i++] = "--server";
	argv[i++] = base != NULL ? base : S.base;
	for (j = 0; args[j] != NULL && i < 39; j++)
		argv[i++] = args[j];
	argv[i] = NULL;
	snprintf(errfile, sizeof(errfile), "%s/cli.stderr", tmp);
	if (pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		efd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fds[1], 1);
		dup2(efd, 2);
		close(fds[0]);
		if (tok != NULL)
			setenv("WAKEFARM_TOKEN", tok, 1);
		else
			unsetenv("WAKEFARM_TOKEN");
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	read_all(fds[0], out, osize);
	close(fds[0]);
	waitpid(pid, &status, 0);
	if ((efd = open(errfile, O_RDONLY)) >= 0) {
		read_all(efd, err, esize);
		close(efd);
	} else {
		err[0] = '\0';
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Plays the agent for the next job: its records, then finish. */
json_int_t
agent_runs_next(const char *records, const char *outcome)
{
	json_t *l = lease(ag1, 10), *recs;
	json_int_t job;

	if (l == NULL)
		return 0;
	job = jint(l, "job");
	recs = fixture(records);
	post_batch(&S, ag1, job, 0, recs, NULL);
	finish(ag1, job, outcome, NULL);
	json_decref(recs);
	json_decref(l);
	return job;
}

int
consume(const char *tool, const char *data, size_t len, char *out, size_t size)
{
	char file[320], script[320];
	const char *argv[6];
	struct wf_proc_result res;
	struct wf_buf b;
	char *cause = NULL;
	FILE *f;
	int rc = -1;

	snprintf(file, sizeof(file), "%s/consume.in", tmp);
	if ((f = fopen(file, "w")) == NULL || fwrite(data, 1, len, f) != len ||
	    fclose(f) != 0)
		return -1;
	if (strcmp(tool, "promtool") == 0) {
		/* promtool reads the metrics on stdin: through sh's < */
		argv[0] = "sh";
		argv[1] = "-c";
		argv[2] = "promtool check metrics < \"$1\" 2>&1";
		argv[3] = "sh";
		argv[4] = file;
		argv[5] = NULL;
	} else {
		snprintf(script, sizeof(script),
		    "tests/controller/consumers/%s", tool);
		argv[0] = script;
		argv[1] = file;
		argv[2] = NULL;
	}
	wf_buf_init(&b, 4 << 20);
	if (wf_proc_run(argv, NULL, 60, &b, &res, &cause) == 0)
		rc = res.status;
	else
		printf("  %s: %s\n", tool, cause ? cause : "cannot start");
	if (rc != 0)
		printf("  %s said (exit %d):\n%.4000s\n", tool, rc,
		    wf_buf_str(&b));
	if (out != NULL && size > 0)
		snprintf(out, size, "%s", wf_buf_str(&b));
	wf_buf_free(&b);
	free(cause);
	return rc;
}

/* Polls c's /metrics every 5 ms, at most tries times, for line: 1 seen. */
int
wait_metric(const struct ctl *c, const char *line, int tries)
{
	for (int i = 0; i < tries; i++) {
		struct resp r;
		int seen;

		http(c, NULL, "GET", "/metrics", NULL, 0, &r);
		seen = r.body != NULL && strstr(r.body, line) != NULL;
		resp_free(&r);
		if (seen)
			return 1;
		usleep(5000);
	}
	return 0;
}

/* --- a nightly controller of a test's own --- */

pid_t nctl_pid;

void
nctl_clock(struct nctl *n, const char *when)
{
	char t[360];
	FILE *f;

	snprintf(t, sizeof(t), "%s.tmp", n->clock);
	if ((f = fopen(t, "w")) != NULL) {
		fprintf(f, "%s\n", when);
		fclose(f);
		rename(t, n->clock);
	}
}

int
nctl_start(struct nctl *n, const char *port)
{
	char smtp[64], listen[64], db[320];
	const char *migrate[] = { "bin/wakefarm-controller", "migrate", "--db",
		db, "--schema-dir", "db", NULL };
	const char *extra[40] = { "--clock-file", n->clock,
		"--schedule-tick-ms", "20", "--scenarios", "scenarios",
		"--notify-retry-ms", "100", "--public-url",
		"http://wakefarm.test:8080", "--listen", listen, "--smtp-from",
		"farm@wakefarm.test" };
	int i = 14, k;
	long st;

	snprintf(n->dir, sizeof(n->dir), "%s/%s", tmp, n->name);
	mkdir(n->dir, 0755);
	snprintf(db, sizeof(db), "%s/w.db", n->dir);
	snprintf(n->clock, sizeof(n->clock), "%s/clock", n->dir);
	snprintf(smtp, sizeof(smtp), "smtp://127.0.0.1:%s", n->smtp_port);
	snprintf(listen, sizeof(listen), "127.0.0.1:%s", port ? port : "0");
	if (n->smtp_port[0] != '\0') {
		extra[i++] = "--smtp-url";
		extra[i++] = smtp;
	}
	for (k = 0; n->extra[k] != NULL && i < 38; k++)
		extra[i++] = n->extra[k];
	extra[i] = NULL;
	if (n->admin == NULL) {
		nctl_clock(n, "2026-01-01T00:00:00Z");
		if (ctl_run(migrate, NULL, 0) != 0)
			return -1;
		n->admin = ctl_token(n->dir, "admin", "admin");
		n->agent = ctl_token(n->dir, "agent", "nh");
	}
	if (ctl_start(&n->c, n->dir, extra) == -1)
		return -1;
	nctl_pid = n->c.pid;
	json_decref(jcall(&n->c, n->agent, "POST", "/api/v1/agents/register",
	    "{\"name\": \"nh\", \"slots\": 1, \"libvirt_uri\": \"x\"}", &st));
	return st == 200 ? 0 : -1;
}

json_int_t
nctl_night(struct nctl *n, int day, const char *records)
{
	char when[40], path[96];
	json_t *l = NULL, *recs;
	json_int_t run = 0, job;
	long st;
	int i;

	snprintf(when, sizeof(when), "2026-01-%02dT02:00:00Z", day);
	nctl_clock(n, when);
	for (i = 0; i < 200 && l == NULL; i++) {
		l = jcall(&n->c, n->agent, "POST",
		    "/api/v1/agents/lease?wait=1", NULL, &st);
		if (st != 200) {
			json_decref(l);
			l = NULL;
		}
	}
	if (l == NULL)
		return 0;
	run = jint(l, "run");
	job = jint(l, "job");
	recs = fixture(records);
	post_batch(&n->c, n->agent, job, 0, recs, NULL);
	json_decref(recs);
	snprintf(
	    path, sizeof(path), "/api/v1/jobs/%lld/finish", (long long)job);
	json_decref(jcall(&n->c, n->agent, "POST", path,
	    "{\"outcome\": \"completed\", \"detail\": \"t\"}", &st));
	json_decref(l);
	return run;
}

/* --- setup --- */

static int
setup(void)
{
	const char *const extra[] = { "--lease-ms", LEASE_MS, "--log-cap",
		"2048", "--web", NULL, "--scenarios", "scenarios",
		"--schema-dir", "db", "--bisect-repo-root", "/tmp", NULL };
	const char *ex[13];
	char web[300], path[320];
	FILE *f;
	long st;

	snprintf(tmp, sizeof(tmp), "/tmp/wf-ctest-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(web, sizeof(web), "%s/web", tmp);
	mkdir(web, 0755);
	snprintf(path, sizeof(path), "%s/index.html", web);
	if ((f = fopen(path, "w")) != NULL) {
		fputs("<h1>wakefarm</h1>\n", f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/escape", web);
	if (symlink("/etc", path) == -1)
		return -1;
	memcpy(ex, extra, sizeof(ex));
	ex[5] = web;
	{
		char db[300];
		const char *argv[] = { "bin/wakefarm-controller", "migrate",
			"--db", db, "--schema-dir", "db", NULL };

		snprintf(db, sizeof(db), "%s/w.db", tmp);
		if (ctl_run(argv, NULL, 0) != 0)
			return -1;
	}
	admin = ctl_token(tmp, "admin", "admin");
	submitter = ctl_token(tmp, "submitter", "sub");
	reader = ctl_token(tmp, "reader", "reader");
	ag1 = ctl_token(tmp, "agent", "agent1");
	ag2 = ctl_token(tmp, "agent", "agent2");
	ag3 = ctl_token(tmp, "agent", "agent3");
	if (!admin || !submitter || !reader || !ag1 || !ag2 || !ag3) {
		printf("  setup: tokens not created\n");
		return -1;
	}
	if (ctl_start(&S, tmp, ex) == -1) {
		printf("  setup: the controller did not start\n");
		return -1;
	}
	json_decref(jcall(&S, ag1, "POST", "/api/v1/agents/register",
	    "{\"name\": \"h1\", \"slots\": 2, \"libvirt_uri\": \"qemu:///system\"}",
	    &st));
	if (st != 200) {
		printf("  setup: registering h1: HTTP %ld\n", st);
		return -1;
	}
	json_decref(jcall(&S, ag2, "POST", "/api/v1/agents/register",
	    "{\"name\": \"h2\", \"slots\": 2, \"libvirt_uri\": \"qemu+ssh://b/system\"}",
	    &st));
	return st == 200 ? 0 : -1;
}

int
suite_main(int argc, char **argv, const char *name, int (*run)(int, char **))
{
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (setup() == -1) {
		printf("%s: setup failed (see %s/controller.log)\n", name, tmp);
		printf("0 passed, 1 failed\n");
		ctl_stop(&S, SIGTERM);
		return 1;
	}
	/* Before the closing line: tests/run reads the last line. */
	printf("%s: controller and files in %s (kept if a test fails)\n", name,
	    tmp);
	rc = run(argc, argv);
	ctl_stop(&S, SIGTERM);
	if (rc == 0 && getenv("WF_KEEP_TMP") == NULL)
		bisect_build_remove(tmp); /* rm -rf as an argv: no shell */
	return rc;
}
