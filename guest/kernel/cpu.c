/*
 * The kernel's own CPU tables (GDT, IDT, page tables), the page tables and
 * the jump that hand a CPU back to the firmware, its self-relocation, and
 * the ways it ends (exit status, errors, exceptions).
 *
 * The tables are built the way Linux's are, so that the firmware meets the
 * state Linux leaves: data mapped no-execute (EFER.NXE is required to walk
 * them: an AP woken without it faults on its first stack access), global
 * pages with CR4.PGE on, and stacks, GDT and IDT at kernel-half addresses
 * (KERNEL_HALF) that no identity map covers.
 */
#include "kernel.h"
#include "../common/idt.h"
#include "../common/idle.h"

struct table_ptr {
	u16 limit;
	u64 base;
} PACKED;

#define PTE_P 0x001ULL
#define PTE_W 0x002ULL
#define PTE_PS 0x080ULL /* 2 MiB page in a PD entry */
#define PTE_G 0x100ULL /* global: survives a CR3 load while CR4.PGE is on */
#define PTE_NX (1ULL << 63) /* reserved (a #PF) unless EFER.NXE */
#define TABLE (PTE_P | PTE_W)
#define LARGE (PTE_P | PTE_W | PTE_PS | PTE_G)
#define SZ_2M 0x200000ULL
#define CR4_PGE (1ULL << 7)

static u64 gdt[3] = {
	0, 0x00AF9A000000FFFFULL, /* 0x08: 64-bit code */
	0x00CF92000000FFFFULL, /* 0x10: data */
};
static struct idt_gate idt[256] __attribute__((aligned(16)));

/* The running tables: the low 4 GiB identity-mapped (code may run below
 * LAYOUT_END only: the firmware's page, our slots, the crash region),
 * and the low LAYOUT_END again at KERNEL_HALF, no-execute. */
static u64 pml4[512] __attribute__((aligned(4096)));
static u64 pdpt[512] __attribute__((aligned(4096)));
static u64 pd[4][512] __attribute__((aligned(4096)));
static u64 pdpt_half[512] __attribute__((aligned(4096)));
static u64 pd_half[512] __attribute__((aligned(4096)));

/* The hand-back tables (Linux's acpi_mp_setup_reset): identity maps of the
 * e820 RAM ranges and of the reset vector's page, nothing else.  Stricter
 * than Linux, which maps whole 2 MiB pages around each range: partial
 * ranges here get 4 KiB pages. */
#define RESET_PTS 16
static u64 r_pml4[512] __attribute__((aligned(4096)));
static u64 r_pdpt[512] __attribute__((aligned(4096)));
static u64 r_pd[4][512] __attribute__((aligned(4096)));
static u64 r_pt[RESET_PTS][512] __attribute__((aligned(4096)));
static u32 r_pts_used;

