/*
 * http.h: the JSON API client used by the agent and the CLI, on libcurl.
 *
 * One struct wf_http per thread (a curl handle is not thread safe); the
 * connection is kept alive between requests. Requests carry
 * "Authorization: Bearer TOKEN" when a token is set. Redirects are not
 * followed, so the token never leaves for another host.
 */
#ifndef WF_HTTP_H
#define WF_HTTP_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"

#define WF_HTTP_CONNECT_TIMEOUT_MS 10000
#define WF_HTTP_TOTAL_TIMEOUT_MS 60000
#define WF_HTTP_MAX_RESPONSE (16 * 1024 * 1024)

struct wf_http;

/*
 * base_url: "http://host:port" or "https://..." (a trailing "/" is fine);
 * token may be NULL. NULL when out of memory, when the URL is not http(s),
 * or when the token holds characters that cannot go in a header.
 */
struct wf_http *wf_http_new(const char *base_url, const char *token);
void wf_http_free(struct wf_http *c); /* NULL is a no-op */
/* libcurl's code (CURLcode) of the last request: 0 when it got a reply. */
int wf_http_last_error(const struct wf_http *c);

/*
 * Verify the server against this CA bundle instead of the system's. An
 * https:// server is always verified (its certificate chain and its name
 * or IP address); there is no way to turn that off.
 */
int wf_http_set_ca_file(struct wf_http *c, const char *path);
/*
 * The CA bundle of every client made after this call (the process's
 * --ca-file); NULL: the system's. Call from main before starting threads.
 */
int wf_http_default_ca_file(const char *path);
/*
 * Replace the bearer token (NULL: none) for the next requests: a token
 * file read again. 0, or -1 (nothing changed) for a token that cannot go
 * in a header or when out of memory.
 */
int wf_http_set_token(struct wf_http *c, const char *token);
/* Milliseconds; 0 keeps the current value. Long polls raise total_ms. */
void wf_http_set_timeouts(struct wf_http *c, long connect_ms, long total_ms);
/* Refuse response bodies longer than max bytes. */
void wf_http_set_max_response(struct wf_http *c, size_t max);

/*
 * METHOD base_url+path with body (if not NULL) sent as JSON.
 * Returns 0 for a 2xx reply: *reply is the parsed body (a new reference the
 * caller json_decref's), or NULL when the body was empty.
 * Returns -1 otherwise, with *reply NULL and *cause set: a transport error
 * (*status 0), a non-2xx status (the cause is the reply's {"error": "..."}
 * text, or "HTTP nnn"), a body over the cap, or a body that is not JSON.
 * status and reply may be NULL when the caller does not want them.
 */
int wf_http_request(struct wf_http *c, const char *method, const char *path,
    json_t *body, long *status, json_t **reply, char **cause);

/*
 * The same for a non-JSON exchange: len bytes of data with content_type
 * (data may be NULL), the raw reply appended to out (whose own cap applies
 * as well). Returns 0 when a reply of any status arrived, -1 on a
 * transport error or an oversized reply.
 */
int wf_http_request_raw(struct wf_http *c, const char *method, const char *path,
    const char *content_type, const void *data, size_t len, long *status,
    struct wf_buf *out, char **cause);

/*
 * GET path as a stream (server-sent events): each piece of the body as it
 * arrives goes to fn, which returns 0 to go on or -1 to stop. No total
 * time limit (the connect timeout holds). Returns 0 when the server ended
 * the stream or fn stopped it, -1 with a cause on a transport error or a
 * non-2xx status (its {"error"} as the cause; *status set as for
 * wf_http_request).
 */
int wf_http_stream(struct wf_http *c, const char *path,
    int (*fn)(const char *data, size_t len, void *arg), void *arg, long *status,
    char **cause);

#endif
