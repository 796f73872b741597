/*
 * fsutil.h: files and directories as the programs' set-up steps need them:
 * a file's directory made on demand, a secret written whole or not at all,
 * a relative path made absolute, and whether a user can reach a file.
 * Errors follow the cause convention of util.h.
 */
#ifndef WF_FSUTIL_H
#define WF_FSUTIL_H

#include <sys/types.h>

/*
 * Make the directory that holds path (and its parents) with mode (less the
 * umask) when it is missing. A path without a '/' needs nothing. 0 or -1.
 */
int wf_mkdir_parent(const char *path, mode_t mode, char **cause);

/*
 * Write text and a newline to path, mode 0600, whole or not at all: a
 * temporary file beside it (0600 from its creation) is renamed over path
 * once written and synced. A failure leaves path as it was. 0 or -1.
 */
int wf_write_secret(const char *path, const char *text, char **cause);

/*
 * path made absolute against the working directory (no symlink resolved,
 * "." and ".." kept): malloc'd, NULL (with a cause) when the working
 * directory cannot be read or memory runs out. An absolute path is copied.
 */
char *wf_abspath(const char *path, char **cause);

/*
 * Whether the user uid (path absolute) (with primary group gid and the supplementary
 * groups of that user) may open path for reading and search every
 * directory on its way, by the mode bits (root: always). 1 yes, 0 no with
 * a cause naming the first component that stops it.
 */
int wf_readable_by(const char *path, uid_t uid, gid_t gid, char **cause);

#endif
