/*
 * The reporter: a static /init for real Linux kernels under the firmware
 * shim.  It speaks the report-record contract (docs/architecture.md) on COM2
 * (/dev/ttyS1) for the kernel it runs on, then performs the scenario's step
 * list through the kernel's own interfaces (sysfs, kexec_file_load, sysrq).
 */
#ifndef WF_REPORTER_H
#define WF_REPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_CPUS 64

#include "../common/record.h"

/* What the command line and the system say about this generation. */
struct gen_info {
	int gen; /* wakefarm.gen= (1 = cold boot) */
	char kind[8]; /* cold | kexec | kdump */
	char steps[512]; /* wakefarm.steps= */
	int step, rep; /* position in the list: wakefarm.step=, wakefarm.rep= */
	int kdump_cpus; /* wakefarm.kdump_cpus=: nr_cpus= of the crash kernel */
	uint64_t tsc_khz, tsc_base;
	char cmdline[4096]; /* /proc/cmdline */
	uint64_t mailbox; /* from the MADT; 0 = none */
	int apic_of_cpu[MAX_CPUS]; /* logical CPU -> APIC ID, -1 unknown */
	int ncpus_possible;
};

extern struct gen_info g;

/* records.c: one JSON object per line on the report port; the fields are
 * guest/common/record.h's (rec_u64, rec_i64, rec_hex, rec_str, rec_bool). */
int rec_open(const char *tty);
void rec_begin(struct rec *r, const char *ev);
void rec_int_list(struct rec *r, const char *key, const int *v, int n);
void rec_end(struct rec *r);
void report_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* COM1 */
uint64_t time_us(void);

/* sysinfo.c: what the kernel shows of the protocol. */
void report_boot(void);
void report_madt(void);
int report_online(void); /* returns CPUs online */
void report_mailbox(void);
void report_kmsg(void);
void report_crash_notes(void);
int cpu_of_apic(int apic_id);

/* steps.c */
int run_steps(void); /* 0 all done, -1 a step failed */

/* newc.c: cpio archives. */
int pack_initramfs(const char *out, const char *init, const char *kernel,
    const char *user_initrd);

#endif
