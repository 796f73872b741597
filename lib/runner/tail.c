/*
 * tail.c: following a serial file across virtlogd's rotations (see tail.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tail.h"
#include "util.h"

/* The files of a port, oldest first: PATH.9 .. PATH.0, PATH. */
struct chain {
	char name[TAIL_BACKUPS + 1][320];
	ino_t ino[TAIL_BACKUPS + 1];
	int n;
};

static void
chain_scan(const struct tail *t, struct chain *c)
{
	struct stat st;

	c->n = 0;
	for (int k = TAIL_BACKUPS - 1; k >= -1; k--) {
		char *name = c->name[c->n];

		if (k >= 0)
			snprintf(name, sizeof(c->name[0]), "%s.%d", t->path, k);
		else
			snprintf(name, sizeof(c->name[0]), "%s", t->path);
		if (stat(name, &st) == 0)
			c->ino[c->n++] = st.st_ino;
	}
}

/* Opens name if it is still the file with inode ino; 0 or -1. */
static int
open_checked(struct tail *t, const char *name, ino_t ino)
{
	struct stat st;
	int fd = open(name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_ino != ino) {
		close(fd); /* rotated again meanwhile */
		return -1;
	}
	if (t->fd >= 0)
		close(t->fd);
	t->fd = fd;
	t->ino = ino;
	t->in_file = 0;
	return 0;
}

/*
 * Moves to the file after ours (the oldest there is, when ours is not
 * open yet). 1 moved, 0 ours is the newest (or there is none yet).
 */
static int
next_file(struct tail *t)
{
	struct chain c;
	int i;

	for (int tries = 0; tries < 3; tries++) {
		chain_scan(t, &c);
		if (c.n == 0)
			return 0;
		if (t->fd < 0)
			i = 0;
		else {
			for (i = 0; i < c.n && c.ino[i] != t->ino; i++)
				;
			if (i == c.n - 1)
				return 0;
			if (i == c.n) {
				/* ours went out of the chain: the files after
				 * it but before the oldest kept are gone */
				t->gaps++;
				i = 0;
			} else {
				i++;
			}
		}
		if (open_checked(t, c.name[i], c.ino[i]) == 0)
			return 1;
	}
	return 0;
}

/* Is the open file still PATH itself (nothing newer)? */
static int
is_newest(const struct tail *t)
{
	struct stat st;

	return stat(t->path, &st) < 0 || st.st_ino == t->ino;
}

void
tail_init(struct tail *t, const char *path)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	wf_strlcpy(t->path, path, sizeof(t->path));
}

ssize_t
tail_read(struct tail *t, char *buf, size_t size)
{
	ssize_t n;

	if (t->fd < 0 && next_file(t) == 0)
		return 0; /* not there yet */
	for (int files = 0; files <= TAIL_BACKUPS; files++) {
		n = read(t->fd, buf, size);
		if (n == 0 && !is_newest(t)) {
			/* what reached ours before the rename, then the next */
			n = read(t->fd, buf, size);
			if (n == 0 && next_file(t) == 1)
				continue;
		}
		if (n > 0) {
			t->off += n;
			t->in_file += n;
		}
		return n;
	}
	return 0;
}

void
tail_unread(struct tail *t, size_t n)
{
	if (t->fd < 0 || (long long)n > t->in_file)
		return;
	if (lseek(t->fd, -(off_t)n, SEEK_CUR) >= 0) {
		t->off -= (long long)n;
		t->in_file -= (long long)n;
	}
}

void
tail_close(struct tail *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
