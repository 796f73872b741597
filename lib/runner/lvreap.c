/*
 * lvreap.c: libvirt domains whose runner is gone, destroyed (lvreap.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "lvreap.h"
#include "util.h"

int
lvreap_uri_local(const char *uri)
{
	const char *p = strstr(uri ? uri : "qemu:///system", "://");

	return p != NULL && p[3] == '/';
}

/* s is 1 or more digits and nothing else: its value, else -1. */
static long long
all_digits(const char *s)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	return *end == '\0' && errno == 0 ? v : -1;
}

/* A wakefarm runner runs as pid (not this process). */
static int
runner_alive(long long pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (pid <= 0 || pid == (long long)getpid() ||
	    (kill((pid_t)pid, 0) == -1 && errno == ESRCH))
		return 0;
	snprintf(path, sizeof(path), "/proc/%lld/comm", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1; /* cannot tell: leave it */
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	/* bin/wakefarm (repro, bisect --local), bin/wakefarm-run-qemu */
	return strncmp(comm, "wakefarm", 8) == 0;
}

int
lvreap_owner_dead(const char *name, const char *agent, int local,
    long long *job, long long *attempt)
{
	static const char *const by_pid[] = { "wakefarm-repro-",
		"wakefarm-run-qemu-", NULL };
	char prefix[128], rest[64];
	const char *p;
	size_t n;
	int i;

	*job = *attempt = -1;
	for (i = 0; by_pid[i] != NULL; i++) {
		n = strlen(by_pid[i]);
		if (strncmp(name, by_pid[i], n) == 0 &&
		    all_digits(name + n) >= 0)
			return local && !runner_alive(all_digits(name + n));
	}
	if (agent == NULL)
		return 0;
	n = (size_t)snprintf(prefix, sizeof(prefix), "wakefarm-%s-", agent);
	if (strncmp(name, prefix, n) != 0 ||
	    (p = strchr(name + n, '-')) == NULL ||
	    (size_t)(p - (name + n)) >= sizeof(rest))
		return 0;
	snprintf(rest, sizeof(rest), "%.*s", (int)(p - (name + n)), name + n);
	*job = all_digits(rest);
	*attempt = all_digits(p + 1);
	return *job > 0 && *attempt > 0;
}

static void
quiet(void *arg, virErrorPtr e)
{
	(void)arg;
	(void)e;
}

static const char *
lv_why(void)
{
	const virError *e = virGetLastError();

	return e && e->message ? e->message : "unknown error";
}

int
lvreap(
    const char *uri, const char *agent, lvreap_cb cb, void *arg, char **cause)
{
	virConnectPtr conn;
	virDomainPtr *doms = NULL;
	long long job, attempt;
	int n, found = 0, ok, local = lvreap_uri_local(uri);

	virSetErrorFunc(NULL, quiet);
	if ((conn = virConnectOpen(uri ? uri : "qemu:///system")) == NULL) {
		wf_set_cause(cause, "libvirt %s: %s",
		    uri ? uri : "qemu:///system", lv_why());
		return -1;
	}
	n = virConnectListAllDomains(conn, &doms, 0);
	for (int i = 0; i < n; i++) {
		const char *name = virDomainGetName(doms[i]);

		if (name != NULL &&
		    lvreap_owner_dead(name, agent, local, &job, &attempt)) {
			/* gone meanwhile (a transient domain that ended): fine */
			ok = virDomainDestroy(doms[i]) == 0 ||
			    virGetLastErrorCode() == VIR_ERR_NO_DOMAIN ||
			    virGetLastErrorCode() == VIR_ERR_OPERATION_INVALID;
			found++;
			if (cb != NULL)
				cb(arg, name, job, attempt, ok,
				    ok ? "" : lv_why());
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	virConnectClose(conn);
	return found;
}

int
lvreap_destroy(
    const char *uri, const char *name, int wait_s, char *err, size_t errsize)
{
	int64_t deadline = wf_now_ms() + wait_s * 1000LL;
	virConnectPtr conn;
	virDomainPtr d;
	int rc;

	virSetErrorFunc(NULL, quiet);
	if (err != NULL && errsize > 0)
		err[0] = '\0';
	for (;;) {
		if ((conn = virConnectOpen(uri ? uri : "qemu:///system")) !=
		    NULL) {
			if ((d = virDomainLookupByName(conn, name)) == NULL) {
				rc = virGetLastErrorCode() ==
				        VIR_ERR_NO_DOMAIN ?
				    0 :
				    -1;
			} else {
				rc = virDomainDestroy(d) == 0 ||
				        virGetLastErrorCode() ==
				            VIR_ERR_NO_DOMAIN ||
				        virGetLastErrorCode() ==
				            VIR_ERR_OPERATION_INVALID ?
				    1 :
				    -1;
				virDomainFree(d);
			}
			if (rc == -1 && err != NULL)
				snprintf(err, errsize, "%s", lv_why());
			virConnectClose(conn);
			if (rc >= 0)
				return rc;
		} else if (err != NULL) {
			snprintf(err, errsize, "%s", lv_why());
		}
		if (wf_now_ms() >= deadline)
			return -1;
		nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
	}
}
