/*
 * test_config.c: unit tests for lib/config: the KEY = VALUE format and
 * every way a file can be wrong (with FILE:LINE), applying values through
 * a setter like main's, loading from disk, and the secret-file rules for
 * tokens and keys.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "test.h"
#include "util.h"

enum {
	OPT_LISTEN = WF_FLAG_LONG,
	OPT_DB,
	OPT_SLOTS,
	OPT_READ_TOKEN,
	OPT_CONFIG,
};

static const struct wf_flag flags[] = {
	{ "config", OPT_CONFIG, "FILE", "settings file", 0 },
	{ "listen", OPT_LISTEN, "ADDR:PORT", "where", 0 },
	{ "db", OPT_DB, "FILE", "database", 0 },
	{ "slots", OPT_SLOTS, "N", "guests", 0 },
	{ "read-token-required", OPT_READ_TOKEN, NULL, "reads need a token",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

/* Parse text; returns the cause (or "" on success, NULL when it is not). */
static char *
parse(struct wf_config *c, const char *text)
{
	char *cause = NULL;

	if (wf_config_parse(c, "t.conf", text, strlen(text), flags, &cause) ==
	    0)
		return strdup("");
	return cause;
}

/* The cause of a text that must fail, with its config freed. */
static char *
parse_error(const char *text)
{
	struct wf_config c;
	char *cause = parse(&c, text);

	wf_config_free(&c);
	return cause;
}

#define CHECK_ERROR(text, want)                    \
	do {                                       \
		char *test_e_ = parse_error(text); \
		CHECK_STR_EQ(test_e_, want);       \
		free(test_e_);                     \
	} while (0)

TEST(parses_keys_comments_and_blanks)
{
	struct wf_config c;
	char *cause;

	cause = parse(&c,
	    "# the lab\n\n  listen =  10.0.0.1:8443  \n"
	    "\tdb=/var/lib/w.db\r\n   # indented comment\n"
	    "slots = 4 # not a comment\nread-token-required = true");
	CHECK_STR_EQ(cause, "");
	CHECK_EQ_INT(c.n, 4);
	CHECK_STR_EQ(wf_config_get(&c, "listen"), "10.0.0.1:8443");
	CHECK_STR_EQ(wf_config_get(&c, "db"), "/var/lib/w.db");
	CHECK_STR_EQ(wf_config_get(&c, "slots"), "4 # not a comment");
	CHECK_STR_EQ(wf_config_get(&c, "read-token-required"), "true");
	CHECK(wf_config_get(&c, "config") == NULL);
	CHECK_EQ_INT(c.items[0].line, 3);
	CHECK_EQ_INT(c.items[1].line, 4);
	CHECK_EQ_INT(c.items[3].line, 7);
	CHECK_EQ_INT(c.mode, 0);
	free(cause);
	wf_config_free(&c);
}

TEST(a_value_may_hold_equals_signs)
{
	struct wf_config c;
	char *cause = parse(&c, "db = /srv/a=b.db\n");

	CHECK_STR_EQ(cause, "");
	CHECK_STR_EQ(wf_config_get(&c, "db"), "/srv/a=b.db");
	free(cause);
	wf_config_free(&c);
}

TEST(empty_file_is_fine)
{
	struct wf_config c;
	char *cause = parse(&c, "");

	CHECK_STR_EQ(cause, "");
	CHECK_EQ_INT(c.n, 0);
	free(cause);
	wf_config_free(&c);
	wf_config_free(NULL);
}

TEST(errors_name_file_and_line)
{
	CHECK_ERROR(
	    "listen = a:1\nlisten2 = x\n", "t.conf:2: unknown key 'listen2'");
	CHECK_ERROR("--db = x\n",
	    "t.conf:1: unknown key '--db' (keys are"
	    " flag names without the leading --)");
	CHECK_ERROR("\n\ndb /x\n",
	    "t.conf:3: expected KEY = VALUE, got"
	    " 'db /x'");
	CHECK_ERROR(" = x\n", "t.conf:1: expected KEY = VALUE, got no key");
	CHECK_ERROR("db =   \n", "t.conf:1: 'db' needs a value (FILE)");
	CHECK_ERROR("db = a\n# again\ndb = b\n",
	    "t.conf:3: 'db' given twice"
	    " (first on line 1)");
	CHECK_ERROR("read-token-required = yes\n",
	    "t.conf:1:"
	    " 'read-token-required' is a switch: expected true or false, not"
	    " 'yes'");
	CHECK_ERROR("config = other.conf\n",
	    "t.conf:1: 'config' cannot be set"
	    " in a config file");
	CHECK_ERROR("help = true\n", "t.conf:1: unknown key 'help'");
	CHECK_ERROR("Listen = x\n", "t.conf:1: unknown key 'Listen'");
}