static u64
read_cr4(void)
{
	u64 v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void
write_cr4(u64 v)
{
	__asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

/* The boot CPU turns NX on itself, before its tables need it (Linux's
 * startup_64); APs arrive with it from the firmware, as on TDX.  Like
 * Linux, EFER is written only when it changes. */
void
cpu_enable_nx(void)
{
	u64 efer = rdmsr(MSR_EFER);

	if (!(efer & EFER_NXE))
		wrmsr(MSR_EFER, efer | EFER_NXE);
}

extern char nmi_stub[], stop_stub[], stray_stub[];
#define EXC(n) extern char exc_stub_##n[];
/* clang-format off */
EXC(0) EXC(1) EXC(3) EXC(4) EXC(5) EXC(6) EXC(7) EXC(8) EXC(9) EXC(10) EXC(11)
EXC(12) EXC(13) EXC(14) EXC(15) EXC(16) EXC(17) EXC(18) EXC(19) EXC(20) EXC(21)
EXC(22) EXC(23) EXC(24) EXC(25) EXC(26) EXC(27) EXC(28) EXC(29) EXC(30) EXC(31)
    /* clang-format on */

    /* Applies R_X86_64_RELATIVE relocations; runs before anything else, so it
 * may only use RIP-relative references (hidden symbols). */
    struct rela {
	u64 offset, info;
	long long addend;
};
extern const struct rela __rela_start[] __attribute__((visibility("hidden")));
extern const struct rela __rela_end[] __attribute__((visibility("hidden")));

void kernel_relocate(u64 base);
void
kernel_relocate(u64 base)
{
	for (const struct rela *r = __rela_start; r < __rela_end; r++)
		if ((u32)r->info == 8) /* R_X86_64_RELATIVE */
			*(u64 *)(base + r->offset) = base + r->addend;
}

void
cpu_tables_init(void)
{
	void *exc[32] = {
		exc_stub_0,
		exc_stub_1,
		NULL,
		exc_stub_3,
		exc_stub_4,
		exc_stub_5,
		exc_stub_6,
		exc_stub_7,
		exc_stub_8,
		exc_stub_9,
		exc_stub_10,
		exc_stub_11,
		exc_stub_12,
		exc_stub_13,
		exc_stub_14,
		exc_stub_15,
		exc_stub_16,
		exc_stub_17,
		exc_stub_18,
		exc_stub_19,
		exc_stub_20,
		exc_stub_21,
		exc_stub_22,
		exc_stub_23,
		exc_stub_24,
		exc_stub_25,
		exc_stub_26,
		exc_stub_27,
		exc_stub_28,
		exc_stub_29,
		exc_stub_30,
		exc_stub_31,
	};

	pml4[0] = (u64)pdpt | TABLE;
	for (int i = 0; i < 4; i++) {
		pdpt[i] = (u64)pd[i] | TABLE;
		for (int j = 0; j < 512; j++) {
			u64 a = ((u64)i << 30) + ((u64)j << 21);

			pd[i][j] = a | LARGE | (a < LAYOUT_END ? 0 : PTE_NX);
		}
	}
	pml4[511] = (u64)pdpt_half |
	    TABLE; /* KERNEL_HALF: PML4 511, PDPT 510 */
	pdpt_half[510] = (u64)pd_half | TABLE;
	for (u64 a = 0; a < KERNEL_HALF_SIZE; a += SZ_2M)
		pd_half[a / SZ_2M] = a | LARGE | PTE_NX;
	for (int v = 0; v < 32; v++)
		idt[v] = idt_gate(v == 2 ? (void *)nmi_stub : exc[v]);
	for (int v = 32; v < 256; v++)
		idt[v] = idt_gate(stray_stub);
	idt[IDLE_VECTOR] = idt_gate(idle_tick_stub);
	idt[STOP_VECTOR] = idt_gate(stop_stub);
}

void
cpu_tables_load(void)
{
	struct table_ptr g = { sizeof(gdt) - 1, (u64)gdt + KERNEL_HALF };
	struct table_ptr i = { sizeof(idt) - 1, (u64)idt + KERNEL_HALF };

	__asm__ volatile("mov %2, %%cr3\n\t"
	                 "lgdt %0\n\t"
	                 "lidt %1\n\t"
	                 "pushq $0x08\n\t"
	                 "leaq 1f(%%rip), %%rax\n\t"
	                 "pushq %%rax\n\t"
	                 "lretq\n"
	                 "1:\tmov $0x10, %%ax\n\t"
	                 "mov %%ax, %%ds\n\t"
	                 "mov %%ax, %%es\n\t"
	                 "mov %%ax, %%ss\n\t" ::"m"(g),
	                 "m"(i), "r"((u64)pml4)
	                 : "rax", "memory");
	write_cr4(read_cr4() | CR4_PGE);
}

/* Entry for [a, a + 4 KiB) in the hand-back tables. */
static int
reset_map_page(u64 a)
{
	u64 *pde = &r_pd[a >> 30][(a >> 21) & 511];
	u64 *pt;

	if (*pde & PTE_PS)
		return 0; /* inside a whole 2 MiB page already */
	if (!*pde) {
		if (r_pts_used == RESET_PTS)
			return -1;
		*pde = (u64)r_pt[r_pts_used++] | TABLE;
	}
	pt = (u64 *)(*pde & ~0xFFFULL & ~PTE_NX);
	pt[(a >> 12) & 511] = a | PTE_P | PTE_W | PTE_G;
	return 0;
}

static int
reset_map_range(u64 start, u64 end)
{
	u64 a = (start + 0xFFF) & ~0xFFFULL;

	end &= ~0xFFFULL; /* whole pages only, as Linux's pfn ranges */
	if (end > 0x100000000ULL)
		end = 0x100000000ULL; /* the firmware and we live below 4 GiB */
	while (a < end) {
		if (!(a & (SZ_2M - 1)) && a + SZ_2M <= end) {
			r_pd[a >> 30][(a >> 21) & 511] = a | LARGE;
			a += SZ_2M;
			continue;
		}
		if (reset_map_page(a) < 0)
			return -1;
		a += 0x1000;
	}
	return 0;
}

int
reset_tables_build(u64 reset_vector)
{
	memset(r_pml4, 0, sizeof(r_pml4));
	memset(r_pdpt, 0, sizeof(r_pdpt));
	memset(r_pd, 0, sizeof(r_pd));
	r_pts_used = 0;
	r_pml4[0] = (u64)r_pdpt | TABLE;
	for (int i = 0; i < 4; i++)
		r_pdpt[i] = (u64)r_pd[i] | TABLE;
	for (u32 i = 0; i < k.bi.nmmap; i++)
		if (k.bi.mmap[i].type == E820_RAM &&
		    reset_map_range(k.bi.mmap[i].addr,
		        k.bi.mmap[i].addr + k.bi.mmap[i].size) < 0)
			return -1;
	return reset_map_page(reset_vector & ~0xFFFULL);
}

#define HANDBACK_VECTOR 0xEC /* Linux's LOCAL_TIMER_VECTOR */

/*
 * Hands this CPU to the firmware through the reset vector, in the state
 * Linux leaves it (stop_this_cpu or play_dead, then asm_acpi_mp_play_dead):
 * interrupts off, one interrupt request still pending (a timer tick that
 * came after interrupts went off), the local APIC's LVTs masked and the
 * APIC soft-disabled (which holds that request), CR4.PGE cleared, CR3 = the
 * hand-back tables, RSP and the GDT/IDT still at kernel-half addresses.
 */
NORETURN void
cpu_handback(u64 reset_vector)
{
	cli();
	lapic_ipi(ICR_SELF, 0, HANDBACK_VECTOR);
	lapic_mask_lvts();
	lapic_write(LAPIC_SVR,
	    lapic_read(LAPIC_SVR) & ~SVR_APIC_ENABLE); /* soft-disable */
	write_cr4(read_cr4() & ~CR4_PGE);
	__asm__ volatile("mov %0, %%cr3\n\t"
	                 "jmp *%1"
	                 :
	                 : "r"((u64)r_pml4), "r"(reset_vector)
	                 : "memory");
	__builtin_unreachable();
}

/* Before jumping to another kernel (kexec, kdump): no global entries of
 * ours may outlive the switch to its tables. */
void
cpu_drop_global_pages(void)
{
	write_cr4(read_cr4() & ~CR4_PGE);
}

void
kerror(const char *fmt, ...)
{
	va_list ap;

	k.errors = true; /* the run then ends with done status "error" */
	va_start(ap, fmt);
	report_verror(fmt, ap);
	va_end(ap);
}

/* isa-debug-exit statuses (QEMU exits with (v << 1) | 1): 0x10 completed,
 * 0x11 the kernel detected an error, 0x12 panic with no crash kernel. */
NORETURN void
kexit(const char *status)
{
	struct rec r;
	u8 v = !strcmp(status, "ok") ? 0x10 :
	    !strcmp(status, "error") ? 0x11 :
	                               0x12;

	rec_begin(&r, "done");
	rec_str(&r, "status", status);
	rec_end(&r);
	klog("done: %s", status);
	outb(0xF4, v);
	halt_forever();
}

void exception_handler(u64 vector, u64 *frame);
void
exception_handler(u64 vector, u64 *frame)
{
	char reason[64];
	/* vectors 8, 10-14, 17, 21 push an error code before the frame */
	bool errcode = vector == 8 || (vector >= 10 && vector <= 14) ||
	    vector == 17 || vector == 21;

	snprintf(reason, sizeof(reason), "exception %lu at rip 0x%lx", vector,
	    frame[errcode ? 1 : 0]);
	panic(reason);
}
