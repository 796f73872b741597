/*
 * bisect_build.c: git revisions, builds and blobs of a bisect (bisect_build.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bisect_build.h"
#include "proc.h"
#include "util.h"

#define GIT_TIMEOUT_S 120
#define GIT_OUT_CAP (16u << 20)

/* Runs git; 0 with its output, -1 with a cause naming the command. */
static int
git(const char *what, const char *const argv[], struct wf_buf *out,
    char **cause)
{
	struct wf_proc_result res;
	char how[64];

	if (wf_proc_run(argv, NULL, GIT_TIMEOUT_S, out, &res, cause) == -1)
		return -1;
	if (res.status != 0 || out->truncated) {
		wf_proc_describe(&res, how, sizeof(how));
		wf_set_cause(cause, "git %s: %s%s%.300s", what,
		    out->truncated ? "too much output" : how,
		    out->len ? ": " : "", wf_buf_str(out));
		return -1;
	}
	return 0;
}

/* A revision name the user gave: no option look-alikes, printable. */
static int
rev_ok(const char *what, const char *rev, char **cause)
{
	if (rev[0] == '\0' || rev[0] == '-' || strlen(rev) > 200) {
		wf_set_cause(cause,
		    "%s revision '%.60s': empty, too long or"
		    " starts with '-'",
		    what, rev);
		return -1;
	}
	for (const char *p = rev; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			wf_set_cause(cause,
			    "%s revision: a space or control"
			    " character in it",
			    what);
			return -1;
		}
	return 0;
}

static int
parse_revs(
    const char *text, struct bisect_rev *revs, int *n, int max, char **cause)
{
	const char *p = text, *tab, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		nl = nl ? nl : p + strlen(p);
		tab = memchr(p, '\t', nl - p);
		if (*n == max) {
			wf_set_cause(
			    cause, "more than %d revisions to bisect", max - 1);
			return -1;
		}
		if (tab == NULL || tab - p != 40) {
			wf_set_cause(
			    cause, "git log: unexpected line '%.60s'", p);
			return -1;
		}
		memcpy(revs[*n].id, p, 40);
		revs[*n].id[40] = '\0';
		snprintf(revs[*n].subject, sizeof(revs[*n].subject), "%.*s",
		    (int)(nl - tab - 1), tab + 1);
		(*n)++;
		p = *nl ? nl + 1 : nl;
	}
	return 0;
}

int
bisect_build_candidates(const char *repo, const char *good, const char *bad,
    int max, struct bisect_rev **revsp, int *np, char **cause)
{
	char range[420];
	const char *anc[] = { "git", "-C", repo, "merge-base", "--is-ancestor",
		good, bad, NULL };
	const char *one[] = { "git", "-C", repo, "log", "-1",
		"--format=%H%x09%s", good, "--", NULL };
	const char *list[] = { "git", "-C", repo, "log", "--reverse",
		"--first-parent", "--format=%H%x09%s", range, "--", NULL };
	struct wf_buf out;
	struct bisect_rev *revs;
	int n = 0;

	*revsp = NULL;
	*np = 0;
	if (rev_ok("good", good, cause) == -1 ||
	    rev_ok("bad", bad, cause) == -1)
		return -1;
	snprintf(range, sizeof(range), "%s..%s", good, bad);
	if ((revs = calloc(max, sizeof(*revs))) == NULL) {
		wf_set_cause(cause, "out of memory");
		return -1;
	}
	wf_buf_init(&out, GIT_OUT_CAP);
	if (git("merge-base", anc, &out, cause) == -1) {
		if (out.len == 0)
			wf_set_cause(cause,
			    "the good revision %s is not an"
			    " ancestor of the bad one %s (or one of them is"
			    " unknown)",
			    good, bad);
		goto fail;
	}
	wf_buf_reset(&out);
	if (git("log", one, &out, cause) == -1 ||
	    parse_revs(wf_buf_str(&out), revs, &n, max, cause) == -1)
		goto fail;
	wf_buf_reset(&out);
	if (git("log", list, &out, cause) == -1 ||
	    parse_revs(wf_buf_str(&out), revs, &n, max, cause) == -1)
		goto fail;
	if (n < 2) {
		wf_set_cause(cause, "nothing between %s and %s", good, bad);
		goto fail;
	}
	wf_buf_free(&out);
	*revsp = revs;
	*np = n;
	return 0;
fail:
	wf_buf_free(&out);
	free(revs);
	return -1;
}

