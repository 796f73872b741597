/*
 * test_log.c: unit tests for lib/log: the record format, levels, the
 * per-thread job id, errno text, one line per record under concurrency,
 * and fatal exits. Records are captured by pointing fd 2 at a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "test.h"

static int saved_stderr = -1;
static char capture_path[64];

static void
capture_begin(void)
{
	int fd;

	snprintf(capture_path, sizeof capture_path, "/tmp/wf-test-log-XXXXXX");
	fd = mkstemp(capture_path);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* Stop capturing; the caller frees the captured text. */
static char *
capture_end(void)
{
	struct wf_buf b;
	char chunk[4096];
	ssize_t n;
	int fd;

	dup2(saved_stderr, 2);
	close(saved_stderr);
	wf_buf_init(&b, 16 << 20);
	fd = open(capture_path, O_RDONLY);
	while (fd != -1 && (n = read(fd, chunk, sizeof chunk)) > 0)
		wf_buf_append(&b, chunk, (size_t)n);
	if (fd != -1)
		close(fd);
	unlink(capture_path);
	return wf_buf_steal(&b);
}

static int
matches(const char *pattern, const char *text)
{
	regex_t re;
	int ok;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
		return 0;
	ok = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static int
count_lines(const char *text)
{
	int n = 0;

	for (; *text != '\0'; text++)
		n += *text == '\n';
	return n;
}

#define STAMP \
	"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "

TEST(record_format)
{
	char *out;

	wf_log_init("controller");
	wf_log_set_level(WF_LOG_INFO);
	capture_begin();
	log_info("listening on %s:%d", "127.0.0.1", 8080);
	out = capture_end();
	CHECK(matches(
	    STAMP "INFO controller: listening on 127.0.0.1:8080\n$", out));
	CHECK_EQ_INT(count_lines(out), 1);
	free(out);
}

TEST(job_id_is_per_thread)
{
	char *out;

	wf_log_init("agent");
	capture_begin();
	wf_log_set_job(42);
	log_warnx("guest %s", "hung");
	wf_log_set_job(0);
	log_info("idle");
	out = capture_end();
	CHECK(matches(STAMP "WARN agent job=42: guest hung$", out));
	CHECK(matches(STAMP "INFO agent: idle$", out));
	free(out);
}

TEST(levels_filter)
{
	enum wf_log_level level;
	char *out;

	CHECK_EQ_INT(wf_log_parse_level("DEBUG", &level), 0);
	CHECK_EQ_INT(level, WF_LOG_DEBUG);
	CHECK_EQ_INT(wf_log_parse_level("warn", &level), 0);
	CHECK_EQ_INT(level, WF_LOG_WARN);
	CHECK_EQ_INT(wf_log_parse_level("loud", &level), -1);

	wf_log_set_level(WF_LOG_WARN);
	capture_begin();
	log_debug("d");
	log_info("i");
	log_warnx("w");
	out = capture_end();
	CHECK_EQ_INT(count_lines(out), 1);
	CHECK(matches("WARN [a-z]+: w$", out));
	free(out);

	wf_log_set_level(WF_LOG_DEBUG);
	capture_begin();
	log_debug("d");
	out = capture_end();
	CHECK(matches("DEBUG [a-z]+: d$", out));
	free(out);
	wf_log_set_level(WF_LOG_INFO);
}

TEST(level_from_environment)
{
	setenv("WF_LOG_LEVEL", "warn", 1);
	wf_log_init("cli");
	CHECK_EQ_INT(wf_log_get_level(), WF_LOG_WARN);
	unsetenv("WF_LOG_LEVEL");
	wf_log_set_level(WF_LOG_INFO);
}

TEST(warn_appends_strerror_and_keeps_errno)
{
	char *out;

	wf_log_init("agent");
	capture_begin();
	errno = ENOENT;
	log_warn("open %s", "/nonexistent");
	CHECK_EQ_INT(errno, ENOENT);
	errno = ENOENT;
	log_warnx("plain");
	out = capture_end();
	CHECK(matches("WARN agent: open /nonexistent: No such file or "
	              "directory$",
	    out));
	CHECK(matches("WARN agent: plain$", out));
	free(out);
}

TEST(control_characters_cannot_forge_records)
{
	char *out;

	capture_begin();
	log_info("evil\n2026-01-01T00:00:00.000Z INFO controller: forged");
	out = capture_end();
	CHECK_EQ_INT(count_lines(out), 1);
	CHECK(matches("evil\\?2026", out));
	free(out);
}

TEST(long_message_stays_one_line)
{
	char *big = malloc(20000), *out;

	REQUIRE(big != NULL);
	memset(big, 'x', 19999);
	big[19999] = '\0';
	capture_begin();
	log_info("%s", big);
	out = capture_end();
	CHECK_EQ_INT(count_lines(out), 1);
	CHECK(strlen(out) <= 4096);
	CHECK(out[strlen(out) - 1] == '\n');
	free(out);
	free(big);
}

#define THREADS 4
#define PER_THREAD 300

static void *
log_thread(void *arg)
{
	int i, id = (int)(long)arg;

	wf_log_set_job(100 + id);
	for (i = 0; i < PER_THREAD; i++)
		log_info("thread %d record %d padding padding padding", id, i);
	return NULL;
}

TEST(threads_never_interleave)
{
	pthread_t t[THREADS];
	char *out, *line, *save = NULL;
	int i, good = 0, total = 0;
	regex_t re;

	wf_log_init("agent");
	capture_begin();
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, log_thread, (void *)(long)i);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	out = capture_end();
	REQUIRE(regcomp(&re,
	            STAMP "INFO agent job=10([0-9]): thread \\1 "
	                  "record [0-9]+ padding padding padding$",
	            REG_EXTENDED) == 0);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		total++;
		good += regexec(&re, line, 0, NULL, 0) == 0;
	}
	regfree(&re);
	CHECK_EQ_INT(total, THREADS * PER_THREAD);
	CHECK_EQ_INT(good, THREADS * PER_THREAD);
	free(out);
}

