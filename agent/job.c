/*
 * job.c: one leased job, from lease to finish.
 *
 * The guest runs as the transient domain wakefarm-<agent>-<job>-<attempt>.
 * While it runs, a tick reads what the guest appended to COM1 and COM2
 * (tail.h: following virtlogd's rotations): COM2 goes through the record
 * reader into numbered event batches, both go out as log chunks with their
 * byte offsets, up to --log-cap per port (then a marker, and the rest of
 * that port is not read; records are, to the end).  Everything is queued
 * in the outbox, which delivers it whether or not the controller is
 * reachable right now.  What the outbox cannot take (its spool is full and
 * the controller is away) is not read yet: it waits in the serial files
 * and the next tick tries again; the last tick, before the files go, waits
 * until it can.  Memory stays bounded whatever the guest prints: one chunk
 * and one batch per job.
 * The agent never decides pass or fail: the finish says only how the guest
 * ended; the controller evaluates the records.
 */
#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "job.h"
#include "outbox.h"
#include "state.h"
#include "buf.h"
#include "bisect_build.h"
#include "http.h"
#include "libvirt_run.h"
#include "linux.h"
#include "lvreap.h"
#include "log.h"
#include "records.h"
#include "runspec_json.h"
#include "tail.h"
#include "util.h"

#define CHUNK_MAX (256 << 10) /* one log chunk, or COM2 read for one batch */
#define MARKER_MAX 128
#define TICK_CHUNKS 64 /* per port and tick: 16 MiB */

struct stream {
	struct outbox *ob;
	int64_t job;
	int64_t attempt; /* said in every item: one of an attempt that is over
	                  * is refused, never taken for the next one's */
	long long log_cap;
	struct tail log[2]; /* COM1/COM2 as log chunks */
	int cut[2]; /* the cap was reached (and said) */
	long long sent[2]; /* bytes of each port queued as log chunks */
	struct tail rec; /* COM2 through the record reader */
	struct records_reader rd;
	json_t *batch; /* records read, not queued yet */
	int next_batch;
	char *buf; /* CHUNK_MAX + MARKER_MAX */
	int opened; /* the tails know their files */
	unsigned long guest_records; /* valid guest records read */
};

static void
batch_cb(void *arg, json_t *rec)
{
	struct stream *st = arg;

	json_array_append_new(st->batch, rec);
	st->guest_records++;
}

/* 0: the batch is queued (or empty); -1: kept, to try again. */
static int
flush_batch(struct stream *st)
{
	if (!json_array_size(st->batch))
		return 0;
	if (outbox_put(st->ob, st->job, "events",
	        json_pack("{s:i, s:I, s:O}", "batch", st->next_batch, "attempt",
	            (json_int_t)st->attempt, "records", st->batch)) < 0)
		return -1;
	st->next_batch++;
	json_array_clear(st->batch);
	return 0;
}

/* Gives up waiting for room: the agent stops or the job was cancelled. */
static int
give_up(int64_t job)
{
	return agent_stopping() || agent_cancelled(job);
}

/* Queues body (a reference is kept), waiting as long as nothing can take it. */
static int
put_wait(struct outbox *ob, int64_t job, const char *kind, json_t *body)
{
	int said = 0;

	while (outbox_put(ob, job, kind, json_incref(body)) < 0) {
		if (give_up(job)) {
			log_warnx(
			    "job %lld: %s not queued: the spool is full and the controller"
			    " cannot take it",
			    (long long)job, kind);
			return -1;
		}
		if (!said++)
			log_info(
			    "job %lld: %s waits for room in the spool or the controller",
			    (long long)job, kind);
		sleep(1);
	}
	return 0;
}

/* Log text must be valid JSON strings: bytes outside printable ASCII
 * (but newline and tab) become '?'. */
static void
sanitize(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\n' &&
		        p[i] != '\t') ||
		    (unsigned char)p[i] > 0x7e)
			p[i] = '?';
}

/*
 * COM1 or COM2 as log chunks, up to the cap; chunks at most per tick
 * (0: to the end). 0 done for now, -1 a chunk waits (not read yet).
 */
