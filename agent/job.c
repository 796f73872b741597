/*
 * job.c: one leased job, from lease to finish.
 *
 * The guest runs as the transient domain wakefarm-<agent>-<job>-<attempt>.
 * While it runs, a tick reads what QEMU appended to COM1 and COM2: COM2 goes
 * through the record reader into numbered event batches, both go out as
 * log chunks with their byte offsets.  Everything is queued in the outbox,
 * which delivers it whether or not the controller is reachable right now.
 * The agent never decides pass or fail: the finish says only how the guest
 * ended; the controller evaluates the records.
 */
#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "agent.h"
#include "buf.h"
#include "build.h"
#include "http.h"
#include "libvirt_run.h"
#include "linux.h"
#include "log.h"
#include "records.h"
#include "runspec_json.h"
#include "util.h"

#define LOG_CAP		(8 << 20)	/* per port and job; the rest is cut with a marker */
#define CHUNK_MAX	(256 << 10)	/* read per tick and port */

struct stream {
	struct outbox	*ob;
	int64_t		 job;
	long		 off[2];	/* bytes of COM1/COM2 already queued as logs */
	int		 cut[2];	/* the cap was reached */
	struct rec_reader rd;
	json_t		*batch;		/* records read in this tick */
	int		 next_batch;
	unsigned long	 guest_records;	/* valid guest records queued */
};

static void batch_cb(void *arg, json_t *rec)
{
	struct stream *st = arg;

	json_array_append_new(st->batch, rec);
	st->guest_records++;
}

static void flush_batch(struct stream *st)
{
	if (!json_array_size(st->batch))
		return;
	outbox_put(st->ob, st->job, "events",
		   json_pack("{s:i, s:O}", "batch", st->next_batch++, "records", st->batch));
	json_array_clear(st->batch);
}

/* Log text must be valid JSON strings: bytes outside printable ASCII
 * (but newline and tab) become '?'. */
static void sanitize(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') ||
		    (unsigned char)p[i] > 0x7e)
			p[i] = '?';
}

static void tail_port(struct stream *st, int port, const char *path)
{
	static char buf[CHUNK_MAX];
	char kind[8];
	FILE *f;
	size_t n;

	if (st->cut[port] || !(f = fopen(path, "rb")))
		return;
	if (fseek(f, st->off[port], SEEK_SET) == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (port == 1)
			rec_reader_feed(&st->rd, buf, n, batch_cb, st);
		if (st->off[port] + (long)n > LOG_CAP) {
			n = LOG_CAP - st->off[port];
			st->cut[port] = 1;
		}
		sanitize(buf, n);
		snprintf(kind, sizeof(kind), "log%d", port);
		outbox_put(st->ob, st->job, kind,
			   json_pack("{s:I, s:s%, s:b}", "offset", (json_int_t)st->off[port],
				     "data", buf, n, "truncated", st->cut[port]));
		st->off[port] += n;
	}
	fclose(f);
}

static int tick(void *arg, const char *com1, const char *com2)
{
	struct stream *st = arg;

	tail_port(st, 0, com1);
	tail_port(st, 1, com2);
	flush_batch(st);
	return agent_cancelled(st->job);
}

static const char *outcome_word(enum run_outcome o)
{
	static const char *const w[] = { "completed", "guest-error", "hang", "infra" };

	return w[o];
}

/* Queues the runner's host records (after the guest records already sent). */
static void send_host_records(struct stream *st, const char *records)
{
	struct rec_reader rd;
	json_t *all = records_load_file(records, &rd, NULL);
	size_t i;
	json_t *r;

	if (!all)
		return;
	json_array_foreach(all, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "src")), "host"))
			json_array_append(st->batch, r);
	json_decref(all);
	flush_batch(st);
}

static void finish(struct outbox *ob, int64_t job, const char *outcome, const char *detail)
{
	outbox_put(ob, job, "finish", json_pack("{s:s, s:s}", "outcome", outcome, "detail", detail));
}

/*
 * A job's test kernel given as "sha256:HEX" (a bisect's build): fetched
 * from the controller once into work_dir/blobs/HEX, checked against its
 * digest, and the spec pointed at the file.
 */
