/*
 * test_invariants.c: every check of lib/invariants.c (the invariants table of
 * madt-wakeup.md) on hand-made record streams: the good stream passes, and
 * one change makes exactly the expected check fail.
 */
#include <stdarg.h>
#include <string.h>

#include "invariants.h"
#include "test.h"

static json_t *recs;

/* Appends {"v":1,"src":SRC,"gen":GEN,"ev":EV,"t_us":0, ...FIELDS}. */
static void
add(const char *src, int gen, const char *ev, const char *fields)
{
	char buf[1024];
	json_t *r;

	snprintf(buf, sizeof(buf),
	    "{\"v\":1,\"src\":\"%s\",\"gen\":%d,\"ev\":\"%s\",\"t_us\":0%s%s}",
	    src, gen, ev, fields[0] ? "," : "", fields);
	r = json_loads(buf, 0, NULL);
	if (!r)
		abort();
	json_array_append_new(recs, r);
}

/* A healthy generation: boot, madt, N-1 wakes, online. */
static void
gen(int g, const char *kind, int cpu, int version, const char *mailbox,
    int online, const char *ids)
{
	char f[256];

	snprintf(f, sizeof(f), "\"kind\":\"%s\",\"cpu\":%d", kind, cpu);
	add("os", g, "boot", f);
	snprintf(f, sizeof(f),
	    "\"version\":%d,\"length\":%d,\"mailbox\":\"%s\",\"reset_vector\":\"%s\","
	    "\"checksum_ok\":true",
	    version, version ? 24 : 16, mailbox, version ? "0x100180" : "0x0");
	add("os", g, "madt", f);
	for (int i = 1; i < online; i++) {
		add("fw", g, "fw-wake", "\"apic_id\":1,\"vector\":\"0x7000\"");
		add("os", g, "cpu-up", "\"apic_id\":1,\"us\":5");
	}
	snprintf(
	    f, sizeof(f), "\"cpus_online\":%d,\"apic_ids\":%s", online, ids);
	add("os", g, "online", f);
}

static void
fw_ready(void)
{
	add("fw", 1, "fw-ready", "\"mailbox\":\"0x193000\"");
}

static void
done(const char *status, const char *how)
{
	char f[128];

	if (status) {
		snprintf(f, sizeof(f), "\"status\":\"%s\"", status);
		add("os", 1, "done", f);
	}
	snprintf(f, sizeof(f), "\"how\":\"%s\",\"detail\":\"\"", how);
	add("host", 1, "host-exit", f);
}

static struct runspec
spec(int cpus, int version, const char *steps)
{
	struct runspec rs;

	runspec_init(&rs);
	rs.cpus = cpus;
	rs.mailbox_version = version;
	strcpy(rs.steps, steps);
	return rs;
}

/* The verdict and the comma list of failing checks. */
static void
eval(const struct runspec *rs, char *verdict, char *failing)
{
	json_t *ev = invariants_evaluate(rs, recs);
	const json_t *c;
	size_t i;

	strcpy(verdict, json_string_value(json_object_get(ev, "verdict")));
	failing[0] = 0;
	json_array_foreach (json_object_get(ev, "checks"), i, c)
		if (!json_is_true(json_object_get(c, "ok")) &&
		    !strstr(failing,
		        json_string_value(json_object_get(c, "check"))))
			sprintf(failing + strlen(failing), "%s%s",
			    failing[0] ? "," : "",
			    json_string_value(json_object_get(c, "check")));
	json_decref(ev);
	json_array_clear(recs);
}

#define EXPECT(rs, v, f)                          \
	do {                                      \
		char verdict_[32], failing_[512]; \
		eval(rs, verdict_, failing_);     \
		CHECK_STR_EQ(verdict_, v);        \
		CHECK_STR_EQ(failing_, f);        \
	} while (0)

TEST(v1_kexec_keeps_all_cpus)
{
	struct runspec rs = spec(4, 1, "kexec");

	fw_ready();
	gen(1, "cold", 0, 1, "0x193000", 4, "[0,1,2,3]");
	gen(2, "kexec", 0, 1, "0x193000", 4, "[0,1,2,3]");
	done("ok", "exited");
	EXPECT(&rs, "pass", "");

	fw_ready();
	gen(1, "cold", 0, 1, "0x193000", 4, "[0,1,2,3]");
	gen(2, "kexec", 0, 1, "0x193000", 1, "[0]");
	done("ok", "exited");
	EXPECT(&rs, "fail", "cpus-online,apic-ids");
}

