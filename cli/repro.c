/*
 * repro.c: `wakefarm repro JOB_ID|SCENARIO [--set K=V]... [--libvirt URI | --qemu]`.
 *
 * A job ID brings the exact parameters and expectation of that job from the
 * controller; a scenario (by name from scenarios/, or a file) is expanded
 * like the controller does (lib/scenario.h).  Each case runs through the
 * guest runner the agent uses (lib/runner/: a
 * transient libvirt domain, or bare QEMU with --qemu) and is judged with
 * the contract the controller judges by (lib/invariants.h, lib/expect.h): the same records, checks and verdict you would
 * see on the dashboard, without a controller.
 */
#include <ctype.h>
#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob_fetch.h"
#include "cli.h"
#include "expect.h"
#include "invariants.h"
#include "libvirt_run.h"
#include "lvreap.h"
#include "linux.h"
#include "qemu.h"
#include "records.h"
#include "repro.h"
#include "runspec_json.h"
#include "scenario.h"
#include "util.h"

static const char *top;

static void
remove_flat_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX + 256];

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int
all_digits(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* The job's one case: {"params", "expected", "label"}. */
static json_t *
job_case(const struct repro_opts *o, const char *id)
{
	json_t *job = NULL, *c = NULL;
	char path[64], *cause = NULL;

	snprintf(path, sizeof(path), "/api/v1/jobs/%s", id);
	if (cli_request("GET", path, NULL, &job, &cause) < 0) {
		cli_error(cli_failed(), "repro", "job %s from %s: %s", id,
		    cli_server(), wf_cause_str(cause));
		goto out;
	}
	c = json_pack("{s:O, s:{s:O, s:O}, s:s+}", "params",
	    json_object_get(job, "params"), "expected", "verdict",
	    json_object_get(job, "expected_verdict"), "failing_checks",
	    json_object_get(job, "expected_failing"), "label", "job ", id);
out:
	free(cause);
	json_decref(job);
	return c;
}

/* Every case of a scenario (name or file) after --set. */
json_t *
repro_scenario_cases(const struct repro_opts *o, const char *target)
{
	struct scenario *sc = NULL, **list = NULL;
	char dir[PATH_MAX + 16], *cause = NULL;
	json_t *cases = NULL;
	size_t n = 0;
	struct stat st;

	if (stat(target, &st) == 0 && S_ISREG(st.st_mode)) {
		sc = scenario_load_file(target, &cause);
	} else {
		snprintf(dir, sizeof(dir), "%s/scenarios", top);
		if (scenario_load_dir(dir, &list, &n, &cause) == 0) {
			sc = scenario_find(list, n, target);
			if (!sc)
				wf_set_cause(&cause,
				    "no scenario '%s' in %s (nor a file of that name)",
				    target, dir);
		}
	}
	if (sc && (!o->set || scenario_set(sc, o->set, &cause) == 0))
		cases = scenario_expand(sc, &cause);
	if (!cases) {
		cli_set_failed(
		    sc == NULL && list != NULL ? CLI_NOINPUT : CLI_DATAERR);
		cli_error(cli_failed(), "repro", "%s", wf_cause_str(cause));
	}
	if (list)
		scenario_list_free(list, n);
	else
		scenario_free(sc);
	free(cause);
	return cases;
}

static void
print_result(const char *label, const json_t *eval, const char *verdict,
    int as_exp, const json_t *expected)
{
	const json_t *c;
	size_t i;
	int nok = 0, nfail = 0;

	json_array_foreach (json_object_get(eval, "checks"), i, c) {
		if (json_is_true(json_object_get(c, "ok"))) {
			nok++;
			continue;
		}
		nfail++;
		char *e = json_dumps(json_object_get(c, "expected"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		char *ob = json_dumps(json_object_get(c, "observed"),
		    JSON_COMPACT | JSON_ENCODE_ANY);

		printf("  FAIL %s",
		    json_string_value(json_object_get(c, "check")));
		if (json_object_get(c, "gen"))
			printf(" (gen %lld)",
			    (long long)json_integer_value(
			        json_object_get(c, "gen")));
		printf(": expected %s, observed %s\n", e, ob);
		free(e);
		free(ob);
	}
	printf(
	    "%s: %d check(s) ok, %d failed; verdict %s%s%s; expected %s: %s\n",
	    label, nok, nfail, verdict,
	    *json_string_value(json_object_get(eval, "reason")) ? " — " : "",
	    json_string_value(json_object_get(eval, "reason")),
	    json_string_value(json_object_get(expected, "verdict")),
	    as_exp ? "as expected" : "NOT AS EXPECTED");
}

/* The run itself, by the runner asked for; a domain left is said. */
static int
run_one(const struct repro_opts *o, const struct runspec *rs,
    const struct run_opts *qo, const struct libvirt_opts *lo,
    struct run_result *res)
{
	int rc = o->bare_qemu ? qemu_run(rs, qo, res) :
	                        libvirt_run(rs, qo, lo, res);

	if (res->leftover[0])
		cli_error(CLI_INFRA, "repro",
		    "domain %s could not be destroyed: the next repro on this"
		    " host destroys it (or: virsh destroy %s)",
		    res->leftover, res->leftover);
	return rc;
}

/*
 * The OS files here, as the agent would get them: a kernel package
 * unpacked, a "sha256:" kernel, initrd or test kernel (a kernel users
 * added, a bisect's build) fetched from the controller and checked. 0, or
 * CLI_INFRA after the error.
 */
static int
resolve_os(struct runspec *rs, const char *label)
{
	char fetch[PATH_MAX + 32], kernels[PATH_MAX + 32], blobs[PATH_MAX + 32];
	char *cause = NULL;
	int blob = runspec_blob_digest(rs->kernel) ||
	    runspec_blob_digest(rs->initrd) ||
	    runspec_blob_digest(rs->test_kernel);

	snprintf(fetch, sizeof(fetch), "%s/lib/sh/fetch-kernel.sh", top);
	snprintf(kernels, sizeof(kernels), "%s/build/kernels", top);
	snprintf(blobs, sizeof(blobs), "%s/build/blobs", top);
	if (rs->kernel_package[0]) {
		if (linux_resolve_package(rs->kernel_package, fetch, kernels,
		        rs->kernel, sizeof(rs->kernel), &cause) < 0)
			goto fail;
		rs->kernel_package[0] = 0;
	}
	if (blob_fetch_spec(blob ? cli_http() : NULL, rs, blobs, &cause) < 0)
		goto fail;
	return 0;
fail:
	cli_error(CLI_INFRA, "repro", "%s: %s", label, wf_cause_str(cause));
	free(cause);
	return CLI_INFRA;
}

int
repro_run_case(const struct repro_opts *o, const json_t *c, const char *workdir,
    char *verdict, size_t vsz)
{
	char fw[PATH_MAX + 32], tk[PATH_MAX + 32], records[PATH_MAX + 64],
	    log[PATH_MAX + 64], name[64];
	char rp[PATH_MAX + 32];
	const char *label = json_string_value(json_object_get(c, "label"));
	struct run_opts qo = { .firmware = fw,
		.test_kernel = tk,
		.reporter = rp,
		.accel = o->accel,
		.records = records,
		.log = log };
	struct libvirt_opts lo = {
		.uri = o->libvirt_uri, .domain = name, .workdir = workdir
	};
	const json_t *expected = json_object_get(c, "expected");
	struct run_result res;
	struct runspec rs;
	struct records_reader st;
	json_t *recs, *eval, *failing;
	char *cause = NULL;
	const char *v;
	int as_exp, rc;

	if (verdict)
		wf_strlcpy(verdict, "infra", vsz);
	if (runspec_from_json(json_object_get(c, "params"), &rs, &cause) < 0) {
		cli_error(
		    CLI_DATAERR, "repro", "%s: %s", label, wf_cause_str(cause));
		free(cause);
		return CLI_DATAERR;
	}
	snprintf(fw, sizeof(fw), "%s/build/guest/firmware.elf", top);
	if (o->test_kernel)
		wf_strlcpy(tk, o->test_kernel, sizeof(tk));
	else
		snprintf(tk, sizeof(tk), "%s/build/guest/kernel.elf", top);
	snprintf(rp, sizeof(rp), "%s/build/guest/linux-init", top);
	if (resolve_os(&rs, label) != 0)
		return CLI_INFRA;
	snprintf(name, sizeof(name), "wakefarm-repro-%d", (int)getpid());
	snprintf(records, sizeof(records), "%s/%s.records", workdir, label);
	snprintf(log, sizeof(log), "%s/%s.com1", workdir, label);
	for (char *p = records + strlen(workdir) + 1; *p; p++)
		if (*p == ' ' || *p == '/')
			*p = '_';
	for (char *p = log + strlen(workdir) + 1; *p; p++)
		if (*p == ' ' || *p == '/')
			*p = '_';
	if (!o->quiet && !o->json) {
		printf(
		    "== %s: %d CPU(s), mailbox v%d, policy %s, steps '%s'%s%s (%s)\n",
		    label, rs.cpus, rs.mailbox_version, rs.policy, rs.steps,
		    rs.quirks[0] ? ", quirks " : "", rs.quirks,
		    o->bare_qemu ? "bare QEMU" : o->libvirt_uri);
		fflush(stdout);
	}
	rc = run_one(o, &rs, &qo, &lo, &res);
	if (rc < 0) {
		/* the host, libvirt or QEMU failed: infra, as in the farm */
		cli_error(CLI_INFRA, "repro", "%s", res.detail);
		return CLI_INFRA;
	}
	recs = records_load_file(records, &st, &cause);
	if (!recs) {
		cli_error(CLI_INFRA, "repro", "%s", wf_cause_str(cause));
		free(cause);
		return CLI_INFRA;
	}
	if (!o->json && !o->quiet) {
		size_t i;
		const json_t *r;

		json_array_foreach (recs, i, r) {
			char *s = json_dumps(r, JSON_COMPACT);

			printf("  %s\n", s);
			free(s);
		}
	}
	eval = invariants_evaluate(&rs, recs);
	v = json_string_value(json_object_get(eval, "verdict"));
	failing = expect_failing_set(json_object_get(eval, "checks"));
	as_exp = strcmp(v, "infra") && expect_as_expected(v, failing, expected);
	if (verdict)
		wf_strlcpy(verdict, v, vsz);
	if (o->quiet) {
		/* nothing to print */
	} else if (o->json) {
		/* one document at the end (repro_main): --json is pure JSON */
		json_array_append_new(o->results,
		    json_pack("{s:s, s:s, s:b, s:O, s:O, s:O, s:s}", "case",
		        label, "verdict", v, "as_expected", as_exp, "expected",
		        expected, "failing_checks", failing, "checks",
		        json_object_get(eval, "checks"), "records", records));
	} else {
		print_result(label, eval, v, as_exp, expected);
		if (o->keep || o->work)
			printf("   records: %s, guest log: %s\n", records, log);
	}
	json_decref(failing);
	json_decref(eval);
	json_decref(recs);
	if (as_exp)
		return CLI_OK;
	return strcmp(v, "infra") == 0 ? CLI_INFRA : CLI_UNEXPECTED;
}

/* Two cases' statuses as one: a tool error wins, then "not as expected". */
static int
worse(int a, int b)
{
	if (a >= CLI_USAGE || b >= CLI_USAGE)
		return a > b ? a : b;
	if (a == CLI_UNEXPECTED || b == CLI_UNEXPECTED)
		return CLI_UNEXPECTED;
	return a > b ? a : b;
}

static void
reaped(void *arg, const char *name, long long job, long long attempt,
    int destroyed, const char *err)
{
	if (destroyed)
		fprintf(stderr,
		    "wakefarm repro: destroyed domain %s, left behind by a"
		    " runner that is gone\n",
		    name);
	else
		fprintf(stderr,
		    "wakefarm repro: domain %s, left behind by a runner that is"
		    " gone, could not be destroyed: %s\n",
		    name, err);
}

void
repro_reap(const struct repro_opts *o)
{
	char *cause = NULL;

	if (o->bare_qemu)
		return;
	if (lvreap(o->libvirt_uri, NULL, reaped, NULL, &cause) < 0)
		fprintf(stderr, "wakefarm repro: %s\n", wf_cause_str(cause));
	free(cause);
}

void
repro_init(void)
{
	top = wf_tree_top();
}

int
repro_main(const struct repro_opts *o, const char *target)
{
	char tmpl[] = "/tmp/wakefarm-repro.XXXXXX";
	const char *workdir = o->work;
	json_t *cases = NULL, *c;
	size_t i;
	int rc = 0;

	top = wf_tree_top();
	repro_reap(o);
	if (all_digits(target)) {
		json_t *one = job_case(o, target);

		if (one) {
			cases = json_array();
			json_array_append_new(cases, one);
		}
	} else {
		cases = repro_scenario_cases(o, target);
		json_array_foreach (cases, i, c) {
			char label[200];
			char *m = json_dumps(
			    json_object_get(c, "matrix"), JSON_COMPACT);

			snprintf(label, sizeof(label), "%s%s%s", target,
			    m && strcmp(m, "{}") ? " " : "",
			    m && strcmp(m, "{}") ? m : "");
			json_object_set_new(c, "label", json_string(label));
			free(m);
		}
	}
	if (!cases)
		return cli_failed();
	if (!workdir) {
		if (!mkdtemp(tmpl)) {
			cli_error(CLI_SOFTWARE, "repro", "mkdtemp: %s",
			    strerror(errno));
			json_decref(cases);
			return CLI_SOFTWARE;
		}
		workdir = tmpl;
	}
	chmod(workdir,
	    0755); /* QEMU under libvirt reads each run's config from here */
	json_array_foreach (cases, i, c)
		rc = worse(rc, repro_run_case(o, c, workdir, NULL, 0));
	if (o->json) {
		json_t *out = json_pack(
		    "{s:O, s:i}", "cases", o->results, "exit", rc);

		cli_print_json(out);
		json_decref(out);
	}
	if (!o->keep && !o->work)
		remove_flat_dir(workdir);
	json_decref(cases);
	return rc;
}
