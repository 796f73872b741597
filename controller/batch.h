/*
 * batch.h: the body of POST /api/v1/jobs/{id}/events,
 *   {"batch": N, "records": [RECORD...], "attempt": A}
 * N counts from 0 per job attempt; every record must meet the record
 * contract (records_validate, lib/records.h); A (optional) is the attempt
 * the batch belongs to, so that one of an attempt that is over is refused.
 */
#ifndef WF_CTL_BATCH_H
#define WF_CTL_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define BATCH_RECORDS_MAX 4096
#define BATCH_NUMBER_MAX 1000000000

/*
 * Parses and validates len bytes (at most max). 0 with *batch, *attempt (0
 * when not given) and *records (a new array reference), or -1 with a cause
 * naming the record and key.
 */
int batch_parse(const char *data, size_t len, size_t max, int64_t *batch,
    int64_t *attempt, json_t **records, char **cause);

#endif
