/*
 * linux.c: a Linux guest's extra files, and kernel packages as artifacts
 * (see linux.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux.h"
#include "log.h"
#include "proc.h"
#include "util.h"

int
linux_files(const struct runspec *rs, const char *reporter,
    const struct run_scratch *s, char **cause)
{
	const char *argv[] = { reporter, "--pack", s->initrd, rs->kernel,
		rs->initrd[0] ? rs->initrd : NULL, NULL };
	char *cmdline = NULL, head[512];
	int rc = -1;

	if (!reporter)
		return wf_set_cause(cause,
		           "a Linux kernel needs the reporter /init (run_opts.reporter)"),
		       -1;
	if (!rs->kernel[0])
		return wf_set_cause(cause,
		           "kernel package %s was not resolved to a file",
		           rs->kernel_package),
		       -1;
	cmdline = runspec_linux_cmdline(rs);
	if (!cmdline || run_write_file(s->cmdline, cmdline) < 0) {
		wf_set_cause(
		    cause, "cannot write %s: %s", s->cmdline, strerror(errno));
		goto out;
	}
	if (wf_proc_wait(argv, s->err, NULL) != 0) {
		run_read_head(s->err, head, sizeof(head));
		if (head[0])
			wf_set_cause(cause, "%s", head);
		else
			wf_set_cause(cause, "%s --pack failed", reporter);
		goto out;
	}
	/* libvirt's QEMU (user libvirt-qemu) opens it through -fw_cfg */
	if (chmod(s->initrd, 0644) < 0) {
		wf_set_cause(cause, "chmod %s: %s", s->initrd, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(cmdline);
	return rc;
}

/* --- kernel packages: fetched once per package and process --- */

#define FETCH_CACHE_MAX 32

struct fetched {
	char pkg[RUNSPEC_PACKAGE_MAX];
	int ok;
	char result[RUNSPEC_PATH_MAX]; /* the vmlinuz, or why not */
};

static pthread_mutex_t fetch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fetched fetch_cache[FETCH_CACHE_MAX];
static int fetch_n;

/* The last non-empty line of a file (the script prints the path last). */
static void
last_line(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	out[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0])
			wf_strlcpy(out, line, size);
	}
	fclose(f);
}

/* Runs the fetch script under a lock shared by every agent of this tree. */
static void
fetch_one(struct fetched *e, const char *script, const char *dir)
{
	char lock[RUNSPEC_PATH_MAX + 16], logf[RUNSPEC_PATH_MAX + 96], secs[16],
	    path[RUNSPEC_PATH_MAX];
	const char *argv[] = { "flock", "-w", secs, lock, "timeout", secs,
		script, e->pkg, dir, NULL };
	int rc;

	snprintf(secs, sizeof(secs), "%d", LINUX_FETCH_TIMEOUT_S);
	snprintf(lock, sizeof(lock), "%s/.fetch.lock", dir);
	snprintf(logf, sizeof(logf), "%s/%s.fetch.log", dir, e->pkg);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(e->result, sizeof(e->result), "cannot create %s: %s",
		    dir, strerror(errno));
		return;
	}
	log_info("kernel package %s: fetching with %s", e->pkg, script);
	rc = wf_proc_wait(argv, logf, NULL);
	last_line(logf, path, sizeof(path));
	if (rc == 0 && path[0] == '/' && access(path, R_OK) == 0) {
		e->ok = 1;
		wf_strlcpy(e->result, path, sizeof(e->result));
		log_info("kernel package %s: %s", e->pkg, path);
		return;
	}
	snprintf(e->result, sizeof(e->result),
	    "fetching kernel package %s failed (%s %d): %.160s (log %.200s)",
	    e->pkg, rc == 124 ? "timed out, status" : "exit status", rc, path,
	    logf);
	log_warnx("%s", e->result);
}

int
linux_resolve_package(const char *pkg, const char *fetch_script,
    const char *kernels_dir, char *out, size_t osize, char **cause)
{
	struct fetched *e = NULL;
	int rc;

	/* One lock for all: a second job for a package waits for the first's
	 * fetch instead of starting its own. */
	pthread_mutex_lock(&fetch_lock);
	for (int i = 0; i < fetch_n; i++)
		if (!strcmp(fetch_cache[i].pkg, pkg))
			e = &fetch_cache[i];
	if (!e) {
		e = &fetch_cache[fetch_n < FETCH_CACHE_MAX ?
		        fetch_n++ :
		        FETCH_CACHE_MAX - 1];
		memset(e, 0, sizeof(*e));
		wf_strlcpy(e->pkg, pkg, sizeof(e->pkg));
		fetch_one(e, fetch_script, kernels_dir);
	}
	rc = e->ok ? 0 : -1;
	if (e->ok)
		wf_strlcpy(out, e->result, osize);
	else
		wf_set_cause(cause, "%s", e->result);
	pthread_mutex_unlock(&fetch_lock);
	return rc;
}
