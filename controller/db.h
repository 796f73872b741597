/*
 * db.h: the controller's SQLite database.
 *
 * One connection, shared by every HTTP thread under one mutex (SQLite
 * serialises writers anyway; the mutex also carries the job queue's
 * condition variable, see queue.h). WAL journal, synchronous=NORMAL with
 * group commit (db_wal.c): a commit does not wait for the disk under the
 * lock; the reply of a request that changed something goes out only once
 * an fdatasync of the WAL that began after its commit has returned
 * (db_sync_wait, api.c), so an acknowledged write still survives kill -9
 * and power loss, and the commits made meanwhile share that sync.
 * busy_timeout, foreign keys on. Statements are prepared and bound, never
 * formatted; prepared statements are kept (DB_STMT_CACHE, by SQL text)
 * and reused.
 *
 * Binding formats for the variadic helpers, one character per parameter:
 *   'i' int64_t   'd' int (promoted)   't' const char * (NULL binds NULL)
 *   'b' const void *, size_t (a blob)  'n' NULL (no argument)
 *   'f' double
 *
 * Result rows become JSON objects keyed by column name; a column named
 * "KEY:json" holds JSON text and is parsed into KEY.
 *
 * Every SQL statement of the controller runs through these functions (no
 * other file calls sqlite3_*), and every SQLite error is logged here,
 * once; callers get -1 / NULL.
 *
 * A full disk (SQLITE_FULL, or an I/O error with ENOSPC/EDQUOT) is not a
 * fault of the statement: the write is rolled back and nothing is stored.
 * The first such failure logs one warning and puts the database in the full
 * state (db_full); statements failing the same way meanwhile are logged at
 * debug level only. The state ends, with one more line, at the first write
 * that commits while the file system has DB_FULL_MARGIN bytes free again.
 * Handlers answer 503 when their own call failed that way (db_failed_full).
 */
#ifndef WF_CTL_DB_H
#define WF_CTL_DB_H

#include <pthread.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

struct wf_buf;

#define DB_FULL_MARGIN (1024 * 1024) /* free bytes that end the full state */
#define DB_STMT_CACHE 128 /* prepared statements kept */
#define DB_CKPT_PAGES 1000 /* WAL pages that wake the checkpointer */

struct db_cached; /* a kept statement (db.c) */
struct db_ckpt; /* the checkpointer (db_wal.c) */

struct db {
	sqlite3 *sql;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* broadcast when a job may be runnable */
	/* db_lock_urgent: threads waiting with priority (under gate_mu) */
	pthread_mutex_t gate_mu;
	pthread_cond_t gate_cv; /* broadcast when urgent drops to 0 */
	int urgent;
	char *path;
	int full; /* the disk is full (atomic) */
	uint64_t full_refused; /* statements refused since (under lock) */
	int tx_changes; /* sqlite3_total_changes at BEGIN */
	/* the statement cache: idle statements only (under cache_mu) */
	pthread_mutex_t cache_mu;
	struct db_cached *cache; /* DB_STMT_CACHE slots */
	uint64_t cache_clock, cache_hits, cache_misses;
	/* group commit (db_wal.c) */
	pthread_mutex_t sync_mu;
	pthread_cond_t sync_cv;
	uint64_t commit_seq; /* commits to the WAL so far (atomic) */
	uint64_t synced_seq; /* those known on disk (under sync_mu) */
	uint64_t syncs; /* fdatasyncs run (under sync_mu) */
	int syncing; /* a thread is syncing (under sync_mu) */
	int wal_fd; /* the WAL file, -1: not open yet */
	int wal_ready; /* db_wal_init ran */
	struct db_ckpt *ckpt; /* the checkpointer, NULL: none (atomic) */
};

/* Opens (creating) the file; NULL with a cause. */
struct db *db_open(const char *path, char **cause);
void db_close(struct db *db); /* NULL is a no-op */

/*
 * Applies every NNN_*.sql in schema_dir whose number is above PRAGMA
 * user_version, each in its own transaction. Takes no lock (startup only).
 */
int db_migrate(struct db *db, const char *schema_dir, char **cause);
int db_user_version(struct db *db);

void db_lock(struct db *db);
void db_unlock(struct db *db);

