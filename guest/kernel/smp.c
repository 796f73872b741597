/*
 * Bringing CPUs up through the mailbox, taking them down, and the idle loop
 * that online APs run.
 *
 * Interrupts are handled as Linux handles them, because what a CPU finds
 * pending when it comes up is part of what the firmware hands over: an AP
 * clears what is in service in its local APIC, calls in, then enables
 * interrupts (and takes whatever is pending) before it counts as up; the
 * stop IPI of kexec is Linux's REBOOT_VECTOR, sent with the all-but-self
 * shorthand whenever Linux would use it, and it stops the CPU that takes
 * it, whenever that is.  Offline and the crash step still go through a
 * per-CPU request word; only NMIs (the crash shoot-down) interrupt those.
 */
#include "kernel.h"
#include "../common/idle.h"

#define CALLIN_TIMEOUT_US 10000000 /* Linux waits 10 s for a woken CPU */
#define STOP_TIMEOUT_US 1000000
#define SPURIOUS_VECTOR 0xFF

extern char ap_stub[], ap_stub_end[], ap_stub_cr3[], ap_stub_target[],
    ap_start[];
extern char ap_stub_far[], ap_stub_cs[], ap_stub_gdt[], ap_stub_gdt_ptr[];

/* Patches the 8-byte word at `field` of the copy at OS_TRAMPOLINE. */
static void
stub_patch(const char *field, u64 v, size_t size)
{
	memcpy((u8 *)OS_TRAMPOLINE + (field - ap_stub), &v, size);
}

void
smp_init_trampoline(void)
{
	/* The vector must sit in one page below 1 MiB (ACPI 6.6); ap_stub
	 * reaches its data RIP-relatively, and its absolute addresses (the far
	 * jump's target, the GDT's base) are patched for the copy. */
	memcpy((void *)OS_TRAMPOLINE, ap_stub, ap_stub_end - ap_stub);
	stub_patch(ap_stub_cr3, read_cr3(), 8);
	stub_patch(ap_stub_target, (u64)ap_start, 8);
	stub_patch(ap_stub_far, OS_TRAMPOLINE + (ap_stub_cs - ap_stub), 4);
	stub_patch(
	    ap_stub_gdt_ptr + 2, OS_TRAMPOLINE + (ap_stub_gdt - ap_stub), 8);
}

/* Linux's setup_local_APIC, the part that matters here: software-enable
 * the APIC, then end whatever a previous owner left in service
 * (apic_pending_intr_clear).  Pending requests stay pending. */
void
lapic_setup(void)
{
	lapic_write(LAPIC_SVR, SVR_APIC_ENABLE | SPURIOUS_VECTOR);
	for (int i = 0; i < 512 && lapic_isr_highest() >= 0; i++)
		lapic_write(LAPIC_EOI, 0);
}

