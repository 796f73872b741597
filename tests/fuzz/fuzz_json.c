/*
 * fuzz_json.c: libFuzzer target for the strict JSON helpers of lib/json.
 * Every input must end in a value or a cause, never a crash, a leak or
 * undefined behaviour; the getters are run on every key with every type.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
try_getters(const json_t *obj, const char *key)
{
	const char *s = NULL;
	json_int_t n = 0;
	double d = 0;
	char *cause = NULL;
	int b = 0;

	/* Each failing getter replaces the previous cause (freeing it). */
	if (wf_json_get_str(obj, key, 1, 16, &s, &cause) == 0 && strlen(s) > 16)
		abort();
	wf_json_get_int(obj, key, 0, -5, 5, &n, &cause);
	if (n < -5 || n > 5)
		abort();
	wf_json_get_bool(obj, key, 1, &b, &cause);
	wf_json_get_real(obj, key, 0, -1e9, 1e9, &d, &cause);
	if (d < -1e9 || d > 1e9)
		abort();
	free(cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const allowed[] = { "v", "src", "gen", "ev", NULL };
	char *cause = NULL;
	const char *key;
	json_t *root, *v;

	root = wf_json_loadb((const char *)data, size, 65536, &cause);
	if (root == NULL) {
		/* A rejected input must always say why (or be out of memory). */
		free(cause);
		return 0;
	}
	wf_json_check_keys(root, allowed, &cause);
	free(cause);
	cause = NULL;
	if (json_is_object(root)) {
		json_object_foreach (root, key, v)
			try_getters(root, key);
	}
	try_getters(root, "missing");
	json_decref(root);
	return 0;
}
