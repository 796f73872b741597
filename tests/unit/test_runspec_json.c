/* test_runspec_json.c: a run spec to and from JSON (lib/runspec_json.c). */
#include <stdlib.h>
#include <string.h>

#include "runspec_json.h"
#include "test.h"

static int
from(const char *text, struct runspec *rs, char **cause)
{
	json_t *j = json_loads(text, 0, NULL);
	int rc;

	if (j == NULL)
		return -2;
	rc = runspec_from_json(j, rs, cause);
	json_decref(j);
	return rc;
}

TEST(every_key_is_optional)
{
	struct runspec rs, def;
	char *cause = NULL;

	runspec_init(&def);
	CHECK_EQ_INT(from("{}", &rs, &cause), 0);
	CHECK_EQ_INT(rs.cpus, def.cpus);
	CHECK_EQ_INT(rs.mailbox_version, def.mailbox_version);
	CHECK_STR_EQ(rs.policy, def.policy);
	CHECK_EQ_INT(rs.memory_mb, def.memory_mb);
	CHECK_EQ_INT(rs.timeout_s, def.timeout_s);
}

TEST(fields_are_read)
{
	struct runspec rs;
	char *cause = NULL;

	CHECK_EQ_INT(
	    from(
	        "{\"cpus\": 4, \"mailbox_version\": 0, \"policy\":"
	        " \"pre-6.11\", \"steps\": \"kexec*2\", \"quirks\": \"no-test-ack\","
	        " \"memory_mb\": 64, \"timeout_s\": 9, \"kdump_cpus\": 1}",
	        &rs, &cause),
	    0);
	CHECK_EQ_INT(rs.cpus, 4);
	CHECK_EQ_INT(rs.mailbox_version, 0);
	CHECK_STR_EQ(rs.policy, "pre-6.11");
	CHECK_STR_EQ(rs.steps, "kexec*2");
	CHECK_STR_EQ(rs.quirks, "no-test-ack");
	CHECK_EQ_INT(rs.memory_mb, 64);
	CHECK_EQ_INT(rs.timeout_s, 9);
	CHECK_EQ_INT(rs.kdump_cpus, 1);
	free(cause);
}

TEST(a_spec_survives_the_round_trip)
{
	struct runspec a, b;
	char *cause = NULL;
	json_t *j;

	REQUIRE(from("{\"cpus\": 3, \"mailbox_version\": 1, \"steps\":"
	             " \"kexec,crash@1\", \"timeout_s\": 20}",
	            &a, &cause) == 0);
	j = runspec_to_json(&a);
	REQUIRE(j != NULL);
	CHECK_EQ_INT(runspec_from_json(j, &b, &cause), 0);
	CHECK_EQ_INT(b.cpus, 3);
	CHECK_STR_EQ(b.steps, a.steps);
	CHECK_EQ_INT(b.timeout_s, 20);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	json_decref(j);
}

TEST(unknown_keys_wrong_types_and_bad_values_are_refused)
{
	static const char *const bad[] = {
		"{\"cpuz\": 2}",
		"{\"cpus\": \"2\"}",
		"{\"cpus\": 0}",
		"{\"cpus\": 65}",
		"{\"mailbox_version\": 2}",
		"{\"policy\": \"5.0\"}",
		"{\"steps\": 7}",
		"{\"memory_mb\": 1}",
		"[]",
	};
	struct runspec rs;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *cause = NULL;

		CHECK_EQ_INT(from(bad[i], &rs, &cause), -1);
		CHECK(cause != NULL && cause[0] != '\0');
		if (cause == NULL)
			printf("  no cause for %s\n", bad[i]);
		free(cause);
	}
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
