/*
 * outbox.c: what the agent owes the controller, kept on disk until delivered.
 *
 * Every item is a file spool/J<job>-<seq>-<kind>.json written with
 * write-to-temp + rename, so a crash leaves either the whole item or none.
 * The sender delivers items in sequence order.  Event batches carry their
 * batch number and log chunks their offset in the job's stream of that
 * port, so a retry after a lost reply is stored once by the controller:
 * delivery is exactly once.  While the
 * controller is unreachable the sender backs off (0.25 s doubling to 10 s,
 * with jitter) and the slots keep running guests.
 *
 * A spool that cannot be written (its file system is full) loses nothing
 * acknowledged: an item that cannot be spooled goes to the controller at
 * once from the caller's thread, if nothing of its job waits in the spool
 * (else it would overtake it), and otherwise stays with the caller, who
 * keeps the guest's output where it is (the serial files) and tries again.
 * While the spool is full the slots lease no new job; one line says when
 * it fills and one when it has room again.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "outbox.h"
#include "state.h"
#include "buf.h"
#include "http.h"
#include "log.h"
#include "util.h"

struct outbox {
	const struct agent_config *cfg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int stop;
	uint64_t seq;
	int dirty; /* items were queued since the last pass */
	int full; /* the last spool write failed */
	unsigned long direct,
	    held; /* items delivered at once, not taken, while full */
};

static int
item_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The spooled items, oldest first (names sort by zero-padded sequence):
 * their number, *out a malloc'd array of malloc'd names (NULL when none);
 * -1 (and *out NULL) when the directory cannot be read or memory runs out.
 */
static int
list_items(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL, **nv;
	int n = 0;

	*out = NULL;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] != 'S' || !strstr(e->d_name, ".json") ||
		    strstr(e->d_name, ".tmp"))
			continue;
		if ((nv = realloc(v, (n + 1) * sizeof(*v))) == NULL)
			goto fail;
		v = nv;
		if ((v[n] = strdup(e->d_name)) == NULL)
			goto fail;
		n++;
	}
	closedir(d);
	if (n > 0) /* qsort's base must not be NULL, even for no items */
		qsort(v, n, sizeof(*v), item_cmp);
	*out = v;
	return n;
fail:
	while (n > 0)
		free(v[--n]);
	free(v);
	closedir(d);
	return -1;
}

/* One request: 0 delivered (or refused for good), -1 try again later
 * (said unless quiet). */
static int
deliver_item(struct wf_http *http, long long job, const char *kind,
    json_t *item, int quiet)
{
	char url[128];
	json_t *reply = NULL;
	char *cause = NULL;
	long status = 0;
	int64_t prev;
	int rc;

	if (!strcmp(kind, "events"))
		snprintf(url, sizeof(url), "/api/v1/jobs/%lld/events", job);
	else if (!strcmp(kind, "finish"))
		snprintf(url, sizeof(url), "/api/v1/jobs/%lld/finish", job);
	else /* the chunk's offset: stored once however often it is sent */
		snprintf(url, sizeof(url),
		    "/api/v1/jobs/%lld/logs/%c?offset=%lld", job, kind[3],
		    (long long)json_integer_value(
		        json_object_get(item, "offset")));
	/* and its attempt (items spooled before there was one have none) */
	if (kind[0] == 'l' &&
	    json_integer_value(json_object_get(item, "attempt")))
		snprintf(url + strlen(url), sizeof(url) - strlen(url),
		    "&attempt=%lld",
		    (long long)json_integer_value(
		        json_object_get(item, "attempt")));
	if (kind[0] == 'l') { /* logs go as raw text */
		const char *data = json_string_value(
		    json_object_get(item, "data"));
		struct wf_buf ignored;

		wf_buf_init(&ignored, 4096);
		rc = wf_http_request_raw(http, "POST", url, "text/plain",
		    data ? data : "", data ? strlen(data) : 0, &status,
		    &ignored, &cause);
		/* a reply of any status is a 0 there: only a 2xx delivered it
		 * (a 503 while the controller's disk is full must be sent
		 * again, not dropped) */
		if (rc == 0 && (status < 200 || status > 299)) {
			wf_set_cause(&cause, "HTTP %ld: %.200s", status,
			    wf_buf_str(&ignored));
			rc = -1;
		}
		wf_buf_free(&ignored);
	} else {
		rc = wf_http_request(
		    http, "POST", url, item, &status, &reply, &cause);
	}
	json_decref(reply);
	prev = wf_log_set_job(job);
	if (rc == 0 ||
	    (status >= 400 && status < 500 && status != 401 && status != 408 &&
	        status != 429)) {
		if (rc != 0)
			log_warnx(
			    "outbox: job %lld: controller refused %s for good: %s",
			    job, kind, wf_cause_str(cause));
		rc = 0;
	} else {
		if (!quiet)
			log_warnx(
			    "outbox: job %lld: %s not delivered, will retry: %s",
			    job, kind, wf_cause_str(cause));
		rc = -1;
	}
	wf_log_set_job(prev);
	free(cause);
	return rc;
}