TEST(v0_kexec_runs_on_one_cpu_with_the_address_zeroed)
{
	struct runspec rs = spec(4, 0, "kexec");

	fw_ready();
	gen(1, "cold", 0, 0, "0x193000", 4, "[0,1,2,3]");
	gen(2, "kexec", 0, 0, "0x0", 1, "[0]");
	done("ok", "exited");
	EXPECT(&rs, "pass", "");

	fw_ready();
	gen(1, "cold", 0, 0, "0x193000", 4, "[0,1,2,3]");
	gen(2, "kexec", 0, 0, "0x193000", 1, "[0]");
	done("ok", "exited");
	EXPECT(&rs, "fail", "mailbox-after-kexec");
}

TEST(mailbox_address_must_be_aligned_and_the_firmwares)
{
	struct runspec rs = spec(1, 1, "");

	fw_ready();
	gen(1, "cold", 0, 1, "0x193010", 1, "[0]");
	done("ok", "exited");
	EXPECT(&rs, "fail", "mailbox-address");
}

TEST(reset_vector_must_stay)
{
	struct runspec rs = spec(2, 1, "kexec");

	fw_ready();
	gen(1, "cold", 0, 1, "0x193000", 2, "[0,1]");
	gen(2, "kexec", 0, 1, "0x193000", 2, "[0,1]");
	json_object_set_new(
	    json_array_get(recs, 7), "reset_vector", json_string("0x200000"));
	done("ok", "exited");
	EXPECT(&rs, "fail", "reset-vector");
}

TEST(short_v1_entry_is_version_0_to_the_kernel)
{
	struct runspec rs = spec(2, 1, "kexec");

	strcpy(rs.quirks, "v1-short-entry");
	fw_ready();
	gen(1, "cold", 0, 1, "0x193000", 2, "[0,1]");
	gen(2, "kexec", 0, 1, "0x0", 1, "[0]");
	/* a 16-byte entry, as the quirk publishes it */
	json_object_set_new(
	    json_array_get(recs, 2), "length", json_integer(16));
	json_object_set_new(
	    json_array_get(recs, 7), "length", json_integer(16));
	done("ok", "exited");
	EXPECT(&rs, "fail", "madt-entry");
}

TEST(offline_refused_on_v0_works_on_v1)
{
	struct runspec rs = spec(2, 0, "offline:1");

	fw_ready();
	gen(1, "cold", 0, 0, "0x193000", 2, "[0,1]");
	add("os", 1, "offline",
	    "\"apic_id\":1,\"ok\":false,\"err\":\"EOPNOTSUPP\"");
	done("ok", "exited");
	EXPECT(&rs, "pass", "");

	rs.mailbox_version = 1;
	fw_ready();
	gen(1, "cold", 0, 1, "0x193000", 2, "[0,1]");
	add("os", 1, "offline",
	    "\"apic_id\":1,\"ok\":false,\"err\":\"EOPNOTSUPP\"");
	done("ok", "exited");
	EXPECT(&rs, "fail", "offline");
}

TEST(mailbox_idle_command_reserved_and_firmware_half)
{
	static const char *const bad[] = {
		"\"command\":2,\"reserved\":0,\"fw_half_hash\":\"0x1\"",
		"\"command\":0,\"reserved\":7,\"fw_half_hash\":\"0x1\"",
		"\"command\":0,\"reserved\":0,\"fw_half_hash\":\"0x2\"",
	};
	struct runspec rs = spec(1, 1, "");

	for (int i = 0; i < 3; i++) {
		fw_ready();
		gen(1, "cold", 0, 1, "0x193000", 1, "[0]");
		add("os", 1, "mailbox",
		    "\"command\":0,\"reserved\":0,\"fw_half_hash\":\"0x1\"");
		add("os", 1, "mailbox", bad[i]);
		done("ok", "exited");
		EXPECT(&rs, "fail", "mailbox-idle");
	}
}

