/*
 * fuzz_jwt.c: JWT verification (auth/jwt.c) with an HS256 secret, and the
 * API token check (auth/token.c): what a client puts after "Bearer".
 *
 * The first byte chooses what the rest is (its value modulo 3):
 *   0  a credential as is: jwt_verify, jwt_looks_like, auth_token_well_formed;
 *   1  a payload, signed here with the secret under {"alg":"HS256"}, so
 *      that the claim checks are reached;
 *   2  a header, signed here with the secret over a valid payload, so that
 *      the header checks are reached.
 * Each token goes to two verifiers: the defaults (.role, .sub, no issuer
 * nor audience), and a strict one (issuer, audience, Hasura's namespaced
 * role, a name at an array index).
 *
 * Invariants: the status is OK or E_INVALID; a failure has one of the
 * documented reasons, a zeroed identity and nothing of the signature in its
 * message, and a token over JWT_TOKEN_MAX bytes fails as "too long"; a
 * success looks like a JWT, carries the HMAC-SHA256 of its first two parts
 * under the secret (checked here with OpenSSL), a header whose alg is
 * exactly "HS256", a non-empty role and strings that fit. A well-formed API
 * token has the prefix and length, never looks like a JWT, and any one
 * character changed breaks it.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/jwt.h"
#include "auth/token.h"
#include "lib/buf.h"
#include "lib/banned.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

#define NOW INT64_C(1700000000)
static const char secret[] = "fuzz-secret-0123456789abcdef-0123456789";
static struct jwt_verifier *plain, *strict;

static const char *const reasons[] = {
	"too long", "malformed", "algorithm not allowed", "unknown key", "bad signature",
	"expired", "not yet valid", "wrong issuer", "wrong audience", "no role claim",
	"bad name claim",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char path[] = "/tmp/insights-fuzz-jwt-XXXXXX";
	int fd = mkstemp(path);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, secret, sizeof(secret) - 1) == (ssize_t)(sizeof(secret) - 1));
	close(fd);
	struct error err = ERROR_INIT;
	struct jwt_config cfg = { .secret_file = path, .skew_s = JWT_SKEW_DEFAULT };
	FUZZ_CHECK(jwt_verifier_new(&cfg, &plain, &err) == OK);
	cfg.issuer = "https://idp.example";
	cfg.audience = "insights";
	cfg.role_claim = ".\"https://hasura.io/jwt/claims\".\"x-hasura-default-role\"";
	cfg.name_claim = ".users[1].id";
	FUZZ_CHECK(jwt_verifier_new(&cfg, &strict, &err) == OK);
	unlink(path);
	return 0;
}

static void add_b64url(struct buf *b, const void *data, size_t len)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = data;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			buf_addch(b, a[(acc >> bits) & 63]);
		}
	}
	if (bits)
		buf_addch(b, a[(acc << (6 - bits)) & 63]);
}

/* HMAC-SHA256 of s[0..n) under the secret into mac[32]. */
static void hmac(const char *s, size_t n, unsigned char mac[32])
{
	size_t len = 0;
	FUZZ_CHECK(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, sizeof(secret) - 1,
			     (const unsigned char *)s, n, mac, 32, &len) && len == 32);
}

/* A token of header and payload (raw JSON bytes) signed with the secret (free it). */
static char *sign(const void *header, size_t hlen, const void *payload, size_t plen)
{
	struct buf b = BUF_INIT;
	add_b64url(&b, header, hlen);
	buf_addch(&b, '.');
	add_b64url(&b, payload, plen);
	unsigned char mac[32];
	hmac(b.data, b.len, mac);
	buf_addch(&b, '.');
	add_b64url(&b, mac, sizeof(mac));
	return buf_detach(&b, NULL);
}

/* Decodes base64url s[0..n) loosely into `b` (the verifier's strictness is not the point here). */
static void b64url_loose(const char *s, size_t n, struct buf *b)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		const char c = s[i];
		int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
			: c >= '0' && c <= '9' ? c - '0' + 52 : c == '-' ? 62 : c == '_' ? 63 : -1;
		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addch(b, (char)((acc >> bits) & 0xFF));
		}
	}
}

