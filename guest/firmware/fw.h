/* Firmware shim internals shared between its files. */
#ifndef FW_FW_H
#define FW_FW_H

#include "../common/types.h"
#include "../common/acpi.h"
#include "../common/bootinfo.h"
#include "../common/report.h"
#include "../common/layout.h"

/*
 * Firmware quirks: each a scenario knob that reproduces a firmware bug, or a
 * hostile but legal timing.  The ones marked "old shim" bring back a defect
 * this firmware had, so that the farm shows what it does to an OS.
 */
struct fw_quirks {
	bool v1_short_entry; /* version 1 in a 16-byte entry */
	bool no_test_ack; /* never clear a test command */
	bool
	    clear_vector; /* clear the vector instead of the command: OS hangs */
	bool stale_checksum; /* publish the MADT with a wrong checksum */
	u32 slow_ack_ms; /* wait this long before acknowledging a wakeup */
	bool test_is_sleep; /* older TDVF: command 2 means "sleep", not test */
	bool reset_vector_zero; /* version 1 entry with a reset vector of 0 */
	bool wakeup_no_nxe; /* old shim: EFER.NXE clear at the wakeup vector */
	bool
	    poll_early_command; /* old shim: act on the command read before the ID matched */
	bool
	    keep_irq_state; /* old shim: keep the interrupt state the OS hands back */
	u32 poll_stall_apic; /* this CPU stalls between reading a command */
	u32 poll_stall_ms; /* and reading the APIC ID, once (a preempted vCPU) */
};

struct fw_state {
	u32 mailbox_version;
	struct fw_quirks quirks;
	char quirk_text[128];
	u32 ncpus;
	u32 apic_ids[MAX_CPUS];
	struct acpi_madt *madt; /* the MADT we publish */
	struct madt_mp_wakeup *wakeup; /* its type 0x10 entry */
	u64 reset_vector; /* 0 unless version 1 with a 24-byte entry */
};

extern struct fw_state fw;
extern struct acpi_mailbox fw_mailbox;
extern char __fw_start[], __fw_end[];
extern char fw_reset_vector[];
extern u8 fw_quirk_reset_on_os_stack; /* in the reset page (entry.S) */

int madt_publish(struct acpi_rsdp *rsdp, const char **why);
void idt_load(void);
void fw_mtrr_load(void);
NORETURN void fw_park(u32 apic_id);
NORETURN void fw_exit(u8 status);

#endif
