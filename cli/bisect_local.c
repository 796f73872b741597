/*
 * bisect_local.c: `wakefarm bisect --local`: builds and runs every
 * candidate on this machine (see bisect.h). Builds are kept in the cache
 * directory by commit id and build command, so a bisect run again (or the
 * 20 seeded trials of tests/bisect) builds each revision once.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bisect_local.h"
#include "cli.h"
#include "buf.h"
#include "bisect_build.h"
#include "util.h"

struct local {
	struct bisect_opts *o;
	struct bisect_rev *revs;
	struct bisect b;
	json_t *cases; /* the one case */
	char work[64]; /* temporary: runs and builds */
	char cache[PATH_MAX];
	char key[17]; /* of the build command */
	json_t *steps;
	int builds, runs;
};

static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* FNV-1a of the build command and artifact: part of the cache key. */
static void
build_key(struct local *l)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *s;

	for (int i = 0; l->o->build_argv[i]; i++)
		for (s = l->o->build_argv[i];; s++) {
			h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
			if (*s == '\0')
				break;
		}
	for (s = l->o->artifact; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	snprintf(l->key, sizeof(l->key), "%016llx", (unsigned long long)h);
}

static int
mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	wf_strlcpy(tmp, path, sizeof(tmp));
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(tmp, 0755) == -1 && errno != EEXIST ? -1 : 0;
}

