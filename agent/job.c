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
#include <dirent.h>
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
#include "blob_fetch.h"
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

/* run_ms: the run's own wall time (ms), < 0 when no guest ran; timings: the
 * job's phases ({"prepare": s, ...}, taken) or NULL. */
static void
finish_run(struct outbox *ob, int64_t job, int64_t attempt, const char *outcome,
    const char *detail, int64_t run_ms, json_t *timings)
{
	json_t *body = json_pack("{s:s, s:s, s:I}", "outcome", outcome,
	    "detail", detail, "attempt", (json_int_t)attempt);

	if (run_ms >= 0)
		json_object_set_new(body, "run_ms", json_integer(run_ms));
	if (timings)
		json_object_set_new(body, "timings", timings);
	put_wait(ob, job, "finish", body);
	json_decref(body);
}

static void
finish(struct outbox *ob, int64_t job, int64_t attempt, const char *outcome,
    const char *detail, json_t *timings)
{
	finish_run(ob, job, attempt, outcome, detail, -1, timings);
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
 * read), teardown (the domain gone and the host records queued, to now);
 * ahead: prepared while the slot's previous guest ran; wait: the slot
 * free to the guest running (wait_s < 0: unknown, not sent).
 */
static json_t *
job_timings(const struct run_result *res, double before_s, double now_s,
    int ahead, double wait_s)
{
	double first = res->t_first_s > 0 ? res->t_first_s : res->t_resume_s;
	json_t *t = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:b}", "prepare",
	    before_s + res->t_prepare_s, "create",
	    phase(res->t_prepare_s, res->t_create_s), "boot",
	    phase(res->t_resume_s, first), "run", phase(first, res->t_end_s),
	    "settle", phase(res->t_end_s, res->t_settled_s), "teardown",
	    phase(res->t_settled_s, now_s), "ahead", ahead);

	if (wait_s >= 0)
		json_object_set_new(t, "wait", json_real(wait_s));
	log_info("timings: prepare %.3f create %.3f boot %.3f run %.3f settle"
	         " %.3f teardown %.3f s%s",
	    json_real_value(json_object_get(t, "prepare")),
	    json_real_value(json_object_get(t, "create")),
	    json_real_value(json_object_get(t, "boot")),
	    json_real_value(json_object_get(t, "run")),
	    json_real_value(json_object_get(t, "settle")),
	    json_real_value(json_object_get(t, "teardown")),
	    ahead ? " (created ahead)" : "");
	return t;
}

/*
 * A job's kernel, initrd or test kernel given as "sha256:HEX" (a kernel
 * users added, a bisect's build): fetched from the controller once into
 * work_dir/blobs/HEX, checked against its digest, and the spec pointed at
 * the file (lib/blob_fetch.h).
 */
static int
resolve_blob(
    const struct agent_config *cfg, struct runspec *rs, char **cause_out)
{
	char dir[PATH_MAX];
	struct wf_http *h;
	unsigned gen;
	int rc;

	if (!runspec_blob_digest(rs->kernel) &&
	    !runspec_blob_digest(rs->initrd) &&
	    !runspec_blob_digest(rs->test_kernel))
		return 0;
	snprintf(dir, sizeof(dir), "%s/blobs", cfg->work_dir);
	h = agent_http(cfg, &gen);
	rc = blob_fetch_spec(h, rs, dir, cause_out);
	wf_http_free(h);
	return rc;
}

/* One leased job between its lease and its finish. */
struct job {
	const struct agent_config *cfg;
	struct outbox *ob;
	int64_t id, attempt;
	struct stream st;
	struct run_opts o;
	struct libvirt_opts lo;
	struct runspec rs;
	struct libvirt_prepared *prep; /* NULL: fail says why */
	char *fail; /* no guest can run: finished infra with this */
	char name[128], records[PATH_MAX], marker[PATH_MAX];
	int ahead;
	int64_t t_job, t_run; /* wf_now_us(): leased, runner called */
};

/* The marker of a domain created ahead and not resumed yet (job.h). */
static void
marker_path(
    const struct agent_config *cfg, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s.ahead", cfg->work_dir, name);
}

/* The spec from the lease, its kernel and blobs on this host: 0, or -1
 * with j->fail set. */
static int
job_resolve(struct job *j, const json_t *lease)
{
	char *cause = NULL;

	if (runspec_from_json(
	        json_object_get(lease, "params"), &j->rs, &cause) < 0) {
		log_warnx("bad job parameters: %s", wf_cause_str(cause));
		j->fail = cause ? cause : strdup("bad job parameters");
		return -1;
	}
	/* A kernel package is resolved here, on this host; a path is used as
	 * is. */
	if (j->rs.kernel_package[0]) {
		if (linux_resolve_package(j->rs.kernel_package,
		        j->cfg->fetch_script, j->cfg->kernels_dir, j->rs.kernel,
		        sizeof(j->rs.kernel), &cause) < 0)
			goto fail;
		j->rs.kernel_package[0] = 0;
	}
	if (resolve_blob(j->cfg, &j->rs, &cause) < 0)
		goto fail;
	return 0;
fail:
	j->fail = strdup(wf_cause_str(cause));
	free(cause);
	return -1;
}