static int resolve_blob(const struct agent_config *cfg, struct runspec *rs, char *detail, size_t size)
{
	const char *hex = runspec_blob_digest(rs->test_kernel);
	char dir[PATH_MAX], path[PATH_MAX + 80], tmp[PATH_MAX + 100], got[65], urlpath[128];
	struct wf_http *h = NULL;
	struct wf_buf body;
	char *cause = NULL;
	long status = 0;
	unsigned gen;
	FILE *f;
	int rc = -1;

	if (!hex)
		return 0;
	snprintf(dir, sizeof(dir), "%s/blobs", cfg->work_dir);
	snprintf(path, sizeof(path), "%s/%s", dir, hex);
	if (access(path, R_OK) == 0) {
		wf_strlcpy(rs->test_kernel, path, sizeof(rs->test_kernel));
		return 0;
	}
	mkdir(dir, 0755);
	snprintf(urlpath, sizeof(urlpath), "/api/v1/blobs/%s", hex);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	wf_buf_init(&body, 256u << 20);
	if (!(h = agent_http(cfg, &gen)) ||
	    wf_http_request_raw(h, "GET", urlpath, NULL, NULL, 0, &status, &body, &cause) < 0 ||
	    status != 200) {
		snprintf(detail, size, "test kernel %.20s...: fetching from the controller: %s%s",
			 rs->test_kernel, cause ? wf_cause_str(cause) : "HTTP ",
			 cause ? "" : status == 404 ? "404 (no such blob)" : "error");
		goto out;
	}
	if (!(f = fopen(tmp, "wb")) || fwrite(body.data, 1, body.len, f) != body.len || fclose(f)) {
		snprintf(detail, size, "test kernel: writing %.200s: %s", tmp, strerror(errno));
		goto out;
	}
	if (wf_sha256_file(tmp, got, NULL) < 0 || strcmp(got, hex) || chmod(tmp, 0644) ||
	    rename(tmp, path)) {
		snprintf(detail, size, "test kernel: the blob fetched for %.20s... does not match its digest",
			 rs->test_kernel);
		goto out;
	}
	log_info("fetched test kernel blob %.12s (%zu bytes)", hex, body.len);
	wf_strlcpy(rs->test_kernel, path, sizeof(rs->test_kernel));
	rc = 0;
out:
	unlink(tmp);
	wf_buf_free(&body);
	wf_http_free(h);
	free(cause);
	return rc;
}

void job_run(const struct agent_config *cfg, struct outbox *ob, const json_t *lease)
{
	json_int_t job = json_integer_value(json_object_get(lease, "job"));
	json_int_t attempt = json_integer_value(json_object_get(lease, "attempt"));
	struct stream st = { .ob = ob, .job = job, .batch = json_array() };
	struct qemu_opts o = { .firmware = cfg->firmware, .test_kernel = cfg->test_kernel,
			       .reporter = cfg->reporter, .accel = cfg->accel, .log = NULL };
	struct libvirt_opts lo = { .uri = cfg->libvirt_uri, .workdir = cfg->work_dir,
				   .tick = tick, .tick_arg = &st };
	struct runspec rs;
	struct run_result res;
	char name[128], records[PATH_MAX], *cause = NULL;

	wf_log_set_job(job);
	rec_reader_init(&st.rd);
	if (runspec_from_json(json_object_get(lease, "params"), &rs, &cause) < 0) {
		log_warnx("bad job parameters: %s", wf_cause_str(cause));
		finish(ob, job, "infra", cause ? cause : "bad job parameters");
		goto out;
	}
	snprintf(name, sizeof(name), "wakefarm-%s-%lld-%lld", cfg->name, (long long)job, (long long)attempt);
	snprintf(records, sizeof(records), "%s/%s.records", cfg->work_dir, name);
	lo.domain = name;
	o.records = records;
	/* A kernel package is resolved here, on this host; a path is used as is. */
	if (rs.kernel_package[0]) {
		char detail[sizeof(res.detail)];

		if (linux_resolve_package(rs.kernel_package, cfg->fetch_script, cfg->kernels_dir,
					  rs.kernel, sizeof(rs.kernel), detail, sizeof(detail)) < 0) {
			finish(ob, job, "infra", detail);
			goto out;
		}
		rs.kernel_package[0] = 0;
	}
	if (resolve_blob(cfg, &rs, res.detail, sizeof(res.detail)) < 0) {
		finish(ob, job, "infra", res.detail);
		goto out;
	}
	log_info("running %s: %d CPU(s), mailbox v%d, steps '%s'%s%s", name, rs.cpus,
		 rs.mailbox_version, rs.steps, rs.kernel[0] ? ", kernel " : "", rs.kernel);
	if (libvirt_run(&rs, &o, &lo, &res) < 0)
		res.outcome = RUN_INFRA;
	rec_reader_finish(&st.rd);
	send_host_records(&st, records);
	if (rec_reader_dropped(&st.rd))
		log_warnx("%lu guest output line(s) broke the record contract (last: %s)",
			  rec_reader_dropped(&st.rd), st.rd.last_cause);
	log_info("%s: %s after %.2f s%s%s", name, run_outcome_name(res.outcome), res.wall_s,
		 res.detail[0] ? ": " : "", res.detail);
	finish(ob, job, outcome_word(res.outcome), res.detail);
	unlink(records);
out:
	free(cause);
	json_decref(st.batch);
	wf_log_set_job(0);
}

void job_recover_leftovers(const struct agent_config *cfg, struct outbox *ob)
{
	virConnectPtr conn = virConnectOpen(cfg->libvirt_uri);
	virDomainPtr *doms = NULL;
	char prefix[96];
	int n;

	if (!conn) {
		log_warnx("libvirt %s: cannot connect to look for leftover domains", cfg->libvirt_uri);
		return;
	}
	snprintf(prefix, sizeof(prefix), "wakefarm-%s-", cfg->name);
	n = virConnectListAllDomains(conn, &doms, 0);
	for (int i = 0; i < n; i++) {
		const char *dn = virDomainGetName(doms[i]);
		long long job, attempt;
		char detail[200];

		if (dn && !strncmp(dn, prefix, strlen(prefix)) &&
		    sscanf(dn + strlen(prefix), "%lld-%lld", &job, &attempt) == 2) {
			virDomainDestroy(doms[i]);
			snprintf(detail, sizeof(detail), "agent restarted: domain %s left from a previous run", dn);
			log_warnx("%s", detail);
			finish(ob, job, "infra", detail);
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	virConnectClose(conn);
}
