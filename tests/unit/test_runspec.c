/* test_runspec.c: run-spec validation (the step grammar of guest/run-qemu). */
#include <string.h>

#include "runspec.h"
#include "runspec_json.h"
#include "test.h"
#include "util.h"

static int
steps_ok(const char *s)
{
	char *cause = NULL;
	int rc = runspec_check_steps(s, &cause);

	free(cause);
	return rc == 0;
}

TEST(valid_steps)
{
	static const char *const ok[] = {
		"",
		"kexec",
		"kexec*5",
		"kexec:pre-6.11",
		"kexec:6.11*2",
		"cycle",
		"cycle*10",
		"offline:1,online:1",
		"crash@0",
		"offline:1,offline:2,kexec",
		"kexec*3,cycle*2,crash@1",
		"flood:1",
		"junk:4096",
		"flood:64,junk:2*3,kexec",
		NULL,
	};

	for (int i = 0; ok[i]; i++)
		CHECK(steps_ok(ok[i]));
}

TEST(invalid_steps_name_the_item)
{
	static const char *const bad[] = {
		"kexec*0",
		"kexec*1001",
		"kexec*",
		"kexec:5.10",
		"cycle*x",
		"offline",
		"offline:",
		"offline:64",
		"online:-1",
		"crash",
		"crash@1*2",
		"kexec,",
		",kexec",
		"boot",
		"kexec,,cycle",
		"crash@99999",
		"flood",
		"flood:",
		"flood:0",
		"flood:4097",
		"junk:x",
		"junk@1",
		"flood:12345",
		NULL,
	};

	for (int i = 0; bad[i]; i++) {
		char *cause = NULL;

		CHECK(runspec_check_steps(bad[i], &cause) == -1);
		CHECK(cause && strstr(cause, "step") != NULL);
		free(cause);
	}
}

/* flood and junk are the test kernel's: a Linux guest would report a bad step. */
TEST(flood_steps_are_not_for_linux)
{
	struct runspec rs;
	char *cause = NULL;

	runspec_init(&rs);
	strcpy(rs.steps, "flood:8");
	CHECK(runspec_validate(&rs, &cause) == 0);
	strcpy(rs.kernel, "/boot/vmlinuz");
	rs.memory_mb = RUNSPEC_LINUX_MB;
	CHECK(runspec_validate(&rs, &cause) == -1);
	CHECK(cause && strstr(cause, "flood") != NULL);
	free(cause);
}

TEST(fields_are_range_checked)
{
	struct runspec rs;
	char *cause = NULL;

	runspec_init(&rs);
	CHECK(runspec_validate(&rs, &cause) == 0);
	rs.cpus = 65;
	CHECK(runspec_validate(&rs, &cause) == -1);
	CHECK(cause && strstr(cause, "cpus") != NULL);
	runspec_init(&rs);
	strcpy(rs.policy, "5.10");
	CHECK(runspec_validate(&rs, &cause) == -1);
	CHECK(cause && strstr(cause, "policy") != NULL);
	runspec_init(&rs);
	strcpy(rs.quirks, "no-test-ack,bogus");
	CHECK(runspec_validate(&rs, &cause) == -1);
	CHECK(cause && strstr(cause, "bogus") != NULL);
	runspec_init(&rs);
	strcpy(rs.quirks, "slow-ack=50,clear-vector");
	CHECK(runspec_validate(&rs, &cause) == 0);
	free(cause);
}

TEST(guest_config_line)
{
	struct runspec rs;
	char *s;

	runspec_init(&rs);
	rs.mailbox_version = 0;
	strcpy(rs.steps, "kexec*2,crash@1");
	strcpy(rs.quirks, "stale-checksum");
	s = runspec_guest_config(&rs);
	REQUIRE(s);
	CHECK_STR_EQ(s,
	    "mailbox_version=0 policy=6.11 kdump_cpus=0 quirks=stale-checksum steps=kexec*2,crash@1");
	free(s);
	CHECK_EQ_INT(runspec_generations("kexec*2,crash@1"), 4);
	CHECK_EQ_INT(runspec_generations(""), 1);
}

static int
validate_append(const char *append, char **cause)
{
	struct runspec rs;

	runspec_init(&rs);
	strcpy(rs.steps, "kexec");
	wf_strlcpy(rs.append, append, sizeof(rs.append));
	return runspec_validate(&rs, cause);
}

