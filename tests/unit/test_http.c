/*
 * test_http.c: unit tests for lib/http against a real libmicrohttpd server
 * that the test starts on 127.0.0.1 with an ephemeral port: status codes,
 * {"error"} bodies surfaced as the cause, the response cap, the bearer
 * token, methods and bodies, timeouts and refused connections.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "http.h"
#include "test.h"

#define BIG_SIZE (64 * 1024)

static struct MHD_Daemon *server;
static char server_url[64];

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned int status, const char *ctype,
    const char *body)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(
	    strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (ctype != NULL)
		MHD_add_response_header(r, "Content-Type", ctype);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Stream BIG_SIZE bytes with no Content-Length, so only the cap stops it. */
static ssize_t
big_chunk(void *cls, uint64_t pos, char *buf, size_t max)
{
	size_t n;

	if (pos >= BIG_SIZE)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = BIG_SIZE - pos < max ? BIG_SIZE - pos : max;
	memset(buf, ' ', n);
	return (ssize_t)n;
}

static enum MHD_Result
echo(struct MHD_Connection *conn, const char *method, struct wf_buf *body)
{
	const char *auth, *ctype;
	enum MHD_Result ret;
	json_t *o;
	char *text;

	auth = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, "Authorization");
	ctype = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, "Content-Type");
	o = json_pack("{s:s, s:s?, s:s?, s:s#}", "method", method, "auth", auth,
	    "content_type", ctype, "body", wf_buf_str(body), body->len);
	text = json_dumps(o, JSON_COMPACT);
	ret = reply(conn, 200, "application/json", text);
	free(text);
	json_decref(o);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct wf_buf *body = *con_cls;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (body == NULL) {
		if ((body = malloc(sizeof *body)) == NULL)
			return MHD_NO;
		wf_buf_init(body, 1 << 20);
		*con_cls = body;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		wf_buf_append(body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/ok") == 0)
		return reply(
		    conn, 200, "application/json", "{\"hello\": \"world\"}");
	if (strcmp(url, "/created") == 0)
		return reply(conn, 201, "application/json", "{\"id\": 7}");
	if (strcmp(url, "/empty") == 0)
		return reply(conn, 204, NULL, "");
	if (strcmp(url, "/missing") == 0)
		return reply(conn, 404, "application/json",
		    "{\"error\": \"no such job: 42\"}");
	if (strcmp(url, "/conflict") == 0)
		return reply(conn, 409, "application/json", "{\"other\": 1}");
	if (strcmp(url, "/html") == 0)
		return reply(
		    conn, 502, "text/html", "<html>bad gateway</html>");
	if (strcmp(url, "/notjson") == 0)
		return reply(conn, 200, "text/plain", "hello");
	if (strcmp(url, "/echo") == 0)
		return echo(conn, method, body);
	if (strcmp(url, "/slow") == 0) {
		usleep(1500 * 1000);
		return reply(conn, 200, "application/json", "{}");
	}
	if (strcmp(url, "/big") == 0 || strcmp(url, "/big-chunked") == 0) {
		r = MHD_create_response_from_callback(
		    strcmp(url, "/big") == 0 ? BIG_SIZE : MHD_SIZE_UNKNOWN,
		    4096, big_chunk, NULL, NULL);
		ret = MHD_queue_response(conn, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	return reply(
	    conn, 404, "application/json", "{\"error\": \"no route\"}");
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode code)
{
	struct wf_buf *body = *con_cls;

	wf_buf_free(body);
	free(body);
	*con_cls = NULL;
}

static int
server_start(void)
{
	struct sockaddr_in sin;
	const union MHD_DaemonInfo *info;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	server = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
	    NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &sin,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	if (server == NULL)
		return -1;
	info = MHD_get_daemon_info(server, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		return -1;
	snprintf(server_url, sizeof server_url, "http://127.0.0.1:%u",
	    (unsigned)info->port);
	return 0;
}

static struct wf_http *
client(const char *token)
{
	return wf_http_new(server_url, token);
}

TEST(get_ok_parses_reply)
{
	struct wf_http *c = client("tok");
	json_t *r = NULL;
	char *cause = NULL;
	long status = 0;

	REQUIRE(c != NULL);
	CHECK_EQ_INT(
	    wf_http_request(c, "GET", "/ok", NULL, &status, &r, &cause), 0);
	CHECK_EQ_INT(status, 200);
	CHECK(cause == NULL);
	REQUIRE(r != NULL);
	CHECK_STR_EQ(json_string_value(json_object_get(r, "hello")), "world");
	json_decref(r);
	CHECK_EQ_INT(
	    wf_http_request(c, "POST", "/created", NULL, &status, &r, &cause),
	    0);
	CHECK_EQ_INT(status, 201);
	json_decref(r);
	wf_http_free(c);
	wf_http_free(NULL);
}

TEST(empty_reply_is_null)
{
	struct wf_http *c = client(NULL);
	json_t *r = json_true();
	long status = 0;

	REQUIRE(c != NULL);
	CHECK_EQ_INT(
	    wf_http_request(c, "DELETE", "/empty", NULL, &status, &r, NULL), 0);
	CHECK_EQ_INT(status, 204);
	CHECK(r == NULL);
	wf_http_free(c);
}

TEST(error_body_becomes_cause)
{
	struct wf_http *c = client("tok");
	json_t *r = json_true();
	char *cause = NULL;
	long status = 0;

	REQUIRE(c != NULL);
	CHECK_EQ_INT(
	    wf_http_request(c, "GET", "/missing", NULL, &status, &r, &cause),
	    -1);
	CHECK_EQ_INT(status, 404);
	CHECK(r == NULL);
	CHECK_STR_EQ(cause, "no such job: 42 (HTTP 404)");
	CHECK_EQ_INT(
	    wf_http_request(c, "GET", "/conflict", NULL, &status, &r, &cause),
	    -1);
	CHECK_EQ_INT(status, 409);
	CHECK_STR_EQ(cause, "HTTP 409");
	CHECK_EQ_INT(
	    wf_http_request(c, "GET", "/html", NULL, &status, &r, &cause), -1);
	CHECK_EQ_INT(status, 502);
	CHECK_STR_EQ(cause, "HTTP 502");
	free(cause);
	wf_http_free(c);
}

TEST(non_json_reply_fails)
{
	struct wf_http *c = client(NULL);
	json_t *r = NULL;
	char *cause = NULL;
	long status = 0;

	REQUIRE(c != NULL);
	CHECK_EQ_INT(
	    wf_http_request(c, "GET", "/notjson", NULL, &status, &r, &cause),
	    -1);
	CHECK_EQ_INT(status, 200);
	CHECK_STR_CONTAINS(cause, "reply is not JSON");
	free(cause);
	wf_http_free(c);
}

TEST(token_and_body_are_sent)
{
	struct wf_http *c = client("s3cret-Token_1");
	json_t *r = NULL,
	       *body = json_pack("{s:i, s:s}", "slots", 4, "name", "host-a");
	char *cause = NULL;
	long status = 0;

	REQUIRE(c != NULL);
	CHECK_EQ_INT(
	    wf_http_request(c, "PUT", "/echo", body, &status, &r, &cause), 0);
	REQUIRE(r != NULL);
	CHECK_STR_EQ(json_string_value(json_object_get(r, "method")), "PUT");
	CHECK_STR_EQ(json_string_value(json_object_get(r, "auth")),
	    "Bearer s3cret-Token_1");
	CHECK_STR_EQ(json_string_value(json_object_get(r, "content_type")),
	    "application/json");
	CHECK_STR_EQ(json_string_value(json_object_get(r, "body")),
	    "{\"slots\":4,\"name\":\"host-a\"}");
	json_decref(r);
	json_decref(body);
	wf_http_free(c);
}

TEST(token_can_be_replaced)
{
	struct wf_http *c = client("old-token");
	json_t *r = NULL;

	REQUIRE(c != NULL);
	CHECK_EQ_INT(wf_http_set_token(c, "two words"), -1);
	CHECK_EQ_INT(wf_http_set_token(c, ""), -1);
	CHECK_EQ_INT(wf_http_set_token(c, "new-token"), 0);
	CHECK_EQ_INT(
	    wf_http_request(c, "GET", "/echo", NULL, NULL, &r, NULL), 0);
	REQUIRE(r != NULL);
	CHECK_STR_EQ(
	    json_string_value(json_object_get(r, "auth")), "Bearer new-token");
	json_decref(r);
	r = NULL;
	CHECK_EQ_INT(wf_http_set_token(c, NULL), 0);
	CHECK_EQ_INT(
	    wf_http_request(c, "GET", "/echo", NULL, NULL, &r, NULL), 0);
	REQUIRE(r != NULL);
	CHECK(json_object_get(r, "auth") == NULL ||
	    json_is_null(json_object_get(r, "auth")));
	json_decref(r);
	wf_http_free(c);
}

TEST(no_token_no_header)
{
	struct wf_http *c = wf_http_new(server_url, NULL);
	json_t *r = NULL;

	REQUIRE(c != NULL);
	CHECK_EQ_INT(
	    wf_http_request(c, "GET", "/echo", NULL, NULL, &r, NULL), 0);
	REQUIRE(r != NULL);
	CHECK(json_object_get(r, "auth") == NULL ||
	    json_is_null(json_object_get(r, "auth")));
	CHECK_STR_EQ(json_string_value(json_object_get(r, "method")), "GET");
	json_decref(r);
	wf_http_free(c);
}

TEST(trailing_slash_in_base_url)
{
	char url[80];
	struct wf_http *c;
	long status = 0;

	snprintf(url, sizeof url, "%s//", server_url);
	c = wf_http_new(url, NULL);
	REQUIRE(c != NULL);
	CHECK_EQ_INT(
	    wf_http_request(c, "GET", "/ok", NULL, &status, NULL, NULL), 0);
	CHECK_EQ_INT(status, 200);
	wf_http_free(c);
}

TEST(response_cap)
{
	struct wf_http *c = client(NULL);
	json_t *r = NULL;
	char *cause = NULL;
	long status = 0;

	REQUIRE(c != NULL);
	wf_http_set_max_response(c, 1024);
	CHECK_EQ_INT(
	    wf_http_request(c, "GET", "/big", NULL, &status, &r, &cause), -1);
	CHECK_STR_CONTAINS(cause, "reply larger than 1024 bytes");
	CHECK(r == NULL);
	CHECK_EQ_INT(wf_http_request(
	                 c, "GET", "/big-chunked", NULL, &status, &r, &cause),
	    -1);
	CHECK_STR_CONTAINS(cause, "reply larger than 1024 bytes");
	/* The client still works after an aborted transfer. */
	CHECK_EQ_INT(
	    wf_http_request(c, "GET", "/ok", NULL, &status, &r, &cause), 0);
	json_decref(r);
	wf_http_set_max_response(c, BIG_SIZE);
	CHECK_EQ_INT(wf_http_request(
	                 c, "GET", "/big-chunked", NULL, &status, &r, &cause),
	    -1);
	/* Within the cap it arrives whole: all blanks, so not JSON. */
	CHECK_STR_CONTAINS(cause, "not JSON");
	free(cause);
	wf_http_free(c);
}

TEST(raw_request_keeps_any_status)
{
	struct wf_http *c = client("t");
	struct wf_buf b;
	char *cause = NULL;
	long status = 0;

	REQUIRE(c != NULL);
	wf_buf_init(&b, 4096);
	CHECK_EQ_INT(wf_http_request_raw(c, "POST", "/echo", "text/plain",
	                 "line one\n", 9, &status, &b, &cause),
	    0);
	CHECK_EQ_INT(status, 200);
	CHECK_STR_CONTAINS(wf_buf_str(&b), "\"content_type\":\"text/plain\"");
	CHECK_STR_CONTAINS(wf_buf_str(&b), "\"body\":\"line one\\n\"");
	wf_buf_reset(&b);
	CHECK_EQ_INT(wf_http_request_raw(c, "GET", "/missing", NULL, NULL, 0,
	                 &status, &b, &cause),
	    0);
	CHECK_EQ_INT(status, 404);
	CHECK_STR_CONTAINS(wf_buf_str(&b), "no such job");
	CHECK(cause == NULL);
	wf_buf_free(&b);
	/* The caller's buffer cap applies too. */
	wf_buf_init(&b, 100);
	CHECK_EQ_INT(wf_http_request_raw(
	                 c, "GET", "/big", NULL, NULL, 0, &status, &b, &cause),
	    -1);
	CHECK_STR_CONTAINS(cause, "reply larger than 100 bytes");
	CHECK_EQ_INT(b.len, 0);
	free(cause);
	wf_buf_free(&b);
	wf_http_free(c);
}

TEST(total_timeout)
{
	struct wf_http *c = client(NULL);
	char *cause = NULL;
	long status = -1;

	REQUIRE(c != NULL);
	wf_http_set_timeouts(c, 0, 300);
	CHECK_EQ_INT(
	    wf_http_request(c, "GET", "/slow", NULL, &status, NULL, &cause),
	    -1);
	CHECK_EQ_INT(status, 0);
	CHECK_STR_CONTAINS(cause, "GET http://127.0.0.1:");
	CHECK_STR_CONTAINS(cause, "imed out");
	free(cause);
	wf_http_free(c);
}

TEST(connection_refused)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	struct wf_http *c;
	char url[64], *cause = NULL;
	long status = -1;
	int fd;

	/* A port that was just free and has no listener now. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	close(fd);
	snprintf(url, sizeof url, "http://127.0.0.1:%u", ntohs(sin.sin_port));
	c = wf_http_new(url, "t");
	REQUIRE(c != NULL);
	CHECK_EQ_INT(
	    wf_http_request(c, "GET", "/ok", NULL, &status, NULL, &cause), -1);
	CHECK_EQ_INT(status, 0);
	CHECK_STR_CONTAINS(cause, url);
	free(cause);
	wf_http_free(c);
}

TEST(new_rejects_bad_input)
{
	CHECK(wf_http_new("ftp://127.0.0.1/", NULL) == NULL);
	CHECK(wf_http_new("127.0.0.1:8080", NULL) == NULL);
	CHECK(wf_http_new("http://127.0.0.1", "a\r\nX-Evil: 1") == NULL);
	CHECK(wf_http_new("http://127.0.0.1", "two words") == NULL);
	CHECK(wf_http_new("http://127.0.0.1", "") == NULL);
}

TEST(ca_file_is_used)
{
	struct wf_http *c = wf_http_new("https://127.0.0.1:1", NULL);
	char *cause = NULL;

	REQUIRE(c != NULL);
	CHECK_EQ_INT(wf_http_set_ca_file(c, "/nonexistent/ca.pem"), 0);
	wf_http_set_timeouts(c, 2000, 2000);
	CHECK_EQ_INT(
	    wf_http_request(c, "GET", "/ok", NULL, NULL, NULL, &cause), -1);
	CHECK(cause != NULL);
	free(cause);
	wf_http_free(c);
}

int
main(int argc, char **argv)
{
	int ret;

	if (server_start() == -1) {
		printf("cannot start the test HTTP server on 127.0.0.1\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	ret = test_main(argc, argv);
	MHD_stop_daemon(server);
	return ret;
}
