/*
 * lvevents.c: one thread runs libvirt's default event loop for the whole
 * process; runners register a lifecycle callback per domain.
 */
#include <pthread.h>

#include "lvevents.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loop_ok;

static void *
loop(void *arg)
{
	(void)arg;
	for (;;)
		if (virEventRunDefaultImpl() < 0)
			break;
	return NULL;
}

static void
start(void)
{
	pthread_t t;

	if (virEventRegisterDefaultImpl() < 0)
		return;
	if (pthread_create(&t, NULL, loop, NULL) == 0) {
		pthread_detach(t);
		loop_ok = 1;
	}
}

void
lvevents_init(void)
{
	pthread_once(&once, start);
}

static int
on_lifecycle(
    virConnectPtr conn, virDomainPtr dom, int event, int detail, void *arg)
{
	struct lv_end *end = arg;

	(void)conn;
	(void)dom;
	if (event == VIR_DOMAIN_EVENT_STOPPED) {
		end->detail = detail;
		__atomic_store_n(&end->stopped, 1, __ATOMIC_RELEASE);
	}
	return 0;
}

int
lvevents_watch(virConnectPtr conn, virDomainPtr dom, struct lv_end *end)
{
	end->stopped = 0;
	end->detail = -1;
	end->callback = -1;
	if (!loop_ok)
		return -1;
	/* A dead libvirtd shows up within ~15 s even with no call in flight. */
	virConnectSetKeepAlive(conn, 5, 3);
	end->callback = virConnectDomainEventRegisterAny(conn, dom,
	    VIR_DOMAIN_EVENT_ID_LIFECYCLE,
	    VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), end, NULL);
	return end->callback < 0 ? -1 : 0;
}

void
lvevents_unwatch(virConnectPtr conn, struct lv_end *end)
{
	if (end->callback >= 0)
		virConnectDomainEventDeregisterAny(conn, end->callback);
	end->callback = -1;
}

const char *
lvevents_detail_name(int detail)
{
	switch (detail) {
	case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
		return "shutdown";
	case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
		return "destroyed";
	case VIR_DOMAIN_EVENT_STOPPED_CRASHED:
		return "crashed";
	case VIR_DOMAIN_EVENT_STOPPED_MIGRATED:
		return "migrated";
	case VIR_DOMAIN_EVENT_STOPPED_SAVED:
		return "saved";
	case VIR_DOMAIN_EVENT_STOPPED_FAILED:
		return "failed";
	case VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT:
		return "from-snapshot";
	default:
		return "unknown";
	}
}
