/*
 * api_events.h: the feed (db/007_ci.sql) over HTTP: GET /api/v1/events
 * (JSON, a page) and GET /api/v1/events/stream (server-sent events, as a
 * browser's EventSource reads them: `id:`, `event:`, `data:` lines,
 * Last-Event-ID honoured, a comment every 15 s to keep proxies open).
 *
 * A stream never holds a thread of the pool while it waits: its content
 * reader suspends the connection when it has nothing to send, and a
 * ticker resumes the waiting streams when the feed grows or a keep-alive
 * is due. events_stop resumes every stream so that it ends; call it before
 * api_stop (libmicrohttpd must not stop with suspended connections).
 */
#ifndef WF_CTL_API_EVENTS_H
#define WF_CTL_API_EVENTS_H

#include "api.h"

struct events;

/* NULL when its ticker cannot start. */
struct events *events_start(struct api *api);
/* Ends every stream; before api_stop. NULL is a no-op. */
void events_stop(struct events *ev);
/* After api_stop (no stream is left). NULL is a no-op. */
void events_free(struct events *ev);

void api_events_list(struct req *r, struct reply *out);
void api_events_stream(struct req *r, struct reply *out);

#endif
