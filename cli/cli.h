/*
 * cli.h: what every command of bin/wakefarm shares.
 *
 * One client of the controller (cli_call: JSON; cli_get_raw: text), made
 * once from the global options; one way to report an error and choose the
 * exit status (cli_error); the display helpers; the --set syntax. Each
 * command is one cmd_*.c file with its own flag table and an entry in
 * main.c's command table.
 *
 * Exit statuses, for every command: CLI_OK, CLI_FAIL (the request or the
 * run failed, or for submit --wait / repro / bisect: some job not as
 * expected), CLI_USAGE (bad input; also usage errors from lib/flags.h).
 */
#ifndef WF_CLI_H
#define WF_CLI_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "flags.h"

enum {
	CLI_OK = 0,
	CLI_FAIL = 1,
	CLI_USAGE = 2
};

#define CLI_DEFAULT_SERVER "http://127.0.0.1:8080"

/* The controller and token every request uses (main.c: global options). */
void cli_init(const char *server, const char *token);
const char *cli_server(void);

/*
 * Prints "wakefarm[ CMD]: MESSAGE" on stderr (cmd NULL: "wakefarm: ") and
 * returns status: `return cli_error(CLI_USAGE, NULL, "...");`.
 */
int cli_error(int status, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One JSON request: the reply ({} when empty), or -1 with a cause. */
int cli_request(const char *method, const char *path, json_t *body,
    json_t **reply, char **cause);
/* The same, the error printed ("wakefarm: METHOD PATH: why"), NULL on failure. */
json_t *cli_call(const char *method, const char *path, json_t *body);
/* A GET for a command with --json: when json, the reply is printed and
 * NULL comes back with *rc CLI_OK; NULL with *rc CLI_FAIL on an error
 * (printed); else the reply. */
json_t *cli_get_or_print(const char *path, int json, int *rc);
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

#endif
