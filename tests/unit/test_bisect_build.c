/*
 * test_bisect_build.c: a bisect's I/O (lib/bisect_build.c) on a real git
 * repository made here: the candidates, a build of one revision, blobs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bisect_build.h"
#include "proc.h"
#include "test.h"

#define SHA_3 "1121cfccd5913f0a63fec40a6ffd44ea64f9dc135c66634ba001d10bcf4302a2"

static char top[64];

/* Runs argv in the repository; 0 when it exited 0. */
static int
git(const char *a, const char *b, const char *c, const char *d)
{
	const char *argv[] = { "git", "-C", top, a, b, c, d, NULL };
	struct wf_proc_result res;
	char *cause = NULL;

	if (wf_proc_run(argv, NULL, 30, NULL, &res, &cause) == -1) {
		free(cause);
		return -1;
	}
	return res.status == 0 ? 0 : -1;
}

/* A repository of 5 commits whose file "v" says 1..5, tagged c1..c5. */
static int
make_repo(void)
{
	char path[128], tag[8];
	FILE *f;
	int i;

	setenv("GIT_AUTHOR_NAME", "t", 1);
	setenv("GIT_AUTHOR_EMAIL", "t@example.invalid", 1);
	setenv("GIT_COMMITTER_NAME", "t", 1);
	setenv("GIT_COMMITTER_EMAIL", "t@example.invalid", 1);
	snprintf(top, sizeof(top), "/tmp/wf-bb-XXXXXX");
	if (mkdtemp(top) == NULL || git("init", "-q", NULL, NULL) == -1)
		return -1;
	for (i = 1; i <= 5; i++) {
		snprintf(path, sizeof(path), "%s/v", top);
		if ((f = fopen(path, "w")) == NULL)
			return -1;
		fprintf(f, "%d\n", i);
		fclose(f);
		snprintf(tag, sizeof(tag), "c%d", i);
		if (git("add", "v", NULL, NULL) == -1 ||
		    git("commit", "-q", "-m", tag) == -1 ||
		    git("tag", tag, NULL, NULL) == -1)
			return -1;
	}
	return 0;
}

TEST(candidates_are_good_then_the_commits_up_to_bad)
{
	struct bisect_rev *revs = NULL;
	char *cause = NULL;
	int n = 0;

	REQUIRE(make_repo() == 0);
	CHECK_EQ_INT(
	    bisect_build_candidates(top, "c2", "c5", 100, &revs, &n, &cause),
	    0);
	REQUIRE(n == 4);
	CHECK_STR_EQ(revs[0].subject, "c2");
	CHECK_STR_EQ(revs[3].subject, "c5");
	CHECK_EQ_INT(strlen(revs[1].id), 40);
	free(revs);
	/* bad before good, an option as a revision, too many */
	CHECK_EQ_INT(
	    bisect_build_candidates(top, "c4", "c2", 100, &revs, &n, &cause),
	    -1);
	CHECK(cause != NULL);
	free(cause);
	cause = NULL;
	CHECK_EQ_INT(
	    bisect_build_candidates(top, "--all", "c2", 100, &revs, &n, &cause),
	    -1);
	free(cause);
	cause = NULL;
	CHECK_EQ_INT(
	    bisect_build_candidates(top, "c1", "c5", 3, &revs, &n, &cause), -1);
	free(cause);
	bisect_build_remove(top);
}

TEST(a_revision_builds_in_its_own_checkout)
{
	const char *ok[] = { "sh", "-c", "cp v image && echo built", NULL };
	const char *bad[] = { "sh", "-c", "echo broken; exit 2", NULL };
	char dir[128], img[256], line[16], hex[65], hex2[65], blobs[128];
	struct wf_buf log;
	char *cause = NULL;
	FILE *f;

	REQUIRE(make_repo() == 0);
	snprintf(dir, sizeof(dir), "%s/b3", top);
	wf_buf_init(&log, 1 << 16);
	CHECK_EQ_INT(
	    bisect_build_rev(top, "c3", dir, ok, 30, "image", &log, &cause), 0);
	CHECK_STR_CONTAINS(wf_buf_str(&log), "built");
	snprintf(img, sizeof(img), "%s/image", dir);
	REQUIRE((f = fopen(img, "r")) != NULL);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_STR_EQ(line, "3\n");
	fclose(f);
	/* the image into the blob store, by digest; twice is the same */
	snprintf(blobs, sizeof(blobs), "%s/blobs", top);
	CHECK_EQ_INT(bisect_build_sha256_file(img, hex, &cause), 0);
	CHECK_EQ_INT(bisect_build_blob_put(blobs, img, hex2, &cause), 0);
	CHECK_STR_EQ(hex, hex2);
	CHECK_EQ_INT(bisect_build_blob_put(blobs, img, hex2, &cause), 0);
	CHECK_STR_EQ(hex, SHA_3); /* sha256sum of "3\n" */
	snprintf(img, sizeof(img), "%s/%s", blobs, hex);
	CHECK(access(img, R_OK) == 0);
	bisect_build_remove(dir);
	CHECK(access(dir, F_OK) == -1);
	/* a failing build is 1, its output kept */
	wf_buf_reset(&log);
	CHECK_EQ_INT(
	    bisect_build_rev(top, "c3", dir, bad, 30, "image", &log, &cause),
	    1);
	CHECK_STR_CONTAINS(wf_buf_str(&log), "broken");
	bisect_build_remove(dir);
	/* a revision that does not exist: the checkout fails */
	CHECK_EQ_INT(
	    bisect_build_rev(top, "nope", dir, ok, 30, "image", &log, &cause),
	    -1);
	CHECK(cause != NULL);
	free(cause);
	wf_buf_free(&log);
	bisect_build_remove(top);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
