/*
 * test_fsutil.c: unit tests for lib/fsutil: a file's directory made on
 * demand, secrets written whole or not at all, absolute paths, and whether
 * another user can read a file (by the mode bits).
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

#include "fsutil.h"
#include "util.h"

static char *
scratch(void)
{
	char *dir = strdup("/tmp/wf-fsutil.XXXXXX");

	if (dir == NULL || mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	return dir;
}

TEST(mkdir_parent_makes_every_missing_directory)
{
	char *dir = scratch(), path[PATH_MAX], *cause = NULL;
	struct stat st;

	snprintf(path, sizeof(path), "%s/var/sub/wakefarm.db", dir);
	CHECK_EQ_INT(wf_mkdir_parent(path, 0755, &cause), 0);
	snprintf(path, sizeof(path), "%s/var/sub", dir);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	/* again: nothing to do; a bare name needs no directory */
	snprintf(path, sizeof(path), "%s/var/sub/wakefarm.db", dir);
	CHECK_EQ_INT(wf_mkdir_parent(path, 0755, &cause), 0);
	CHECK_EQ_INT(wf_mkdir_parent("wakefarm.db", 0755, &cause), 0);
	/* a file in the way */
	REQUIRE(wf_write_secret(path, "x", NULL) == 0);
	snprintf(path, sizeof(path), "%s/var/sub/wakefarm.db/x", dir);
	CHECK_EQ_INT(wf_mkdir_parent(path, 0755, &cause), -1);
	CHECK_STR_CONTAINS(wf_cause_str(cause), "cannot create directory");
	free(cause);
	free(dir);
}

TEST(write_secret_is_0600_and_all_or_nothing)
{
	char *dir = scratch(), path[PATH_MAX], buf[64], *cause = NULL;
	struct stat st;
	FILE *f;

	umask(022);
	snprintf(path, sizeof(path), "%s/host2.token", dir);
	REQUIRE(wf_write_secret(path, "abc123", &cause) == 0);
	REQUIRE(stat(path, &st) == 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	REQUIRE(f != NULL);
	CHECK(fgets(buf, sizeof(buf), f) != NULL);
	fclose(f);
	CHECK_STR_EQ(buf, "abc123\n");
	/* an existing file of another mode is replaced, mode 0600 */
	chmod(path, 0644);
	REQUIRE(wf_write_secret(path, "def", &cause) == 0);
	REQUIRE(stat(path, &st) == 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	/* no directory: an error naming the file, and no file at all */
	snprintf(path, sizeof(path), "%s/nodir/host3.token", dir);
	CHECK_EQ_INT(wf_write_secret(path, "abc", &cause), -1);
	CHECK_STR_CONTAINS(wf_cause_str(cause), "nodir/host3.token");
	CHECK(access(path, F_OK) == -1);
	free(cause);
	free(dir);
}

TEST(abspath)
{
	char *cause = NULL, *p, cwd[PATH_MAX], want[PATH_MAX + 16];

	p = wf_abspath("/var/spool", &cause);
	CHECK_STR_EQ(p, "/var/spool");
	free(p);
	REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(want, sizeof(want), "%s/var/work", cwd);
	p = wf_abspath("var/work", &cause);
	CHECK_STR_EQ(p, want);
	free(p);
}

TEST(readable_by_follows_every_directory)
{
	char *dir = scratch(), sub[PATH_MAX], path[PATH_MAX], *cause = NULL;
	const uid_t nobody = 65534;

	snprintf(sub, sizeof(sub), "%s/d", dir);
	snprintf(path, sizeof(path), "%s/d/image.elf", dir);
	REQUIRE(mkdir(sub, 0755) == 0);
	REQUIRE(wf_write_secret(path, "x", NULL) == 0);
	chmod(dir, 0755);
	/* 0600: only its owner */
	CHECK_EQ_INT(wf_readable_by(path, nobody, nobody, &cause), 0);
	CHECK_STR_CONTAINS(wf_cause_str(cause), "image.elf (mode 600");
	CHECK_STR_CONTAINS(wf_cause_str(cause), "is not readable");
	CHECK_EQ_INT(wf_readable_by(path, 0, 0, &cause), 1);
	chmod(path, 0644);
	CHECK_EQ_INT(wf_readable_by(path, nobody, nobody, &cause), 1);
	/* a directory on the way that others cannot search */
	chmod(sub, 0700);
	CHECK_EQ_INT(wf_readable_by(path, nobody, nobody, &cause), 0);
	CHECK_STR_CONTAINS(wf_cause_str(cause), "/d (mode 700");
	CHECK_STR_CONTAINS(wf_cause_str(cause), "is not searchable");
	CHECK_EQ_INT(
	    wf_readable_by("/nonexistent/x", nobody, nobody, &cause), 0);
	CHECK_STR_CONTAINS(wf_cause_str(cause), "No such file");
	free(cause);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
	free(dir);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
