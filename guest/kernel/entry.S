/*
 * Test kernel entry points.  The image is position independent: it runs in
 * slot A or B (normal generations) or in the crash region (kdump), so every
 * reference here is RIP-relative.
 *
 *   _start        from the firmware, the previous kernel or the crashing
 *                 kernel; %rdi = struct bootinfo
 *   ap_stub       the mailbox wakeup vector, copied to OS_TRAMPOLINE (< 1 MiB,
 *                 one page); arrives on the firmware's page tables
 *   ap_start      the APs' path into C on the kernel's own tables and stack
 *   nmi_stub, exc_stub_N   interrupt entries
 *
 * Once the kernel's tables are loaded every CPU runs on a stack at its
 * KERNEL_HALF address (layout.h), as Linux's do.
 */
#include "../common/layout.h"
#include "../common/irq.inc"

#define KSTACK_SIZE	8192	/* deepest path (steps -> cpu_up -> kerror) uses ~4 KiB */

	.section .text.entry, "ax"
	.global _start
_start:
	cli
	cld
	leaq boot_stack_top(%rip), %rsp
	pushq %rdi
	leaq __image_base(%rip), %rdi
	call kernel_relocate			/* before any absolute address is used */
	popq %rdi
	call kearly				/* copies the boot information, loads our tables */
	leaq boot_stack_top(%rip), %rsp
	movabsq $KERNEL_HALF, %rax
	addq %rax, %rsp
	call kmain
1:	hlt
	jmp 1b

	.text
/* Copied to OS_TRAMPOLINE: what Linux's trampoline_start64 does.  A zero
 * IDT (a fault is a shutdown, never a jump back into the firmware), its own
 * GDT, then the kernel's page tables, whose data entries are no-execute:
 * the firmware must have left EFER.NXE on, we never write EFER here.  The
 * CR3 and the target are patched into the copy by the kernel. */
	.global ap_stub, ap_stub_end, ap_stub_cr3, ap_stub_target
	.align 16
ap_stub:
	cli
	lidt ap_stub_idt(%rip)
	lgdt ap_stub_gdt_ptr(%rip)
	ljmpl *ap_stub_far(%rip)
ap_stub_cs:
	movl $0x10, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movq ap_stub_cr3(%rip), %rax
	movq %rax, %cr3
	jmpq *ap_stub_target(%rip)
	.align 8
ap_stub_cr3:	.quad 0
ap_stub_target:	.quad 0
ap_stub_far:	.long 0			/* OS_TRAMPOLINE + (ap_stub_cs - ap_stub) */
		.word 0x08
ap_stub_idt:	.word 0
		.quad 0
	.align 8
ap_stub_gdt:	.quad 0
		.quad 0x00AF9A000000FFFF	/* 0x08: 64-bit code */
		.quad 0x00CF92000000FFFF	/* 0x10: data */
ap_stub_gdt_ptr:
		.word 23
		.quad 0			/* OS_TRAMPOLINE + (ap_stub_gdt - ap_stub) */
ap_stub_end:
	.global ap_stub_far, ap_stub_cs, ap_stub_gdt, ap_stub_gdt_ptr

	.global ap_start
ap_start:
	movl $1, %eax
	cpuid
	shrl $24, %ebx				/* CPUID.01H:EBX[31:24] = APIC ID */
	cmpl $MAX_CPUS, %ebx
	jae 2f
	leaq 1(%rbx), %rax
	imulq $KSTACK_SIZE, %rax
	leaq kstacks(%rip), %rsp
	addq %rax, %rsp
	movabsq $KERNEL_HALF, %rax		/* the first walk of a no-execute entry */
	addq %rax, %rsp
	call ap_main
2:	cli
	hlt
	jmp 2b

/* An NMI: the crash shoot-down, or a stray one we return from. */
	.global nmi_stub
nmi_stub:
	push_caller_saved
	leaq 72(%rsp), %rdi			/* the interrupt frame: rip, cs, rflags, rsp, ss */
	call nmi_handler
	pop_caller_saved
	iretq

/* Interrupts with a handler in C (smp.c): Linux's REBOOT_VECTOR, which stops
 * the CPU, and every vector nobody asked for. */
	irq_entry stop_stub, stop_ipi
	irq_entry stray_stub, stray_irq

/* CPU exceptions are kernel panics (and so trigger kdump when loaded). */
	.macro exc_stub n
	.global exc_stub_\n
exc_stub_\n:
	movq $\n, %rdi
	movq %rsp, %rsi
	andq $-16, %rsp
	call exception_handler
	.endm
	.irp n, 0,1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	exc_stub \n
	.endr

	.section .bss
	.align 16
	.global kstacks
kstacks:	.skip KSTACK_SIZE * (MAX_CPUS + 1)
boot_stack:	.skip KSTACK_SIZE
boot_stack_top:
