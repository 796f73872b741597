/*
 * auth.c: API tokens (see auth.h).
 */
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth.h"
#include "log.h"
#include "util.h"

static const char *const role_names[] = {
	[ROLE_NONE] = "none",
	[ROLE_READER] = "reader",
	[ROLE_AGENT] = "agent",
	[ROLE_SUBMITTER] = "submitter",
	[ROLE_ADMIN] = "admin",
};

const char *
auth_role_name(enum role r)
{
	return r <= ROLE_ADMIN ? role_names[r] : "none";
}

enum role
auth_role_parse(const char *name)
{
	int r;

	for (r = ROLE_READER; r <= ROLE_ADMIN; r++) {
		if (strcmp(name, role_names[r]) == 0)
			return (enum role)r;
	}
	return ROLE_NONE;
}

static int
sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 &&
	        n == 32 ?
	    0 :
	    -1;
}

int64_t
auth_token_create(struct db *db, const char *name, enum role role,
    char token_out[AUTH_TOKEN_LEN + 1])
{
	unsigned char raw[32], hash[32];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(raw)) {
		if ((n = getrandom(raw + got, sizeof(raw) - got, 0)) < 0) {
			log_warn("getrandom");
			return -1;
		}
		got += (size_t)n;
	}
	wf_hex(token_out, raw, sizeof(raw));
	if (sha256(token_out, AUTH_TOKEN_LEN, hash) == -1)
		return -1;
	if (db_exec(db, NULL,
	        "INSERT INTO tokens (name, role, hash,"
	        " created_at) VALUES (?, ?, ?, ?)",
	        "ttbi", name, auth_role_name(role), hash, sizeof(hash),
	        db_now_ms()) == -1)
		return -1;
	return db_last_id(db);
}

int
auth_token_check(
    struct db *db, const char *token, enum role *role, int64_t *token_id)
{
	unsigned char hash[32];
	char hex[65];
	const char *stored;
	json_t *row;
	int rc = -1;

	if (strlen(token) != AUTH_TOKEN_LEN ||
	    strspn(token, "0123456789abcdef") != AUTH_TOKEN_LEN)
		return -1;
	if (sha256(token, AUTH_TOKEN_LEN, hash) == -1)
		return -1;
	/*
	 * The lookup is by hash (an index); the constant-time compare keeps
	 * the final equality from leaking anything either way.
	 */
	if ((row = db_row(db,
	         "SELECT id, role, lower(hex(hash)) AS hash FROM"
	         " tokens WHERE hash = ? AND revoked = 0",
	         "b", hash, sizeof(hash))) == NULL)
		return -1;
	wf_hex(hex, hash, sizeof(hash));
	stored = json_string_value(json_object_get(row, "hash"));
	if (stored == NULL || strlen(stored) != 2 * sizeof(hash) ||
	    CRYPTO_memcmp(stored, hex, 2 * sizeof(hash)) != 0)
		goto out;
	*token_id = json_integer_value(json_object_get(row, "id"));
	*role = auth_role_parse(
	    json_string_value(json_object_get(row, "role")));
	rc = *role == ROLE_NONE ? -1 : 0;
out:
	json_decref(row);
	return rc;
}
