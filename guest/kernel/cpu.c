/*
 * The kernel's own CPU tables (GDT, IDT, identity page tables), its
 * self-relocation, and the ways it ends (exit status, errors, exceptions).
 */
#include "kernel.h"
#include "../common/idt.h"
#include "../common/idle.h"


struct table_ptr {
	u16 limit;
	u64 base;
} PACKED;

static u64 gdt[3] = {
	0,
	0x00AF9A000000FFFFULL,	/* 0x08: 64-bit code */
	0x00CF92000000FFFFULL,	/* 0x10: data */
};
static struct idt_gate idt[IDLE_VECTOR + 1] __attribute__((aligned(16)));
static u64 pml4[512] __attribute__((aligned(4096)));
static u64 pdpt[512] __attribute__((aligned(4096)));
static u64 pd[4][512] __attribute__((aligned(4096)));

extern char nmi_stub[];
#define EXC(n) extern char exc_stub_##n[];
EXC(0) EXC(1) EXC(3) EXC(4) EXC(5) EXC(6) EXC(7) EXC(8) EXC(9) EXC(10) EXC(11)
EXC(12) EXC(13) EXC(14) EXC(15) EXC(16) EXC(17) EXC(18) EXC(19) EXC(20) EXC(21)
EXC(22) EXC(23) EXC(24) EXC(25) EXC(26) EXC(27) EXC(28) EXC(29) EXC(30) EXC(31)

/* Applies R_X86_64_RELATIVE relocations; runs before anything else, so it
 * may only use RIP-relative references (hidden symbols). */
struct rela {
	u64 offset, info;
	long long addend;
};
extern const struct rela __rela_start[] __attribute__((visibility("hidden")));
extern const struct rela __rela_end[] __attribute__((visibility("hidden")));

void kernel_relocate(u64 base);
void kernel_relocate(u64 base)
{
	for (const struct rela *r = __rela_start; r < __rela_end; r++)
		if ((u32)r->info == 8)	/* R_X86_64_RELATIVE */
			*(u64 *)(base + r->offset) = base + r->addend;
}

void cpu_tables_init(void)
{
	void *exc[32] = {
		exc_stub_0, exc_stub_1, NULL, exc_stub_3, exc_stub_4, exc_stub_5,
		exc_stub_6, exc_stub_7, exc_stub_8, exc_stub_9, exc_stub_10, exc_stub_11,
		exc_stub_12, exc_stub_13, exc_stub_14, exc_stub_15, exc_stub_16,
		exc_stub_17, exc_stub_18, exc_stub_19, exc_stub_20, exc_stub_21,
		exc_stub_22, exc_stub_23, exc_stub_24, exc_stub_25, exc_stub_26,
		exc_stub_27, exc_stub_28, exc_stub_29, exc_stub_30, exc_stub_31,
	};

	/* Identity map of the low 4 GiB in 2 MiB pages: RAM, LAPIC, and the
	 * firmware's reset vector all stay where their physical address is. */
	pml4[0] = (u64)pdpt | 0x3;
	for (int i = 0; i < 4; i++) {
		pdpt[i] = (u64)pd[i] | 0x3;
		for (int j = 0; j < 512; j++)
			pd[i][j] = ((u64)i << 30) + ((u64)j << 21) + 0x83;
	}
	for (int v = 0; v < 32; v++)
		idt[v] = idt_gate(v == 2 ? (void *)nmi_stub : exc[v]);
	idt[IDLE_VECTOR] = idt_gate(idle_tick_stub);
}

void cpu_tables_load(void)
{
	struct table_ptr g = { sizeof(gdt) - 1, (u64)gdt };
	struct table_ptr i = { sizeof(idt) - 1, (u64)idt };

	__asm__ volatile(
		"mov %2, %%cr3\n\t"
		"lgdt %0\n\t"
		"lidt %1\n\t"
		"pushq $0x08\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\tmov $0x10, %%ax\n\t"
		"mov %%ax, %%ds\n\t"
		"mov %%ax, %%es\n\t"
		"mov %%ax, %%ss\n\t"
		:: "m"(g), "m"(i), "r"((u64)pml4) : "rax", "memory");
}

void kerror(const char *fmt, ...)
{
	va_list ap;

	k.errors = true;	/* the run then ends with done status "error" */
	va_start(ap, fmt);
	report_verror(fmt, ap);
	va_end(ap);
}

/* isa-debug-exit statuses (QEMU exits with (v << 1) | 1): 0x10 completed,
 * 0x11 the kernel detected an error, 0x12 panic with no crash kernel. */
NORETURN void kexit(const char *status)
{
	struct rec r;
	u8 v = !strcmp(status, "ok") ? 0x10 : !strcmp(status, "error") ? 0x11 : 0x12;

	rec_begin(&r, "done");
	rec_str(&r, "status", status);
	rec_end(&r);
	klog("done: %s", status);
	outb(0xF4, v);
	halt_forever();
}

void exception_handler(u64 vector, u64 *frame);
void exception_handler(u64 vector, u64 *frame)
{
	char reason[64];
	/* vectors 8, 10-14, 17, 21 push an error code before the frame */
	bool errcode = vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;

	snprintf(reason, sizeof(reason), "exception %lu at rip 0x%lx", vector, frame[errcode ? 1 : 0]);
	panic(reason);
}