static int
ship_log(struct stream *st, int port, int chunks)
{
	char kind[8];
	int i;

	snprintf(kind, sizeof(kind), "log%d", port);
	for (i = 0; !st->cut[port] && (!chunks || i < chunks); i++) {
		long long off = st->log[port].off;
		ssize_t n = tail_read(&st->log[port], st->buf, CHUNK_MAX);
		size_t keep;
		int cut;

		if (n <= 0)
			return 0;
		keep = (size_t)n;
		if ((cut = off + n > st->log_cap))
			keep = (size_t)(st->log_cap - off);
		sanitize(st->buf, keep);
		if (cut)
			keep += (size_t)snprintf(st->buf + keep, MARKER_MAX,
			    "\n[wakefarm agent: COM%d"
			    " log truncated at %lld bytes]\n",
			    port + 1, st->log_cap);
		/* The offset is where the chunk starts in what this job sent
		 * of the port: the controller stores a resent chunk once. */
		if (outbox_put(st->ob, st->job, kind,
		        json_pack("{s:I, s:I, s:s%, s:b}", "offset",
		            (json_int_t)st->sent[port], "attempt",
		            (json_int_t)st->attempt, "data", st->buf, keep,
		            "truncated", cut)) < 0) {
			tail_unread(&st->log[port], (size_t)n);
			return -1;
		}
		st->sent[port] += (long long)keep;
		if (cut) {
			st->cut[port] = 1;
			tail_close(&st->log[port]); /* the rest is not read */
			log_info(
			    "COM%d: the guest wrote more than %lld bytes: the rest of its log is"
			    " not sent",
			    port + 1, st->log_cap);
		}
	}
	return 0;
}

/* COM2 through the record reader, a batch per chunk read. 0 or -1 as above. */
static int
stream_records(struct stream *st, int chunks)
{
	for (int i = 0; !chunks || i < chunks; i++) {
		ssize_t n;

		if (flush_batch(st) < 0)
			return -1; /* COM2 is not read further meanwhile */
		if ((n = tail_read(&st->rec, st->buf, CHUNK_MAX)) <= 0)
			return 0;
		records_reader_feed(&st->rd, st->buf, (size_t)n, batch_cb, st);
	}
	return flush_batch(st);
}

/* Everything the files hold now, queued (waiting for room): 0, or -1 when
 * it gave up (the agent stops, the job was cancelled). */
static int
final_flush(struct stream *st, int *said)
{
	while ((ship_log(st, 0, 0) | ship_log(st, 1, 0) |
	           stream_records(st, 0)) < 0) {
		if (give_up(st->job)) {
			log_warnx(
			    "the guest's output from byte %lld of COM2 was not queued: the spool"
			    " is full and the controller cannot take it",
			    st->rec.off);
			return -1;
		}
		if (!(*said)++)
			log_info(
			    "the guest ended; the rest of its output waits for room in the"
			    " spool or the controller");
		sleep(1);
	}
	return 0;
}

static int
tick(void *arg, const char *com1, const char *com2, int final)
{
	struct stream *st = arg;
	int said = 0;

	if (!st->opened) {
		tail_init(&st->log[0], com1);
		tail_init(&st->log[1], com2);
		tail_init(&st->rec, com2);
		st->opened = 1;
	}
	if (!final) {
		ship_log(st, 0, TICK_CHUNKS);
		ship_log(st, 1, TICK_CHUNKS);
		stream_records(st, TICK_CHUNKS);
		return agent_cancelled(st->job);
	}
	/*
	 * The files go after this: all of it, waiting for room if need be,
	 * and again while they still grow (virtlogd may still be writing what
	 * the guest wrote last): the log and the records read the same bytes.
	 * final 2: the runner saw the output settle already: once is enough.
	 */
	for (int quiet = final == 2, pass = 0; quiet < 2 && pass < 30; pass++) {
		long long before = st->log[0].off + st->log[1].off +
		    st->rec.off;

		if (final_flush(st, &said) < 0 || final == 2)
			break;
		quiet = st->log[0].off + st->log[1].off + st->rec.off ==
		        before ?
		    quiet + 1 :
		    0;
		if (quiet < 2)
			usleep(100000);
	}
	if (st->rec.gaps || st->log[0].gaps || st->log[1].gaps)
		log_warnx(
		    "%d serial file(s) were rotated away by virtlogd before they were read",
		    st->rec.gaps + st->log[0].gaps + st->log[1].gaps);
	return agent_cancelled(st->job);
}

static const char *
outcome_word(enum run_outcome o)
{
	static const char *const w[] = { "completed", "guest-error", "hang",
		"infra" };

	return w[o];
}

/* Queues the runner's host records (after the guest records already sent). */
static void
send_host_records(struct stream *st, const char *records)
{
	struct records_reader rd;
	json_t *all = records_load_file(records, &rd, NULL), *body;
	size_t i;
	json_t *r;

	if (!all)
		return;
	json_array_foreach (all, i, r)
		if (!strcmp(
		        json_string_value(json_object_get(r, "src")), "host"))
			json_array_append(st->batch, r);
	json_decref(all);
	if (!json_array_size(st->batch))
		return;
	body = json_pack("{s:i, s:I, s:O}", "batch", st->next_batch, "attempt",
	    (json_int_t)st->attempt, "records", st->batch);
	if (put_wait(st->ob, st->job, "events", body) == 0) {
		st->next_batch++;
		json_array_clear(st->batch);
	}
	json_decref(body);
}

