/*
 * nightly.h: the CLI's nightly commands (schedule add|list|rm, compare,
 * regressions) against the controller's API (controller/README.md).
 */
#ifndef WF_CLI_NIGHTLY_H
#define WF_CLI_NIGHTLY_H

#include <jansson.h>

/* The controller and token the commands use (the global options). */
void cli_nightly_init(const char *server, const char *token);

/* One request to the controller; the error printed and NULL on failure. */
json_t *cli_call(const char *method, const char *path, json_t *body);
void cli_print_json(const json_t *j);	/* indented, sorted keys */
/* For display: the string at key K of O or "-", the integer or 0. */
const char *cli_str(const json_t *o, const char *k);
long long cli_num(const json_t *o, const char *k);

int cmd_schedule(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_regressions(int argc, char **argv);

#endif
