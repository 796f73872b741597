/*
 * nightly.h: the CLI's nightly commands (schedule add|list|rm, compare,
 * regressions) against the controller's API (controller/README.md).
 */
#ifndef WF_CLI_NIGHTLY_H
#define WF_CLI_NIGHTLY_H

/* The controller and token the commands use (the global options). */
void cli_nightly_init(const char *server, const char *token);

int cmd_schedule(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_regressions(int argc, char **argv);

#endif
