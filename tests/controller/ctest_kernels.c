/*
 * ctest_kernels.c: kernels users add (issue 19, "their own kernel in the
 * nightly"): a bzImage uploaded in chunks (a chunk sent twice, one out of
 * order), its SHA-256 checked, stored as a content-addressed blob served
 * by GET /blobs/HEX, its setup header's version; a URL fetched by the
 * controller from a local HTTP server (libmicrohttpd here), a 404 there;
 * not a bzImage, a name taken; `wakefarm kernel add FILE|URL` and `kernel
 * list`; then `--kernel NAME` makes a kernel axis of the Linux scenarios
 * only, as "sha256:HEX" in their params, and a name, a sha256: and a
 * package mix.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/evp.h>

#include "suite.h"
#include "../unit/test.h"

#define BZ_SIZE (1300 * 1024) /* three chunks of the CLI's 512 KiB */

static unsigned char bz[BZ_SIZE];
static char bz_hex[65], http_base[64];
static struct MHD_Daemon *httpd;

/* A fake bzImage: the setup header's magic and a version string. */
static void
make_bz(void)
{
	static const char ver[] = "6.99.0-wf-test (qa@farm) #1 SMP";
	unsigned char md[32];
	unsigned int len = 0;
	size_t i;

	for (i = 0; i < sizeof(bz); i++)
		bz[i] = (unsigned char)(i * 7 + i / 251);
	memcpy(bz + 0x202, "HdrS", 4);
	bz[0x20e] = 0x00; /* the string at 0x200 + 0x1000 */
	bz[0x20f] = 0x10;
	memcpy(bz + 0x1200, ver, sizeof(ver));
	EVP_Digest(bz, sizeof(bz), md, &len, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(bz_hex + 2 * i, 3, "%02x", md[i]);
}

static enum MHD_Result
serve(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **state)
{
	struct MHD_Response *r;
	enum MHD_Result rc;
	int found = strcmp(url, "/bzImage") == 0;

	(void)cls, (void)method, (void)version, (void)data, (void)size;
	(void)state;
	r = MHD_create_response_from_buffer(found ? sizeof(bz) : 9,
	    found ? (void *)bz : (void *)"not here\n", MHD_RESPMEM_PERSISTENT);
	rc = MHD_queue_response(c, found ? 200 : 404, r);
	MHD_destroy_response(r);
	return rc;
}

static int
start_httpd(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;

	if (httpd != NULL)
		return 0;
	make_bz();
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
	    serve, NULL, MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_END);
	if (httpd == NULL ||
	    (info = MHD_get_daemon_info(httpd, MHD_DAEMON_INFO_BIND_PORT)) ==
	        NULL)
		return -1;
	snprintf(http_base, sizeof(http_base), "http://127.0.0.1:%u",
	    (unsigned)info->port);
	return 0;
}

/* bytes [from, to) of the fake bzImage to upload id at offset from. */
static long
chunk(const char *id, size_t from, size_t to, json_t **reply)
{
	char path[128];
	struct resp r;
	long st;

	snprintf(path, sizeof(path), "/api/v1/kernels/uploads/%s?offset=%zu",
	    id, from);
	st = http(&S, submitter, "POST", path, (const char *)bz + from,
	    to - from, &r);
	*reply = r.json != NULL ? json_incref(r.json) : NULL;
	resp_free(&r);
	return st;
}

/* A new upload: its id in id[40]; the status. */
static long
new_upload(char *id)
{
	json_t *j;
	long st;

	j = jcall(&S, submitter, "POST", "/api/v1/kernels/uploads", NULL, &st);
	snprintf(id, 40, "%s", jstr(j, "upload"));
	json_decref(j);
	return st;
}

/* bin/wakefarm ARGS... with token tok: the exit status, its stdout in
 * cli_out, its stderr in cli_err. */
static char cli_out[8192], cli_err[4096];

static int
kcli(const char *tok, const char *const args[])
{
	return cli_split(tok, S.base, args, cli_out, sizeof(cli_out), cli_err,
	    sizeof(cli_err));
}

