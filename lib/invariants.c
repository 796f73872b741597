/*
 * invariants.c: evaluating the invariants table over stored records.
 *
 * Records are first folded into one summary per kernel generation (what it
 * booted as, what MADT it saw, how many CPUs it brought up); each check then
 * compares that summary with what the table says for the run's mailbox
 * version.  "Effective" version 1 means version >= 1 in a 24-byte entry,
 * exactly when Linux takes the version-1 path.
 *
 * Firmware records carry the generation the firmware was told about; a
 * Linux kernel never tells it, so a fw-wake during the bring-up of a
 * kexec'd or kdump kernel is counted for the generation that the last
 * kexec or panic record started.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invariants.h"

/* Generations are numbered by the guest; more than this is not a run we made. */
#define MAX_GENS 100000

struct gen {
	int seen; /* a boot record arrived */
	const char *kind;
	json_int_t cpu;
	const json_t *madt; /* the madt record */
	const json_t *online_first; /* after bring-up */
	const json_t *crash_notes;
	json_int_t online_before_panic; /* CPUs online when this gen panicked */
	int panicked;
	int wakes, cpu_ups;
};

struct eval {
	const struct runspec *rs;
	int v_eff; /* effective mailbox version */
	struct gen *gen; /* [0..max_gen], by generation number */
	int max_gen;
	int last_gen;
	json_int_t real_bsp; /* the first CPU of the MADT (fw-ready) */
	const json_t *fw_ready, *done, *host_exit, *first_error;
	json_t *checks;
};

