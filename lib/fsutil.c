/*
 * fsutil.c: files and directories for the programs' set-up steps; see
 * fsutil.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "util.h"

int
wf_mkdir_parent(const char *path, mode_t mode, char **cause)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;
	size_t len;

	if (slash == NULL || slash == path)
		return 0;
	len = (size_t)(slash - path);
	if (len >= sizeof(dir)) {
		wf_set_cause(cause, "%s: path too long", path);
		return -1;
	}
	memcpy(dir, path, len);
	dir[len] = '\0';
	for (char *p = dir + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(dir, mode) == -1 &&
		    (errno != EEXIST || stat(dir, &st) == -1 ||
		        !S_ISDIR(st.st_mode))) {
			if (errno == EEXIST)
				errno = ENOTDIR;
			wf_set_cause(cause, "cannot create directory %s: %s",
			    dir, strerror(errno));
			return -1;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

int
wf_write_secret(const char *path, const char *text, char **cause)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text);
	int fd, ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp)) {
		wf_set_cause(cause, "%s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		wf_set_cause(
		    cause, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	ok = fchmod(fd, 0600) == 0 && write(fd, text, len) == (ssize_t)len &&
	    write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	if (close(fd) == -1)
		ok = 0;
	if (!ok || rename(tmp, path) == -1) {
		wf_set_cause(
		    cause, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

char *
wf_abspath(const char *path, char **cause)
{
	char cwd[PATH_MAX];
	char *out;

	if (path[0] == '/')
		out = strdup(path);
	else if (getcwd(cwd, sizeof(cwd)) == NULL) {
		wf_set_cause(cause, "cannot read the working directory: %s",
		    strerror(errno));
		return NULL;
	} else if (asprintf(&out, "%s/%s", cwd, path) == -1)
		out = NULL;
	if (out == NULL)
		wf_set_cause(cause, "out of memory");
	return out;
}

/* Whether uid/gid and groups may use the bits of st selected by want (4 read,
 * 1 search), as the kernel checks them. */
static int
mode_allows(const struct stat *st, uid_t uid, const gid_t *groups, int ngroups,
    int want)
{
	unsigned m = (unsigned)st->st_mode, w = (unsigned)want;

	if (st->st_uid == uid)
		return ((m >> 6) & w) == w;
	for (int i = 0; i < ngroups; i++)
		if (st->st_gid == groups[i])
			return ((m >> 3) & w) == w;
	return (m & w) == w;
}

int
wf_readable_by(const char *path, uid_t uid, gid_t gid, char **cause)
{
	gid_t groups[64];
	int ngroups = (int)(sizeof(groups) / sizeof(groups[0]));
	struct passwd *pw;
	struct stat st;
	char walk[PATH_MAX];

	if (uid == 0)
		return 1;
	groups[0] = gid;
	pw = getpwuid(uid);
	if (pw == NULL ||
	    getgrouplist(pw->pw_name, gid, groups, &ngroups) == -1)
		ngroups = 1;
	if (wf_strlcpy(walk, path, sizeof(walk)) >= sizeof(walk)) {
		wf_set_cause(cause, "%s: path too long", path);
		return 0;
	}
	for (char *p = walk + 1;; p++) {
		char c = *p;
		int last = c == '\0';

		if (c != '/' && !last)
			continue;
		*p = '\0';
		if (stat(walk, &st) == -1) {
			wf_set_cause(cause, "%s: %s", walk, strerror(errno));
			return 0;
		}
		if (!mode_allows(&st, uid, groups, ngroups, last ? 4 : 1)) {
			wf_set_cause(cause,
			    "%s (mode %03o, owner %ld:%ld) is not %s", walk,
			    (unsigned)(st.st_mode & 0777), (long)st.st_uid,
			    (long)st.st_gid, last ? "readable" : "searchable");
			return 0;
		}
		if (last)
			break;
		*p = c;
	}
	return 1;
}
