/*
 * token.c: the API tokens of token.h.
 *
 * Base62 is the 32 bytes read as one big-endian number, divided by 62
 * until nothing is left (43 digits at most); the checksum is CRC32 by the
 * bitwise loop (a checksum, not cryptography: no table needed).
 */
#include "auth/token.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/banned.h"

#define TOKEN_RANDOM_BYTES 32

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* CRC32 (IEEE 802.3, reflected, as zlib's crc32()) of s[0..n). */
static uint32_t crc32_of(const char *s, size_t n)
{
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		crc ^= (unsigned char)s[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/*
 * Writes the big-endian number num[0..n) in base62 on exactly `width`
 * digits (left-padded with '0'), consuming `num` (it ends as zero). The
 * number must fit.
 */
static void base62_fixed(unsigned char *num, size_t n, char *out, size_t width)
{
	for (size_t pos = width; pos-- > 0;) {
		unsigned rem = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned cur = rem * 256u + num[i];
			num[i] = (unsigned char)(cur / 62u);
			rem = cur % 62u;
		}
		out[pos] = b62[rem];
	}
}

/* Writes the checksum of body[0..AUTH_TOKEN_BODY_LEN) to out[0..AUTH_TOKEN_CRC_LEN). */
static void checksum(const char *body, char *out)
{
	uint32_t crc = crc32_of(body, AUTH_TOKEN_BODY_LEN);
	unsigned char num[4] = { (unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
				 (unsigned char)(crc >> 8), (unsigned char)crc };
	base62_fixed(num, sizeof(num), out, AUTH_TOKEN_CRC_LEN);
}

static bool is_base62(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

enum status auth_token_new(char out[AUTH_TOKEN_SIZE], struct error *err)
{
	unsigned char rnd[TOKEN_RANDOM_BYTES];
	out[0] = '\0';
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		OPENSSL_cleanse(rnd, sizeof(rnd));
		return error_set(err, E_INTERNAL, "no randomness available for a new token");
	}
	memcpy(out, AUTH_TOKEN_PREFIX, AUTH_TOKEN_PREFIX_LEN);
	char *body = out + AUTH_TOKEN_PREFIX_LEN;
	base62_fixed(rnd, sizeof(rnd), body, AUTH_TOKEN_BODY_LEN);
	checksum(body, body + AUTH_TOKEN_BODY_LEN);
	out[AUTH_TOKEN_LEN] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return OK;
}

bool auth_token_well_formed(const char *s)
{
	if (!s || strnlen(s, AUTH_TOKEN_LEN + 1) != AUTH_TOKEN_LEN ||
	    memcmp(s, AUTH_TOKEN_PREFIX, AUTH_TOKEN_PREFIX_LEN))
		return false;
	const char *body = s + AUTH_TOKEN_PREFIX_LEN;
	for (size_t i = 0; i < AUTH_TOKEN_BODY_LEN + AUTH_TOKEN_CRC_LEN; i++)
		if (!is_base62(body[i]))
			return false;
	char want[AUTH_TOKEN_CRC_LEN];
	checksum(body, want);
	return !memcmp(want, body + AUTH_TOKEN_BODY_LEN, AUTH_TOKEN_CRC_LEN);
}

void auth_hash_hex(const char *s, size_t len, char out[AUTH_HASH_HEX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		/* Only when memory runs out or OpenSSL is broken: nothing to answer. */
		fprintf(stderr, "fatal: SHA-256 failed\n");
		abort();
	}
	for (unsigned i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * mdlen] = '\0';
}

bool auth_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
