/*
 * db.c: the controller's SQLite connection, migrations and the small
 * bind-and-step helpers every module uses (see db.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "util.h"

#define DB_BUSY_TIMEOUT_MS 10000
#define DB_SCHEMA_MAX (1024 * 1024)
#define DB_MIGRATIONS_MAX 999

/* The calling thread's last failure was a full disk (see db.h). */
static __thread int failed_full;

int
db_full(struct db *db)
{
	return __atomic_load_n(&db->full, __ATOMIC_ACQUIRE);
}

int
db_failed_full(void)
{
	return failed_full;
}

void
db_error_clear(void)
{
	failed_full = 0;
}

static int
is_full(struct db *db, int rc)
{
	int e = sqlite3_system_errno(db->sql);

	return (rc & 0xff) == SQLITE_FULL ||
	    ((rc & 0xff) == SQLITE_IOERR && (e == ENOSPC || e == EDQUOT));
}

/*
 * One line when the disk fills, not one per refused statement: every
 * request and the background threads hit it while it lasts.
 */
void
db_failed(struct db *db, int rc, const char *sql)
{
	failed_full = is_full(db, rc);
	if (!failed_full) {
		log_warnx("sqlite: %s: %s", sqlite3_errmsg(db->sql), sql);
		return;
	}
	db->full_refused++;
	if (!__atomic_exchange_n(&db->full, 1, __ATOMIC_ACQ_REL))
		log_warnx(
		    "database %s: the disk is full (%s): writes are refused"
		    " with 503 until space is freed; reads go on",
		    db->path, sqlite3_errmsg(db->sql));
	else
		log_debug("sqlite: %s: %s", sqlite3_errmsg(db->sql), sql);
}

/*
 * A write committed. While full, that alone proves little (SQLite reuses
 * the space its WAL already has): the state ends when the file system has
 * room again, so that a nearly full disk does not flap in the log.
 */
static void
db_wrote(struct db *db)
{
	struct statvfs sv;

	if (!db_full(db) || statvfs(db->path, &sv) == -1 ||
	    (uint64_t)sv.f_bavail * sv.f_frsize < DB_FULL_MARGIN)
		return;
	__atomic_store_n(&db->full, 0, __ATOMIC_RELEASE);
	log_info("database %s: there is disk space again: writes succeed (%llu"
	         " statement(s) were refused while it was full)",
	    db->path, (unsigned long long)db->full_refused);
	db->full_refused = 0;
}

static const char *skew_file;

void
db_set_clock_skew_file(const char *path)
{
	skew_file = path;
}

/* Seconds the test's skew file adds to the wall clock (0 without one). */
static int64_t
skew_ms(void)
{
	char line[32] = "";
	long long s = 0;
	FILE *f;

	if (skew_file == NULL || (f = fopen(skew_file, "r")) == NULL)
		return 0;
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "%lld", &s) != 1)
		s = 0;
	fclose(f);
	return s * 1000;
}

int64_t
db_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + skew_ms();
}

/*
 * The statement cache: statements that are not running, by SQL text, the
 * least recently used one finalized when all DB_STMT_CACHE slots are
 * taken. A statement is taken out while it runs (stmt_get) and put back
 * reset, its bindings cleared (stmt_put), so two threads (or a statement
 * run while another of the same text is) never share one. Preparing is
 * most of the cost of the small statements a request runs, and it ran
 * under db->lock.
 */
struct db_cached {
	char *sql; /* NULL: a free slot */
	uint32_t hash;
	sqlite3_stmt *st;
	uint64_t used; /* cache_clock when put back */
};

static uint32_t
sql_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void
cache_free(struct db *db)
{
	if (db->cache == NULL)
		return;
	for (int i = 0; i < DB_STMT_CACHE; i++) {
		sqlite3_finalize(db->cache[i].st);
		free(db->cache[i].sql);
	}
	free(db->cache);
	db->cache = NULL;
}