TEST(append_for_the_test_kernel)
{
	static const char *const ok[] = { "", "flake=50 seed=7", "  flake=50  ",
		"x=", "steps.x=1", NULL };
	static const char *const reserved[] = { "policy=pre-6.11",
		"flake=1 steps=cycle", "quirks=no-test-ack",
		"mailbox_version=0", "kdump_cpus=1", "idle=halt", NULL };
	static const char *const malformed[] = { "quiet", "=5",
		"flake=1 nokaslr", NULL };
	struct runspec rs;
	char *cause = NULL, *s;

	for (int i = 0; ok[i]; i++)
		CHECK(validate_append(ok[i], &cause) == 0);
	for (int i = 0; reserved[i]; i++) {
		CHECK(validate_append(reserved[i], &cause) == -1);
		CHECK(cause && strstr(cause, "append") &&
		    strstr(cause, "runner sets"));
	}
	CHECK(validate_append("flake=1 steps=cycle", &cause) == -1);
	CHECK_STR_CONTAINS(cause, "'steps=cycle'");
	for (int i = 0; malformed[i]; i++) {
		CHECK(validate_append(malformed[i], &cause) == -1);
		CHECK(cause && strstr(cause, "KEY=VALUE"));
	}
	CHECK(validate_append("flake=5\tx", &cause) ==
	    -1); /* a control byte is not */
	CHECK(cause && strstr(cause, "printable ASCII"));

	/* the line has the tokens, after the runner's own keys */
	runspec_init(&rs);
	strcpy(rs.steps, "kexec");
	strcpy(rs.append, "flake=50 seed=7");
	s = runspec_guest_config(&rs);
	REQUIRE(s);
	CHECK_STR_EQ(s,
	    "mailbox_version=1 policy=6.11 kdump_cpus=0 steps=kexec flake=50 seed=7");
	free(s);
	s = runspec_guest_config_idle(&rs, "spin");
	REQUIRE(s);
	CHECK_STR_EQ(s,
	    "mailbox_version=1 policy=6.11 kdump_cpus=0 steps=kexec idle=spin flake=50 seed=7");
	free(s);
	/* a Linux guest's append is its command line, not the configuration's */
	strcpy(rs.kernel, "/boot/vmlinuz");
	s = runspec_guest_config(&rs);
	REQUIRE(s);
	CHECK_STR_EQ(
	    s, "mailbox_version=1 policy=6.11 kdump_cpus=0 steps=kexec");
	free(s);
	free(cause);
}

TEST(append_must_fit_the_guest_buffer)
{
	struct runspec rs;
	char *cause = NULL, *s;
	size_t base;

	/* the longest quirks and steps the fields take, then an append */
	runspec_init(&rs);
	strcpy(rs.policy, "pre-6.11");
	rs.kdump_cpus = 64;
	while (strlen(rs.quirks) + strlen(",no-test-ack") < sizeof(rs.quirks))
		strcat(
		    rs.quirks, rs.quirks[0] ? ",no-test-ack" : "no-test-ack");
	while (strlen(rs.steps) + strlen(",kexec") < sizeof(rs.steps))
		strcat(rs.steps, rs.steps[0] ? ",kexec" : "kexec");
	CHECK(runspec_validate(&rs, &cause) == 0);
	s = runspec_guest_config_idle(&rs, "halt");
	REQUIRE(s);
	base = strlen(s);
	free(s);
	REQUIRE(base + 2 < RUNSPEC_GUEST_CONFIG_MAX);
	/* " x=...": exactly at the limit passes, one more fails */
	memset(rs.append, 0, sizeof(rs.append));
	strcpy(rs.append, "x=");
	memset(rs.append + 2, 'a', RUNSPEC_GUEST_CONFIG_MAX - base - 1 - 2);
	CHECK(runspec_validate(&rs, &cause) == 0);
	s = runspec_guest_config_idle(&rs, "halt");
	REQUIRE(s);
	CHECK_EQ_INT((int)strlen(s), RUNSPEC_GUEST_CONFIG_MAX);
	free(s);
	strcat(rs.append, "a");
	CHECK(runspec_validate(&rs, &cause) == -1);
	CHECK(
	    cause && strstr(cause, "append") && strstr(cause, "at most 1023"));
	/* short fields leave room for the whole append */
	runspec_init(&rs);
	memset(rs.append, 0, sizeof(rs.append));
	strcpy(rs.append, "x=");
	memset(rs.append + 2, 'a', sizeof(rs.append) - 3);
	CHECK(runspec_validate(&rs, &cause) == 0);
	free(cause);
}

