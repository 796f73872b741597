/*
 * runspec_json.h: a run spec as JSON, the "params" of a leased job
 * (controller/README.md): {"cpus", "mailbox_version", "policy", "steps",
 * "quirks" (comma-separated string), "kdump_cpus", "memory_mb",
 * "timeout_s"}, and for a Linux guest "kernel" (absolute path on the
 * agent's host) or "kernel_package" (Debian package the agent unpacks),
 * "initrd" (absolute path), "append": these four are written only when
 * set (empty = our test kernel). The controller writes it, the agent
 * reads it.
 */
#ifndef WF_RUNSPEC_JSON_H
#define WF_RUNSPEC_JSON_H

#include <jansson.h>

#include "runspec.h"

/* A new object with every field (caller decrefs). */
json_t *runspec_to_json(const struct runspec *rs);

/*
 * Fills rs from obj: starts from runspec_init, every key optional, unknown
 * keys and wrong types refused, then runspec_validate. 0, or -1 with a cause.
 */
int runspec_from_json(const json_t *obj, struct runspec *rs, char **cause);

#endif
