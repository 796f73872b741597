/*
 * proc.h: the one process spawner. A program runs as an argv list (never
 * through a shell), in a process group of its own, stdin /dev/null,
 * signals unblocked: captured (wf_proc_run: a time limit and its output,
 * stdout and stderr merged, up to a cap; builds and git) or with its
 * output in a file (wf_proc_spawn, wf_proc_wait: QEMU, helpers of the
 * runners).
 */
#ifndef WF_PROC_H
#define WF_PROC_H

#include <sys/types.h>

#include "buf.h"

struct wf_proc_result {
	int status; /* exit status; -1 when killed by a signal */
	int signal; /* the signal that ended it, or 0 */
	int timed_out; /* killed for the time limit */
	double wall_s;
};

/*
 * Runs argv[0] (looked up in PATH) with argv in cwd (NULL: here), stdin
 * /dev/null, in a process group of its own: at the limit (timeout_s > 0)
 * the whole group gets SIGTERM, and SIGKILL 2 s later. Output beyond
 * out's cap is dropped and out->truncated set; out may be NULL (discarded).
 * Returns 0 when the program ran, whatever its status; -1 with a cause
 * when it could not be started.
 */
int wf_proc_run(const char *const argv[], const char *cwd, int timeout_s,
    struct wf_buf *out, struct wf_proc_result *res, char **cause);

/*
 * Starts argv[0] (looked up in PATH) in cwd (NULL: here), its stdout and
 * stderr to the file outpath (created or truncated, mode 0644; NULL:
 * /dev/null). Returns its pid (the caller waits for it), or -1 with a
 * cause when it could not be started.
 */
pid_t wf_proc_spawn(const char *const argv[], const char *cwd,
    const char *outpath, char **cause);

/* wf_proc_spawn, then waits: its exit status (-1 for a signal), or -1 with
 * a cause when it could not be started. */
int wf_proc_wait(const char *const argv[], const char *outpath, char **cause);

/* Ends every wf_proc_run under way (and any later one) as if timed out:
 * for a shutdown that must not wait for a long build. */
void wf_proc_abort_all(void);

/* "exit status 2", "killed by signal 9", "timed out after 30 s" */
void wf_proc_describe(const struct wf_proc_result *res, char *out, size_t size);

#endif
