/*
 * The mailbox loop: the only place an AP waits while the firmware owns it.
 *
 * Every parked CPU polls the mailbox.  Only the CPU whose APIC ID is in the
 * mailbox acts: for a wakeup it takes the vector, acknowledges by clearing
 * the command, and jumps; for a test it clears the command.  Each served
 * command is traced on the report port before the acknowledgement, so the
 * trace is complete by the time the OS moves on.
 *
 * The order of the reads is TDVF's (OvmfPkg/TdxDxe/X64/ApRunLoop.nasm): a
 * non-zero command, then the APIC ID, then the command again, and only that
 * second read is acted on.  The OS writes the APIC ID and the vector before
 * it publishes the command (release), and rewrites them only after the
 * acknowledgement.  So a CPU that read a command meant for another CPU,
 * stalled, and then found its own ID (written for the *next* command, not
 * yet published) must not take the stale command: it would leave before its
 * wakeup is posted, and the OS would then wait forever for an answer.
 */
#include "fw.h"
#include "../common/idt.h"
#include "../common/idle.h"

struct acpi_mailbox fw_mailbox __attribute__((aligned(4096)));
volatile u32 fw_parked;

/* Every vector has a gate: an interrupt the OS left pending when it handed a
 * CPU back, or sent to a parked CPU, must not fault in the firmware.  The
 * old shim's 33-gate table is the keep-irq-state quirk. */
#define IDT_GATES 256
#define OLD_IDT_GATES (IDLE_VECTOR + 1)
static struct idt_gate idt[IDT_GATES] __attribute__((aligned(16)));
extern char fw_nmi_stub[], fw_exc_stub[], fw_irq_stub[];

/*
 * Interrupts a parked CPU took while it halted between looks, by APIC ID.
 * TDVF polls with interrupts off, so an interrupt for a parked CPU (one the
 * OS left pending when it handed the CPU back, or an IPI it sent later to
 * "all but self") waits in the local APIC until the next OS enables
 * interrupts on that CPU, and that OS then takes it.  Halting must not
 * change that: what the CPU took here is requested again, on itself, just
 * before it jumps to the OS (serve_wakeup), so the OS finds the same
 * requests pending.
 */
static u32 held[MAX_CPUS][8];

void
idt_load(void)
{
	u16 gates = fw.quirks.keep_irq_state ? OLD_IDT_GATES : IDT_GATES;
	struct {
		u16 limit;
		u64 base;
	} PACKED ptr = { gates * sizeof(idt[0]) - 1, (u64)idt };

	if (!idt[0].sel) {
		for (int v = 0; v < 32; v++)
			idt[v] = idt_gate(v == 2 ? fw_nmi_stub : fw_exc_stub);
		for (int v = 32; v < IDT_GATES; v++)
			idt[v] = idt_gate(fw_irq_stub);
		idt[IDLE_VECTOR] = idt_gate(idle_tick_stub);
	}
	__asm__ volatile("lidt %0" ::"m"(ptr));
}

void fw_exception(u64 word);
void
fw_exception(u64 word)
{
	report_error("firmware: CPU %u took an exception (stack word 0x%lx)",
	    cpu_apic_id(), word);
	fw_exit(0x13);
}

/* fw_irq_stub: the vector being taken is the one in service (interrupt
 * gates keep IF off, so nothing nests); a spurious interrupt has none and
 * wants no EOI. */
void fw_irq_hold(void);
void
fw_irq_hold(void)
{
	int v = lapic_isr_highest();
	u32 id = cpu_apic_id();

	if (v < 0)
		return;
	if (id < MAX_CPUS)
		held[id][v / 32] |= 1u << (v % 32);
	lapic_write(LAPIC_EOI, 0);
}

/* Requests again, on this CPU, what it took while parked. */
static void
release_held(u32 id)
{
	if (!idle_halts || id >= MAX_CPUS)
		return; /* spinning: nothing was ever taken */
	/* take what is still pending, then ask for what was held */
	__asm__ volatile("sti; nop; cli" ::: "memory");
	for (u32 v = 32; v < 256; v++)
		if (held[id][v / 32] & (1u << (v % 32)))
			lapic_ipi(ICR_SELF, 0, v);
	memset(held[id], 0, sizeof(held[id]));
}

/*
 * What an OS leaves in the local APIC when it hands a CPU back: Linux
 * soft-disables it, but pending requests (IRR) and vectors in service (ISR)
 * are held, and its LVT entries and task priority stay programmed.  Mask
 * every LVT, accept every priority, and end what is in service, so that the
 * idle timer can run; a pending request is then taken by its gate and held
 * for the next OS (fw_irq_hold).
 */
static void
lapic_reclaim(void)
{
	lapic_mask_lvts();
	lapic_write(LAPIC_TPR, 0);
	for (int i = 0; i < 256 && lapic_isr_highest() >= 0; i++)
		lapic_write(LAPIC_EOI, 0);
}

