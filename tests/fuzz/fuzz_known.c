/*
 * fuzz_known.c: libFuzzer target for what guest output meets on its way to
 * a reader: a known issue's log regex over arbitrary log bytes
 * (controller/known.c: PCRE2 under limits, line by line, the matching line
 * cut and cleaned) and wf_text_clean (lib/util.c). The input is a pattern,
 * a NUL, and the log's bytes (split into COM1 and COM2 at a second NUL).
 * Whatever comes in: no crash, the result is an object whose lines are
 * valid UTF-8 of at most KNOWN_LINE_SHOWN bytes with no control but tab
 * that JSON and XML both take, and the whole stays within its budget.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../controller/known.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Text as wf_text_clean promises it (util.h). */
static void
check_text(const char *s, size_t max)
{
	json_t *j;

	if (strlen(s) > max)
		abort();
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f)
			abort();
	/* valid UTF-8: jansson checks */
	if ((j = json_string(s)) == NULL)
		abort();
	json_decref(j);
	/* no U+FFFE/U+FFFF (ef bf be, ef bf bf): not XML */
	if (strstr(s, "\xef\xbf\xbe") || strstr(s, "\xef\xbf\xbf"))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size), *logs[2], *mid;
	size_t lens[2];
	char *pattern, *text;
	json_t *issues, *m, *v;
	const char *k;
	int cut;

	/* wf_text_clean over the whole input, with a cap */
	if ((text = wf_text_clean(data, size, size % 512, &cut)) == NULL)
		abort();
	check_text(text, size % 512);
	free(text);
	if (nul == NULL)
		return 0;
	pattern = strndup(
	    (const char *)data, (size_t)(nul - (const char *)data));
	logs[0] = nul + 1;
	lens[0] = size - (size_t)(logs[0] - (const char *)data);
	logs[1] = NULL;
	lens[1] = 0;
	if ((mid = memchr(logs[0], '\0', lens[0])) != NULL) {
		logs[1] = mid + 1;
		lens[1] = lens[0] - (size_t)(logs[1] - logs[0]);
		lens[0] = (size_t)(mid - logs[0]);
	}
	issues = json_pack("[{s:i, s:s}]", "id", 7, "log_regex", pattern);
	if (issues == NULL) { /* the pattern is no UTF-8: as bytes */
		free(pattern);
		return 0;
	}
	m = known_match_logs(issues, logs, lens, wf_now_ms() + 5000, NULL);
	if (m == NULL || !json_is_object(m))
		abort();
	json_object_foreach (m, k, v) {
		if (json_is_null(v))
			continue;
		if (json_integer_value(json_object_get(v, "port")) > 1 ||
		    json_integer_value(json_object_get(v, "line_no")) < 1)
			abort();
		check_text(json_string_value(json_object_get(v, "line")),
		    KNOWN_LINE_SHOWN);
	}
	json_decref(m);
	json_decref(issues);
	free(pattern);
	return 0;
}
