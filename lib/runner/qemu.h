/*
 * qemu.h: the bare-QEMU back end of runner.h (no libvirt).
 *
 * Used by guest/run-qemu, by `wakefarm repro --qemu`, by `wakefarm bisect
 * --local --qemu` and by the benchmarks. The libvirt back end
 * (libvirt_run.h) produces the same records file, so the same evaluation
 * applies to both.
 */
#ifndef WF_QEMU_H
#define WF_QEMU_H

#include "runner.h"
#include "runspec.h"

/* Runs the guest to its end or its watchdog; 0, or -1 when the records file
 * could not be written (the detail says why). */
int qemu_run(
    const struct runspec *rs, const struct run_opts *o, struct run_result *res);

#endif
