/*
 * cmd_logs.c: `wakefarm logs JOB [--port 0|1|records] [--follow]`:
 * GET /api/v1/jobs/ID/logs/PORT page by page, and with --follow again
 * while the job runs.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "flags.h"
#include "json.h"

#define POLL_US 1000000
#define LOG_PAGE (1024 * 1024)

enum {
	OPT_PORT = WF_FLAG_LONG,
	OPT_FOLLOW,
	OPT_JSON,
};

static const struct wf_flag logs_flags[] = {
	{ "port", OPT_PORT, "0|1|records",
	    "which log (default: 0, the"
	    " guest's human log; 1: its report port; records: stored events;"
	    " also serial0, serial1, host)",
	    0 },
	{ "follow", OPT_FOLLOW, NULL, "keep printing while the job runs", 0 },
	{ "json", OPT_JSON, NULL,
	    "{\"job\", \"port\", \"offset\", \"text\"} (with --follow: one"
	    " a line, per piece)",
	    0 },
	{ NULL, 0, NULL, NULL, 0 },
};

static const struct wf_cmd logs_cmd = {
	"wakefarm logs",
	"JOB",
	"Print a job's log.",
	logs_flags,
	NULL,
};

static const char *
port_name(const char *p)
{
	if (strcmp(p, "0") == 0 || strcmp(p, "serial0") == 0)
		return "0";
	if (strcmp(p, "1") == 0 || strcmp(p, "serial1") == 0)
		return "1";
	if (strcmp(p, "records") == 0 || strcmp(p, "host") == 0)
		return "records";
	return NULL;
}

/* The piece at offset as JSON (the text made valid UTF-8). */
static void
print_json_piece(long long job, const char *port, size_t offset,
    const struct wf_buf *b, int line)
{
	json_t *j = json_pack("{s:I, s:s, s:I, s:o}", "job", (json_int_t)job,
	    "port", port, "offset", (json_int_t)offset, "text",
	    wf_json_text(b->data != NULL ? b->data : "", b->len));

	if (line)
		cli_print_json_line(j);
	else
		cli_print_json(j);
	json_decref(j);
}

/* Prints the log from *offset on; 0, or -1 with the error printed. */
static int
print_log_from(
    long long job, const char *port, size_t *offset, int json, int follow)
{
	struct wf_buf all;
	int rc = 0;

	wf_buf_init(&all, (size_t)1 << 31);
	for (;;) {
		struct wf_buf b;
		char path[128];

		wf_buf_init(&b, LOG_PAGE + 1);
		snprintf(path, sizeof(path),
		    "/api/v1/jobs/%lld/logs/%s?offset="
		    "%zu&limit=%d",
		    job, port, *offset + all.len, LOG_PAGE);
		if (cli_get_raw(path, &b) == -1) {
			wf_buf_free(&b);
			rc = -1;
			break;
		}
		if (json)
			wf_buf_append(
			    &all, b.data != NULL ? b.data : "", b.len);
		else
			fwrite(b.data != NULL ? b.data : "", 1, b.len, stdout);
		if (!json)
			*offset += b.len;
		if (b.len < LOG_PAGE) {
			wf_buf_free(&b);
			break;
		}
		wf_buf_free(&b);
	}
	/* --json: one document, or with --follow one line per new piece */
	if (json && rc == 0 && (!follow || all.len > 0))
		print_json_piece(job, port, *offset, &all, follow);
	if (json)
		*offset += all.len;
	wf_buf_free(&all);
	return rc;
}

/* With --follow: 1 while the job has not ended. */
static int
job_running(long long job)
{
	char path[64];
	json_t *j;
	int running;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", job);
	if ((j = cli_call("GET", path, NULL)) == NULL)
		return 0;
	running = strcmp(cli_str(j, "state"), "done") != 0 &&
	    strcmp(cli_str(j, "state"), "cancelled") != 0;
	json_decref(j);
	return running;
}

int
cmd_logs(int argc, char **argv)
{
	static const char *const ports[] = { "0", "1", "records", "serial0",
		"serial1", "host", NULL };
	const char *arg, *port = "0";
	struct wf_flags f;
	size_t offset = 0;
	long long job;
	char **args;
	int id, n, follow = 0, json = 0;

	wf_flags_begin(&f, &logs_cmd, argc, argv);
	while ((id = wf_flags_next(&f, &arg)) != -1) {
		if (id == OPT_PORT)
			port = ports[wf_flags_choice(&f, "--port", arg, ports)];
		else if (id == OPT_FOLLOW)
			follow = 1;
		else if (id == OPT_JSON)
			json = 1;
	}
	args = wf_flags_args(&f, 1, 1, &n);
	port = port_name(port);
	if (cli_parse_id("job", args[0], &job) == -1)
		return CLI_USAGE;
	for (;;) {
		if (print_log_from(job, port, &offset, json, follow) == -1)
			return cli_failed();
		fflush(stdout);
		if (!follow || !job_running(job))
			return CLI_OK;
		usleep(POLL_US);
	}
}
