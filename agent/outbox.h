/*
 * outbox.h: durable, ordered delivery to the controller. Every event
 * batch, log chunk and finish is a file in the spool until the controller
 * took it; one sender thread delivers them in order, exactly once,
 * retrying with backoff while the controller is away.
 */
#ifndef WF_AGENT_OUTBOX_H
#define WF_AGENT_OUTBOX_H

#include <stdint.h>

#include <jansson.h>

#include "state.h"

struct outbox;

struct outbox *outbox_open(const struct agent_config *cfg, char **cause);
void outbox_close(struct outbox *ob);
/*
 * Queues one request for job `job`: written to the spool directory (so it
 * survives a controller outage and an agent restart) before this returns,
 * then delivered by the sender thread in the order queued.  kind is
 * "events", "log0", "log1" or "finish"; body is stolen.
 *
 * When the spool cannot be written (its disk is full), the request goes to
 * the controller at once instead, provided nothing of this job waits in
 * the spool (the order per job holds).  0: spooled or delivered; -1:
 * neither, the caller keeps what the body said and tries again later.
 */
int outbox_put(struct outbox *ob, int64_t job, const char *kind, json_t *body);
/* Items still waiting for the controller. */
int outbox_pending(struct outbox *ob);
/* 1 from a failed spool write to the next one that works. */
int outbox_full(struct outbox *ob);
/* Tries a small write to the spool: 0 it has room again (the full state ends). */
int outbox_probe(struct outbox *ob);

#endif
