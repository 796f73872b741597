/*
 * Reading the MADT and deciding what the mailbox allows, as Linux 6.11's
 * acpi_parse_mp_wake() does (or as 5.19 to 6.10 did, under POLICY_PRE611).
 */
#include "kernel.h"

static bool checksum_ok;

static void
parse_entries(void)
{
	const u8 *p = (const u8 *)(k.madt + 1);
	const u8 *end = (const u8 *)k.madt + k.madt->hdr.length;

	k.ncpus = 0;
	k.wakeup = NULL;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		const struct madt_lapic *l = (const void *)p;

		if (l->type == MADT_LAPIC && (l->flags & 1) &&
		    k.ncpus < MAX_CPUS && l->apic_id < MAX_CPUS) {
			k.apic_ids[k.ncpus++] = l->apic_id;
			k.cpu[l->apic_id].state = CPU_PARKED;
		}
		if (p[0] == MADT_MP_WAKEUP && p[1] >= MADT_MP_WAKEUP_V0_LEN)
			k.wakeup = (struct madt_mp_wakeup *)p;
		p += p[1];
	}
}

void
report_madt(void)
{
	struct rec r;
	bool v1 = k.wakeup->length >= MADT_MP_WAKEUP_V1_LEN;

	rec_begin(&r, "madt");
	rec_u64(&r, "version", k.wakeup->mailbox_version);
	rec_u64(&r, "length", k.wakeup->length);
	rec_hex(&r, "mailbox", k.wakeup->mailbox_address);
	rec_hex(&r, "reset_vector", v1 ? k.wakeup->reset_vector : 0);
	rec_bool(&r, "checksum_ok", checksum_ok);
	rec_u64(&r, "cpus", k.ncpus);
	rec_end(&r);
}

int
madt_setup(void)
{
	struct acpi_rsdp *rsdp = (struct acpi_rsdp *)k.bi.rsdp;

	k.madt = rsdp ? (struct acpi_madt *)acpi_find_table(rsdp, "APIC") :
	                NULL;
	if (!k.madt) {
		kerror("no MADT");
		return -1;
	}
	/* Linux only warns on a bad table checksum; so do we, in the record. */
	checksum_ok = acpi_checksum(k.madt, k.madt->hdr.length) == 0;
	if (!checksum_ok)
		klog("MADT checksum is wrong (stale after an edit?)");
	parse_entries();
	if (!k.wakeup) {
		kerror("no multiprocessor wakeup entry in the MADT");
		return -1;
	}
	report_madt();

	k.mailbox_paddr =
	    k.wakeup->mailbox_address; /* cached: later generations may see 0 */
	if (k.policy == POLICY_PRE611) {
		/* 5.19 to 6.10: use the mailbox, never the reset vector, never
		 * invalidate the address.  This is what hangs after kexec. */
		k.offline_ok = false;
		return 0;
	}
	/* Like Linux, a reset vector of 0 is not refused: CPUs will be sent to
	 * physical address 0 (the reset-vector-zero quirk shows what follows). */
	if (k.wakeup->mailbox_version >= 1 &&
	    k.wakeup->length >= MADT_MP_WAKEUP_V1_LEN) {
		if (reset_tables_build(k.wakeup->reset_vector) == 0) {
			k.reset_vector = k.wakeup->reset_vector;
			k.offline_ok = true;
			return 0;
		}
		klog("Failed to setup MADT reset vector");
	}
	/* Version 0 (or a version 1 whose reset tables could not be built):
	 * CPUs can never be handed back, so stop the next kernel from trying.
	 * Linux-only convention; the checksum is left stale on purpose, as
	 * Linux does. */
	k.offline_ok = false;
	if (k.wakeup->mailbox_address) {
		klog(
		    "mailbox cannot be reset: offlining disabled, MADT mailbox address invalidated");
		k.wakeup->mailbox_address = 0;
	}
	return 0;
}
