/*
 * token.h: API tokens, the service's own bearer credentials.
 *
 * A token is "ins_", then 32 random bytes from the OS written in base62 on
 * exactly 43 characters (62^43 > 2^256; leading '0's pad it), then the
 * CRC32 (IEEE 802.3) of those 43 characters in base62 on exactly 6
 * characters (62^6 > 2^32). The prefix lets secret scanners find leaked
 * tokens; the checksum rejects typos and random strings offline, without a
 * database lookup (GitHub's tokens are made the same way). The checksum is
 * no protection: anyone can compute it; only the database decides whether
 * a well-formed token exists.
 *
 * The database never holds a token, only its SHA-256 (auth_hash_hex): a
 * stolen table gives no usable credential. 256 random bits need no salt
 * nor a slow hash.
 */
#ifndef INSIGHTS_AUTH_TOKEN_H
#define INSIGHTS_AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

#define AUTH_TOKEN_PREFIX "ins_"
#define AUTH_TOKEN_PREFIX_LEN 4
#define AUTH_TOKEN_BODY_LEN 43  /* base62 of 32 random bytes */
#define AUTH_TOKEN_CRC_LEN 6    /* base62 of the body's CRC32 */
#define AUTH_TOKEN_LEN (AUTH_TOKEN_PREFIX_LEN + AUTH_TOKEN_BODY_LEN + AUTH_TOKEN_CRC_LEN)
#define AUTH_TOKEN_SIZE (AUTH_TOKEN_LEN + 1)
#define AUTH_HASH_HEX 65 /* SHA-256 in lowercase hex + NUL */

/*
 * Writes a new token (NUL-terminated) to `out`, from the OS's random bytes
 * (OpenSSL RAND_bytes). E_INTERNAL when no randomness is available; `out`
 * then holds "".
 */
enum status auth_token_new(char out[AUTH_TOKEN_SIZE], struct error *err);

/*
 * Whether the C string `s` (NULL: false) has a token's shape: the prefix,
 * exactly AUTH_TOKEN_LEN characters, base62 after the prefix, and a
 * checksum matching the body. Any one character changed fails it.
 */
bool auth_token_well_formed(const char *s);

/* Writes the SHA-256 of s[0..len) in lowercase hex to `out`: what the database stores. */
void auth_hash_hex(const char *s, size_t len, char out[AUTH_HASH_HEX]);

/* Whether a[0..n) equals b[0..n), in a time that does not depend on where they differ. */
bool auth_equal(const void *a, const void *b, size_t n);

#endif
