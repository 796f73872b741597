/*
 * test_db.c: the database layer's connection settings, statement cache,
 * group commit and checkpointer (controller/db.c, db_wal.c) on a real
 * database file.
 */
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_fixture.h"
#include "test.h"

TEST(the_connection_runs_wal_with_synchronous_normal)
{
	struct fixture fx;
	json_t *row;

	REQUIRE(fixture_open(&fx) == 0);
	row = db_row(fx.db, "PRAGMA journal_mode", "");
	CHECK_STR_EQ(
	    json_string_value(json_object_get(row, "journal_mode")), "wal");
	json_decref(row);
	row = db_row(fx.db, "PRAGMA synchronous", "");
	CHECK_EQ_INT(json_integer_value(json_object_get(row, "synchronous")),
	    1); /* NORMAL */
	json_decref(row);
	fixture_close(&fx);
}

TEST(a_statement_is_prepared_once_and_reused_with_fresh_bindings)
{
	struct fixture fx;
	uint64_t h0, m0, h1, m1;
	json_t *row;
	int64_t v = 0;

	REQUIRE(fixture_open(&fx) == 0);
	db_cache_stats(fx.db, &h0, &m0);
	for (int i = 0; i < 10; i++) {
		CHECK_EQ_INT(
		    db_int(fx.db, &v, "SELECT ? + 1", "i", (int64_t)i), 1);
		CHECK_EQ_INT(v, i + 1);
	}
	db_cache_stats(fx.db, &h1, &m1);
	CHECK_EQ_INT(m1 - m0, 1);
	CHECK_EQ_INT(h1 - h0, 9);
	/* a parameter left unbound by the next use is NULL, not the last
	 * value */
	row = db_row(
	    fx.db, "SELECT ?1 AS a, ?2 AS b", "ii", (int64_t)7, (int64_t)8);
	CHECK_EQ_INT(json_integer_value(json_object_get(row, "b")), 8);
	json_decref(row);
	row = db_row(fx.db, "SELECT ?1 AS a, ?2 AS b", "i", (int64_t)9);
	CHECK_EQ_INT(json_integer_value(json_object_get(row, "a")), 9);
	CHECK(json_is_null(json_object_get(row, "b")));
	json_decref(row);
	/* a statement stopped after its first row starts again at the top */
	row = db_row(fx.db,
	    "SELECT value AS v FROM json_each('[1,2,3]') ORDER BY value", "");
	json_decref(row);
	row = db_row(fx.db,
	    "SELECT value AS v FROM json_each('[1,2,3]') ORDER BY value", "");
	CHECK_EQ_INT(json_integer_value(json_object_get(row, "v")), 1);
	json_decref(row);
	fixture_close(&fx);
}

TEST(the_cache_keeps_its_bound_and_every_statement_still_runs)
{
	struct fixture fx;
	uint64_t h0, m0, h1, m1;
	char sql[DB_STMT_CACHE * 2 + 10][48];
	int64_t v = 0;
	int n = DB_STMT_CACHE * 2 + 10, ok = 1;

	REQUIRE(fixture_open(&fx) == 0);
	for (int i = 0; i < n; i++)
		snprintf(sql[i], sizeof(sql[i]), "SELECT %d", i);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < n; i++)
			if (db_int(fx.db, &v, sql[i], "") != 1 || v != i)
				ok = 0;
	CHECK(ok);
	/* the most recent DB_STMT_CACHE are kept: run again, all hits */
	db_cache_stats(fx.db, &h0, &m0);
	for (int i = n - DB_STMT_CACHE; i < n; i++)
		db_int(fx.db, &v, sql[i], "");
	db_cache_stats(fx.db, &h1, &m1);
	CHECK_EQ_INT(h1 - h0, DB_STMT_CACHE);
	CHECK_EQ_INT(m1 - m0, 0);
	/* the oldest was evicted: prepared again */
	db_int(fx.db, &v, sql[0], "");
	db_cache_stats(fx.db, &h0, &m0);
	CHECK_EQ_INT(m0 - m1, 1);
	fixture_close(&fx);
}

TEST(a_commit_is_synced_once_and_a_read_needs_no_sync)
{
	struct fixture fx;
	uint64_t s0, s1;
	int64_t v = 0;

	REQUIRE(fixture_open(&fx) == 0);
	db_sync_take(); /* the migrations' */
	s0 = db_syncs(fx.db);
	CHECK_EQ_INT(db_int(fx.db, &v, "SELECT count(*) FROM hosts", ""), 1);
	CHECK_EQ_INT(db_sync_take(), 0);
	CHECK_EQ_INT(db_sync_wait(fx.db), 0);
	CHECK_EQ_INT(db_syncs(fx.db), s0);
	REQUIRE(fixture_host(&fx, "h1", 1) > 0);
	CHECK_EQ_INT(db_sync_wait(fx.db), 0);
	s1 = db_syncs(fx.db);
	CHECK_EQ_INT(s1, s0 + 1);
	/* nothing new since: no second sync */
	CHECK_EQ_INT(db_sync_wait(fx.db), 0);
	CHECK_EQ_INT(db_syncs(fx.db), s1);
	/* a transaction is one commit */
	REQUIRE(db_begin(fx.db) == 0);
	fixture_host(&fx, "h2", 1);
	fixture_host(&fx, "h3", 1);
	REQUIRE(db_commit(fx.db) == 0);
	CHECK(db_sync_take() != 0);
	CHECK_EQ_INT(db_sync_take(), 0);
	fixture_close(&fx);
}

