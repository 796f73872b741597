/*
 * The step list: what a scenario asks the kernel to do after its cold boot.
 *
 *   kexec[:POLICY][*K]   K kexecs; POLICY (6.11 | pre-6.11) for the next kernel
 *   cycle[*K]            offline then online every AP, K times
 *   offline:APIC, online:APIC
 *   crash@CPU            panic on the CPU with that index in the MADT; kdump follows
 *   flood:MIB            MIB MiB (1-4096) of numbered 128-byte log lines on COM1
 *   junk:MIB             MIB MiB of 8 KiB record-like lines on COM2: each breaks the
 *                        4096-byte record contract, so readers must drop them
 *
 * flood and junk test what the runners, agent and controller do with
 * oversized guest output (caps, truncation markers, bounded memory).
 *
 * The list travels unchanged in the command line; the position (step index
 * and repetitions done) travels in the boot information, so each generation
 * picks up where the previous one jumped away.
 */
#include "kernel.h"

#define FLOOD_MAX_MIB 4096
#define FLOOD_LINE 128 /* bytes per flood line, newline included */
#define JUNK_LINE 8192 /* bytes per junk line: twice the record limit */

struct step {
	char name[16]; /* kexec, cycle, offline, online, crash, flood, junk */
	char text[48]; /* the item as written */
	u64 arg; /* APIC ID, CPU index, MiB */
	u32 policy; /* kexec: POLICY_* for the next kernel */
	u32 reps;
};

static int
parse_step(const char *item, size_t len, struct step *s, const char **why)
{
	char buf[48];
	char *p, *star;
	size_t n;

	memset(s, 0, sizeof(*s));
	if (len == 0 || len >= sizeof(buf)) {
		*why = "empty or overlong step";
		return -1;
	}
	memcpy(buf, item, len);
	buf[len] = 0;
	memcpy(s->text, buf, len + 1);
	s->reps = 1;
	star = strchr(buf, '*');
	if (star) {
		u64 reps = 0;

		*star = 0;
		if (parse_u64(star + 1, &reps) != strlen(star + 1) ||
		    reps == 0 || reps > 1000) {
			*why = "bad repeat count";
			return -1;
		}
		s->reps = reps;
	}
	for (p = buf; *p && *p != ':' && *p != '@'; p++)
		;
	n = p - buf;
	if (n >= sizeof(s->name)) {
		*why = "unknown step";
		return -1;
	}
	memcpy(s->name, buf, n);
	s->name[n] = 0;
	if (!strcmp(s->name, "kexec")) {
		if (*p == ':' && !strcmp(p + 1, "pre-6.11"))
			s->policy = POLICY_PRE611;
		else if (*p == ':' && !strcmp(p + 1, "6.11"))
			s->policy = POLICY_611;
		else if (*p) {
			*why = "kexec takes :6.11 or :pre-6.11";
			return -1;
		}
		return 0;
	}
	if (!strcmp(s->name, "cycle") && !*p)
		return 0;
	if ((!strcmp(s->name, "offline") || !strcmp(s->name, "online")) &&
	    *p == ':' && parse_u64(p + 1, &s->arg) == strlen(p + 1) &&
	    s->arg < MAX_CPUS)
		return 0;
	if (!strcmp(s->name, "crash") && *p == '@' &&
	    parse_u64(p + 1, &s->arg) == strlen(p + 1))
		return 0;
	if ((!strcmp(s->name, "flood") || !strcmp(s->name, "junk")) &&
	    *p == ':' && parse_u64(p + 1, &s->arg) == strlen(p + 1) &&
	    s->arg >= 1 && s->arg <= FLOOD_MAX_MIB)
		return 0;
	*why = "unknown step or bad argument";
	return -1;
}

/* Finds item number `index` of the comma-separated list; false past the end. */
static bool
nth_item(const char *list, u32 index, const char **item, size_t *len)
{
	const char *p = list;

	for (u32 i = 0; *p; i++) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (i == index) {
			*item = p;
			*len = n;
			return true;
		}
		p += n + (e ? 1 : 0);
	}
	return false;
}

static void
report_step(const struct step *s, bool ok)
{
	struct rec r;

	rec_begin(&r, "step");
	rec_u64(&r, "index", k.bi.step);
	rec_str(&r, "name", s->text);
	rec_bool(&r, "ok", ok);
	rec_end(&r);
}

static void
report_offline(u32 apic_id, bool ok, const char *err)
{
	struct rec r;

	rec_begin(&r, "offline");
	rec_u64(&r, "apic_id", apic_id);
	rec_bool(&r, "ok", ok);
	rec_str(&r, "err", err);
	rec_end(&r);
}

