/*
 * db.h: the controller's SQLite database.
 *
 * One connection, shared by every HTTP thread under one mutex (SQLite
 * serialises writers anyway; the mutex also carries the job queue's
 * condition variable, see queue.h). WAL journal, synchronous=FULL (an
 * acknowledged write survives kill -9 and power loss), busy_timeout,
 * foreign keys on. Statements are prepared and bound, never formatted.
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

struct db {
	sqlite3 *sql;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* broadcast when a job may be runnable */
	char *path;
	int full; /* the disk is full (atomic) */
	uint64_t full_refused; /* statements refused since (under lock) */
	int tx_changes; /* sqlite3_total_changes at BEGIN */
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

#endif
