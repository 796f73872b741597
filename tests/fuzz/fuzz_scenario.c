/*
 * fuzz_scenario.c: libFuzzer target for the scenario parser
 * (lib/scenario.c). Every input ends in a scenario or a cause that
 * names its source; a parsed scenario must expand (its cases were checked
 * while parsing) and take a "set" override without crashing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario *sc;
	json_t *cases, *set;
	char *cause = NULL;

	sc = scenario_parse("f.json", (const char *)data, size, &cause);
	if (sc == NULL) {
		if (cause == NULL || strncmp(cause, "f.json", 6) != 0)
			abort();
		free(cause);
		return 0;
	}
	if ((cases = scenario_expand(sc, &cause)) == NULL)
		abort();
	json_decref(cases);
	/* The body, fed back as an override, must be handled, not crash. */
	set = json_object_get(sc->body, "matrix");
	if (set != NULL && scenario_set(sc, set, &cause) == 0 &&
	    (cases = scenario_expand(sc, &cause)) != NULL)
		json_decref(cases);
	free(cause);
	scenario_free(sc);
	return 0;
}
