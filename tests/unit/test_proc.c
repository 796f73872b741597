/*
 * test_proc.c: the one process spawner (lib/proc.c): captured runs with a
 * time limit and an output cap, runs with their output in a file.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "test.h"
#include "util.h"

TEST(a_program_runs_with_its_output_and_status)
{
	const char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3",
		NULL };
	struct wf_proc_result res;
	struct wf_buf out;
	char *cause = NULL, how[64];

	wf_buf_init(&out, 1024);
	CHECK_EQ_INT(wf_proc_run(argv, NULL, 10, &out, &res, &cause), 0);
	CHECK_EQ_INT(res.status, 3);
	CHECK_EQ_INT(res.signal, 0);
	CHECK_EQ_INT(res.timed_out, 0);
	CHECK_STR_CONTAINS(wf_buf_str(&out), "out\n");
	CHECK_STR_CONTAINS(wf_buf_str(&out), "err\n"); /* merged */
	wf_proc_describe(&res, how, sizeof(how));
	CHECK_STR_EQ(how, "exit status 3");
	wf_buf_free(&out);
}

TEST(it_runs_in_cwd_with_stdin_from_dev_null)
{
	const char *argv[] = { "sh", "-c", "pwd; cat; echo end", NULL };
	struct wf_proc_result res;
	struct wf_buf out;
	char *cause = NULL;

	wf_buf_init(&out, 1024);
	CHECK_EQ_INT(wf_proc_run(argv, "/", 10, &out, &res, &cause), 0);
	CHECK_STR_EQ(wf_buf_str(&out), "/\nend\n");
	wf_buf_free(&out);
}

TEST(output_past_the_cap_is_dropped)
{
	const char *argv[] = { "sh", "-c", "yes | head -c 100000", NULL };
	struct wf_proc_result res;
	struct wf_buf out;
	char *cause = NULL;

	wf_buf_init(&out, 1000);
	CHECK_EQ_INT(wf_proc_run(argv, NULL, 10, &out, &res, &cause), 0);
	CHECK_EQ_INT(res.status, 0);
	CHECK_EQ_INT(out.len, 1000);
	CHECK(out.truncated);
	wf_buf_free(&out);
}

TEST(the_time_limit_kills_the_whole_group)
{
	const char *argv[] = { "sh", "-c", "sleep 30 & sleep 30", NULL };
	struct wf_proc_result res;
	char *cause = NULL, how[64];
	int64_t t0 = wf_now_ms();

	CHECK_EQ_INT(wf_proc_run(argv, NULL, 1, NULL, &res, &cause), 0);
	CHECK(res.timed_out);
	CHECK_EQ_INT(res.status, -1);
	CHECK_EQ_INT(res.signal, SIGTERM);
	CHECK(wf_now_ms() - t0 < 10000);
	wf_proc_describe(&res, how, sizeof(how));
	CHECK_STR_CONTAINS(how, "timed out after");
}

TEST(a_missing_program_is_a_cause_not_a_status)
{
	const char *argv[] = { "/nonexistent/wakefarm-nothing", NULL };
	const char *none[] = { NULL };
	struct wf_proc_result res;
	char *cause = NULL;

	CHECK_EQ_INT(wf_proc_run(argv, NULL, 5, NULL, &res, &cause), -1);
	CHECK_STR_CONTAINS(cause, "cannot run /nonexistent/wakefarm-nothing");
	free(cause);
	cause = NULL;
	CHECK_EQ_INT(wf_proc_run(none, NULL, 5, NULL, &res, &cause), -1);
	CHECK_STR_CONTAINS(cause, "no program");
	free(cause);
	cause = NULL;
	CHECK_EQ_INT(wf_proc_wait(argv, NULL, &cause), -1);
	CHECK_STR_CONTAINS(cause, "cannot run");
	free(cause);
}

TEST(spawn_writes_the_output_to_a_file_and_makes_a_group)
{
	const char *argv[] = { "sh", "-c", "echo hello; echo again >&2; exit 4",
		NULL };
	char path[] = "/tmp/wf-proc-XXXXXX", line[64];
	char *cause = NULL;
	FILE *f;
	int fd = mkstemp(path), status;
	pid_t pid;

	REQUIRE(fd >= 0);
	close(fd);
	CHECK_EQ_INT(wf_proc_wait(argv, path, &cause), 4);
	REQUIRE((f = fopen(path, "r")) != NULL);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_STR_EQ(line, "hello\n");
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_STR_EQ(line, "again\n");
	fclose(f);
	{
		const char *sl[] = { "sleep", "30", NULL };

		pid = wf_proc_spawn(sl, NULL, NULL, &cause);
		REQUIRE(pid > 0);
		CHECK_EQ_INT(getpgid(pid), pid); /* its own group */
		CHECK_EQ_INT(kill(-pid, SIGKILL), 0);
		CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
		CHECK(WIFSIGNALED(status));
	}
	unlink(path);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
