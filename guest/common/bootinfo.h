/*
 * What a kernel is handed at its 64-bit entry point (in %rdi): by the
 * firmware at cold boot, by the previous kernel at kexec, by the crashing
 * kernel for kdump.  Entry state: long mode, paging on with the low 4 GiB
 * identity-mapped, interrupts off.  The kernel copies it before touching
 * anything else, because it lives in the caller's memory.
 */
#ifndef WF_BOOTINFO_H
#define WF_BOOTINFO_H

#include "types.h"

#define BOOTINFO_MAGIC 0x7766626f6f74ULL /* "wfboot" */
#define BOOT_COLD 0
#define BOOT_KEXEC 1
#define BOOT_KDUMP 2
#define CMDLINE_MAX 1024
#define MMAP_MAX 32
#define CRASH_NOTES_MAX 64
#define CRASH_NOTES_MAGIC 0x6372617368ULL /* "crash" */

/* OS policies: which Linux behaviour the test kernel reproduces. */
#define POLICY_DEFAULT 0
#define POLICY_611 1 /* Linux 6.11 and later */
#define POLICY_PRE611 2 /* Linux 5.19 to 6.10 */

/* e820 types */
#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3
#define E820_NVS 4

struct e820_entry {
	u64 addr;
	u64 size;
	u32 type;
	u32 pad;
};

struct crash_note {
	u32 apic_id;
	u32 pad;
	u64 rip;
	u64 rsp;
};

/* Written by the CPUs of a crashing kernel, read by the kdump kernel. */
struct crash_notes {
	u64 magic;
	volatile u32 count;
	u32 crashing_apic_id;
	struct crash_note note[CRASH_NOTES_MAX];
};

struct bootinfo {
	u64 magic;
	u32 gen; /* 1 = cold boot */
	u32 kind; /* BOOT_* */
	u32 step; /* index of the next step to run */
	u32 step_rep; /* repetitions of that step already done */
	u32 policy; /* POLICY_*: 0 = as the command line says */
	u32 pad0;
	u64 rsdp;
	u64 report_channel; /* struct report_channel in firmware memory */
	u64 kernel_file; /* pristine ELF of the test kernel */
	u64 kernel_file_size;
	u64 crash_notes; /* kdump: struct crash_notes, else 0 */
	u32 nmmap;
	u32 pad;
	struct e820_entry mmap[MMAP_MAX];
	char cmdline[CMDLINE_MAX];
};

#endif
