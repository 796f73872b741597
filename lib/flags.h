/*
 * flags.h: command-line parsing for every wakefarm binary, on getopt_long.
 *
 * A command is described by a table of flags; --help text is generated from
 * it, --help/-h and --version are answered here (exit 0), and usage errors
 * print "PROG: message" and a hint to stderr and exit 2 (or the status of
 * wf_flags_set_usage). The caller loops
 * over wf_flags_next like over getopt_long:
 *
 *	wf_flags_begin(&f, &serve_cmd, argc, argv);
 *	while ((id = wf_flags_next(&f, &arg)) != -1) {
 *		switch (id) { case OPT_DB: db = arg; break; ... }
 *	}
 *	args = wf_flags_args(&f, 0, 0, &nargs);
 *
 * Subcommands ("prog [global options] COMMAND [options]"): give the command
 * a subcmds table; option parsing then stops at the first non-option and
 * wf_flags_dispatch runs the named subcommand with argv[0] = its name.
 */
#ifndef WF_FLAGS_H
#define WF_FLAGS_H

#include <stdio.h>

/* Ids of the built-in flags; a table must not use them. */
#define WF_FLAG_HELP 'h'
#define WF_FLAG_VERSION 1
/* First id for flags without a short form; a printable id is also -ID. */
#define WF_FLAG_LONG 256
/* The most flags one table may hold (tables are static and small). */
#define WF_FLAGS_MAX 32

struct wf_flag {
	const char *name; /* long name, without "--"; NULL ends */
	int id; /* what wf_flags_next returns */
	const char *metavar; /* argument name in --help; NULL: a switch */
	const char *help; /* one line */
	int required; /* a usage error when absent */
};

struct wf_flags;

struct wf_subcmd {
	const char *name; /* NULL ends the table */
	const char *summary; /* one line for the parent's --help */
	int (*run)(int argc, char **argv); /* returns the exit code */
};

struct wf_cmd {
	const char *prog; /* "wakefarm submit": first word = program */
	const char *args; /* positional synopsis; NULL: none */
	const char *summary; /* one line under the usage line */
	const struct wf_flag *flags; /* may be NULL */
	const struct wf_subcmd *subcmds; /* NULL: no subcommands */
};

struct wf_flags {
	const struct wf_cmd *cmd;
	int argc;
	char **argv;
	int ind; /* first positional, once next gave -1 */
	unsigned seen; /* bit i: flags[i] was given */
};

void wf_flags_begin(
    struct wf_flags *f, const struct wf_cmd *cmd, int argc, char **argv);
/*
 * The id of the next flag (*arg = its argument or NULL), or -1 when the
 * flags are done; then required flags are checked.
 */
int wf_flags_next(struct wf_flags *f, const char **arg);
/*
 * The positional arguments after the flags (*n of them); a usage error
 * unless min <= *n <= max (max < 0: no upper bound).
 */
char **wf_flags_args(struct wf_flags *f, int min, int max, int *n);
/* Run the subcommand named by the first positional argument. */
int wf_flags_dispatch(struct wf_flags *f);
/* A command that only holds subcommands (no options of its own but --help
 * and --version): parse argv, then run the named subcommand. */
int wf_flags_run(const struct wf_cmd *cmd, int argc, char **argv);

void wf_flags_help(const struct wf_cmd *cmd, FILE *out);
/*
 * For the whole process: the exit status of a usage error (default 2), a
 * hook called with the program and the message before that exit (NULL:
 * none), and text printed at the end of every --help (NULL: none).
 */
void
wf_flags_set_usage(int status, void (*hook)(const char *prog, const char *msg));
void wf_flags_set_epilog(const char *text);
void wf_flags_usage_error(const struct wf_flags *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Parse a flag's integer argument or exit 2 naming the flag and range. */
long long wf_flags_int(const struct wf_flags *f, const char *flag,
    const char *arg, long long min, long long max);
/*
 * Index of arg in the NULL-terminated choices, or exit 2 naming the flag
 * and listing the choices.
 */
int wf_flags_choice(const struct wf_flags *f, const char *flag, const char *arg,
    const char *const choices[]);

/*
 * The same checks for a value that may come from a config file: 0 (or the
 * choice's index) or -1 with a cause "invalid value 'ARG' for NAME: ...",
 * never an exit. name is how the caller shows the option ("--slots" on the
 * command line, "slots" in a file).
 */
int wf_flag_int(const char *name, const char *arg, long long min, long long max,
    long long *out, char **cause);
int wf_flag_choice(const char *name, const char *arg,
    const char *const choices[], char **cause);

/* The flag of cmd's table with this id, or NULL. */
const struct wf_flag *wf_flags_find(const struct wf_cmd *cmd, int id);

/*
 * For commands whose body is not built yet: print "PROG: not implemented
 * yet: WHAT" to stderr and return 1 (the exit code to use), so no command
 * ever pretends to have done its work.
 */
int wf_flags_not_implemented(const struct wf_flags *f, const char *what);

/*
 * A whole decimal integer in [min, max]: no blanks, no trailing junk, no
 * overflow. 0 or -1.
 */
int wf_parse_int(const char *s, long long min, long long max, long long *out);

#endif
