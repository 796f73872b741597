/*
 * flags.c: getopt_long driven by a flag table; see flags.h.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "util.h"

#ifndef WF_VERSION
#define WF_VERSION "unknown"
#endif

static const struct wf_flag builtin_flags[] = {
	{ "help", WF_FLAG_HELP, NULL, "show this help and exit", 0 },
	{ "version", WF_FLAG_VERSION, NULL, "print the version and exit", 0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static int usage_status = 2;
static void (*usage_hook)(const char *prog, const char *msg);
static const char *help_epilog;

void
wf_flags_set_usage(int status, void (*hook)(const char *prog, const char *msg))
{
	usage_status = status;
	usage_hook = hook;
}

void
wf_flags_set_epilog(const char *text)
{
	help_epilog = text;
}

static size_t
flag_count(const struct wf_flag *flags)
{
	size_t n = 0;

	while (flags != NULL && flags[n].name != NULL)
		n++;
	return n;
}

/* Print the program name: the first word of cmd->prog. */
static void
print_program(const struct wf_cmd *cmd, FILE *out)
{
	fprintf(out, "%.*s", (int)strcspn(cmd->prog, " "), cmd->prog);
}

void
wf_flags_begin(
    struct wf_flags *f, const struct wf_cmd *cmd, int argc, char **argv)
{
	memset(f, 0, sizeof *f);
	f->cmd = cmd;
	f->argc = argc;
	f->argv = argv;
	f->ind = argc;
	if (flag_count(cmd->flags) > WF_FLAGS_MAX) {
		/* A programming error in a static table, not a user error. */
		fprintf(stderr, "%s: more than %d flags\n", cmd->prog,
		    WF_FLAGS_MAX);
		abort();
	}
	/* glibc's documented way to make getopt start a fresh scan. */
	optind = 0;
	opterr = 0;
}

static const struct wf_flag *
find_flag(const struct wf_flags *f, int id, int *index)
{
	size_t i;

	for (i = 0; i < flag_count(f->cmd->flags); i++) {
		if (f->cmd->flags[i].id == id) {
			*index = (int)i;
			return &f->cmd->flags[i];
		}
	}
	*index = -1;
	for (i = 0; builtin_flags[i].name != NULL; i++) {
		if (builtin_flags[i].id == id)
			return &builtin_flags[i];
	}
	return NULL;
}

/* Build getopt_long's tables: "+" stops at a subcommand, ":" tells a missing argument apart. */
static void
build_options(
    const struct wf_flags *f, struct option *longopts, char *shortopts)
{
	const struct wf_flag *tables[2] = { f->cmd->flags, builtin_flags };
	size_t t, i, n = 0, s = 0;

	if (f->cmd->subcmds != NULL)
		shortopts[s++] = '+';
	shortopts[s++] = ':';
	for (t = 0; t < 2; t++) {
		for (i = 0; i < flag_count(tables[t]); i++) {
			const struct wf_flag *fl = &tables[t][i];

			longopts[n].name = fl->name;
			longopts[n].has_arg = fl->metavar != NULL ?
			    required_argument :
			    no_argument;
			longopts[n].flag = NULL;
			longopts[n].val = fl->id;
			n++;
			if (fl->id > ' ' && fl->id < 0x7f) {
				shortopts[s++] = (char)fl->id;
				if (fl->metavar != NULL)
					shortopts[s++] = ':';
			}
		}
	}
	memset(&longopts[n], 0, sizeof longopts[n]);
	shortopts[s] = '\0';
}

/* Name the flag with id optopt the way the user spelled it: -c or --name. */
static void
spelled_flag(const struct wf_flags *f, char *out, size_t size)
{
	const char *word = optind > 0 && optind <= f->argc ?
	    f->argv[optind - 1] :
	    "";
	const struct wf_flag *fl;
	int index;

	fl = find_flag(f, optopt, &index);
	if (fl != NULL && strncmp(word, "--", 2) == 0)
		snprintf(out, size, "--%s", fl->name);
	else if (optopt > ' ' && optopt < 0x7f)
		snprintf(out, size, "-%c", optopt);
	else
		snprintf(out, size, "%.*s", (int)strcspn(word, "="), word);
}

