/*
 * golden.c: golden files for the e2e tests; see golden.h.
 *
 * A mismatch is shown as one hunk of a unified diff: from the first to the
 * last changed line, with two lines of context, the removed and added lines
 * found through their longest common subsequence.  Enough to see what
 * changed in a generated file without a diff(1) at hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "golden.h"
#include "util.h"

#define GOLDEN_FILE_MAX (256 * 1024)
#define GOLDEN_CAUSE_MAX (64 * 1024)
#define GOLDEN_CONTEXT 2 /* unchanged lines around the change */
#define GOLDEN_SHOWN 40 /* diff lines shown; the rest are counted */
#define GOLDEN_LCS_MAX 1000 /* lines a side for a minimal diff (4 MB table) */

struct golden_line {
	const char *s;
	int len; /* without the newline */
};

char *
golden_replace(const char *s, const char *from, const char *to)
{
	size_t nfrom = strlen(from), nto = strlen(to), count = 0;
	const char *p;
	char *out, *o;

	for (p = s; (p = strstr(p, from)) != NULL; p += nfrom)
		count++;
	out = malloc(strlen(s) + count * nto + 1);
	if (out == NULL)
		return NULL;
	for (o = out; (p = strstr(s, from)) != NULL; s = p + nfrom) {
		memcpy(o, s, (size_t)(p - s));
		o += p - s;
		memcpy(o, to, nto);
		o += nto;
	}
	strcpy(o, s);
	return out;
}

/* The whole file as a string; NULL with errno (EFBIG past GOLDEN_FILE_MAX). */
static char *
golden_read(const char *path)
{
	char *data;
	size_t len;
	FILE *f;
	int err;

	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	data = malloc(GOLDEN_FILE_MAX + 1);
	if (data == NULL) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	len = fread(data, 1, GOLDEN_FILE_MAX + 1, f);
	err = ferror(f) ? EIO : len > GOLDEN_FILE_MAX ? EFBIG : 0;
	fclose(f);
	if (err != 0) {
		free(data);
		errno = err;
		return NULL;
	}
	data[len] = '\0';
	return data;
}

/* Golden files are part of the checkout: mode 0644 whatever the umask. */
static int
golden_write(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd, rc = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (fchmod(fd, 0644) == 0 && write(fd, text, len) == (ssize_t)len)
		rc = 0;
	if (close(fd) == -1)
		rc = -1;
	return rc;
}

/* The lines of s, *n of them (a last line without a newline counts); malloc'd. */
static struct golden_line *
golden_split(const char *s, size_t *n)
{
	struct golden_line *lines;
	const char *p, *nl;
	size_t count = 0, i;

	for (p = s; *p != '\0'; count++) {
		nl = strchr(p, '\n');
		p = nl != NULL ? nl + 1 : p + strlen(p);
	}
	lines = calloc(count + 1, sizeof *lines);
	if (lines == NULL)
		return NULL;
	for (p = s, i = 0; i < count; i++) {
		nl = strchr(p, '\n');
		lines[i].s = p;
		lines[i].len = nl != NULL ? (int)(nl - p) : (int)strlen(p);
		p += lines[i].len + (nl != NULL);
	}
	*n = count;
	return lines;
}

static int
golden_same(const struct golden_line *a, const struct golden_line *b)
{
	return a->len == b->len && memcmp(a->s, b->s, (size_t)a->len) == 0;
}

/* Where diff lines go: the first GOLDEN_SHOWN are printed, all are counted. */
struct golden_out {
	struct wf_buf *b;
	size_t lines;
};

static void
golden_line_out(
    struct golden_out *out, char marker, const struct golden_line *l)
{
	if (out->lines++ < GOLDEN_SHOWN)
		wf_buf_printf(out->b, "%c%.*s\n", marker, l->len, l->s);
}

/*
 * The changed middle, g[0..ng) against t[0..nt), as the shortest edit: the
 * lines not in their longest common subsequence are the removed (-) and
 * added (+) ones.  The table is (ng + 1) * (nt + 1) counts: beyond
 * GOLDEN_LCS_MAX lines a side, every line is shown as changed.
 */
