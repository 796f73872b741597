/*
 * db_wal.c: group commit and the checkpointer (see db.h).
 *
 * The connection runs with synchronous=NORMAL: a commit appends its frames
 * to the WAL and releases the write lock without waiting for the disk. The
 * WAL hook counts the commits (commit_seq) and remembers, per thread, the
 * last one the thread made. Before a reply goes out, db_sync_wait makes
 * sure an fdatasync of the WAL began after that commit: one thread syncs,
 * the others whose commits it covers wait for it, and commits made
 * meanwhile share the next sync. No database lock is held while syncing.
 *
 * The WAL hook also wakes the checkpointer once the WAL passes
 * DB_CKPT_PAGES: a thread with a connection of its own that runs passive
 * checkpoints (they copy pages to the database file and never block a
 * writer); the auto-checkpoint of the main connection (which ran inside a
 * writer, under the lock) is off then.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "util.h"

struct db_ckpt {
	struct db *db;
	sqlite3 *sql; /* the checkpointer's own connection */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int wanted; /* the WAL passed DB_CKPT_PAGES (under mu) */
	int copied; /* WAL frames the last checkpoint saw (under mu) */
	int stopping; /* under mu */
	uint64_t runs; /* checkpoints run (under mu) */
};

/* The last commit of the calling thread not yet known to be synced. */
static __thread uint64_t pending_seq;

/*
 * Called by SQLite after every commit of the main connection, in the
 * committing thread, the write lock released: the commit is in the WAL
 * (not yet on disk).
 */
