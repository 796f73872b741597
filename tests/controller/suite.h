/*
 * suite.h: the controller suite's shared state and helpers (suite.c). Each
 * ctest_*.c is one test binary of its own: its TEST()s (tests/unit/test.h),
 * then
 *
 *	int main(int argc, char **argv)
 *	{ return suite_main(argc, argv, "ctest_x", test_main); }
 *
 * suite_main starts a controller (--lease-ms 1500, --log-cap 2048, a --web
 * directory, scenarios/, --bisect-repo-root /tmp) on a fresh database in
 * tmp, with the tokens below and hosts h1 (ag1) and h2 (ag2) registered.
 */
#ifndef WF_CTEST_SUITE_H
#define WF_CTEST_SUITE_H

#include <sys/types.h>

#include <jansson.h>

#include "ctest.h"

extern struct ctl S;
extern char *admin, *submitter, *reader, *ag1, *ag2, *ag3;
extern char tmp[256];

int
suite_main(int argc, char **argv, const char *name, int (*run)(int, char **));

json_int_t jint(const json_t *o, const char *k);
const char *jstr(const json_t *o, const char *k);
/* Submits body; returns the run id (0 when refused). */
json_int_t submit(const char *body, json_int_t *jobs);
json_int_t runs_total(void);
/* Cancels every unfinished run, so the next test starts with an empty queue. */
void cancel_all(void);
/* A lease for this agent (NULL: 204 / none). */
json_t *lease(const char *tok, int wait);
/* tests/controller/data/NAME: one record a line, as an array. */
json_t *fixture(const char *name);
/* records is borrowed; NULL sends an empty batch. */
long post_batch(const struct ctl *c, const char *tok, json_int_t job, int batch,
    json_t *records, json_t **reply);
long
finish(const char *tok, json_int_t job, const char *outcome, json_t **reply);
json_t *get_job(json_int_t job);
/* GET path (formatted with id) from c: its body as a new string, its status
 * in *st. */
char *get_text(const struct ctl *c, const char *fmt, json_int_t id, long *st);
/* The test of path in a KCIDB export (borrowed), or NULL. */
json_t *kcidb_test(const json_t *kcidb, const char *path);
/* GET /runs/{run}: the run and its jobs. */
json_t *get_run(json_int_t run);
/* One JSON request to S (body a JSON text or NULL): its status, the reply
 * dropped. */
long jstatus(
    const char *tok, const char *method, const char *path, const char *body);
/* Expects status and an {"error"} body containing want (a macro: its
 * checks count in the test that uses it, tests/unit/test.h). */
#define expect_error(st, j, want_st, want)                            \
	do {                                                          \
		CHECK_EQ_INT((st), (want_st));                        \
		CHECK(json_is_string(json_object_get((j), "error"))); \
		CHECK_STR_CONTAINS(jstr((j), "error"), (want));       \
	} while (0)
/* One JSON request to S that must be refused: status want_st and an
 * {"error"} containing want (expect_error), the reply dropped. */
#define expect_refused(tok, method, path, body, want_st, want)                 \
	do {                                                                   \
		long st_;                                                      \
		json_t *j_ = jcall(&S, (tok), (method), (path), (body), &st_); \
		expect_error(st_, j_, (want_st), (want));                      \
		json_decref(j_);                                               \
	} while (0)

/* Polls c's /metrics every 5 ms, at most tries times, for line (as
 * "wakefarm_lease_waiters 1"): 1 once seen, 0 not. */
int wait_metric(const struct ctl *c, const char *line, int tries);

/*
 * Feeds len bytes of data to tests/controller/consumers/TOOL (check-junit,
 * check-kcidb, or "promtool" for `promtool check metrics`) and returns its
 * exit status; its stdout goes to out (NUL-terminated), its stderr is
 * printed.
 */
int
consume(const char *tool, const char *data, size_t len, char *out, size_t size);

/*
 * A controller of a test's own (in tmp/NAME) with an injected clock
 * (--clock-file, schedules looked at every 20 ms), --notify-retry-ms 100,
 * --public-url http://wakefarm.test:8080, mail to 127.0.0.1:smtp_port when
 * set, and extra flags; an admin and an agent token, host "nh" registered.
 * Started again (after ctl_stop) on the same database. nctl_pid: the one
 * running now, for a test's atexit.
 */
struct nctl {
	const char *name;
	const char *extra[16]; /* more serve flags, NULL-terminated */
	struct ctl c;
	char dir[300], clock[340], smtp_port[16];
	char *admin, *agent;
};
extern pid_t nctl_pid;
/* port NULL: a free one. 0 or -1. */
int nctl_start(struct nctl *n, const char *port);
void nctl_clock(struct nctl *n, const char *when);
/* Jumps to 2026-01-DAY 02:00 and plays the agent for the next job (its
 * records a fixture, then finish "completed"): the job's run, 0 if none. */
json_int_t nctl_night(struct nctl *n, int day, const char *records);

/* bin/wakefarm run against the suite's controller. */
struct cli {
	pid_t pid;
	int fd; /* its stdout and stderr */
};

/* Starts bin/wakefarm --server BASE ARGS... with WAKEFARM_TOKEN=tok. */
void cli_start(struct cli *c, const char *tok, const char *const args[]);
/* Waits for it; its output goes to out. Returns the exit status. */
int cli_wait(struct cli *c, char *out, size_t size);
/* Both. */
int cli(const char *tok, const char *const args[], char *out, size_t size);
/*
 * bin/wakefarm --server BASE ARGS... (token tok, NULL: none) with its
 * stdout and stderr apart: the exit status.
 */
int cli_split(const char *tok, const char *base, const char *const args[],
    char *out, size_t osize, char *err, size_t esize);
/* Plays agent 1 for the next job: its records (a fixture), then finish. */
json_int_t agent_runs_next(const char *records, const char *outcome);

#endif
