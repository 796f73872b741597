/*
 * test_flags.c: unit tests for lib/flags. Parsing runs in a forked child
 * (help, version and usage errors exit), whose stdout, stderr and exit
 * status the tests check.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "flags.h"
#include "test.h"

enum {
	OPT_DB = WF_FLAG_LONG,
	OPT_ACCEL,
	OPT_SERVER,
	OPT_NAME,
};

static const struct wf_flag serve_flags[] = {
	{ "db", OPT_DB, "FILE", "SQLite database file", 1 },
	{ "slots", 's', "N", "guests at once", 0 },
	{ "accel", OPT_ACCEL, "tcg|kvm", "QEMU accelerator", 0 },
	{ "verbose", 'v', NULL, "say more", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd serve_cmd = {
	"prog serve",
	"[FILE]",
	"Serve things.",
	serve_flags,
	NULL,
};

/* Print what was parsed so the parent can check it. */
static int
serve_main(int argc, char **argv)
{
	static const char *const accels[] = { "tcg", "kvm", NULL };
	const char *arg, *db = "-";
	struct wf_flags f;
	long long slots = 1;
	int id, verbose = 0, accel = 0, n;
	char **args;

	wf_flags_begin(&f, &serve_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		switch (id) {
		case OPT_DB:
			db = arg;
			break;
		case 's':
			slots = wf_flags_int(&f, "--slots", arg, 1, 64);
			break;
		case OPT_ACCEL:
			accel = wf_flags_choice(&f, "--accel", arg, accels);
			break;
		case 'v':
			verbose++;
			break;
		}
	}
	args = wf_flags_args(&f, 0, 1, &n);
	printf("db=%s slots=%lld accel=%d verbose=%d arg=%s\n", db, slots,
	    accel, verbose, n > 0 ? args[0] : "-");
	return 0;
}