/*
 * db_lock ahead of the threads waiting in db_lock: they wait until no
 * db_lock_urgent is waiting (those that already passed that check still
 * race for the mutex). For the short holds whose latency matters: a lease
 * poll, whose reply an idle agent waits for. Fifty agents finishing
 * together otherwise kept it queued behind their finishes and events
 * (tests/load/README.md). Urgent holds must stay short: they starve the
 * others while they keep coming.
 */
void db_lock_urgent(struct db *db);

/* 1 while the database's disk is full (see above). */
int db_full(struct db *db);
/* 1 when the last SQLite failure of the calling thread was a full disk. */
int db_failed_full(void);
/* Forgets the calling thread's last failure (at the start of a request). */
void db_error_clear(void);
/* For code that steps its own statements: logs (or counts) failure rc of sql. */
void db_failed(struct db *db, int rc, const char *sql);

/* Wall-clock milliseconds since the epoch (for stored times). Never for
 * timeouts: lease expiry is on the monotonic clock (queue.h). */
int64_t db_now_ms(void);
/* Tests only: the wall clock plus the seconds written in this file (a
 * clock jump), re-read on every call. */
void db_set_clock_skew_file(const char *path);

int db_begin(struct db *db); /* BEGIN IMMEDIATE */
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* Runs a statement that returns no rows; *changes (if not NULL) = rows changed. */
int db_exec(struct db *db, int *changes, const char *sql, const char *fmt, ...);
/* The id of the last INSERT. */
int64_t db_last_id(struct db *db);
/* First column of the first row as an integer: 1 found, 0 no row, -1 error. */
int db_int(struct db *db, int64_t *out, const char *sql, const char *fmt, ...);
/* Every row as an array of objects (new reference), NULL on error. */
json_t *db_rows(struct db *db, const char *sql, const char *fmt, ...);
/* The first row as an object, json_null() when none, NULL on error. */
json_t *db_row(struct db *db, const char *sql, const char *fmt, ...);
/* The first column of every row appended to out as bytes (blobs may hold
 * NULs); 0 or -1. */
int db_bytes(
    struct db *db, struct wf_buf *out, const char *sql, const char *fmt, ...);
/* A job's log of one port (0, 1), its chunks in order, appended to out. */
int db_job_log(struct db *db, int64_t job, int port, struct wf_buf *out);

/*
 * A statement prepared once and run many times (a batch of INSERTs):
 * db_stmt_exec binds fmt's arguments, steps it to its end and resets it;
 * 0 or -1 (logged here like every other failure).
 */
struct db_stmt;
struct db_stmt *db_prepare(struct db *db, const char *sql);
int db_stmt_exec(struct db_stmt *st, const char *fmt, ...);
void db_stmt_free(struct db_stmt *st); /* NULL is a no-op */
/* Statement cache counters (tests): statements reused, prepared. */
void db_cache_stats(struct db *db, uint64_t *hits, uint64_t *misses);

/*
 * Group commit (db_wal.c). Every commit of the connection is counted (a
 * sequence number, remembered per thread). db_sync_wait returns once an
 * fdatasync of the WAL that began after the calling thread's last commit
 * has returned (at once when it made none since its last call); -1 when
 * that sync failed (logged). One thread syncs while the others whose
 * commits it covers wait for it. Called without db->lock, before a reply.
 */
int db_sync_wait(struct db *db);
/* The calling thread's last unsynced commit (0: none), forgotten: for a
 * reply another thread sends (the dispatcher's leases). */
uint64_t db_sync_take(void);
/* Waits for commit seq (from db_sync_take) to be on disk; 0 or -1. */
int db_sync_until(struct db *db, uint64_t seq);
uint64_t db_syncs(struct db *db); /* fdatasyncs run so far */

/*
 * Starts the checkpointer (serve): a thread with its own connection that
 * runs a passive checkpoint whenever a commit leaves the WAL over
 * DB_CKPT_PAGES pages, instead of the auto-checkpoint inside the
 * committing writer. Without it (commands, unit tests) that writer still
 * runs it. db_close stops it. 0, or -1 with a cause.
 */
int db_checkpointer_start(struct db *db, char **cause);
/* Checkpoints the checkpointer has run (0 without one). */
uint64_t db_checkpoints(struct db *db);
/* db.c's use of db_wal.c: set up at open, stopped and synced at close. */
void db_wal_init(struct db *db);
void db_wal_close(struct db *db);

#endif
