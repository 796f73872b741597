/*
 * libvirt_run.h: running one guest as a transient libvirt domain.
 *
 * The agent's runner, also behind `guest/run-qemu --libvirt URI`.  It writes
 * the same records file as the bare-QEMU runner, so one evaluation serves
 * both; on a watchdog timeout the mailbox is read from outside the guest
 * with virDomainMemoryPeek before the domain is destroyed.
 */
#ifndef WF_LIBVIRT_RUN_H
#define WF_LIBVIRT_RUN_H

#include "qemu.h"

struct libvirt_opts {
	const char	*uri;		/* default qemu:///system */
	const char	*domain;	/* domain name, e.g. wakefarm-AGENT-JOB-ATTEMPT */
	const char	*workdir;	/* parent of the run's scratch dir; NULL: $TMPDIR */
	/* Called about every 200 ms while the guest runs and once after it
	 * ended, with the files QEMU writes COM1 and COM2 to: the agent
	 * streams from them.  NULL: nothing streams.  A non-zero return stops
	 * the run (the job was cancelled): the domain is destroyed. */
	int		(*tick)(void *arg, const char *com1, const char *com2);
	void		*tick_arg;
};

/* Same contract as qemu_run(); libvirt failures are RUN_INFRA with libvirt's text. */
int libvirt_run(const struct runspec *rs, const struct qemu_opts *o,
    const struct libvirt_opts *lo, struct run_result *res);

#endif
