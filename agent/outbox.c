/*
 * outbox.c: what the agent owes the controller, kept on disk until delivered.
 *
 * Every item is a file spool/J<job>-<seq>-<kind>.json written with
 * write-to-temp + rename, so a crash leaves either the whole item or none.
 * The sender delivers items in sequence order.  Event batches carry their
 * batch number and logs their byte offset, so a retry after a lost reply is
 * stored once by the controller: delivery is exactly once.  While the
 * controller is unreachable the sender backs off (0.25 s doubling to 10 s,
 * with jitter) and the slots keep running guests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "buf.h"
#include "http.h"
#include "log.h"
#include "util.h"

struct outbox {
	const struct agent_config *cfg;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	pthread_t	 thread;
	int		 stop;
	uint64_t	 seq;
	int		 dirty;	/* items were queued since the last pass */
};

static int item_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The spooled items, oldest first (names sort by zero-padded sequence):
 * their number, *out a malloc'd array of malloc'd names (NULL when none);
 * -1 (and *out NULL) when the directory cannot be read or memory runs out.
 */
static int list_items(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL, **nv;
	int n = 0;

	*out = NULL;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] != 'S' || !strstr(e->d_name, ".json") || strstr(e->d_name, ".tmp"))
			continue;
		if ((nv = realloc(v, (n + 1) * sizeof(*v))) == NULL)
			goto fail;
		v = nv;
		if ((v[n] = strdup(e->d_name)) == NULL)
			goto fail;
		n++;
	}
	closedir(d);
	if (n > 0)	/* qsort's base must not be NULL, even for no items */
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

/* One delivery: 0 delivered (or refused for good), -1 try again later. */
static int deliver(struct outbox *ob, struct wf_http *http, const char *name)
{
	char path[512], url[128], kind[16] = "";
	long long job = 0;
	unsigned long long seq = 0;
	json_t *item, *reply = NULL;
	char *cause = NULL;
	long status = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", ob->cfg->spool_dir, name);
	if (sscanf(name, "S%llu-J%lld-%15[a-z0-9]", &seq, &job, kind) != 3 ||
	    !(item = json_load_file(path, 0, NULL))) {
		log_warnx("outbox: dropping unreadable item %s", name);
		unlink(path);
		return 0;
	}
	if (!strcmp(kind, "events"))
		snprintf(url, sizeof(url), "/api/v1/jobs/%lld/events", job);
	else if (!strcmp(kind, "finish"))
		snprintf(url, sizeof(url), "/api/v1/jobs/%lld/finish", job);
	else
		snprintf(url, sizeof(url), "/api/v1/jobs/%lld/logs/%c", job, kind[3]);
	if (kind[0] == 'l') {	/* logs go as raw text */
		const char *data = json_string_value(json_object_get(item, "data"));
		struct wf_buf ignored;

		wf_buf_init(&ignored, 4096);
		rc = wf_http_request_raw(http, "POST", url, "text/plain", data ? data : "",
					 data ? strlen(data) : 0, &status, &ignored, &cause);
		wf_buf_free(&ignored);
	} else {
		rc = wf_http_request(http, "POST", url, item, &status, &reply, &cause);
	}
	json_decref(item);
	json_decref(reply);
	if (rc == 0 || (status >= 400 && status < 500 && status != 401 && status != 408 && status != 429)) {
		if (rc != 0)
			log_warnx("outbox: job %lld: controller refused %s for good: %s",
				  job, kind, wf_cause_str(cause));
		unlink(path);
		free(cause);
		return 0;
	}
	log_warnx("outbox: job %lld: %s not delivered, will retry: %s", job, kind, wf_cause_str(cause));
	free(cause);
	return -1;
}

static void backoff_sleep(long ms)
{
	long j = ms / 2 + rand() % (ms / 2 + 1);	/* jitter: agents don't retry in step */
	struct timespec ts = { j / 1000, (j % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void *sender(void *arg)
{
	struct outbox *ob = arg;
	struct wf_http *http = wf_http_new(ob->cfg->server, ob->cfg->token);
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

		n = list_items(ob->cfg->spool_dir, &items);
		for (int i = 0; i < n; i++) {
			if (!failed)
				failed = deliver(ob, http, items[i]) < 0;
			free(items[i]);
		}
		free(items);
		if (failed) {
			backoff_ms = backoff_ms ? (backoff_ms * 2 > 10000 ? 10000 : backoff_ms * 2) : 250;
			backoff_sleep(backoff_ms);
		} else {
			backoff_ms = 0;
		}
	}
	wf_http_free(http);
	return NULL;
}

struct outbox *outbox_open(const struct agent_config *cfg, char **cause)
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
		wf_set_cause(cause, "spool directory %s: %s", cfg->spool_dir, strerror(errno));
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
		log_info("outbox: %d item(s) from a previous run to deliver", n);
	pthread_create(&ob->thread, NULL, sender, ob);
	return ob;
}

int outbox_put(struct outbox *ob, int64_t job, const char *kind, json_t *body)
{
	char tmp[520], path[512];
	uint64_t seq;
	int rc;

	pthread_mutex_lock(&ob->lock);
	seq = ob->seq++;
	pthread_mutex_unlock(&ob->lock);
	snprintf(path, sizeof(path), "%s/S%012llu-J%lld-%s.json", ob->cfg->spool_dir,
		 (unsigned long long)seq, (long long)job, kind);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	rc = json_dump_file(body, tmp, JSON_COMPACT);
	json_decref(body);
	if (rc < 0 || rename(tmp, path) < 0) {
		log_warn("outbox: cannot spool %s for job %lld", kind, (long long)job);
		unlink(tmp);
		return -1;
	}
	pthread_mutex_lock(&ob->lock);
	ob->dirty = 1;
	pthread_cond_signal(&ob->cond);
	pthread_mutex_unlock(&ob->lock);
	return 0;
}

int outbox_pending(struct outbox *ob)
{
	char **items = NULL;
	int n = list_items(ob->cfg->spool_dir, &items);

	for (int i = 0; i < n; i++)
		free(items[i]);
	free(items);
	return n < 0 ? 0 : n;
}

void outbox_close(struct outbox *ob)
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
