/*
 * scenario.h: scenario files (scenarios/NAME.json, format in
 * scenarios/README.md): loading, strict validation with FILE:LINE errors
 * naming the key, "set" overrides, and expansion of the matrix into cases.
 */
#ifndef WF_CTL_SCENARIO_H
#define WF_CTL_SCENARIO_H

#include <stddef.h>

#include <jansson.h>

#include "runspec.h"

#define SCENARIO_NAME_MAX 64
#define SCENARIO_FILE_MAX (256 * 1024)
#define SCENARIO_CASES_MAX 1024

struct scenario {
	char name[SCENARIO_NAME_MAX + 1];
	char sha256[65]; /* of the canonical JSON */
	int nightly; /* part of the default nightly matrix */
	json_t *body; /* the validated object, as given */
	json_t *values; /* every field's base value, scenario form */
	json_t *matrix; /* axis -> array of values (may be {}) */
	json_t *expect; /* array of rules (may be []) */
};

/*
 * Parses and validates one scenario. label names the source in errors (a
 * path, or "inline"); text is the source (for line numbers) or NULL.
 * NULL with a cause "LABEL:LINE: key 'K': ...". Caller frees.
 */
struct scenario *
scenario_parse(const char *label, const char *text, size_t len, char **cause);
struct scenario *
scenario_from_json(const char *label, const json_t *obj, char **cause);
struct scenario *scenario_load_file(const char *path, char **cause);
void scenario_free(struct scenario *sc); /* NULL is a no-op */

/*
 * Every *.json in dir, sorted by name; each file's name must be its
 * scenario's name. *out is an array of *n scenarios (scenario_list_free).
 */
int scenario_load_dir(
    const char *dir, struct scenario ***out, size_t *n, char **cause);
/*
 * The same, file by file: a file that does not load (or is misnamed) is
 * left out and appended to errors as {"file": NAME.json, "message"}; -1
 * only when the directory cannot be read. errors NULL: the first bad file
 * fails the whole load (scenario_load_dir).
 */
int scenario_load_dir_errors(const char *dir, struct scenario ***out, size_t *n,
    json_t *errors, char **cause);
void scenario_list_free(struct scenario **list, size_t n);
struct scenario *
scenario_find(struct scenario **list, size_t n, const char *name);

/*
 * Overrides from an API "set" object: {FIELD: VALUE or [VALUES]}; a list
 * makes (or replaces) a matrix axis, a single value fixes the field.
 */
int scenario_set(struct scenario *sc, const json_t *set, char **cause);

/*
 * The cases of the matrix (cartesian product, the last axis fastest): a new
 * array of {"index", "matrix": {axis: value}, "values": {every field},
 * "params": run spec JSON, "expected": {"verdict", "failing_checks"}}.
 * NULL with a cause when a case is not a valid run spec or there are too
 * many cases.
 */
json_t *scenario_expand(const struct scenario *sc, char **cause);

#endif