/* A prepared statement for sql, from the cache or new; NULL (logged). */
static sqlite3_stmt *
stmt_get(struct db *db, const char *sql)
{
	uint32_t h = sql_hash(sql);
	struct db_cached *c;
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&db->cache_mu);
	for (int i = 0; i < DB_STMT_CACHE && st == NULL; i++) {
		c = &db->cache[i];
		if (c->sql != NULL && c->hash == h &&
		    strcmp(c->sql, sql) == 0) {
			st = c->st;
			free(c->sql);
			c->sql = NULL;
			c->st = NULL;
			db->cache_hits++;
		}
	}
	if (st == NULL)
		db->cache_misses++;
	pthread_mutex_unlock(&db->cache_mu);
	if (st != NULL)
		return st;
	if ((rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL)) !=
	    SQLITE_OK) {
		db_failed(db, rc, sql);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Done with st (prepared from sql): reset and kept, or finalized. */
static void
stmt_put(struct db *db, const char *sql, sqlite3_stmt *st)
{
	struct db_cached *c, *slot = NULL;
	char *copy;

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if ((copy = strdup(sql)) == NULL) {
		sqlite3_finalize(st);
		return;
	}
	pthread_mutex_lock(&db->cache_mu);
	for (int i = 0; i < DB_STMT_CACHE; i++) {
		c = &db->cache[i];
		if (c->sql == NULL) {
			slot = c;
			break;
		}
		if (slot == NULL || c->used < slot->used)
			slot = c;
	}
	/* the least recently used, when no slot was free */
	sqlite3_finalize(slot->st);
	free(slot->sql);
	slot->sql = copy;
	slot->hash = sql_hash(sql);
	slot->st = st;
	slot->used = ++db->cache_clock;
	pthread_mutex_unlock(&db->cache_mu);
}

void
db_cache_stats(struct db *db, uint64_t *hits, uint64_t *misses)
{
	pthread_mutex_lock(&db->cache_mu);
	*hits = db->cache_hits;
	*misses = db->cache_misses;
	pthread_mutex_unlock(&db->cache_mu);
}

struct db *
db_open(const char *path, char **cause)
{
	/*
	 * auto_vacuum first: a new database then reclaims what prune deletes
	 * page by page (PRAGMA incremental_vacuum); it takes effect only
	 * before the first table (and WAL's header), else it waits for a
	 * VACUUM (prune does one, once).
	 */
	static const char *const pragmas =
	    "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL;"
	    " PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;";
	pthread_condattr_t ca;
	struct db *db;
	char *err = NULL;

	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(path)) == NULL) {
		free(db);
		wf_set_cause(cause, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&db->lock, NULL);
	pthread_mutex_init(&db->gate_mu, NULL);
	pthread_cond_init(&db->gate_cv, NULL);
	pthread_mutex_init(&db->cache_mu, NULL);
	/* Waits on it are bounded by wf_now_ms, a monotonic clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&db->changed, &ca);
	pthread_condattr_destroy(&ca);
	if (sqlite3_open_v2(path, &db->sql,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	            SQLITE_OPEN_FULLMUTEX,
	        NULL) != SQLITE_OK) {
		wf_set_cause(cause, "%s: %s", path,
		    db->sql != NULL ? sqlite3_errmsg(db->sql) :
		                      "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(db->sql, DB_BUSY_TIMEOUT_MS);
	if (sqlite3_exec(db->sql, pragmas, NULL, NULL, &err) != SQLITE_OK) {
		wf_set_cause(cause, "%s: %s", path, err != NULL ? err : "?");
		sqlite3_free(err);
		goto fail;
	}
	if ((db->cache = calloc(DB_STMT_CACHE, sizeof(*db->cache))) == NULL) {
		wf_set_cause(cause, "out of memory");
		goto fail;
	}
	db_wal_init(db);
	return db;
fail:
	db_close(db);
	return NULL;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	db_wal_close(db);
	cache_free(db);
	sqlite3_close(db->sql);
	pthread_cond_destroy(&db->changed);
	pthread_mutex_destroy(&db->cache_mu);
	pthread_cond_destroy(&db->gate_cv);
	pthread_mutex_destroy(&db->gate_mu);
	pthread_mutex_destroy(&db->lock);
	free(db->path);
	free(db);
}

void
db_lock(struct db *db)
{
	/* no urgent waiter: the common case, without gate_mu */
	if (__atomic_load_n(&db->urgent, __ATOMIC_ACQUIRE) > 0) {
		pthread_mutex_lock(&db->gate_mu);
		while (db->urgent > 0)
			pthread_cond_wait(&db->gate_cv, &db->gate_mu);
		pthread_mutex_unlock(&db->gate_mu);
	}
	pthread_mutex_lock(&db->lock);
}

