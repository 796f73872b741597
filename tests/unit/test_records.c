/*
 * test_records.c: the report-record reader with garbage, partial lines,
 * overlong lines and non-UTF-8 bytes: dropped and counted, never a crash.
 */
#include <string.h>

#include "records.h"
#include "test.h"

static json_t *got;

static void
collect(void *arg, json_t *rec)
{
	(void)arg;
	json_array_append_new(got, rec);
}

static struct records_reader
feed(const char *data, size_t n, size_t chunk)
{
	struct records_reader r;

	records_reader_init(&r);
	json_array_clear(got);
	for (size_t i = 0; i < n; i += chunk)
		records_reader_feed(
		    &r, data + i, n - i < chunk ? n - i : chunk, collect, NULL);
	records_reader_finish(&r);
	return r;
}

#define GOOD \
	"{\"v\":1,\"src\":\"os\",\"gen\":1,\"ev\":\"boot\",\"t_us\":5,\"kind\":\"cold\",\"cpu\":0}\n"

TEST(good_records_in_any_chunking)
{
	const char in[] = GOOD GOOD GOOD;

	for (size_t chunk = 1; chunk < sizeof(in); chunk += 7) {
		struct records_reader r = feed(in, sizeof(in) - 1, chunk);

		CHECK_EQ_INT(json_array_size(got), 3);
		CHECK_EQ_INT(records_reader_dropped(&r), 0);
	}
}

TEST(garbage_is_dropped_and_counted)
{
	const char in[] = "hello\n{\"v\":1}\n[1,2]\n" GOOD "{not json\n" GOOD;
	struct records_reader r = feed(in, sizeof(in) - 1, 5);

	CHECK_EQ_INT(json_array_size(got), 2);
	CHECK_EQ_INT(r.dropped_invalid, 4);
}

TEST(non_ascii_and_control_bytes)
{
	const char in[] =
	    "{\"v\":1,\"src\":\"os\",\"gen\":1,\"ev\":\"boot\",\"t_us\":5,\"x\":\"\xff\xfe\"}\n"
	    "\x01\x02\x03\n" GOOD;
	struct records_reader r = feed(in, sizeof(in) - 1, 3);

	CHECK_EQ_INT(json_array_size(got), 1);
	CHECK_EQ_INT(r.dropped_binary, 2);
	CHECK(strstr(r.last_cause, "printable ASCII") != NULL);
}

TEST(overlong_line_is_dropped_whole)
{
	size_t n = 10000;
	char *in = malloc(n + sizeof(GOOD));

	REQUIRE(in);
	memset(in, 'a', n);
	in[n - 1] = '\n';
	memcpy(in + n, GOOD, sizeof(GOOD));
	{
		struct records_reader r = feed(in, n + sizeof(GOOD) - 1, 4096);

		CHECK_EQ_INT(json_array_size(got), 1);
		CHECK_EQ_INT(r.dropped_overlong, 1);
	}
	free(in);
}

TEST(partial_last_line)
{
	const char in[] = GOOD "{\"v\":1,\"src\":\"os\"";
	struct records_reader r = feed(in, sizeof(in) - 1, 64);

	CHECK_EQ_INT(json_array_size(got), 1);
	CHECK_EQ_INT(r.dropped_partial, 1);
}

TEST(contract_keys_are_checked)
{
	static const char *const bad[] = {
		"{\"v\":2,\"src\":\"os\",\"gen\":1,\"ev\":\"boot\",\"t_us\":5}",
		"{\"v\":1,\"src\":\"vm\",\"gen\":1,\"ev\":\"boot\",\"t_us\":5}",
		"{\"v\":1,\"src\":\"os\",\"gen\":-1,\"ev\":\"boot\",\"t_us\":5}",
		"{\"v\":1,\"src\":\"os\",\"gen\":1,\"ev\":\"Boot!\",\"t_us\":5}",
		"{\"v\":1,\"src\":\"os\",\"gen\":1,\"ev\":\"boot\"}",
		"{\"v\":1,\"src\":\"os\",\"gen\":1,\"ev\":\"boot\",\"t_us\":1e400}",
		"{\"v\":1,\"src\":\"os\",\"gen\":1,\"ev\":\"boot\",\"t_us\":5,\"t_us\":6}",
		NULL,
	};

	for (int i = 0; bad[i]; i++) {
		char *cause = NULL;
		json_t *r = records_parse(bad[i], strlen(bad[i]), &cause);

		CHECK(r == NULL);
		CHECK(cause != NULL);
		json_decref(r);
		free(cause);
	}
}

int
main(int argc, char **argv)
{
	int rc;

	got = json_array();
	rc = test_main(argc, argv);
	json_decref(got);
	return rc;
}
