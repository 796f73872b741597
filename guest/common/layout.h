/*
 * Physical memory layout shared by the firmware shim and the test kernel.
 *
 * Everything wakefarm places in guest memory lives at a fixed address so that
 * the host side (the agent's mailbox peek, run-qemu) and every kernel
 * generation agree without negotiation.  The firmware owns [FW_BASE, FW_END)
 * and the SIPI page; it reports them as ACPI NVS so no OS touches them.
 */
#ifndef WF_LAYOUT_H
#define WF_LAYOUT_H

#define PAGE_SIZE 0x1000UL

#define OS_TRAMPOLINE 0x7000UL /* kernel's AP wakeup vector page (< 1 MiB) */
#define FW_SIPI_PAGE 0x8000UL /* firmware real-mode AP trampoline (NVS) */
#define FW_BASE 0x100000UL /* firmware image, bss, mailbox, MADT (NVS) */
#define FW_LIMIT 0x200000UL /* the firmware must end below this */

#define KERNEL_SLOT_A 0x200000UL /* odd generations (and cold boot) */
#define KERNEL_SLOT_B 0x600000UL /* even generations */
#define KERNEL_SLOT_SIZE 0x400000UL
#define KERNEL_FILE 0xA00000UL /* pristine copy of the kernel ELF */
#define KERNEL_FILE_MAX 0x200000UL
#define CRASH_BASE 0xC00000UL /* crashkernel= region: image + notes */
#define CRASH_SIZE 0x400000UL
#define CRASH_NOTES (CRASH_BASE + CRASH_SIZE - 0x10000UL)
#define LAYOUT_END (CRASH_BASE + CRASH_SIZE) /* 16 MiB: minimum guest RAM */

#define MAX_CPUS 64 /* APIC IDs 0..MAX_CPUS-1 */

/*
 * The test kernel also sees the low 16 MiB at this kernel-half address (as
 * Linux sees its image at __START_KERNEL_map) and keeps its stacks, GDT and
 * IDT there: a firmware that touches any of them after a CPU was handed
 * back through the reset vector faults, as it would under Linux.
 */
#define KERNEL_HALF 0xFFFFFFFF80000000UL
#define KERNEL_HALF_SIZE LAYOUT_END

#endif