/* One moment with interrupts on: what is pending is taken now. */
static void
irq_window(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

/* An online AP's wait: halting with the idle tick, or spinning, but with
 * interrupts on either way, as Linux's idle loop has them. */
static void
ap_idle_wait(void)
{
	if (idle_halts) {
		idle_wait();
		return;
	}
	irq_window(); /* not "sti; pause": QEMU's PAUSE would end the window unopened */
	cpu_relax();
}

u32
cpus_online(u32 *ids)
{
	u32 n = 0;

	for (u32 i = 0; i < k.ncpus; i++)
		if (k.cpu[k.apic_ids[i]].state == CPU_ONLINE)
			ids[n++] = k.apic_ids[i];
	return n;
}

void
report_online(void)
{
	u32 ids[MAX_CPUS], n = cpus_online(ids);
	struct rec r;

	rec_begin(&r, "online");
	rec_u64(&r, "cpus_online", n);
	rec_u32_list(&r, "apic_ids", ids, n);
	rec_end(&r);
}

static bool
wait_state(u32 apic_id, u32 state, u64 timeout_us)
{
	u64 deadline = time_us() + timeout_us;

	while (READ_ONCE(k.cpu[apic_id].state) != state)
		if (time_us() > deadline)
			return false;
		else
			cpu_relax();
	return true;
}

/*
 * Wakes the CPU, waits up to CALLIN_TIMEOUT_US for it to call in, then
 * waits for it to finish coming up with no limit: Linux's CPU hotplug waits
 * for the new CPU's own part of bring-up the same way, and a CPU stopped in
 * between (a stale stop IPI) leaves it waiting for good.
 */
int
cpu_up(u32 apic_id)
{
	struct percpu *c = &k.cpu[apic_id];
	struct rec r;
	u64 t0 = time_us();

	u64 deadline = t0 + CALLIN_TIMEOUT_US;

	c->wake_us = t0;
	WRITE_ONCE(c->callin, 0);
	WRITE_ONCE(c->ready, 0);
	if (mbox_wakeup_cpu(apic_id, OS_TRAMPOLINE) < 0)
		return -1;
	while (!load_acquire(&c->callin))
		if (time_us() > deadline) {
			kerror(
			    "CPU with APIC ID %u did not call in after its wakeup",
			    apic_id);
			return -1;
		} else
			cpu_relax();
	while (!load_acquire(&c->ready))
		cpu_relax();
	c->booted_once = true;
	rec_begin(&r, "cpu-up");
	rec_u64(&r, "apic_id", apic_id);
	rec_u64(&r, "us", time_us() - t0);
	rec_end(&r);
	return 0;
}

/*
 * Linux 6.9 and later never wake "the real BSP" (the first CPU the MADT
 * enumerates) from a kernel that booted on another CPU, a kdump kernel
 * after a crash on an AP: on bare metal its INIT would reset the machine
 * (arch/x86/kernel/cpu/topology.c).  The 6.11 policy does the same.
 */
static void
skip_real_bsp(void)
{
	u32 real_bsp = k.apic_ids[0];

	if (k.policy != POLICY_611 || !k.ncpus || real_bsp == k.self)
		return;
	klog("Boot CPU APIC ID not the first enumerated APIC ID: %u != %u",
	    k.self, real_bsp);
	klog(
	    "Crash kernel detected. Disabling real BSP to prevent machine INIT");
	k.cpu[real_bsp].state = CPU_ABSENT;
}

void
bring_up_all(void)
{
	u32 limit = k.bi.kind == BOOT_KDUMP && k.kdump_cpus ? k.kdump_cpus :
	                                                      MAX_CPUS;
	u32 up = 1;

	skip_real_bsp();
	k.cpu[k.self].booted_once = true;
	for (u32 i = 0; i < k.ncpus && up < limit; i++) {
		u32 id = k.apic_ids[i];

		if (k.cpu[id].state != CPU_PARKED)
			continue;
		if (cpu_up(id) < 0)
			break; /* the mailbox is gone: so are the rest */
		up++;
	}
}

/* Offline, as Linux's CPU hotplug does it: the dying CPU leaves (through the
 * reset vector on 6.11 with version 1, by halting before 6.11), then the
 * driving CPU proves the firmware has it with the test command. */
int
cpu_down(u32 apic_id, const char **err)
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

/* Linux's apic_use_ipi_shorthand: "all but self" once more than one CPU is
 * online and every present CPU has booted at least once, even if some are
 * offline now (arch/x86/kernel/apic/ipi.c, apic_smt_update). */
static bool
ipi_shorthand_ok(u32 online)
{
	if (online < 2)
		return false;
	for (u32 i = 0; i < k.ncpus; i++)
		if (k.cpu[k.apic_ids[i]].state != CPU_ABSENT &&
		    !k.cpu[k.apic_ids[i]].booted_once)
			return false;
	return true;
}

/* kexec (Linux's native_stop_other_cpus): the stop IPI to every other CPU,
 * then wait until each online one has left, to the firmware if it can.  With
 * the shorthand the IPI also reaches CPUs that are offline, parked in the
 * firmware: it waits there for the next kernel. */
void
stop_other_cpus(void)
{
	u32 want = k.offline_ok ? CPU_IN_FIRMWARE : CPU_HALTED;
	u32 ids[MAX_CPUS], n = cpus_online(ids);

	if (ipi_shorthand_ok(n))
		lapic_ipi(ICR_ALL_BUT_SELF, 0, STOP_VECTOR);
	else
		for (u32 i = 0; i < n; i++)
			if (ids[i] != k.self)
				lapic_ipi(0, ids[i], STOP_VECTOR);
	for (u32 i = 0; i < n; i++)
		if (ids[i] != k.self &&
		    !wait_state(ids[i], want, STOP_TIMEOUT_US))
			kerror("CPU with APIC ID %u did not stop for kexec",
			    ids[i]);
}

/* As Linux's stop_this_cpu and play_dead: the CPU says it is gone, then
 * goes (the driving CPU may already be moving on). */
static NORETURN void
leave(struct percpu *c, bool to_firmware)
{
	idle_timer_stop();
	if (to_firmware) {
		WRITE_ONCE(c->state, CPU_IN_FIRMWARE);
		cpu_handback(k.reset_vector);
	}
	WRITE_ONCE(c->state, CPU_HALTED);
	halt_forever();
}

/* STOP_VECTOR (stop_stub), Linux's sysvec_reboot: EOI, then stop_this_cpu,
 * on whatever CPU takes it, whenever. */
void stop_ipi(void);
void
stop_ipi(void)
{
	u32 id = cpu_apic_id();

	lapic_write(LAPIC_EOI, 0);
	if (id >= MAX_CPUS || id == k.self) {
		klog(
		    "CPU %u: stop IPI on the CPU that runs the kernel, ignored",
		    id);
		return;
	}
	if (READ_ONCE(k.cpu[id].state) != CPU_ONLINE ||
	    !READ_ONCE(k.cpu[id].ready))
		klog("CPU %u: a stale stop IPI stops it while it comes up", id);
	leave(&k.cpu[id], k.policy != POLICY_PRE611 && k.offline_ok);
}

/* Any other vector (stray_stub): Linux logs "No irq handler for vector". */
void stray_irq(void);
void
stray_irq(void)
{
	int v = lapic_isr_highest();

	if (v < 0)
		return; /* spurious: no EOI */
	lapic_write(LAPIC_EOI, 0);
	klog("CPU %u: no handler for vector 0x%x", cpu_apic_id(), v);
}

NORETURN void
ap_main(void)
{
	u32 id = cpu_apic_id();
	struct percpu *c = &k.cpu[id];

	cpu_enable_nx(); /* a no-op: the firmware must have set it */
	cpu_tables_load();
	lapic_setup();
	WRITE_ONCE(c->request, REQ_NONE);
	idle_timer_start();
	store_release(&c->state, CPU_ONLINE);
	store_release(&c->callin, 1);
	irq_window();
	store_release(&c->ready, 1);
	for (;; ap_idle_wait()) {
		switch (load_acquire(&c->request)) {
		case REQ_OFFLINE:
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
