/* Periodic local APIC timer for idle_wait() (see idle.h). */
#include "cpu.h"
#include "idle.h"

/* EOI to the local APIC, then back to the hlt that the tick ended. */
__asm__(".text\n"
        ".global idle_tick_stub\n"
        "idle_tick_stub:\n"
        "\tpushq %rax\n"
        "\tmovabsq $0xFEE000B0, %rax\n" /* LAPIC EOI register */
        "\tmovl $0, (%rax)\n"
        "\tpopq %rax\n"
        "\tiretq\n");

bool idle_halts = true;

void
idle_configure(const char *cmdline)
{
	char v[8];

	if (opt_get(cmdline, "idle", v, sizeof(v)))
		idle_halts = strcmp(v, "spin") != 0;
}

void
idle_timer_start(void)
{
	if (!idle_halts)
		return;
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | SVR_APIC_ENABLE);
	lapic_write(LAPIC_TIMER_DIV, 0x3); /* divide by 16 */
	lapic_write(LAPIC_LVT_TIMER, IDLE_VECTOR | LVT_PERIODIC);
	/* QEMU's APIC timer counts at 1 GHz: 1000/16 ticks per microsecond */
	lapic_write(LAPIC_TIMER_INIT, IDLE_PERIOD_US * 1000 / 16);
}

void
idle_timer_period(u32 us)
{
	if (!idle_halts)
		return;
	lapic_write(LAPIC_TIMER_INIT, us * 1000 / 16); /* restarts the count */
}

void
idle_timer_stop(void)
{
	if (!idle_halts)
		return;
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_INIT, 0);
	lapic_write(
	    LAPIC_EOI, 0); /* a tick taken just now must not stay in service */
}
