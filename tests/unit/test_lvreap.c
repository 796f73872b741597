/*
 * test_lvreap.c: unit tests for lib/runner/lvreap: whose leftover a domain
 * name is, and when its owner counts as gone; and lib/runner/runner's
 * watchdog on CPU time.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#include "lvreap.h"
#include "runner.h"
#include "util.h"

TEST(agent_names_its_own_leftovers_only)
{
	long long job, attempt;

	CHECK(lvreap_owner_dead("wakefarm-h1-12-3", "h1", 1, &job, &attempt));
	CHECK_EQ_INT(job, 12);
	CHECK_EQ_INT(attempt, 3);
	/* another agent's, even one whose name starts like ours */
	CHECK(
	    !lvreap_owner_dead("wakefarm-h1-5-12-3", "h1", 1, &job, &attempt));
	CHECK(
	    !lvreap_owner_dead("wakefarm-h1-12-3", "h1-5", 1, &job, &attempt));
	CHECK(!lvreap_owner_dead("wakefarm-h2-12-3", "h1", 1, &job, &attempt));
	CHECK(!lvreap_owner_dead("wakefarm-h1-12-3", NULL, 1, &job, &attempt));
	CHECK(!lvreap_owner_dead("wakefarm-h1-x-3", "h1", 1, &job, &attempt));
	CHECK(!lvreap_owner_dead("guest", "h1", 1, &job, &attempt));
	/* an agent named "repro": its names have two numbers */
	CHECK(lvreap_owner_dead(
	    "wakefarm-repro-7-1", "repro", 1, &job, &attempt));
	CHECK_EQ_INT(job, 7);
}

TEST(pid_owned_leftovers_by_the_owner_alive)
{
	char name[64];
	long long job, attempt;
	pid_t child;
	int st;

	/* this process has not started a domain: its name is a leftover */
	snprintf(name, sizeof(name), "wakefarm-repro-%d", (int)getpid());
	CHECK(lvreap_owner_dead(name, NULL, 1, &job, &attempt));
	CHECK_EQ_INT(job, -1);
	/* a remote URI: the PID is not ours to judge */
	CHECK(!lvreap_owner_dead(name, NULL, 0, &job, &attempt));
	/* a live process that is no wakefarm runner (sleep) */
	if ((child = fork()) == 0) {
		execlp("sleep", "sleep", "5", (char *)NULL);
		_exit(127);
	}
	usleep(100000);
	snprintf(name, sizeof(name), "wakefarm-run-qemu-%d", (int)child);
	CHECK(lvreap_owner_dead(name, NULL, 1, &job, &attempt));
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	/* gone */
	CHECK(lvreap_owner_dead(name, NULL, 1, &job, &attempt));
	CHECK(
	    !lvreap_owner_dead("wakefarm-repro-12a", NULL, 1, &job, &attempt));
	CHECK(lvreap_uri_local("qemu:///system"));
	CHECK(lvreap_uri_local(NULL));
	CHECK(!lvreap_uri_local("qemu+ssh://root@h2/system"));
}

TEST(watchdog_counts_cpu_time)
{
	pid_t child;
	double cpu;
	int64_t t0;
	int fds[2], st;
	char c;

	CHECK(!run_watchdog_fired(2, 1.9, 7.9));
	CHECK(run_watchdog_fired(2, 2.0, 0.5));
	/* a guest hung halted uses no CPU: the wall clock ends it */
	CHECK(run_watchdog_fired(2, 0.1, 2.0 * RUN_WATCHDOG_WALL_FACTOR));
	/*
	 * A process that spins until it has used 300 ms of CPU time (not of
	 * wall time: a loaded host gives it less CPU per second), then says so
	 * on a pipe and sleeps. Whatever the host's load, the CPU time read
	 * then is 0.3 s and a little more, and the time it waited to run is
	 * no more than the wall time that passed.
	 */
	REQUIRE(pipe(fds) == 0);
	t0 = wf_now_ms();
	if ((child = fork()) == 0) {
		struct timespec ts;

		close(fds[0]);
		do
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		while (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 < 300);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	CHECK(read(fds[0], &c, 1) == 1);
	close(fds[0]);
	usleep(50000);
	cpu = run_proc_cpu_s(child);
	CHECK(cpu >= 0.29 && cpu <= 0.5);
	CHECK(run_proc_waited_s(child) >= 0);
	CHECK(run_proc_waited_s(child) <= (wf_now_ms() - t0) / 1000.0 + 0.05);
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	CHECK(run_proc_cpu_s(child) < 0);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
