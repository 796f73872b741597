/*
 * http.c: libcurl client for the wakefarm JSON API; see http.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"
#include "nethint.h"
#include "json.h"
#include "util.h"

#ifndef WF_VERSION
#define WF_VERSION "unknown"
#endif

struct wf_http {
	CURL *curl;
	char *base; /* without a trailing "/" */
	char *auth; /* "Authorization: Bearer ..." or NULL */
	char *ca_file;
	long connect_ms;
	long total_ms;
	size_t max_response;
	char errbuf[CURL_ERROR_SIZE];
	int last_curl; /* CURLcode of the last request */
};

/* What the write callback needs: where to put the body and when to stop. */
struct http_sink {
	struct wf_buf *out;
	size_t start; /* out->len before this reply */
	size_t max;
	int oversized;
};

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_init_rc = CURLE_FAILED_INIT;
static char *http_default_ca; /* wf_http_default_ca_file */

static void
http_global_init(void)
{
	/* curl_global_init is not thread safe: run it exactly once. */
	http_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int
token_ok(const char *token)
{
	/* Anything else could end the header and start a forged one. */
	for (; *token != '\0'; token++) {
		if (*token <= ' ' || *token >= 0x7f)
			return 0;
	}
	return 1;
}

struct wf_http *
wf_http_new(const char *base_url, const char *token)
{
	struct wf_http *c = NULL;
	size_t len;

	pthread_once(&http_once, http_global_init);
	if (http_init_rc != CURLE_OK)
		return NULL;
	if (strncmp(base_url, "http://", 7) != 0 &&
	    strncmp(base_url, "https://", 8) != 0)
		return NULL;
	if (token != NULL && (*token == '\0' || !token_ok(token)))
		return NULL;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->connect_ms = WF_HTTP_CONNECT_TIMEOUT_MS;
	c->total_ms = WF_HTTP_TOTAL_TIMEOUT_MS;
	c->max_response = WF_HTTP_MAX_RESPONSE;
	if ((c->base = strdup(base_url)) == NULL)
		goto fail;
	len = strlen(c->base);
	while (len > 0 && c->base[len - 1] == '/')
		c->base[--len] = '\0';
	if (token != NULL && wf_http_set_token(c, token) == -1)
		goto fail;
	if (http_default_ca != NULL &&
	    wf_http_set_ca_file(c, http_default_ca) == -1)
		goto fail;
	if ((c->curl = curl_easy_init()) == NULL)
		goto fail;
	return c;
fail:
	wf_http_free(c);
	return NULL;
}

void
wf_http_free(struct wf_http *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c->base);
	if (c->auth != NULL)
		explicit_bzero(c->auth, strlen(c->auth));
	free(c->auth);
	free(c->ca_file);
	free(c);
}

int
wf_http_set_ca_file(struct wf_http *c, const char *path)
{
	char *copy = strdup(path);

	if (copy == NULL)
		return -1;
	free(c->ca_file);
	c->ca_file = copy;
	return 0;
}

int
wf_http_default_ca_file(const char *path)
{
	char *copy = NULL;

	if (path != NULL && (copy = strdup(path)) == NULL)
		return -1;
	free(http_default_ca);
	http_default_ca = copy;
	return 0;
}

int
wf_http_set_token(struct wf_http *c, const char *token)
{
	char *auth = NULL;

	if (token != NULL && (*token == '\0' || !token_ok(token)))
		return -1;
	if (token != NULL &&
	    asprintf(&auth, "Authorization: Bearer %s", token) == -1)
		return -1;
	if (c->auth != NULL)
		explicit_bzero(c->auth, strlen(c->auth));
	free(c->auth);
	c->auth = auth;
	return 0;
}

void
wf_http_set_timeouts(struct wf_http *c, long connect_ms, long total_ms)
{
	if (connect_ms > 0)
		c->connect_ms = connect_ms;
	if (total_ms > 0)
		c->total_ms = total_ms;
}

void
wf_http_set_max_response(struct wf_http *c, size_t max)
{
	c->max_response = max;
}

static size_t
http_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_sink *sink = arg;
	size_t n = size * nmemb;

	if (n > sink->max - (sink->out->len - sink->start) ||
	    wf_buf_append(sink->out, data, n) == -1) {
		sink->oversized = 1;
		return 0; /* makes curl abort with CURLE_WRITE_ERROR */
	}
	return n;
}