TEST(upload_in_chunks_stores_a_blob)
{
	json_t *j, *k;
	char id[40], body[256], path[128];
	struct resp r;
	long st;

	REQUIRE(start_httpd() == 0);
	CHECK_EQ_INT(new_upload(id), 201);
	CHECK_EQ_INT(chunk(id, 0, 600000, &j), 200);
	CHECK_EQ_INT(jint(j, "size"), 600000);
	json_decref(j);
	/* sent again after a lost reply: nothing stored twice */
	CHECK_EQ_INT(chunk(id, 0, 600000, &j), 200);
	CHECK(json_is_true(json_object_get(j, "duplicate")));
	json_decref(j);
	/* a gap */
	CHECK_EQ_INT(chunk(id, 900000, 1000000, &j), 409);
	CHECK_STR_CONTAINS(jstr(j, "error"), "expected offset 600000");
	json_decref(j);
	/* incomplete: the SHA-256 says so */
	snprintf(body, sizeof(body),
	    "{\"name\": \"mine\", \"upload\": \"%s\", \"sha256\": \"%s\"}", id,
	    bz_hex);
	expect_refused(submitter, "POST", "/api/v1/kernels", body, 400,
	    "upload incomplete?");
	/* the upload was consumed: a new one, whole */
	new_upload(id);
	CHECK_EQ_INT(chunk(id, 0, 700000, &j), 200);
	json_decref(j);
	CHECK_EQ_INT(chunk(id, 700000, BZ_SIZE, &j), 200);
	CHECK_EQ_INT(jint(j, "size"), BZ_SIZE);
	json_decref(j);
	snprintf(body, sizeof(body),
	    "{\"name\": \"mine\", \"upload\": \"%s\", \"sha256\": \"%s\"}", id,
	    bz_hex);
	k = jcall(&S, submitter, "POST", "/api/v1/kernels", body, &st);
	CHECK_EQ_INT(st, 201);
	CHECK_STR_EQ(jstr(k, "sha256"), bz_hex);
	CHECK_EQ_INT(jint(k, "size"), BZ_SIZE);
	CHECK_STR_EQ(jstr(k, "header_version"), "6.99.0-wf-test");
	CHECK_STR_EQ(jstr(k, "source"), "upload");
	json_decref(k);
	/* what agents fetch */
	snprintf(path, sizeof(path), "/api/v1/blobs/%s", bz_hex);
	CHECK_EQ_INT(http(&S, ag1, "GET", path, NULL, 0, &r), 200);
	CHECK(r.len == BZ_SIZE && memcmp(r.body, bz, BZ_SIZE) == 0);
	resp_free(&r);
	/* a reader may not upload */
	CHECK_EQ_INT(
	    jstatus(reader, "POST", "/api/v1/kernels/uploads", NULL), 403);
}

TEST(a_url_is_fetched_by_the_controller)
{
	char body[512];
	json_t *j;
	long st;

	REQUIRE(start_httpd() == 0);
	snprintf(body, sizeof(body),
	    "{\"name\": \"from-url\", \"url\": \"%s/bzImage\"}", http_base);
	j = jcall(&S, submitter, "POST", "/api/v1/kernels", body, &st);
	CHECK_EQ_INT(st, 201);
	CHECK_STR_EQ(jstr(j, "sha256"), bz_hex);
	CHECK_STR_CONTAINS(jstr(j, "source"), "/bzImage");
	json_decref(j);
	/* the same again: 200, the same kernel */
	CHECK_EQ_INT(jstatus(submitter, "POST", "/api/v1/kernels", body), 200);
	snprintf(body, sizeof(body),
	    "{\"name\": \"gone\", \"url\": \"%s/nothing\"}", http_base);
	expect_refused(
	    submitter, "POST", "/api/v1/kernels", body, 422, "HTTP 404");
	expect_refused(submitter, "POST", "/api/v1/kernels",
	    "{\"name\": \"x\", \"url\": \"file:///etc/passwd\"}", 400,
	    "not an http(s) URL");
	expect_refused(submitter, "POST", "/api/v1/kernels",
	    "{\"name\": \"sha256x\", \"url\": \"http://a/b\"}", 400,
	    "key 'name'");
}

TEST(cli_kernel_add_and_list)
{
	char file[320], url[128];
	const char *add[] = { "kernel", "add", file, "--name", "cli-kernel",
		NULL };
	const char *addurl[] = { "kernel", "add", url, "--name", "cli-url",
		NULL };
	const char *list[] = { "kernel", "list", NULL };
	const char *notbz[] = { "kernel", "add", "README.md", NULL };
	FILE *f;

	REQUIRE(start_httpd() == 0);
	snprintf(file, sizeof(file), "%s/vmlinuz-test", tmp);
	REQUIRE((f = fopen(file, "w")) != NULL);
	fwrite(bz, 1, sizeof(bz), f);
	fclose(f);
	CHECK_EQ_INT(kcli(submitter, add), 0);
	CHECK_STR_CONTAINS(cli_out, "kernel cli-kernel: sha256:");
	CHECK_STR_CONTAINS(cli_out, bz_hex);
	CHECK_STR_CONTAINS(cli_out, "6.99.0-wf-test");
	snprintf(url, sizeof(url), "%s/bzImage", http_base);
	CHECK_EQ_INT(kcli(submitter, addurl), 0);
	CHECK_EQ_INT(kcli(reader, list), 0);
	CHECK_STR_CONTAINS(cli_out, "cli-kernel");
	CHECK_STR_CONTAINS(cli_out, "cli-url");
	CHECK_EQ_INT(kcli(submitter, notbz), 65);
	CHECK_STR_CONTAINS(cli_err, "no bzImage");
}