static int
wal_hook(void *arg, sqlite3 *sql, const char *name, int pages)
{
	struct db *db = arg;
	struct db_ckpt *c = __atomic_load_n(&db->ckpt, __ATOMIC_ACQUIRE);

	pending_seq = __atomic_add_fetch(&db->commit_seq, 1, __ATOMIC_ACQ_REL);
	if (pages < DB_CKPT_PAGES)
		return SQLITE_OK;
	if (c == NULL) { /* no checkpointer (a command, a unit test) */
		sqlite3_wal_checkpoint_v2(
		    sql, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		return SQLITE_OK;
	}
	/*
	 * A checkpoint copies the frames, but the WAL starts again from its
	 * top only at a write that begins once all are copied: under load it
	 * may go on growing for a while. Another checkpoint is wanted once a
	 * quarter of DB_CKPT_PAGES more were written, not after every commit.
	 */
	pthread_mutex_lock(&c->mu);
	if (pages < c->copied) /* the WAL started again */
		c->copied = 0;
	if (!c->wanted && pages >= c->copied + DB_CKPT_PAGES / 4) {
		c->wanted = 1;
		pthread_cond_signal(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return SQLITE_OK;
}

void
db_wal_init(struct db *db)
{
	pthread_mutex_init(&db->sync_mu, NULL);
	pthread_cond_init(&db->sync_cv, NULL);
	db->wal_fd = -1;
	db->wal_ready = 1;
	sqlite3_wal_hook(db->sql, wal_hook, db);
}

/* fdatasync of the WAL file (opened on first use, again when SQLite
 * replaced it); 0 or -1 logged. Called without any lock but sync_mu's
 * syncing flag, so by one thread at a time. */
static int
sync_wal(struct db *db)
{
	char path[4096];
	struct stat st;

	if (db->wal_fd != -1 &&
	    (fstat(db->wal_fd, &st) == -1 || st.st_nlink == 0)) {
		close(db->wal_fd);
		db->wal_fd = -1;
	}
	if (db->wal_fd == -1) {
		snprintf(path, sizeof(path), "%s-wal", db->path);
		if ((db->wal_fd = open(path, O_RDWR | O_CLOEXEC)) == -1) {
			if (errno == ENOENT) /* nothing written, or all in */
				return 0;
			log_warn("database %s: open", path);
			return -1;
		}
	}
	if (fdatasync(db->wal_fd) == -1) {
		log_warn("database %s-wal: fdatasync", db->path);
		return -1;
	}
	return 0;
}

uint64_t
db_sync_take(void)
{
	uint64_t seq = pending_seq;

	pending_seq = 0;
	return seq;
}

int
db_sync_until(struct db *db, uint64_t seq)
{
	uint64_t target;
	int rc = 0, failed;

	if (db == NULL || seq == 0)
		return 0;
	pthread_mutex_lock(&db->sync_mu);
	while (db->synced_seq < seq) {
		if (db->syncing) {
			pthread_cond_wait(&db->sync_cv, &db->sync_mu);
			continue;
		}
		/* every commit counted so far is in the WAL already */
		db->syncing = 1;
		target = __atomic_load_n(&db->commit_seq, __ATOMIC_ACQUIRE);
		pthread_mutex_unlock(&db->sync_mu);
		failed = sync_wal(db) == -1;
		pthread_mutex_lock(&db->sync_mu);
		db->syncing = 0;
		db->syncs++;
		/* a failed sync fails its own waiters; the next one retries */
		if (failed && seq <= target)
			rc = -1;
		if (target > db->synced_seq)
			db->synced_seq = target;
		pthread_cond_broadcast(&db->sync_cv);
	}
	pthread_mutex_unlock(&db->sync_mu);
	return rc;
}

int
db_sync_wait(struct db *db)
{
	return db_sync_until(db, db_sync_take());
}

uint64_t
db_syncs(struct db *db)
{
	uint64_t n;

	pthread_mutex_lock(&db->sync_mu);
	n = db->syncs;
	pthread_mutex_unlock(&db->sync_mu);
	return n;
}

/* A passive checkpoint; the WAL frames it saw. */
static int
checkpoint(struct db_ckpt *c)
{
	int rc, log = 0, done = 0;

	rc = sqlite3_wal_checkpoint_v2(
	    c->sql, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		log_warnx("database %s: checkpoint: %s", c->db->path,
		    sqlite3_errmsg(c->sql));
	else
		log_debug("database checkpoint: %d of %d WAL frames copied",
		    done, log);
	return log > 0 ? log : 0;
}

static void *
checkpointer(void *arg)
{
	struct db_ckpt *c = arg;
	int copied;

	pthread_mutex_lock(&c->mu);
	while (!c->stopping) {
		if (!c->wanted) {
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		c->wanted = 0;
		pthread_mutex_unlock(&c->mu);
		copied = checkpoint(c);
		pthread_mutex_lock(&c->mu);
		c->copied = copied;
		c->runs++;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int
db_checkpointer_start(struct db *db, char **cause)
{
	struct db_ckpt *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		wf_set_cause(cause, "out of memory");
		return -1;
	}
	c->db = db;
	if (sqlite3_open_v2(db->path, &c->sql, SQLITE_OPEN_READWRITE, NULL) !=
	        SQLITE_OK ||
	    sqlite3_exec(c->sql, "PRAGMA synchronous=NORMAL", NULL, NULL,
	        NULL) != SQLITE_OK) {
		wf_set_cause(cause, "%s: checkpointer: %s", db->path,
		    c->sql != NULL ? sqlite3_errmsg(c->sql) : "out of memory");
		sqlite3_close(c->sql);
		free(c);
		return -1;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	/* publish before the thread runs: the hook reads db->ckpt */
	__atomic_store_n(&db->ckpt, c, __ATOMIC_RELEASE);
	if (pthread_create(&c->thread, NULL, checkpointer, c) != 0) {
		__atomic_store_n(&db->ckpt, NULL, __ATOMIC_RELEASE);
		wf_set_cause(cause, "cannot start the checkpointer");
		sqlite3_close(c->sql);
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		free(c);
		return -1;
	}
	return 0;
}

uint64_t
db_checkpoints(struct db *db)
{
	struct db_ckpt *c = db->ckpt;
	uint64_t runs;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->mu);
	runs = c->runs;
	pthread_mutex_unlock(&c->mu);
	return runs;
}

void
db_wal_close(struct db *db)
{
	struct db_ckpt *c = db->ckpt;

	if (!db->wal_ready)
		return;
	if (c != NULL) {
		pthread_mutex_lock(&c->mu);
		c->stopping = 1;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thread, NULL);
		db->ckpt = NULL;
		sqlite3_close(c->sql);
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		free(c);
	}
	/* every commit on disk before the connection closes */
	db_sync_until(db, __atomic_load_n(&db->commit_seq, __ATOMIC_ACQUIRE));
	if (db->wal_fd != -1)
		close(db->wal_fd);
	db->wal_fd = -1;
	pthread_cond_destroy(&db->sync_cv);
	pthread_mutex_destroy(&db->sync_mu);
	db->wal_ready = 0;
}
