/* Test kernel internals shared between its files. */
#ifndef K_KERNEL_H
#define K_KERNEL_H

#include "../common/types.h"
#include "../common/cpu.h"
#include "../common/acpi.h"
#include "../common/bootinfo.h"
#include "../common/layout.h"
#include "../common/report.h"

/* Where a CPU is, as the kernel sees it. */
enum cpu_state {
	CPU_ABSENT = 0, /* not in the MADT */
	CPU_PARKED, /* in the firmware's mailbox loop: can be woken */
	CPU_ONLINE, /* running our idle loop */
	CPU_IN_FIRMWARE, /* sent back through the reset vector */
	CPU_HALTED, /* halted in our code: lost until the next cold boot */
};

enum cpu_request {
	REQ_NONE = 0,
	REQ_OFFLINE, /* play dead */
	REQ_PANIC, /* the crash@CPU step */
};

#define STOP_VECTOR 0xF8 /* kexec's stop IPI: Linux's REBOOT_VECTOR */

struct percpu {
	volatile u32 state;
	volatile u32 request;
	volatile u32 callin; /* woke and reached the kernel (sticky) */
	volatile u32 ready; /* done coming up, interrupts taken once */
	bool booted_once; /* online at least once in this kernel */
	u64 wake_us; /* when the wakeup command was sent */
};

struct kernel {
	struct bootinfo bi; /* our own copy */
	u32 policy; /* POLICY_611 or POLICY_PRE611 */
	u32 self; /* APIC ID of the CPU running the kernel's main flow */
	u64 base; /* where this image runs */
	u32 ncpus; /* CPUs in the MADT */
	u32 apic_ids[MAX_CPUS]; /* in MADT order: index = crash@ index */
	struct percpu cpu[MAX_CPUS]; /* by APIC ID */
	struct acpi_madt *madt;
	struct madt_mp_wakeup *wakeup;
	u64 mailbox_paddr; /* cached at boot, as Linux does */
	u64 reset_vector; /* where CPUs are handed back (may be 0, as in Linux) */
	bool offline_ok; /* version 1 in a 24-byte entry (6.11 policy) */
	bool errors; /* an error record was emitted */
	u32 kdump_cpus; /* kdump kernel's CPU limit, 0 = none */
	u64 mbox_gap_us; /* mbox_gap_us=: pause between filling the mailbox
					 * and publishing the command (a preempted vCPU) */
	u64 crash_entry; /* loaded crash kernel, 0 = none */
};

extern struct kernel k;

/* madt.c */
int madt_setup(void);
void report_madt(void);

/* wakeup.c: the OS side of the mailbox protocol (Linux madt_wakeup.c) */
int mbox_wakeup_cpu(u32 apic_id, u64 vector);
bool mbox_test_cpu(u32 apic_id);
void report_mailbox(void);

/* smp.c */
void smp_init_trampoline(void);
void lapic_setup(void);
int cpu_up(u32 apic_id);
int cpu_down(u32 apic_id, const char **err);
void bring_up_all(void);
void stop_other_cpus(void);
u32 cpus_online(u32 *ids);
void report_online(void);
NORETURN void ap_main(void);

/* kexec.c */
void crash_kernel_load(void);
NORETURN void kexec_next(u32 policy_override);
NORETURN void panic(const char *reason);
void nmi_handler(u64 *frame);
void kdump_report_notes(void);

/* steps.c */
NORETURN void run_steps(void);

/* cpu.c */
void cpu_enable_nx(void);
void cpu_tables_init(void);
void cpu_tables_load(void);
int reset_tables_build(u64 reset_vector);
NORETURN void cpu_handback(u64 reset_vector);
void cpu_drop_global_pages(void);
void kerror(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
NORETURN void kexit(const char *status);

#endif