/* The jobs of run whose scenario is name (new array). */
static json_t *
jobs_of(json_int_t run, const char *name)
{
	char path[128];
	json_t *j, *out = json_array(), *job;
	size_t i;
	long st;

	snprintf(path, sizeof(path), "/api/v1/jobs?run=%lld&limit=500",
	    (long long)run);
	j = jcall(&S, reader, "GET", path, NULL, &st);
	json_array_foreach (json_object_get(j, "jobs"), i, job) {
		if (strcmp(jstr(job, "scenario"), name) == 0)
			json_array_append_new(out, get_job(jint(job, "id")));
	}
	json_decref(j);
	return out;
}

/* The fake bzImage as kernel "axis". */
static int
axis_kernel(void)
{
	char body[256];
	long st;

	if (start_httpd() == -1)
		return -1;
	snprintf(body, sizeof(body),
	    "{\"name\": \"axis\", \"url\": \"%s/bzImage\"}", http_base);
	json_decref(jcall(&S, submitter, "POST", "/api/v1/kernels", body, &st));
	return st == 201 || st == 200 ? 0 : -1;
}

TEST(kernel_axis_only_on_linux_scenarios_with_version_expectations)
{
	char ref[80];
	json_t *j, *jobs, *job;
	json_int_t run;
	size_t i;
	int mine = 0, deb = 0;
	long st;

	REQUIRE(axis_kernel() == 0);
	snprintf(ref, sizeof(ref), "sha256:%s", bz_hex);
	cancel_all();
	j = jcall(&S, submitter, "POST", "/api/v1/runs",
	    "{\"matrix\": \"nightly\", \"kernels\": [\"axis\","
	    " \"linux-image-cloud-amd64\"]}",
	    &st);
	CHECK_EQ_INT(st, 201);
	run = jint(j, "run");
	json_decref(j);
	/* a test-kernel scenario: its cases as before, no kernel */
	jobs = jobs_of(run, "cold-boot");
	CHECK_EQ_INT(json_array_size(jobs), 4);
	json_array_foreach (jobs, i, job)
		CHECK(json_object_get(
		          json_object_get(job, "params"), "kernel") == NULL);
	json_decref(jobs);
	/* linux-kexec: kernel axis {axis, 6.1 package} x version {0, 1};
	 * the uploaded 6.99 is 6.11+: v0 fails mailbox-address, v1 passes */
	jobs = jobs_of(run, "linux-kexec");
	CHECK_EQ_INT(json_array_size(jobs), 4);
	json_array_foreach (jobs, i, job) {
		const json_t *p = json_object_get(job, "params");
		const json_t *e = json_object_get(job, "expected");

		if (json_is_string(json_object_get(p, "kernel")) &&
		    strcmp(jstr(p, "kernel"), ref) == 0) {
			mine++;
			CHECK_STR_EQ(jstr(e, "verdict"),
			    jint(p, "mailbox_version") == 0 ? "fail" : "pass");
		} else if (json_is_string(
		               json_object_get(p, "kernel_package"))) {
			deb++;
			CHECK_STR_EQ(jstr(e, "verdict"), "hang");
		}
	}
	CHECK_EQ_INT(mine, 2);
	CHECK_EQ_INT(deb, 2);
	json_decref(jobs);
	/* a fixed-kernel Linux scenario takes the axis too */
	jobs = jobs_of(run, "linux61-cold-boot");
	CHECK_EQ_INT(json_array_size(jobs), 4);
	json_decref(jobs);
	cancel_all();
	expect_refused(submitter, "POST", "/api/v1/runs",
	    "{\"scenario\": \"linux-kexec\", \"kernels\": [\"nope\"]}", 400,
	    "no kernel named 'nope'");
}

TEST(schedule_add_kernel_keeps_the_name)
{
	const char *add[] = { "schedule", "add", "with-kernel", "--at", "23:59",
		"--matrix", "linux-kexec", "--kernel", "axis", NULL };
	const char *bad[] = { "schedule", "add", "bad-kernel", "--at", "23:59",
		"--kernel", "nope", NULL };
	char *text;
	json_t *j;
	long st;

	REQUIRE(axis_kernel() == 0);
	CHECK_EQ_INT(kcli(admin, add), 0);
	CHECK_STR_CONTAINS(cli_out, "2 jobs a night");
	j = jcall(&S, admin, "GET", "/api/v1/admin/schedules", NULL, &st);
	text = json_dumps(j, JSON_COMPACT);
	CHECK_STR_CONTAINS(text, "\"kernels\":[\"axis\"]");
	free(text);
	json_decref(j);
	CHECK_EQ_INT(kcli(admin, bad), 65);
	CHECK_STR_CONTAINS(cli_err, "no kernel named 'nope'");
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_kernels", test_main);
}