static void
golden_edit(struct golden_out *out, const struct golden_line *g, size_t ng,
    const struct golden_line *t, size_t nt)
{
	unsigned int *lcs = NULL; /* lcs[i * w + j]: of g[i..] and t[j..] */
	size_t i, j, w = nt + 1;

	if (ng <= GOLDEN_LCS_MAX && nt <= GOLDEN_LCS_MAX)
		lcs = calloc((ng + 1) * w, sizeof *lcs);
	if (lcs == NULL) {
		for (i = 0; i < ng; i++)
			golden_line_out(out, '-', &g[i]);
		for (j = 0; j < nt; j++)
			golden_line_out(out, '+', &t[j]);
		return;
	}
	for (i = ng; i-- > 0;) {
		for (j = nt; j-- > 0;) {
			if (golden_same(&g[i], &t[j]))
				lcs[i * w + j] = lcs[(i + 1) * w + j + 1] + 1;
			else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])
				lcs[i * w + j] = lcs[(i + 1) * w + j];
			else
				lcs[i * w + j] = lcs[i * w + j + 1];
		}
	}
	for (i = 0, j = 0; i < ng || j < nt;) {
		if (i < ng && j < nt && golden_same(&g[i], &t[j])) {
			golden_line_out(out, ' ', &g[i]);
			i++, j++;
		} else if (j == nt ||
		    (i < ng && lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]))
			golden_line_out(out, '-', &g[i++]);
		else
			golden_line_out(out, '+', &t[j++]);
	}
	free(lcs);
}

/* The message of a mismatch: a summary line, then the diff from golden to text. */
static char *
golden_diff(const char *name, const char *golden, const char *text)
{
	struct golden_line *g, *t = NULL;
	struct golden_out out;
	struct wf_buf b;
	size_t ng, nt, pre = 0, post = 0, before, after, i;
	char *msg = NULL;

	wf_buf_init(&b, GOLDEN_CAUSE_MAX);
	out.b = &b;
	out.lines = 0;
	g = golden_split(golden, &ng);
	if (g != NULL)
		t = golden_split(text, &nt);
	if (g == NULL || t == NULL)
		goto out;
	while (pre < ng && pre < nt && golden_same(&g[pre], &t[pre]))
		pre++;
	while (post < ng - pre && post < nt - pre &&
	    golden_same(&g[ng - 1 - post], &t[nt - 1 - post]))
		post++;
	if (pre == ng && pre == nt) {
		wf_buf_printf(&b,
		    "expected %s, got the same lines but a "
		    "different end of file (newline at the end?)",
		    name);
		msg = wf_buf_steal(&b);
		goto out;
	}
	before = pre < GOLDEN_CONTEXT ? pre : GOLDEN_CONTEXT;
	after = post < GOLDEN_CONTEXT ? post : GOLDEN_CONTEXT;
	wf_buf_printf(&b,
	    "expected %s, got output that differs from line %zu on "
	    "(REGENERATE=1 rewrites the file if the change is meant):\n",
	    name, pre + 1);
	wf_buf_printf(&b, "--- %s\n+++ generated\n@@ -%zu,%zu +%zu,%zu @@\n",
	    name, pre - before + 1, ng - pre - post + before + after,
	    pre - before + 1, nt - pre - post + before + after);
	for (i = pre - before; i < pre; i++)
		golden_line_out(&out, ' ', &g[i]);
	golden_edit(&out, g + pre, ng - pre - post, t + pre, nt - pre - post);
	for (i = nt - post; i < nt - post + after; i++)
		golden_line_out(&out, ' ', &t[i]);
	if (out.lines > GOLDEN_SHOWN)
		wf_buf_printf(
		    &b, "... %zu more lines\n", out.lines - GOLDEN_SHOWN);
	/* The message goes after "FAIL NAME: ", which adds the last newline. */
	if (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	msg = wf_buf_steal(&b);
out:
	wf_buf_free(&b);
	free(g);
	free(t);
	return msg;
}

int
golden_check(const char *path, const char *name, const char *text,
    int *regenerated, char **cause)
{
	const char *regen = getenv("REGENERATE");
	char *golden, *msg;

	*regenerated = 0;
	if (regen != NULL && strcmp(regen, "1") == 0) {
		if (golden_write(path, text) == -1) {
			wf_set_cause(cause, "cannot write %s: %s", name,
			    strerror(errno));
			return -1;
		}
		*regenerated = 1;
		return 0;
	}
	golden = golden_read(path);
	if (golden == NULL) {
		if (errno == ENOENT)
			wf_set_cause(cause,
			    "expected %s, got no such file "
			    "(REGENERATE=1 writes it)",
			    name);
		else
			wf_set_cause(cause, "expected %s, got: %s", name,
			    strerror(errno));
		return -1;
	}
	if (strcmp(golden, text) == 0) {
		free(golden);
		return 0;
	}
	msg = golden_diff(name, golden, text);
	free(golden);
	if (cause != NULL) {
		free(*cause);
		*cause = msg;
	} else
		free(msg);
	return -1;
}
