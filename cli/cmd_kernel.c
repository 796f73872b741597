/*
 * cmd_kernel.c: `wakefarm kernel add FILE|URL [--name N] [--initrd FILE]`
 * and `wakefarm kernel list`: kernels kept by the controller as
 * content-addressed blobs (controller/README.md, "Kernels"). A file is
 * uploaded in chunks (each sent again after a lost reply: the controller
 * skips what it has), a URL fetched by the controller; the SHA-256 is
 * checked at the end.
 */
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bisect_build.h"
#include "cli.h"
#include "flags.h"
#include "http.h"
#include "json.h"
#include "util.h"

#define CHUNK_MAX (512 * 1024)

enum {
	OPT_NAME = WF_FLAG_LONG,
	OPT_INITRD,
	OPT_JSON,
};

static int cmd_kernel_add(int, char **);
static int cmd_kernel_list(int, char **);

static const struct wf_subcmd kernel_subcmds[] = {
	{ "add", "store a kernel (a bzImage file or URL) on the controller",
	    cmd_kernel_add },
	{ "list", "the kernels stored, their SHA-256 and version",
	    cmd_kernel_list },
	{ NULL, NULL, NULL },
};

static const struct wf_cmd kernel_cmd = {
	"wakefarm kernel",
	NULL,
	"Kernels of your own: stored once on the controller, booted by the"
	" Linux scenarios of `submit --kernel NAME` and `schedule add --kernel"
	" NAME`.",
	NULL,
	kernel_subcmds,
};

