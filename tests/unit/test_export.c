/*
 * test_export.c: controller/export.c (case names that stay the same from
 * run to run, the end of a guest log, links), notify_send.c's HMAC-SHA256
 * (RFC 4231's vector and the well-known one) and the feed the triggers of
 * db/007_ci.sql write, on a migrated database (ctl_fixture.h).
 */
#include "../../controller/export.h"
#include "../../controller/notify.h"
#include "ctl_fixture.h"
#include "test.h"

TEST(case_names_are_the_matrix_values_and_the_kernel)
{
	json_t *m = json_loads("{\"mailbox_version\": 1, \"cpus\": 2,"
	                       " \"quirks\": [\"a\", \"b\"]}",
	    0, NULL);
	json_t *p = json_loads("{\"cpus\": 2}", 0, NULL);
	json_t *pk = json_loads(
	    "{\"kernel_package\": \"linux-image-x\"}", 0, NULL);
	json_t *pb = json_loads(
	    "{\"test_kernel\": \"sha256:0123456789abcdef0123\"}", 0, NULL);
	json_t *e = json_object(),
	       *none = json_loads("{\"quirks\": []}", 0, NULL);
	char *n;

	n = export_case_name(m, p);
	CHECK_STR_EQ(n, "cpus=2,mailbox_version=1,quirks=a+b");
	free(n);
	n = export_case_name(e, p);
	CHECK_STR_EQ(n, "default");
	free(n);
	n = export_case_name(m, pk);
	CHECK_STR_EQ(
	    n, "cpus=2,mailbox_version=1,quirks=a+b,kernel=linux-image-x");
	free(n);
	n = export_case_name(e, pb);
	CHECK_STR_EQ(n, "test_kernel=sha256:0123456789ab");
	free(n);
	n = export_case_name(none, p);
	CHECK_STR_EQ(n, "quirks=none");
	free(n);
	json_decref(m);
	json_decref(p);
	json_decref(pk);
	json_decref(pb);
	json_decref(e);
	json_decref(none);
}

TEST(hmac_sha256_known_vectors)
{
	char hex[65];

	REQUIRE(notify_hmac_hex("key",
	            "The quick brown fox jumps over the lazy dog", hex) == 0);
	CHECK_STR_EQ(hex,
	    "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
	/* RFC 4231, test case 2 */
	REQUIRE(
	    notify_hmac_hex("Jefe", "what do ya want for nothing?", hex) == 0);
	CHECK_STR_EQ(hex,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(log_tail_keeps_the_last_lines_of_the_last_chunks)
{
	struct fixture fx;
	struct wf_buf out;
	char chunk[256];
	int64_t run, job;
	int i;

	REQUIRE(fixture_open(&fx) == 0);
	REQUIRE((run = fixture_run(&fx, 1, "{}", "pass", "[]")) > 0);
	REQUIRE(db_int(fx.db, &job, "SELECT id FROM jobs WHERE run_id = ?", "i",
	            run) == 1);
	for (i = 0; i < 100; i++) {
		snprintf(chunk, sizeof(chunk), "line %d\n", i);
		REQUIRE(
		    db_exec(fx.db, NULL,
		        "INSERT INTO logs (job_id, port, chunk, data) VALUES"
		        " (?, 0, ?, ?)",
		        "iib", job, (int64_t)i, chunk, strlen(chunk)) == 0);
	}
	wf_buf_init(&out, 1 << 16);
	REQUIRE(export_log_tail(fx.db, job, 0, 3, 4096, &out) == 0);
	CHECK_STR_EQ(wf_buf_str(&out), "line 97\nline 98\nline 99\n");
	wf_buf_reset(&out);
	/* a byte cap cuts at a line's start */
	REQUIRE(export_log_tail(fx.db, job, 0, 30, 20, &out) == 0);
	CHECK_STR_EQ(wf_buf_str(&out), "line 98\nline 99\n");
	wf_buf_reset(&out);
	REQUIRE(export_log_tail(fx.db, job, 1, 3, 4096, &out) == 0);
	CHECK_EQ_INT(out.len, 0);
	wf_buf_free(&out);
	fixture_close(&fx);
}

TEST(the_feed_is_written_with_each_change)
{
	struct fixture fx;
	int64_t run, n = 0;
	json_t *rows;

	REQUIRE(fixture_open(&fx) == 0);
	REQUIRE((run = fixture_run(&fx, 2, "{}", "pass", "[]")) > 0);
	REQUIRE(db_exec(fx.db, NULL,
	            "UPDATE jobs SET state = 'cancelled' WHERE run_id = ?", "i",
	            run) == 0);
	REQUIRE(db_exec(fx.db, NULL,
	            "UPDATE runs SET state = 'cancelled' WHERE id = ?", "i",
	            run) == 0);
	/* no change, no event */
	REQUIRE(db_exec(fx.db, NULL,
	            "UPDATE runs SET state = 'cancelled' WHERE id = ?", "i",
	            run) == 0);
	rows = db_rows(fx.db,
	    "SELECT kind, json_extract(data, '$.state') AS state FROM feed"
	    " ORDER BY id",
	    "");
	REQUIRE(rows != NULL);
	CHECK_EQ_INT(json_array_size(rows), 4); /* run created, 2 jobs, run */
	CHECK_STR_EQ(
	    json_string_value(json_object_get(json_array_get(rows, 0), "kind")),
	    "run");
	CHECK_STR_EQ(json_string_value(
	                 json_object_get(json_array_get(rows, 3), "state")),
	    "cancelled");
	json_decref(rows);
	REQUIRE(db_int(fx.db, &n, "PRAGMA auto_vacuum", "") == 1);
	CHECK_EQ_INT(n, 2); /* incremental: prune gives the space back */
	fixture_close(&fx);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
