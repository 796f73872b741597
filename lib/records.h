/*
 * records.h: the report-record contract (docs/architecture.md, "Report
 * records"): one JSON object per line, ASCII, at most 4096 bytes, with the
 * keys v, src, gen, ev and t_us.
 *
 * The reader turns a byte stream (a guest's COM2, read in arbitrary chunks)
 * into validated records.  Garbage never stops it: an overlong line, a line
 * with non-ASCII bytes, or one that is not a valid record is dropped and
 * counted, and reading goes on with the next line.
 */
#ifndef WF_RECORDS_H
#define WF_RECORDS_H

#include <stddef.h>

#include <jansson.h>

#define RECORD_MAX 4096

/* Checks one parsed record against the contract; the cause names the key. */
int records_validate(const json_t *rec, char **cause);
/* Parses and validates one line (without its newline); NULL with a cause. */
json_t *records_parse(const char *line, size_t len, char **cause);

struct records_reader {
	char line[RECORD_MAX + 1];
	size_t len;
	int overlong; /* the current line passed RECORD_MAX */
	unsigned long records; /* delivered */
	unsigned long dropped_overlong;
	unsigned long dropped_binary; /* non-ASCII or control bytes */
	unsigned long dropped_invalid; /* not JSON or not the contract */
	unsigned long dropped_partial; /* a last line without its newline */
	char last_cause[160]; /* why the last line was dropped */
};

/* Called with each valid record; the callback owns the reference. */
typedef void (*records_reader_cb)(void *arg, json_t *rec);

void records_reader_init(struct records_reader *r);
void records_reader_feed(struct records_reader *r, const char *data, size_t n,
    records_reader_cb cb, void *arg);
/* End of stream: an unterminated last line is counted as partial. */
void records_reader_finish(struct records_reader *r);
unsigned long records_reader_dropped(const struct records_reader *r);

/* Reads a whole records file into a JSON array (caller decrefs). */
json_t *
records_load_file(const char *path, struct records_reader *stats, char **cause);

#endif
