/*
 * preflight.c: the agent's start-up checks; see preflight.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "fsutil.h"
#include "log.h"
#include "preflight.h"
#include "util.h"

#define QEMU_USER "libvirt-qemu"

/* DIR absolute, made (mode) when missing, and a file can be created in it. */
static int
dir_writable(const char *what, const char *dir, mode_t mode)
{
	char probe[PATH_MAX], *cause = NULL;
	FILE *f;

	if (dir[0] != '/') {
		log_warnx("%s directory %s: not an absolute path", what, dir);
		return 1;
	}
	snprintf(
	    probe, sizeof(probe), "%s/.preflight.%ld", dir, (long)getpid());
	if (wf_mkdir_parent(probe, mode, &cause) == -1) {
		log_warnx("%s directory: %s (make it, writable by this user,"
		          " or give another with --%s)",
		    what, wf_cause_str(cause), what);
		free(cause);
		return 1;
	}
	if ((f = fopen(probe, "w")) == NULL) {
		log_warnx("%s directory %s is not writable: %s (fix its owner"
		          " or mode, or give another with --%s)",
		    what, dir, strerror(errno), what);
		return 1;
	}
	fclose(f);
	unlink(probe);
	return 0;
}

static void
quiet(void *arg, virErrorPtr err)
{
	(void)arg;
	(void)err;
}

static int
libvirt_answers(const char *uri)
{
	virConnectPtr c;

	virSetErrorFunc(NULL, quiet);
	if ((c = virConnectOpen(uri)) == NULL) {
		const char *msg = virGetLastErrorMessage();

		log_warnx(
		    "libvirt at %s does not answer: %s (is libvirtd"
		    " running? systemctl start libvirtd; or give --libvirt"
		    " URI)",
		    uri, msg ? msg : "no error message");
		return 1;
	}
	virConnectClose(c);
	return 0;
}

/* Whether QEMU_USER may reach and read path (a file, or DIR/. for a
 * directory). */
static int
qemu_reads(const struct passwd *pw, const char *what, const char *path)
{
	char *cause = NULL;

	if (access(path, R_OK) == -1) {
		log_warnx("%s %s: %s (build it: make; or give its path)", what,
		    path, strerror(errno));
		return 1;
	}
	if (wf_readable_by(path, pw->pw_uid, pw->pw_gid, &cause))
		return 0;
	log_warnx("%s %s cannot be read by %s, the user QEMU runs as: %s"
	          " (chmod o+r the file and o+x every directory on its way,"
	          " as lib/sh/deps.sh does for build/)",
	    what, path, QEMU_USER, wf_cause_str(cause));
	free(cause);
	return 1;
}

int
preflight(const struct agent_config *cfg)
{
	const struct passwd *pw;
	char work[PATH_MAX];
	int problems = 0;

	problems += dir_writable("work", cfg->work_dir, 0755);
	/* QEMU reads each run's config from under it (agent_run does the same) */
	if (cfg->work_dir[0] == '/')
		chmod(cfg->work_dir, 0755);
	problems += dir_writable("spool", cfg->spool_dir, 0700);
	problems += libvirt_answers(cfg->libvirt_uri);
	/* Images are read on this machine only for a local QEMU driver. */
	if (strncmp(cfg->libvirt_uri, "qemu:///", 8) != 0 ||
	    (pw = getpwnam(QEMU_USER)) == NULL)
		return problems;
	problems += qemu_reads(pw, "firmware image", cfg->firmware);
	problems += qemu_reads(pw, "test kernel", cfg->test_kernel);
	if (access(cfg->reporter, F_OK) == 0)
		problems += qemu_reads(
		    pw, "Linux guests' /init", cfg->reporter);
	snprintf(work, sizeof(work), "%s/.", cfg->work_dir);
	if (cfg->work_dir[0] == '/' && access(cfg->work_dir, F_OK) == 0)
		problems += qemu_reads(pw, "work directory", work);
	return problems;
}