static bool
do_offline(u32 apic_id)
{
	const char *err = "";
	int rc = cpu_down(apic_id, &err);

	report_offline(apic_id, rc == 0, err);
	return rc == 0;
}

static bool
do_cycle(void)
{
	u32 ids[MAX_CPUS], n = cpus_online(ids);
	bool ok = true;

	for (u32 i = 0; i < n; i++)
		if (ids[i] != k.self)
			ok &= do_offline(ids[i]);
	for (u32 i = 0; i < n; i++)
		if (ids[i] != k.self && k.cpu[ids[i]].state != CPU_ONLINE)
			ok &= cpu_up(ids[i]) == 0;
	report_online();
	return ok;
}

/* flood:MIB: numbered log lines on COM1, exactly MIB MiB. */
static void
do_flood(u64 mib)
{
	u64 lines = (mib << 20) / FLOOD_LINE;
	char line[FLOOD_LINE];
	size_t n;

	klog("flood: %lu MiB of log lines on COM1", mib);
	for (u64 i = 0; i < lines; i++) {
		n = snprintf(line, sizeof(line),
		    "[%8lu] os: flood line %lu of %lu ", time_us(), i + 1,
		    lines);
		for (; n < FLOOD_LINE - 1; n++)
			line[n] = 'a' + n % 26;
		line[FLOOD_LINE - 1] = '\n';
		report_raw(COM1, line, FLOOD_LINE);
	}
	klog("flood: done");
}

/* junk:MIB: lines that look like records but are 8 KiB long, on COM2. */
static void
do_junk(u64 mib)
{
	static char line[JUNK_LINE];
	u64 lines = (mib << 20) / JUNK_LINE;
	size_t n;

	klog("junk: %lu MiB of overlong record-like lines on COM2", mib);
	for (u64 i = 0; i < lines; i++) {
		n = snprintf(line, sizeof(line),
		    "{\"v\":1,\"src\":\"os\",\"gen\":%u,\"ev\":\"junk\","
		    "\"t_us\":%lu,\"line\":%lu,\"pad\":\"",
		    k.bi.gen, time_us(), i);
		for (; n < JUNK_LINE - 3; n++)
			line[n] = 'x';
		memcpy(line + JUNK_LINE - 3, "\"}\n", 3);
		report_raw(COM2, line, JUNK_LINE);
	}
	klog("junk: done");
}

/* Runs one repetition of a step; returns its success.  kexec and crash do
 * not return. */
static bool
run_one(const struct step *s)
{
	if (!strcmp(s->name, "kexec")) {
		report_mailbox();
		/* the record says the hand-over happened; the next generation
		 * continues the list */
		if (++k.bi.step_rep >= s->reps) {
			report_step(s, true);
			k.bi.step++;
			k.bi.step_rep = 0;
		}
		kexec_next(s->policy);
	}
	if (!strcmp(s->name, "cycle"))
		return do_cycle();
	if (!strcmp(s->name, "offline")) {
		bool ok = do_offline(s->arg);

		report_online();
		return ok;
	}
	if (!strcmp(s->name, "flood") || !strcmp(s->name, "junk")) {
		if (s->name[0] == 'f')
			do_flood(s->arg);
		else
			do_junk(s->arg);
		return true;
	}
	if (!strcmp(s->name, "online")) {
		bool ok = k.cpu[s->arg].state != CPU_ONLINE &&
		    cpu_up(s->arg) == 0;

		report_online();
		return ok;
	}
	/* crash@CPU */
	if (s->arg >= k.ncpus ||
	    k.cpu[k.apic_ids[s->arg]].state != CPU_ONLINE) {
		kerror("crash@%lu: no such online CPU", s->arg);
		return false;
	}
	if (k.apic_ids[s->arg] == k.self)
		panic("crash step");
	WRITE_ONCE(k.cpu[k.apic_ids[s->arg]].request, REQ_PANIC);
	halt_forever(); /* the NMI from the panicking CPU takes us from here */
}

NORETURN void
run_steps(void)
{
	char list[CMDLINE_MAX];
	const char *item, *why = "";
	size_t len;
	struct step s;

	if (!opt_get(k.bi.cmdline, "steps", list, sizeof(list)))
		list[0] = 0;
	while (nth_item(list, k.bi.step, &item, &len)) {
		bool ok = true;

		if (parse_step(item, len, &s, &why) < 0) {
			kerror("step %u: %s", k.bi.step, why);
			kexit("error");
		}
		while (k.bi.step_rep < s.reps) {
			ok &= run_one(&s);
			k.bi.step_rep++;
		}
		report_step(&s, ok);
		k.bi.step++;
		k.bi.step_rep = 0;
		report_mailbox();
	}
	report_online();
	kexit(k.errors ? "error" : "ok");
}
