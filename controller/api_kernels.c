/*
 * api_kernels.c: kernels users add (`wakefarm kernel add FILE|URL`): a
 * bzImage (and an optional initrd) uploaded in chunks or fetched by the
 * controller from a URL (libcurl), stored as a content-addressed blob in
 * the directory bisect images use (DB_DIR/blobs/SHA256, served by GET
 * /api/v1/blobs/SHA256 to agents and `repro`), and named by jobs as
 * "sha256:HEX". See controller/README.md, "Kernels".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "api.h"
#include "bisect_build.h"
#include "json.h"
#include "log.h"
#include "runspec.h"
#include "util.h"

#define KERNEL_MAX      \
	(256LL * 1024 * \
	    1024) /* bytes of one kernel or initrd (GET /blobs serves up to 256 MiB) */
#define KERNEL_NAME_MAX 64
#define FETCH_TIMEOUT_S 600

/* blob_dir/uploads/ID (ID: 32 hex digits). */
static int
upload_path(struct api *api, const char *id, char *path, size_t size)
{
	size_t i;

	if (strlen(id) != 32)
		return -1;
	for (i = 0; i < 32; i++) {
		if (!((id[i] >= '0' && id[i] <= '9') ||
		        (id[i] >= 'a' && id[i] <= 'f')))
			return -1;
	}
	snprintf(path, size, "%s/uploads/%s", api->cfg->blob_dir, id);
	return 0;
}

/* A new empty upload file; its id in id[33]. */
static int
upload_new(struct api *api, char id[33], char *path, size_t size)
{
	unsigned char rnd[16];
	char dir[4096];
	int fd;

	snprintf(dir, sizeof(dir), "%s/uploads", api->cfg->blob_dir);
	if ((mkdir(api->cfg->blob_dir, 0755) == -1 && errno != EEXIST) ||
	    (mkdir(dir, 0700) == -1 && errno != EEXIST) ||
	    getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	wf_hex(id, rnd, sizeof(rnd));
	upload_path(api, id, path, size);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1)
		return -1;
	close(fd);
	return 0;
}

void
api_kernel_upload_new(struct req *r, struct reply *out)
{
	char id[33], path[4200];

	if (upload_new(r->api, id, path, sizeof(path)) == -1) {
		log_warn("kernel upload: %s/uploads", r->api->cfg->blob_dir);
		reply_error(out, 500, "cannot make an upload (see the log)");
		return;
	}
	reply_json(out, 201,
	    json_pack("{s:s, s:I, s:I}", "upload", id, "chunk_max",
	        (json_int_t)r->api->cfg->max_body, "max",
	        (json_int_t)KERNEL_MAX));
}

/* POST /kernels/uploads/{id}?offset=N: the body appended at N. */
void
api_kernel_upload_chunk(struct req *r, struct reply *out)
{
	char path[4200];
	int64_t offset;
	struct stat st;
	int fd;

	if (upload_path(r->api, r->seg[4], path, sizeof(path)) == -1 ||
	    (fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) == -1) {
		reply_error(out, 404, "no upload '%.40s'", r->seg[4]);
		return;
	}
	if (req_arg_int(r, "offset", 0, KERNEL_MAX, -1, &offset, out) == -1)
		goto out;
	if (fstat(fd, &st) == -1) {
		reply_error(out, 500, "upload: %s", strerror(errno));
		goto out;
	}
	if (offset >= 0 && offset + (int64_t)r->body.len <= st.st_size &&
	    offset != st.st_size) {
		/* sent again after a lost reply: taken before */
		reply_json(out, 200,
		    json_pack("{s:I, s:b}", "size", (json_int_t)st.st_size,
		        "duplicate", 1));
	} else if (offset >= 0 && offset != st.st_size) {
		reply_error(out, 409,
		    "upload chunk at offset %lld is out of order:"
		    " expected offset %lld",
		    (long long)offset, (long long)st.st_size);
	} else if (st.st_size + (int64_t)r->body.len > KERNEL_MAX) {
		reply_error(out, 413, "a kernel is at most %lld bytes",
		    (long long)KERNEL_MAX);
	} else if (r->body.len > 0 &&
	    write(fd, r->body.data, r->body.len) != (ssize_t)r->body.len) {
		reply_error(out, 500, "upload: %s", strerror(errno));
	} else {
		reply_json(out, 200,
		    json_pack("{s:I, s:b}", "size",
		        (json_int_t)(st.st_size + (off_t)r->body.len),
		        "duplicate", 0));
	}
out:
	close(fd);
}

