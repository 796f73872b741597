/*
 * config.c: configuration files and secret files; see config.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static size_t
table_size(const struct wf_flag *flags)
{
	size_t n = 0;

	while (flags != NULL && flags[n].name != NULL)
		n++;
	return n;
}

static const struct wf_flag *
table_find(const struct wf_flag *flags, const char *key, size_t keylen)
{
	size_t i;

	for (i = 0; i < table_size(flags); i++) {
		if (strlen(flags[i].name) == keylen &&
		    memcmp(flags[i].name, key, keylen) == 0)
			return &flags[i];
	}
	return NULL;
}

void
wf_config_free(struct wf_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->items[i].value);
	free(c->items);
	free(c->path);
	memset(c, 0, sizeof *c);
}

/* The first byte of line that may not be in a file, or -1. */
static int
bad_byte(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char b = (unsigned char)line[i];

		if ((b < 0x20 && b != '\t') || b == 0x7f)
			return b;
	}
	return -1;
}

/*
 * One line (without its newline): 0 and maybe an item in c, or -1 with a
 * cause (without the PATH:LINE: prefix, added by the caller).
 */
static int
parse_line(struct wf_config *c, const struct wf_flag *flags, const char *line,
    size_t len, int lineno, char **cause)
{
	const struct wf_flag *fl;
	const char *eq, *key, *val;
	size_t klen, vlen, i;
	int b;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if ((b = bad_byte(line, len)) != -1) {
		wf_set_cause(cause, "control character 0x%02x in the line", b);
		return -1;
	}
	while (len > 0 && is_blank(*line)) {
		line++;
		len--;
	}
	while (len > 0 && is_blank(line[len - 1]))
		len--;
	if (len == 0 || line[0] == '#')
		return 0;
	if ((eq = memchr(line, '=', len)) == NULL) {
		wf_set_cause(cause, "expected KEY = VALUE, got '%.*s'",
		    (int)(len < 64 ? len : 64), line);
		return -1;
	}
	key = line;
	klen = (size_t)(eq - line);
	while (klen > 0 && is_blank(key[klen - 1]))
		klen--;
	val = eq + 1;
	vlen = len - (size_t)(val - line);
	while (vlen > 0 && is_blank(*val)) {
		val++;
		vlen--;
	}
	if (klen == 0) {
		wf_set_cause(cause, "expected KEY = VALUE, got no key");
		return -1;
	}
	if (klen == 6 && memcmp(key, "config", 6) == 0) {
		wf_set_cause(cause, "'config' cannot be set in a config file");
		return -1;
	}
	if ((fl = table_find(flags, key, klen)) == NULL) {
		wf_set_cause(cause, "unknown key '%.*s'%s",
		    (int)(klen < 64 ? klen : 64), key,
		    klen > 2 && key[0] == '-' && key[1] == '-' ?
		        " (keys are flag names without the leading --)" :
		        "");
		return -1;
	}
	for (i = 0; i < c->n; i++) {
		if (c->items[i].flag == fl) {
			wf_set_cause(cause,
			    "'%s' given twice (first on line"
			    " %d)",
			    fl->name, c->items[i].line);
			return -1;
		}
	}
	if (fl->metavar == NULL &&
	    !(vlen == 4 && memcmp(val, "true", 4) == 0) &&
	    !(vlen == 5 && memcmp(val, "false", 5) == 0)) {
		wf_set_cause(cause,
		    "'%s' is a switch: expected true or false,"
		    " not '%.*s'",
		    fl->name, (int)(vlen < 64 ? vlen : 64), val);
		return -1;
	}
	if (vlen == 0) {
		wf_set_cause(
		    cause, "'%s' needs a value (%s)", fl->name, fl->metavar);
		return -1;
	}
	if ((c->items[c->n].value = strndup(val, vlen)) == NULL) {
		wf_set_cause(cause, "out of memory");
		return -1;
	}
	c->items[c->n].flag = fl;
	c->items[c->n].line = lineno;
	c->n++;
	return 0;
}