TEST(kdump_crash_notes_and_cpu_limit)
{
	struct runspec rs = spec(4, 1, "crash@1");

	rs.kdump_cpus = 2;
	fw_ready();
	gen(1, "cold", 0, 1, "0x193000", 4, "[0,1,2,3]");
	add("os", 1, "panic", "\"cpu\":1,\"reason\":\"x\"");
	gen(2, "kdump", 1, 1, "0x193000", 2, "[0,1]");
	add("os", 2, "crash-notes",
	    "\"count\":4,\"crashed_cpu\":1,\"apic_ids\":[1,0,2,3]");
	done("ok", "exited");
	EXPECT(&rs, "pass", "");

	fw_ready();
	gen(1, "cold", 0, 1, "0x193000", 4, "[0,1,2,3]");
	add("os", 1, "panic", "\"cpu\":1,\"reason\":\"x\"");
	gen(2, "kdump", 1, 1, "0x193000", 2, "[0,1]");
	add("os", 2, "crash-notes",
	    "\"count\":3,\"crashed_cpu\":1,\"apic_ids\":[1,0,2]");
	done("ok", "exited");
	EXPECT(&rs, "fail", "crash-notes");
}

TEST(verdict_classes)
{
	struct runspec rs = spec(2, 1, "kexec");

	fw_ready();
	gen(1, "cold", 0, 1, "0x193000", 2, "[0,1]");
	add("os", 2, "boot", "\"kind\":\"kexec\",\"cpu\":0");
	add("os", 2, "madt",
	    "\"version\":1,\"length\":24,\"mailbox\":\"0x193000\",\"reset_vector\":\"0x100180\"");
	done(NULL, "timeout");
	EXPECT(&rs, "hang", "bring-up-finished");

	/* called early from the mailbox (host-exit how "hang"): the same */
	fw_ready();
	gen(1, "cold", 0, 1, "0x193000", 2, "[0,1]");
	add("os", 2, "boot", "\"kind\":\"kexec\",\"cpu\":0");
	add("os", 2, "madt",
	    "\"version\":1,\"length\":24,\"mailbox\":\"0x193000\",\"reset_vector\":\"0x100180\"");
	done(NULL, "hang");
	EXPECT(&rs, "hang", "bring-up-finished");

	fw_ready();
	gen(1, "cold", 0, 1, "0x193000", 2, "[0,1]");
	done(NULL, "exited");
	EXPECT(&rs, "crash", "generations");

	fw_ready();
	gen(1, "cold", 0, 1, "0x193000", 2, "[0,1]");
	gen(2, "kexec", 0, 1, "0x193000", 2, "[0,1]");
	done("panic", "exited");
	EXPECT(&rs, "crash", "");

	done(NULL, "infra");
	EXPECT(&rs, "infra", "generations");

	fw_ready();
	gen(1, "cold", 0, 1, "0x193000", 2, "[0,1]");
	gen(2, "kexec", 0, 1, "0x193000", 2, "[0,1]");
	add("os", 2, "error", "\"msg\":\"Failed to hand over CPU 1 to BIOS\"");
	done("error", "exited");
	EXPECT(&rs, "fail", "no-kernel-errors");
}

TEST(cpus_must_be_woken_through_the_mailbox)
{
	struct runspec rs = spec(2, 1, "");

	fw_ready();
	add("os", 1, "boot", "\"kind\":\"cold\",\"cpu\":0");
	add("os", 1, "madt",
	    "\"version\":1,\"length\":24,\"mailbox\":\"0x193000\",\"reset_vector\":\"0x100180\"");
	add("os", 1, "cpu-up",
	    "\"apic_id\":1,\"us\":5"); /* no fw-wake: not through the mailbox */
	add("os", 1, "online", "\"cpus_online\":2,\"apic_ids\":[0,1]");
	done("ok", "exited");
	EXPECT(&rs, "fail", "woken-through-mailbox");
}

TEST(long_kexec_chains_are_judged_to_the_end)
{
	struct runspec rs = spec(2, 1, "kexec*300");

	fw_ready();
	gen(1, "cold", 0, 1, "0x193000", 2, "[0,1]");
	for (int g = 2; g <= 301; g++)
		gen(g, "kexec", 0, 1, "0x193000", 2, "[0,1]");
	done("ok", "exited");
	/* done and host-exit carry gen 1 here; the chain's length is what matters */
	EXPECT(&rs, "pass", "");
}

int
main(int argc, char **argv)
{
	int rc;

	recs = json_array();
	rc = test_main(argc, argv);
	json_decref(recs);
	return rc;
}
