/*
 * repro_line.h: a job's self-contained reproduction as shell lines (issue
 * 19): `wakefarm --server URL repro ID` for people with farm access, and
 * the equivalent guest/run-qemu line for people without (the kernel or
 * test-kernel blob fetched with curl and checked with sha256sum, a Debian
 * package unpacked with lib/sh/fetch-kernel.sh).
 */
#ifndef WF_REPRO_LINE_H
#define WF_REPRO_LINE_H

#include <stdint.h>

#include "runspec.h"

/* "wakefarm --server URL repro ID" (malloc'd). */
char *repro_cli_line(const char *server, int64_t job);

/*
 * The guest/run-qemu line of rs, run from the top of a wakefarm tree;
 * server is where "sha256:" blobs are fetched from. Malloc'd, NULL when
 * out of memory.
 */
char *repro_run_qemu_line(const struct runspec *rs, const char *server);

#endif
