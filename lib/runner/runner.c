/*
 * runner.c: what the bare-QEMU and the libvirt runners share (runner.h):
 * the scratch directory of one run, the guest's COM2 output turned into the
 * records file with the runner's own host records appended, the capped
 * COM1 log, and the steps that begin and end every run.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "linux.h"
#include "records.h"
#include "runner.h"
#include "tail.h"
#include "util.h"

int
run_scratch_make(struct run_scratch *s, const char *parent)
{
	const char *tmp = parent ? parent :
	    getenv("TMPDIR")     ? getenv("TMPDIR") :
	                           "/tmp";

	snprintf(s->dir, sizeof(s->dir), "%s/wakefarm-qemu.XXXXXX", tmp);
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->config, sizeof(s->config), "%s/config", s->dir);
	snprintf(s->com2, sizeof(s->com2), "%s/com2", s->dir);
	snprintf(s->mon, sizeof(s->mon), "%s/monitor", s->dir);
	snprintf(s->err, sizeof(s->err), "%s/qemu.err", s->dir);
	snprintf(s->com1, sizeof(s->com1), "%s/com1", s->dir);
	snprintf(s->initrd, sizeof(s->initrd), "%s/initrd", s->dir);
	snprintf(s->cmdline, sizeof(s->cmdline), "%s/cmdline", s->dir);
	/* QEMU may run as another user (libvirt-qemu): it must read the
	 * config and libvirt's virtlogd writes the serial files here. */
	chmod(s->dir, 0755);
	return 0;
}

int
run_write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -1;
	rc = fputs(data, f) < 0 ? -1 : 0;
	/* world-readable whatever the umask: libvirt's QEMU runs as another user */
	if (fchmod(fileno(f), 0644) < 0)
		rc = -1;
	return fclose(f) || rc ? -1 : 0;
}

void
run_scratch_remove(struct run_scratch *s)
{
	char rotated[320];

	if (!s->dir[0])
		return;
	for (int k = 0; k < TAIL_BACKUPS; k++) {
		snprintf(rotated, sizeof(rotated), "%s.%d", s->com1, k);
		unlink(rotated);
		snprintf(rotated, sizeof(rotated), "%s.%d", s->com2, k);
		unlink(rotated);
	}
	unlink(s->config);
	unlink(s->com2);
	unlink(s->mon);
	unlink(s->err);
	unlink(s->com1);
	unlink(s->initrd);
	unlink(s->cmdline);
	rmdir(s->dir);
	s->dir[0] = 0;
}

void
run_read_head(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	char *nl;

	out[0] = 0;
	if (!f)
		return;
	n = fread(out, 1, size - 1, f);
	out[n] = 0;
	fclose(f);
	while ((nl = strchr(out, '\n')) && nl[1])
		*nl = ' ';
	if ((nl = strchr(out, '\n')))
		*nl = 0;
}

static void
append_record(FILE *f, json_t *rec)
{
	char *s = json_dumps(rec, JSON_COMPACT);

	if (s)
		fprintf(f, "%s\n", s);
	free(s);
	json_decref(rec);
}

static void
collect_cb(void *arg, json_t *rec)
{
	struct run_collect *c = arg;
	const char *ev = json_string_value(json_object_get(rec, "ev"));
	int gen = json_integer_value(json_object_get(rec, "gen"));

	if (gen > c->last_gen)
		c->last_gen = gen;
	if (!c->first_us)
		c->first_us = wf_now_us();
	hangwatch_record(c->hw, rec);
	if (!strcmp(ev, "fw-ready"))
		wf_strlcpy(c->mailbox,
		    json_string_value(json_object_get(rec, "mailbox")) ?: "",
		    sizeof(c->mailbox));
	if (!strcmp(ev, "error"))
		c->errors++;
	if (!strcmp(ev, "done"))
		c->done_status =
		    strcmp(
		        json_string_value(json_object_get(rec, "status")) ?: "",
		        "ok") ?
		    1 :
		    0;
	append_record(c->out, rec);
}

void
run_collect_feed(struct run_collect *c, const char *data, size_t n)
{
	records_reader_feed(&c->rd, data, n, collect_cb, c);
}

int
run_infra(struct run_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
	res->outcome = RUN_INFRA;
	return -1;
}

int
run_prepare(struct run_ctx *x, const struct runspec *rs,
    const struct run_opts *o, const char *parent, const char *idle,
    struct run_result *res)
{
	char *cause = NULL;

	memset(res, 0, sizeof(*res));
	memset(x, 0, sizeof(*x));
	x->c.done_status = -1;
	x->t0_us = wf_now_us();
	if (run_scratch_make(&x->s, parent) < 0) {
		x->s.dir[0] = 0;
		return run_infra(res, "cannot make a scratch directory: %s",
		    strerror(errno));
	}
	x->c.out = fopen(o->records, "w");
	x->config = runspec_guest_config_idle(rs, idle);
	if (!x->c.out || !x->config ||
	    run_write_file(x->s.config, x->config) < 0)
		return run_infra(
		    res, "cannot write %s: %s", o->records, strerror(errno));
	if (RUNSPEC_IS_LINUX(rs) &&
	    linux_files(rs, o->reporter, &x->s, &cause) < 0) {
		run_infra(res, "%s", wf_cause_str(cause));
		free(cause);
		return -1;
	}
	return 0;
}

