/*
 * strdist.h: "did you mean": the known name nearest to a misspelt one
 * (Levenshtein distance), for error messages that suggest the fix.
 */
#ifndef WF_STRDIST_H
#define WF_STRDIST_H

#include <stddef.h>

/* The edit distance of a and b (insertions, deletions, substitutions);
 * strings longer than 64 bytes count as far from everything (1000). */
size_t wf_strdist(const char *a, const char *b);

/*
 * The entry of the NULL-terminated list nearest to word, if close enough to
 * be a likely typo (at most a third of word's length, at least 1, at most
 * 3 edits); NULL otherwise. The pointer is the list's own.
 */
const char *wf_nearest(const char *word, const char *const list[]);

#endif
