/*
 * blob_fetch.h: a job's "sha256:HEX" file (a kernel users added, an
 * initrd, a bisect's test kernel) fetched from the controller's GET
 * /api/v1/blobs/HEX once into a cache directory and checked against its
 * digest: what the agent and `wakefarm repro` both do before a run.
 */
#ifndef WF_BLOB_FETCH_H
#define WF_BLOB_FETCH_H

#include <stddef.h>

#include "http.h"
#include "runspec.h"

#define BLOB_FETCH_MAX (512u << 20)

/*
 * ref not "sha256:...": 0, nothing done. Otherwise dir/HEX (fetched
 * through h unless there; h may be NULL when it is) is written over ref
 * (size bytes): 1, or -1 with a cause naming what. fetched (may be NULL):
 * set to 1 when it came over the network.
 */
int blob_fetch(struct wf_http *h, const char *what, char *ref, size_t size,
    const char *dir, int *fetched, char **cause);

/* The spec's kernel, initrd and test kernel, each as above: 0 or -1. */
int blob_fetch_spec(
    struct wf_http *h, struct runspec *rs, const char *dir, char **cause);

#endif