static void
job_free(struct job *j)
{
	if (j->st.opened) {
		tail_close(&j->st.log[0]);
		tail_close(&j->st.log[1]);
		tail_close(&j->st.rec);
	}
	free(j->st.buf);
	free(j->fail);
	json_decref(j->st.batch);
	free(j);
}

struct job *
job_prepare(const struct agent_config *cfg, struct outbox *ob,
    const json_t *lease, int ahead)
{
	struct job *j = calloc(1, sizeof(*j));
	int64_t prev;

	if (!j)
		return NULL;
	j->cfg = cfg;
	j->ob = ob;
	j->ahead = ahead;
	j->t_job = wf_now_us();
	j->id = json_integer_value(json_object_get(lease, "job"));
	j->attempt = json_integer_value(json_object_get(lease, "attempt"));
	j->st = (struct stream){ .ob = ob,
		.job = j->id,
		.attempt = j->attempt,
		.batch = json_array(),
		.log_cap = cfg->log_cap > 0 ? cfg->log_cap : AGENT_LOG_CAP,
		.buf = malloc(CHUNK_MAX + MARKER_MAX) };
	records_reader_init(&j->st.rd);
	j->o = (struct run_opts){ .firmware = cfg->firmware,
		.test_kernel = cfg->test_kernel,
		.reporter = cfg->reporter,
		.accel = cfg->accel,
		.records = j->records };
	j->lo = (struct libvirt_opts){ .uri = cfg->libvirt_uri,
		.workdir = cfg->work_dir,
		.domain = j->name,
		.tick = tick,
		.tick_arg = &j->st,
		.early_verdict = !cfg->serial_teardown,
		.hangwatch = !cfg->watchdog_only,
		.leftover = agent_leftover_add };
	snprintf(j->name, sizeof(j->name), "wakefarm-%s-%lld-%lld", cfg->name,
	    (long long)j->id, (long long)j->attempt);
	snprintf(j->records, sizeof(j->records), "%s/%s.records", cfg->work_dir,
	    j->name);
	prev = wf_log_set_job(j->id);
	if (!j->st.buf)
		j->fail = strdup("agent: out of memory");
	else if (job_resolve(j, lease) == 0) {
		log_info("running %s: %d CPU(s), mailbox v%d, steps '%s'%s%s%s",
		    j->name, j->rs.cpus, j->rs.mailbox_version, j->rs.steps,
		    j->rs.kernel[0] ? ", kernel " : "", j->rs.kernel,
		    ahead ? " (created ahead: while the slot's guest runs)" :
		            "");
		/* a domain made ahead and never resumed is given back, not
		 * failed, by the next agent to start here (job.h) */
		if (ahead)
			marker_path(cfg, j->name, j->marker, sizeof(j->marker));
		if (ahead && run_write_file(j->marker, "") < 0)
			j->marker[0] = 0;
		j->t_run = wf_now_us();
		if (!(j->prep = libvirt_prepare(&j->rs, &j->o, &j->lo)))
			j->fail = strdup("agent: out of memory");
	}
	wf_log_set_job(prev);
	return j;
}

void
job_lease_of(const struct job *j, int64_t *id, int64_t *attempt)
{
	*id = j->id;
	*attempt = j->attempt;
}

void
job_discard(struct job *j, const char *detail)
{
	int64_t prev = wf_log_set_job(j->id);

	if (j->prep)
		libvirt_discard(j->prep);
	if (j->marker[0])
		unlink(j->marker);
	unlink(j->records);
	log_info("%s: discarded before it ran%s%s", j->name, detail ? ": " : "",
	    detail ? detail : "");
	if (detail)
		finish(j->ob, j->id, j->attempt, "infra", detail, NULL);
	wf_log_set_job(prev);
	job_free(j);
}

