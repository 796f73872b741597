/* test_tail.c: following a serial file across virtlogd-style rotations (lib/runner/tail.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tail.h"
#include "test.h"

static char dir[64], path[128];

static void
append(const char *name, const char *text)
{
	FILE *f = fopen(name, "a");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* What virtlogd does at max_size: PATH.k -> PATH.k+1, PATH -> PATH.0. */
static void
rotate(int backups)
{
	char from[160], to[160];

	for (int k = backups - 1; k >= 0; k--) {
		snprintf(from, sizeof(from), "%s.%d", path, k);
		snprintf(to, sizeof(to), "%s.%d", path, k + 1);
		if (k == backups - 1)
			unlink(from);
		else
			rename(from, to);
	}
	snprintf(to, sizeof(to), "%s.0", path);
	rename(path, to);
}

/* Everything the tail gives now, as one string. */
static char *
drain(struct tail *t)
{
	static char out[4096];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(out) - 1 && (n = tail_read(t, out + len, 3)) > 0)
		len += (size_t)n;
	out[len] = 0;
	return out;
}

static void
fresh(void)
{
	char cmd[128];

	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return;
	}
	snprintf(dir, sizeof(dir), "/tmp/wf-tail-XXXXXX");
	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/com2", dir);
}

TEST(grows_then_nothing_new)
{
	struct tail t;

	fresh();
	tail_init(&t, path);
	CHECK_STR_EQ(drain(&t), ""); /* not there yet */
	append(path, "hello ");
	CHECK_STR_EQ(drain(&t), "hello ");
	append(path, "world");
	CHECK_STR_EQ(drain(&t), "world");
	CHECK_EQ_INT(t.off, 11);
	tail_close(&t);
}

TEST(a_rotation_loses_nothing_and_keeps_the_order)
{
	struct tail t;
	char name0[160];

	fresh();
	snprintf(name0, sizeof(name0), "%s.0", path);
	tail_init(&t, path);
	append(path, "one ");
	CHECK_STR_EQ(drain(&t), "one ");
	append(path, "two "); /* written before the rename, read after it */
	rotate(3);
	append(path, "three ");
	CHECK_STR_EQ(drain(&t), "two three ");
	/* twice between two reads: PATH.1, PATH.0 and PATH in order */
	append(path, "four ");
	rotate(3);
	append(path, "five ");
	rotate(3);
	append(path, "six");
	CHECK_STR_EQ(drain(&t), "four five six");
	CHECK_EQ_INT(t.off, 27);
	CHECK_EQ_INT(t.gaps, 0);
	tail_close(&t);
}

TEST(a_file_rotated_away_unread_is_a_gap)
{
	struct tail t;

	fresh();
	tail_init(&t, path);
	append(path, "a");
	CHECK_STR_EQ(drain(&t), "a");
	tail_close(&t); /* our file can go now */
	tail_init(&t, path); /* reopened: the oldest there is */
	CHECK_STR_EQ(drain(&t), "a");
	for (int i = 0; i < 4; i++) {
		append(path, i == 0 ? "b" : i == 1 ? "c" : i == 2 ? "d" : "e");
		rotate(2);
	}
	append(path, "f");
	/*
	 * Ours ("ab") is deleted but still open: read to its end. The one
	 * after it ("c") went unread: a gap. Then d, e and f.
	 */
	CHECK_STR_EQ(drain(&t), "bdef");
	CHECK_EQ_INT(t.gaps, 1);
	tail_close(&t);
}

TEST(unread_gives_the_last_read_back)
{
	struct tail t;
	char buf[8];

	fresh();
	tail_init(&t, path);
	append(path, "abcdef");
	CHECK_EQ_INT(tail_read(&t, buf, 4), 4);
	tail_unread(&t, 4);
	CHECK_EQ_INT(t.off, 0);
	CHECK_STR_EQ(drain(&t), "abcdef");
	tail_close(&t);
	fresh();
}

int
main(int argc, char **argv)
{
	int rc = test_main(argc, argv);
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (dir[0] && system(cmd) != 0)
		return 1;
	return rc;
}
