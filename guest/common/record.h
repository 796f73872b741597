/*
 * record.h: building one report record (the COM2 contract of
 * docs/architecture.md, "Report records"): a JSON object on one line,
 * ASCII only, with v, src, gen, ev and t_us first.
 *
 * Shared by the freestanding firmware and test kernel (common/report.c)
 * and by the reporter /init, a static libc program (linux-init/records.c):
 * it needs only snprintf, strlen and memcpy.  Each of them decides where
 * the finished line goes.  A field that does not fit is left out whole;
 * the line always closes.
 */
#ifndef WF_RECORD_H
#define WF_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The firmware's and kernel's records stay far below the contract's 4096
 * bytes (their stacks are small); the reporter is built with
 * -DREC_MAX=4096 (guest/module.mk), for every one of its objects. */
#ifndef REC_MAX
#define REC_MAX 1024
#endif

struct rec {
	char buf[REC_MAX];
	size_t len;
};

void rec_start(struct rec *r, const char *src, unsigned gen, uint64_t t_us,
    const char *ev);
void rec_u64(struct rec *r, const char *key, uint64_t v);
void rec_i64(struct rec *r, const char *key, long long v);
void rec_hex(struct rec *r, const char *key, uint64_t v);
void rec_str(struct rec *r, const char *key, const char *s);
void rec_bool(struct rec *r, const char *key, bool v);
void rec_u32_list(struct rec *r, const char *key, const uint32_t *v, size_t n);
/* Closes the object with "}\n": r->buf[0 .. r->len) is the line to write. */
void rec_close(struct rec *r);

#endif
