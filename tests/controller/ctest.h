/*
 * ctest.h: the controller suite's harness. Starts a real
 * bin/wakefarm-controller on 127.0.0.1 with a free port (--port-file) and
 * a temporary database, creates tokens with its CLI, and speaks HTTP with
 * libcurl directly (paths sent as given, chunked bodies, raw replies).
 */
#ifndef WF_CTEST_H
#define WF_CTEST_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

struct ctl {
	pid_t pid;
	char dir[256]; /* holds w.db, port, log */
	char base[80]; /* http://127.0.0.1:PORT */
};

struct resp {
	long status; /* 0: transport error */
	char *body;
	size_t len;
	json_t *json; /* the body parsed, or NULL */
	char log_size[32]; /* X-Log-Size, if any */
	char retry_after[32]; /* Retry-After, if any */
};

/* Migrates dir/w.db (if needed) and starts serving; extra: more flags. */
int ctl_start(struct ctl *c, const char *dir, const char *const extra[]);
void ctl_stop(struct ctl *c, int sig); /* signal, then reap */
/* A new token (static storage per call site is the caller's business). */
char *ctl_token(const char *dir, const char *role, const char *name);
/* Runs "wakefarm-controller ARGS..." and returns its exit status. */
int ctl_run(const char *const argv[], char *out, size_t outsz);

/* One request; body may be NULL. Returns the status. Free with resp_free. */
long http(const struct ctl *c, const char *token, const char *method,
    const char *path, const void *body, size_t len, struct resp *r);
/* The same with the body sent chunked (no Content-Length). */
long http_chunked(const struct ctl *c, const char *token, const char *path,
    size_t len, struct resp *r);
void resp_free(struct resp *r);

/* JSON shortcuts: body as a JSON text; returns the parsed reply or NULL. */
json_t *jcall(const struct ctl *c, const char *token, const char *method,
    const char *path, const char *body, long *status);
/* The same with a json_t body (stolen). */
json_t *jcallj(const struct ctl *c, const char *token, const char *method,
    const char *path, json_t *body, long *status);

/* Milliseconds, monotonic. */
long long ctest_now_ms(void);

#endif
