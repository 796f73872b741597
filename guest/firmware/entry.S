/*
 * Firmware shim entry points.
 *
 *   _start          multiboot entry (32-bit protected mode, paging off) on the BSP
 *   sipi_trampoline real-mode code copied to FW_SIPI_PAGE, where INIT-SIPI-SIPI
 *                   starts each AP
 *   ap_entry32      the APs' path from protected mode to long mode
 *   fw_reset_vector published in the MADT wakeup entry (version 1): an OS sends
 *                   a CPU here, in long mode on page tables that map only RAM
 *                   and this one page, and the CPU goes back to the mailbox
 *                   loop on firmware tables (the "reset page" below)
 *
 * Every CPU in the firmware runs on the firmware's GDT, IDT and identity page
 * tables (4 GiB in 2 MiB pages), with a stack chosen by its APIC ID, and with
 * the control registers a TDX vCPU has (docs/madt-wakeup.md, "CPU state"):
 * EFER = SCE | LME | NXE (the TDX module's initial 0x901; LMA follows from
 * paging), CR4 = PAE | MCE | OSFXSR | OSXMMEXCPT, CR0 = PG | WP | NE | ET | MP
 * | PE.  An OS's trampoline may load page tables whose entries carry NX, so an
 * AP must arrive at the wakeup vector with EFER.NXE already set: Linux 6.12's
 * trampoline_start64 does not write EFER before it loads its CR3.
 */
#include "../common/layout.h"
#include "../common/irq.inc"

#define FW_STACK_SIZE	8192
#define MSR_EFER	0xC0000080
#define EFER_SCE	(1 << 0)
#define EFER_LME	(1 << 8)
#define EFER_NXE	(1 << 11)
#define FW_EFER		(EFER_SCE | EFER_LME | EFER_NXE)
#define CR0_PE		(1 << 0)
#define CR0_MP		(1 << 1)
#define CR0_ET		(1 << 4)
#define CR0_NE		(1 << 5)
#define CR0_WP		(1 << 16)
#define CR0_PG		(1 << 31)
#define FW_CR0		(CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE)
#define CR4_PAE		(1 << 5)
#define CR4_MCE		(1 << 6)
#define CR4_PGE		(1 << 7)
#define CR4_OSFXSR	(1 << 9)
#define CR4_OSXMMEXCPT	(1 << 10)
#define CR4_LA57	(1 << 12)
#define CR4_PCIDE	(1 << 17)
#define FW_CR4		(CR4_PAE | CR4_MCE | CR4_OSFXSR | CR4_OSXMMEXCPT)
#define SEL_CODE64	0x08
#define SEL_DATA	0x10
#define SEL_CODE32	0x18
#define LINUX_BOOT_CS	0x10
#define LINUX_BOOT_DS	0x18

	.section .multiboot, "a"
	.align 4
	.long 0x1BADB002			/* multiboot 1 magic */
	.long 0x00000003			/* page-align modules, want memory map */
	.long -(0x1BADB002 + 0x00000003)

	.section .text32, "ax"
	.code32
	.global _start
