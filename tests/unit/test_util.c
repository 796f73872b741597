/*
 * test_util.c: unit tests for lib/util: clocks, bounded copy, hex and the
 * cause convention.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "test.h"

#include "util.h"

TEST(monotonic_clocks_advance)
{
	int64_t ms = wf_now_ms(), us = wf_now_us();

	usleep(20000);
	CHECK(wf_now_ms() - ms >= 19);
	CHECK(wf_now_us() - us >= 19000);
	CHECK(wf_now_us() / 1000 >= wf_now_ms() - 1);
}

TEST(strlcpy_truncates_and_terminates)
{
	char dst[4];

	CHECK_EQ_INT(wf_strlcpy(dst, "ab", sizeof dst), 2);
	CHECK_STR_EQ(dst, "ab");
	CHECK_EQ_INT(wf_strlcpy(dst, "abcdef", sizeof dst), 6);
	CHECK_STR_EQ(dst, "abc");
	dst[0] = 'x';
	CHECK_EQ_INT(wf_strlcpy(dst, "abc", 0), 3);
	CHECK(dst[0] == 'x');
}

TEST(hex)
{
	static const unsigned char data[] = { 0x00, 0x7f, 0xa5, 0xff };
	char out[9];

	wf_hex(out, data, sizeof data);
	CHECK_STR_EQ(out, "007fa5ff");
	wf_hex(out, data, 0);
	CHECK_STR_EQ(out, "");
}

TEST(set_cause_replaces_and_tolerates_null)
{
	char *cause = NULL;

	wf_set_cause(&cause, "key \"%s\" is %d", "cpus", 3);
	CHECK_STR_EQ(cause, "key \"cpus\" is 3");
	wf_set_cause(&cause, "second");
	CHECK_STR_EQ(cause, "second");
	wf_set_cause(NULL, "nobody wants %s", "this");
	CHECK_STR_EQ(wf_cause_str(cause), "second");
	CHECK_STR_EQ(wf_cause_str(NULL), "out of memory");
	free(cause);
}

/* Guest output cut anywhere, or not UTF-8 at all, comes out as valid text. */
TEST(text_clean_untrusted_bytes)
{
	/* "é" is c3 a9: a cut between its bytes leaves c3 alone */
	static const char cut_char[] = "ab\xc3";
	static const char mixed[] = "ok\xff\xfe\x01\t\xef\xbf\xbf\xed\xa0\x80"
	                            "\xc0\xaf\xe2\x82\xac\xf0\x9f\x98\x80";
	char *s;
	int cut = -1;

	s = wf_text_clean(cut_char, 3, 100, &cut);
	CHECK_STR_EQ(s, "ab\xef\xbf\xbd");
	CHECK_EQ_INT(cut, 0);
	CHECK(json_string(s) != NULL);
	free(s);
	/* 0xff, 0xfe, SOH, U+FFFF, a surrogate (3 bytes), an overlong "/" (2) */
	s = wf_text_clean(mixed, sizeof(mixed) - 1, 1000, NULL);
	CHECK_STR_EQ(s,
	    "ok\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\t\xef\xbf\xbd"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "\xe2\x82\xac\xf0\x9f\x98\x80");
	free(s);
	/* The cap cuts between characters, never inside one. */
	s = wf_text_clean("a\xe2\x82\xac", 4, 3, &cut);
	CHECK_STR_EQ(s, "a");
	CHECK_EQ_INT(cut, 1);
	free(s);
	s = wf_text_clean("a\0b", 3, 10, NULL);
	CHECK_STR_EQ(s,
	    "a\xef\xbf\xbd"
	    "b");
	free(s);
	s = wf_text_clean("", 0, 0, &cut);
	CHECK_STR_EQ(s, "");
	CHECK_EQ_INT(cut, 0);
	free(s);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
