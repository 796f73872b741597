/*
 * log.c: the wakefarm log format (see log.h). Records are formatted into a
 * stack buffer and written with one write(2) so that concurrent threads and
 * processes sharing stderr never produce torn lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Longer messages are cut: a log line is for people, not for payloads. */
#define LOG_LINE_MAX 4096

static char log_component[32] = "wakefarm";
static int log_level = WF_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int64_t log_job;
static char *log_path; /* --log-file, for wf_log_reopen */

static const char *const level_names[] = {
	[WF_LOG_DEBUG] = "DEBUG",
	[WF_LOG_INFO] = "INFO",
	[WF_LOG_WARN] = "WARN",
	[WF_LOG_FATAL] = "FATAL",
};

void
wf_log_init(const char *component)
{
	const char *env = getenv("WF_LOG_LEVEL");
	enum wf_log_level level;

	wf_strlcpy(log_component, component, sizeof log_component);
	if (env != NULL && wf_log_parse_level(env, &level) == 0)
		wf_log_set_level(level);
}

void
wf_log_set_level(enum wf_log_level level)
{
	__atomic_store_n(&log_level, (int)level, __ATOMIC_RELAXED);
}

enum wf_log_level
wf_log_get_level(void)
{
	return (enum wf_log_level)__atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

int
wf_log_parse_level(const char *name, enum wf_log_level *out)
{
	if (strcasecmp(name, "debug") == 0)
		*out = WF_LOG_DEBUG;
	else if (strcasecmp(name, "info") == 0)
		*out = WF_LOG_INFO;
	else if (strcasecmp(name, "warn") == 0)
		*out = WF_LOG_WARN;
	else
		return -1;
	return 0;
}

const char *
wf_log_level_name(enum wf_log_level level)
{
	static const char *const names[] = {
		[WF_LOG_DEBUG] = "debug",
		[WF_LOG_INFO] = "info",
		[WF_LOG_WARN] = "warn",
		[WF_LOG_FATAL] = "fatal",
	};

	return (unsigned)level <= WF_LOG_FATAL ? names[level] : "?";
}

int64_t
wf_log_set_job(int64_t job_id)
{
	int64_t prev = log_job;

	log_job = job_id;
	return prev;
}

/* Open path and put it on fd 2, under the lock: a record is all in one file. */
static int
log_file_to_stderr(const char *path, char **cause)
{
	int fd;

	fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd == -1) {
		wf_set_cause(cause, "log file %s: %s", path, strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&log_lock);
	/* dup2 swaps fd 2 atomically: no write sees it closed. */
	if (fd != STDERR_FILENO && dup2(fd, STDERR_FILENO) == -1) {
		pthread_mutex_unlock(&log_lock);
		wf_set_cause(
		    cause, "log file %s: dup2: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	pthread_mutex_unlock(&log_lock);
	if (fd != STDERR_FILENO)
		close(fd);
	return 0;
}

int
wf_log_open_file(const char *path, char **cause)
{
	char *copy;

	if ((copy = strdup(path)) == NULL) {
		wf_set_cause(cause, "out of memory");
		return -1;
	}
	if (log_file_to_stderr(path, cause) == -1) {
		free(copy);
		return -1;
	}
	pthread_mutex_lock(&log_lock);
	free(log_path);
	log_path = copy;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

int
wf_log_reopen(char **cause)
{
	char path[4096];

	pthread_mutex_lock(&log_lock);
	if (log_path == NULL) {
		pthread_mutex_unlock(&log_lock);
		return 0;
	}
	wf_strlcpy(path, log_path, sizeof path);
	pthread_mutex_unlock(&log_lock);
	return log_file_to_stderr(path, cause);
}

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* Nowhere left to report a failing stderr. */
		p += w;
		n -= (size_t)w;
	}
}

/* Append fmt/ap to line at *len, never past LOG_LINE_MAX - 2 (room for "\n"). */
static void
append(char *line, size_t *len, const char *fmt, va_list ap)
{
	size_t room = LOG_LINE_MAX - 1 - *len;
	int n = vsnprintf(line + *len, room, fmt, ap);

	if (n < 0)
		return;
	*len += (size_t)n < room ? (size_t)n : room - 1;
}

static void
append_str(char *line, size_t *len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	append(line, len, fmt, ap);
	va_end(ap);
}

static void
log_emit(enum wf_log_level level, int errnum, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], stamp[32];
	struct timespec ts;
	struct tm tm;
	size_t len = 0, start, i;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	append_str(line, &len, "%s.%03ldZ %s %s", stamp, ts.tv_nsec / 1000000,
	    level_names[level], log_component);
	if (log_job != 0)
		append_str(line, &len, " job=%lld", (long long)log_job);
	append_str(line, &len, ": ");

	start = len;
	append(line, &len, fmt, ap);
	if (errnum != 0)
		append_str(line, &len, ": %s", strerror(errnum));
	/* A newline inside a message would forge a second record. */
	for (i = start; i < len; i++) {
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
			line[i] = '?';
	}
	line[len++] = '\n';

	pthread_mutex_lock(&log_lock);
	write_all(STDERR_FILENO, line, len);
	pthread_mutex_unlock(&log_lock);
}

#define LOG_FN(fn, level, use_errno)                               \
	void fn(const char *fmt, ...)                              \
	{                                                          \
		int saved = errno;                                 \
		va_list ap;                                        \
                                                                   \
		if ((level) < wf_log_get_level())                  \
			return;                                    \
		va_start(ap, fmt);                                 \
		log_emit(level, (use_errno) ? saved : 0, fmt, ap); \
		va_end(ap);                                        \
		errno = saved;                                     \
	}

LOG_FN(log_debug, WF_LOG_DEBUG, 0)
LOG_FN(log_info, WF_LOG_INFO, 0)
LOG_FN(log_warnx, WF_LOG_WARN, 0)
LOG_FN(log_warn, WF_LOG_WARN, 1)

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(WF_LOG_FATAL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(WF_LOG_FATAL, saved, fmt, ap);
	va_end(ap);
	exit(1);
}
