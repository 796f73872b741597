/*
 * test_buf.c: unit tests for lib/buf (capped growable buffer).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "test.h"

TEST(empty_is_empty_string)
{
	struct wf_buf b;

	wf_buf_init(&b, 16);
	CHECK_STR_EQ(wf_buf_str(&b), "");
	CHECK_EQ_INT(b.len, 0);
	CHECK_EQ_INT(b.truncated, 0);
	wf_buf_free(&b);
	wf_buf_free(NULL);
}

TEST(append_grows_and_terminates)
{
	struct wf_buf b;
	char chunk[100];
	int i;

	memset(chunk, 'x', sizeof chunk);
	wf_buf_init(&b, 100000);
	for (i = 0; i < 500; i++)
		CHECK_EQ_INT(wf_buf_append(&b, chunk, sizeof chunk), 0);
	CHECK_EQ_INT(b.len, 50000);
	CHECK_EQ_INT(strlen(wf_buf_str(&b)), 50000);
	CHECK(b.alloc > b.len);
	wf_buf_free(&b);
	CHECK(b.data == NULL);
	CHECK_EQ_INT(b.len, 0);
}

TEST(append_up_to_cap_exactly)
{
	struct wf_buf b;

	wf_buf_init(&b, 8);
	CHECK_EQ_INT(wf_buf_append(&b, "abcd", 4), 0);
	CHECK_EQ_INT(wf_buf_append(&b, "efgh", 4), 0);
	CHECK_STR_EQ(wf_buf_str(&b), "abcdefgh");
	CHECK_EQ_INT(b.truncated, 0);
	CHECK(b.alloc <= 9);
	wf_buf_free(&b);
}

TEST(append_past_cap_fails_whole)
{
	struct wf_buf b;

	wf_buf_init(&b, 8);
	CHECK_EQ_INT(wf_buf_append(&b, "abcdef", 6), 0);
	CHECK_EQ_INT(wf_buf_append(&b, "ghi", 3), -1);
	CHECK_EQ_INT(b.truncated, 1);
	CHECK_STR_EQ(wf_buf_str(&b), "abcdef");
	CHECK_EQ_INT(b.len, 6);
	/* What still fits is still accepted; the flag stays set. */
	CHECK_EQ_INT(wf_buf_append(&b, "gh", 2), 0);
	CHECK_STR_EQ(wf_buf_str(&b), "abcdefgh");
	CHECK_EQ_INT(b.truncated, 1);
	wf_buf_free(&b);
}

TEST(binary_data_with_nul)
{
	struct wf_buf b;

	wf_buf_init(&b, 64);
	CHECK_EQ_INT(wf_buf_append(&b, "a\0b", 3), 0);
	CHECK_EQ_INT(b.len, 3);
	CHECK(memcmp(b.data, "a\0b", 4) == 0);
	wf_buf_free(&b);
}

TEST(printf_formats_and_grows)
{
	struct wf_buf b;
	int i;

	wf_buf_init(&b, 1 << 20);
	CHECK_EQ_INT(wf_buf_printf(&b, "%s=%d", "slots", 4), 0);
	CHECK_STR_EQ(wf_buf_str(&b), "slots=4");
	for (i = 0; i < 1000; i++)
		CHECK_EQ_INT(wf_buf_printf(&b, ",%04d", i), 0);
	CHECK_EQ_INT(b.len, 7 + 5000);
	CHECK(strncmp(wf_buf_str(&b) + b.len - 5, ",0999", 5) == 0);
	CHECK_EQ_INT(strlen(wf_buf_str(&b)), b.len);
	wf_buf_free(&b);
}

TEST(printf_past_cap_leaves_contents)
{
	struct wf_buf b;

	wf_buf_init(&b, 10);
	CHECK_EQ_INT(wf_buf_printf(&b, "%s", "12345"), 0);
	CHECK_EQ_INT(wf_buf_printf(&b, "%s", "678901"), -1);
	CHECK_EQ_INT(b.truncated, 1);
	CHECK_STR_EQ(wf_buf_str(&b), "12345");
	CHECK_EQ_INT(b.len, 5);
	wf_buf_free(&b);
}

TEST(printf_fits_in_spare_room)
{
	struct wf_buf b;

	wf_buf_init(&b, 1000);
	CHECK_EQ_INT(wf_buf_append(&b, "x", 1), 0);
	wf_buf_reset(&b);
	CHECK_STR_EQ(wf_buf_str(&b), "");
	CHECK_EQ_INT(wf_buf_printf(&b, "%d", 42), 0);
	CHECK_STR_EQ(wf_buf_str(&b), "42");
	wf_buf_free(&b);
}

TEST(reset_clears_truncated)
{
	struct wf_buf b;

	wf_buf_init(&b, 2);
	CHECK_EQ_INT(wf_buf_append(&b, "abc", 3), -1);
	CHECK_EQ_INT(b.truncated, 1);
	wf_buf_reset(&b);
	CHECK_EQ_INT(b.truncated, 0);
	CHECK_EQ_INT(wf_buf_append(&b, "ab", 2), 0);
	wf_buf_free(&b);
}