TEST(control_characters_are_refused)
{
	struct wf_config c;
	char *cause = NULL;

	CHECK_ERROR("db = a\x1b[2Jb\n",
	    "t.conf:1: control character 0x1b in"
	    " the line");
	CHECK_ERROR("db = a\rb\n",
	    "t.conf:1: control character 0x0d in the"
	    " line");
	CHECK_EQ_INT(
	    wf_config_parse(&c, "t.conf", "db = a\0b\n", 9, flags, &cause), -1);
	CHECK_STR_EQ(cause, "t.conf:1: control character 0x00 in the line");
	free(cause);
	wf_config_free(&c);
}

TEST(line_and_file_limits)
{
	char line[WF_CONFIG_LINE_MAX + 2], *big, *cause;
	struct wf_config c;
	size_t n;

	/* Exactly the limit is fine, one byte more is not. */
	memset(line, ' ', sizeof line);
	memcpy(line, "db = x", 6);
	line[WF_CONFIG_LINE_MAX] = '\0';
	cause = parse(&c, line);
	CHECK_STR_EQ(cause, "");
	free(cause);
	wf_config_free(&c);
	line[WF_CONFIG_LINE_MAX] = 'y';
	line[WF_CONFIG_LINE_MAX + 1] = '\0';
	CHECK_ERROR(line, "t.conf:1: line longer than 1024 bytes");

	n = WF_CONFIG_FILE_MAX + 1;
	REQUIRE((big = malloc(n + 1)) != NULL);
	memset(big, '\n', n);
	big[n] = '\0';
	CHECK_ERROR(big, "t.conf: larger than 65536 bytes");
	free(big);
}

struct seen {
	char log[512];
};

static int
setter(void *arg, int id, const char *name, const char *value, char **cause)
{
	struct seen *s = arg;
	size_t len = strlen(s->log);

	if (id == OPT_SLOTS && strcmp(value, "4") != 0) {
		wf_set_cause(cause, "invalid value '%s' for %s", value, name);
		return -1;
	}
	snprintf(s->log + len, sizeof s->log - len, "%d:%s=%s;",
	    id - WF_FLAG_LONG, name, value != NULL ? value : "(switch)");
	return 0;
}

TEST(apply_hands_items_over_in_order)
{
	struct seen s = { "" };
	struct wf_config c;
	char *cause = parse(&c,
	    "slots = 4\nread-token-required = true\n"
	    "db = x\n");

	CHECK_EQ_INT(wf_config_apply(&c, setter, &s, &cause), 0);
	CHECK_STR_EQ(s.log, "2:slots=4;3:read-token-required=(switch);1:db=x;");
	free(cause);
	wf_config_free(&c);

	/* false is the default: nothing to hand over */
	s.log[0] = '\0';
	cause = parse(&c, "read-token-required = false\n");
	CHECK_EQ_INT(wf_config_apply(&c, setter, &s, &cause), 0);
	CHECK_STR_EQ(s.log, "");
	free(cause);
	wf_config_free(&c);
}

TEST(apply_reports_bad_values_with_the_line)
{
	struct seen s = { "" };
	struct wf_config c;
	char *cause = parse(&c, "db = x\n\nslots = many\n");

	free(cause);
	cause = NULL;
	CHECK_EQ_INT(wf_config_apply(&c, setter, &s, &cause), -1);
	CHECK_STR_EQ(cause, "t.conf:3: invalid value 'many' for slots");
	free(cause);
	wf_config_free(&c);
}

/* A file in a fresh temporary directory, with this mode; its path. */
static char dir[64];

static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	int fd;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "/tmp/wf-test-config-XXXXXX");
		if (mkdtemp(dir) == NULL)
			return NULL;
	}
	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchmod(fd, mode) == -1) {
		close(fd);
		return NULL;
	}
	close(fd);
	return path;
}

