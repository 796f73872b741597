/*
 * export.h: what the exports (JUnit, KCIDB) and the notifications share:
 * a case's name that stays the same from run to run, links to the
 * dashboard and the API under --public-url, times, a job's first failed
 * check and the tail of its guest log. Functions that read the database
 * are called with db->lock held.
 */
#ifndef WF_CTL_EXPORT_H
#define WF_CTL_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api.h"
#include "buf.h"

/* Lines and bytes of a guest log the exports and mails quote. */
#define EXPORT_LOG_LINES 30
#define EXPORT_LOG_BYTES 4096

/*
 * A case's name, the same in every run: its matrix values as
 * "cpus=2,mailbox_version=1" (keys sorted; a list as "a+b"), plus the
 * kernel it boots when the matrix does not name it ("kernel=PKG", a bisect
 * candidate as "test_kernel=sha256:0123456789ab"); "default" for a scenario
 * without axes. malloc'd (NULL when out of memory).
 */
char *export_case_name(const json_t *matrix, const json_t *params);

/*
 * The kernel a job boots, from its params: a Debian package, a path, a
 * stored image ("sha256:..."); NULL for our test kernel.
 */
const char *export_kernel(const json_t *params);

/* --public-url followed by the formatted path (malloc'd, NULL if no memory). */
char *export_url(const struct api *api, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* An integer id as the key of a JSON object ("42"), written into key. */
const char *export_key(char key[32], const json_t *id);

/* ms since the epoch as RFC 3339 UTC ("2026-01-01T02:00:00.000Z"). */
void export_time(int64_t ms, char out[40]);

/*
 * The first check of a job that failed (lowest generation, then order):
 * {"check", "gen", "expected", "observed"}, json_null() when none failed,
 * NULL on a database error.
 */
json_t *export_first_failed(struct db *db, int64_t job);

/*
 * The end of a job's guest log (port 0 or 1): at most max_lines lines and
 * max_bytes bytes, the bytes as stored (the caller escapes them). 0 or -1.
 */
int export_log_tail(struct db *db, int64_t job, int port, int max_lines,
    size_t max_bytes, struct wf_buf *out);

#endif