static size_t
fetch_write(char *data, size_t size, size_t n, void *arg)
{
	return fwrite(data, size, n, arg);
}

/* url into a new upload file (path); -1 with a cause. */
static int
fetch_url(
    struct api *api, const char *url, char *path, size_t size, char **cause)
{
	char id[33], err[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	CURL *c;
	FILE *f;

	if (upload_new(api, id, path, size) == -1 ||
	    (f = fopen(path, "w")) == NULL) {
		wf_set_cause(
		    cause, "cannot make a download file (see the log)");
		return -1;
	}
	if ((c = curl_easy_init()) == NULL) {
		fclose(f);
		wf_set_cause(cause, "out of memory");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)KERNEL_MAX);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)FETCH_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (fclose(f) != 0 && rc == CURLE_OK)
		rc = CURLE_WRITE_ERROR;
	if (rc != CURLE_OK || status != 200) {
		if (rc != CURLE_OK)
			wf_set_cause(cause, "%.300s: %s", url,
			    err[0] ? err : curl_easy_strerror(rc));
		else
			wf_set_cause(cause, "%.300s: HTTP %ld", url, status);
		unlink(path);
		return -1;
	}
	return 0;
}

/*
 * The version string of a bzImage's setup header ("HdrS" at 0x202, the
 * string at 0x200 + the 16-bit pointer at 0x20e), up to its first space;
 * -1 when file is no bzImage.
 */
static int
bzimage_version(const char *path, char *ver, size_t size)
{
	unsigned char hdr[0x210];
	char text[256];
	unsigned int off;
	ssize_t n = -1;
	int fd;

	ver[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr + 0x202, "HdrS", 4) != 0) {
		close(fd);
		return -1;
	}
	off = (unsigned int)hdr[0x20e] | (unsigned int)hdr[0x20f] << 8;
	if (off != 0)
		n = pread(fd, text, sizeof(text) - 1, 0x200 + (off_t)off);
	close(fd);
	if (n > 0) {
		text[n] = '\0';
		text[strcspn(text, " \n")] = '\0';
		for (char *p = text; *p; p++)
			if (*p < 0x21 || *p > 0x7e)
				*p = '?';
		wf_strlcpy(ver, text, size);
	}
	return 0;
}

/* One file of a POST /kernels body: "KEY" (an upload id) or "KEY_url"
 * fetched; stored as a blob, hex its SHA-256. 0, or -1 with status. */
static int
take_file(struct api *api, const json_t *body, const char *what,
    const char *upload_key, const char *url_key, char hex[65], int *status,
    char **cause)
{
	const char *id = NULL, *url = NULL;
	char path[4200];
	int rc;

	*status = 400;
	if (wf_json_get_str(body, upload_key, 0, 32, &id, cause) == -1 ||
	    wf_json_get_str(body, url_key, 0, 2048, &url, cause) == -1)
		return -1;
	if ((id == NULL) == (url == NULL)) {
		wf_set_cause(
		    cause, "give one of '%s' and '%s'", upload_key, url_key);
		return -1;
	}
	if (id != NULL &&
	    (upload_path(api, id, path, sizeof(path)) == -1 ||
	        access(path, R_OK) == -1)) {
		*status = 404;
		wf_set_cause(cause, "no upload '%s'", id);
		return -1;
	}
	if (url != NULL && strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0) {
		wf_set_cause(cause, "key '%s': not an http(s) URL", url_key);
		return -1;
	}
	if (url != NULL &&
	    fetch_url(api, url, path, sizeof(path), cause) == -1) {
		*status = 422;
		return -1;
	}
	if (strcmp(what, "kernel") == 0 &&
	    bzimage_version(path, (char[8]){ 0 }, 8) == -1) {
		wf_set_cause(cause,
		    "the kernel is no bzImage (no HdrS setup"
		    " header at 0x202)");
		unlink(path);
		return -1;
	}
	rc = bisect_build_blob_put(api->cfg->blob_dir, path, hex, cause);
	unlink(path);
	if (rc == -1)
		*status = 500;
	return rc;
}