int
wf_flags_next(struct wf_flags *f, const char **arg)
{
	struct option longopts[WF_FLAGS_MAX + 3];
	char shortopts[3 * WF_FLAGS_MAX + 10], shown[64];
	const struct wf_flag *fl;
	int c, index;
	size_t i;

	build_options(f, longopts, shortopts);
	*arg = NULL;
	c = getopt_long(f->argc, f->argv, shortopts, longopts, NULL);
	switch (c) {
	case -1:
		f->ind = optind;
		for (i = 0; i < flag_count(f->cmd->flags); i++) {
			fl = &f->cmd->flags[i];
			if (fl->required && !(f->seen & (1u << i)))
				wf_flags_usage_error(f,
				    "missing required option"
				    " --%s",
				    fl->name);
		}
		return -1;
	case WF_FLAG_HELP:
		wf_flags_help(f->cmd, stdout);
		exit(0);
	case WF_FLAG_VERSION:
		print_program(f->cmd, stdout);
		printf(" %s\n", WF_VERSION);
		exit(0);
	case ':':
		spelled_flag(f, shown, sizeof shown);
		wf_flags_usage_error(
		    f, "option '%s' requires an argument", shown);
	case '?':
		/*
		 * glibc sets optopt to 0 for an unknown long option, to the
		 * letter for an unknown short one, and to the id of a known
		 * long option that was given "=value" but takes none.
		 */
		spelled_flag(f, shown, sizeof shown);
		if (optopt != 0 && find_flag(f, optopt, &index) != NULL)
			wf_flags_usage_error(f,
			    "option '%s' doesn't take an"
			    " argument",
			    shown);
		wf_flags_usage_error(f, "unknown option '%s'", shown);
	}
	if (find_flag(f, c, &index) != NULL && index >= 0)
		f->seen |= 1u << index;
	*arg = optarg;
	return c;
}

char **
wf_flags_args(struct wf_flags *f, int min, int max, int *n)
{
	int count = f->argc - f->ind;

	if (count < min)
		wf_flags_usage_error(f, "missing argument%s%s",
		    f->cmd->args != NULL ? ": expected " : "",
		    f->cmd->args != NULL ? f->cmd->args : "");
	if (max >= 0 && count > max)
		wf_flags_usage_error(
		    f, "unexpected argument '%s'", f->argv[f->ind + max]);
	*n = count;
	return f->argv + f->ind;
}

int
wf_flags_dispatch(struct wf_flags *f)
{
	const struct wf_subcmd *sub;
	const char *name;

	if (f->ind >= f->argc)
		wf_flags_usage_error(f, "missing command");
	name = f->argv[f->ind];
	for (sub = f->cmd->subcmds; sub != NULL && sub->name != NULL; sub++) {
		if (strcmp(sub->name, name) == 0)
			return sub->run(f->argc - f->ind, f->argv + f->ind);
	}
	wf_flags_usage_error(f, "unknown command '%s'", name);
}

static void
help_flags(const struct wf_flag *flags, int width, FILE *out)
{
	size_t i;

	for (i = 0; i < flag_count(flags); i++) {
		const struct wf_flag *fl = &flags[i];
		char left[96];

		snprintf(left, sizeof left, "--%s%s%s", fl->name,
		    fl->metavar != NULL ? " " : "",
		    fl->metavar != NULL ? fl->metavar : "");
		if (fl->id > ' ' && fl->id < 0x7f)
			fprintf(out, "  -%c, ", fl->id);
		else
			fprintf(out, "      ");
		fprintf(out, "%-*s  %s%s\n", width, left, fl->help,
		    fl->required ? " (required)" : "");
	}
}

static int
help_width(const struct wf_flag *flags, int width)
{
	size_t i;

	for (i = 0; i < flag_count(flags); i++) {
		int w = 2 + (int)strlen(flags[i].name) +
		    (flags[i].metavar ? 1 + (int)strlen(flags[i].metavar) : 0);

		if (w > width)
			width = w;
	}
	return width;
}