static const struct wf_flag add_flags[] = {
	{ "name", OPT_NAME, "N",
	    "its name (default: the file's name without"
	    " its directory)",
	    0 },
	{ "initrd", OPT_INITRD, "FILE",
	    "an initrd unpacked before the reporter's"
	    " (a file or URL)",
	    0 },
	{ "json", OPT_JSON, NULL, "print the controller's JSON", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd add_cmd = {
	"wakefarm kernel add",
	"FILE|URL",
	"Store a Linux bzImage on the controller (a file is uploaded, a URL"
	" fetched by the controller), named for --kernel (submitter token).",
	add_flags,
	NULL,
};

static const struct wf_cmd list_cmd = {
	"wakefarm kernel list",
	NULL,
	"List the kernels the controller stores.",
	cli_json_only,
	NULL,
};

int
cmd_kernel(int argc, char **argv)
{
	return wf_flags_run(&kernel_cmd, argc, argv);
}

static int
is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* One chunk at offset; 0, or an exit status with the error printed. */
static int
send_chunk(const char *path, const char *buf, size_t n, long long offset)
{
	struct wf_buf out;
	char *cause = NULL, url[160];
	long status = 0;
	int rc;

	snprintf(url, sizeof(url), "%s?offset=%lld", path, offset);
	wf_buf_init(&out, 64 * 1024);
	rc = wf_http_request_raw(cli_http(), "POST", url,
	    "application/octet-stream", buf, n, &status, &out, &cause);
	if (rc == 0 && status != 200) {
		json_t *j = wf_json_loadb(
		    wf_buf_str(&out), out.len, 65536, NULL);

		wf_set_cause(&cause, "HTTP %ld: %s", status,
		    json_is_object(j) ? cli_str(j, "error") : wf_buf_str(&out));
		json_decref(j);
		rc = -1;
	}
	if (rc == -1)
		rc = cli_error(
		    status ? cli_exit_for_http(status) : CLI_UNAVAILABLE, NULL,
		    "upload: %s", wf_cause_str(cause));
	wf_buf_free(&out);
	free(cause);
	return rc;
}

/* file uploaded in chunks: the upload's id in id[33]; 0, or an exit
 * status after the error was printed. */
static int
upload(const char *file, char id[33])
{
	static char buf[CHUNK_MAX];
	char path[96];
	long long off = 0;
	json_t *j;
	ssize_t n;
	int fd, rc = 0;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return cli_error(CLI_NOINPUT, NULL, "%s: cannot read it", file);
	if ((j = cli_call("POST", "/api/v1/kernels/uploads", NULL)) == NULL) {
		close(fd);
		return cli_failed();
	}
	wf_strlcpy(id, cli_str(j, "upload"), 33);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/kernels/uploads/%s", id);
	while (rc == 0 && (n = read(fd, buf, sizeof(buf))) > 0) {
		rc = send_chunk(path, buf, (size_t)n, off);
		off += n;
	}
	close(fd);
	return rc;
}

/* "upload"/"url" (or "initrd_upload"/"initrd_url") of what into body: 0,
 * or an exit status. */
static int
add_source(json_t *body, const char *what, const char *prefix, int check)
{
	char key[32], id[33], hex[65];
	char *cause = NULL;
	int rc;

	if (is_url(what)) {
		snprintf(key, sizeof(key), "%surl", prefix);
		json_object_set_new(body, key, json_string(what));
		return 0;
	}
	if (check) {
		if (bisect_build_sha256_file(what, hex, &cause) == -1) {
			rc = cli_error(
			    CLI_NOINPUT, NULL, "%s", wf_cause_str(cause));
			free(cause);
			return rc;
		}
		json_object_set_new(body, "sha256", json_string(hex));
	}
	if ((rc = upload(what, id)) != 0)
		return rc;
	snprintf(key, sizeof(key), "%supload", prefix);
	json_object_set_new(body, key, json_string(id));
	return 0;
}

static int
cmd_kernel_add(int argc, char **argv)
{
	const char *arg, *name = NULL, *initrd = NULL;
	json_t *body = json_object(), *reply;
	char **args, base[256];
	struct wf_flags f;
	int id, n, json = 0, rc = CLI_OK;

	wf_flags_begin(&f, &add_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		if (id == OPT_NAME)
			name = arg;
		else if (id == OPT_INITRD)
			initrd = arg;
		else
			json = 1;
	}
	args = wf_flags_args(&f, 1, 1, &n);
	if (name == NULL) {
		wf_strlcpy(base, args[0], sizeof(base));
		name = basename(base);
	}
	json_object_set_new(body, "name", json_string(name));
	if ((rc = add_source(body, args[0], "", 1)) != 0 ||
	    (initrd != NULL &&
	        (rc = add_source(body, initrd, "initrd_", 0)) != 0))
		goto out;
	if ((reply = cli_call_or_print(
	         "POST", "/api/v1/kernels", body, json, &rc)) == NULL)
		goto out;
	printf("kernel %s: sha256:%s, %lld bytes, %s\n", cli_str(reply, "name"),
	    cli_str(reply, "sha256"), cli_num(reply, "size"),
	    json_is_string(json_object_get(reply, "header_version")) ?
	        cli_str(reply, "header_version") :
	        "no version string");
	json_decref(reply);
out:
	json_decref(body);
	return rc;
}

static int
cmd_kernel_list(int argc, char **argv)
{
	struct wf_flags f;
	json_t *j, *k;
	size_t i;
	int n, rc, json;

	cli_json_args(&f, &list_cmd, argc, argv, 0, 0, &n, &json);
	if ((j = cli_get_list("/api/v1/kernels", "kernels", json, &rc)) == NULL)
		return rc;
	printf("%-20s %-18s %-24s %s\n", "NAME", "SHA256", "VERSION", "SOURCE");
	json_array_foreach (json_object_get(j, "kernels"), i, k)
		printf("%-20s %.12s...    %-24s %s\n", cli_str(k, "name"),
		    cli_str(k, "sha256"),
		    json_is_string(json_object_get(k, "version")) ?
		        cli_str(k, "version") :
		        cli_str(k, "header_version"),
		    cli_str(k, "source"));
	json_decref(j);
	return CLI_OK;
}