_start:
	cli
	cld
	movl $boot_stack_top, %esp
	movl %ebx, mb_info			/* multiboot info pointer */
	movl $__bss_start, %edi			/* zero .bss: page tables, stacks, state */
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb

	/* Identity map 4 GiB: PML4[0] -> PDPT, PDPT[0..3] -> PD0..PD3, 2 MiB pages. */
	movl $fw_pdpt, %eax
	orl $0x3, %eax				/* present, writable */
	movl %eax, fw_pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $fw_pd, %eax
	orl $0x3, %eax
	movl %eax, fw_pdpt(,%ecx,8)
	incl %ecx
	cmpl $4, %ecx
	jne 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax				/* present, writable, 2 MiB page */
	movl %eax, fw_pd(,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jne 2b

	call enter_long_mode_32
	ljmp $SEL_CODE64, $bsp_entry64

/* Shared by BSP and APs: CR4, CR3, EFER, then paging.  Returns in
 * compatibility mode; the caller far-jumps into 64-bit code. */
enter_long_mode_32:
	lgdt fw_gdt_ptr
	movl $FW_CR4, %eax
	movl %eax, %cr4
	movl $fw_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	movl $FW_EFER, %eax
	xorl %edx, %edx
	wrmsr
	movl $FW_CR0, %eax
	movl %eax, %cr0
	ret

	.global ap_entry32
ap_entry32:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	/* A tiny shared stack is enough for one call; APs take the lock so
	 * that two of them never use it at once. */
3:	lock btsl $0, ap_boot_lock
	jc 3b
	movl $ap_boot_stack_top, %esp
	call enter_long_mode_32
	ljmp $SEL_CODE64, $ap_entry64

/* Real-mode trampoline: copied to FW_SIPI_PAGE; the SIPI vector is its page
 * number, so the AP starts here with CS = FW_SIPI_PAGE >> 4, IP = 0. */
	.code16
	.global sipi_trampoline, sipi_trampoline_end
sipi_trampoline:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl (FW_SIPI_PAGE + (sipi_gdt_ptr - sipi_trampoline))
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $ap_entry32
	.align 8
sipi_gdt_ptr:
	.word fw_gdt_end - fw_gdt - 1
	.long fw_gdt
sipi_trampoline_end:

	.text
	.code64
bsp_entry64:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	movl mb_info, %edi
	call fw_main
	jmp fw_halt

ap_entry64:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	call cpu_stack_top			/* %rax = this CPU's firmware stack */
	movq %rax, %rsp
	movl $0, ap_boot_lock			/* the shared boot stack is free again */
	call fw_ap_main
	jmp fw_halt

/* The reset vector's second half: firmware tables are live again. */
reset_long64:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $1, %eax				/* the stack by APIC ID, without a stack */
	cpuid
	shrl $24, %ebx				/* CPUID.01H:EBX[31:24] = initial APIC ID */
	cmpl $MAX_CPUS, %ebx
	jae fw_halt
	leaq 1(%rbx), %rax
	imulq $FW_STACK_SIZE, %rax
	addq $fw_stacks, %rax
	movq %rax, %rsp
	call fw_reset_main
	jmp fw_halt

/* linux_enter(entry %rdi, boot_params %rsi): the state the 64-bit boot
 * protocol documents: long mode, identity map (ours), interrupts off,
 * CS = __BOOT_CS (0x10), DS = ES = SS = __BOOT_DS (0x18), %rsi = zero page. */
	.global linux_enter
linux_enter:
	cli
	lgdt linux_gdt_ptr(%rip)
	movw $LINUX_BOOT_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	xorl %ebp, %ebp
	pushq $LINUX_BOOT_CS
	pushq %rdi
	lretq

/* %rax = top of the stack of the CPU we run on (by APIC ID); no stack used. */
cpu_stack_top:
	pushq %rbx
	pushq %rcx
	pushq %rdx
	movl $1, %eax
	cpuid
	shrl $24, %ebx				/* CPUID.01H:EBX[31:24] = initial APIC ID */
	cmpl $MAX_CPUS, %ebx
	jae fw_halt
	leaq 1(%rbx), %rax
	imulq $FW_STACK_SIZE, %rax
	addq $fw_stacks, %rax
	popq %rdx
	popq %rcx
	popq %rbx
	ret

	.global fw_halt
fw_halt:
	cli
	hlt
	jmp fw_halt

/* Exceptions in the firmware: report once and stop.  NMIs are ignored: an OS
 * shooting CPUs down may NMI one that already went back to the firmware.
 * Any other interrupt a parked CPU takes is held for its next OS (park.c). */
	.global fw_nmi_stub, fw_exc_stub
fw_nmi_stub:
	iretq
	irq_entry fw_irq_stub, fw_irq_hold
fw_exc_stub:
	movq (%rsp), %rdi
	call fw_exception
	jmp fw_halt

	.section .data
/* What Linux's boot protocol wants: flat 4 GiB __BOOT_CS/__BOOT_DS. */
	.align 16
linux_gdt:
	.quad 0
	.quad 0
	.quad 0x00AF9A000000FFFF		/* 0x10 __BOOT_CS: 64-bit code */
	.quad 0x00CF92000000FFFF		/* 0x18 __BOOT_DS: data */
linux_gdt_end:
	.align 16
linux_gdt_ptr:
	.word linux_gdt_end - linux_gdt - 1
	.quad linux_gdt
mb_info:
	.long 0
ap_boot_lock:
	.long 0


/*
 * The reset page: the version 1 reset vector and everything it reads before
 * the firmware's own page tables are live, in one 4 KiB page (fw.ld checks).
 *
 * The OS jumps here the way Linux's asm_acpi_mp_play_dead does: 64-bit mode,
 * interrupts off, CR4.PGE cleared, CR3 = tables the OS built that map its RAM
 * and this page, nothing more.  RSP, the IDT and the GDT are the OS's and may
 * be kernel addresses those tables do not map; CR4 may hold LA57 or PCIDE;
 * the OS may already be overwriting its own memory (kexec).  So nothing
 * outside this page is touched, and no stack, until paging has been turned
 * off and on again with the firmware's CR4, CR3 and EFER, as TDVF's
 * ApRunLoop does: that takes the CPU out of any paging mode the OS chose.
 * The GDT every firmware CPU uses lives here too.
 */
	.section .reset, "awx"
	.code64
	.global fw_reset_vector
fw_reset_vector:
	cli
	cmpb $0, fw_quirk_reset_on_os_stack(%rip)
	je 1f
	pushq %rax				/* quirk: the old firmware used the OS's stack here */
	popq %rax
1:	lgdt fw_gdt_ptr(%rip)
	ljmpl *reset_to_compat(%rip)		/* far pointer in this page */

	.code32
reset_compat:
	movl $SEL_DATA, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl %cr4, %eax				/* PCIDE must go before paging can */
	andl $~(CR4_PCIDE | CR4_PGE), %eax
	movl %eax, %cr4
	movl %cr0, %eax
	andl $~CR0_PG, %eax
	movl %eax, %cr0				/* paging off: out of long mode */
	movl $FW_CR4, %eax			/* LA57 off: 4-level paging */
	movl %eax, %cr4
	movl $fw_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	movl $FW_EFER, %eax
	xorl %edx, %edx
	wrmsr
	movl $FW_CR0, %eax
	movl %eax, %cr0				/* paging on: long mode, compatibility */
	ljmp $SEL_CODE64, $reset_long64

	.code64
	.align 8
reset_to_compat:
	.long reset_compat
	.word SEL_CODE32
	.global fw_quirk_reset_on_os_stack
fw_quirk_reset_on_os_stack:
	.byte 0
	.align 16
	.global fw_gdt
fw_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF		/* 0x08: 64-bit code */
	.quad 0x00CF92000000FFFF		/* 0x10: data */
	.quad 0x00CF9A000000FFFF		/* 0x18: 32-bit code */
fw_gdt_end:
	.align 16
fw_gdt_ptr:
	.word fw_gdt_end - fw_gdt - 1
	.quad fw_gdt

	.section .bss
	.align 4096
	.global fw_pml4
fw_pml4:	.skip 4096
fw_pdpt:	.skip 4096
fw_pd:		.skip 4 * 4096
fw_stacks:	.skip FW_STACK_SIZE * (MAX_CPUS + 1)
boot_stack:	.skip 16384
boot_stack_top:
ap_boot_stack:	.skip 256
ap_boot_stack_top:
