/*
 * json.h: strict handling of JSON that comes from outside (API bodies,
 * scenario files, agent events), on top of Jansson.
 *
 * Every check fails with -1 (or NULL) and a malloc'd message in *cause that
 * names what was wrong (line/column, key, expected type); the caller frees
 * it (see wf_set_cause in util.h). Nothing here aborts on bad input.
 */
#ifndef WF_JSON_H
#define WF_JSON_H

#include <stddef.h>

#include <jansson.h>

/*
 * Parse len bytes into a new reference (the caller json_decref's it).
 * Input longer than max_len, malformed JSON, trailing garbage and duplicate
 * keys are rejected; the cause names line and column.
 */
json_t *
wf_json_loadb(const char *data, size_t len, size_t max_len, char **cause);
/* The same for a file; the cause reads "PATH:LINE:COLUMN: message". */
json_t *wf_json_load_file(const char *path, size_t max_len, char **cause);

/*
 * obj must be an object whose keys all appear in allowed, a NULL-terminated
 * list. The cause names the first unknown key.
 */
int wf_json_check_keys(
    const json_t *obj, const char *const allowed[], char **cause);

/*
 * Typed getters. obj must be an object. A key that is absent is an error
 * when required and otherwise leaves *out untouched (so the caller presets
 * the default); JSON null counts as a wrong type, not as absent.
 */
/* *out borrows from obj; strings with NUL bytes or over maxlen bytes fail. */
int wf_json_get_str(const json_t *obj, const char *key, int required,
    size_t maxlen, const char **out, char **cause);
/* An integer (not a real) within [min, max]. */
int wf_json_get_int(const json_t *obj, const char *key, int required,
    json_int_t min, json_int_t max, json_int_t *out, char **cause);
int wf_json_get_bool(
    const json_t *obj, const char *key, int required, int *out, char **cause);
/* An integer or real, finite, within [min, max]. */
int wf_json_get_real(const json_t *obj, const char *key, int required,
    double min, double max, double *out, char **cause);

/* "object", "array", "string", "integer", "real", "boolean" or "null". */
const char *wf_json_type_name(const json_t *v);

/*
 * A JSON string of len bytes that may be anything (guest output, a log
 * line): ill-formed UTF-8 and NULs become U+FFFD (wf_buf_utf8), so the
 * string always exists. s NULL: json_null(). NULL only when out of memory.
 */
json_t *wf_json_text(const void *s, size_t len);
/* The same for a NUL-terminated s (NULL: json_null()). */
json_t *wf_json_textz(const char *s);

#endif