TEST(zero_cap_holds_nothing)
{
	struct wf_buf b;

	wf_buf_init(&b, 0);
	CHECK_EQ_INT(wf_buf_append(&b, "", 0), 0);
	CHECK_STR_EQ(wf_buf_str(&b), "");
	CHECK_EQ_INT(wf_buf_append(&b, "a", 1), -1);
	CHECK_EQ_INT(b.truncated, 1);
	wf_buf_free(&b);
}

TEST(steal_hands_over)
{
	struct wf_buf b;
	char *s;

	wf_buf_init(&b, 32);
	s = wf_buf_steal(&b);
	REQUIRE(s != NULL);
	CHECK_STR_EQ(s, "");
	free(s);
	CHECK_EQ_INT(wf_buf_printf(&b, "job %d", 7), 0);
	s = wf_buf_steal(&b);
	CHECK_STR_EQ(s, "job 7");
	CHECK(b.data == NULL);
	CHECK_EQ_INT(b.len, 0);
	CHECK_EQ_INT(b.cap, 32);
	free(s);
}

TEST(xml_escapes_the_five_and_control_characters)
{
	struct wf_buf b;

	wf_buf_init(&b, 1024);
	CHECK_EQ_INT(wf_buf_xml(&b, "a<b>&'\"c"), 0);
	CHECK_STR_EQ(wf_buf_str(&b), "a&lt;b&gt;&amp;&apos;&quot;c");
	wf_buf_reset(&b);
	CHECK_EQ_INT(wf_buf_xml(&b, "x\001y\tz\n\r"), 0);
	CHECK_STR_EQ(wf_buf_str(&b), "x?y\tz\n?");
	wf_buf_reset(&b);
	CHECK_EQ_INT(wf_buf_xml(&b, NULL), 0);
	CHECK_EQ_INT(b.len, 0);
	wf_buf_free(&b);
	wf_buf_init(&b, 4);
	CHECK_EQ_INT(wf_buf_xml(&b, "&&"), -1); /* over the cap */
	CHECK(b.truncated);
	wf_buf_free(&b);
}

#define FFFD "\xef\xbf\xbd"

TEST(xml_is_well_formed_for_any_bytes)
{
	struct wf_buf b;

	wf_buf_init(&b, 1024);
	/* U+FFFF and U+FFFE are not XML characters (issue 16, item 2) */
	CHECK_EQ_INT(wf_buf_xml(&b,
	                 "a\xef\xbf\xbf"
	                 "b\xef\xbf\xbe"
	                 "c"),
	    0);
	CHECK_STR_EQ(wf_buf_str(&b), "a" FFFD "b" FFFD "c");
	wf_buf_reset(&b);
	/* ill-formed UTF-8: a stray byte, an overlong NUL, a surrogate,
	 * past U+10FFFF, a sequence cut short at the end */
	CHECK_EQ_INT(
	    wf_buf_xml(
	        &b, "\xff|\xc0\x80|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82"),
	    0);
	CHECK_STR_EQ(wf_buf_str(&b),
	    FFFD "|" FFFD FFFD "|" FFFD FFFD FFFD "|" FFFD FFFD FFFD FFFD
	         "|" FFFD FFFD);
	wf_buf_reset(&b);
	/* well-formed characters stay as they are; DEL and NUL do not */
	CHECK_EQ_INT(wf_buf_xmln(&b,
	                 "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
	                 "\x7f\x00z",
	                 12),
	    0);
	CHECK_STR_EQ(wf_buf_str(&b), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80??z");
	wf_buf_free(&b);
}

/* Every output of random bytes is UTF-8 made of XML characters only. */
TEST(xml_of_random_bytes_holds_only_xml_characters)
{
	unsigned char in[64];
	unsigned long cp;
	unsigned int seed = 42;
	struct wf_buf b;
	size_t i, k, n, bad = 0;
	int round;

	for (round = 0; round < 20000; round++) {
		n = (size_t)(rand_r(&seed) % sizeof(in));
		for (i = 0; i < n; i++)
			in[i] = (unsigned char)(rand_r(&seed) & 0xff);
		wf_buf_init(&b, 1 << 16);
		wf_buf_xmln(&b, in, n);
		for (i = 0; i < b.len; i += k) {
			k = wf_utf8_next(
			    (unsigned char *)b.data + i, b.len - i, &cp);
			if (k == 0 || cp == '<' || cp == '>' || cp == '"' ||
			    cp == '\'' ||
			    (cp < 0x20 && cp != '\t' && cp != '\n') ||
			    cp == 0xfffe || cp == 0xffff) {
				bad++;
				break;
			}
		}
		wf_buf_free(&b);
	}
	CHECK_EQ_INT(bad, 0);
}

TEST(utf8_replaces_what_is_not_utf8)
{
	struct wf_buf b;

	wf_buf_init(&b, 1024);
	CHECK_EQ_INT(wf_buf_utf8(&b, "ok \xc3\xa9\xff\x00!\xe2", 9), 0);
	CHECK_STR_EQ(wf_buf_str(&b), "ok \xc3\xa9" FFFD FFFD "!" FFFD);
	wf_buf_free(&b);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