void
db_lock_urgent(struct db *db)
{
	pthread_mutex_lock(&db->gate_mu);
	__atomic_add_fetch(&db->urgent, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&db->gate_mu);
	pthread_mutex_lock(&db->lock);
	pthread_mutex_lock(&db->gate_mu);
	if (__atomic_sub_fetch(&db->urgent, 1, __ATOMIC_ACQ_REL) == 0)
		pthread_cond_broadcast(&db->gate_cv);
	pthread_mutex_unlock(&db->gate_mu);
}

void
db_unlock(struct db *db)
{
	pthread_mutex_unlock(&db->lock);
}

int
db_user_version(struct db *db)
{
	int64_t v = -1;

	if (db_int(db, &v, "PRAGMA user_version", "") != 1)
		return -1;
	return (int)v;
}

static int
migration_number(const char *name)
{
	size_t len = strlen(name);
	int n;

	if (len < 9 || strcmp(name + len - 4, ".sql") != 0 || name[3] != '_')
		return -1;
	if (name[0] < '0' || name[0] > '9' || name[1] < '0' || name[1] > '9' ||
	    name[2] < '0' || name[2] > '9')
		return -1;
	n = (name[0] - '0') * 100 + (name[1] - '0') * 10 + (name[2] - '0');
	return n > 0 ? n : -1;
}