static int
copy_file(const char *src, const char *dst)
{
	char tmp[PATH_MAX * 2 + 32], buf[65536];
	FILE *in = fopen(src, "rb"), *out;
	size_t n;
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp%d", dst, (int)getpid());
	if (in == NULL || (out = fopen(tmp, "wb")) == NULL) {
		if (in)
			fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	fclose(in);
	if (fclose(out) != 0 || rc == -1 || chmod(tmp, 0644) == -1 ||
	    rename(tmp, dst) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * The candidate's image in the cache, built if needed: 0 with path set,
 * 1 when its build fails (the log kept beside), -1 when it cannot be tried.
 */
static int
ensure_build(struct local *l, int idx, char *path, size_t size)
{
	const struct bisect_rev *r = &l->revs[idx];
	char failed[PATH_MAX * 2], dir[PATH_MAX], logpath[PATH_MAX * 3];
	struct wf_buf log;
	char *cause = NULL;
	FILE *f;
	int rc;

	snprintf(path, size, "%s/%s-%s.img", l->cache, r->id, l->key);
	snprintf(
	    failed, sizeof(failed), "%s/%s-%s.failed", l->cache, r->id, l->key);
	if (access(path, R_OK) == 0)
		return 0;
	if (access(failed, R_OK) == 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s/build-%d", l->work, idx);
	wf_buf_init(&log, 1u << 20);
	rc = bisect_build_rev(l->o->repo, r->id, dir,
	    (const char *const *)l->o->build_argv, l->o->build_timeout_s,
	    l->o->artifact, &log, &cause);
	l->builds++;
	if (rc == -1) {
		cli_error(CLI_SOFTWARE, "bisect", "%.12s: %s", r->id,
		    wf_cause_str(cause));
	} else {
		char art[PATH_MAX + 260];

		snprintf(art, sizeof(art), "%s/%s", dir, l->o->artifact);
		snprintf(logpath, sizeof(logpath), "%s.log",
		    rc == 0 ? path : failed);
		if ((f = fopen(logpath, "w")) != NULL) {
			fputs(wf_buf_str(&log), f);
			fclose(f);
		}
		if (rc == 0 && copy_file(art, path) == -1) {
			cli_error(CLI_SOFTWARE, "bisect",
			    "cannot keep %s in %s: %s", art, l->cache,
			    strerror(errno));
			rc = -1;
		}
		if (rc == 1 && (f = fopen(failed, "w")) != NULL)
			fclose(f);
	}
	bisect_build_remove(dir);
	wf_buf_free(&log);
	free(cause);
	return rc;
}

/* In a child: one run; exit 0 pass, 1 fail, 2 infra. */
static void __attribute__((noreturn))
one_run(struct local *l, const char *image, int idx, int runno)
{
	json_t *c = json_deep_copy(json_array_get(l->cases, 0)), *params;
	struct repro_opts ro = l->o->ro;
	char work[PATH_MAX], verdict[16];
	int rc;

	snprintf(work, sizeof(work), "%s/run-%d-%d", l->work, idx, runno);
	if (c == NULL || mkdir(work, 0755) == -1)
		_exit(2);
	params = json_object_get(c, "params");
	if (l->o->have_seed) {
		const char *app = json_string_value(
		    json_object_get(params, "append"));
		char *s = NULL;
		uint64_t seed = mix64(l->o->seed ^
		    mix64(((uint64_t)idx << 32) | (unsigned)runno));

		if (asprintf(&s, "%s%sseed=%u", app ? app : "",
		        app && *app ? " " : "",
		        (unsigned)(seed % 4294967295u) + 1) < 0)
			_exit(2);
		json_object_set_new(params, "append", json_string(s));
		free(s);
	}
	json_object_set_new(c, "label", json_string("bisect"));
	ro.test_kernel = image;
	ro.quiet = 1;
	ro.work = work;
	rc = repro_run_case(&ro, c, work, verdict, sizeof(verdict));
	bisect_build_remove(work);
	/* 0 pass, 1 fail; infra, or a run that could not be made: 2 */
	_exit(rc == CLI_OK || rc == CLI_UNEXPECTED ?
	        (strcmp(verdict, "infra") == 0 ? 2 : rc) :
	        2);
}

/* Runs candidate idx n times, o->jobs at once; adds to its counts. */
static void
run_batch(struct local *l, int idx, const char *image, int n, int *pass,
    int *fail, int *infra)
{
	struct bisect_cand *c = &l->b.c[idx];
	int started = 0, running = 0, first = c->runs + c->infra, status;
	pid_t pid;

	*pass = *fail = *infra = 0;
	fflush(NULL);
	while (started < n || running > 0) {
		if (started < n && running < l->o->jobs) {
			if ((pid = fork()) == 0)
				one_run(l, image, idx, first + started);
			if (pid == -1) {
				(*infra)++;
			} else {
				running++;
			}
			started++;
			continue;
		}
		if ((pid = wait(&status)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		running--;
		l->runs++;
		switch (WIFEXITED(status) ? WEXITSTATUS(status) : 2) {
		case 0:
			(*pass)++;
			break;
		case 1:
			(*fail)++;
			break;
		default:
			(*infra)++;
			break;
		}
	}
	c->runs += *pass + *fail;
	c->fails += *fail;
	c->infra += *infra;
}

static json_t *
rev_json(const struct local *l, int idx)
{
	return json_pack("{s:i, s:s, s:s}", "index", idx, "rev",
	    l->revs[idx].id, "subject", l->revs[idx].subject);
}

static void
print_step(struct local *l, int idx, const char *what)
{
	const struct bisect_cand *c = &l->b.c[idx];

	printf("step %zu: [%d/%d] %.12s %s: %s", json_array_size(l->steps), idx,
	    l->b.n - 1, l->revs[idx].id, l->revs[idx].subject, what);
	if (c->build_failed)
		printf(" -> skip (build failed)\n");
	else
		printf(" -> %d of %d runs failed%s%s so far: %s\n", c->fails,
		    c->runs, c->infra ? ", infra " : "", c->infra ? "too" : "",
		    bisect_verdict_name(c->verdict));
	fflush(stdout);
}

static int
setup(struct local *l, char **cause)
{
	struct bisect_opts *o = l->o;
	int n;

	repro_init();
	repro_reap(&o->ro);
	if ((l->cases = repro_scenario_cases(&o->ro, o->scenario)) == NULL)
		return CLI_DATAERR;
	if (json_array_size(l->cases) != 1) {
		wf_set_cause(cause,
		    "a bisect runs one case, and %s expands to"
		    " %zu: fix every axis with --set",
		    o->scenario, json_array_size(l->cases));
		return CLI_DATAERR;
	}
	if (bisect_build_candidates(o->repo, o->good, o->bad,
	        BISECT_MAX_CANDIDATES, &l->revs, &n, cause) == -1)
		return CLI_DATAERR;
	l->b.n = n;
	l->b.cfg = o->cfg;
	if ((l->b.c = calloc(n, sizeof(*l->b.c))) == NULL) {
		wf_set_cause(cause, "out of memory");
		return CLI_SOFTWARE;
	}
	wf_strlcpy(l->work, "/tmp/wakefarm-bisect.XXXXXX", sizeof(l->work));
	if (mkdtemp(l->work) == NULL) {
		wf_set_cause(cause, "mkdtemp: %s", strerror(errno));
		return CLI_SOFTWARE;
	}
	chmod(l->work, 0755); /* QEMU under libvirt reads from here */
	if (o->cache)
		wf_strlcpy(l->cache, o->cache, sizeof(l->cache));
	else
		snprintf(l->cache, sizeof(l->cache), "%s/builds", l->work);
	if (mkdirs(l->cache) == -1) {
		wf_set_cause(cause, "%s: %s", l->cache, strerror(errno));
		return CLI_SOFTWARE;
	}
	{
		char abs[PATH_MAX];

		if (realpath(l->cache, abs) != NULL)
			wf_strlcpy(l->cache, abs, sizeof(l->cache));
	}
	build_key(l);
	return 0;
}

int
bisect_local_main(struct bisect_opts *o)
{
	struct local l = { .o = o, .steps = json_array() };
	struct bisect_next next;
	char *cause = NULL, image[PATH_MAX + 64], what[96];
	int64_t t0 = wf_now_ms();
	int rc, pass, fail, infra;

	if ((rc = setup(&l, &cause)) != 0) {
		if (cause)
			cli_error(rc, "bisect", "%s", cause);
		goto out;
	}
	if (!o->json)
		printf("bisecting %s over %d revisions (%.12s good, %.12s bad),"
		       " %d runs per step\n",
		    o->scenario, l.b.n, l.revs[0].id, l.revs[l.b.n - 1].id,
		    l.b.cfg.repeat);
	for (;;) {
		bisect_next(&l.b, &next);
		if (next.what != BISECT_TEST)
			break;
		rc = ensure_build(&l, next.idx, image, sizeof(image));
		if (rc == -1) {
			snprintf(next.why, sizeof(next.why),
			    "cannot build"
			    " %.12s (see above)",
			    l.revs[next.idx].id);
			next.what = BISECT_FAILED;
			break;
		}
		if (rc == 1) {
			bisect_build_failed(&l.b, next.idx);
			snprintf(what, sizeof(what), "build");
		} else {
			run_batch(&l, next.idx, image, next.runs, &pass, &fail,
			    &infra);
			bisect_judge(&l.b, next.idx);
			snprintf(what, sizeof(what), "%d run(s)", next.runs);
		}
		json_array_append_new(l.steps,
		    json_pack("{s:o, s:i, s:i, s:i,"
		              " s:i, s:b, s:s}",
		        "candidate", rev_json(&l, next.idx), "runs",
		        rc == 1 ? 0 : next.runs, "passes", rc == 1 ? 0 : pass,
		        "fails", rc == 1 ? 0 : fail, "infra",
		        rc == 1 ? 0 : infra, "build_failed", rc == 1, "verdict",
		        bisect_verdict_name(l.b.c[next.idx].verdict)));
		if (!o->json)
			print_step(&l, next.idx, what);
	}
	if (o->json) {
		json_t *out = json_pack("{s:s, s:s, s:i, s:i, s:f, s:o}",
		    "result", next.what == BISECT_DONE ? "done" : "failed",
		    "message", next.why, "runs", l.runs, "builds", l.builds,
		    "seconds", (wf_now_ms() - t0) / 1000.0, "steps", l.steps);

		if (next.what == BISECT_DONE) {
			json_object_set_new(
			    out, "first_bad", rev_json(&l, next.first_bad));
			json_object_set_new(
			    out, "last_good", rev_json(&l, next.last_good));
			json_object_set_new(
			    out, "confidence", json_real(next.confidence));
			json_object_set_new(out, "flake_rate",
			    json_real(bisect_flake_rate(&l.b)));
		}
		l.steps = NULL;
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(out);
	} else if (next.what == BISECT_DONE) {
		int fb = next.first_bad;

		if (next.first_bad - next.last_good == 1)
			printf("first bad revision: %s %s\n", l.revs[fb].id,
			    l.revs[fb].subject);
		else
			printf("first bad revision is one of %d, %.12s..%.12s:"
			       " the others could not be built or run\n",
			    next.first_bad - next.last_good,
			    l.revs[next.last_good + 1].id, l.revs[fb].id);
		printf(
		    "confidence %.1f%% (failure rate of bad revisions %.0f%%),"
		    " %d runs, %d builds, %.1f s\n",
		    100 * next.confidence, 100 * bisect_flake_rate(&l.b),
		    l.runs, l.builds, (wf_now_ms() - t0) / 1000.0);
	} else {
		printf("bisect failed: %s\n", next.why);
	}
	rc = next.what == BISECT_DONE ? CLI_OK : CLI_UNEXPECTED;
out:
	if (l.work[0])
		bisect_build_remove(l.work);
	json_decref(l.steps);
	json_decref(l.cases);
	free(l.revs);
	free(l.b.c);
	free(cause);
	return rc;
}
