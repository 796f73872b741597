/*
 * known.h: a known issue's log regex against a job's guest logs, with a
 * bounded cost. Pure: no database (regress.c stores what it finds).
 *
 * Patterns are PCRE2 (Perl syntax; the POSIX extended patterns known issues
 * were written in before mean the same), matched byte by byte (no UTF
 * mode: guest output is untrusted bytes) against each line of a log, with
 * PCRE2's match, depth and heap limits, and a deadline for all the issues
 * of one job: whatever the pattern and the log, classifying a job costs at
 * most KNOWN_BUDGET_MS. A line is shown as valid UTF-8 text, at most
 * KNOWN_LINE_SHOWN bytes (wf_text_clean).
 *
 * Fuzzed: tests/fuzz/fuzz_known.c.
 */
#ifndef WF_CTL_KNOWN_H
#define WF_CTL_KNOWN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define KNOWN_LINE_SHOWN 300
#define KNOWN_BUDGET_MS 2000 /* per job, all issues, both ports */
#define KNOWN_MATCH_LIMIT 1000000 /* PCRE2 match() calls per line */
#define KNOWN_DEPTH_LIMIT 10000 /* PCRE2 backtracking depth */
#define KNOWN_HEAP_LIMIT 8192 /* KiB of PCRE2 heap per match */
#define KNOWN_REGEX_MAX 1024 /* bytes of a pattern */

/* 0 when pattern compiles, else -1 with the cause (PCRE2's, with offset). */
int known_regex_check(const char *pattern, char **cause);

/*
 * The log regex of every issue of issues ([{"id", "log_regex"}], those with
 * an empty or missing log_regex left out) against logs[0] (COM1) then
 * logs[1] (COM2), of lens[i] bytes each: a new object, the issue's id (as
 * a string) to its first matching line {"port", "line_no", "line"}, or to
 * null when no line matched. A pattern that does not compile never
 * matches. When a line hits PCRE2's limits it does not match; when the
 * deadline (wf_now_ms, monotonic) passes, the issues not finished do not
 * match either. *stats (when not NULL): lines that hit a limit, and
 * whether the deadline passed. NULL only when memory runs out.
 */
struct known_stats {
	unsigned long limited; /* lines that hit a PCRE2 limit */
	int out_of_time; /* the deadline passed */
};
json_t *known_match_logs(const json_t *issues, const char *const logs[2],
    const size_t lens[2], int64_t deadline_ms, struct known_stats *stats);

#endif
