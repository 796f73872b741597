/*
 * proc.c: running a program with a time limit and captured output.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

#define KILL_GRACE_MS 2000

static int abort_all;

void
wf_proc_abort_all(void)
{
	__atomic_store_n(&abort_all, 1, __ATOMIC_RELEASE);
}

static void
keep(struct wf_buf *out, const char *data, size_t n)
{
	size_t room;

	if (out == NULL)
		return;
	room = out->cap > out->len ? out->cap - out->len : 0;
	if (n > room) {
		n = room;
		out->truncated = 1;
	}
	if (n > 0)
		wf_buf_append(out, data, n);
}

/* In the child: never returns. Reports exec errors through errfd. */
static void
child(const char *const argv[], const char *cwd, int outfd, int errfd)
{
	int devnull = open("/dev/null", O_RDONLY), e;
	sigset_t none;

	setpgid(0, 0);
	/* A server blocks or ignores signals in its threads: not here. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (devnull == -1 || dup2(devnull, 0) == -1 || dup2(outfd, 1) == -1 ||
	    dup2(outfd, 2) == -1 || (cwd != NULL && chdir(cwd) == -1))
		goto fail;
	execvp(argv[0], (char *const *)argv);
fail:
	e = errno;
	if (write(errfd, &e, sizeof(e)) == -1)
		_exit(127);
	_exit(127);
}

/*
 * Forks the child: argv runs with outfd as stdout and stderr; an exec
 * error comes back through a pipe. The pid, or -1 with a cause.
 */
static pid_t
start(const char *const argv[], const char *cwd, int outfd, char **cause)
{
	int errp[2], e = 0, wstatus;
	ssize_t n;
	pid_t pid;

	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
		wf_set_cause(cause, "no program to run");
		return -1;
	}
	if (pipe2(errp, O_CLOEXEC) == -1) {
		wf_set_cause(cause, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		wf_set_cause(cause, "fork: %s", strerror(errno));
		close(errp[0]), close(errp[1]);
		return -1;
	}
	if (pid == 0)
		child(argv, cwd, outfd, errp[1]);
	setpgid(pid, pid); /* both sides: whichever runs first */
	close(errp[1]);
	/* exec succeeded iff the error pipe closes with nothing in it */
	while ((n = read(errp[0], &e, sizeof(e))) == -1 && errno == EINTR)
		;
	close(errp[0]);
	if (n == sizeof(e)) {
		waitpid(pid, &wstatus, 0);
		wf_set_cause(cause, "cannot run %s: %s", argv[0], strerror(e));
		return -1;
	}
	return pid;
}

pid_t
wf_proc_spawn(const char *const argv[], const char *cwd, const char *outpath,
    char **cause)
{
	int fd;
	pid_t pid;

	fd = open(outpath != NULL ? outpath : "/dev/null",
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		wf_set_cause(cause, "%s: %s", outpath, strerror(errno));
		return -1;
	}
	pid = start(argv, cwd, fd, cause);
	close(fd);
	return pid;
}

int
wf_proc_wait(const char *const argv[], const char *outpath, char **cause)
{
	pid_t pid = wf_proc_spawn(argv, NULL, outpath, cause);
	int wstatus;

	if (pid == -1)
		return -1;
	while (waitpid(pid, &wstatus, 0) == -1) {
		if (errno != EINTR) {
			wf_set_cause(cause, "waitpid: %s", strerror(errno));
			return -1;
		}
	}
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

int
wf_proc_run(const char *const argv[], const char *cwd, int timeout_s,
    struct wf_buf *out, struct wf_proc_result *res, char **cause)
{
	int outp[2], wstatus, open_out = 1;
	int64_t t0 = wf_now_ms(), deadline, kill_at = -1;
	char data[8192];
	ssize_t n;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (pipe2(outp, O_CLOEXEC) == -1) {
		wf_set_cause(cause, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = start(argv, cwd, outp[1], cause);
	close(outp[1]);
	if (pid == -1) {
		close(outp[0]);
		return -1;
	}
	deadline = timeout_s > 0 ? t0 + timeout_s * 1000LL : -1;
	for (;;) {
		struct pollfd pfd = { outp[0], POLLIN, 0 };
		int64_t now = wf_now_ms(), wait_ms = 200;
		pid_t w;

		if (!open_out) {
			w = waitpid(pid, &wstatus, WNOHANG);
			if (w == pid)
				break;
		}
		if (((deadline >= 0 && now >= deadline) ||
		        __atomic_load_n(&abort_all, __ATOMIC_ACQUIRE)) &&
		    !res->timed_out) {
			res->timed_out = 1;
			kill(-pid, SIGTERM);
			kill_at = now + KILL_GRACE_MS;
		}
		if (kill_at >= 0 && now >= kill_at) {
			kill(-pid, SIGKILL);
			kill_at = -1;
		}
		if (deadline >= 0 && !res->timed_out &&
		    deadline - now < wait_ms)
			wait_ms = deadline - now;
		if (open_out) {
			if (poll(&pfd, 1, (int)(wait_ms < 1 ? 1 : wait_ms)) >
			    0) {
				n = read(outp[0], data, sizeof(data));
				if (n > 0)
					keep(out, data, (size_t)n);
				else if (n == 0 || errno != EINTR)
					open_out = 0;
			}
		} else {
			usleep(20000);
		}
	}
	close(outp[0]);
	/* Anything the group left behind goes with it. */
	kill(-pid, SIGKILL);
	res->wall_s = (wf_now_ms() - t0) / 1000.0;
	if (WIFEXITED(wstatus)) {
		res->status = WEXITSTATUS(wstatus);
	} else {
		res->status = -1;
		res->signal = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
	}
	return 0;
}

void
wf_proc_describe(const struct wf_proc_result *res, char *out, size_t size)
{
	if (res->timed_out)
		snprintf(out, size, "timed out after %.0f s", res->wall_s);
	else if (res->status >= 0)
		snprintf(out, size, "exit status %d", res->status);
	else
		snprintf(out, size, "killed by signal %d", res->signal);
}