/* The guest run (its domain resumed) to its finish. */
static void
job_run_guest(struct job *j, int64_t t_free)
{
	struct run_result res;
	double wait_s = -1;
	json_t *timings;

	if (j->marker[0])
		unlink(j->marker); /* from here on it ran: a leftover fails */
	if (libvirt_run_prepared(j->prep, &res) < 0)
		res.outcome = RUN_INFRA;
	if (res.resumed_us && t_free > 0) {
		wait_s = (res.resumed_us - t_free) / 1e6;
		if (wait_s < 0)
			wait_s = 0;
		log_info("slot free -> guest running %lld ms%s",
		    (long long)(wait_s * 1000 + 0.5),
		    j->ahead ? " (created ahead)" : "");
	}
	if (res.leftover[0]) {
		log_warnx("domain %s could not be destroyed: reported, tried"
		          " again",
		    res.leftover);
		agent_leftover_add(res.leftover);
	}
	records_reader_finish(&j->st.rd);
	send_host_records(&j->st, j->records);
	if (records_reader_dropped(&j->st.rd))
		log_warnx(
		    "%lu guest output line(s) broke the record contract (last: %s)",
		    records_reader_dropped(&j->st.rd), j->st.rd.last_cause);
	log_info("%s: %s after %.2f s%s%s", j->name,
	    run_outcome_name(res.outcome), res.wall_s,
	    res.detail[0] ? ": " : "", res.detail);
	/* the agent's own part of prepare: leased to the runner called */
	timings = job_timings(&res, (j->t_run - j->t_job) / 1e6,
	    (wf_now_us() - j->t_run) / 1e6 - res.t_wait_s, j->ahead, wait_s);
	finish_run(j->ob, j->id, j->attempt, outcome_word(res.outcome),
	    res.detail,
	    res.wall_s > 0 ? (int64_t)(res.wall_s * 1000.0 + 0.5) : -1,
	    timings);
	unlink(j->records);
}

void
job_start(struct job *j, int64_t t_free)
{
	int64_t prev = wf_log_set_job(j->id);

	if (j->fail) {
		if (j->marker[0])
			unlink(j->marker);
		finish(j->ob, j->id, j->attempt, "infra", j->fail, NULL);
	} else {
		job_run_guest(j, t_free);
	}
	wf_log_set_job(prev);
	job_free(j);
}

void
job_run(const struct agent_config *cfg, struct outbox *ob, const json_t *lease)
{
	struct job *j = job_prepare(cfg, ob, lease, 0);

	if (j)
		job_start(j, 0);
}

int
job_release(const struct agent_config *cfg, int64_t job, int64_t attempt)
{
	unsigned gen;
	struct wf_http *h = agent_http(cfg, &gen);
	json_t *body = json_pack("{s:I, s:I}", "job", (json_int_t)job,
	    "attempt", (json_int_t)attempt);
	char *cause = NULL;
	int rc = -1;

	if (h) {
		wf_http_set_timeouts(h, 5000, 10000);
		rc = wf_http_request(h, "POST", "/api/v1/agents/release", body,
		    NULL, NULL, &cause);
	}
	if (rc < 0)
		log_warnx("job %lld: lease not given back (%s): it expires and"
		          " is requeued",
		    (long long)job, h ? wf_cause_str(cause) : "no HTTP client");
	else
		log_info("job %lld: prepared ahead, not started: its lease"
		         " given back",
		    (long long)job);
	json_decref(body);
	free(cause);
	wf_http_free(h);
	return rc;
}

struct recover {
	const struct agent_config *cfg;
	struct outbox *ob;
};

/* One leftover of a dead owner (lvreap.h): its job ends infra, unless it
 * was made ahead and never resumed (its marker: given back after). */
static void
recovered(void *arg, const char *name, long long job, long long attempt,
    int destroyed, const char *err)
{
	struct recover *rc = arg;
	char detail[300], marker[PATH_MAX];

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
	marker_path(rc->cfg, name, marker, sizeof(marker));
	if (job > 0 && access(marker, F_OK) < 0) {
		snprintf(detail, sizeof(detail),
		    "agent restarted: domain %s left from a previous run%s",
		    name, destroyed ? "" : " (could not be destroyed)");
		finish(rc->ob, job, attempt, "infra", detail, NULL);
	}
}

/* The jobs of this agent's markers (job.h): made ahead by its previous
 * run, never resumed: given back, their files removed. */
static void
release_marked(const struct agent_config *cfg)
{
	DIR *d = opendir(cfg->work_dir);
	struct dirent *e;
	char name[256], path[PATH_MAX];
	long long job, attempt;
	size_t n;

	while (d && (e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (n < 7 || n - 6 >= sizeof(name) ||
		    strcmp(e->d_name + n - 6, ".ahead") != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(n - 6), e->d_name);
		if (!lvreap_owner_dead(name, cfg->name, 1, &job, &attempt))
			continue;
		job_release(cfg, job, attempt);
		snprintf(path, sizeof(path), "%s/%s", cfg->work_dir, e->d_name);
		unlink(path);
		snprintf(
		    path, sizeof(path), "%s/%s.records", cfg->work_dir, name);
		unlink(path);
	}
	if (d)
		closedir(d);
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
	release_marked(cfg);
}
