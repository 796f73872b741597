/*
 * fuzz_records: the guest serial-output parser (lib/records.c) on arbitrary
 * bytes in arbitrary chunks; every record it delivers must pass the contract
 * check again.
 */
#include <stdint.h>
#include <stdlib.h>

#include "records.h"

static void
cb(void *arg, json_t *rec)
{
	if (records_validate(rec, NULL) != 0)
		abort();
	json_decref(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct records_reader r;
	size_t chunk = size ? data[0] % 61 + 1 : 1;

	records_reader_init(&r);
	for (size_t i = 0; i < size; i += chunk)
		records_reader_feed(&r, (const char *)data + i,
		    size - i < chunk ? size - i : chunk, cb, NULL);
	records_reader_finish(&r);
	return 0;
}