static int
check_name(const char *name, char **cause)
{
	if (!wf_name_ok(name, KERNEL_NAME_MAX) ||
	    strncmp(name, "sha256", 6) == 0 ||
	    strncmp(name, "linux-image-", 12) == 0) {
		wf_set_cause(cause,
		    "key 'name': 1 to %d letters, digits, '.', '_' or '-',"
		    " not starting with sha256 or linux-image- (those name"
		    " blobs and Debian packages)",
		    KERNEL_NAME_MAX);
		return -1;
	}
	return 0;
}

#define KERNEL_COLUMNS                                                   \
	"k.name, k.sha256, k.size, k.initrd_sha256, k.source,"           \
	" k.header_version, (SELECT version FROM artifacts WHERE name =" \
	" 'sha256:' || k.sha256) AS version, k.created_at FROM kernels k"

/* Stores the kernel (db locked): 201 new, 200 the same again, 409. */
static unsigned int
store_kernel(struct api *api, const char *name, const char *hex,
    const char *initrd, const char *source, const char *ver, json_t **row)
{
	int64_t same = 0, exists = 0;
	struct stat st;
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", api->cfg->blob_dir, hex);
	if (stat(path, &st) == -1)
		return 500;
	if (db_int(api->db, &exists,
	        "SELECT count(*) FROM kernels WHERE name = ?", "t",
	        name) != 1 ||
	    db_int(api->db, &same,
	        "SELECT count(*) FROM kernels WHERE name = ? AND sha256 = ? AND"
	        " coalesce(initrd_sha256, '') = ?",
	        "ttt", name, hex, initrd ? initrd : "") != 1)
		return 500;
	if (exists && !same)
		return 409;
	if (!exists &&
	    db_exec(api->db, NULL,
	        "INSERT INTO kernels (name, sha256, size, initrd_sha256, source,"
	        " header_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
	        "ttittti", name, hex, (int64_t)st.st_size, initrd, source,
	        ver[0] ? ver : NULL, db_now_ms()) == -1)
		return 500;
	*row = db_row(
	    api->db, "SELECT " KERNEL_COLUMNS " WHERE k.name = ?", "t", name);
	return *row == NULL ? 500 : exists ? 200 : 201;
}

void
api_kernels_add(struct req *r, struct reply *out)
{
	static const char *const keys[] = { "name", "upload", "url", "sha256",
		"initrd_upload", "initrd_url", NULL };
	const char *name = NULL, *want = NULL;
	char hex[65], ihex[65], ver[128] = "", path[4200], *cause = NULL;
	json_t *body, *row = NULL;
	unsigned int st;
	int status = 400, initrd;

	if ((body = req_body_object(r, out)) == NULL)
		return;
	if (wf_json_check_keys(body, keys, &cause) == -1 ||
	    wf_json_get_str(body, "name", 1, 256, &name, &cause) == -1 ||
	    wf_json_get_str(body, "sha256", 0, 64, &want, &cause) == -1 ||
	    check_name(name, &cause) == -1 ||
	    take_file(r->api, body, "kernel", "upload", "url", hex, &status,
	        &cause) == -1)
		goto bad;
	if (want != NULL && strcmp(want, hex) != 0) {
		wf_set_cause(&cause,
		    "the kernel's SHA-256 is %s, not %s (upload"
		    " incomplete?)",
		    hex, want);
		status = 400;
		goto bad;
	}
	initrd = json_object_get(body, "initrd_upload") != NULL ||
	    json_object_get(body, "initrd_url") != NULL;
	if (initrd &&
	    take_file(r->api, body, "initrd", "initrd_upload", "initrd_url",
	        ihex, &status, &cause) == -1)
		goto bad;
	snprintf(path, sizeof(path), "%s/%s", r->api->cfg->blob_dir, hex);
	bzimage_version(path, ver, sizeof(ver));
	db_lock(r->api->db);
	st = store_kernel(r->api, name, hex, initrd ? ihex : NULL,
	    json_object_get(body, "url") != NULL ?
	        json_string_value(json_object_get(body, "url")) :
	        "upload",
	    ver, &row);
	db_unlock(r->api->db);
	if (st == 409)
		reply_error(out, 409,
		    "a kernel named '%s' exists with another"
		    " image",
		    name);
	else if (st == 500)
		reply_db_error(out);
	else {
		log_info("kernel %s: sha256:%s (%s)", name, hex,
		    ver[0] ? ver : "no version string");
		reply_json(out, st, json_incref(row));
	}
	json_decref(row);
	json_decref(body);
	return;
bad:
	reply_error(out, (unsigned int)status, "%s", wf_cause_str(cause));
	json_decref(body);
	free(cause);
}