TEST(linux_kernel_fields)
{
	struct runspec rs;
	char *cause = NULL, *s;

	runspec_init(&rs);
	strcpy(rs.initrd, "/tmp/x.cpio");
	CHECK(
	    runspec_validate(&rs, &cause) == -1); /* an initrd needs a kernel */
	CHECK(cause && strstr(cause, "initrd") != NULL);
	strcpy(rs.kernel, "/boot/vmlinuz");
	CHECK(runspec_validate(&rs, &cause) ==
	    -1); /* 32 MiB is not enough for Linux */
	CHECK(cause && strstr(cause, "memory") != NULL);
	rs.memory_mb = RUNSPEC_LINUX_MB;
	CHECK(runspec_validate(&rs, &cause) == 0);
	free(cause);

	rs.kdump_cpus = 1;
	strcpy(rs.steps, "kexec,crash@1");
	strcpy(rs.append, "quiet");
	s = runspec_linux_cmdline(&rs);
	REQUIRE(s);
	CHECK_STR_EQ(s,
	    "console=ttyS0 panic=-1 iomem=relaxed cryptomgr.notests no_timer_check crashkernel=" RUNSPEC_CRASHKERNEL
	    " wakefarm.gen=1 wakefarm.kind=cold wakefarm.kdump_cpus=1 wakefarm.steps=kexec,crash@1 quiet");
	free(s);
	rs.steps[0] = rs.append[0] = 0;
	rs.kdump_cpus = 0;
	s = runspec_linux_cmdline(&rs);
	REQUIRE(s);
	CHECK_STR_EQ(s,
	    "console=ttyS0 panic=-1 iomem=relaxed cryptomgr.notests no_timer_check wakefarm.gen=1 wakefarm.kind=cold");
	free(s);
}

TEST(linux_paths_and_packages)
{
	static const char *const bad_paths[] = { "vmlinuz", "/a,b", "/a\tb",
		"./x", NULL };
	static const char *const bad_pkgs[] = { "Linux", "a", "-x",
		"linux image", "linux_image", "linux-image/x", NULL };
	struct runspec rs;
	char *cause = NULL;

	for (int i = 0; bad_paths[i]; i++) {
		runspec_init(&rs);
		rs.memory_mb = RUNSPEC_LINUX_MB;
		strcpy(rs.kernel, bad_paths[i]);
		CHECK(runspec_validate(&rs, &cause) == -1);
		CHECK(cause && strstr(cause, "kernel") != NULL);
		rs.kernel[0] = 0;
		strcpy(rs.kernel_package, "linux-image-cloud-amd64");
		strcpy(rs.initrd, bad_paths[i]);
		CHECK(runspec_validate(&rs, &cause) == -1);
		CHECK(cause && strstr(cause, "initrd") != NULL);
	}
	for (int i = 0; bad_pkgs[i]; i++) {
		runspec_init(&rs);
		rs.memory_mb = RUNSPEC_LINUX_MB;
		wf_strlcpy(
		    rs.kernel_package, bad_pkgs[i], sizeof(rs.kernel_package));
		CHECK(runspec_validate(&rs, &cause) == -1);
	}
	runspec_init(&rs);
	strcpy(rs.kernel_package, "linux-image-cloud-amd64");
	CHECK(runspec_validate(&rs, &cause) ==
	    -1); /* a package is Linux too: memory */
	rs.memory_mb = RUNSPEC_LINUX_MB;
	strcpy(rs.append,
	    "quiet, loglevel=3"); /* commas are fine on a command line */
	CHECK(runspec_validate(&rs, &cause) == 0);
	strcpy(rs.kernel, "/boot/vmlinuz");
	CHECK(runspec_validate(&rs, &cause) == -1); /* not both */
	free(cause);
}

TEST(json_carries_the_os_only_when_set)
{
	struct runspec rs, back;
	char *cause = NULL, *s;
	json_t *j;

	runspec_init(&rs);
	j = runspec_to_json(&rs);
	REQUIRE(j);
	CHECK(json_object_get(j, "kernel") == NULL &&
	    json_object_get(j, "append") == NULL);
	json_decref(j);
	rs.memory_mb = 512;
	strcpy(rs.kernel, "/srv/k/vmlinuz");
	strcpy(rs.initrd, "/srv/k/initrd.img");
	strcpy(rs.append, "quiet");
	j = runspec_to_json(&rs);
	REQUIRE(j);
	CHECK(runspec_from_json(j, &back, &cause) == 0);
	CHECK_STR_EQ(back.kernel, "/srv/k/vmlinuz");
	CHECK_STR_EQ(back.initrd, "/srv/k/initrd.img");
	CHECK_STR_EQ(back.append, "quiet");
	json_object_set_new(j, "kernel", json_string("/a,b"));
	CHECK(runspec_from_json(j, &back, &cause) == -1);
	CHECK(cause && strstr(cause, "comma") != NULL);
	json_object_del(j, "kernel");
	json_object_set_new(
	    j, "kernel_package", json_string("linux-image-cloud-amd64"));
	CHECK(runspec_from_json(j, &back, &cause) == 0);
	CHECK_STR_EQ(back.kernel_package, "linux-image-cloud-amd64");
	json_object_set_new(j, "kernel", json_integer(1));
	CHECK(runspec_from_json(j, &back, &cause) == -1);
	s = json_dumps(j, 0);
	free(s);
	json_decref(j);
	free(cause);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
