/*
 * jwt.h: verifying JSON Web Tokens (RFC 7519) signed by an identity
 * provider, as PostgREST and Hasura accept them.
 *
 * The verifier is built once from the configuration: one HS256 secret, or
 * the public keys of a JWKS document, or one PEM public key. The algorithm
 * a token is checked with comes from the key, never from the token: an
 * HS256 secret checks only "alg": "HS256", an RSA key only RS256, an EC
 * P-256 key only ES256, and "none" is never accepted. Then the time claims
 * (exp, nbf, iat, with a clock skew), the issuer and the audience are
 * checked, and the role and the name are read at the configured claim
 * paths.
 *
 * Claim paths use PostgREST's JSPath syntax (jwt-role-claim-key): a '.'
 * before each key, a key of letters, digits, '_', '$' and '@' or any
 * characters but '"' between double quotes, each key followed by any
 * number of array indexes: `.role`, `.realm_access.roles[0]`,
 * `."https://hasura.io/jwt/claims"."x-hasura-default-role"`. (PostgREST's
 * filter and slice operators are not supported: such a path is refused at
 * start-up.)
 *
 * A verifier is read only once built: jwt_verify may run on any number of
 * threads at once.
 */
#ifndef INSIGHTS_AUTH_JWT_H
#define INSIGHTS_AUTH_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

/* The longest token jwt_verify reads; longer ones fail before any work. */
#define JWT_TOKEN_MAX 8192
/* The configuration's default clock skew, in seconds. */
#define JWT_SKEW_DEFAULT 30

struct jwt_config {
	const char *secret_file;      /* HS256: the file's bytes (a trailing newline stripped) are the secret; >= 32 bytes required */
	const char *jwks_file;        /* a JWKS document: keys with kty RSA (n,e), EC (crv P-256, x, y), optional kid, optional alg/use */
	const char *public_key_file;  /* a PEM public key: RSA -> RS256, EC P-256 -> ES256 */
	const char *issuer;           /* NULL: not checked; else `iss` must equal it */
	const char *audience;         /* NULL: not checked; else `aud` (string or array of strings) must contain it */
	const char *role_claim;       /* PostgREST's JSPath syntax; NULL: ".role" */
	const char *name_claim;       /* same syntax; NULL: ".sub" */
	unsigned skew_s;              /* allowed clock skew, used as is (0: none); the configuration's default is JWT_SKEW_DEFAULT */
};

struct jwt_verifier;

/*
 * Loads the key the configuration names (exactly one of secret_file,
 * jwks_file and public_key_file) and parses the claim paths into a new
 * verifier (free with jwt_verifier_free). E_INVALID when none or more than
 * one key is named, for a file that cannot be read or holds no usable key
 * (a secret shorter than 32 bytes, an RSA key under 2048 bits, a curve
 * other than P-256, a JWKS without one usable signing key), and for a bad
 * claim path; the message names the file or the setting, never key bytes.
 * RSA and EC keys of a JWKS whose `use` is not "sig", or whose `alg` is
 * not their type's algorithm, are skipped, as are other key types.
 * E_INTERNAL when OpenSSL fails for want of memory.
 */
enum status jwt_verifier_new(const struct jwt_config *cfg, struct jwt_verifier **out,
			     struct error *err);
/* Frees `v` (NULL is fine), wiping the secret. */
void jwt_verifier_free(struct jwt_verifier *v);

/*
 * Whether `credential` (NULL: false) has a JWT's shape: three parts of
 * base64url characters separated by two dots, the first two non-empty.
 * Lets the caller choose between an API token and a JWT; says nothing of
 * validity.
 */
bool jwt_looks_like(const char *credential);

#define JWT_NAME_MAX 128
#define JWT_ROLE_MAX 64

struct jwt_identity {
	char name[JWT_NAME_MAX];   /* from name_claim: a string, or a number printed; "" when absent */
	char role[JWT_ROLE_MAX];   /* from role_claim: a non-empty string */
	int64_t expires;           /* exp, 0 when absent */
};

/*
 * Verifies `token` at time `now` (seconds since the epoch) and fills `out`:
 *
 *   - at most JWT_TOKEN_MAX bytes, three base64url parts (no padding, no
 *     stray bits), a header and a payload that are JSON objects;
 *   - the header's `alg` is the configured key's algorithm, and the
 *     signature (raw r||s of 64 bytes for ES256) verifies with that key; in
 *     a JWKS, a `kid` selects the keys that may verify it, without one
 *     every key of the algorithm is tried; a `crit` header is refused;
 *   - `exp`, when present, is not before now - skew; `nbf` and `iat`, when
 *     present, are not after now + skew (all numbers);
 *   - `iss` equals the configured issuer, and `aud` is or contains the
 *     configured audience (when configured: then they are required);
 *   - a role: a non-empty string shorter than JWT_ROLE_MAX, without NUL, at
 *     role_claim; a name at name_claim, if any, that fits JWT_NAME_MAX.
 *
 * OK, or E_INVALID with one short reason for the server's log as the
 * detail: "too long", "malformed", "algorithm not allowed", "unknown key",
 * "bad signature", "expired", "not yet valid", "wrong issuer", "wrong
 * audience", "no role claim", "bad name claim"; `out` is then zeroed.
 * Neither the token nor key material is ever in the message. E_INTERNAL
 * when OpenSSL fails for want of memory.
 */
enum status jwt_verify(const struct jwt_verifier *v, const char *token, int64_t now,
		       struct jwt_identity *out, struct error *err);

#endif