static const struct wf_flag create_flags[] = {
	{ "name", OPT_NAME, "NAME", "token name", 1 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd create_cmd = {
	"prog token create",
	NULL,
	"Create a token.",
	create_flags,
	NULL,
};

static int
create_main(int argc, char **argv)
{
	const char *arg, *name = NULL;
	struct wf_flags f;
	int n;

	wf_flags_begin(&f, &create_cmd, argc, argv);
	while (wf_flags_next(&f, &arg) != -1)
		name = arg;
	wf_flags_args(&f, 0, 0, &n);
	printf("create name=%s\n", name);
	return 3;
}

static const struct wf_subcmd token_subs[] = {
	{ "create", "create a token", create_main },
	{ NULL, NULL, NULL },
};

static const struct wf_cmd token_cmd = {
	"prog token",
	NULL,
	"Manage tokens.",
	NULL,
	token_subs,
};

static int
token_main(int argc, char **argv)
{
	const char *arg;
	struct wf_flags f;

	wf_flags_begin(&f, &token_cmd, argc, argv);
	while (wf_flags_next(&f, &arg) != -1)
		;
	return wf_flags_dispatch(&f);
}

static const struct wf_subcmd top_subs[] = {
	{ "serve", "serve things", serve_main },
	{ "token", "manage tokens", token_main },
	{ NULL, NULL, NULL },
};

static const struct wf_flag top_flags[] = {
	{ "server", OPT_SERVER, "URL", "controller URL", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd top_cmd = {
	"prog",
	NULL,
	"The test program.",
	top_flags,
	top_subs,
};

static int
top_main(int argc, char **argv)
{
	const char *arg;
	struct wf_flags f;

	wf_flags_begin(&f, &top_cmd, argc, argv);
	while (wf_flags_next(&f, &arg) != -1)
		printf("server=%s\n", arg);
	return wf_flags_dispatch(&f);
}

static const struct wf_cmd cancel_cmd_for_stub = {
	"prog cancel",
	NULL,
	"Cancel.",
	NULL,
	NULL,
};

struct result {
	int code;
	char *out;
	char *err;
};

static char *
slurp(int fd)
{
	struct wf_buf b;
	char chunk[4096];
	ssize_t n;

	wf_buf_init(&b, 1 << 20);
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		wf_buf_append(&b, chunk, (size_t)n);
	close(fd);
	return wf_buf_steal(&b);
}

static int
temp_fd(void)
{
	char path[] = "/tmp/wf-test-flags-XXXXXX";
	int fd = mkstemp(path);

	unlink(path);
	return fd;
}

/* Run fn on a copy of the NULL-terminated args in a child. */
static void
run(int (*fn)(int, char **), const char *const args[], struct result *r)
{
	char *argv[32];
	int argc = 0, status = 0, out = temp_fd(), err = temp_fd();
	pid_t pid;

	while (args[argc] != NULL && argc < 31) {
		argv[argc] = strdup(args[argc]);
		argc++;
	}
	argv[argc] = NULL;
	pid = fork();
	if (pid == 0) {
		dup2(out, 1);
		dup2(err, 2);
		exit(fn(argc, argv));
	}
	waitpid(pid, &status, 0);
	r->code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	r->out = slurp(out);
	r->err = slurp(err);
	while (argc > 0)
		free(argv[--argc]);
}

static void
result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

#define RUN(fn, r, ...)                                                       \
	do {                                                                  \
		static const char *const run_args_[] = { __VA_ARGS__, NULL }; \
		run(fn, run_args_, r);                                        \
	} while (0)

TEST(parses_flags_and_argument)
{
	struct result r;

	RUN(serve_main, &r, "serve", "--db", "x.db", "-s", "4", "-vv",
	    "file.json", "--accel=kvm", "--verbose");
	CHECK_EQ_INT(r.code, 0);
	CHECK_STR_EQ(
	    r.out, "db=x.db slots=4 accel=1 verbose=3 arg=file.json\n");
	CHECK_STR_EQ(r.err, "");
	result_free(&r);
}

TEST(help_is_generated_from_table)
{
	struct result r;

	RUN(serve_main, &r, "serve", "--help");
	CHECK_EQ_INT(r.code, 0);
	CHECK_STR_CONTAINS(r.out, "Usage: prog serve [options] [FILE]\n");
	CHECK_STR_CONTAINS(r.out, "Serve things.");
	CHECK_STR_CONTAINS(r.out,
	    "      --db FILE        SQLite database file"
	    " (required)\n");
	CHECK_STR_CONTAINS(r.out, "  -s, --slots N        guests at once\n");
	CHECK_STR_CONTAINS(r.out, "  -h, --help ");
	CHECK_STR_CONTAINS(r.out, "      --version ");
	CHECK_STR_EQ(r.err, "");
	result_free(&r);

	/* -h works even before required flags are given. */
	RUN(serve_main, &r, "serve", "-h");
	CHECK_EQ_INT(r.code, 0);
	CHECK_STR_CONTAINS(r.out, "Usage: prog serve");
	result_free(&r);
}

TEST(version_names_program)
{
	struct result r;

	RUN(serve_main, &r, "serve", "--version");
	CHECK_EQ_INT(r.code, 0);
	CHECK_STR_EQ(r.out, "prog " WF_VERSION "\n");
	result_free(&r);
}

TEST(unknown_long_option)
{
	struct result r;

	RUN(serve_main, &r, "serve", "--db", "x", "--bogus=1");
	CHECK_EQ_INT(r.code, 2);
	CHECK_STR_EQ(r.err,
	    "prog serve: unknown option '--bogus'\n"
	    "Try 'prog serve --help' for more information.\n");
	CHECK_STR_EQ(r.out, "");
	result_free(&r);
}

TEST(unknown_short_option)
{
	struct result r;

	RUN(serve_main, &r, "serve", "--verbose", "-vx");
	CHECK_EQ_INT(r.code, 2);
	CHECK_STR_CONTAINS(r.err, "prog serve: unknown option '-x'\n");
	result_free(&r);
}

TEST(missing_argument)
{
	struct result r;

	RUN(serve_main, &r, "serve", "--db");
	CHECK_EQ_INT(r.code, 2);
	CHECK_STR_CONTAINS(r.err, "option '--db' requires an argument");
	result_free(&r);
	RUN(serve_main, &r, "serve", "--db", "x", "-s");
	CHECK_EQ_INT(r.code, 2);
	CHECK_STR_CONTAINS(r.err, "option '-s' requires an argument");
	result_free(&r);
}

TEST(switch_with_argument)
{
	struct result r;

	RUN(serve_main, &r, "serve", "--db", "x", "--verbose=3");
	CHECK_EQ_INT(r.code, 2);
	CHECK_STR_CONTAINS(
	    r.err, "option '--verbose' doesn't take an argument");
	result_free(&r);
}

TEST(missing_required_option)
{
	struct result r;

	RUN(serve_main, &r, "serve", "-v");
	CHECK_EQ_INT(r.code, 2);
	CHECK_STR_CONTAINS(r.err, "missing required option --db");
	result_free(&r);
}

TEST(bad_integer_and_choice)
{
	struct result r;

	RUN(serve_main, &r, "serve", "--db", "x", "--slots", "4x");
	CHECK_EQ_INT(r.code, 2);
	CHECK_STR_CONTAINS(r.err,
	    "invalid value '4x' for --slots: expected an"
	    " integer from 1 to 64");
	result_free(&r);
	RUN(serve_main, &r, "serve", "--db", "x", "--slots", "65");
	CHECK_EQ_INT(r.code, 2);
	result_free(&r);
	RUN(serve_main, &r, "serve", "--db", "x", "--accel", "xen");
	CHECK_EQ_INT(r.code, 2);
	CHECK_STR_CONTAINS(r.err,
	    "invalid value 'xen' for --accel: expected"
	    " one of tcg, kvm");
	result_free(&r);
}

TEST(too_many_arguments)
{
	struct result r;

	RUN(serve_main, &r, "serve", "--db", "x", "a", "b");
	CHECK_EQ_INT(r.code, 2);
	CHECK_STR_CONTAINS(r.err, "unexpected argument 'b'");
	result_free(&r);
}

TEST(subcommand_dispatch)
{
	struct result r;

	RUN(top_main, &r, "prog", "--server", "http://x", "serve", "--db", "d");
	CHECK_EQ_INT(r.code, 0);
	CHECK_STR_EQ(r.out,
	    "server=http://x\n"
	    "db=d slots=1 accel=0 verbose=0 arg=-\n");
	result_free(&r);
}

TEST(nested_subcommand_and_exit_code)
{
	struct result r;

	RUN(top_main, &r, "prog", "token", "create", "--name", "ci");
	CHECK_EQ_INT(r.code, 3);
	CHECK_STR_EQ(r.out, "create name=ci\n");
	result_free(&r);
	RUN(top_main, &r, "prog", "token", "create", "--help");
	CHECK_EQ_INT(r.code, 0);
	CHECK_STR_CONTAINS(r.out, "Usage: prog token create [options]\n");
	result_free(&r);
}

TEST(global_options_stop_at_command)
{
	struct result r;

	/* --server after the command belongs to the command, which lacks it. */
	RUN(top_main, &r, "prog", "serve", "--server", "u", "--db", "d");
	CHECK_EQ_INT(r.code, 2);
	CHECK_STR_CONTAINS(r.err, "prog serve: unknown option '--server'");
	result_free(&r);
}

TEST(unknown_and_missing_command)
{
	struct result r;

	RUN(top_main, &r, "prog", "frobnicate");
	CHECK_EQ_INT(r.code, 2);
	CHECK_STR_CONTAINS(r.err, "prog: unknown command 'frobnicate'");
	result_free(&r);
	RUN(top_main, &r, "prog");
	CHECK_EQ_INT(r.code, 2);
	CHECK_STR_CONTAINS(r.err, "prog: missing command");
	result_free(&r);
}

TEST(top_help_lists_commands)
{
	struct result r;

	RUN(top_main, &r, "prog", "--help");
	CHECK_EQ_INT(r.code, 0);
	CHECK_STR_CONTAINS(r.out, "Usage: prog [options] COMMAND");
	CHECK_STR_CONTAINS(r.out,
	    "Commands:\n  serve  serve things\n"
	    "  token  manage tokens\n");
	result_free(&r);
	RUN(top_main, &r, "prog", "token", "--version");
	CHECK_EQ_INT(r.code, 0);
	CHECK_STR_EQ(r.out, "prog " WF_VERSION "\n");
	result_free(&r);
}

static int
stub_main(int argc, char **argv)
{
	struct wf_flags f;
	const char *arg;
	int n;

	wf_flags_begin(&f, &cancel_cmd_for_stub, argc, argv);
	while (wf_flags_next(&f, &arg) != -1)
		;
	wf_flags_args(&f, 0, 0, &n);
	return wf_flags_not_implemented(&f, "cancel");
}

TEST(not_implemented_says_so)
{
	struct result r;

	RUN(stub_main, &r, "cancel");
	CHECK_EQ_INT(r.code, 1);
	CHECK_STR_EQ(r.err, "prog cancel: not implemented yet: cancel\n");
	CHECK_STR_EQ(r.out, "");
	result_free(&r);
}

TEST(parse_int)
{
	static const struct {
		const char *s;
		int ok;
		long long want;
	} cases[] = {
		{ "42", 1, 42 },
		{ "-5", 1, -5 },
		{ "+3", 1, 3 },
		{ "0", 1, 0 },
		{ "", 0, 0 },
		{ " 4", 0, 0 },
		{ "4 ", 0, 0 },
		{ "4x", 0, 0 },
		{ "0x10", 0, 0 },
		{ "-", 0, 0 },
		{ "1e3", 0, 0 },
		{ "99999999999999999999", 0, 0 },
		{ "-99999999999999999999", 0, 0 },
		{ "1001", 0, 0 },
		{ "-1001", 0, 0 },
	};
	long long v;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		v = 12345;
		CHECK_EQ_INT(wf_parse_int(cases[i].s, -1000, 1000, &v),
		    cases[i].ok ? 0 : -1);
		CHECK_EQ_INT(v, cases[i].ok ? cases[i].want : 12345);
	}
	CHECK_EQ_INT(wf_parse_int("9223372036854775807", 0, LLONG_MAX, &v), 0);
	CHECK(v == LLONG_MAX);
	CHECK_EQ_INT(wf_parse_int(NULL, 0, 1, &v), -1);
}

TEST(value_checks_without_exiting)
{
	static const char *const accels[] = { "tcg", "kvm", NULL };
	char *cause = NULL;
	long long v = 0;

	CHECK_EQ_INT(wf_flag_int("slots", "8", 1, 64, &v, &cause), 0);
	CHECK_EQ_INT(v, 8);
	CHECK(cause == NULL);
	CHECK_EQ_INT(wf_flag_int("slots", "65", 1, 64, &v, &cause), -1);
	CHECK_STR_EQ(cause,
	    "invalid value '65' for slots: expected an integer"
	    " from 1 to 64");
	CHECK_EQ_INT(wf_flag_choice("accel", "kvm", accels, &cause), 1);
	CHECK_EQ_INT(wf_flag_choice("--accel", "hvf", accels, &cause), -1);
	CHECK_STR_EQ(cause,
	    "invalid value 'hvf' for --accel: expected one of"
	    " tcg, kvm");
	free(cause);
	CHECK(wf_flags_find(&serve_cmd, 's') == &serve_flags[1]);
	CHECK(wf_flags_find(&serve_cmd, 12345) == NULL);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
