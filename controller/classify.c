/*
 * classify.c: a case's regression class from its attempts and the previous
 * night's (see classify.h). The order of the rules is the policy:
 * unfinished, infra only, flaky, known, then the transitions.
 */
#include <stddef.h>

#include "classify.h"

static const char *const names[] = {
	[CLASS_PENDING] = "pending",
	[CLASS_PASS] = "pass",
	[CLASS_REGRESSION] = "regression",
	[CLASS_FIXED] = "fixed",
	[CLASS_STILL_FAILING] = "still_failing",
	[CLASS_NEW_FAILING] = "new_failing",
	[CLASS_FLAKY] = "flaky",
	[CLASS_INFRA] = "infra",
	[CLASS_KNOWN] = "known",
};

const char *
classify_name(enum case_class c)
{
	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

int
classify_is_regression(enum case_class c)
{
	return c == CLASS_REGRESSION;
}

/* 1 judged as expected, 0 judged not, -1 nothing to compare with. */
static int
judged_ok(const struct case_outcome *o)
{
	if (o == NULL || !o->present || !o->finished || o->n_ok + o->n_bad == 0)
		return -1;
	return o->last_ok;
}

enum case_class
classify_case(const struct case_outcome *prev, const struct case_outcome *cur)
{
	int before = judged_ok(prev);

	if (!cur->finished)
		return CLASS_PENDING;
	/* Host, libvirt or QEMU trouble says nothing about the kernel. */
	if (cur->n_ok + cur->n_bad == 0)
		return CLASS_INFRA;
	if (cur->n_ok > 0 && cur->n_bad > 0)
		return CLASS_FLAKY;
	if (cur->last_ok)
		return before == 0 ? CLASS_FIXED : CLASS_PASS;
	if (cur->known)
		return CLASS_KNOWN;
	if (before == -1)
		return CLASS_NEW_FAILING;
	return before == 1 ? CLASS_REGRESSION : CLASS_STILL_FAILING;
}