/* timings: the job's phases ({"prepare": s, ...}, taken) or NULL. */
static void
finish(struct outbox *ob, int64_t job, int64_t attempt, const char *outcome,
    const char *detail, json_t *timings)
{
	json_t *body = json_pack("{s:s, s:s, s:I}", "outcome", outcome,
	    "detail", detail, "attempt", (json_int_t)attempt);

	if (timings)
		json_object_set_new(body, "timings", timings);
	put_wait(ob, job, "finish", body);
	json_decref(body);
}

static double
phase(double from, double to)
{
	return to > from && from >= 0 ? to - from : 0;
}

/*
 * The job's phases in seconds, logged and sent with the finish: prepare
 * (the kernel resolved, files and domain XML: before_s of the agent's own,
 * then the runner's), create (libvirt's domain start), boot (resumed to
 * the first record), run (to the guest's end), settle (its last output
 * read), teardown (the domain gone and the host records queued, to now).
 */
static json_t *
job_timings(const struct run_result *res, double before_s, double now_s)
{
	double first = res->t_first_s > 0 ? res->t_first_s : res->t_resume_s;
	json_t *t = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "prepare",
	    before_s + res->t_prepare_s, "create",
	    phase(res->t_prepare_s, res->t_create_s), "boot",
	    phase(res->t_resume_s, first), "run", phase(first, res->t_end_s),
	    "settle", phase(res->t_end_s, res->t_settled_s), "teardown",
	    phase(res->t_settled_s, now_s));

	log_info("timings: prepare %.3f create %.3f boot %.3f run %.3f settle"
	         " %.3f teardown %.3f s",
	    json_real_value(json_object_get(t, "prepare")),
	    json_real_value(json_object_get(t, "create")),
	    json_real_value(json_object_get(t, "boot")),
	    json_real_value(json_object_get(t, "run")),
	    json_real_value(json_object_get(t, "settle")),
	    json_real_value(json_object_get(t, "teardown")));
	return t;
}

/*
 * A job's test kernel given as "sha256:HEX" (a bisect's build): fetched
 * from the controller once into work_dir/blobs/HEX, checked against its
 * digest, and the spec pointed at the file.
 */
static unsigned blob_fetches; /* names each fetch's temporary file */

