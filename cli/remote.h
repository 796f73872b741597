/*
 * remote.h: the CLI commands that talk to the controller's API
 * (controller/README.md): submit, status, show, logs, cancel, hosts.
 * Each returns the process exit status: 0 ok, 1 failed (or, for submit
 * --wait, some job not as expected), 2 usage.
 */
#ifndef WF_CLI_REMOTE_H
#define WF_CLI_REMOTE_H

#include <jansson.h>

struct remote {
	const char	*server;
	const char	*token;		/* NULL: none */
	int		 json;		/* print the controller's JSON */
};

/*
 * targets: scenario names, "nightly", or scenario files (a path ending in
 * .json, sent inline). sets: "KEY=V1,V2" (steps: V1;V2, quirks: a+b).
 */
int remote_submit(const struct remote *r, char **targets, int ntargets,
	    char **sets, int nsets, int wait);
int remote_status(const struct remote *r, const char *run);
int remote_show(const struct remote *r, const char *job);
/* port: 0, 1 or records (serial0, serial1 and host are accepted too). */
int remote_logs(const struct remote *r, const char *job, const char *port,
	    int follow);
int remote_cancel(const struct remote *r, const char *run);
int remote_hosts(const struct remote *r);
/* --set KEY=V1,V2 into an API "set" object (an axis when several values); 0 or -1. */
int remote_add_set(json_t *set, const char *arg);

#endif
