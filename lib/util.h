/*
 * util.h: the few helpers every wakefarm module needs and libc lacks:
 * monotonic clocks, bounded string copy, hex formatting and the "cause"
 * error-message convention.
 */
#ifndef WF_UTIL_H
#define WF_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic time (CLOCK_MONOTONIC): for timeouts and durations, never for dates. */
int64_t wf_now_ms(void);
int64_t wf_now_us(void);

/*
 * Copy src into dst (size bytes, always NUL-terminated when size > 0).
 * Returns strlen(src); a result >= size means the copy was truncated.
 */
size_t wf_strlcpy(char *dst, const char *src, size_t size);

/* Write 2 * len lowercase hex digits and a NUL into out (2 * len + 1 bytes). */
void wf_hex(char *out, const void *data, size_t len);

/*
 * The cause convention: a function that fails because of its input stores a
 * malloc'd message in *cause (the caller frees it) and returns -1. cause may
 * be NULL (the caller does not want the message); an earlier message in
 * *cause is freed and replaced. Out of memory leaves *cause NULL, so callers
 * print wf_cause_str(cause) rather than the pointer itself.
 */
void wf_set_cause(char **cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *wf_cause_str(const char *cause);

/*
 * The top of the tree this program was built in: the parent of the
 * directory holding the executable (bin/.. ), where db/, scenarios/,
 * build/guest/ and lib/sh/ are.  "." when /proc/self/exe cannot be read.
 */
const char *wf_tree_top(void);

/* 1 when s is a name: 1 to max characters of [A-Za-z0-9._-] (hosts,
 * schedules). */
int wf_name_ok(const char *s, size_t max);

/*
 * Untrusted bytes (a guest's output, a build log, a git subject) as text
 * that JSON, XML 1.0 and a terminal all take: valid UTF-8 where every
 * byte that does not start a well-formed character, every C0 control but
 * tab and newline, DEL, the C1 controls, surrogates and noncharacters
 * (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF) become U+FFFD. At most max bytes of
 * output, cut at a character boundary (never inside one). Malloc'd and
 * NUL-terminated (NUL bytes of the input are replaced too); NULL only when
 * memory runs out. *cut (when not NULL) = 1 when input was left out.
 */
char *wf_text_clean(const void *src, size_t len, size_t max, int *cut);

#endif
