/*
 * golden.h: golden files for what the tests generate (domain XML, the JUnit
 * export).
 *
 * A test makes its output independent of the checkout and of the run
 * (golden_replace: the checkout's path becomes @TOP@, a run's unique part
 * @RUN@), then compares it with its golden file (tests/golden/, tests/e2e/golden/,
 * tests/controller/golden/).  With
 * REGENERATE=1 in the environment the file is rewritten instead.
 */
#ifndef WF_TESTS_GOLDEN_H
#define WF_TESTS_GOLDEN_H

/* s with every occurrence of from (not empty) replaced by to; malloc'd, NULL if out of memory. */
char *golden_replace(const char *s, const char *from, const char *to);

/*
 * Compares text with the golden file path; name is how messages call the
 * file (its path in the checkout).  0 when they are equal, or when
 * REGENERATE=1 wrote text to path (then *regenerated is 1).  -1 with a
 * malloc'd *cause that the caller frees: the file could not be read or
 * written, or the lines that differ, as a diff from the golden file to
 * text (several lines, the first of them a summary naming the file).
 */
int golden_check(const char *path, const char *name, const char *text,
    int *regenerated, char **cause);

#endif