TEST(load_reads_the_file_and_its_mode)
{
	struct wf_config c;
	const char *path = write_file("a.conf", "db = /x\n", 0644);
	char *cause = NULL, want[256];

	REQUIRE(path != NULL);
	CHECK_EQ_INT(wf_config_load(&c, path, flags, &cause), 0);
	CHECK_STR_EQ(wf_config_get(&c, "db"), "/x");
	CHECK_EQ_INT(c.mode & 07777, 0644);
	CHECK_STR_EQ(c.path, path);
	wf_config_free(&c);

	path = write_file("b.conf", "db = /x\nbad\n", 0600);
	REQUIRE(path != NULL);
	CHECK_EQ_INT(wf_config_load(&c, path, flags, &cause), -1);
	snprintf(
	    want, sizeof want, "%s:2: expected KEY = VALUE, got 'bad'", path);
	CHECK_STR_EQ(cause, want);
	free(cause);
	cause = NULL;
	wf_config_free(&c);

	CHECK_EQ_INT(
	    wf_config_load(&c, "/nonexistent/w.conf", flags, &cause), -1);
	CHECK_STR_EQ(cause, "/nonexistent/w.conf: No such file or directory");
	free(cause);
	cause = NULL;
	CHECK_EQ_INT(wf_config_load(&c, dir, flags, &cause), -1);
	CHECK_STR_CONTAINS(cause, "not a regular file");
	free(cause);
}

TEST(token_file_must_be_private)
{
	const char *path;
	char *cause = NULL, *t;

	REQUIRE((path = write_file("tok", "s3cret-1\n", 0600)) != NULL);
	t = wf_token_file_read(path, &cause);
	CHECK_STR_EQ(t, "s3cret-1");
	free(t);
	REQUIRE((path = write_file("tok", "s3cret-1\r\n", 0400)) != NULL);
	t = wf_token_file_read(path, &cause);
	CHECK_STR_EQ(t, "s3cret-1");
	free(t);
	REQUIRE((path = write_file("tok", "s3cret-1", 0600)) != NULL);
	t = wf_token_file_read(path, &cause);
	CHECK_STR_EQ(t, "s3cret-1");
	free(t);

	REQUIRE((path = write_file("tok", "s3cret-1\n", 0640)) != NULL);
	CHECK(wf_token_file_read(path, &cause) == NULL);
	CHECK_STR_CONTAINS(cause,
	    "group or others may access it (mode 0640);"
	    " make it private: chmod 600");
	REQUIRE((path = write_file("tok", "s3cret-1\n", 0604)) != NULL);
	CHECK(wf_token_file_read(path, &cause) == NULL);
	CHECK_STR_CONTAINS(cause, "(mode 0604)");
	REQUIRE((path = write_file("tok", "s3cret-1\n", 0610)) != NULL);
	CHECK(wf_token_file_read(path, &cause) == NULL);
	CHECK_STR_CONTAINS(cause, "(mode 0610)");
	free(cause);
}

TEST(token_file_holds_one_token)
{
	const char *path;
	char *cause = NULL;

	REQUIRE((path = write_file("tok", "\n", 0600)) != NULL);
	CHECK(wf_token_file_read(path, &cause) == NULL);
	CHECK_STR_CONTAINS(cause, "empty: expected the token on one line");
	REQUIRE((path = write_file("tok", "a\nb\n", 0600)) != NULL);
	CHECK(wf_token_file_read(path, &cause) == NULL);
	CHECK_STR_CONTAINS(cause, "more than one line");
	REQUIRE((path = write_file("tok", "two words\n", 0600)) != NULL);
	CHECK(wf_token_file_read(path, &cause) == NULL);
	CHECK_STR_CONTAINS(cause, "holds a blank");
	REQUIRE((path = write_file("tok", "t\xc3\xa9\n", 0600)) != NULL);
	CHECK(wf_token_file_read(path, &cause) == NULL);
	CHECK_STR_CONTAINS(cause, "non-ASCII");
	CHECK(wf_token_file_read("/nonexistent/tok", &cause) == NULL);
	CHECK_STR_EQ(cause, "/nonexistent/tok: No such file or directory");
	CHECK(wf_token_file_read(dir, &cause) == NULL);
	CHECK_STR_CONTAINS(cause, "not a regular file");
	free(cause);
}

TEST(secret_file_size_cap)
{
	const char *path;
	char *cause = NULL, *data;
	size_t len = 0;

	REQUIRE((path = write_file("key", "0123456789", 0600)) != NULL);
	data = wf_secret_file_read(path, 10, &len, &cause);
	CHECK_STR_EQ(data, "0123456789");
	CHECK_EQ_INT(len, 10);
	free(data);
	CHECK(wf_secret_file_read(path, 9, &len, &cause) == NULL);
	CHECK_STR_CONTAINS(cause, "larger than 9 bytes");
	free(cause);
}

TEST(cleanup)
{
	char path[128];

	snprintf(path, sizeof path, "%s/a.conf", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/b.conf", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/tok", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/key", dir);
	unlink(path);
	CHECK_EQ_INT(rmdir(dir), 0);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
