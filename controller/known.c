/*
 * known.c: known issues' log regexes against guest logs, bounded (see
 * known.h).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "known.h"
#include "util.h"

/* The compile context every pattern gets: no UTF, no \C surprises. */
static pcre2_code *
compile(const char *pattern, char **cause)
{
	PCRE2_SIZE off = 0;
	PCRE2_UCHAR msg[200];
	pcre2_code *re;
	int err = 0;

	if (strlen(pattern) > KNOWN_REGEX_MAX) {
		wf_set_cause(cause, "longer than %d bytes", KNOWN_REGEX_MAX);
		return NULL;
	}
	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C, &err,
	    &off, NULL);
	if (re == NULL) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		wf_set_cause(
		    cause, "%s at offset %zu", (const char *)msg, (size_t)off);
	}
	return re;
}

int
known_regex_check(const char *pattern, char **cause)
{
	pcre2_code *re = compile(pattern, cause);

	if (re == NULL)
		return -1;
	pcre2_code_free(re);
	return 0;
}

struct matcher {
	pcre2_code *re;
	pcre2_match_data *md;
	pcre2_match_context *mc;
	int64_t deadline_ms;
	struct known_stats *st;
};

/* {"port", "line_no", "line"} for the line shown (new). */
static json_t *
found_line(int port, int line_no, const char *p, size_t len)
{
	char *text;
	json_t *j;

	if (len > 0 && p[len - 1] == '\r')
		len--;
	if ((text = wf_text_clean(p, len, KNOWN_LINE_SHOWN, NULL)) == NULL)
		return NULL;
	j = json_pack(
	    "{s:i, s:i, s:s}", "port", port, "line_no", line_no, "line", text);
	free(text);
	return j;
}

/*
 * The first line of log that m's pattern matches: 1 (*found set), 0 none,
 * -1 out of time or memory.
 */
static int
match_log(
    struct matcher *m, int port, const char *log, size_t len, json_t **found)
{
	const char *p = log, *end = log + len, *nl;
	int line_no, rc;

	for (line_no = 1; p < end; line_no++) {
		if (wf_now_ms() > m->deadline_ms) {
			m->st->out_of_time = 1;
			return -1;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		rc = pcre2_match(
		    m->re, (PCRE2_SPTR)p, (size_t)(nl - p), 0, 0, m->md, m->mc);
		if (rc >= 0) {
			*found = found_line(port, line_no, p, (size_t)(nl - p));
			return *found != NULL ? 1 : -1;
		}
		if (rc != PCRE2_ERROR_NOMATCH)
			m->st
			    ->limited++; /* a limit: this line does not match */
		p = nl + 1;
	}
	return 0;
}

/* One issue's result: a line object, json_null(), or NULL (time, memory). */
static json_t *
match_issue(struct matcher *m, const char *pattern, const char *const logs[2],
    const size_t lens[2])
{
	json_t *found = NULL;
	int port, rc = 0;

	if ((m->re = compile(pattern, NULL)) == NULL)
		return json_null(); /* checked when stored: never matches */
	if ((m->md = pcre2_match_data_create_from_pattern(m->re, NULL)) ==
	    NULL) {
		pcre2_code_free(m->re);
		return NULL;
	}
	for (port = 0; port < 2 && rc == 0; port++)
		if (logs[port] != NULL)
			rc = match_log(m, port, logs[port], lens[port], &found);
	pcre2_match_data_free(m->md);
	pcre2_code_free(m->re);
	if (rc < 0)
		return NULL;
	return rc == 1 ? found : json_null();
}

json_t *
known_match_logs(const json_t *issues, const char *const logs[2],
    const size_t lens[2], int64_t deadline_ms, struct known_stats *stats)
{
	struct known_stats local = { 0 };
	struct matcher m = { .deadline_ms = deadline_ms,
		.st = stats != NULL ? stats : &local };
	json_t *out = json_object(), *issue, *res;
	const char *rx;
	char key[32];
	size_t i;

	memset(m.st, 0, sizeof(*m.st));
	if (out == NULL || (m.mc = pcre2_match_context_create(NULL)) == NULL) {
		json_decref(out);
		return NULL;
	}
	pcre2_set_match_limit(m.mc, KNOWN_MATCH_LIMIT);
	pcre2_set_depth_limit(m.mc, KNOWN_DEPTH_LIMIT);
	pcre2_set_heap_limit(m.mc, KNOWN_HEAP_LIMIT);
	json_array_foreach (issues, i, issue) {
		rx = json_string_value(json_object_get(issue, "log_regex"));
		if (rx == NULL || rx[0] == '\0')
			continue;
		snprintf(key, sizeof(key), "%lld",
		    (long long)json_integer_value(
		        json_object_get(issue, "id")));
		if (m.st->out_of_time) {
			json_object_set_new(out, key, json_null());
			continue;
		}
		res = match_issue(&m, rx, logs, lens);
		if (res == NULL && !m.st->out_of_time) {
			json_decref(out);
			out = NULL;
			break;
		}
		json_object_set_new(out, key, res != NULL ? res : json_null());
	}
	pcre2_match_context_free(m.mc);
	return out;
}