TEST(fatal_exits_1)
{
	int status = 0;
	pid_t pid;
	char *out;

	capture_begin();
	pid = fork();
	if (pid == 0) {
		errno = EACCES;
		fatal("cannot open %s", "db.sqlite");
	}
	waitpid(pid, &status, 0);
	out = capture_end();
	CHECK(WIFEXITED(status));
	CHECK_EQ_INT(WEXITSTATUS(status), 1);
	CHECK(matches(
	    "FATAL [a-z]+: cannot open db.sqlite: Permission denied$", out));
	free(out);

	capture_begin();
	pid = fork();
	if (pid == 0)
		fatalx("bad config");
	waitpid(pid, &status, 0);
	out = capture_end();
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	CHECK(matches("FATAL [a-z]+: bad config$", out));
	free(out);
}

static char *
read_text(const char *path)
{
	struct wf_buf b;
	char chunk[4096];
	ssize_t n;
	int fd;

	wf_buf_init(&b, 1 << 20);
	fd = open(path, O_RDONLY);
	while (fd != -1 && (n = read(fd, chunk, sizeof chunk)) > 0)
		wf_buf_append(&b, chunk, (size_t)n);
	if (fd != -1)
		close(fd);
	return wf_buf_steal(&b);
}

/* In a child: fd 2 becomes the log file, for good. */
TEST(log_file_and_reopen)
{
	char dir[] = "/tmp/wf-test-logfile-XXXXXX", path[64], moved[64];
	char *cause = NULL, *a, *b;
	int status = 0;
	pid_t pid;

	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/agent.log", dir);
	snprintf(moved, sizeof moved, "%s/agent.log.1", dir);
	if ((pid = fork()) == 0) {
		wf_log_init("agent");
		if (wf_log_reopen(&cause) != 0 || /* no file yet: no-op */
		    wf_log_open_file("/nonexistent/dir/x.log", &cause) != -1 ||
		    strstr(cause, "/nonexistent/dir/x.log") == NULL ||
		    wf_log_open_file(path, &cause) != 0)
			_exit(3);
		log_info("before");
		fprintf(stderr, "raw stderr\n"); /* lands there too */
		if (rename(path, moved) != 0)
			_exit(4);
		log_info("still to the moved file");
		if (wf_log_reopen(&cause) != 0)
			_exit(5);
		log_info("after");
		_exit(0);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	a = read_text(moved);
	b = read_text(path);
	CHECK(matches(STAMP "INFO agent: before$", a));
	CHECK(matches("^raw stderr$", a));
	CHECK(matches(STAMP "INFO agent: still to the moved file$", a));
	CHECK_EQ_INT(count_lines(a), 3);
	CHECK(matches(STAMP "INFO agent: after\n$", b));
	CHECK_EQ_INT(count_lines(b), 1);
	free(a);
	free(b);
	unlink(path);
	unlink(moved);
	rmdir(dir);
}

TEST(set_job_returns_the_previous_tag)
{
	CHECK_EQ_INT(wf_log_set_job(7), 0);
	CHECK_EQ_INT(wf_log_set_job(9), 7);
	CHECK_EQ_INT(wf_log_set_job(0), 9);
	CHECK_STR_EQ(wf_log_level_name(WF_LOG_WARN), "warn");
	CHECK_STR_EQ(wf_log_level_name(WF_LOG_DEBUG), "debug");
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
