/*
 * ACPI structures the guest reads and writes: RSDP, table headers, the MADT
 * and its entries, including the multiprocessor wakeup entry (type 0x10,
 * ACPI 6.6 section 5.2.12.19) and its mailbox (table 5.46).
 */
#ifndef WF_ACPI_H
#define WF_ACPI_H

#include "types.h"

struct acpi_rsdp {
	char signature[8]; /* "RSD PTR " */
	u8 checksum; /* over the first 20 bytes */
	char oem_id[6];
	u8 revision; /* 0: ACPI 1.0 (RSDT only), 2: XSDT present */
	u32 rsdt;
	u32 length;
	u64 xsdt;
	u8 ext_checksum; /* over all `length` bytes */
	u8 reserved[3];
} PACKED;
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP layout");

struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	u32 creator_id;
	u32 creator_revision;
} PACKED;
_Static_assert(sizeof(struct acpi_header) == 36, "SDT header layout");

struct acpi_madt {
	struct acpi_header hdr; /* "APIC" */
	u32 lapic_address;
	u32 flags;
	/* entries follow */
} PACKED;
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT layout");

struct madt_entry {
	u8 type;
	u8 length;
} PACKED;

#define MADT_LAPIC 0x00
#define MADT_X2APIC 0x09
#define MADT_MP_WAKEUP 0x10

struct madt_lapic {
	u8 type, length; /* 0, 8 */
	u8 processor_uid;
	u8 apic_id;
	u32 flags; /* bit 0 enabled, bit 1 online capable */
} PACKED;
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT LAPIC entry");

struct madt_x2apic {
	u8 type, length; /* 9, 16 */
	u16 reserved;
	u32 x2apic_id;
	u32 flags;
	u32 processor_uid;
} PACKED;
_Static_assert(sizeof(struct madt_x2apic) == 16, "MADT x2APIC entry");

/* Multiprocessor wakeup entry: 16 bytes in version 0, 24 in version 1. */
struct madt_mp_wakeup {
	u8 type; /* 0x10 */
	u8 length; /* 16 or 24 */
	u16 mailbox_version; /* 0 or 1 */
	u32 reserved;
	u64 mailbox_address; /* 4 KiB aligned, ACPI NVS */
	u64 reset_vector; /* version 1 only: where the OS sends a CPU back */
} PACKED;
_Static_assert(sizeof(struct madt_mp_wakeup) == 24, "MADT wakeup entry");
#define MADT_MP_WAKEUP_V0_LEN 16
#define MADT_MP_WAKEUP_V1_LEN 24

struct acpi_mailbox {
	volatile u16 command;
	volatile u16 reserved; /* must stay 0 */
	volatile u32 apic_id;
	volatile u64 wakeup_vector;
	u8 os_reserved[2032];
	u8 fw_reserved[2048]; /* read-only to the OS */
} PACKED;
_Static_assert(sizeof(struct acpi_mailbox) == 4096, "mailbox layout");

#define MBOX_CMD_NOOP 0
#define MBOX_CMD_WAKEUP 1
#define MBOX_CMD_TEST 2

u8 acpi_checksum(const void *p, size_t len);
struct acpi_rsdp *acpi_find_rsdp(void);
/* The root table's entries: 8-byte XSDT pointers when the RSDP has one, else RSDT. */
struct acpi_header *acpi_root(struct acpi_rsdp *rsdp, bool *is_xsdt);
struct acpi_header *acpi_find_table(struct acpi_rsdp *rsdp, const char sig[4]);

/* FNV-1a over a byte range: cheap fingerprint of the mailbox's firmware half. */
u64 hash_bytes(const void *p, size_t len);

#endif
