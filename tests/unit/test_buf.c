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

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
