/*
 * ctest_deploy.c: what a deployment relies on : a host's agent token can be rotated, a revoked
 * token handing its host over to the next agent token.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "suite.h"
#include "../unit/test.h"

/* A new agent token through the API: its id into *id, the token (static). */
static const char *
api_agent_token(const char *name, json_int_t *id)
{
	static char tok[2][80];
	static int next;
	char *out = tok[next++ % 2];
	long st;
	json_t *j;

	j = jcallj(&S, admin, "POST", "/api/v1/admin/tokens",
	    json_pack("{s:s, s:s}", "name", name, "role", "agent"), &st);
	snprintf(out, 80, "%s", st == 201 ? jstr(j, "token") : "");
	*id = jint(j, "id");
	json_decref(j);
	return out;
}

TEST(revoked_owner_token_hands_host_over)
{
	const char *reg = "{\"name\": \"rotated\", \"slots\": 1,"
	                  " \"libvirt_uri\": \"qemu:///system\"}";
	json_int_t old_id, new_id, host;
	char path[64], old[80], new[80];
	long st;
	json_t *j;

	snprintf(old, sizeof(old), "%s", api_agent_token("rot-old", &old_id));
	snprintf(new, sizeof(new), "%s", api_agent_token("rot-new", &new_id));
	REQUIRE(old[0] != '\0' && new[0] != '\0');
	j = jcall(&S, old, "POST", "/api/v1/agents/register", reg, &st);
	CHECK_EQ_INT(st, 200);
	host = jint(j, "host");
	json_decref(j);

	/* While the old token is valid, the host stays its own. */
	j = jcall(&S, new, "POST", "/api/v1/agents/register", reg, &st);
	expect_error(st, j, 409, "registered with another agent token");
	json_decref(j);

	snprintf(path, sizeof(path), "/api/v1/admin/tokens/%lld/revoke",
	    (long long)old_id);
	json_decref(jcall(&S, admin, "POST", path, NULL, &st));
	CHECK_EQ_INT(st, 200);
	j = jcall(&S, new, "POST", "/api/v1/agents/register", reg, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(jint(j, "host"), host); /* the same host, its history */
	json_decref(j);
	j = jcall(&S, new, "POST", "/api/v1/agents/heartbeat", NULL, &st);
	CHECK_EQ_INT(st, 200);
	json_decref(j);
	j = jcall(&S, old, "POST", "/api/v1/agents/heartbeat", NULL, &st);
	CHECK_EQ_INT(st, 401);
	json_decref(j);

	/* And the new owner keeps it against every other token. */
	j = jcall(&S, ag3, "POST", "/api/v1/agents/register", reg, &st);
	expect_error(st, j, 409, "registered with another agent token");
	json_decref(j);
	j = jcallj(&S, admin, "POST", "/api/v1/admin/hosts/rotated",
	    json_pack("{s:s}", "state", "maintenance"), &st);
	CHECK_EQ_INT(st, 200);
	json_decref(j);
}

int
main(int argc, char **argv)
{
	return suite_main(argc, argv, "ctest_deploy", test_main);
}
