/*
 * runspec_json.c: a run spec to and from JSON (see runspec_json.h).
 */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "runspec_json.h"
#include "util.h"

json_t *
runspec_to_json(const struct runspec *rs)
{
	json_t *o = json_pack("{s:i, s:i, s:s, s:s, s:s, s:i, s:i, s:i}",
	    "cpus", rs->cpus, "mailbox_version", rs->mailbox_version, "policy",
	    rs->policy, "steps", rs->steps, "quirks", rs->quirks, "kdump_cpus",
	    rs->kdump_cpus, "memory_mb", rs->memory_mb, "timeout_s",
	    rs->timeout_s);

	/* Only when set: a test-kernel job's params stay what they were, so
	 * runs compare with the runs stored before these fields existed. */
	if (o != NULL && rs->kernel[0])
		json_object_set_new(o, "kernel", json_string(rs->kernel));
	if (o != NULL && rs->kernel_package[0])
		json_object_set_new(
		    o, "kernel_package", json_string(rs->kernel_package));
	if (o != NULL && rs->initrd[0])
		json_object_set_new(o, "initrd", json_string(rs->initrd));
	if (o != NULL && rs->append[0])
		json_object_set_new(o, "append", json_string(rs->append));
	if (o != NULL && rs->test_kernel[0])
		json_object_set_new(
		    o, "test_kernel", json_string(rs->test_kernel));
	return o;
}

static int
get_int(const json_t *obj, const char *key, int *out, char **cause)
{
	json_int_t v = *out;

	if (wf_json_get_int(obj, key, 0, -1000000, 1000000, &v, cause) == -1)
		return -1;
	*out = (int)v;
	return 0;
}

static int
get_str(
    const json_t *obj, const char *key, char *out, size_t size, char **cause)
{
	const char *s = NULL;

	if (wf_json_get_str(obj, key, 0, size - 1, &s, cause) == -1)
		return -1;
	if (s != NULL)
		wf_strlcpy(out, s, size);
	return 0;
}

int
runspec_from_json(const json_t *obj, struct runspec *rs, char **cause)
{
	static const char *const keys[] = {
		"cpus",
		"mailbox_version",
		"policy",
		"steps",
		"quirks",
		"kdump_cpus",
		"memory_mb",
		"timeout_s",
		"kernel",
		"kernel_package",
		"initrd",
		"append",
		"test_kernel",
		NULL,
	};

	runspec_init(rs);
	if (!json_is_object(obj)) {
		wf_set_cause(cause, "params: expected an object, not %s",
		    wf_json_type_name(obj));
		return -1;
	}
	if (wf_json_check_keys(obj, keys, cause) == -1 ||
	    get_int(obj, "cpus", &rs->cpus, cause) == -1 ||
	    get_int(obj, "mailbox_version", &rs->mailbox_version, cause) ==
	        -1 ||
	    get_str(obj, "policy", rs->policy, sizeof(rs->policy), cause) ==
	        -1 ||
	    get_str(obj, "steps", rs->steps, sizeof(rs->steps), cause) == -1 ||
	    get_str(obj, "quirks", rs->quirks, sizeof(rs->quirks), cause) ==
	        -1 ||
	    get_int(obj, "kdump_cpus", &rs->kdump_cpus, cause) == -1 ||
	    get_int(obj, "memory_mb", &rs->memory_mb, cause) == -1 ||
	    get_int(obj, "timeout_s", &rs->timeout_s, cause) == -1 ||
	    get_str(obj, "kernel", rs->kernel, sizeof(rs->kernel), cause) ==
	        -1 ||
	    get_str(obj, "kernel_package", rs->kernel_package,
	        sizeof(rs->kernel_package), cause) == -1 ||
	    get_str(obj, "initrd", rs->initrd, sizeof(rs->initrd), cause) ==
	        -1 ||
	    get_str(obj, "append", rs->append, sizeof(rs->append), cause) ==
	        -1 ||
	    get_str(obj, "test_kernel", rs->test_kernel,
	        sizeof(rs->test_kernel), cause) == -1)
		return -1;
	return runspec_validate(rs, cause);
}
