/*
 * ctest_cli.c: the CLI's controller commands (bin/wakefarm submit,
 * status, show, logs, cancel, hosts) against the suite's controller, with
 * the test playing the agent .
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "suite.h"
#include "../unit/test.h"

TEST(cli_submit_wait_and_read)
{
	const char *const ok_args[] = { "submit", "quirk-v1-short-entry",
		"--wait", NULL };
	const char *const bad_args[] = { "submit", "cold-boot", "--set",
		"cpus=2", "--set", "mailbox_version=1", "--wait", NULL };
	char out[16384], jobarg[32], runarg[32];
	struct cli c;
	json_int_t job;
	int rc;

	/* Every job as expected: exit 0, with progress lines. */
	cli_start(&c, submitter, ok_args);
	job = agent_runs_next("quirk-v1-short-entry.records", "completed");
	CHECK(job > 0);
	rc = cli_wait(&c, out, sizeof(out));
	CHECK_EQ_INT(rc, 0);
	CHECK_STR_CONTAINS(out, "1 jobs (adhoc)");
	CHECK_STR_CONTAINS(out, "1/1 jobs done, 0 not as expected (done)");

	/* One job whose records do not meet its expectation: exit 1. */
	cli_start(&c, submitter, bad_args);
	job = agent_runs_next("quirk-v1-short-entry.records", "completed");
	CHECK(job > 0);
	rc = cli_wait(&c, out, sizeof(out));
	CHECK_EQ_INT(rc, 1);
	CHECK_STR_CONTAINS(out, "1 not as expected");
	CHECK_STR_CONTAINS(out, "madt-entry\"");
	CHECK_STR_CONTAINS(
	    out, "], expected pass [] (check madt-entry failed)");

	snprintf(jobarg, sizeof(jobarg), "%lld", (long long)job);
	{
		const char *const a[] = { "show", jobarg, NULL };

		CHECK_EQ_INT(cli(NULL, a, out, sizeof(out)), 0);
		CHECK_STR_CONTAINS(out, "FAILED madt-entry (gen 1)");
		CHECK_STR_CONTAINS(out, "NOT as expected");
	}
	{
		const char *const a[] = { "logs", jobarg, "--port", "records",
			NULL };

		CHECK_EQ_INT(cli(NULL, a, out, sizeof(out)), 0);
		CHECK_STR_CONTAINS(out, "\"ev\":\"fw-ready\"");
	}
	{
		const char *const a[] = { "status", NULL };

		CHECK_EQ_INT(cli(NULL, a, out, sizeof(out)), 0);
		CHECK_STR_CONTAINS(out, "UNEXPECTED");
	}
	{
		const char *const a[] = { "hosts", NULL };

		CHECK_EQ_INT(cli(NULL, a, out, sizeof(out)), 0);
		CHECK_STR_CONTAINS(out, "h1");
	}
	{
		const char *const a[] = { "submit", "kexec-chain", NULL };
		json_int_t run;

		CHECK_EQ_INT(cli(submitter, a, out, sizeof(out)), 0);
		run = atoll(out + 4); /* "run N: ..." */
		snprintf(runarg, sizeof(runarg), "%lld", (long long)run);
	}
	{
		const char *const a[] = { "status", runarg, NULL };

		CHECK_EQ_INT(cli(NULL, a, out, sizeof(out)), 0);
		CHECK_STR_CONTAINS(out, "0/4 done");
	}
	{
		const char *const a[] = { "cancel", runarg, NULL };

		CHECK_EQ_INT(cli(reader, a, out, sizeof(out)), 1);
		CHECK_STR_CONTAINS(out, "the reader role may not do this");
		CHECK_EQ_INT(cli(submitter, a, out, sizeof(out)), 0);
		CHECK_STR_CONTAINS(out, "4 jobs cancelled");
	}
	{
		const char *const a[] = { "submit", "no-such-scenario", NULL };

		CHECK_EQ_INT(cli(submitter, a, out, sizeof(out)), 1);
		CHECK_STR_CONTAINS(out, "no scenario named 'no-such-scenario'");
	}
	cancel_all();
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_cli", test_main);
}
