/*
 * proc.h: running a program as an argv list (never through a shell), in a
 * directory, with a time limit and its output (stdout and stderr, merged)
 * captured up to a cap. Used for builds: `wakefarm bisect` runs the user's
 * build command this way, and git.
 */
#ifndef WF_PROC_H
#define WF_PROC_H

#include "buf.h"

struct wf_proc_result {
	int	 status;	/* exit status; -1 when killed by a signal */
	int	 signal;	/* the signal that ended it, or 0 */
	int	 timed_out;	/* killed for the time limit */
	double	 wall_s;
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

/* Ends every wf_proc_run under way (and any later one) as if timed out:
 * for a shutdown that must not wait for a long build. */
void wf_proc_abort_all(void);

/* "exit status 2", "killed by signal 9", "timed out after 30 s" */
void wf_proc_describe(const struct wf_proc_result *res, char *out, size_t size);

#endif
