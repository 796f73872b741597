/*
 * The mailbox loop: the only place an AP waits while the firmware owns it.
 *
 * Every parked CPU polls the mailbox.  Only the CPU whose APIC ID is in the
 * mailbox acts: for a wakeup it takes the vector, acknowledges by clearing
 * the command, and jumps; for a test it clears the command.  Each served
 * command is traced on the report port before the acknowledgement, so the
 * trace is complete by the time the OS moves on.
 */
#include "fw.h"
#include "../common/idt.h"
#include "../common/idle.h"

struct acpi_mailbox fw_mailbox __attribute__((aligned(4096)));
volatile u32 fw_parked;


static struct idt_gate idt[IDLE_VECTOR + 1] __attribute__((aligned(16)));
extern char fw_nmi_stub[], fw_exc_stub[];

void idt_load(void)
{
	struct { u16 limit; u64 base; } PACKED ptr = { sizeof(idt) - 1, (u64)idt };

	if (!idt[0].sel)
		for (int v = 0; v < 32; v++)
			idt[v] = idt_gate(v == 2 ? fw_nmi_stub : fw_exc_stub);
	idt[IDLE_VECTOR] = idt_gate(idle_tick_stub);
	__asm__ volatile("lidt %0" :: "m"(ptr));
}

void fw_exception(u64 word);
void fw_exception(u64 word)
{
	report_error("firmware: CPU %u took an exception (stack word 0x%lx)", cpu_apic_id(), word);
	fw_exit(0x13);
}

static NORETURN void jump_to(u64 vector)
{
	/* Documented state: interrupts off, long mode, the vector's page
	 * identity-mapped (our tables map all of the low 4 GiB). */
	__asm__ volatile("cli; jmp *%0" :: "r"(vector));
	__builtin_unreachable();
}

static void trace(const char *ev, u32 apic_id, u64 vector, bool has_vector)
{
	struct rec r;

	rec_begin(&r, ev);
	rec_u64(&r, "apic_id", apic_id);
	if (has_vector)
		rec_hex(&r, "vector", vector);
	rec_end(&r);
}

/*
 * A parked CPU looks every IDLE_PERIOD_US while the OS is busy with the
 * mailbox, and every PARK_SLOW_US once nothing has happened for
 * PARK_FAST_TICKS looks.  Each tick costs the working CPU a vCPU switch
 * under TCG: at 50 us a CPU left parked through a Linux boot (about 1 s
 * before its wakeup) slowed the boot by a fifth (bench/linux.sh); at 1 ms a
 * late wakeup waits at most 1 ms, which Linux spends spinning anyway.
 */
#define PARK_SLOW_US		1000
#define PARK_FAST_TICKS		400	/* 20 ms at IDLE_PERIOD_US */

NORETURN void fw_park(u32 apic_id)
{
	struct acpi_mailbox *mb = &fw_mailbox;
	bool test_traced = false;
	u32 quiet = 0;

	idle_timer_start();
	for (;; idle_wait()) {
		u16 cmd = load_acquire(&mb->command);

		if (cmd != MBOX_CMD_NOOP && quiet >= PARK_FAST_TICKS)
			idle_timer_period(IDLE_PERIOD_US);	/* the OS is at work again */
		if (cmd != MBOX_CMD_NOOP)
			quiet = 0;
		else if (++quiet == PARK_FAST_TICKS)
			idle_timer_period(PARK_SLOW_US);
		if (cmd == MBOX_CMD_NOOP || READ_ONCE(mb->apic_id) != apic_id) {
			test_traced = false;
			continue;
		}
		if (cmd == MBOX_CMD_WAKEUP) {
			u64 vector = READ_ONCE(mb->wakeup_vector);

			trace("fw-wake", apic_id, vector, true);
			if (fw.quirks.slow_ack_ms)
				delay_us(fw.quirks.slow_ack_ms * 1000ULL);
			if (fw.quirks.clear_vector)
				WRITE_ONCE(mb->wakeup_vector, 0);	/* the bug: command stays set */
			else
				store_release(&mb->command, MBOX_CMD_NOOP);
			idle_timer_stop();
			jump_to(vector);
		}
		if (cmd == MBOX_CMD_TEST) {
			if (!test_traced)
				trace("fw-test", apic_id, 0, false);
			test_traced = true;
			if (!fw.quirks.no_test_ack)
				store_release(&mb->command, MBOX_CMD_NOOP);
		}
	}
}

void fw_ap_main(void);
void fw_ap_main(void)
{
	u32 id = cpu_apic_id();

	idt_load();
	__atomic_fetch_add(&fw_parked, 1, __ATOMIC_RELEASE);
	fw_park(id);
}

void fw_reset_main(void);
void fw_reset_main(void)
{
	u32 id = cpu_apic_id();

	idt_load();
	trace("fw-reset", id, 0, false);
	fw_park(id);
}
