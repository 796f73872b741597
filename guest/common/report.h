/*
 * Report records (the COM2 contract in docs/architecture.md) and the human
 * log on COM1.
 *
 * One JSON object per line, ASCII, at most REC_MAX bytes.  The firmware and
 * the kernel write to the same UART, so both use the one lock that lives in
 * the firmware's memory (struct report_channel); the kernel finds it through
 * the boot information.
 */
#ifndef WF_REPORT_H
#define WF_REPORT_H

#include "types.h"
#include "cpu.h"
#include "record.h"

#define COM1 0x3F8
#define COM2 0x2F8

/* Shared between firmware and every kernel generation; lives in NVS. */
struct report_channel {
	struct spinlock com1_lock;
	struct spinlock com2_lock;
	volatile u32 gen; /* the generation now running: fw records carry it */
	u32 pad;
	u64 tsc_base; /* TSC at firmware entry: t_us counts from here */
	u64 tsc_khz;
};

void report_setup(struct report_channel *ch, const char *src);
struct report_channel *report_channel(void);
void serial_init(u16 port);

u64 time_us(void);
void delay_us(u64 us);

/* A record of this side (fw or os) and generation, now; rec_end writes it.
 * The fields in between: record.h. */
void rec_begin(struct rec *r, const char *ev);
void rec_end(struct rec *r);

/* Convenience: an `error` record with a message, also logged on COM1. */
void report_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_verror(const char *fmt, va_list ap);

void klog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Bytes as they are on COM1 or COM2, under that port's lock (the flood steps). */
void report_raw(u16 port, const char *s, size_t n);

#endif