static int
add_header(struct curl_slist **list, const char *header)
{
	struct curl_slist *l = curl_slist_append(*list, header);

	if (l == NULL)
		return -1;
	*list = l;
	return 0;
}

/* Reset the handle and set what every request shares. */
static int
http_setup(struct wf_http *c, const char *url, struct http_sink *sink,
    struct curl_slist *headers)
{
	CURL *h = c->curl;

	curl_easy_reset(h);
	c->errbuf[0] = '\0';
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") !=
	        CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms) !=
	        CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->total_ms) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USERAGENT, "wakefarm/" WF_VERSION) !=
	        CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write) !=
	        CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, sink) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	        (curl_off_t)sink->max) != CURLE_OK)
		return -1;
	/* libcurl's defaults, set anyway: nothing here may turn them off. */
	if (curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK)
		return -1;
	if (c->ca_file != NULL &&
	    curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file) != CURLE_OK)
		return -1;
	return 0;
}

static int
http_set_method(CURL *h, const char *method, const void *data, size_t len)
{
	if (strcmp(method, "GET") == 0 && data == NULL)
		return curl_easy_setopt(h, CURLOPT_HTTPGET, 1L) == CURLE_OK ?
		    0 :
		    -1;
	/* POSTFIELDS with an explicit size sends the body (even empty) as is. */
	if (curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
	        (curl_off_t)(data != NULL ? len : 0)) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDS, data != NULL ? data : "") !=
	        CURLE_OK)
		return -1;
	if (strcmp(method, "POST") != 0 &&
	    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK)
		return -1;
	return 0;
}

int
wf_http_last_error(const struct wf_http *c)
{
	return c->last_curl;
}

int
wf_http_request_raw(struct wf_http *c, const char *method, const char *path,
    const char *content_type, const void *data, size_t len, long *status,
    struct wf_buf *out, char **cause)
{
	struct http_sink sink = { out, out->len, c->max_response, 0 };
	struct curl_slist *headers = NULL;
	char *url = NULL, *ctype = NULL;
	long code = 0;
	CURLcode rc;
	int ret = -1;

	if (status != NULL)
		*status = 0;
	if (out->cap - out->len < sink.max)
		sink.max = out->cap - out->len;
	if (asprintf(&url, "%s%s", c->base, path) == -1) {
		url = NULL;
		wf_set_cause(cause, "out of memory");
		goto out;
	}
	/* "Expect:" drops curl's 100-continue round trip for large bodies. */
	if (add_header(&headers, "Expect:") == -1 ||
	    add_header(&headers, "Accept: application/json") == -1 ||
	    (c->auth != NULL && add_header(&headers, c->auth) == -1))
		goto oom;
	if (content_type != NULL) {
		if (asprintf(&ctype, "Content-Type: %s", content_type) == -1) {
			ctype = NULL;
			goto oom;
		}
		if (add_header(&headers, ctype) == -1)
			goto oom;
	}
	if (http_setup(c, url, &sink, headers) == -1 ||
	    http_set_method(c->curl, method, data, len) == -1) {
		wf_set_cause(
		    cause, "%s %s: cannot set up the request", method, url);
		goto out;
	}
	rc = curl_easy_perform(c->curl);
	if ((rc == CURLE_WRITE_ERROR && sink.oversized) ||
	    rc == CURLE_FILESIZE_EXCEEDED) {
		wf_set_cause(cause, "%s %s: reply larger than %zu bytes",
		    method, url, sink.max);
		goto out;
	}
	c->last_curl = (int)rc;
	if (rc != CURLE_OK) {
		wf_set_cause(cause, "%s %s: %s%s", method, url,
		    c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc),
		    wf_net_hint((int)rc, url, c->ca_file));
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	if (status != NULL)
		*status = code;
	ret = 0;
	goto out;
oom:
	wf_set_cause(cause, "out of memory");
out:
	curl_slist_free_all(headers);
	free(ctype);
	free(url);
	return ret;
}

/* The cause for a non-2xx reply: its {"error": "..."} text when it has one. */
static void
http_error_cause(long code, const struct wf_buf *b, char **cause)
{
	const char *msg = NULL;
	json_t *v;

	v = json_loadb(wf_buf_str(b), b->len, 0, NULL);
	if (json_is_object(v) &&
	    wf_json_get_str(v, "error", 1, 4096, &msg, NULL) == 0)
		wf_set_cause(cause, "%s (HTTP %ld)", msg, code);
	else
		wf_set_cause(cause, "HTTP %ld", code);
	json_decref(v);
}

