/*
 * test.h: the unit-test harness, header only. Each test binary is one .c
 * file that includes this header, defines tests with TEST(name) and ends
 * with
 *
 *	int main(int argc, char **argv) { return test_main(argc, argv); }
 *
 * Tests run in definition order. Each prints "ok NAME" or "FAIL NAME"; the
 * last line is "N passed, N failed" (what tests/run reads), and the exit
 * status is 1 when anything failed. "./test_x NAME..." runs only the named
 * tests. CHECK* record a failure and carry on; REQUIRE stops the test (for
 * a pointer the rest of the test would dereference).
 */
#ifndef WF_TEST_H
#define WF_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_MAX 256

struct test_case {
	const char *name;
	void (*fn)(void);
};

static struct test_case test_cases[TEST_MAX];
static int test_ncases;
static int test_nfailed_checks; /* in the test running now */

static void
test_register(const char *name, void (*fn)(void))
{
	if (test_ncases == TEST_MAX) {
		fprintf(stderr, "test.h: more than %d tests\n", TEST_MAX);
		abort();
	}
	test_cases[test_ncases].name = name;
	test_cases[test_ncases].fn = fn;
	test_ncases++;
}

/* Constructors register each test before main without a hand-kept list. */
#define TEST(name)                                                          \
	static void test_##name(void);                                      \
	__attribute__((constructor)) static void test_register_##name(void) \
	{                                                                   \
		test_register(#name, test_##name);                          \
	}                                                                   \
	static void test_##name(void)

static void
test_failed(const char *file, int line, const char *what)
{
	printf("  %s:%d: %s\n", file, line, what);
	fflush(stdout);
	test_nfailed_checks++;
}

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond))                                                 \
			test_failed(__FILE__, __LINE__, "CHECK(" #cond ")"); \
	} while (0)

#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			test_failed(__FILE__, __LINE__, "REQUIRE(" #cond ")"); \
			return;                                                \
		}                                                              \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                    \
	do {                                                                  \
		long long test_a_ = (long long)(a), test_b_ = (long long)(b); \
		if (test_a_ != test_b_) {                                     \
			char test_msg_[512];                                  \
			snprintf(test_msg_, sizeof test_msg_,                 \
			    "CHECK_EQ_INT(%s, %s): %lld != %lld", #a, #b,     \
			    test_a_, test_b_);                                \
			test_failed(__FILE__, __LINE__, test_msg_);           \
		}                                                             \
	} while (0)

#define CHECK_STR_EQ(a, b)                                                    \
	do {                                                                  \
		const char *test_a_ = (a), *test_b_ = (b);                    \
		if (test_a_ == NULL || test_b_ == NULL ||                     \
		    strcmp(test_a_, test_b_) != 0) {                          \
			char test_msg_[1024];                                 \
			snprintf(test_msg_, sizeof test_msg_,                 \
			    "CHECK_STR_EQ(%s, %s): \"%.400s\" != \"%.400s\"", \
			    #a, #b, test_a_ ? test_a_ : "(null)",             \
			    test_b_ ? test_b_ : "(null)");                    \
			test_failed(__FILE__, __LINE__, test_msg_);           \
		}                                                             \
	} while (0)

/* haystack contains needle (for messages whose exact wording may grow). */
#define CHECK_STR_CONTAINS(haystack, needle)                                           \
	do {                                                                           \
		const char *test_h_ = (haystack), *test_n_ = (needle);                 \
		if (test_h_ == NULL || strstr(test_h_, test_n_) == NULL) {             \
			char test_msg_[1024];                                          \
			snprintf(test_msg_, sizeof test_msg_,                          \
			    "CHECK_STR_CONTAINS(%s, %s): \"%.400s\" lacks \"%.400s\"", \
			    #haystack, #needle, test_h_ ? test_h_ : "(null)",          \
			    test_n_);                                                  \
			test_failed(__FILE__, __LINE__, test_msg_);                    \
		}                                                                      \
	} while (0)

static int
test_selected(int argc, char **argv, const char *name)
{
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], name) == 0)
			return 1;
	}
	return 0;
}

static int
test_main(int argc, char **argv)
{
	int i, passed = 0, failed = 0;

	/* Lines must reach a pipe in order with any output of forked children. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < test_ncases; i++) {
		if (!test_selected(argc, argv, test_cases[i].name))
			continue;
		test_nfailed_checks = 0;
		test_cases[i].fn();
		if (test_nfailed_checks == 0) {
			printf("ok %s\n", test_cases[i].name);
			passed++;
		} else {
			printf("FAIL %s\n", test_cases[i].name);
			failed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed > 0 ? 1 : 0;
}

#endif