int
bisect_build_rev(const char *repo, const char *rev, const char *dir,
    const char *const argv[], int timeout_s, const char *artifact,
    struct wf_buf *log, char **cause)
{
	const char *clone[] = { "git", "clone", "-q", "--shared",
		"--no-checkout", repo, dir, NULL };
	const char *co[] = { "git", "-C", dir, "checkout", "-q", "--detach",
		rev, NULL };
	struct wf_proc_result res;
	struct wf_buf out;
	char path[4096], how[64];
	struct stat st;

	if (rev_ok("build", rev, cause) == -1)
		return -1;
	wf_buf_init(&out, 1u << 20);
	if (git("clone", clone, &out, cause) == -1) {
		wf_buf_free(&out);
		return -1;
	}
	wf_buf_reset(&out);
	if (git("checkout", co, &out, cause) == -1) {
		wf_buf_free(&out);
		return -1;
	}
	wf_buf_free(&out);
	wf_buf_printf(log, "$");
	for (int i = 0; argv[i]; i++)
		wf_buf_printf(log, " %s", argv[i]);
	wf_buf_printf(log, "   (in a checkout of %.12s)\n", rev);
	if (wf_proc_run(argv, dir, timeout_s, log, &res, cause) == -1)
		return -1;
	wf_proc_describe(&res, how, sizeof(how));
	if (log->truncated)
		wf_buf_printf(
		    log, "\n[build output cut at %zu bytes]\n", log->cap);
	if (res.status != 0) {
		wf_buf_printf(
		    log, "\nbuild failed: %s after %.1f s\n", how, res.wall_s);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, artifact);
	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		wf_buf_printf(log,
		    "\nbuild failed: it exited 0 but made no"
		    " %s\n",
		    artifact);
		return 1;
	}
	wf_buf_printf(log, "\nbuilt in %.1f s: %s, %lld bytes\n", res.wall_s,
	    artifact, (long long)st.st_size);
	return 0;
}

void
bisect_build_remove(const char *dir)
{
	const char *rm[] = { "rm", "-rf", "--", dir, NULL };
	struct wf_proc_result res;

	if (dir != NULL && dir[0] != '\0' && strcmp(dir, "/") != 0)
		wf_proc_run(rm, NULL, 120, NULL, &res, NULL);
}

int
bisect_build_sha256_file(const char *path, char hex[65], char **cause)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		wf_set_cause(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		wf_set_cause(cause, "sha256: cannot initialise");
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	if (n == -1) {
		wf_set_cause(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32) {
		wf_hex(hex, md, 32);
		rc = 0;
	}
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}

int
bisect_build_blob_put(
    const char *blobdir, const char *src, char hex[65], char **cause)
{
	char dst[4096], tmp[4200], buf[65536];
	int in = -1, out = -1, rc = -1;
	ssize_t n;

	if (bisect_build_sha256_file(src, hex, cause) == -1)
		return -1;
	snprintf(dst, sizeof(dst), "%s/%s", blobdir, hex);
	if (access(dst, R_OK) == 0)
		return 0;
	if (mkdir(blobdir, 0755) == -1 && errno != EEXIST) {
		wf_set_cause(cause, "%s: %s", blobdir, strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", dst, (int)getpid());
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) ==
	        -1) {
		wf_set_cause(
		    cause, "%s: %s", in == -1 ? src : tmp, strerror(errno));
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			wf_set_cause(cause, "%s: %s", tmp, strerror(errno));
			goto out;
		}
	if (n == -1 || fsync(out) == -1 || fchmod(out, 0644) == -1) {
		wf_set_cause(cause, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(out) == -1 || rename(tmp, dst) == -1) {
		out = -1;
		wf_set_cause(cause, "%s: %s", dst, strerror(errno));
		goto out;
	}
	out = -1;
	rc = 0;
out:
	if (in != -1)
		close(in);
	if (out != -1)
		close(out);
	if (rc == -1)
		unlink(tmp);
	return rc;
}