int
wf_http_request(struct wf_http *c, const char *method, const char *path,
    json_t *body, long *status, json_t **reply, char **cause)
{
	struct wf_buf b;
	char *data = NULL, *why = NULL;
	long code = 0;
	json_t *v = NULL;
	int ret = -1;

	wf_buf_init(&b, c->max_response);
	if (status != NULL)
		*status = 0;
	if (reply != NULL)
		*reply = NULL;
	if (body != NULL && (data = json_dumps(body, JSON_COMPACT)) == NULL) {
		wf_set_cause(cause, "cannot encode the request body as JSON");
		goto out;
	}
	if (wf_http_request_raw(c, method, path,
	        data != NULL ? "application/json" : NULL, data,
	        data != NULL ? strlen(data) : 0, &code, &b, cause) == -1)
		goto out;
	if (status != NULL)
		*status = code;
	if (code < 200 || code > 299) {
		http_error_cause(code, &b, cause);
		goto out;
	}
	if (b.len > 0 &&
	    (v = wf_json_loadb(wf_buf_str(&b), b.len, b.cap, &why)) == NULL) {
		wf_set_cause(cause, "%s %s: reply is not JSON: %s", method,
		    path, wf_cause_str(why));
		goto out;
	}
	if (reply != NULL) {
		*reply = v;
		v = NULL;
	}
	ret = 0;
out:
	json_decref(v);
	free(why);
	free(data);
	wf_buf_free(&b);
	return ret;
}

/* What the stream's write callback needs. */
struct http_stream {
	int (*fn)(const char *data, size_t len, void *arg);
	void *arg;
	long code; /* the status, once known */
	struct wf_buf err; /* a non-2xx body */
	int stopped;
	CURL *h;
};

static size_t
stream_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_stream *st = arg;
	size_t n = size * nmemb;

	if (st->code == 0)
		curl_easy_getinfo(st->h, CURLINFO_RESPONSE_CODE, &st->code);
	if (st->code < 200 || st->code > 299) {
		wf_buf_append(&st->err, data, n); /* capped: the rest dropped */
		return n;
	}
	if (st->fn(data, n, st->arg) == -1) {
		st->stopped = 1;
		return 0;
	}
	return n;
}

int
wf_http_stream(struct wf_http *c, const char *path,
    int (*fn)(const char *data, size_t len, void *arg), void *arg, long *status,
    char **cause)
{
	struct http_stream st = { fn, arg, 0, { 0 }, 0, c->curl };
	struct http_sink unused = { NULL, 0, 0, 0 };
	struct curl_slist *headers = NULL;
	long total = c->total_ms;
	char *url = NULL;
	CURLcode rc;
	int ret = -1;

	if (status != NULL)
		*status = 0;
	wf_buf_init(&st.err, 64 * 1024);
	unused.max = (size_t)1 << 62;
	if (asprintf(&url, "%s%s", c->base, path) == -1) {
		url = NULL;
		wf_set_cause(cause, "out of memory");
		goto out;
	}
	if (add_header(&headers, "Accept: text/event-stream") == -1 ||
	    (c->auth != NULL && add_header(&headers, c->auth) == -1)) {
		wf_set_cause(cause, "out of memory");
		goto out;
	}
	c->total_ms = 0; /* a stream has no end in sight */
	if (http_setup(c, url, &unused, headers) == -1 ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, stream_write) !=
	        CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &st) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L) != CURLE_OK) {
		c->total_ms = total;
		wf_set_cause(cause, "GET %s: cannot set up the request", url);
		goto out;
	}
	c->total_ms = total;
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &st.code);
	if (status != NULL)
		*status = st.code;
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && st.stopped)) {
		wf_set_cause(cause, "GET %s: %s", url,
		    c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
		goto out;
	}
	if (!st.stopped && (st.code < 200 || st.code > 299)) {
		http_error_cause(st.code, &st.err, cause);
		goto out;
	}
	ret = 0;
out:
	wf_buf_free(&st.err);
	curl_slist_free_all(headers);
	free(url);
	return ret;
}
