/* hangwatch.c: a wakeup nobody can take, seen from outside (hangwatch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hangwatch.h"

#define HW_MAX_APIC 256
#define MBOX_CMD_WAKEUP 1

struct hangwatch {
	int64_t confirm_us;
	int known; /* fw-ready seen: the parked set means something */
	unsigned char parked[HW_MAX_APIC];
	/* the wakeup standing in the mailbox, and since when (guest CPU) */
	int standing;
	unsigned apic_id;
	unsigned long long vector;
	int64_t since_cpu_us;
};

struct hangwatch *
hangwatch_new(int64_t confirm_us)
{
	struct hangwatch *h = calloc(1, sizeof(*h));

	if (h != NULL)
		h->confirm_us = confirm_us > 0 ? confirm_us :
		                                 HANGWATCH_CONFIRM_US;
	return h;
}

void
hangwatch_free(struct hangwatch *h)
{
	free(h);
}

static int
apic_of(const json_t *rec)
{
	json_int_t id = json_integer_value(json_object_get(rec, "apic_id"));

	return id >= 0 && id < HW_MAX_APIC ? (int)id : -1;
}

void
hangwatch_record(struct hangwatch *h, const json_t *rec)
{
	const char *ev = json_string_value(json_object_get(rec, "ev"));
	const json_t *id;
	size_t i;
	int a;

	if (h == NULL || ev == NULL ||
	    strcmp(json_string_value(json_object_get(rec, "src")) ?: "", "fw"))
		return;
	if (strcmp(ev, "fw-ready") == 0) {
		json_int_t bsp = json_integer_value(
		    json_object_get(rec, "bsp"));

		memset(h->parked, 0, sizeof(h->parked));
		json_array_foreach (json_object_get(rec, "apic_ids"), i, id) {
			json_int_t v = json_integer_value(id);

			if (v >= 0 && v < HW_MAX_APIC && v != bsp)
				h->parked[v] = 1;
		}
		/* without "bsp" (an older firmware) the set cannot be told */
		h->known = json_is_integer(json_object_get(rec, "bsp"));
		return;
	}
	if ((a = apic_of(rec)) < 0)
		return;
	if (strcmp(ev, "fw-wake") == 0 || strcmp(ev, "fw-sleep") == 0)
		h->parked[a] = 0;
	else if (strcmp(ev, "fw-reset") == 0)
		h->parked[a] = 1;
}

int
hangwatch_sample(struct hangwatch *h, int64_t cpu_us, unsigned command,
    unsigned apic_id, unsigned long long vector, json_t **evidence)
{
	char v[24];

	if (h == NULL || !h->known || command != MBOX_CMD_WAKEUP ||
	    apic_id >= HW_MAX_APIC || h->parked[apic_id]) {
		h->standing = 0;
		return 0;
	}
	if (!h->standing || h->apic_id != apic_id || h->vector != vector) {
		h->standing = 1;
		h->apic_id = apic_id;
		h->vector = vector;
		h->since_cpu_us = cpu_us;
		return 0;
	}
	if (cpu_us - h->since_cpu_us < h->confirm_us)
		return 0;
	snprintf(v, sizeof(v), "0x%llx", vector);
	*evidence = json_pack("{s:s, s:i, s:i, s:s, s:I}", "reason",
	    "a wakeup stands in the mailbox for a CPU that is not in the"
	    " firmware's loop: nobody can take it",
	    "command", (int)command, "apic_id", (int)apic_id, "vector", v,
	    "standing_cpu_us", (json_int_t)(cpu_us - h->since_cpu_us));
	return *evidence != NULL;
}
