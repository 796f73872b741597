/*
 * log.h: one-line log records on stderr for every wakefarm binary.
 *
 *   2026-11-25T15:55:21.123Z INFO controller job=42: message
 *
 * UTC timestamp with milliseconds, level, component, the calling thread's
 * job id when one is set, then the message. Each record is written with a
 * single write(2) under a lock, so records from threads never interleave.
 * Control characters in messages are replaced so one record stays one line.
 * A daemon may send the records to a file it reopens on SIGHUP.
 */
#ifndef WF_LOG_H
#define WF_LOG_H

#include <stdint.h>

enum wf_log_level {
	WF_LOG_DEBUG,
	WF_LOG_INFO,
	WF_LOG_WARN,
	WF_LOG_FATAL,
};

/*
 * Set the component name shown in every record ("controller", "agent").
 * Call once from main before starting threads. The level starts at INFO,
 * or at $WF_LOG_LEVEL (debug, info, warn) when that is set and valid.
 */
void wf_log_init(const char *component);
void wf_log_set_level(enum wf_log_level level);
enum wf_log_level wf_log_get_level(void);
/* "debug", "info", "warn" (case-insensitive) into *out; 0 or -1. */
int wf_log_parse_level(const char *name, enum wf_log_level *out);
/* "debug", "info", "warn" or "fatal". */
const char *wf_log_level_name(enum wf_log_level level);

/* Tag this thread's records with job=ID; 0 removes the tag. Returns the
 * previous tag, for code that tags a few records and puts it back. */
int64_t wf_log_set_job(int64_t job_id);

/*
 * Send every record to the file at path instead (appended to, created mode
 * 0640): it is put on fd 2, so whatever else the process or its children
 * write to stderr lands there too. 0 or -1 with a cause; on failure stderr
 * is left as it was. wf_log_reopen opens the same path again (after a log
 * rotation moved the file away, on SIGHUP) and is a no-op without one; on
 * failure records keep going to the old file.
 */
int wf_log_open_file(const char *path, char **cause);
int wf_log_reopen(char **cause);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A warning; log_warn appends ": strerror(errno)", log_warnx does not. */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log at FATAL and exit(1); fatal appends ": strerror(errno)". */
void
fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void
fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
