/*
 * auth.h: API tokens and roles. A token is 32 random bytes from
 * getrandom(2) as 64 hex digits; only its SHA-256 is stored, and a
 * presented token is compared with CRYPTO_memcmp.
 */
#ifndef WF_CTL_AUTH_H
#define WF_CTL_AUTH_H

#include <stdint.h>

#include "db.h"

#define AUTH_TOKEN_LEN 64 /* hex digits */

enum role {
	ROLE_NONE = 0, /* no token given */
	ROLE_READER,
	ROLE_AGENT,
	ROLE_SUBMITTER,
	ROLE_ADMIN,
};

const char *auth_role_name(enum role r);
/* ROLE_NONE for an unknown name. */
enum role auth_role_parse(const char *name);

/*
 * Creates a token; token_out gets the text (AUTH_TOKEN_LEN + 1 bytes), which
 * is never stored. Returns the token id or -1. Caller holds the db lock.
 */
int64_t auth_token_create(struct db *db, const char *name, enum role role,
    char token_out[AUTH_TOKEN_LEN + 1]);

/*
 * Looks up a presented token: 0 with its role and id, or -1 when it is
 * unknown, revoked or malformed. Caller holds the db lock.
 */
int auth_token_check(
    struct db *db, const char *token, enum role *role, int64_t *token_id);

#endif
