/*
 * buf.h: a growable byte buffer with a hard cap, for anything whose size
 * comes from outside (HTTP bodies, guest output, log chunks).
 *
 * An append that would take the length past the cap stores nothing, sets
 * `truncated` and returns -1: the buffer never grows beyond cap bytes (plus
 * the NUL that always follows the data). Appends are all-or-nothing so the
 * contents are never a torn record.
 */
#ifndef WF_BUF_H
#define WF_BUF_H

#include <stddef.h>

struct wf_buf {
	char *data; /* NULL until the first append; see wf_buf_str */
	size_t len; /* bytes stored, not counting the NUL */
	size_t alloc; /* bytes allocated */
	size_t cap; /* the most len may ever be */
	int truncated; /* an append was refused for the cap */
};

/* Start empty with a cap of cap bytes; allocates nothing. */
void wf_buf_init(struct wf_buf *b, size_t cap);
/* Append n bytes (may contain NULs): 0, or -1 over the cap or out of memory. */
int wf_buf_append(struct wf_buf *b, const void *data, size_t n);
int wf_buf_printf(struct wf_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * Append s (NULL: nothing) as XML 1.0 text, safe in text and in '...' or
 * "..." attributes, whatever bytes s holds: the five special characters as
 * entities, a control character other than newline and tab as '?', and
 * anything that is not a character XML allows (bytes that are not
 * well-formed UTF-8, surrogates, U+FFFE, U+FFFF) as U+FFFD. The output is
 * always well-formed UTF-8. 0, or -1 as for wf_buf_append.
 */
int wf_buf_xml(struct wf_buf *b, const char *s);
/* The same for len bytes that may hold NULs (each one becomes '?'). */
int wf_buf_xmln(struct wf_buf *b, const void *s, size_t len);
/*
 * Append len bytes as well-formed UTF-8 (RFC 3629): every ill-formed
 * sequence (a stray byte, an overlong form, a surrogate, a code point past
 * U+10FFFF, a sequence cut short) becomes U+FFFD, and so does a NUL. For
 * guest output on its way into JSON. 0, or -1 as for wf_buf_append.
 */
int wf_buf_utf8(struct wf_buf *b, const void *s, size_t len);
/*
 * The well-formed UTF-8 sequence at p (n bytes available): its length
 * (1..4) and *cp, or 0 when the bytes there are not one.
 */
size_t wf_utf8_next(const unsigned char *p, size_t n, unsigned long *cp);
/* The contents as a NUL-terminated string; "" when empty, never NULL. */
const char *wf_buf_str(const struct wf_buf *b);
/* Empty the buffer (keeping its memory and cap) and clear `truncated`. */
void wf_buf_reset(struct wf_buf *b);
/*
 * Hand the contents to the caller (who frees them; NULL if out of memory)
 * and leave the buffer empty, as after wf_buf_init with the same cap.
 */
char *wf_buf_steal(struct wf_buf *b);
/* Free the memory; the buffer is then empty. NULL is a no-op. */
void wf_buf_free(struct wf_buf *b);

#endif