static void check_success(const char *token, const struct jwt_identity *id)
{
	FUZZ_CHECK(strlen(token) <= JWT_TOKEN_MAX);
	FUZZ_CHECK(jwt_looks_like(token));
	const char *d1 = strchr(token, '.'), *d2 = strrchr(token, '.');
	/* The signature is the secret's HMAC of the first two parts. */
	unsigned char mac[32];
	hmac(token, (size_t)(d2 - token), mac);
	struct buf sig = BUF_INIT;
	b64url_loose(d2 + 1, strlen(d2 + 1), &sig);
	FUZZ_CHECK(sig.len == 32 && !CRYPTO_memcmp(sig.data, mac, 32));
	buf_release(&sig);
	/* The header's alg is HS256, nothing else. */
	struct buf hdr = BUF_INIT;
	b64url_loose(token, (size_t)(d1 - token), &hdr);
	json_object *h = json_tokener_parse(buf_cstr(&hdr)), *alg;
	FUZZ_CHECK(h && json_object_object_get_ex(h, "alg", &alg) &&
		   json_object_is_type(alg, json_type_string) &&
		   !strcmp(json_object_get_string(alg), "HS256"));
	json_object_put(h);
	buf_release(&hdr);
	size_t rl = strnlen(id->role, sizeof(id->role)), nl = strnlen(id->name, sizeof(id->name));
	FUZZ_CHECK(rl > 0 && rl < sizeof(id->role) && nl < sizeof(id->name));
}

static void check_failure(const char *token, const struct jwt_identity *id, const struct error *err)
{
	bool known = false;
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		known = known || !strcmp(err->detail, reasons[i]);
	if (!known)
		fprintf(stderr, "fuzz: unknown reason \"%s\"\n", err->detail);
	FUZZ_CHECK(known);
	static const struct jwt_identity zero;
	FUZZ_CHECK(!memcmp(id, &zero, sizeof(zero)));
	/*
	 * The detail is one of the fixed reasons above, so it never echoes the
	 * token, its signature included. (A check that the signature is not
	 * in the detail failed on "0..malformed": a signature may be a word
	 * of a reason.)
	 */
	if (strlen(token) > JWT_TOKEN_MAX)
		FUZZ_CHECK(!strcmp(err->detail, "too long"));
}

static void verify(const char *token)
{
	const struct jwt_verifier *vs[2] = { plain, strict };
	for (int i = 0; i < 2; i++) {
		struct jwt_identity id;
		memset(&id, 0x5a, sizeof(id));
		struct error err = ERROR_INIT;
		enum status st = jwt_verify(vs[i], token, NOW, &id, &err);
		FUZZ_CHECK(st == OK || st == E_INVALID);
		if (st == OK)
			check_success(token, &id);
		else
			check_failure(token, &id, &err);
	}
}

static void check_api_token(char *s)
{
	if (!auth_token_well_formed(s))
		return;
	FUZZ_CHECK(strlen(s) == AUTH_TOKEN_LEN && !strncmp(s, AUTH_TOKEN_PREFIX, 4));
	FUZZ_CHECK(!jwt_looks_like(s));
	for (size_t i = 0; i < AUTH_TOKEN_LEN; i++) {
		char c = s[i];
		s[i] = c == 'z' ? 'A' : c == 'Z' ? 'a' : c == '9' ? 'A' : c == '_' ? '-' : (char)(c + 1);
		FUZZ_CHECK(!auth_token_well_formed(s));
		s[i] = c;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	int mode = data[0] % 3;
	data++;
	size--;
	if (mode == 0) {
		char *s = fuzz_cstr(data, size);
		verify(s);
		check_api_token(s);
		free(s);
		return 0;
	}
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	static const char payload[] =
		"{\"sub\":\"alice\",\"role\":\"r\",\"exp\":1700003600,\"iss\":\"https://idp.example\","
		"\"aud\":[\"insights\"],\"users\":[{},{\"id\":7}],"
		"\"https://hasura.io/jwt/claims\":{\"x-hasura-default-role\":\"user\"}}";
	char *t = mode == 1 ? sign(header, sizeof(header) - 1, data, size)
			    : sign(data, size, payload, sizeof(payload) - 1);
	verify(t);
	free(t);
	return 0;
}
