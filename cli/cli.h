/*
 * cli.h: what every command of bin/wakefarm shares.
 *
 * One client of the controller (cli_call: JSON; cli_get_raw: text), made
 * once from the global options; one way to report an error and choose the
 * exit status (cli_error); the display helpers; the --set syntax. Each
 * command is one cmd_*.c file with its own flag table and an entry in
 * main.c's command table.
 *
 * Exit statuses (every command; CLI_EXIT_HELP is the table --help shows):
 * what a run came to (0 every job as expected, 1 something not as expected
 * or a regression, 2 only infra errors kept jobs from being judged), or
 * sysexits.h codes for everything that is not a verdict: usage 64, input or
 * request refused 65, not found 66, controller unreachable or failing 69, a
 * reply that makes no sense 70, a wait that timed out 75, no permission 77.
 *
 * --json: stdout holds JSON only, one document (events --follow: one a
 * line); an error is {"error": "...", "exit": N} there too (cli_error).
 */
#ifndef WF_CLI_H
#define WF_CLI_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "flags.h"

struct wf_http;

enum {
	CLI_OK = 0,
	CLI_UNEXPECTED = 1, /* not as expected, or a regression */
	CLI_INFRA = 2, /* infra errors only */
	CLI_USAGE = 64, /* EX_USAGE */
	CLI_DATAERR = 65, /* EX_DATAERR: bad input, 400/409/413 */
	CLI_NOINPUT = 66, /* EX_NOINPUT: no such thing, 404 */
	CLI_UNAVAILABLE = 69, /* EX_UNAVAILABLE: transport, 5xx, 429 */
	CLI_SOFTWARE = 70, /* EX_SOFTWARE: a malformed reply */
	CLI_TEMPFAIL = 75, /* EX_TEMPFAIL: wait --timeout */
	CLI_NOPERM = 77, /* EX_NOPERM: 401, 403 */
};

extern const char CLI_EXIT_HELP[];

#define CLI_DEFAULT_SERVER "http://127.0.0.1:8080"

/* The controller and token every request uses (main.c: global options). */
void cli_init(const char *server, const char *token);
const char *cli_server(void);

/*
 * Prints "wakefarm[ CMD]: MESSAGE" on stderr (cmd NULL: "wakefarm: ") and,
 * with --json, {"error": MESSAGE, "exit": status} on stdout (once); returns
 * status: `return cli_error(CLI_USAGE, NULL, "...");`.
 */
int cli_error(int status, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* With --json: {"error": msg, "exit": status} on stdout (once). */
void cli_json_error(int status, const char *msg);
/* --json was given (main.c sees it before the command parses it). */
void cli_set_json(int on);
int cli_json(void);
/* The exit status for a request that failed with this HTTP status (0: no
 * reply at all). */
int cli_exit_for_http(long status);
/* The exit status of the last failed request (cli_call, cli_get_raw...). */
int cli_failed(void);
void cli_set_failed(int status);
/* The one client (for a stream); NULL after the error was printed. */
struct wf_http *cli_http(void);
/*
 * Checks that reply has key of type (JSON_ARRAY, JSON_OBJECT...): 0, or -1
 * after "malformed reply" was reported (cli_failed() is then 70).
 */
int cli_expect(
    const json_t *reply, const char *key, json_type type, const char *path);
/*
 * What a run came to, from GET /api/v1/runs/ID: CLI_OK every job done as
 * expected, CLI_INFRA when the only jobs not as expected ended infra,
 * CLI_UNEXPECTED otherwise (a cancelled job too).
 */
int cli_run_outcome(const json_t *run_reply);

/* One JSON request: the reply ({} when empty), or -1 with a cause. */
int cli_request(const char *method, const char *path, json_t *body,
    json_t **reply, char **cause);
/* The same, the error printed ("wakefarm: METHOD PATH: why"), NULL on
 * failure (cli_failed() says which exit status it deserves). */
json_t *cli_call(const char *method, const char *path, json_t *body);
/* A request for a command with --json: when json, the reply is printed and
 * NULL comes back with *rc CLI_OK; NULL with *rc the failure's status on an
 * error (printed); else the reply, *rc CLI_OK. cli_get_or_print: a GET. */
json_t *cli_call_or_print(
    const char *method, const char *path, json_t *body, int json, int *rc);
json_t *cli_get_or_print(const char *path, int json, int *rc);
/* A list command's GET: cli_get_or_print, then the reply's key checked to
 * be an array (cli_expect: NULL, *rc 70, when it is not). */
json_t *cli_get_list(const char *path, const char *key, int json, int *rc);
/* A GET whose answer is text (logs): 0 with the body in out, or -1 with
 * the error printed. */
int cli_get_raw(const char *path, struct wf_buf *out);

/* An id argument: 0, or -1 with "'S' is not a WHAT id" printed. */
int cli_parse_id(const char *what, const char *s, long long *id);

/* --set KEY=V1,V2 into an API "set" object (an axis when several values;
 * steps: V1;V2, quirks: a+b or none); 0 or -1 with the error printed. */
int cli_add_set(json_t *set, const char *arg);
/* A --set value's form (KEY=...), else a usage error (exit 2). */
void cli_check_set(const struct wf_flags *f, const char *arg);
/* "A,B,C" appended to list as strings. */
void cli_add_list(json_t *list, const char *arg);

void cli_print_json(const json_t *j); /* indented, sorted keys */
/* For display: the string at key K of O or "-", the integer or 0. */
const char *cli_str(const json_t *o, const char *k);
long long cli_num(const json_t *o, const char *k);
/* Milliseconds since the epoch as "YYYY-MM-DD HH:MM UTC" ("-" for 0). */
void cli_fmt_time(char *buf, size_t size, long long ms);
/* A case of a comparison: "  CLASS job J scenario {matrix}: verdict ..." */
void cli_print_case(const char *cls, const json_t *c);

/* The flag table of a command whose only option is --json, and its
 * parsing: the arguments (min..max of them, else a usage error). */
extern const struct wf_flag cli_json_only[];
char **cli_json_args(struct wf_flags *f, const struct wf_cmd *cmd, int argc,
    char **argv, int min, int max, int *n, int *json);

/* The commands (cmd_*.c), for main.c's table. */
int cmd_submit(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_hosts(int argc, char **argv);
int cmd_repro(int argc, char **argv);
int cmd_schedule(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_regressions(int argc, char **argv);
int cmd_bisect(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_scenario(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_subscription(int argc, char **argv);
int cmd_resubmit(int argc, char **argv);
int cmd_kernel(int argc, char **argv);
int cmd_tokens(int argc, char **argv);
int cmd_known_issues(int argc, char **argv);
/* The JSON printed on stdout without indentation, one line (events). */
void cli_print_json_line(const json_t *j);
/* Follows run id to its end (progress lines unless --json): its outcome
 * (cli_run_outcome), CLI_TEMPFAIL after timeout_s (0: none), or a failed
 * request's status. *final gets the last GET /runs/ID reply (or NULL). */
int cli_follow_run(long long id, int timeout_s, json_t **final);
/*
 * After the POST that made a run (submit, resubmit), whose line the caller
 * printed unless json: with json and no wait, the reply printed; with wait,
 * the run followed (cli_follow_run) and, with json, one document at the end:
 * the reply with "exit" and the run in "result". Returns the exit status.
 */
int cli_run_started(json_t *reply, int wait, int json);
/* The finished jobs of a run reply that were not as expected, one a line. */
void cli_print_unexpected(const json_t *run_reply);

#endif
