/*
 * test_strdist.c: lib/strdist.c's edit distance and "did you mean", and
 * lib/repro_line.c's reproduction lines (quoting, blobs, packages).
 */
#include <stdlib.h>
#include <string.h>

#include "repro_line.h"
#include "strdist.h"
#include "test.h"

TEST(distances)
{
	CHECK_EQ_INT((int)wf_strdist("", ""), 0);
	CHECK_EQ_INT((int)wf_strdist("abc", ""), 3);
	CHECK_EQ_INT((int)wf_strdist("nigthly", "nightly"), 2);
	CHECK_EQ_INT((int)wf_strdist("cpus-onlin", "cpus-online"), 1);
	CHECK_EQ_INT((int)wf_strdist("kitten", "sitting"), 3);
}

TEST(nearest_only_when_close)
{
	static const char *const names[] = { "cpus", "nightly", "policy",
		"cpus-online", NULL };

	CHECK_STR_EQ(wf_nearest("nigthly", names), "nightly");
	CHECK_STR_EQ(wf_nearest("cpuz", names), "cpus");
	CHECK_STR_EQ(wf_nearest("cpus-onlin", names), "cpus-online");
	CHECK(wf_nearest("memory", names) == NULL);
	CHECK(wf_nearest("x", names) == NULL);
}

TEST(run_qemu_line_quotes_and_fetches)
{
	struct runspec rs;
	char *s;

	runspec_init(&rs);
	rs.cpus = 4;
	strcpy(rs.steps, "kexec*2;offline:1");
	strcpy(rs.quirks, "no-test-ack,slow-ack=5");
	strcpy(rs.test_kernel,
	    "sha256:"
	    "00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff");
	s = repro_run_qemu_line(&rs, "http://farm:8080");
	REQUIRE(s != NULL);
	CHECK_STR_CONTAINS(
	    s, "curl -fsSo test-kernel.elf http://farm:8080/api/v1/blobs/0011");
	CHECK_STR_CONTAINS(s, "sha256sum -c - && guest/run-qemu --cpus 4");
	CHECK_STR_CONTAINS(s, " --steps 'kexec*2;offline:1'");
	CHECK_STR_CONTAINS(s, " --quirk no-test-ack --quirk slow-ack=5");
	CHECK_STR_CONTAINS(s, " --test-kernel test-kernel.elf");
	free(s);
	runspec_init(&rs);
	strcpy(rs.kernel_package, "linux-image-cloud-amd64");
	strcpy(rs.append, "it's");
	s = repro_run_qemu_line(&rs, "http://farm:8080");
	REQUIRE(s != NULL);
	CHECK_STR_CONTAINS(s,
	    "k=$(lib/sh/fetch-kernel.sh linux-image-cloud-amd64 build/kernels) && ");
	CHECK_STR_CONTAINS(s, " --kernel \"$k\" --append 'it'\\''s'");
	CHECK(strstr(s, "--policy") == NULL);
	free(s);
	s = repro_cli_line("https://farm", 42);
	CHECK_STR_EQ(s, "wakefarm --server https://farm repro 42");
	free(s);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
