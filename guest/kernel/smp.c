/*
 * Bringing CPUs up through the mailbox, taking them down, and the idle loop
 * that online APs run.  APs poll a per-CPU request word with interrupts off;
 * only NMIs (the crash shoot-down) reach them.
 */
#include "kernel.h"
#include "../common/idle.h"

#define CALLIN_TIMEOUT_US 10000000	/* Linux waits 10 s for a woken CPU */
#define STOP_TIMEOUT_US 1000000

extern char ap_stub[], ap_stub_end[], ap_stub_cr3[], ap_stub_target[], ap_start[];

void smp_init_trampoline(void)
{
	u8 *page = (u8 *)OS_TRAMPOLINE;
	u64 cr3 = read_cr3(), target = (u64)ap_start;

	/* The vector must sit in one page below 1 MiB (ACPI 6.6); ap_stub
	 * reaches its two data words RIP-relatively, so a copy works. */
	memcpy(page, ap_stub, ap_stub_end - ap_stub);
	memcpy(page + (ap_stub_cr3 - ap_stub), &cr3, 8);
	memcpy(page + (ap_stub_target - ap_stub), &target, 8);
}

u32 cpus_online(u32 *ids)
{
	u32 n = 0;

	for (u32 i = 0; i < k.ncpus; i++)
		if (k.cpu[k.apic_ids[i]].state == CPU_ONLINE)
			ids[n++] = k.apic_ids[i];
	return n;
}

void report_online(void)
{
	u32 ids[MAX_CPUS], n = cpus_online(ids);
	struct rec r;

	rec_begin(&r, "online");
	rec_u64(&r, "cpus_online", n);
	rec_u32_list(&r, "apic_ids", ids, n);
	rec_end(&r);
}

static bool wait_state(u32 apic_id, u32 state, u64 timeout_us)
{
	u64 deadline = time_us() + timeout_us;

	while (READ_ONCE(k.cpu[apic_id].state) != state)
		if (time_us() > deadline)
			return false;
		else
			cpu_relax();
	return true;
}

int cpu_up(u32 apic_id)
{
	struct percpu *c = &k.cpu[apic_id];
	struct rec r;
	u64 t0 = time_us();

	c->wake_us = t0;
	if (mbox_wakeup_cpu(apic_id, OS_TRAMPOLINE) < 0)
		return -1;
	if (!wait_state(apic_id, CPU_ONLINE, CALLIN_TIMEOUT_US)) {
		kerror("CPU with APIC ID %u did not call in after its wakeup", apic_id);
		return -1;
	}
	rec_begin(&r, "cpu-up");
	rec_u64(&r, "apic_id", apic_id);
	rec_u64(&r, "us", time_us() - t0);
	rec_end(&r);
	return 0;
}

void bring_up_all(void)
{
	u32 limit = k.bi.kind == BOOT_KDUMP && k.kdump_cpus ? k.kdump_cpus : MAX_CPUS;
	u32 up = 1;

	for (u32 i = 0; i < k.ncpus && up < limit; i++) {
		u32 id = k.apic_ids[i];

		if (k.cpu[id].state != CPU_PARKED)
			continue;
		if (cpu_up(id) < 0)
			break;	/* the mailbox is gone: so are the rest */
		up++;
	}
}

/* Offline, as Linux's CPU hotplug does it: the dying CPU leaves (through the
 * reset vector on 6.11 with version 1, by halting before 6.11), then the
 * driving CPU proves the firmware has it with the test command. */
int cpu_down(u32 apic_id, const char **err)
{
	struct percpu *c = &k.cpu[apic_id];
	u32 gone = k.policy == POLICY_PRE611 ? CPU_HALTED : CPU_IN_FIRMWARE;

	if (apic_id == k.self || c->state != CPU_ONLINE) {
		*err = "EINVAL";
		return -1;
	}
	if (k.policy != POLICY_PRE611 && !k.offline_ok) {
		*err = "EOPNOTSUPP";
		return -1;
	}
	WRITE_ONCE(c->request, REQ_OFFLINE);
	if (!wait_state(apic_id, gone, STOP_TIMEOUT_US)) {
		*err = "ETIMEDOUT";
		kerror("CPU with APIC ID %u did not go offline", apic_id);
		return -1;
	}
	if (gone == CPU_IN_FIRMWARE && !mbox_test_cpu(apic_id)) {
		/* Linux's words; it still counts the CPU as offline. */
		kerror("Failed to hand over CPU %u to BIOS", apic_id);
		*err = "test-timeout";
	}
	return 0;
}

/* kexec: every other CPU leaves the kernel, to the firmware if it can. */
void stop_other_cpus(void)
{
	u32 want = k.offline_ok ? CPU_IN_FIRMWARE : CPU_HALTED;
	u32 asked[MAX_CPUS], n = 0;

	for (u32 i = 0; i < k.ncpus; i++) {
		u32 id = k.apic_ids[i];

		if (id != k.self && k.cpu[id].state == CPU_ONLINE) {
			WRITE_ONCE(k.cpu[id].request, REQ_STOP);
			asked[n++] = id;
		}
	}
	for (u32 i = 0; i < n; i++)
		if (!wait_state(asked[i], want, STOP_TIMEOUT_US))
			kerror("CPU with APIC ID %u did not stop for kexec", asked[i]);
}

NORETURN void jump_to_reset_vector(void)
{
	/* Linux's asm_acpi_mp_play_dead loads an identity-mapped CR3 first;
	 * ours is identity-mapped already.  Interrupts stay off. */
	__asm__ volatile("cli; jmp *%0" :: "r"(k.reset_vector));
	__builtin_unreachable();
}

static NORETURN void leave(struct percpu *c, bool to_firmware)
{
	idle_timer_stop();
	if (to_firmware) {
		WRITE_ONCE(c->state, CPU_IN_FIRMWARE);
		jump_to_reset_vector();
	}
	WRITE_ONCE(c->state, CPU_HALTED);
	halt_forever();
}

NORETURN void ap_main(void)
{
	u32 id = cpu_apic_id();
	struct percpu *c = &k.cpu[id];

	cpu_tables_load();
	WRITE_ONCE(c->request, REQ_NONE);
	idle_timer_start();
	store_release(&c->state, CPU_ONLINE);
	for (;; idle_wait()) {
		switch (load_acquire(&c->request)) {
		case REQ_OFFLINE:
		case REQ_STOP:
			WRITE_ONCE(c->request, REQ_NONE);
			leave(c, k.policy != POLICY_PRE611 && k.offline_ok);
		case REQ_PANIC:
			WRITE_ONCE(c->request, REQ_NONE);
			panic("crash step");
		default:
			break;
		}
	}
}
