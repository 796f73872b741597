/*
 * runcommon.c: what the bare-QEMU and the libvirt runners share: the scratch
 * directory of one run, and turning the guest's COM2 output into the records
 * file with the runner's own host records appended.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "records.h"
#include "runner.h"
#include "tail.h"
#include "util.h"

int make_scratch(struct scratch *s, const char *parent)
{
	const char *tmp = parent ? parent : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

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

int write_text_file(const char *path, const char *data)
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

void remove_scratch(struct scratch *s)
{
	char rotated[320];

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
}

pid_t run_spawn(char **argv, const char *errpath)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		setpgid(0, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

int run_wait(char **argv, const char *errpath)
{
	pid_t pid = run_spawn(argv, errpath);
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void run_read_tail(const char *path, char *out, size_t size)
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

void collect_feed(struct collect *c, const char *data, size_t n)
{
	rec_reader_feed(&c->rd, data, n, collect_cb, c);
}

void finish_records(struct collect *c, struct run_result *res, const char *how, int status,
    run_peek_fn peek, void *peek_arg)
{
	unsigned long long mb[2];

	rec_reader_finish(&c->rd);
	res->dropped = rec_reader_dropped(&c->rd);
	if (peek && c->mailbox[0] && peek(peek_arg, strtoull(c->mailbox, NULL, 16), mb) == 0) {
		char vec[32];

		snprintf(vec, sizeof(vec), "0x%llx", mb[1]);
		append_record(c->out, json_pack("{s:i, s:s, s:i, s:s, s:I, s:s, s:i, s:i, s:I, s:s}",
			"v", 1, "src", "host", "gen", c->last_gen, "ev", "host-mailbox",
			"t_us", (json_int_t)(res->wall_s * 1e6), "address", c->mailbox,
			"command", (int)(mb[0] & 0xffff), "reserved", (int)((mb[0] >> 16) & 0xffff),
			"apic_id", (json_int_t)(mb[0] >> 32), "vector", vec));
	}
	append_record(c->out, json_pack("{s:i, s:s, s:i, s:s, s:I, s:s, s:i, s:b, s:I, s:s}",
		"v", 1, "src", "host", "gen", c->last_gen, "ev", "host-exit",
		"t_us", (json_int_t)(res->wall_s * 1e6), "how", how, "status", status,
		"done_seen", c->done_status >= 0, "dropped", (json_int_t)res->dropped,
		"detail", res->detail));
	res->generations = c->last_gen;
}

int caplog_open(struct caplog *l, const char *path, long long cap)
{
	memset(l, 0, sizeof(*l));
	l->cap = cap > 0 ? cap : RUN_LOG_CAP;
	l->f = fopen(path, "wb");
	return l->f ? 0 : -1;
}

void caplog_write(struct caplog *l, const char *data, size_t n)
{
	size_t keep = l->kept >= l->cap ? 0 : (size_t)(l->cap - l->kept) < n ? (size_t)(l->cap - l->kept) : n;

	if (!l->f)
		return;
	if (keep && fwrite(data, 1, keep, l->f) == keep)
		l->kept += (long long)keep;
	l->dropped += (long long)(n - keep);
}

int caplog_close(struct caplog *l)
{
	int rc = 0;

	if (!l->f)
		return 0;
	if (l->dropped)
		fprintf(l->f, "\n[wakefarm: log truncated at %lld bytes; %lld more were not kept]\n",
			l->cap, l->dropped);
	if (ferror(l->f))
		rc = -1;
	if (fclose(l->f))
		rc = -1;
	l->f = NULL;
	return rc;
}

void append_record(FILE *f, json_t *rec)
{
	char *s = json_dumps(rec, JSON_COMPACT);

	if (s)
		fprintf(f, "%s\n", s);
	free(s);
	json_decref(rec);
}

void collect_cb(void *arg, json_t *rec)
{
	struct collect *c = arg;
	const char *ev = json_string_value(json_object_get(rec, "ev"));
	int gen = json_integer_value(json_object_get(rec, "gen"));

	if (gen > c->last_gen)
		c->last_gen = gen;
	if (!strcmp(ev, "fw-ready"))
		wf_strlcpy(c->mailbox, json_string_value(json_object_get(rec, "mailbox")) ?: "",
			   sizeof(c->mailbox));
	if (!strcmp(ev, "error"))
		c->errors++;
	if (!strcmp(ev, "done"))
		c->done_status = strcmp(json_string_value(json_object_get(rec, "status")) ?: "", "ok") ? 1 : 0;
	append_record(c->out, rec);
}

int run_outcome_exit(enum run_outcome o)
{
	switch (o) {
	case RUN_COMPLETED:	return 0;
	case RUN_HANG:		return 3;
	case RUN_GUEST_ERROR:	return 4;
	default:		return 5;
	}
}

const char *run_outcome_name(enum run_outcome o)
{
	static const char *const names[] = { "completed", "guest error", "hang (watchdog)", "QEMU failure" };

	return names[o];
}

const char *run_test_kernel(const struct runspec *rs, const struct qemu_opts *o)
{
	return rs->test_kernel[0] ? rs->test_kernel : o->test_kernel;
}