struct writer {
	struct fixture *fx;
	int id, failed;
};

/* Commits (under the lock, as handlers do) and waits for the sync
 * unlocked, many times. */
static void *
writer(void *arg)
{
	struct writer *w = arg;
	char name[32];

	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "w%d-%d", w->id, i);
		db_lock(w->fx->db);
		if (fixture_host(w->fx, name, 1) <= 0)
			w->failed++;
		db_unlock(w->fx->db);
		if (db_sync_wait(w->fx->db) != 0)
			w->failed++;
	}
	return NULL;
}

TEST(concurrent_commits_share_syncs_and_all_are_synced)
{
	struct fixture fx;
	struct writer w[8];
	pthread_t th[8];
	uint64_t s0;
	int64_t n = 0;

	REQUIRE(fixture_open(&fx) == 0);
	db_sync_wait(fx.db);
	s0 = db_syncs(fx.db);
	for (int i = 0; i < 8; i++) {
		w[i] = (struct writer){ &fx, i, 0 };
		pthread_create(&th[i], NULL, writer, &w[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ_INT(w[i].failed, 0);
	}
	CHECK_EQ_INT(db_int(fx.db, &n, "SELECT count(*) FROM hosts", ""), 1);
	CHECK_EQ_INT(n, 400);
	/* never more syncs than commits; every commit's sync is done */
	CHECK(db_syncs(fx.db) - s0 <= 400);
	CHECK(fx.db->synced_seq >= fx.db->commit_seq);
	fixture_close(&fx);
}

TEST(the_checkpointer_copies_a_large_wal_into_the_database)
{
	struct fixture fx;
	char *cause = NULL, path[160];
	static char blob[64 * 1024];
	struct stat st;
	int i;

	REQUIRE(fixture_open(&fx) == 0);
	REQUIRE(db_checkpointer_start(fx.db, &cause) == 0);
	snprintf(path, sizeof(path), "%s/w.db", fx.dir);
	REQUIRE(stat(path, &st) == 0);
	CHECK(st.st_size < 4 * 1024 * 1024);
	REQUIRE(db_exec(fx.db, NULL, "CREATE TABLE big (b BLOB)", "") == 0);
	/* 6 MB, over DB_CKPT_PAGES 4 KiB pages, in one commit */
	REQUIRE(db_begin(fx.db) == 0);
	for (i = 0; i < 96; i++)
		db_exec(fx.db, NULL, "INSERT INTO big VALUES (?)", "b", blob,
		    sizeof(blob));
	REQUIRE(db_commit(fx.db) == 0);
	for (i = 0; i < 100 && db_checkpoints(fx.db) == 0; i++)
		usleep(50000);
	CHECK(db_checkpoints(fx.db) >= 1);
	REQUIRE(stat(path, &st) == 0);
	CHECK(st.st_size > 6 * 1000 * 1000); /* the pages are in the file */
	fixture_close(&fx);
}

/* Locks (urgent or not), notes its turn in *order, unlocks. */
struct locker {
	struct db *db;
	int urgent;
	char name;
	char *order; /* under db->lock */
};

static void *
locker(void *arg)
{
	struct locker *l = arg;

	if (l->urgent)
		db_lock_urgent(l->db);
	else
		db_lock(l->db);
	l->order[strlen(l->order)] = l->name;
	db_unlock(l->db);
	return NULL;
}

TEST(an_urgent_lock_goes_before_those_that_came_after_it)
{
	struct fixture fx;
	struct locker l[4];
	pthread_t th[4];
	char order[8] = "";

	REQUIRE(fixture_open(&fx) == 0);
	db_lock(fx.db);
	/* u waits for the lock first; a, b, c come while it waits */
	l[0] = (struct locker){ fx.db, 1, 'u', order };
	pthread_create(&th[0], NULL, locker, &l[0]);
	usleep(50000);
	for (int i = 1; i < 4; i++) {
		l[i] = (struct locker){ fx.db, 0, (char)('a' + i - 1), order };
		pthread_create(&th[i], NULL, locker, &l[i]);
	}
	usleep(50000);
	CHECK_STR_EQ(order, ""); /* all wait */
	db_unlock(fx.db);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ_INT((int)strlen(order), 4);
	CHECK_EQ_INT(order[0], 'u');
	/* and the lock works as before without an urgent waiter */
	db_lock(fx.db);
	CHECK_EQ_INT(fx.db->urgent, 0);
	db_unlock(fx.db);
	fixture_close(&fx);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
