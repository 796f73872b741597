/*
 * The OS side of the mailbox protocol, after Linux's madt_wakeup.c.
 *
 * Wakeup: write APIC ID and vector, publish the command with release order,
 * then wait for the acknowledgement with no timeout (a VMM could otherwise
 * start the CPU later, behind the kernel's back).  Test: publish, wait about
 * a second, then complain the way Linux does.
 */
#include "kernel.h"

#define TEST_TIMEOUT_US 1000000

static struct acpi_mailbox *
mailbox(void)
{
	/* Deliberately no check for 0: a pre-6.11 kernel after a 6.11 one on
	 * version 0 firmware really does write to physical page 0. */
	return (struct acpi_mailbox *)k.mailbox_paddr;
}

int
mbox_wakeup_cpu(u32 apic_id, u64 vector)
{
	struct acpi_mailbox *mb = mailbox();
	static bool warned;

	if (!k.mailbox_paddr && k.policy != POLICY_PRE611) {
		if (!warned)
			klog(
			    "No MADT mailbox: cannot bringup secondary CPUs. Booting with kexec?");
		warned = true;
		return -1;
	}
	WRITE_ONCE(mb->apic_id, apic_id);
	WRITE_ONCE(mb->wakeup_vector, vector);
	if (k.mbox_gap_us)
		delay_us(k.mbox_gap_us); /* legal: nothing is published yet */
	store_release(&mb->command, MBOX_CMD_WAKEUP);
	while (load_acquire(&mb->command))
		cpu_relax();
	return 0;
}

bool
mbox_test_cpu(u32 apic_id)
{
	struct acpi_mailbox *mb = mailbox();
	u64 deadline = time_us() + TEST_TIMEOUT_US;

	WRITE_ONCE(mb->apic_id, apic_id);
	store_release(&mb->command, MBOX_CMD_TEST);
	while (load_acquire(&mb->command)) {
		if (time_us() > deadline)
			return false;
		cpu_relax();
	}
	return true;
}

void
report_mailbox(void)
{
	struct acpi_mailbox *mb = mailbox();
	struct rec r;

	if (!k.mailbox_paddr)
		return;
	rec_begin(&r, "mailbox");
	rec_hex(&r, "address", k.mailbox_paddr);
	rec_u64(&r, "command", mb->command);
	rec_u64(&r, "reserved", mb->reserved);
	rec_u64(&r, "apic_id", mb->apic_id);
	rec_hex(&r, "vector", mb->wakeup_vector);
	rec_hex(&r, "fw_half_hash",
	    hash_bytes(mb->fw_reserved, sizeof(mb->fw_reserved)));
	rec_end(&r);
}
