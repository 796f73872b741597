/*
 * Waiting without spinning.  A CPU that only waits for a memory word to
 * change (the firmware's mailbox loop, the kernel's idle APs) halts between
 * looks, woken by a periodic local APIC timer.  Under QEMU's multi-threaded
 * TCG (what libvirt starts) a spinning vCPU burns a host core the working
 * CPU needs; a halted one sleeps.  The protocol is unchanged: the CPU still
 * polls, every IDLE_PERIOD_US at the latest.
 */
#ifndef WF_IDLE_H
#define WF_IDLE_H

#include "types.h"
#include "cpu.h"

#define IDLE_VECTOR 0x20 /* first vector after the exceptions */
#define IDLE_PERIOD_US 50

extern char idle_tick_stub[]; /* IDT handler for IDLE_VECTOR: EOI, return */

void idle_timer_start(void);
/* Changes the period of a running idle timer (the firmware slows it down
 * for CPUs that stay parked long: see guest/firmware/park.c). */
void idle_timer_period(u32 us);
/* Must run before the CPU leaves for code that does not expect the tick. */
void idle_timer_stop(void);

/*
 * Halting is right under multi-threaded TCG and KVM; under single-threaded
 * TCG (bare QEMU, guest/run-qemu) PAUSE already hands the host thread to the
 * next vCPU, and timer ticks on every idle CPU would cost more than they
 * save.  The runner says which with idle=halt|spin in the config line.
 */
extern bool idle_halts;
/* Reads idle= from a config/command line (default: halt). */
void idle_configure(const char *cmdline);

static inline void
idle_wait(void)
{
	if (!idle_halts) {
		cpu_relax();
		return;
	}
	/* sti's one-instruction shadow: the tick cannot slip in before hlt */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

#endif
