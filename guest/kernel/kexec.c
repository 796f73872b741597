/*
 * kexec, panic and kdump.
 *
 * kexec loads a fresh copy of the kernel from the pristine ELF the firmware
 * handed over into the slot we are not running in, and jumps to it with the
 * next generation's boot information.  kdump loads that copy into the crash
 * region at boot; a panic on any CPU NMIs the others, each saves a crash
 * note and leaves (reset vector on 6.11 with version 1, halt otherwise), and
 * the panicking CPU jumps into the crash kernel, which may thus start on an AP.
 */
#include "kernel.h"
#include "../common/elf.h"
#include "../common/idle.h"

#define NOTES_TIMEOUT_US 1000000
#define KDUMP_BOOTINFO (CRASH_NOTES - 0x4000)

static volatile u32 crashing = 0xFFFFFFFF; /* APIC ID of the panicking CPU */
static struct bootinfo next_bi;

static u64
load_image(u64 base, const char **why)
{
	return elf_load((const void *)k.bi.kernel_file, k.bi.kernel_file_size,
	    base,
	    base == CRASH_BASE ? CRASH_NOTES - 0x4000 - base : KERNEL_SLOT_SIZE,
	    why);
}

void
crash_kernel_load(void)
{
	const char *why = "";

	if (k.bi.kind == BOOT_KDUMP || !k.bi.kernel_file)
		return; /* the kdump kernel runs inside the crash region itself */
	k.crash_entry = load_image(CRASH_BASE, &why);
	if (!k.crash_entry)
		kerror("could not load the crash kernel: %s", why);
}

static void
fill_next(struct bootinfo *n, u32 kind, u32 policy_override)
{
	*n = k.bi;
	n->gen = k.bi.gen + 1;
	n->kind = kind;
	n->crash_notes = kind == BOOT_KDUMP ? CRASH_NOTES : 0;
	if (policy_override)
		n->policy = policy_override;
}

NORETURN void
kexec_next(u32 policy_override)
{
	u64 slot = k.base == KERNEL_SLOT_A ? KERNEL_SLOT_B : KERNEL_SLOT_A;
	const char *why = "";
	struct rec r;
	u64 entry;

	rec_begin(&r, "kexec");
	rec_u64(&r, "to_gen", k.bi.gen + 1);
	rec_end(&r);
	stop_other_cpus();
	entry = load_image(slot, &why);
	if (!entry) {
		kerror("kexec: cannot load the next kernel: %s", why);
		kexit("error");
	}
	fill_next(&next_bi, BOOT_KEXEC, policy_override);
	klog("kexec: jumping to generation %u at 0x%lx", next_bi.gen, entry);
	cpu_drop_global_pages();
	((void (*)(struct bootinfo *))entry)(&next_bi);
	halt_forever();
}

static void
save_note(struct crash_notes *cn, u32 apic_id, u64 rip, u64 rsp)
{
	u32 i = __atomic_fetch_add(&cn->count, 1, __ATOMIC_ACQ_REL);

	if (i < CRASH_NOTES_MAX)
		cn->note[i] = (struct crash_note){
			.apic_id = apic_id, .rip = rip, .rsp = rsp
		};
}

/* Linux's nmi_shootdown_cpus: one NMI to every CPU but this one, whatever
 * the kernel thinks of it, so CPUs parked in the firmware get it too. */
static void
nmi_all_but_self(void)
{
	lapic_ipi(ICR_ALL_BUT_SELF, 0, ICR_NMI | ICR_ASSERT);
}

NORETURN void
panic(const char *reason)
{
	u32 self = cpu_apic_id();
	struct crash_notes *cn = (struct crash_notes *)CRASH_NOTES;
	struct bootinfo *kbi = (struct bootinfo *)KDUMP_BOOTINFO;
	u32 expected = 1;
	struct rec r;
	u64 deadline;

	cli();
	idle_timer_stop(); /* an AP panics from its idle loop */
	if (!__atomic_compare_exchange_n(&crashing, &(u32){ 0xFFFFFFFF }, self,
	        false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		halt_forever(); /* someone else is already panicking */
	rec_begin(&r, "panic");
	rec_u64(&r, "cpu", self);
	rec_str(&r, "reason", reason);
	rec_end(&r);
	klog("Kernel panic on CPU %u: %s", self, reason);
	if (!k.crash_entry)
		kexit("panic");

	cn->magic = CRASH_NOTES_MAGIC;
	cn->count = 0;
	cn->crashing_apic_id = self;
	save_note(cn, self, (u64)__builtin_return_address(0),
	    (u64)__builtin_frame_address(0));
	for (u32 i = 0; i < k.ncpus; i++) {
		u32 id = k.apic_ids[i];

		if (id != self && READ_ONCE(k.cpu[id].state) == CPU_ONLINE)
			expected++;
	}
	nmi_all_but_self();
	deadline = time_us() + NOTES_TIMEOUT_US;
	while (READ_ONCE(cn->count) < expected && time_us() < deadline)
		cpu_relax();

	/* The crash step is done once we reach the crash kernel. */
	rec_begin(&r, "step");
	rec_u64(&r, "index", k.bi.step);
	rec_str(&r, "name", "crash");
	rec_bool(&r, "ok", true);
	rec_end(&r);
	fill_next(kbi, BOOT_KDUMP, 0);
	kbi->step = k.bi.step + 1;
	kbi->step_rep = 0;
	klog("jumping to the crash kernel at 0x%lx", k.crash_entry);
	cpu_drop_global_pages();
	((void (*)(struct bootinfo *))k.crash_entry)(kbi);
	halt_forever();
}

void
nmi_handler(u64 *frame)
{
	u32 self = cpu_apic_id();

	if (READ_ONCE(crashing) == 0xFFFFFFFF || self == crashing)
		return; /* not a shoot-down: ignore */
	if (self >= MAX_CPUS || READ_ONCE(k.cpu[self].state) != CPU_ONLINE)
		return; /* an offline CPU ignores NMIs, as Linux's do */
	idle_timer_stop();
	save_note((struct crash_notes *)CRASH_NOTES, self, frame[0], frame[3]);
	/* 6.11: the crash kernel may need this CPU, so give it to the firmware. */
	if (k.policy != POLICY_PRE611 && k.offline_ok) {
		WRITE_ONCE(k.cpu[self].state, CPU_IN_FIRMWARE);
		cpu_handback(k.reset_vector);
	}
	WRITE_ONCE(k.cpu[self].state, CPU_HALTED);
	halt_forever();
}

void
kdump_report_notes(void)
{
	const struct crash_notes *cn = (const void *)k.bi.crash_notes;
	u32 ids[CRASH_NOTES_MAX], n;
	struct rec r;

	if (!cn || cn->magic != CRASH_NOTES_MAGIC) {
		kerror("kdump: no crash notes from the crashed kernel");
		return;
	}
	n = cn->count < CRASH_NOTES_MAX ? cn->count : CRASH_NOTES_MAX;
	for (u32 i = 0; i < n; i++)
		ids[i] = cn->note[i].apic_id;
	rec_begin(&r, "crash-notes");
	rec_u64(&r, "count", n);
	rec_u64(&r, "crashed_cpu", cn->crashing_apic_id);
	rec_u32_list(&r, "apic_ids", ids, n);
	rec_end(&r);
}
