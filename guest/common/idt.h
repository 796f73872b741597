/* 64-bit interrupt gates: the firmware and the kernel each build an IDT. */
#ifndef WF_IDT_H
#define WF_IDT_H

#include "types.h"

struct idt_gate {
	u16 off_lo, sel;
	u8 ist, attr;
	u16 off_mid;
	u32 off_hi, zero;
} PACKED;
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate");

/* Present, DPL 0, 64-bit interrupt gate (interrupts stay off) in code segment 0x08. */
static inline struct idt_gate
idt_gate(void *handler)
{
	u64 a = (u64)handler;

	return (struct idt_gate){ .off_lo = a,
		.sel = 0x08,
		.attr = 0x8E,
		.off_mid = a >> 16,
		.off_hi = a >> 32 };
}

#endif
