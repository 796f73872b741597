/* x86-64 instructions the guest needs, as inline helpers. */
#ifndef WF_CPU_H
#define WF_CPU_H

#include "types.h"

static inline void
outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline u8
inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void
outw(u16 port, u16 v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline void
outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline u32
inl(u16 port)
{
	u32 v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u64
rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

#define MSR_EFER 0xC0000080
#define EFER_NXE (1ULL << 11)

static inline u64
rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}
static inline void
wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"a"((u32)v), "d"((u32)(v >> 32)), "c"(msr));
}

static inline void
cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid"
	                 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
	                 : "a"(leaf), "c"(0));
}

/* Initial APIC ID of the running CPU: CPUID.01H:EBX[31:24]. */
static inline u32
cpu_apic_id(void)
{
	u32 a, b, c, d;
	cpuid(1, &a, &b, &c, &d);
	return b >> 24;
}

static inline void
cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}
static inline void
barrier(void)
{
	__asm__ volatile("" ::: "memory");
}
static inline void
cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline NORETURN void
halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

static inline u64
read_cr3(void)
{
	u64 v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline u32
mmio_read32(u64 addr)
{
	return *(volatile u32 *)addr;
}
static inline void
mmio_write32(u64 addr, u32 v)
{
	*(volatile u32 *)addr = v;
}

/* Release store / acquire load for the mailbox handshake. x86 is TSO, so a
 * compiler barrier is what keeps the stores in program order. */
#define store_release(p, v)            \
	do {                           \
		barrier();             \
		WRITE_ONCE(*(p), (v)); \
	} while (0)
#define load_acquire(p)                                  \
	({                                               \
		__typeof__(*(p)) ___v = READ_ONCE(*(p)); \
		barrier();                               \
		___v;                                    \
	})

struct spinlock {
	volatile u32 locked;
};

static inline void
spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (READ_ONCE(l->locked))
			cpu_relax();
}

static inline void
spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* Local APIC (xAPIC MMIO). */
#define LAPIC_BASE 0xFEE00000UL
#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define SVR_APIC_ENABLE (1u << 8)
#define LAPIC_ISR 0x100 /* 8 registers, 16 bytes apart */
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_DELIVERY_PENDING (1u << 12)
#define LAPIC_LVT_TIMER 0x320 /* the LVTs: timer, thermal, perf, */
#define LAPIC_LVT_LAST 0x370 /* LINT0, LINT1, error, 16 bytes apart */
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV 0x3E0

static inline u32
lapic_read(u32 reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}
static inline void
lapic_write(u32 reg, u32 v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

#define ICR_SELF (1u << 18) /* destination shorthands */
#define ICR_ALL_BUT_SELF (3u << 18)
#define ICR_NMI (4u << 8) /* delivery mode NMI (else fixed) */
#define ICR_ASSERT (1u << 14)

/* Sends an IPI (fixed, edge, physical destination unless a shorthand) and
 * waits until the local APIC has taken it. */
static inline void
lapic_ipi(u32 shorthand, u32 apic_id, u32 low)
{
	lapic_write(LAPIC_ICR_HI, shorthand ? 0 : apic_id << 24);
	lapic_write(LAPIC_ICR_LO, shorthand | low);
	while (lapic_read(LAPIC_ICR_LO) & ICR_DELIVERY_PENDING)
		__asm__ volatile("pause" ::: "memory");
}

/* The highest vector in service in the local APIC, or -1. */
static inline int
lapic_isr_highest(void)
{
	for (int r = 7; r >= 0; r--) {
		u32 isr = lapic_read(LAPIC_ISR + 16 * r);

		if (isr)
			return r * 32 + 31 - __builtin_clz(isr);
	}
	return -1;
}

/* Masks every LVT entry: no local interrupt source can fire. */
static inline void
lapic_mask_lvts(void)
{
	for (u32 reg = LAPIC_LVT_TIMER; reg <= LAPIC_LVT_LAST; reg += 0x10)
		lapic_write(reg, LVT_MASKED);
}

#endif
