/*
 * fuzz_config: the config-file parser (lib/config.c) on arbitrary bytes.
 * A file it accepts must hold only known keys, once each, with trimmed,
 * non-empty values free of control characters, on increasing lines, and
 * must read back the same once written out again; a file it refuses must
 * be named in the cause.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"

static const struct wf_flag flags[] = {
	{ "listen", WF_FLAG_LONG, "ADDR:PORT", "", 0 },
	{ "db", WF_FLAG_LONG + 1, "FILE", "", 0 },
	{ "tls-cert", WF_FLAG_LONG + 2, "FILE", "", 0 },
	{ "log-level", WF_FLAG_LONG + 3, "LEVEL", "", 0 },
	{ "read-token-required", WF_FLAG_LONG + 4, NULL, "", 0 },
	{ "slots", 's', "N", "", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static int
accept_all(void *arg, int id, const char *name, const char *value, char **cause)
{
	(*(int *)arg)++;
	return 0;
}

static void
check_item(const struct wf_config *c, size_t i)
{
	const struct wf_config_item *it = &c->items[i];
	size_t len = strlen(it->value), k;

	if (it->flag < flags || it->flag >= flags + 6 || len == 0 ||
	    len > WF_CONFIG_LINE_MAX || it->value[0] == ' ' ||
	    it->value[0] == '\t' || it->value[len - 1] == ' ' ||
	    it->value[len - 1] == '\t')
		abort();
	for (k = 0; k < len; k++) {
		if ((unsigned char)it->value[k] < 0x20 && it->value[k] != '\t')
			abort();
	}
	if (it->flag->metavar == NULL && strcmp(it->value, "true") != 0 &&
	    strcmp(it->value, "false") != 0)
		abort();
	for (k = 0; k < i; k++) {
		if (c->items[k].flag == it->flag ||
		    c->items[k].line >= it->line)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wf_config c, again;
	struct wf_buf out;
	char *cause = NULL;
	size_t i;
	int n = 0;

	if (wf_config_parse(&c, "fuzz.conf", (const char *)data, size, flags,
	        &cause) == -1) {
		if (cause != NULL && strncmp(cause, "fuzz.conf", 9) != 0)
			abort();
		free(cause);
		wf_config_free(&c);
		return 0;
	}
	wf_buf_init(&out, 2 * WF_CONFIG_FILE_MAX);
	for (i = 0; i < c.n; i++) {
		check_item(&c, i);
		wf_buf_append(
		    &out, c.items[i].flag->name, strlen(c.items[i].flag->name));
		/* KEY=VALUE is never longer than the line it came from. */
		wf_buf_append(&out, "=", 1);
		wf_buf_append(&out, c.items[i].value, strlen(c.items[i].value));
		wf_buf_append(&out, "\n", 1);
	}
	if (wf_config_apply(&c, accept_all, &n, &cause) != 0 || n > (int)c.n)
		abort();
	/* Written out again, it reads back the same. */
	if (out.len <= WF_CONFIG_FILE_MAX) {
		if (wf_config_parse(&again, "again", out.len ? out.data : "",
		        out.len, flags, &cause) != 0 ||
		    again.n != c.n)
			abort();
		for (i = 0; i < c.n; i++) {
			if (again.items[i].flag != c.items[i].flag ||
			    strcmp(again.items[i].value, c.items[i].value) != 0)
				abort();
		}
		wf_config_free(&again);
	}
	wf_buf_free(&out);
	wf_config_free(&c);
	return 0;
}
