/*
 * api_static.c: static files for the dashboard (see api_static.h).
 * The URL arrives percent-decoded; any "." or ".." segment, backslash or
 * control byte is refused, and the resolved path must stay inside dir
 * (symbolic links included). A file is sent from its descriptor
 * (libmicrohttpd reads it as it sends), whatever its size.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_static.h"
#include "util.h"

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ NULL, NULL },
};

static const char *
content_type(const char *path)
{
	size_t len = strlen(path), el;
	int i;

	for (i = 0; types[i].ext != NULL; i++) {
		el = strlen(types[i].ext);
		if (len > el && strcmp(path + len - el, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

static int
safe_segments(const struct req *r)
{
	const unsigned char *p;
	int i;

	for (i = 0; i < r->nseg; i++) {
		if (strcmp(r->seg[i], ".") == 0 || strcmp(r->seg[i], "..") == 0)
			return 0;
		for (p = (const unsigned char *)r->seg[i]; *p != '\0'; p++) {
			if (*p < 0x20 || *p == 0x7f || *p == '\\')
				return 0;
		}
	}
	return 1;
}

void
api_static_serve(const char *dir, struct req *r, struct reply *out)
{
	char path[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
	size_t rootlen;
	struct stat st;
	int i, fd = -1;

	if (!safe_segments(r)) {
		reply_error(out, 400, "path traversal refused");
		return;
	}
	if (dir == NULL || realpath(dir, root) == NULL) {
		reply_error(out, 404, "not found");
		return;
	}
	wf_strlcpy(path, root, sizeof(path));
	for (i = 0; i < r->nseg; i++) {
		if (strlen(path) + strlen(r->seg[i]) + 2 >= sizeof(path)) {
			reply_error(out, 414, "path too long");
			return;
		}
		strcat(path, "/");
		strcat(path, r->seg[i]);
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    strlen(path) + 12 < sizeof(path))
		strcat(path, "/index.html");
	rootlen = strlen(root);
	if (realpath(path, real) == NULL) {
		reply_error(out, 404, "not found");
		return;
	}
	if (strncmp(real, root, rootlen) != 0 ||
	    (real[rootlen] != '/' && real[rootlen] != '\0')) {
		reply_error(out, 400, "path traversal refused");
		return;
	}
	if ((fd = open(real, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		reply_error(out, 404, "not found");
		if (fd != -1)
			close(fd);
		return;
	}
	/* sent from the file as it is: nothing is read into memory here */
	reply_fd(out, 200, content_type(real), fd, (uint64_t)st.st_size);
}
