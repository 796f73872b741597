/*
 * ctest.c: the controller suite's harness (see ctest.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ctest.h"

/* $WF_CONTROLLER runs another build (e.g. a sanitizer build) instead. */
static const char *
ctl_bin(void)
{
	const char *b = getenv("WF_CONTROLLER");

	return b != NULL && b[0] != '\0' ? b : "bin/wakefarm-controller";
}
#define CTL_BIN ctl_bin()

long long
ctest_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ctl_run(const char *const argv[], char *out, size_t outsz)
{
	int fds[2], status = 0;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(fds[1], 1);
		dup2(null, 2);
		close(fds[0]);
		execv(CTL_BIN, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	while (out != NULL && got + 1 < outsz &&
	    (n = read(fds[0], out + got, outsz - got - 1)) > 0)
		got += (size_t)n;
	if (out != NULL)
		out[got] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char *
ctl_token(const char *dir, const char *role, const char *name)
{
	char db[300], out[256];
	const char *argv[] = { "wakefarm-controller", "token", "create", "--db",
		db, "--role", role, "--name", name, "--schema-dir", "db",
		NULL };

	snprintf(db, sizeof(db), "%s/w.db", dir);
	if (ctl_run(argv, out, sizeof(out)) != 0)
		return NULL;
	out[strcspn(out, "\n")] = '\0';
	return strdup(out);
}

int
ctl_start(struct ctl *c, const char *dir, const char *const extra[])
{
	char db[300], port[300], log[300], addr[64] = "";
	const char *argv[40];
	long long deadline;
	int i = 0, j;
	FILE *f;

	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	snprintf(db, sizeof(db), "%s/w.db", dir);
	snprintf(port, sizeof(port), "%s/port", dir);
	snprintf(log, sizeof(log), "%s/controller.log", dir);
	unlink(port);
	argv[i++] = "wakefarm-controller";
	argv[i++] = "serve";
	argv[i++] = "--listen";
	argv[i++] = "127.0.0.1:0";
	argv[i++] = "--db";
	argv[i++] = db;
	argv[i++] = "--port-file";
	argv[i++] = port;
	argv[i++] = "--schema-dir";
	argv[i++] = "db";
	for (j = 0; extra != NULL && extra[j] != NULL && i < 38; j++)
		argv[i++] = extra[j];
	argv[i] = NULL;
	if ((c->pid = fork()) == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execv(CTL_BIN, (char *const *)argv);
		_exit(127);
	}
	/* Bounded wait for the port file (written once listening). */
	deadline = ctest_now_ms() + 10000;
	while (ctest_now_ms() < deadline) {
		if ((f = fopen(port, "r")) != NULL) {
			if (fgets(addr, sizeof(addr), f) == NULL)
				addr[0] = '\0';
			fclose(f);
			if (addr[0] != '\0')
				break;
		}
		if (waitpid(c->pid, NULL, WNOHANG) == c->pid)
			return -1;
		usleep(10000);
	}
	addr[strcspn(addr, "\n")] = '\0';
	if (addr[0] == '\0')
		return -1;
	snprintf(c->base, sizeof(c->base), "http://%s", addr);
	return 0;
}

void
ctl_stop(struct ctl *c, int sig)
{
	if (c->pid <= 0)
		return;
	kill(c->pid, sig);
	waitpid(c->pid, NULL, 0);
	c->pid = 0;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	char *p = realloc(r->body, r->len + size * n + 1);

	if (p == NULL)
		return 0;
	r->body = p;
	memcpy(r->body + r->len, data, size * n);
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(data, "X-Log-Size: ", 12) == 0)
		snprintf(r->log_size, sizeof(r->log_size), "%.*s",
		    (int)strcspn(data + 12, "\r\n"), data + 12);
	if (len > 13 && strncasecmp(data, "Retry-After: ", 13) == 0)
		snprintf(r->retry_after, sizeof(r->retry_after), "%.*s",
		    (int)strcspn(data + 13, "\r\n"), data + 13);
	return len;
}

struct chunk_src {
	size_t left;
};

static size_t
on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct chunk_src *s = arg;
	size_t k = size * n < s->left ? size * n : s->left;

	memset(buf, 'x', k);
	s->left -= k;
	return k;
}

static long
perform(const struct ctl *c, const char *token, const char *method,
    const char *path, const void *body, size_t len, struct chunk_src *chunked,
    struct resp *r)
{
	struct curl_slist *h = NULL;
	char url[4096], auth[256];
	CURL *cu;

	memset(r, 0, sizeof(*r));
	if ((cu = curl_easy_init()) == NULL)
		return 0;
	snprintf(url, sizeof(url), "%s%s", c->base, path);
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, 60000L);
	/*
	 * A body over 1 MiB goes with "Expect: 100-continue"; curl sends it
	 * anyway after 1 s without an answer, and a controller that refuses it
	 * (413) then closes on unread data: a reset instead of the reply when
	 * the answer is late (a loaded host, make asan). Wait for the answer.
	 */
	curl_easy_setopt(cu, CURLOPT_EXPECT_100_TIMEOUT_MS, 30000L);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(cu, CURLOPT_HEADERDATA, r);
	if (token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	h = curl_slist_append(h, "Expect:");
	if (chunked != NULL) {
		h = curl_slist_append(h, "Transfer-Encoding: chunked");
		curl_easy_setopt(cu, CURLOPT_POST, 1L);
		curl_easy_setopt(cu, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(cu, CURLOPT_READDATA, chunked);
	} else if (body != NULL || strcmp(method, "POST") == 0) {
		curl_easy_setopt(
		    cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(
		    cu, CURLOPT_POSTFIELDS, body != NULL ? body : "");
	}
	curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
	if (curl_easy_perform(cu) == CURLE_OK)
		curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(cu);
	if (r->body != NULL)
		r->json = json_loadb(r->body, r->len, 0, NULL);
	return r->status;
}

long
http(const struct ctl *c, const char *token, const char *method,
    const char *path, const void *body, size_t len, struct resp *r)
{
	return perform(c, token, method, path, body, len, NULL, r);
}

long
http_chunked(const struct ctl *c, const char *token, const char *path,
    size_t len, struct resp *r)
{
	struct chunk_src s = { len };

	return perform(c, token, "POST", path, NULL, 0, &s, r);
}

void
resp_free(struct resp *r)
{
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

json_t *
jcall(const struct ctl *c, const char *token, const char *method,
    const char *path, const char *body, long *status)
{
	struct resp r;
	json_t *j;

	*status = http(
	    c, token, method, path, body, body ? strlen(body) : 0, &r);
	j = json_incref(r.json);
	resp_free(&r);
	return j;
}

json_t *
jcallj(const struct ctl *c, const char *token, const char *method,
    const char *path, json_t *body, long *status)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_t *j = jcall(c, token, method, path, text, status);

	free(text);
	json_decref(body);
	return j;
}
