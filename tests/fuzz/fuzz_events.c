/*
 * fuzz_events.c: libFuzzer target for the event-batch parser
 * (controller/batch.c, the body of POST /api/v1/jobs/{id}/events). Every
 * input ends in a batch number with valid records, or a cause.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../controller/batch.h"
#include "records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *records = NULL, *rec;
	char *cause = NULL;
	int64_t batch = -1, attempt = -1;
	size_t i;

	if (batch_parse((const char *)data, size, 1 << 20, &batch, &attempt,
	        &records, &cause) == -1) {
		if (cause == NULL || records != NULL)
			abort();
		free(cause);
		return 0;
	}
	if (batch < 0 || batch > BATCH_NUMBER_MAX || attempt < 0 ||
	    !json_is_array(records))
		abort();
	json_array_foreach (records, i, rec) {
		if (records_validate(rec, NULL) == -1)
			abort();
	}
	json_decref(records);
	return 0;
}
