/* test_auth.c: API tokens (controller/auth.c) on a real database. */
#include "ctl_fixture.h"
#include "test.h"

#include "../../controller/auth.h"

TEST(roles_by_name)
{
	CHECK_EQ_INT(auth_role_parse("admin"), ROLE_ADMIN);
	CHECK_EQ_INT(auth_role_parse("submitter"), ROLE_SUBMITTER);
	CHECK_EQ_INT(auth_role_parse("agent"), ROLE_AGENT);
	CHECK_EQ_INT(auth_role_parse("reader"), ROLE_READER);
	CHECK_EQ_INT(auth_role_parse("root"), ROLE_NONE);
	CHECK_EQ_INT(auth_role_parse(""), ROLE_NONE);
	CHECK_STR_EQ(auth_role_name(ROLE_SUBMITTER), "submitter");
	CHECK_STR_EQ(auth_role_name(auth_role_parse("agent")), "agent");
}

TEST(a_created_token_checks_with_its_role_and_id)
{
	struct fixture fx;
	char tok[AUTH_TOKEN_LEN + 1], tok2[AUTH_TOKEN_LEN + 1];
	enum role role = ROLE_NONE;
	int64_t id, id2, got = 0;

	REQUIRE(fixture_open(&fx) == 0);
	id = auth_token_create(fx.db, "ci", ROLE_SUBMITTER, tok);
	id2 = auth_token_create(fx.db, "h1", ROLE_AGENT, tok2);
	CHECK(id > 0 && id2 > id);
	CHECK_EQ_INT(strlen(tok), AUTH_TOKEN_LEN);
	CHECK_EQ_INT(strspn(tok, "0123456789abcdef"), AUTH_TOKEN_LEN);
	CHECK(strcmp(tok, tok2) != 0);
	CHECK_EQ_INT(auth_token_check(fx.db, tok, &role, &got), 0);
	CHECK_EQ_INT(role, ROLE_SUBMITTER);
	CHECK_EQ_INT(got, id);
	CHECK_EQ_INT(auth_token_check(fx.db, tok2, &role, &got), 0);
	CHECK_EQ_INT(role, ROLE_AGENT);
	CHECK_EQ_INT(got, id2);
	fixture_close(&fx);
}

TEST(only_the_hash_is_stored)
{
	struct fixture fx;
	char tok[AUTH_TOKEN_LEN + 1];
	int64_t n = -1;

	REQUIRE(fixture_open(&fx) == 0);
	REQUIRE(auth_token_create(fx.db, "ci", ROLE_READER, tok) > 0);
	CHECK_EQ_INT(
	    db_int(fx.db, &n,
	        "SELECT count(*) FROM tokens WHERE"
	        " length(hash) = 32 AND instr(lower(hex(hash)), ?) = 0",
	        "t", tok),
	    1);
	CHECK_EQ_INT(n, 1);
	fixture_close(&fx);
}

TEST(unknown_revoked_and_malformed_tokens_are_refused)
{
	struct fixture fx;
	char tok[AUTH_TOKEN_LEN + 1], other[AUTH_TOKEN_LEN + 1];
	enum role role;
	int64_t id, got;

	REQUIRE(fixture_open(&fx) == 0);
	REQUIRE((id = auth_token_create(fx.db, "ci", ROLE_ADMIN, tok)) > 0);
	memcpy(other, tok, sizeof(other));
	other[0] = other[0] == 'a' ? 'b' : 'a';
	CHECK_EQ_INT(auth_token_check(fx.db, other, &role, &got), -1);
	CHECK_EQ_INT(auth_token_check(fx.db, "", &role, &got), -1);
	CHECK_EQ_INT(auth_token_check(fx.db, "abc", &role, &got), -1);
	other[5] = 'G'; /* not hex */
	CHECK_EQ_INT(auth_token_check(fx.db, other, &role, &got), -1);
	REQUIRE(db_exec(fx.db, NULL,
	            "UPDATE tokens SET revoked = 1 WHERE"
	            " id = ?",
	            "i", id) == 0);
	CHECK_EQ_INT(auth_token_check(fx.db, tok, &role, &got), -1);
	fixture_close(&fx);
}

int
main(int argc, char **argv)
{
	return test_main(argc, argv);
}