void
run_finish_records(struct run_ctx *x, struct run_result *res, const char *how,
    int status, run_peek_fn peek, void *peek_arg)
{
	struct run_collect *c = &x->c;
	unsigned long long mb[2];

	records_reader_finish(&c->rd);
	res->dropped = records_reader_dropped(&c->rd);
	if (peek && c->mailbox[0] &&
	    peek(peek_arg, strtoull(c->mailbox, NULL, 16), mb) == 0) {
		char vec[32];

		snprintf(vec, sizeof(vec), "0x%llx", mb[1]);
		append_record(c->out,
		    json_pack(
		        "{s:i, s:s, s:i, s:s, s:I, s:s, s:i, s:i, s:I, s:s}",
		        "v", 1, "src", "host", "gen", c->last_gen, "ev",
		        "host-mailbox", "t_us", (json_int_t)(res->wall_s * 1e6),
		        "address", c->mailbox, "command", (int)(mb[0] & 0xffff),
		        "reserved", (int)((mb[0] >> 16) & 0xffff), "apic_id",
		        (json_int_t)(mb[0] >> 32), "vector", vec));
	}
	append_record(c->out,
	    json_pack("{s:i, s:s, s:i, s:s, s:I, s:s, s:i, s:b, s:I, s:s}", "v",
	        1, "src", "host", "gen", c->last_gen, "ev", "host-exit", "t_us",
	        (json_int_t)(res->wall_s * 1e6), "how", how, "status", status,
	        "done_seen", c->done_status >= 0, "dropped",
	        (json_int_t)res->dropped, "detail", res->detail));
	res->generations = c->last_gen;
}

int
run_end(
    struct run_ctx *x, const struct run_opts *o, struct run_result *res, int rc)
{
	if (x->c.out && fclose(x->c.out) && rc == 0) {
		snprintf(res->detail, sizeof(res->detail), "writing %s: %s",
		    o->records, strerror(errno));
		rc = -1;
	}
	x->c.out = NULL;
	free(x->config);
	x->config = NULL;
	run_scratch_remove(&x->s);
	return rc;
}

int
run_caplog_open(struct run_caplog *l, const char *path, long long cap)
{
	memset(l, 0, sizeof(*l));
	l->cap = cap > 0 ? cap : RUN_LOG_CAP;
	l->f = fopen(path, "wb");
	return l->f ? 0 : -1;
}

void
run_caplog_write(struct run_caplog *l, const char *data, size_t n)
{
	size_t keep = l->kept >= l->cap    ? 0 :
	    (size_t)(l->cap - l->kept) < n ? (size_t)(l->cap - l->kept) :
	                                     n;

	if (!l->f)
		return;
	if (keep && fwrite(data, 1, keep, l->f) == keep)
		l->kept += (long long)keep;
	l->dropped += (long long)(n - keep);
}

int
run_caplog_close(struct run_caplog *l)
{
	int rc = 0;

	if (!l->f)
		return 0;
	if (l->dropped)
		fprintf(l->f,
		    "\n[wakefarm: log truncated at %lld bytes; %lld more were not kept]\n",
		    l->cap, l->dropped);
	if (ferror(l->f))
		rc = -1;
	if (fclose(l->f))
		rc = -1;
	l->f = NULL;
	return rc;
}

int
run_outcome_exit(enum run_outcome o)
{
	switch (o) {
	case RUN_COMPLETED:
		return 0;
	case RUN_HANG:
		return 3;
	case RUN_GUEST_ERROR:
		return 4;
	default:
		return 5;
	}
}

const char *
run_outcome_name(enum run_outcome o)
{
	static const char *const names[] = { "completed", "guest error",
		"hang (watchdog)", "QEMU failure" };

	return names[o];
}

const char *
run_test_kernel(const struct runspec *rs, const struct run_opts *o)
{
	return rs->test_kernel[0] ? rs->test_kernel : o->test_kernel;
}

void
run_test_hold(const char *what)
{
	const char *dir = getenv("WF_TEST_HOLD");
	char hold[512], mark[512];
	FILE *f;

	if (dir == NULL || dir[0] == '\0')
		return;
	snprintf(hold, sizeof(hold), "%s/%s-hold", dir, what);
	if (access(hold, F_OK) != 0)
		return;
	snprintf(mark, sizeof(mark), "%s/%s-%d", dir, what, (int)getpid());
	if ((f = fopen(mark, "w")) != NULL)
		fclose(f);
	for (int i = 0; i < 1200 && access(hold, F_OK) == 0; i++)
		usleep(100000);
}

int
run_watchdog_fired(int timeout_s, double guest_s, double wall_s)
{
	return guest_s >= timeout_s ||
	    wall_s >= (double)timeout_s * RUN_WATCHDOG_WALL_FACTOR;
}

double
run_proc_waited_s(int pid)
{
	char path[300], line[128];
	unsigned long long run, wait, most = 0;
	struct dirent *e;
	int found = 0;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.32s/schedstat",
		    pid, e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(line, sizeof(line), f) != NULL &&
		    sscanf(line, "%llu %llu", &run, &wait) == 2) {
			found = 1;
			if (wait > most)
				most = wait;
		}
		fclose(f);
	}
	closedir(d);
	return found ? most / 1e9 : -1;
}

double
run_proc_cpu_s(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after "(comm)": state and 10 more fields, then utime stime */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1,
	        " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
	        &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}
