/*
 * Publishing the MADT with a multiprocessor wakeup entry.
 *
 * QEMU's MADT stays where it is; we build a copy in firmware memory (reported
 * as ACPI NVS, so it survives every kernel generation) with the type 0x10
 * entry appended, then re-point the RSDT and XSDT at it.  The OS may write
 * the copy (Linux zeroes the mailbox address there on version 0).
 */
#include "fw.h"

static u8 madt_buf[4096] __attribute__((aligned(16)));

static void
repoint(struct acpi_header *root, size_t width, u64 from, u64 to)
{
	size_t n = (root->length - sizeof(*root)) / width;
	u8 *ent = (u8 *)(root + 1);

	for (size_t i = 0; i < n; i++) {
		u64 addr = 0;

		memcpy(&addr, ent + i * width, width);
		if (addr == from)
			memcpy(ent + i * width, &to, width);
	}
	root->checksum = 0;
	root->checksum = -acpi_checksum(root, root->length);
}

static void
collect_apic_ids(const struct acpi_madt *m)
{
	const u8 *p = (const u8 *)(m + 1), *end = (const u8 *)m + m->hdr.length;

	fw.ncpus = 0;
	while (p + 2 <= end && p[1] >= 2) {
		const struct madt_lapic *l = (const void *)p;

		if (l->type == MADT_LAPIC && (l->flags & 1) &&
		    fw.ncpus < MAX_CPUS)
			fw.apic_ids[fw.ncpus++] = l->apic_id;
		p += p[1];
	}
}

int
madt_publish(struct acpi_rsdp *rsdp, const char **why)
{
	struct acpi_madt *old = (struct acpi_madt *)acpi_find_table(
	    rsdp, "APIC");
	struct madt_mp_wakeup w = { 0 };
	struct acpi_header *root;
	size_t len;
	bool v1;

	if (!old) {
		*why = "no MADT in QEMU's ACPI tables (is <acpi/> missing?)";
		return -1;
	}
	len = old->hdr.length;
	if (len + sizeof(w) > sizeof(madt_buf)) {
		*why = "QEMU's MADT is too large";
		return -1;
	}
	collect_apic_ids(old);

	v1 = fw.mailbox_version >= 1;
	w.type = MADT_MP_WAKEUP;
	w.length = v1 && !fw.quirks.v1_short_entry ? MADT_MP_WAKEUP_V1_LEN :
	                                             MADT_MP_WAKEUP_V0_LEN;
	w.mailbox_version = fw.mailbox_version;
	w.mailbox_address = (u64)&fw_mailbox;
	if (w.length == MADT_MP_WAKEUP_V1_LEN && !fw.quirks.reset_vector_zero)
		w.reset_vector = fw.reset_vector = (u64)fw_reset_vector;

	memcpy(madt_buf, old, len);
	memcpy(madt_buf + len, &w, w.length);
	fw.madt = (struct acpi_madt *)madt_buf;
	fw.wakeup = (struct madt_mp_wakeup *)(madt_buf + len);
	fw.madt->hdr.length = len + w.length;
	fw.madt->hdr.checksum = 0;
	fw.madt->hdr.checksum = -acpi_checksum(fw.madt, fw.madt->hdr.length);
	if (fw.quirks.stale_checksum)
		fw.madt->hdr.checksum ^= 0x5a;

	if (rsdp->rsdt)
		repoint((struct acpi_header *)(u64)rsdp->rsdt, 4, (u64)old,
		    (u64)fw.madt);
	if (rsdp->revision >= 2 && rsdp->xsdt)
		repoint((struct acpi_header *)rsdp->xsdt, 8, (u64)old,
		    (u64)fw.madt);
	root = (struct acpi_header *)acpi_find_table(rsdp, "APIC");
	if (root != &fw.madt->hdr) {
		*why = "could not re-point the root table at the new MADT";
		return -1;
	}
	return 0;
}