/* One spooled item: 0 delivered (or refused for good) and removed, -1 try again later. */
static int
deliver(struct outbox *ob, struct wf_http *http, const char *name)
{
	char path[512], kind[16] = "";
	long long job = 0;
	unsigned long long seq = 0;
	json_t *item;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", ob->cfg->spool_dir, name);
	if (sscanf(name, "S%llu-J%lld-%15[a-z0-9]", &seq, &job, kind) != 3 ||
	    !(item = json_load_file(path, 0, NULL))) {
		log_warnx("outbox: dropping unreadable item %s", name);
		unlink(path);
		return 0;
	}
	rc = deliver_item(http, job, kind, item, 0);
	json_decref(item);
	if (rc == 0)
		unlink(path);
	return rc;
}

static void
backoff_sleep(long ms)
{
	long j = ms / 2 +
	    rand() % (ms / 2 + 1); /* jitter: agents don't retry in step */
	struct timespec ts = { j / 1000, (j % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int
outbox_full(struct outbox *ob)
{
	int full;

	pthread_mutex_lock(&ob->lock);
	full = ob->full;
	pthread_mutex_unlock(&ob->lock);
	return full;
}

static void *
sender(void *arg)
{
	struct outbox *ob = arg;
	unsigned gen;
	struct wf_http *http = agent_http(ob->cfg, &gen);
	long backoff_ms = 0;

	wf_http_set_timeouts(http, 5000, 30000);
	for (;;) {
		char **items = NULL;
		int n, failed = 0;

		pthread_mutex_lock(&ob->lock);
		while (!ob->stop && !ob->dirty && !backoff_ms)
			pthread_cond_wait(&ob->cond, &ob->lock);
		ob->dirty = 0;
		if (ob->stop) {
			pthread_mutex_unlock(&ob->lock);
			break;
		}
		pthread_mutex_unlock(&ob->lock);

		agent_http_sync(http, &gen);
		n = list_items(ob->cfg->spool_dir, &items);
		for (int i = 0; i < n; i++) {
			if (!failed)
				failed = deliver(ob, http, items[i]) < 0;
			free(items[i]);
		}
		free(items);
		if (failed) {
			backoff_ms = backoff_ms ?
			    (backoff_ms * 2 > 10000 ? 10000 : backoff_ms * 2) :
			    250;
			backoff_sleep(backoff_ms);
		} else {
			backoff_ms = 0;
		}
	}
	wf_http_free(http);
	return NULL;
}

struct outbox *
outbox_open(const struct agent_config *cfg, char **cause)
{
	struct outbox *ob = calloc(1, sizeof(*ob));
	char **items = NULL;
	int n;

	if (!ob)
		return NULL;
	ob->cfg = cfg;
	pthread_mutex_init(&ob->lock, NULL);
	pthread_cond_init(&ob->cond, NULL);
	if (mkdir(cfg->spool_dir, 0700) < 0 && errno != EEXIST) {
		wf_set_cause(cause, "spool directory %s: %s", cfg->spool_dir,
		    strerror(errno));
		free(ob);
		return NULL;
	}
	/* Items left by a previous run go first; new ones sort after them. */
	n = list_items(cfg->spool_dir, &items);
	for (int i = 0; i < n; i++) {
		unsigned long long s = 0;

		if (sscanf(items[i], "S%llu", &s) == 1 && s >= ob->seq)
			ob->seq = s + 1;
		free(items[i]);
	}
	free(items);
	ob->dirty = n > 0;
	if (n > 0)
		log_info(
		    "outbox: %d item(s) from a previous run to deliver", n);
	pthread_create(&ob->thread, NULL, sender, ob);
	return ob;
}

/*
 * Room enough to call the spool writable again: a write that just fit (in
 * what a delivered item freed) proves little, and would make the state
 * flap in the log. 1 MiB, or a quarter of a smaller file system.
 */
static int
spool_has_room(const struct outbox *ob)
{
	struct statvfs sv;
	unsigned long long avail, margin;

	if (statvfs(ob->cfg->spool_dir, &sv) < 0)
		return 1;
	avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	margin = (unsigned long long)sv.f_blocks * sv.f_frsize / 4;
	if (margin > (1 << 20))
		margin = 1 << 20;
	return avail >= margin;
}

/* The spool's state after a write: one line when it changes. */
static void
set_full(struct outbox *ob, int full, int err)
{
	if (!full && outbox_full(ob) && !spool_has_room(ob))
		return;
	pthread_mutex_lock(&ob->lock);
	if (full && !ob->full)
		log_warnx(
		    "outbox: cannot write to the spool %s (%s): delivering directly what"
		    " can be; the rest waits in the guests' serial files; no new job is"
		    " leased until the spool has room again",
		    ob->cfg->spool_dir, strerror(err));
	else if (!full && ob->full)
		log_info(
		    "outbox: the spool %s can be written again (%lu item(s) were delivered"
		    " directly, %lu attempt(s) waited meanwhile)",
		    ob->cfg->spool_dir, ob->direct, ob->held);
	if (full != ob->full)
		ob->direct = ob->held = 0;
	ob->full = full;
	pthread_mutex_unlock(&ob->lock);
}

/* Does anything of this job wait in the spool? */
static int
job_waiting(struct outbox *ob, int64_t job)
{
	char **items = NULL, tag[40];
	int n = list_items(ob->cfg->spool_dir, &items), found = n < 0;

	snprintf(tag, sizeof(tag), "-J%lld-", (long long)job);
	for (int i = 0; i < n; i++) {
		found |= strstr(items[i], tag) != NULL;
		free(items[i]);
	}
	free(items);
	return found;
}

/* The spool is full: the item straight to the controller, when that keeps the order. */
static int
put_direct(struct outbox *ob, int64_t job, const char *kind, json_t *body)
{
	struct wf_http *http;
	int rc = -1;

	if (!job_waiting(ob, job) &&
	    (http = wf_http_new(ob->cfg->server, ob->cfg->token))) {
		wf_http_set_timeouts(http, 5000, 30000);
		/* quiet: the caller tries again every tick; set_full said why */
		rc = deliver_item(http, job, kind, body, 1);
		wf_http_free(http);
	}
	pthread_mutex_lock(&ob->lock);
	if (rc == 0)
		ob->direct++;
	else
		ob->held++;
	pthread_mutex_unlock(&ob->lock);
	return rc;
}

int
outbox_put(struct outbox *ob, int64_t job, const char *kind, json_t *body)
{
	char tmp[520], path[512];
	uint64_t seq;
	int rc, err;

	pthread_mutex_lock(&ob->lock);
	seq = ob->seq++;
	pthread_mutex_unlock(&ob->lock);
	snprintf(path, sizeof(path), "%s/S%012llu-J%lld-%s.json",
	    ob->cfg->spool_dir, (unsigned long long)seq, (long long)job, kind);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	errno = 0;
	rc = json_dump_file(body, tmp, JSON_COMPACT);
	if (rc < 0 || rename(tmp, path) < 0) {
		err = errno ? errno : EIO;
		unlink(tmp);
		set_full(ob, 1, err);
		rc = put_direct(ob, job, kind, body);
		json_decref(body);
		return rc;
	}
	json_decref(body);
	set_full(ob, 0, 0);
	pthread_mutex_lock(&ob->lock);
	ob->dirty = 1;
	pthread_cond_signal(&ob->cond);
	pthread_mutex_unlock(&ob->lock);
	return 0;
}

int
outbox_probe(struct outbox *ob)
{
	static const char block[4096];
	char path[520];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/.probe", ob->cfg->spool_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok = fd >= 0 &&
	    write(fd, block, sizeof(block)) == (ssize_t)sizeof(block);
	if (fd >= 0 && close(fd) < 0)
		ok = 0;
	unlink(path);
	if (ok)
		set_full(ob, 0, 0);
	return ok && !outbox_full(ob) ? 0 : -1;
}

int
outbox_pending(struct outbox *ob)
{
	char **items = NULL;
	int n = list_items(ob->cfg->spool_dir, &items);

	for (int i = 0; i < n; i++)
		free(items[i]);
	free(items);
	return n < 0 ? 0 : n;
}

void
outbox_close(struct outbox *ob)
{
	if (!ob)
		return;
	pthread_mutex_lock(&ob->lock);
	ob->stop = 1;
	pthread_cond_signal(&ob->cond);
	pthread_mutex_unlock(&ob->lock);
	pthread_join(ob->thread, NULL);
	free(ob);
}
