/*
 * bisect_build.h: the I/O of a bisect: revisions of a git repository, builds of
 * them, and their images stored by digest (the decisions are bisect.h).
 * git and the build command run through wf_proc_run (argv lists, no shell).
 */
#ifndef WF_BISECT_BUILD_H
#define WF_BISECT_BUILD_H

#include "buf.h"

#define BISECT_REV_SUBJECT_MAX 160

struct bisect_rev {
	char id[41]; /* full commit id */
	char subject[BISECT_REV_SUBJECT_MAX]; /* first line, maybe cut */
};

/*
 * The bisect candidates: good, then every first-parent commit of good..bad
 * oldest first (bad last). good must be an ancestor of bad. At most max
 * revisions. Returns 0 with *revs (caller frees) and *n, or -1 with a cause.
 */
int bisect_build_candidates(const char *repo, const char *good, const char *bad,
    int max, struct bisect_rev **revs, int *n, char **cause);

/*
 * Builds rev of repo in dir (created; must not exist): a shared clone
 * checked out at rev, then argv run there with the time limit, its output
 * appended to log. The artifact is dir/artifact. Returns 0 when built, 1
 * when the build failed (the log's last line says how), -1 with a cause
 * when the checkout itself failed.
 */
int bisect_build_rev(const char *repo, const char *rev, const char *dir,
    const char *const argv[], int timeout_s, const char *artifact,
    struct wf_buf *log, char **cause);

/* Removes a build directory (rm -r, no shell). */
void bisect_build_remove(const char *dir);

/* The SHA-256 of a file as 64 hex digits; -1 with a cause. */
int bisect_build_sha256_file(const char *path, char hex[65], char **cause);

/* Copies src to blobdir/<sha256> (atomically, mode 0644) unless there. */
int bisect_build_blob_put(
    const char *blobdir, const char *src, char hex[65], char **cause);

#endif
