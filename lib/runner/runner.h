/*
 * runner.h: shared by the runners (agent/qemu.c, agent/libvirt_run.c).
 */
#ifndef WF_RUNCOMMON_H
#define WF_RUNCOMMON_H

#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "qemu.h"
#include "records.h"

/* One run's scratch directory (mode 0755: QEMU may run as another user). */
struct scratch {
	char dir[256];
	char config[300], com1[300], com2[300], mon[300], err[300];
	char initrd[300], cmdline[300];		/* a Linux guest's (linux.h) */
};

int make_scratch(struct scratch *s, const char *parent);
/* Removes the files (virtlogd's rotated COM1.N/COM2.N too) and the directory. */
void remove_scratch(struct scratch *s);
/* Writes a whole file (mode 0644 under the default umask); 0 or -1. */
int write_text_file(const char *path, const char *data);

/* The test kernel image to boot: the job's own (rs->test_kernel, a path by
 * now: blobs are fetched before the run) or the runner's default. */
const char *run_test_kernel(const struct runspec *rs, const struct qemu_opts *o);

/* fork + exec argv in its own process group, stdout and stderr to errpath. */
pid_t run_spawn(char **argv, const char *errpath);
/* Runs argv to its end; its exit status, or -1. */
int run_wait(char **argv, const char *errpath);
/* The start of a text file as one line (newlines become spaces). */
void run_read_tail(const char *path, char *out, size_t size);

/* What the records gathered so far say, while they are copied out. */
struct collect {
	FILE *out;
	struct rec_reader rd;	/* COM2 as it comes (zeroed: a new reader) */
	int last_gen;
	char mailbox[32];	/* from fw-ready: where a hang's evidence is */
	int done_status;	/* -1 none, 0 ok, 1 error/panic */
	int errors;		/* error records the guest wrote */
};

void append_record(FILE *f, json_t *rec);
void collect_cb(void *arg, json_t *rec);
/* Feeds COM2 bytes as they come: valid records go to c->out. */
void collect_feed(struct collect *c, const char *data, size_t n);

/*
 * A log file with a size cap: what goes past it is counted, not kept,
 * and closing it appends a line saying so. cap 0: RUN_LOG_CAP.
 */
#define RUN_LOG_CAP	(64LL << 20)

struct caplog {
	FILE		*f;
	long long	 cap, kept, dropped;
};

int caplog_open(struct caplog *l, const char *path, long long cap);
void caplog_write(struct caplog *l, const char *data, size_t n);
/* 0, or -1 when the file could not be written. */
int caplog_close(struct caplog *l);

/* Reads the 16 mailbox header bytes at guest-physical addr; 0 or -1. */
typedef int (*run_peek_fn)(void *arg, unsigned long long addr, unsigned long long out[2]);

/*
 * Ends the records fed so far (collect_feed): appends host-mailbox (when
 * peek is given and the mailbox is known) and host-exit.
 */
void finish_records(struct collect *c, struct run_result *res, const char *how, int status,
    run_peek_fn peek, void *peek_arg);

#endif
