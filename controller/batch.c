/*
 * batch.c: parsing an event batch (see batch.h).
 */
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "json.h"
#include "records.h"
#include "util.h"

int
batch_parse(const char *data, size_t len, size_t max, int64_t *batch,
    int64_t *attempt, json_t **records, char **cause)
{
	static const char *const keys[] = { "batch", "records", "attempt",
		NULL };
	json_t *body, *recs, *rec;
	json_int_t n = 0, a = 0;
	char *why = NULL;
	size_t i;
	int rc = -1;

	*records = NULL;
	if ((body = wf_json_loadb(data, len, max, cause)) == NULL)
		return -1;
	if (!json_is_object(body)) {
		wf_set_cause(cause, "expected an object, not %s",
		    wf_json_type_name(body));
		goto out;
	}
	if (wf_json_check_keys(body, keys, cause) == -1 ||
	    wf_json_get_int(body, "batch", 1, 0, BATCH_NUMBER_MAX, &n, cause) ==
	        -1 ||
	    wf_json_get_int(body, "attempt", 0, 1, INT32_MAX, &a, cause) == -1)
		goto out;
	recs = json_object_get(body, "records");
	if (!json_is_array(recs)) {
		wf_set_cause(cause, "key 'records': expected an array, not %s",
		    recs != NULL ? wf_json_type_name(recs) : "nothing");
		goto out;
	}
	if (json_array_size(recs) > BATCH_RECORDS_MAX) {
		wf_set_cause(cause, "key 'records': more than %d records",
		    BATCH_RECORDS_MAX);
		goto out;
	}
	json_array_foreach (recs, i, rec) {
		char *text;
		size_t tlen;

		/* What the record is wrong about first: its type, its keys. */
		if (records_validate(rec, &why) == -1) {
			wf_set_cause(
			    cause, "records[%zu]: %s", i, wf_cause_str(why));
			free(why);
			goto out;
		}
		if ((text = json_dumps(rec, JSON_COMPACT)) == NULL) {
			wf_set_cause(cause, "records[%zu]: out of memory", i);
			goto out;
		}
		tlen = strlen(text);
		free(text);
		if (tlen > RECORD_MAX) {
			wf_set_cause(cause,
			    "records[%zu]: longer than %d"
			    " bytes as one line",
			    i, RECORD_MAX);
			goto out;
		}
	}
	*batch = n;
	*attempt = a;
	*records = json_incref(recs);
	rc = 0;
out:
	json_decref(body);
	return rc;
}