/* Applies one migration file and sets user_version to n, atomically. */
static int
apply_migration(struct db *db, const char *path, int n, char **cause)
{
	char *text, *err = NULL, pragma[64];
	int rc = -1;

	if ((text = wf_file_read(path, DB_SCHEMA_MAX, NULL, cause)) == NULL)
		return -1;
	/* PRAGMA takes no bound parameters; n is a parsed integer. */
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", n);
	if (sqlite3_exec(db->sql, "BEGIN IMMEDIATE", NULL, NULL, &err) !=
	        SQLITE_OK ||
	    sqlite3_exec(db->sql, text, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(db->sql, pragma, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(db->sql, "COMMIT", NULL, NULL, &err) != SQLITE_OK) {
		wf_set_cause(cause, "%s: %s", path, err != NULL ? err : "?");
		sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	log_info("database schema migrated to version %d (%s)", n, path);
	rc = 0;
out:
	sqlite3_free(err);
	free(text);
	return rc;
}

int
db_migrate(struct db *db, const char *schema_dir, char **cause)
{
	char *files[DB_MIGRATIONS_MAX + 1] = { NULL };
	char path[4096];
	struct dirent *de;
	DIR *dir;
	int n, version, latest = 0, rc = -1;

	if ((version = db_user_version(db)) < 0) {
		wf_set_cause(cause, "cannot read the schema version");
		return -1;
	}
	if ((dir = opendir(schema_dir)) == NULL) {
		wf_set_cause(cause, "schema directory %s: %s", schema_dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if ((n = migration_number(de->d_name)) < 0)
			continue;
		if (files[n] != NULL) {
			wf_set_cause(cause, "%s: two migrations numbered %03d",
			    schema_dir, n);
			goto out;
		}
		files[n] = strdup(de->d_name);
		if (n > latest)
			latest = n;
	}
	if (version > latest) {
		wf_set_cause(cause,
		    "the database has schema version %d, newer"
		    " than this controller's %d",
		    version, latest);
		goto out;
	}
	for (n = version + 1; n <= latest; n++) {
		if (files[n] == NULL) {
			wf_set_cause(cause, "%s: migration %03d is missing",
			    schema_dir, n);
			goto out;
		}
		snprintf(path, sizeof(path), "%s/%s", schema_dir, files[n]);
		if (apply_migration(db, path, n, cause) == -1)
			goto out;
	}
	if (latest == 0) {
		wf_set_cause(cause, "%s: no NNN_*.sql migrations", schema_dir);
		goto out;
	}
	rc = 0;
out:
	closedir(dir);
	for (n = 0; n <= DB_MIGRATIONS_MAX; n++)
		free(files[n]);
	return rc;
}

/* Binds fmt's arguments (db.h) to st's parameters; SQLite's code. */
static int
bind_args(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	const char *s;
	const void *p;
	size_t len;
	int i, rc = SQLITE_OK;

	for (i = 0; fmt[i] != '\0' && rc == SQLITE_OK; i++) {
		switch (fmt[i]) {
		case 'i':
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'd':
			rc = sqlite3_bind_int(st, i + 1, va_arg(ap, int));
			break;
		case 'f':
			rc = sqlite3_bind_double(st, i + 1, va_arg(ap, double));
			break;
		case 't':
			s = va_arg(ap, const char *);
			rc = s != NULL ? sqlite3_bind_text(st, i + 1, s, -1,
			                     SQLITE_TRANSIENT) :
			                 sqlite3_bind_null(st, i + 1);
			break;
		case 'b':
			p = va_arg(ap, const void *);
			len = va_arg(ap, size_t);
			rc = sqlite3_bind_blob64(
			    st, i + 1, p, len, SQLITE_TRANSIENT);
			break;
		default:
			rc = sqlite3_bind_null(st, i + 1);
			break;
		}
	}
	return rc;
}

static sqlite3_stmt *
prepare_bind(struct db *db, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *st;

	if ((st = stmt_get(db, sql)) == NULL)
		return NULL;
	if (bind_args(st, fmt, ap) != SQLITE_OK) {
		log_warnx("sqlite bind: %s: %s", sqlite3_errmsg(db->sql), sql);
		stmt_put(db, sql, st);
		return NULL;
	}
	return st;
}

/*
 * Steps st (a statement that returns no rows) to its end; 0, or -1 logged.
 * A write outside a transaction committed by itself: the full state may
 * end (db_wrote).
 */
static int
step_write(struct db *db, sqlite3_stmt *st, const char *sql)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		db_failed(db, rc, sql);
		return -1;
	}
	if (!sqlite3_stmt_readonly(st) && sqlite3_get_autocommit(db->sql) &&
	    sqlite3_changes(db->sql) > 0)
		db_wrote(db);
	return 0;
}

struct db_stmt {
	struct db *db;
	sqlite3_stmt *st;
	const char *sql;
};

struct db_stmt *
db_prepare(struct db *db, const char *sql)
{
	struct db_stmt *s;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->db = db;
	s->sql = sql;
	if ((rc = sqlite3_prepare_v2(db->sql, sql, -1, &s->st, NULL)) !=
	    SQLITE_OK) {
		db_failed(db, rc, sql);
		free(s);
		return NULL;
	}
	return s;
}

int
db_stmt_exec(struct db_stmt *s, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = bind_args(s->st, fmt, ap);
	va_end(ap);
	if (rc != SQLITE_OK) {
		log_warnx(
		    "sqlite bind: %s: %s", sqlite3_errmsg(s->db->sql), s->sql);
		sqlite3_reset(s->st);
		return -1;
	}
	rc = step_write(s->db, s->st, s->sql);
	sqlite3_reset(s->st);
	return rc;
}

void
db_stmt_free(struct db_stmt *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->st);
	free(s);
}

int
db_bytes(
    struct db *db, struct wf_buf *out, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	st = prepare_bind(db, sql, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		wf_buf_append(out, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
	if (rc != SQLITE_DONE)
		db_failed(db, rc, sql);
	stmt_put(db, sql, st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_job_log(struct db *db, int64_t job, int port, struct wf_buf *out)
{
	return db_bytes(db, out,
	    "SELECT data FROM logs WHERE job_id = ? AND"
	    " port = ? ORDER BY chunk",
	    "id", job, port);
}

int
db_exec(struct db *db, int *changes, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	st = prepare_bind(db, sql, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	rc = step_write(db, st, sql);
	if (rc == 0 && changes != NULL)
		*changes = sqlite3_changes(db->sql);
	stmt_put(db, sql, st);
	return rc;
}

int64_t
db_last_id(struct db *db)
{
	return sqlite3_last_insert_rowid(db->sql);
}

int
db_begin(struct db *db)
{
	db->tx_changes = sqlite3_total_changes(db->sql);
	return db_exec(db, NULL, "BEGIN IMMEDIATE", "");
}

int
db_commit(struct db *db)
{
	if (db_exec(db, NULL, "COMMIT", "") == -1) {
		db_rollback(db);
		return -1;
	}
	if (sqlite3_total_changes(db->sql) != db->tx_changes)
		db_wrote(db);
	return 0;
}

void
db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->sql))
		db_exec(db, NULL, "ROLLBACK", "");
}

int
db_int(struct db *db, int64_t *out, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	st = prepare_bind(db, sql, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		db_failed(db, rc, sql);
		rc = -1;
	}
	stmt_put(db, sql, st);
	return rc;
}

static json_t *
column_text_clean(const char *text, int len)
{
	char *clean = wf_text_clean(text, (size_t)len, (size_t)len * 3, NULL);
	json_t *v = clean != NULL ? json_string(clean) : NULL;

	free(clean);
	return v != NULL ? v : json_null();
}

static json_t *
column_json(sqlite3_stmt *st, int i, int parse)
{
	const char *text;
	json_t *v;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(st, i));
	case SQLITE_NULL:
		return json_null();
	default:
		text = (const char *)sqlite3_column_text(st, i);
		if (text == NULL)
			return json_null();
		if (parse &&
		    (v = json_loads(
		         text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)) != NULL)
			return v;
		if ((v = json_stringn(
		         text, (size_t)sqlite3_column_bytes(st, i))) != NULL)
			return v;
		/* Not UTF-8 (a build log, a commit subject): shown cleaned,
		 * never dropped (util.h). */
		return column_text_clean(text, sqlite3_column_bytes(st, i));
	}
}

static json_t *
row_object(sqlite3_stmt *st)
{
	json_t *row = json_object();
	char key[128];
	const char *name;
	size_t len;
	int i, parse;

	for (i = 0; i < sqlite3_column_count(st); i++) {
		name = sqlite3_column_name(st, i);
		len = strlen(name);
		parse = len > 5 && strcmp(name + len - 5, ":json") == 0;
		snprintf(key, sizeof(key), "%.*s", (int)(parse ? len - 5 : len),
		    name);
		json_object_set_new(row, key, column_json(st, i, parse));
	}
	return row;
}

static json_t *
query(struct db *db, int one, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *st;
	json_t *rows;
	int rc;

	if ((st = prepare_bind(db, sql, fmt, ap)) == NULL)
		return NULL;
	rows = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_array_append_new(rows, row_object(st));
		if (one)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_failed(db, rc, sql);
		json_decref(rows);
		rows = NULL;
	}
	stmt_put(db, sql, st);
	return rows;
}

json_t *
db_rows(struct db *db, const char *sql, const char *fmt, ...)
{
	va_list ap;
	json_t *rows;

	va_start(ap, fmt);
	rows = query(db, 0, sql, fmt, ap);
	va_end(ap);
	return rows;
}

json_t *
db_row(struct db *db, const char *sql, const char *fmt, ...)
{
	va_list ap;
	json_t *rows, *row;

	va_start(ap, fmt);
	rows = query(db, 1, sql, fmt, ap);
	va_end(ap);
	if (rows == NULL)
		return NULL;
	row = json_array_size(rows) > 0 ? json_incref(json_array_get(rows, 0)) :
	                                  json_null();
	json_decref(rows);
	return row;
}
