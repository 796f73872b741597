/*
 * config.h: the configuration file of a long-running process (controller,
 * agent), and files that hold secrets (tokens, TLS keys).
 *
 * One setting a line, keys being the long names of the command's flags:
 *
 *	# the controller of the lab
 *	listen = 192.0.2.1:8443
 *	read-token-required = true
 *
 * Blanks around the key and the value are dropped; a line whose first
 * non-blank is '#' is a comment, and so is an empty line. There is no
 * quoting, no inline comment (a '#' after '=' is part of the value), no
 * continuation and no section. A flag with an argument needs a non-empty
 * value; a switch takes "true" or "false". A key may appear once; "config"
 * is never a key. Lines are at most WF_CONFIG_LINE_MAX bytes, the file
 * WF_CONFIG_FILE_MAX; control characters other than tab (and a CR before
 * the newline) are refused. Every error names FILE:LINE.
 *
 * The parser knows nothing of values: the caller checks them with the same
 * code as its command line (wf_config_apply), so a bad value is reported
 * as FILE:LINE too.
 */
#ifndef WF_CONFIG_H
#define WF_CONFIG_H

#include <stddef.h>
#include <sys/types.h>

#include "flags.h"

#define WF_CONFIG_LINE_MAX 1024
#define WF_CONFIG_FILE_MAX (64 * 1024)
/* A secret (token) file: one line; a TLS private key: a PEM file. */
#define WF_SECRET_MAX (64 * 1024)

struct wf_config_item {
	const struct wf_flag *flag; /* in the table given to the parser */
	char *value; /* "true"/"false" for a switch */
	int line;
};

struct wf_config {
	char *path; /* as given, for messages */
	mode_t mode; /* of the file (0 when parsed from memory) */
	struct wf_config_item *items; /* in file order */
	size_t n;
};

/*
 * Parse len bytes of text (path names it in messages) against the flag
 * table flags. 0, or -1 with a cause "PATH:LINE: ..." and *c empty.
 * Free *c with wf_config_free in both cases.
 */
int wf_config_parse(struct wf_config *c, const char *path, const char *text,
    size_t len, const struct wf_flag *flags, char **cause);
/* Read the file at path and parse it; also records its mode. */
int wf_config_load(struct wf_config *c, const char *path,
    const struct wf_flag *flags, char **cause);
void wf_config_free(struct wf_config *c);

/* The value of key, or NULL when the file does not set it. */
const char *wf_config_get(const struct wf_config *c, const char *key);

/*
 * Hand every item to set(arg, flag id, key, value): value NULL for a switch
 * set to true; a switch set to false is skipped (every switch is off by
 * default). The first failure comes back as -1 with "PATH:LINE: cause".
 */
typedef int (*wf_config_set_fn)(
    void *arg, int id, const char *name, const char *value, char **cause);
int wf_config_apply(
    const struct wf_config *c, wf_config_set_fn set, void *arg, char **cause);

/*
 * Settings from a --config file and the command line, for a daemon whose
 * flags are also its file's keys: the file first, then every flag over it,
 * both through one setter, so a value is checked by the same code from
 * either source.
 */
struct wf_settings {
	const struct wf_cmd *cmd; /* its flags are the file's keys */
	int config_id; /* the id of its --config flag */
	wf_config_set_fn set; /* one setting, from either source */
	/* file-only checks between parsing and applying (NULL: none) */
	int (*check)(const struct wf_config *c, void *arg, char **cause);
	/* called for each flag applied from the command line (NULL: none) */
	void (*flag_seen)(void *arg, int id);
};

/* The file at path into conf, checked, then applied to arg through s->set;
 * 0, or -1 with a cause "PATH:LINE: ...". Free conf in both cases. */
int wf_settings_file(const struct wf_settings *s, const char *path,
    struct wf_config *conf, void *arg, char **cause);
/*
 * The command line of s->cmd into arg: the --config file (kept in conf;
 * an error exits 2 with "PROG: PATH:LINE: why"), then the flags (an error
 * is a usage error, exit 2). f is left for the caller's own checks
 * (wf_flags_usage_error). Returns the config file's path, or NULL.
 */
const char *wf_settings_parse(const struct wf_settings *s, struct wf_flags *f,
    int argc, char **argv, struct wf_config *conf, void *arg);
/*
 * For a reload: logs a warning naming each key whose value differs between
 * was and now, but those in live (NULL-terminated), as needing a restart of
 * what ("the agent").
 */
void
wf_settings_changed(const struct wf_settings *s, const struct wf_config *was,
    const struct wf_config *now, const char *const live[], const char *what);

/*
 * Read a whole regular file of at most max bytes (NUL-terminated; *len
 * bytes when len is not NULL). NULL with a cause "PATH: why".
 */
char *wf_file_read(const char *path, size_t max, size_t *len, char **cause);

/*
 * Read a file that holds a secret: a regular file of at most max bytes that
 * neither group nor others may read, write or run (mode 0600 or stricter);
 * anything else is refused with a cause saying so. Returns the contents
 * (NUL-terminated, *len bytes) or NULL. The caller frees it, after wiping
 * it with explicit_bzero when it matters.
 */
char *
wf_secret_file_read(const char *path, size_t max, size_t *len, char **cause);
/*
 * A token file: wf_secret_file_read, then exactly one line (its newline
 * optional) of printable ASCII without blanks, the only form a bearer
 * token can take. The token (malloc'd) or NULL with a cause.
 */
char *wf_token_file_read(const char *path, char **cause);

#endif
