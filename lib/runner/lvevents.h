/*
 * lvevents.h: libvirt's event loop for the runners: domain lifecycle events
 * (how a domain ended, which polling cannot see once a transient domain is
 * gone) and connection keepalive (a dead libvirtd noticed in seconds).
 */
#ifndef WF_LVEVENTS_H
#define WF_LVEVENTS_H

#include <libvirt/libvirt.h>

/* Starts the event loop thread once; call before opening connections. */
void lvevents_init(void);

struct lv_end {
	volatile int stopped; /* a STOPPED lifecycle event arrived */
	volatile int detail; /* its virDomainEventStoppedDetailType */
	int callback; /* registration id, -1 when none */
};

/* Watches dom's lifecycle into *end; 0 or -1 (then *end stays empty). */
int lvevents_watch(virConnectPtr conn, virDomainPtr dom, struct lv_end *end);
void lvevents_unwatch(virConnectPtr conn, struct lv_end *end);

/* "shutdown", "destroyed", "crashed", "failed", ... for host-exit records. */
const char *lvevents_detail_name(int detail);

#endif
