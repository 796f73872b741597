/*
 * blob_fetch.c: "sha256:HEX" files fetched and checked (see blob_fetch.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bisect_build.h"
#include "blob_fetch.h"
#include "buf.h"
#include "log.h"
#include "util.h"

/* url into tmp, checked against hex; -1 with a cause. */
static int
get_checked(struct wf_http *h, const char *what, const char *hex,
    const char *tmp, char **cause)
{
	char urlpath[128], got[65], *why = NULL;
	struct wf_buf body;
	long status = 0;
	FILE *f;
	int rc = -1;

	snprintf(urlpath, sizeof(urlpath), "/api/v1/blobs/%s", hex);
	wf_buf_init(&body, BLOB_FETCH_MAX);
	if (h == NULL ||
	    wf_http_request_raw(
	        h, "GET", urlpath, NULL, NULL, 0, &status, &body, &why) < 0 ||
	    status != 200) {
		wf_set_cause(cause,
		    "%s sha256:%.12s...: fetching from the"
		    " controller: %s%s",
		    what, hex, why ? wf_cause_str(why) : "HTTP ",
		    why               ? "" :
		        status == 404 ? "404 (no such blob)" :
		                        "error");
		goto out;
	}
	if ((f = fopen(tmp, "wb")) == NULL ||
	    fwrite(body.data, 1, body.len, f) != body.len || fclose(f) != 0) {
		wf_set_cause(cause, "%s: writing %.200s: %s", what, tmp,
		    strerror(errno));
		goto out;
	}
	if (bisect_build_sha256_file(tmp, got, NULL) < 0 ||
	    strcmp(got, hex) != 0) {
		wf_set_cause(cause,
		    "%s: the blob fetched for sha256:%.12s... does not match"
		    " its digest",
		    what, hex);
		goto out;
	}
	log_info("fetched %s blob %.12s (%zu bytes)", what, hex, body.len);
	rc = 0;
out:
	wf_buf_free(&body);
	free(why);
	return rc;
}

/* names each fetch's temporary file */
static unsigned fetches;

int
blob_fetch(struct wf_http *h, const char *what, char *ref, size_t size,
    const char *dir, int *fetched, char **cause)
{
	const char *hex = runspec_blob_digest(ref);
	char path[4200], tmp[4300];

	if (fetched != NULL)
		*fetched = 0;
	if (hex == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, hex);
	if (access(path, R_OK) != 0) {
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			wf_set_cause(cause, "%s: %s", dir, strerror(errno));
			return -1;
		}
		/* two slots may fetch the same blob at once: a file each */
		snprintf(tmp, sizeof(tmp), "%s.%d.%u.tmp", path, (int)getpid(),
		    __atomic_add_fetch(&fetches, 1, __ATOMIC_RELAXED));
		if (get_checked(h, what, hex, tmp, cause) == -1 ||
		    chmod(tmp, 0644) == -1 || rename(tmp, path) == -1) {
			unlink(tmp);
			if (cause != NULL && *cause == NULL)
				wf_set_cause(
				    cause, "%s: %s", path, strerror(errno));
			return -1;
		}
		if (fetched != NULL)
			*fetched = 1;
	}
	if (wf_strlcpy(ref, path, size) >= size) {
		wf_set_cause(cause, "%s: the path %s is too long", what, path);
		return -1;
	}
	return 1;
}

int
blob_fetch_spec(
    struct wf_http *h, struct runspec *rs, const char *dir, char **cause)
{
	if (blob_fetch(h, "kernel", rs->kernel, sizeof(rs->kernel), dir, NULL,
	        cause) == -1 ||
	    blob_fetch(h, "initrd", rs->initrd, sizeof(rs->initrd), dir, NULL,
	        cause) == -1 ||
	    blob_fetch(h, "test kernel", rs->test_kernel,
	        sizeof(rs->test_kernel), dir, NULL, cause) == -1)
		return -1;
	return 0;
}