int
wf_config_parse(struct wf_config *c, const char *path, const char *text,
    size_t len, const struct wf_flag *flags, char **cause)
{
	const char *p = text, *end = text + len, *nl;
	char *why = NULL;
	size_t linelen;
	int lineno = 0;

	memset(c, 0, sizeof *c);
	if ((c->path = strdup(path)) == NULL ||
	    (c->items = calloc(table_size(flags) + 1, sizeof *c->items)) ==
	        NULL) {
		wf_set_cause(cause, "out of memory");
		goto fail;
	}
	if (len > WF_CONFIG_FILE_MAX) {
		wf_set_cause(cause, "%s: larger than %d bytes", path,
		    WF_CONFIG_FILE_MAX);
		goto fail;
	}
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		linelen = (size_t)((nl != NULL ? nl : end) - p);
		if (linelen > WF_CONFIG_LINE_MAX) {
			wf_set_cause(cause, "%s:%d: line longer than %d bytes",
			    path, lineno, WF_CONFIG_LINE_MAX);
			goto fail;
		}
		if (parse_line(c, flags, p, linelen, lineno, &why) == -1) {
			wf_set_cause(cause, "%s:%d: %s", path, lineno,
			    wf_cause_str(why));
			goto fail;
		}
		p += linelen + (nl != NULL);
	}
	return 0;
fail:
	free(why);
	wf_config_free(c);
	return -1;
}

/* Read at most max bytes of fd into a NUL-terminated buffer; NULL, errno set. */
static char *
read_fd(int fd, size_t max, size_t *len)
{
	char *buf;
	size_t got = 0;
	ssize_t n;

	if ((buf = malloc(max + 2)) == NULL)
		return NULL;
	/* One byte more than allowed tells "too big" apart from "just fits". */
	while (got < max + 1 && (n = read(fd, buf + got, max + 1 - got)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(buf);
			return NULL;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* PATH opened for reading, and its status: a regular file or -1 with a cause. */
static int
open_regular(const char *path, struct stat *st, char **cause)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, st) == -1) {
		wf_set_cause(cause, "%s: %s", path, strerror(errno));
	} else if (!S_ISREG(st->st_mode)) {
		wf_set_cause(cause, "%s: not a regular file", path);
	} else {
		return fd;
	}
	if (fd != -1)
		close(fd);
	return -1;
}

char *
wf_file_read(const char *path, size_t max, size_t *lenp, char **cause)
{
	struct stat st;
	char *text;
	size_t len = 0;
	int fd;

	if ((fd = open_regular(path, &st, cause)) == -1)
		return NULL;
	if ((text = read_fd(fd, max, &len)) == NULL)
		wf_set_cause(cause, "%s: %s", path, strerror(errno));
	else if (len > max) {
		wf_set_cause(cause, "%s: larger than %zu bytes", path, max);
		free(text);
		text = NULL;
	}
	close(fd);
	if (text != NULL && lenp != NULL)
		*lenp = len;
	return text;
}

