/*
 * wakefarm test kernel: the OS side of the ACPI MADT multiprocessor wakeup
 * protocol, as Linux 6.11 implements it (or, with policy=pre-6.11, as Linux
 * 5.19 to 6.10 did).  One image serves every scenario: what to do comes from
 * the command line the firmware read from fw_cfg (steps=, policy=,
 * kdump_cpus=), where to resume from the boot information.
 */
#include "kernel.h"
#include "../common/idle.h"

struct kernel k;
extern char __image_base[];

static const char *
kind_name(u32 kind)
{
	return kind == BOOT_KEXEC ? "kexec" :
	    kind == BOOT_KDUMP    ? "kdump" :
	                            "cold";
}

static u32
policy_from_cmdline(void)
{
	char v[16];

	if (opt_get(k.bi.cmdline, "policy", v, sizeof(v)) &&
	    !strcmp(v, "pre-6.11"))
		return POLICY_PRE611;
	return POLICY_611;
}

static void
report_boot(void)
{
	struct rec r;

	rec_begin(&r, "boot");
	rec_str(&r, "kind", kind_name(k.bi.kind));
	rec_u64(&r, "cpu", k.self);
	rec_str(&r, "policy", k.policy == POLICY_PRE611 ? "pre-6.11" : "6.11");
	rec_hex(&r, "image", k.base);
	rec_end(&r);
}

/* On the caller's stack: take the boot information, then our own tables;
 * entry.S then moves to the kernel-half stack and calls kmain. */
void kearly(const struct bootinfo *bi);
void
kearly(const struct bootinfo *bi)
{
	k.bi = *bi; /* first: it lives in our caller's memory */
	k.base = (u64)__image_base;
	k.self = cpu_apic_id();
	cpu_enable_nx();
	cpu_tables_init();
	cpu_tables_load();
}

void kmain(void);
void
kmain(void)
{
	char v[16];
	u64 n;

	report_setup((struct report_channel *)k.bi.report_channel, "os");
	report_channel()->gen = k.bi.gen;
	if (k.bi.magic != BOOTINFO_MAGIC) {
		kerror("bad boot information");
		kexit("error");
	}
	k.policy = k.bi.policy ? k.bi.policy : policy_from_cmdline();
	idle_configure(k.bi.cmdline);
	k.bi.policy = k.policy;
	if (opt_get(k.bi.cmdline, "kdump_cpus", v, sizeof(v)) &&
	    parse_u64(v, &n))
		k.kdump_cpus = n;
	if (opt_get(k.bi.cmdline, "mbox_gap_us", v, sizeof(v)) &&
	    parse_u64(v, &n))
		k.mbox_gap_us = n;
	klog("generation %u (%s) on APIC ID %u, image at 0x%lx", k.bi.gen,
	    kind_name(k.bi.kind), k.self, k.base);
	report_boot();
	if (k.bi.kind == BOOT_KDUMP)
		kdump_report_notes();

	if (madt_setup() < 0)
		kexit("error");
	if (k.self < MAX_CPUS)
		k.cpu[k.self].state = CPU_ONLINE;
	lapic_setup();
	smp_init_trampoline();
	crash_kernel_load();
	report_mailbox();
	bring_up_all();
	report_online();
	report_mailbox();
	run_steps();
}
