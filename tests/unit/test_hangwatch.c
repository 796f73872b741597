/*
 * test_hangwatch.c: the early hang call (lib/runner/hangwatch.c), over
 * record sequences the firmware really writes (tests/out/guest shapes):
 * a wakeup standing for a CPU that left the firmware is called once it
 * stood for the confirmation time of guest CPU; every legal wait is not.
 */
#include "hangwatch.h"
#include "test.h"

#define CONFIRM 500000LL

static void
rec(struct hangwatch *h, const char *json)
{
	json_error_t e;
	json_t *r = json_loads(json, 0, &e);

	hangwatch_record(h, r);
	json_decref(r);
}

/* A 2-CPU guest: APIC ID 1 parked, APIC ID 0 the boot CPU. */
static struct hangwatch *
two_cpus(void)
{
	struct hangwatch *h = hangwatch_new(CONFIRM);

	rec(h,
	    "{\"src\":\"fw\",\"ev\":\"fw-ready\",\"apic_ids\":[0,1],\"bsp\":0}");
	return h;
}

/* Samples (1, apic, 0x7000) from t0 to t1 of guest CPU in 50 ms steps;
 * the CPU time of the first call, or -1 when none. */
static long long
stand(
    struct hangwatch *h, unsigned apic, long long t0, long long t1, json_t **ev)
{
	for (long long t = t0; t <= t1; t += 50000)
		if (hangwatch_sample(h, t, 1, apic, 0x7000, ev))
			return t;
	return -1;
}

TEST(a_wakeup_for_a_cpu_that_left_is_called_after_the_confirmation)
{
	struct hangwatch *h = two_cpus();
	json_t *ev = NULL;

	/* woken in generation 1, halted in the old kernel (pre-6.11 kexec) */
	rec(h, "{\"src\":\"fw\",\"ev\":\"fw-wake\",\"apic_id\":1}");
	CHECK_EQ_INT(stand(h, 1, 1000000, 3000000, &ev), 1000000 + CONFIRM);
	REQUIRE(ev != NULL);
	CHECK_EQ_INT(json_integer_value(json_object_get(ev, "apic_id")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(ev, "command")), 1);
	CHECK_STR_EQ(
	    json_string_value(json_object_get(ev, "vector")), "0x7000");
	CHECK_EQ_INT(json_integer_value(json_object_get(ev, "standing_cpu_us")),
	    CONFIRM);
	json_decref(ev);
	hangwatch_free(h);
}

TEST(a_wakeup_for_a_parked_cpu_is_never_called)
{
	struct hangwatch *h = two_cpus();
	json_t *ev = NULL;

	/* slow-ack, a descheduled vCPU: parked, so it may still answer */
	CHECK_EQ_INT(stand(h, 1, 0, 10000000, &ev), -1);
	/* handed back through the reset vector: parked again */
	rec(h, "{\"src\":\"fw\",\"ev\":\"fw-wake\",\"apic_id\":1}");
	rec(h, "{\"src\":\"fw\",\"ev\":\"fw-reset\",\"apic_id\":1}");
	CHECK_EQ_INT(stand(h, 1, 0, 10000000, &ev), -1);
	hangwatch_free(h);
}

TEST(the_confirmation_counts_guest_cpu_time_not_samples)
{
	struct hangwatch *h = two_cpus();
	json_t *ev = NULL;

	rec(h, "{\"src\":\"fw\",\"ev\":\"fw-wake\",\"apic_id\":1}");
	/* a starved guest: many samples, no CPU time between them */
	for (int i = 0; i < 1000; i++)
		CHECK_EQ_INT(hangwatch_sample(h, 200000, 1, 1, 0x7000, &ev), 0);
	CHECK_EQ_INT(
	    hangwatch_sample(h, 200000 + CONFIRM, 1, 1, 0x7000, &ev), 1);
	json_decref(ev);
	hangwatch_free(h);
}

TEST(a_new_command_or_an_idle_mailbox_starts_over)
{
	struct hangwatch *h = hangwatch_new(CONFIRM);
	json_t *ev = NULL;

	rec(h,
	    "{\"src\":\"fw\",\"ev\":\"fw-ready\",\"apic_ids\":[0,1,2],\"bsp\":0}");
	rec(h, "{\"src\":\"fw\",\"ev\":\"fw-wake\",\"apic_id\":1}");
	rec(h, "{\"src\":\"fw\",\"ev\":\"fw-wake\",\"apic_id\":2}");
	CHECK_EQ_INT(hangwatch_sample(h, 0, 1, 1, 0x7000, &ev), 0);
	CHECK_EQ_INT(hangwatch_sample(h, 400000, 0, 1, 0x7000, &ev), 0);
	CHECK_EQ_INT(hangwatch_sample(h, 450000, 1, 2, 0x7000, &ev), 0);
	CHECK_EQ_INT(hangwatch_sample(h, 800000, 1, 2, 0x7000, &ev), 0);
	CHECK_EQ_INT(hangwatch_sample(h, 950000, 1, 2, 0x7000, &ev), 1);
	json_decref(ev);
	hangwatch_free(h);
}

TEST(test_commands_and_sleeping_cpus)
{
	struct hangwatch *h = two_cpus();
	json_t *ev = NULL;

	/* an unanswered test: the OS gives up after a second, no hang */
	rec(h, "{\"src\":\"fw\",\"ev\":\"fw-sleep\",\"apic_id\":1}");
	for (long long t = 0; t < 5000000; t += 50000)
		CHECK_EQ_INT(hangwatch_sample(h, t, 2, 1, 0x7000, &ev), 0);
	/* then its wakeup: the CPU sleeps for good, nobody takes it */
	CHECK_EQ_INT(stand(h, 1, 5000000, 7000000, &ev), 5000000 + CONFIRM);
	json_decref(ev);
	hangwatch_free(h);
}

TEST(without_bsp_in_fw_ready_nothing_is_called)
{
	struct hangwatch *h = hangwatch_new(CONFIRM);
	json_t *ev = NULL;

	rec(h, "{\"src\":\"fw\",\"ev\":\"fw-ready\",\"apic_ids\":[0,1]}");
	rec(h, "{\"src\":\"fw\",\"ev\":\"fw-wake\",\"apic_id\":1}");
	CHECK_EQ_INT(stand(h, 1, 0, 5000000, &ev), -1);
	/* records of other sources, and junk, change nothing */
	rec(h, "{\"src\":\"os\",\"ev\":\"fw-reset\",\"apic_id\":1}");
	rec(h, "{\"src\":\"fw\",\"ev\":\"fw-wake\",\"apic_id\":99999}");
	hangwatch_record(h, NULL);
	hangwatch_free(h);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