static NORETURN void
jump_to(u64 vector)
{
	/* The state of docs/madt-wakeup.md: interrupts off, long mode, the
	 * vector's page identity-mapped (our tables map all of the low 4 GiB),
	 * EFER, CR0 and CR4 as a TDX vCPU has them (entry.S). */
	if (fw.quirks.wakeup_no_nxe) /* the old shim: EFER.NXE clear */
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_NXE);
	__asm__ volatile("cli; jmp *%0" ::"r"(vector));
	__builtin_unreachable();
}

static void
trace(const char *ev, u32 apic_id, u64 vector, bool has_vector)
{
	struct rec r;

	rec_begin(&r, ev);
	rec_u64(&r, "apic_id", apic_id);
	if (has_vector)
		rec_hex(&r, "vector", vector);
	rec_end(&r);
}

static NORETURN void
serve_wakeup(struct acpi_mailbox *mb, u32 apic_id)
{
	u64 vector = READ_ONCE(mb->wakeup_vector);

	trace("fw-wake", apic_id, vector, true);
	if (fw.quirks.slow_ack_ms)
		delay_us(fw.quirks.slow_ack_ms * 1000ULL);
	if (fw.quirks.clear_vector)
		WRITE_ONCE(
		    mb->wakeup_vector, 0); /* the bug: command stays set */
	else
		store_release(&mb->command, MBOX_CMD_NOOP);
	idle_timer_stop();
	release_held(apic_id);
	jump_to(vector);
}

/* Older TDVF numbered command 2 "sleep": the CPU stops for good and never
 * clears the command, so an OS's test times out and its next wakeup of
 * that CPU is never answered. */
static NORETURN void
sleep_forever(u32 apic_id)
{
	trace("fw-sleep", apic_id, 0, false);
	idle_timer_stop();
	halt_forever();
}

/*
 * A parked CPU looks every IDLE_PERIOD_US while the OS is busy with the
 * mailbox, and every PARK_SLOW_US once nothing has happened for
 * PARK_FAST_TICKS looks.  Each tick costs the working CPU a vCPU switch
 * under TCG: at 50 us a CPU left parked through a Linux boot (about 1 s
 * before its wakeup) slowed the boot by a fifth (bench/linux.sh); at 1 ms a
 * late wakeup waits at most 1 ms, which Linux spends spinning anyway.
 * Halting between looks is invisible to the OS: the CPU is handed over with
 * interrupts off and its timer masked, and with the same interrupt requests
 * pending as a CPU that spun with interrupts off would have (held[]).
 */
#define PARK_SLOW_US 1000
#define PARK_FAST_TICKS 400 /* 20 ms at IDLE_PERIOD_US */

NORETURN void
fw_park(u32 apic_id)
{
	struct acpi_mailbox *mb = &fw_mailbox;
	bool test_traced = false, stalled = false;
	u32 quiet = 0;

	idle_timer_start();
	for (;; idle_wait()) {
		u16 cmd = load_acquire(&mb->command);

		if (cmd != MBOX_CMD_NOOP && quiet >= PARK_FAST_TICKS)
			idle_timer_period(
			    IDLE_PERIOD_US); /* the OS is at work again */
		if (cmd != MBOX_CMD_NOOP)
			quiet = 0;
		else if (++quiet == PARK_FAST_TICKS)
			idle_timer_period(PARK_SLOW_US);
		if (cmd == MBOX_CMD_NOOP) {
			test_traced = false;
			continue;
		}
		if (fw.quirks.poll_stall_ms &&
		    apic_id == fw.quirks.poll_stall_apic && !stalled) {
			stalled = true;
			delay_us(fw.quirks.poll_stall_ms * 1000ULL);
		}
		if (READ_ONCE(mb->apic_id) != apic_id) {
			test_traced = false;
			continue;
		}
		if (!fw.quirks.poll_early_command)
			cmd = load_acquire(
			    &mb->command); /* the command now addressed to us */
		if (cmd == MBOX_CMD_WAKEUP)
			serve_wakeup(mb, apic_id);
		if (cmd == MBOX_CMD_TEST && fw.quirks.test_is_sleep)
			sleep_forever(apic_id);
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
void
fw_ap_main(void)
{
	u32 id = cpu_apic_id();

	idt_load();
	fw_mtrr_load();
	__atomic_fetch_add(&fw_parked, 1, __ATOMIC_RELEASE);
	fw_park(id);
}

/* Entered from the reset page (entry.S) on firmware tables and stack. */
void fw_reset_main(void);
void
fw_reset_main(void)
{
	u32 id = cpu_apic_id();

	idt_load();
	if (!fw.quirks.keep_irq_state)
		lapic_reclaim();
	trace("fw-reset", id, 0, false);
	fw_park(id);
}
