/*
 * fuzz_export_text.c: libFuzzer target for what guest bytes go through on
 * their way into an export (issue 16, item 2): wf_buf_xmln (JUnit) must
 * give well-formed UTF-8 made of XML characters, with no markup character
 * left raw; wf_buf_utf8 and wf_json_text (KCIDB, notifications) must give
 * a JSON string that Jansson dumps and loads back unchanged, whatever the
 * input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() unless s is UTF-8 of XML characters with no raw markup. */
static void
check_xml_text(const struct wf_buf *b)
{
	unsigned long cp;
	size_t i, k;

	for (i = 0; i < b->len; i += k) {
		k = wf_utf8_next(
		    (const unsigned char *)b->data + i, b->len - i, &cp);
		if (k == 0 || cp == '<' || cp == '>' || cp == '"' ||
		    cp == '\'' || (cp < 0x20 && cp != '\t' && cp != '\n') ||
		    cp == 0xfffe || cp == 0xffff)
			abort();
		/* '&' only as the start of an entity we wrote */
		if (cp == '&' && strncmp(b->data + i, "&amp;", 5) != 0 &&
		    strncmp(b->data + i, "&lt;", 4) != 0 &&
		    strncmp(b->data + i, "&gt;", 4) != 0 &&
		    strncmp(b->data + i, "&quot;", 6) != 0 &&
		    strncmp(b->data + i, "&apos;", 6) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wf_buf b;
	json_t *j, *back;
	char *text;

	wf_buf_init(&b, size * 6 + 16);
	if (wf_buf_xmln(&b, data, size) == -1)
		abort();
	check_xml_text(&b);
	wf_buf_free(&b);

	if ((j = wf_json_text(data, size)) == NULL || !json_is_string(j))
		abort();
	text = json_dumps(j, JSON_ENCODE_ANY);
	if (text == NULL)
		abort();
	back = json_loads(text, JSON_DECODE_ANY, NULL);
	if (back == NULL || !json_equal(back, j) ||
	    strlen(json_string_value(j)) != json_string_length(j))
		abort();
	json_decref(back);
	free(text);
	json_decref(j);
	return 0;
}