static int
resolve_blob(
    const struct agent_config *cfg, struct runspec *rs, char **cause_out)
{
	const char *hex = runspec_blob_digest(rs->test_kernel);
	char dir[PATH_MAX], path[PATH_MAX + 80], tmp[PATH_MAX + 100], got[65],
	    urlpath[128];
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
	/* two slots may fetch the same blob at once: a file each */
	snprintf(tmp, sizeof(tmp), "%s.%d.%u.tmp", path, (int)getpid(),
	    __atomic_add_fetch(&blob_fetches, 1, __ATOMIC_RELAXED));
	wf_buf_init(&body, 256u << 20);
	if (!(h = agent_http(cfg, &gen)) ||
	    wf_http_request_raw(
	        h, "GET", urlpath, NULL, NULL, 0, &status, &body, &cause) < 0 ||
	    status != 200) {
		wf_set_cause(cause_out,
		    "test kernel %.20s...: fetching from the controller: %s%s",
		    rs->test_kernel, cause ? wf_cause_str(cause) : "HTTP ",
		    cause             ? "" :
		        status == 404 ? "404 (no such blob)" :
		                        "error");
		goto out;
	}
	if (!(f = fopen(tmp, "wb")) ||
	    fwrite(body.data, 1, body.len, f) != body.len || fclose(f)) {
		wf_set_cause(cause_out, "test kernel: writing %.200s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if (bisect_build_sha256_file(tmp, got, NULL) < 0 || strcmp(got, hex) ||
	    chmod(tmp, 0644) || rename(tmp, path)) {
		wf_set_cause(cause_out,
		    "test kernel: the blob fetched for %.20s... does not match its digest",
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

void
job_run(const struct agent_config *cfg, struct outbox *ob, const json_t *lease)
{
	json_int_t job = json_integer_value(json_object_get(lease, "job"));
	json_int_t attempt = json_integer_value(
	    json_object_get(lease, "attempt"));
	struct stream st = { .ob = ob,
		.job = job,
		.attempt = attempt,
		.batch = json_array(),
		.log_cap = cfg->log_cap > 0 ? cfg->log_cap : AGENT_LOG_CAP,
		.buf = malloc(CHUNK_MAX + MARKER_MAX) };
	struct run_opts o = { .firmware = cfg->firmware,
		.test_kernel = cfg->test_kernel,
		.reporter = cfg->reporter,
		.accel = cfg->accel,
		.log = NULL };
	struct libvirt_opts lo = { .uri = cfg->libvirt_uri,
		.workdir = cfg->work_dir,
		.tick = tick,
		.tick_arg = &st,
		.early_verdict = !cfg->serial_teardown,
		.hangwatch = !cfg->watchdog_only,
		.leftover = agent_leftover_add };
	struct runspec rs;
	struct run_result res;
	char name[128], records[PATH_MAX], *cause = NULL;
	int64_t t_job = wf_now_us(), t_run;
	json_t *timings;

	wf_log_set_job(job);
	records_reader_init(&st.rd);
	if (!st.buf) {
		finish(ob, job, attempt, "infra", "agent: out of memory", NULL);
		goto out;
	}
	if (runspec_from_json(json_object_get(lease, "params"), &rs, &cause) <
	    0) {
		log_warnx("bad job parameters: %s", wf_cause_str(cause));
		finish(ob, job, attempt, "infra",
		    cause ? cause : "bad job parameters", NULL);
		goto out;
	}
	snprintf(name, sizeof(name), "wakefarm-%s-%lld-%lld", cfg->name,
	    (long long)job, (long long)attempt);
	snprintf(
	    records, sizeof(records), "%s/%s.records", cfg->work_dir, name);
	lo.domain = name;
	o.records = records;
	/* A kernel package is resolved here, on this host; a path is used as is. */
	if (rs.kernel_package[0]) {
		if (linux_resolve_package(rs.kernel_package, cfg->fetch_script,
		        cfg->kernels_dir, rs.kernel, sizeof(rs.kernel),
		        &cause) < 0) {
			finish(ob, job, attempt, "infra", wf_cause_str(cause),
			    NULL);
			goto out;
		}
		rs.kernel_package[0] = 0;
	}
	if (resolve_blob(cfg, &rs, &cause) < 0) {
		finish(ob, job, attempt, "infra", wf_cause_str(cause), NULL);
		goto out;
	}
	log_info("running %s: %d CPU(s), mailbox v%d, steps '%s'%s%s", name,
	    rs.cpus, rs.mailbox_version, rs.steps,
	    rs.kernel[0] ? ", kernel " : "", rs.kernel);
	t_run = wf_now_us();
	if (libvirt_run(&rs, &o, &lo, &res) < 0)
		res.outcome = RUN_INFRA;
	if (res.leftover[0]) {
		log_warnx("domain %s could not be destroyed: reported, tried"
		          " again",
		    res.leftover);
		agent_leftover_add(res.leftover);
	}
	records_reader_finish(&st.rd);
	send_host_records(&st, records);
	if (records_reader_dropped(&st.rd))
		log_warnx(
		    "%lu guest output line(s) broke the record contract (last: %s)",
		    records_reader_dropped(&st.rd), st.rd.last_cause);
	log_info("%s: %s after %.2f s%s%s", name, run_outcome_name(res.outcome),
	    res.wall_s, res.detail[0] ? ": " : "", res.detail);
	timings = job_timings(
	    &res, (t_run - t_job) / 1e6, (wf_now_us() - t_run) / 1e6);
	finish(
	    ob, job, attempt, outcome_word(res.outcome), res.detail, timings);
	unlink(records);
out:
	if (st.opened) {
		tail_close(&st.log[0]);
		tail_close(&st.log[1]);
		tail_close(&st.rec);
	}
	free(st.buf);
	free(cause);
	json_decref(st.batch);
	wf_log_set_job(0);
}

struct recover {
	const struct agent_config *cfg;
	struct outbox *ob;
};

/* One leftover of a dead owner (lvreap.h): its job ends infra. */
static void
recovered(void *arg, const char *name, long long job, long long attempt,
    int destroyed, const char *err)
{
	struct recover *rc = arg;
	char detail[300];

	if (!destroyed) {
		log_warnx("domain %s left behind by a runner that is gone could"
		          " not be destroyed (%s): reported, tried again",
		    name, err);
		agent_leftover_add(name);
	} else {
		log_warnx("domain %s left behind by a runner that is gone:"
		          " destroyed",
		    name);
	}
	if (job > 0) {
		snprintf(detail, sizeof(detail),
		    "agent restarted: domain %s left from a previous run%s",
		    name, destroyed ? "" : " (could not be destroyed)");
		finish(rc->ob, job, attempt, "infra", detail, NULL);
	}
}

void
job_recover_leftovers(const struct agent_config *cfg, struct outbox *ob)
{
	struct recover rc = { cfg, ob };
	char *cause = NULL;

	/* Its own (it runs nothing yet) and dead repros' on this host. */
	if (lvreap(cfg->libvirt_uri, cfg->name, recovered, &rc, &cause) < 0)
		log_warnx("cannot look for leftover domains: %s",
		    wf_cause_str(cause));
	free(cause);
}
