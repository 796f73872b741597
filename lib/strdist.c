/*
 * strdist.c: the nearest known name to a misspelt one (see strdist.h).
 */
#include <string.h>

#include "strdist.h"

#define STRDIST_MAX 64

size_t
wf_strdist(const char *a, const char *b)
{
	size_t row[STRDIST_MAX + 1], la = strlen(a), lb = strlen(b);
	size_t i, j, diag, up, best;

	if (la > STRDIST_MAX || lb > STRDIST_MAX)
		return 1000;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *
wf_nearest(const char *word, const char *const list[])
{
	size_t limit = strlen(word) / 3, d, best = (size_t)-1;
	const char *pick = NULL;
	int i;

	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	for (i = 0; list[i] != NULL; i++) {
		d = wf_strdist(word, list[i]);
		if (d <= limit && d < best) {
			best = d;
			pick = list[i];
		}
	}
	return pick;
}