void
wf_flags_help(const struct wf_cmd *cmd, FILE *out)
{
	const struct wf_subcmd *sub;
	int width = help_width(builtin_flags, help_width(cmd->flags, 0));
	int subwidth = 0;

	fprintf(out, "Usage: %s [options]", cmd->prog);
	if (cmd->args != NULL)
		fprintf(out, " %s", cmd->args);
	else if (cmd->subcmds != NULL)
		fprintf(out, " COMMAND [options] [args]");
	fprintf(out, "\n\n%s\n\nOptions:\n", cmd->summary);
	help_flags(cmd->flags, width, out);
	help_flags(builtin_flags, width, out);
	if (cmd->subcmds == NULL) {
		if (help_epilog != NULL)
			fprintf(out, "\n%s", help_epilog);
		return;
	}
	for (sub = cmd->subcmds; sub->name != NULL; sub++) {
		if ((int)strlen(sub->name) > subwidth)
			subwidth = (int)strlen(sub->name);
	}
	fprintf(out, "\nCommands:\n");
	for (sub = cmd->subcmds; sub->name != NULL; sub++)
		fprintf(out, "  %-*s  %s\n", subwidth, sub->name, sub->summary);
	fprintf(out,
	    "\nRun '%s COMMAND --help' for the options of a command.\n",
	    cmd->prog);
	if (help_epilog != NULL)
		fprintf(out, "\n%s", help_epilog);
}

void
wf_flags_usage_error(const struct wf_flags *f, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n",
	    f->cmd->prog, msg, f->cmd->prog);
	if (usage_hook != NULL)
		usage_hook(f->cmd->prog, msg);
	exit(usage_status);
}

int
wf_flags_not_implemented(const struct wf_flags *f, const char *what)
{
	fprintf(stderr, "%s: not implemented yet: %s\n", f->cmd->prog, what);
	return 1;
}

int
wf_parse_int(const char *s, long long min, long long max, long long *out)
{
	long long v;
	char *end;

	/* strtoll would skip leading blanks and accept an empty string. */
	if (s == NULL ||
	    !((s[0] >= '0' && s[0] <= '9') ||
	        ((s[0] == '-' || s[0] == '+') && s[1] >= '0' && s[1] <= '9')))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
wf_flag_int(const char *name, const char *arg, long long min, long long max,
    long long *out, char **cause)
{
	if (wf_parse_int(arg, min, max, out) == 0)
		return 0;
	wf_set_cause(cause,
	    "invalid value '%s' for %s: expected an integer"
	    " from %lld to %lld",
	    arg, name, min, max);
	return -1;
}

long long
wf_flags_int(const struct wf_flags *f, const char *flag, const char *arg,
    long long min, long long max)
{
	char *cause = NULL;
	long long v;

	if (wf_flag_int(flag, arg, min, max, &v, &cause) == -1)
		wf_flags_usage_error(f, "%s", wf_cause_str(cause));
	return v;
}

int
wf_flag_choice(const char *name, const char *arg, const char *const choices[],
    char **cause)
{
	char list[256] = "";
	size_t len = 0;
	int i;

	for (i = 0; choices[i] != NULL; i++) {
		if (strcmp(arg, choices[i]) == 0)
			return i;
	}
	for (i = 0; choices[i] != NULL && len < sizeof list; i++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
		    i > 0 ? ", " : "", choices[i]);
	wf_set_cause(cause, "invalid value '%s' for %s: expected one of %s",
	    arg, name, list);
	return -1;
}

int
wf_flags_choice(const struct wf_flags *f, const char *flag, const char *arg,
    const char *const choices[])
{
	char *cause = NULL;
	int i;

	if ((i = wf_flag_choice(flag, arg, choices, &cause)) == -1)
		wf_flags_usage_error(f, "%s", wf_cause_str(cause));
	return i;
}

const struct wf_flag *
wf_flags_find(const struct wf_cmd *cmd, int id)
{
	size_t i;

	for (i = 0; i < flag_count(cmd->flags); i++) {
		if (cmd->flags[i].id == id)
			return &cmd->flags[i];
	}
	return NULL;
}

int
wf_flags_run(const struct wf_cmd *cmd, int argc, char **argv)
{
	struct wf_flags f;
	const char *arg;

	wf_flags_begin(&f, cmd, argc, argv);
	while (wf_flags_next(&f, &arg) != -1)
		;
	return wf_flags_dispatch(&f);
}
