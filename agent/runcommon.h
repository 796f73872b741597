/*
 * runcommon.h: shared by the runners (agent/qemu.c, agent/libvirt_run.c).
 */
#ifndef WF_RUNCOMMON_H
#define WF_RUNCOMMON_H

#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "qemu.h"

/* One run's scratch directory (mode 0755: QEMU may run as another user). */
struct scratch {
	char dir[256];
	char config[300], com1[300], com2[300], mon[300], err[300];
	char initrd[300], cmdline[300];		/* a Linux guest's (linux.h) */
};

int make_scratch(struct scratch *s, const char *parent);
void remove_scratch(struct scratch *s);
/* Writes a whole file (mode 0644 under the default umask); 0 or -1. */
int write_text_file(const char *path, const char *data);

/* The test kernel image to boot: the job's own (rs->test_kernel, a path by
 * now: blobs are fetched before the run) or the runner's default. */
const char *runcommon_test_kernel(const struct runspec *rs, const struct qemu_opts *o);

/* fork + exec argv in its own process group, stdout and stderr to errpath. */
pid_t run_spawn(char **argv, const char *errpath);
/* Runs argv to its end; its exit status, or -1. */
int run_wait(char **argv, const char *errpath);
/* The start of a text file as one line (newlines become spaces). */
void run_read_tail(const char *path, char *out, size_t size);

/* What the records gathered so far say, while they are copied out. */
struct collect {
	FILE *out;
	int last_gen;
	char mailbox[32];	/* from fw-ready: where a hang's evidence is */
	int done_status;	/* -1 none, 0 ok, 1 error/panic */
	int errors;		/* error records the guest wrote */
};

void append_record(FILE *f, json_t *rec);
void collect_cb(void *arg, json_t *rec);

/* Reads the 16 mailbox header bytes at guest-physical addr; 0 or -1. */
typedef int (*run_peek_fn)(void *arg, unsigned long long addr, unsigned long long out[2]);

/*
 * Copies the valid records of s->com2 into c->out, then appends
 * host-mailbox (when peek is given and the mailbox is known) and host-exit.
 */
void finish_records(const struct scratch *s, struct collect *c, struct run_result *res,
    const char *how, int status, run_peek_fn peek, void *peek_arg);

#endif