void
api_kernels_list(struct req *r, struct reply *out)
{
	json_t *rows;

	db_lock(r->api->db);
	rows = db_rows(
	    r->api->db, "SELECT " KERNEL_COLUMNS " ORDER BY k.name", "");
	db_unlock(r->api->db);
	if (rows == NULL)
		reply_db_error(out);
	else
		reply_json(out, 200, json_pack("{s:o}", "kernels", rows));
}

/* One "kernels" entry: a name, "sha256:HEX" (both of a kernel users
 * added), a Debian package or an absolute path on the agents' hosts; its
 * value into refs, what is known of it into info. */
static int
resolve_one(
    struct db *db, const char *k, json_t *refs, json_t *info, char **cause)
{
	json_t *row;
	char ref[80];

	row = db_row(db,
	    "SELECT sha256, initrd_sha256, coalesce((SELECT version FROM"
	    " artifacts WHERE name = 'sha256:' || sha256), header_version) AS"
	    " version FROM kernels WHERE name = ?1 OR 'sha256:' || sha256 = ?1"
	    " ORDER BY name = ?1 DESC LIMIT 1",
	    "t", k);
	if (row == NULL) {
		wf_set_cause(cause, "database error (see the log)");
		return -2;
	}
	if (json_is_null(row) && k[0] == '/') {
		/* a path on the agents' hosts, used as is */
		json_decref(row);
		if (runspec_check_path("kernels", k, cause) == -1)
			return -1;
		json_array_append_new(refs, json_string(k));
		return 0;
	}
	if (json_is_null(row)) {
		json_decref(row);
		if (strncmp(k, "linux-image-", 12) != 0 ||
		    runspec_check_package(k, NULL) == -1) {
			wf_set_cause(cause,
			    "key 'kernels': no kernel named '%.80s' (wakefarm"
			    " kernel list), and it is no Debian kernel package"
			    " (linux-image-...)",
			    k);
			return -1;
		}
		json_array_append_new(refs, json_string(k));
		row = db_row(db,
		    "SELECT version FROM artifacts WHERE name = ? AND version"
		    " IS NOT NULL",
		    "t", k);
		if (row != NULL && !json_is_null(row))
			json_object_set(info, k, row);
		json_decref(row);
		return 0;
	}
	snprintf(ref, sizeof(ref), "sha256:%s",
	    json_string_value(json_object_get(row, "sha256")));
	json_array_append_new(refs, json_string(ref));
	if (json_is_string(json_object_get(row, "initrd_sha256")))
		json_object_set_new(row, "initrd",
		    json_sprintf("sha256:%s",
		        json_string_value(
		            json_object_get(row, "initrd_sha256"))));
	json_object_set_new(info, ref, row);
	return 0;
}

int
kernels_resolve(struct api *api, const json_t *names, json_t **refs,
    json_t **info, char **cause)
{
	const json_t *k;
	size_t i;
	int rc = 0;

	*refs = NULL;
	*info = NULL;
	if (!json_is_array(names))
		return 0;
	*refs = json_array();
	*info = json_object();
	db_lock(api->db);
	json_array_foreach (names, i, k) {
		if (rc == 0)
			rc = resolve_one(
			    api->db, json_string_value(k), *refs, *info, cause);
	}
	db_unlock(api->db);
	if (rc != 0) {
		json_decref(*refs);
		json_decref(*info);
		*refs = *info = NULL;
	}
	return rc;
}