static json_int_t
iget(const json_t *o, const char *k, json_int_t dflt)
{
	const json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static const char *
sget(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static void
check(struct eval *e, const char *name, int gen, int ok, json_t *expected,
    json_t *observed)
{
	json_t *c = json_pack("{s:s, s:b, s:o, s:o}", "check", name, "ok", ok,
	    "expected", expected ? expected : json_null(), "observed",
	    observed ? observed : json_null());

	if (gen > 0)
		json_object_set_new(c, "gen", json_integer(gen));
	json_array_append_new(e->checks, c);
}

static void
fold(struct eval *e, const json_t *records)
{
	size_t i;
	const json_t *r;
	json_int_t online_now = 0;

	json_int_t fw_gen = 1; /* the generation now being brought up */

	json_array_foreach (records, i, r) {
		const char *ev = sget(r, "ev"), *src = sget(r, "src");
		json_int_t g = iget(r, "gen", 0);
		struct gen *gn;

		if (!strcmp(src, "fw") && g < fw_gen)
			g = fw_gen;
		if (g < 0 || g > e->max_gen)
			continue;
		gn = &e->gen[g];
		if (!strcmp(src, "host")) {
			if (!strcmp(ev, "host-exit"))
				e->host_exit = r;
			continue;
		}
		if (!strcmp(ev, "fw-ready")) {
			const json_t *id0 = json_array_get(
			    json_object_get(r, "apic_ids"), 0);

			e->fw_ready = r;
			e->real_bsp = json_is_integer(id0) ?
			    json_integer_value(id0) :
			    -1;
		} else if (!strcmp(ev, "kexec"))
			fw_gen = iget(r, "to_gen", fw_gen);
		else if (!strcmp(ev, "fw-wake"))
			gn->wakes++;
		else if (!strcmp(ev, "boot")) {
			gn->seen = 1;
			gn->kind = sget(r, "kind");
			gn->cpu = iget(r, "cpu", -1);
			if (g > e->last_gen)
				e->last_gen = g;
		} else if (!strcmp(ev, "madt") && !gn->madt)
			gn->madt = r;
		else if (!strcmp(ev, "cpu-up"))
			gn->cpu_ups++;
		else if (!strcmp(ev, "online")) {
			online_now = iget(r, "cpus_online", 0);
			if (!gn->online_first)
				gn->online_first = r;
		} else if (!strcmp(ev, "panic")) {
			fw_gen = g + 1; /* kdump, if a crash kernel is loaded */
			gn->panicked = 1;
			gn->online_before_panic = online_now;
		} else if (!strcmp(ev, "crash-notes"))
			gn->crash_notes = r;
		else if (!strcmp(ev, "done"))
			e->done = r;
		else if (!strcmp(ev, "error") && !e->first_error)
			e->first_error = r;
	}
}

static int
has_quirk(const struct runspec *rs, const char *q)
{
	size_t n = strlen(q);
	const char *p = rs->quirks;

	while ((p = strstr(p, q))) {
		if ((p == rs->quirks || p[-1] == ',') &&
		    (p[n] == 0 || p[n] == ',' || p[n] == '='))
			return 1;
		p += n;
	}
	return 0;
}

/* A kernel that booted on another CPU than the MADT's first never wakes
 * that one (Linux 6.9+: "Crash kernel detected. Disabling real BSP"). */
static int
skips_real_bsp(const struct eval *e, const struct gen *g)
{
	return strcmp(g->kind, "cold") && e->real_bsp >= 0 &&
	    g->cpu != e->real_bsp;
}

static json_int_t
expected_online(const struct eval *e, const struct gen *g)
{
	json_int_t n = e->rs->cpus;

	if (!strcmp(g->kind, "cold"))
		return n;
	if (!e->v_eff)
		return 1;
	if (skips_real_bsp(e, g))
		n--;
	if (!strcmp(g->kind, "kdump") && e->rs->kdump_cpus &&
	    e->rs->kdump_cpus < n)
		return e->rs->kdump_cpus;
	return n;
}

static void
check_generation(struct eval *e, int g, const json_t *gen1_madt)
{
	struct gen *gn = &e->gen[g];
	json_int_t want_len = e->rs->mailbox_version ?
	    24 :
	    16; /* the table, not the quirk */
	json_int_t exp_online = expected_online(e, gn);
	const char *mbox = sget(gn->madt, "mailbox"),
	           *mbox1 = sget(gen1_madt, "mailbox");

	if (!gn->madt) {
		check(e, "madt-seen", g, 0, json_true(), json_false());
		return;
	}
	check(e, "madt-entry", g,
	    iget(gn->madt, "version", -1) == e->rs->mailbox_version &&
	        iget(gn->madt, "length", -1) == want_len,
	    json_pack("{s:i, s:I}", "version", e->rs->mailbox_version, "length",
	        want_len),
	    json_pack("{s:I, s:I}", "version", iget(gn->madt, "version", -1),
	        "length", iget(gn->madt, "length", -1)));
	if (g == 1) {
		unsigned long long a = strtoull(mbox, NULL, 16);
		const char *fw = e->fw_ready ? sget(e->fw_ready, "mailbox") :
		                               mbox;

		check(e, "mailbox-address", g,
		    a && !(a & 0xfff) && !strcmp(fw, mbox),
		    json_pack("{s:s, s:s}", "aligned", "4 KiB", "equals", fw),
		    json_string(mbox));
	} else {
		const char *want = e->v_eff ? mbox1 : "0x0";

		check(e, "mailbox-after-kexec", g, !strcmp(mbox, want),
		    json_string(want), json_string(mbox));
	}
	if (e->v_eff) {
		const char *rv = sget(gn->madt, "reset_vector"),
		           *rv1 = sget(gen1_madt, "reset_vector");

		char want[64];

		/* version 1: non-zero, and the same in every generation */
		snprintf(want, sizeof(want),
		    g == 1 || !strcmp(rv1, "0x0") ? "non-zero" :
		                                    "%s (as in generation 1)",
		    rv1);
		check(e, "reset-vector", g,
		    strcmp(rv, "0x0") && !strcmp(rv, rv1), json_string(want),
		    json_string(rv));
	}
	if (!gn->online_first) {
		check(e, "bring-up-finished", g, 0, json_true(), json_false());
		return;
	}
	check(e, "cpus-online", g,
	    iget(gn->online_first, "cpus_online", -1) == exp_online,
	    json_integer(exp_online),
	    json_integer(iget(gn->online_first, "cpus_online", -1)));
	check(e, "woken-through-mailbox", g, gn->wakes >= gn->cpu_ups,
	    json_integer(gn->cpu_ups), json_integer(gn->wakes));
	if (g >= 2 && strcmp(gn->kind, "kdump")) {
		const json_t *ids = json_object_get(
		    gn->online_first, "apic_ids");
		json_t *want = e->v_eff ?
		    json_deep_copy(
		        json_object_get(e->gen[1].online_first, "apic_ids")) :
		    json_pack("[I]", gn->cpu);
		size_t k;
		json_t *id;

		if (want && e->v_eff && skips_real_bsp(e, gn))
			json_array_foreach (want, k, id)
				if (json_integer_value(id) == e->real_bsp) {
					json_array_remove(want, k);
					break;
				}
		check(e, "apic-ids", g, json_equal(ids, want),
		    want ? want : json_null(), json_incref((json_t *)ids));
	}
	if (!strcmp(gn->kind, "kdump")) {
		json_int_t want = e->gen[g - 1].online_before_panic;
		json_int_t got = gn->crash_notes ?
		    iget(gn->crash_notes, "count", -1) :
		    -1;

		check(e, "crash-notes", g, got == want, json_integer(want),
		    json_integer(got));
	}
}

static void
check_records(struct eval *e, const json_t *records)
{
	const json_t *r;
	size_t i;
	const char *hash0 = NULL;
	int idle_bad = 0, idle_n = 0, off_bad = 0, off_n = 0;
	json_t *idle_obs = NULL, *off_obs = NULL;

	json_array_foreach (records, i, r) {
		const char *ev = sget(r, "ev");

		if (!strcmp(ev, "mailbox")) {
			const char *h = sget(r, "fw_half_hash");

			idle_n++;
			if (!hash0)
				hash0 = h;
			if ((iget(r, "command", -1) ||
			        iget(r, "reserved", -1) || strcmp(h, hash0)) &&
			    !idle_bad++)
				idle_obs = json_deep_copy(r);
		} else if (!strcmp(ev, "offline")) {
			int ok = json_is_true(json_object_get(r, "ok"));
			int want = e->v_eff;

			off_n++;
			if (ok != want && !off_bad++)
				off_obs = json_deep_copy(r);
		}
	}
	if (idle_n)
		check(e, "mailbox-idle", 0, !idle_bad,
		    json_pack("{s:i, s:i, s:s}", "command", 0, "reserved", 0,
		        "fw_half", "unchanged"),
		    idle_obs ? idle_obs : json_string("as expected"));
	if (off_n)
		check(e, "offline", 0, !off_bad,
		    json_string(e->v_eff ? "offline works" :
		                           "offline refused (EOPNOTSUPP)"),
		    off_obs ? off_obs :
		              json_string(e->v_eff ? "offline works" :
		                                     "offline refused"));
}

static json_t *
generation_rows(struct eval *e)
{
	json_t *rows = json_array();

	for (int g = 1; g <= e->last_gen; g++) {
		struct gen *gn = &e->gen[g];

		if (!gn->seen)
			continue;
		json_array_append_new(rows,
		    json_pack("{s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:s}",
		        "gen", g, "kind", gn->kind, "cpu", gn->cpu,
		        "cpus_online",
		        gn->online_first ?
		            iget(gn->online_first, "cpus_online", -1) :
		            -1,
		        "expected_online", expected_online(e, gn),
		        "madt_version", iget(gn->madt, "version", -1),
		        "madt_length", iget(gn->madt, "length", -1), "mailbox",
		        sget(gn->madt, "mailbox"), "reset_vector",
		        sget(gn->madt, "reset_vector")));
	}
	return rows;
}

static const char *
verdict(struct eval *e, char *reason, size_t rsz)
{
	const char *how = sget(e->host_exit, "how");
	size_t i;
	const json_t *c;

	if (!strcmp(how, "infra")) {
		snprintf(reason, rsz, "host: %s", sget(e->host_exit, "detail"));
		return "infra";
	}
	if (!strcmp(how, "timeout")) {
		snprintf(reason, rsz, "watchdog fired in generation %d",
		    e->last_gen);
		return "hang";
	}
	if (!strcmp(how, "hang")) { /* called early: a host-hang record */
		snprintf(reason, rsz,
		    "hang called from the mailbox in generation %d",
		    e->last_gen);
		return "hang";
	}
	if (!e->done) {
		snprintf(reason, rsz, "guest ended without a done record (%s)",
		    how[0] ? how : "no host-exit record");
		return "crash";
	}
	if (!strcmp(sget(e->done, "status"), "panic")) {
		snprintf(reason, rsz, "kernel panic with no crash kernel");
		return "crash";
	}
	json_array_foreach (e->checks, i, c)
		if (!json_is_true(json_object_get(c, "ok"))) {
			snprintf(
			    reason, rsz, "check %s failed", sget(c, "check"));
			return "fail";
		}
	reason[0] = 0;
	return "pass";
}

json_t *
invariants_evaluate(const struct runspec *rs, const json_t *records)
{
	struct eval *ep = calloc(1, sizeof(*ep));
	const json_t *gr;
	size_t gi;
	char reason[256];
	int want_gens = runspec_generations(rs->steps), booted = 0;
	json_t *out;
	const char *v;

	ep->rs = rs;
	/* size the per-generation table by the highest generation recorded */
	json_array_foreach (records, gi, gr) {
		json_int_t g = iget(gr, "gen", 0);

		if (g > ep->max_gen && g <= MAX_GENS)
			ep->max_gen = g;
	}
	ep->gen = calloc(ep->max_gen + 2,
	    sizeof(*ep->gen)); /* gen[1] is read even with no records */
	ep->v_eff = rs->mailbox_version >= 1 &&
	    !has_quirk(rs, "v1-short-entry");
	ep->checks = json_array();
	ep->real_bsp = -1;
	fold(ep, records);
	if (ep->real_bsp < 0 && ep->max_gen >= 1 && ep->gen[1].seen)
		ep->real_bsp =
		    ep->gen[1].cpu; /* no fw-ready: the first kernel's CPU */

	for (int g = 1; g <= ep->last_gen; g++)
		if (ep->gen[g].seen) {
			booted++;
			check_generation(ep, g, ep->gen[1].madt);
		}
	check_records(ep, records);
	check(ep, "generations", 0, booted == want_gens,
	    json_integer(want_gens), json_integer(booted));
	check(ep, "no-kernel-errors", 0, !ep->first_error,
	    json_string("no error records"),
	    ep->first_error ? json_string(sget(ep->first_error, "msg")) :
	                      json_string("none"));
	v = verdict(ep, reason, sizeof(reason));
	out = json_pack("{s:s, s:s, s:o, s:o}", "verdict", v, "reason", reason,
	    "checks", ep->checks, "generations", generation_rows(ep));
	free(ep->gen);
	free(ep);
	return out;
}
