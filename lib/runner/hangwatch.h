/*
 * hangwatch.h: calling a hang from evidence seen outside the guest, before
 * the watchdog fires.
 *
 * The mailbox protocol's failure has an exact signature: the OS has posted
 * a wakeup (command 1, an APIC ID, a vector) and the CPU it names is not in
 * the firmware's loop to take it. An OS waits for a wakeup's answer with no
 * timeout (Linux's acpi_wakeup_cpu), so once that stands it never ends.
 *
 * What it trusts (docs/hang-detection.md):
 *  - the firmware's records, for which CPUs are parked: fw-ready's apic_ids
 *    but its bsp, minus each fw-wake, plus each fw-reset, minus each
 *    fw-sleep (a CPU that went to sleep never answers);
 *  - the mailbox's first 16 bytes read from outside (command, APIC ID,
 *    vector), sampled while the guest runs;
 *  - time the guest actually ran (the QEMU process's CPU time, given by the
 *    runner), so that a host too busy to run the guest confirms nothing.
 * A wakeup for a CPU that is parked is never called a hang here (a slow or
 * descheduled CPU may still take it: the watchdog decides); neither is a
 * test command (the OS gives up on those after about a second), nor any
 * hang that leaves the mailbox idle.
 */
#ifndef WF_HANGWATCH_H
#define WF_HANGWATCH_H

#include <stdint.h>

#include <jansson.h>

#define HANGWATCH_CONFIRM_US 500000LL /* of guest CPU time */

struct hangwatch;

/* A watcher that confirms after confirm_us of guest CPU time. */
struct hangwatch *hangwatch_new(int64_t confirm_us);
void hangwatch_free(struct hangwatch *h);

/* Every record of the run, in order (only fw-* records matter). */
void hangwatch_record(struct hangwatch *h, const json_t *rec);

/*
 * A mailbox sample: its command, APIC ID and vector, read when the guest
 * had used cpu_us of CPU time in all. Returns 1 when the evidence is
 * conclusive, with *evidence a new host-hang record body: {"reason",
 * "command", "apic_id", "vector", "standing_cpu_us"} (the caller adds v,
 * src, gen, ev, t_us); else 0.
 */
int hangwatch_sample(struct hangwatch *h, int64_t cpu_us, unsigned command,
    unsigned apic_id, unsigned long long vector, json_t **evidence);

#endif