int
wf_config_load(struct wf_config *c, const char *path,
    const struct wf_flag *flags, char **cause)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, rc = -1;

	memset(c, 0, sizeof *c);
	if ((fd = open_regular(path, &st, cause)) == -1)
		goto out;
	if ((text = read_fd(fd, WF_CONFIG_FILE_MAX, &len)) == NULL) {
		wf_set_cause(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((rc = wf_config_parse(c, path, text, len, flags, cause)) == 0)
		c->mode = st.st_mode;
out:
	free(text);
	if (fd != -1)
		close(fd);
	return rc;
}

const char *
wf_config_get(const struct wf_config *c, const char *key)
{
	size_t i;

	for (i = 0; c != NULL && i < c->n; i++) {
		if (strcmp(c->items[i].flag->name, key) == 0)
			return c->items[i].value;
	}
	return NULL;
}

int
wf_config_apply(
    const struct wf_config *c, wf_config_set_fn set, void *arg, char **cause)
{
	const struct wf_config_item *it;
	char *why = NULL;
	size_t i;

	for (i = 0; i < c->n; i++) {
		it = &c->items[i];
		if (it->flag->metavar == NULL &&
		    strcmp(it->value, "false") == 0)
			continue;
		if (set(arg, it->flag->id, it->flag->name,
		        it->flag->metavar != NULL ? it->value : NULL,
		        &why) == -1) {
			wf_set_cause(cause, "%s:%d: %s", c->path, it->line,
			    wf_cause_str(why));
			free(why);
			return -1;
		}
	}
	return 0;
}

char *
wf_secret_file_read(const char *path, size_t max, size_t *len, char **cause)
{
	struct stat st;
	char *data = NULL;
	int fd;

	if ((fd = open_regular(path, &st, cause)) == -1)
		goto out;
	/* Checked on the open file: a chmod after the check changes nothing. */
	if ((st.st_mode & 077) != 0) {
		wf_set_cause(cause,
		    "%s: holds a secret but group or others may"
		    " access it (mode %04o); make it private: chmod 600 %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if ((data = read_fd(fd, max, len)) == NULL) {
		wf_set_cause(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (*len > max) {
		wf_set_cause(cause, "%s: larger than %zu bytes", path, max);
		explicit_bzero(data, *len);
		free(data);
		data = NULL;
	}
out:
	if (fd != -1)
		close(fd);
	return data;
}

char *
wf_token_file_read(const char *path, char **cause)
{
	char *data, *token = NULL;
	size_t len = 0, i;

	if ((data = wf_secret_file_read(path, 4096, &len, cause)) == NULL)
		return NULL;
	if (len > 0 && data[len - 1] == '\n')
		data[--len] = '\0';
	if (len > 0 && data[len - 1] == '\r')
		data[--len] = '\0';
	if (len == 0) {
		wf_set_cause(
		    cause, "%s: empty: expected the token on one line", path);
		goto out;
	}
	if (memchr(data, '\n', len) != NULL) {
		wf_set_cause(cause,
		    "%s: more than one line: expected just the"
		    " token",
		    path);
		goto out;
	}
	for (i = 0; i < len; i++) {
		if (data[i] <= ' ' || data[i] >= 0x7f) {
			wf_set_cause(cause,
			    "%s: the token holds a blank, a"
			    " control character or a non-ASCII byte",
			    path);
			goto out;
		}
	}
	if ((token = strdup(data)) == NULL)
		wf_set_cause(cause, "out of memory");
out:
	explicit_bzero(data, len);
	free(data);
	return token;
}

int
wf_settings_file(const struct wf_settings *s, const char *path,
    struct wf_config *conf, void *arg, char **cause)
{
	if (wf_config_load(conf, path, s->cmd->flags, cause) == -1)
		return -1;
	if (s->check != NULL && s->check(conf, arg, cause) == -1)
		return -1;
	return wf_config_apply(conf, s->set, arg, cause);
}

const char *
wf_settings_parse(const struct wf_settings *s, struct wf_flags *f, int argc,
    char **argv, struct wf_config *conf, void *arg)
{
	const struct wf_flag *fl;
	const char *opt, *path = NULL;
	char name[64], *cause = NULL;
	int id, n;

	wf_flags_begin(f, s->cmd, argc, argv);
	while ((id = wf_flags_next(f, &opt)) != -1) {
		if (id == s->config_id)
			path = opt;
	}
	wf_flags_args(f, 0, 0, &n);
	if (path != NULL &&
	    wf_settings_file(s, path, conf, arg, &cause) == -1) {
		fprintf(stderr, "%s: %s\n", s->cmd->prog, wf_cause_str(cause));
		exit(2);
	}
	wf_flags_begin(f, s->cmd, argc, argv);
	while ((id = wf_flags_next(f, &opt)) != -1) {
		if (id == s->config_id ||
		    (fl = wf_flags_find(s->cmd, id)) == NULL)
			continue;
		snprintf(name, sizeof(name), "--%s", fl->name);
		if (s->set(arg, id, name, opt, &cause) == -1)
			wf_flags_usage_error(f, "%s", wf_cause_str(cause));
		if (s->flag_seen != NULL)
			s->flag_seen(arg, id);
	}
	return path;
}

void
wf_settings_changed(const struct wf_settings *s, const struct wf_config *was,
    const struct wf_config *now, const char *const live[], const char *what)
{
	const struct wf_flag *fl;
	const char *a, *b;
	int j;

	for (fl = s->cmd->flags; fl->name != NULL; fl++) {
		a = wf_config_get(was, fl->name);
		b = wf_config_get(now, fl->name);
		for (j = 0; live[j] != NULL && strcmp(live[j], fl->name) != 0;
		     j++)
			;
		if (live[j] != NULL || (a == NULL && b == NULL) ||
		    (a != NULL && b != NULL && strcmp(a, b) == 0))
			continue;
		log_warnx("SIGHUP: %s changed in %s: restart %s to apply it",
		    fl->name, now->path, what);
	}
}
