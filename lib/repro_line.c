/*
 * repro_line.c: a job's reproduction as shell lines (see repro_line.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "repro_line.h"

#define REPRO_LINE_MAX (16 * 1024)

char *
repro_cli_line(const char *server, int64_t job)
{
	char *s = NULL;

	if (asprintf(&s, "wakefarm --server %s repro %lld", server,
	        (long long)job) < 0)
		return NULL;
	return s;
}

/* word, single-quoted when it holds anything a shell would expand. */
static void
quoted(struct wf_buf *b, const char *word)
{
	const char *p;

	if (word[0] != '\0' &&
	    strspn(word,
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
	        "QRSTUVWXYZ0123456789-_.,:/=+@%") == strlen(word)) {
		wf_buf_append(b, word, strlen(word));
		return;
	}
	wf_buf_append(b, "'", 1);
	for (p = word; *p != '\0'; p++) {
		if (*p == '\'')
			wf_buf_append(b, "'\\''", 4);
		else
			wf_buf_append(b, p, 1);
	}
	wf_buf_append(b, "'", 1);
}

static void
flag(struct wf_buf *b, const char *name, const char *value)
{
	wf_buf_printf(b, " %s ", name);
	quoted(b, value);
}

/* A "sha256:HEX" blob fetched to file and checked: the line's head. */
static void
fetch_blob(
    struct wf_buf *b, const char *server, const char *hex, const char *file)
{
	wf_buf_printf(b,
	    "curl -fsSo %s %s/api/v1/blobs/%s && echo '%s  %s' |"
	    " sha256sum -c - && ",
	    file, server, hex, hex, file);
}

/* The OS's flags, after whatever fetches them. */
static void
os_flags(struct wf_buf *head, struct wf_buf *b, const struct runspec *rs,
    const char *server)
{
	const char *hex;

	if (rs->kernel_package[0]) {
		wf_buf_printf(head,
		    "k=$(lib/sh/fetch-kernel.sh %s build/kernels) && ",
		    rs->kernel_package);
		wf_buf_printf(b, " --kernel \"$k\"");
	} else if ((hex = runspec_blob_digest(rs->kernel)) != NULL) {
		fetch_blob(head, server, hex, "bzImage");
		wf_buf_printf(b, " --kernel bzImage");
	} else if (rs->kernel[0]) {
		flag(b, "--kernel", rs->kernel);
	}
	if ((hex = runspec_blob_digest(rs->initrd)) != NULL) {
		fetch_blob(head, server, hex, "initrd.img");
		wf_buf_printf(b, " --initrd initrd.img");
	} else if (rs->initrd[0]) {
		flag(b, "--initrd", rs->initrd);
	}
	if ((hex = runspec_blob_digest(rs->test_kernel)) != NULL) {
		fetch_blob(head, server, hex, "test-kernel.elf");
		wf_buf_printf(b, " --test-kernel test-kernel.elf");
	} else if (rs->test_kernel[0]) {
		flag(b, "--test-kernel", rs->test_kernel);
	}
	if (rs->append[0])
		flag(b, "--append", rs->append);
}

char *
repro_run_qemu_line(const struct runspec *rs, const char *server)
{
	struct wf_buf head, b;
	char quirks[RUNSPEC_QUIRKS_MAX], *q, *save = NULL, *out = NULL;

	wf_buf_init(&head, REPRO_LINE_MAX);
	wf_buf_init(&b, REPRO_LINE_MAX);
	wf_buf_printf(&b, "guest/run-qemu --cpus %d --mailbox-version %d",
	    rs->cpus, rs->mailbox_version);
	if (!RUNSPEC_IS_LINUX(rs))
		flag(&b, "--policy", rs->policy);
	if (rs->steps[0])
		flag(&b, "--steps", rs->steps);
	snprintf(quirks, sizeof(quirks), "%s", rs->quirks);
	for (q = strtok_r(quirks, ",", &save); q != NULL;
	     q = strtok_r(NULL, ",", &save))
		flag(&b, "--quirk", q);
	if (rs->kdump_cpus > 0)
		wf_buf_printf(&b, " --kdump-cpus %d", rs->kdump_cpus);
	wf_buf_printf(
	    &b, " --memory %d --timeout %d", rs->memory_mb, rs->timeout_s);
	os_flags(&head, &b, rs, server);
	wf_buf_printf(&b, " --records job.records --log job.log --check");
	if (!head.truncated && !b.truncated &&
	    asprintf(&out, "%s%s", wf_buf_str(&head), wf_buf_str(&b)) < 0)
		out = NULL;
	wf_buf_free(&head);
	wf_buf_free(&b);
	return out;
}
