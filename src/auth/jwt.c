/*
 * jwt.c: the JWT verifier of jwt.h.
 *
 * Cryptography is OpenSSL 3's EVP interface only: HMAC through EVP_MAC
 * (a context keyed once at start-up, duplicated per token), RSA and ECDSA
 * through EVP_DigestVerify, JWKS keys built with OSSL_PARAM_BLD and
 * EVP_PKEY_fromdata, PEM keys read by PEM_read_bio_PUBKEY. JSON is json-c's
 * (strict mode, bounded depth). What is written here is the format around
 * them: base64url, the three parts, ES256's raw r||s turned into DER, and
 * the claim checks.
 *
 * The order of the work bounds what an attacker can make the service do
 * before the signature holds: the length, then the base64url of the three
 * parts, the header's JSON (alg, kid), then one signature check per
 * candidate key; the payload's JSON is parsed only once its signature
 * verified. Every failure leaves OpenSSL's error queue empty,
 * so that the next user of the thread reads no stale error.
 */
#include "auth/jwt.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "lib/banned.h"

/* Key files are small; a larger one is a mistake, not a key. */
#define KEY_FILE_MAX (1u << 20)
#define SECRET_MIN 32
#define RSA_BITS_MIN 2048
/* Nesting of JSON json-c reads in a header, a payload or a JWKS. */
#define JSON_DEPTH 32
#define PATH_STEPS_MAX 16
#define PATH_INDEX_MAX 1000000u

enum jwt_alg { ALG_HS256, ALG_RS256, ALG_ES256 };

static const char *const alg_names[] = {
	[ALG_HS256] = "HS256",
	[ALG_RS256] = "RS256",
	[ALG_ES256] = "ES256",
};

struct jwt_key {
	EVP_PKEY *pkey;
	enum jwt_alg alg;
	char *kid; /* NULL: none (a PEM key, or a JWK without one) */
};

/* One step of a claim path: a key of an object, or (key NULL) an array index. */
struct path_step {
	char *key;
	size_t index;
};

struct claim_path {
	struct path_step *steps;
	size_t n;
};

struct jwt_verifier {
	/* HS256: a MAC context keyed with the secret, duplicated per token. */
	EVP_MAC_CTX *hmac;
	/* RS256, ES256: the keys, with kids when they come from a JWKS. */
	struct jwt_key *keys;
	size_t nkeys;
	bool jwks;
	EVP_MD *sha256;
	char *issuer;
	char *audience;
	struct claim_path role;
	struct claim_path name;
	unsigned skew;
};

/* ---- base64url and JSON ---- */

static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/*
 * Decodes the unpadded base64url s[0..n) into a new buffer (free it) of
 * *len bytes, NUL-terminated. NULL for a character outside the alphabet
 * ('=' included), an impossible length, or unused bits that are not zero
 * (so that each byte string has exactly one encoding).
 */
static unsigned char *b64url_decode(const char *s, size_t n, size_t *len)
{
	if (n % 4 == 1)
		return NULL;
	unsigned char *out = xmalloc(n / 4 * 3 + 3);
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value((unsigned char)s[i]);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc) {
		free(out);
		return NULL;
	}
	out[o] = '\0';
	*len = o;
	return out;
}

static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Parses s[0..n) as one JSON object (whitespace may follow it): the object
 * (release it with json_object_put), or NULL for anything else, NUL bytes
 * included.
 */
static json_object *parse_object(const char *s, size_t n)
{
	if (n > INT32_MAX || memchr(s, '\0', n))
		return NULL;
	json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, s, (int)n);
	bool ok = o && json_tokener_get_error(tok) == json_tokener_success &&
		  json_object_is_type(o, json_type_object);
	if (ok) {
		for (size_t end = json_tokener_get_parse_end(tok); end < n; end++)
			ok = ok && json_space(s[end]);
	}
	json_tokener_free(tok);
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The string member `key` of `o`, NULL when absent; *bad when present but not a string. */
static const char *get_string(json_object *o, const char *key, bool *bad)
{
	json_object *m;
	if (!json_object_object_get_ex(o, key, &m))
		return NULL;
	if (!json_object_is_type(m, json_type_string)) {
		*bad = true;
		return NULL;
	}
	return json_object_get_string(m);
}

/* Whether the JSON string `o` equals the C string `s`, embedded NULs counted. */
static bool json_string_is(json_object *o, const char *s)
{
	if (!json_object_is_type(o, json_type_string))
		return false;
	size_t n = strlen(s);
	return (size_t)json_object_get_string_len(o) == n && !memcmp(json_object_get_string(o), s, n);
}

/* ---- claim paths ---- */

static void path_release(struct claim_path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->steps[i].key);
	free(p->steps);
	p->steps = NULL;
	p->n = 0;
}

static bool path_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c == '@';
}

static bool path_push(struct claim_path *p, char *key, size_t index)
{
	if (p->n == PATH_STEPS_MAX) {
		free(key);
		return false;
	}
	if (!p->steps)
		p->steps = xcalloc(PATH_STEPS_MAX, sizeof(p->steps[0]));
	p->steps[p->n++] = (struct path_step){ .key = key, .index = index };
	return true;
}

/*
 * Parses a claim path in PostgREST's JSPath syntax (jwt.h) into `p`; false
 * (and `p` empty) when it is not one.
 */
static bool path_parse(const char *s, struct claim_path *p)
{
	p->steps = NULL;
	p->n = 0;
	if (*s != '.')
		return false;
	while (*s == '.') {
		s++;
		const char *key = s;
		size_t klen;
		if (*s == '"') {
			const char *q = strchr(++key, '"');
			if (!q)
				goto bad;
			klen = (size_t)(q - key);
			s = q + 1;
		} else {
			while (path_key_char(*s))
				s++;
			klen = (size_t)(s - key);
			if (!klen)
				goto bad;
		}
		if (!path_push(p, xstrndup(key, klen), 0))
			goto bad;
		while (*s == '[') {
			s++;
			size_t idx = 0;
			if (*s < '0' || *s > '9')
				goto bad;
			while (*s >= '0' && *s <= '9') {
				idx = idx * 10 + (size_t)(*s++ - '0');
				if (idx > PATH_INDEX_MAX)
					goto bad;
			}
			if (*s++ != ']' || !path_push(p, NULL, idx))
				goto bad;
		}
	}
	if (*s)
		goto bad;
	return true;
bad:
	path_release(p);
	return false;
}

/* The value at path `p` in `claims`, NULL when there is none. */
static json_object *path_get(const struct claim_path *p, json_object *claims)
{
	json_object *o = claims;
	for (size_t i = 0; i < p->n && o; i++) {
		const struct path_step *st = &p->steps[i];
		if (st->key) {
			if (!json_object_is_type(o, json_type_object) ||
			    !json_object_object_get_ex(o, st->key, &o))
				return NULL;
		} else {
			if (!json_object_is_type(o, json_type_array) ||
			    st->index >= json_object_array_length(o))
				return NULL;
			o = json_object_array_get_idx(o, st->index);
		}
	}
	return o;
}

/* ---- loading keys ---- */

/*
 * Reads the file `path` into `b` (at most KEY_FILE_MAX bytes; room for all
 * of them is made first, so that no copy of a secret is left behind by a
 * reallocation). `what` names the setting in the message.
 */
static enum status read_key_file(const char *what, const char *path, struct buf *b,
				 struct error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return error_set(err, E_INVALID, "%s %s: %s", what, path, strerror(errno));
	buf_grow(b, KEY_FILE_MAX + 1);
	size_t n = fread(b->data, 1, KEY_FILE_MAX + 1, f);
	bool failed = ferror(f);
	fclose(f);
	b->len = n;
	b->data[n] = '\0';
	if (failed)
		return error_set(err, E_INVALID, "%s %s: cannot be read", what, path);
	if (n > KEY_FILE_MAX)
		return error_set(err, E_INVALID, "%s %s: larger than %u bytes", what, path,
				 KEY_FILE_MAX);
	return OK;
}

static void wipe_buf(struct buf *b)
{
	if (b->data)
		OPENSSL_cleanse(b->data, b->cap);
	buf_release(b);
}

/*
 * Whether the public key is one we verify with: its algorithm in *alg, or
 * false with the reason in *why.
 */
static bool key_algorithm(EVP_PKEY *pkey, enum jwt_alg *alg, const char **why)
{
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		*alg = ALG_RS256;
		if (EVP_PKEY_get_bits(pkey) < RSA_BITS_MIN) {
			*why = "an RSA key under 2048 bits";
			return false;
		}
		return true;
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		char group[64];
		size_t glen = 0;
		*alg = ALG_ES256;
		if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
						   sizeof(group), &glen) != 1 ||
		    (strcmp(group, "prime256v1") && strcmp(group, "P-256"))) {
			*why = "an EC key on a curve other than P-256";
			return false;
		}
		return true;
	}
	*why = "neither an RSA nor an EC P-256 public key";
	return false;
}

/*
 * Whether OpenSSL finds the public key sound (a point on its curve, an odd
 * modulus...); false with the reason in *why.
 */
static bool key_checks_out(EVP_PKEY *pkey, const char **why)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	bool ok = ctx && EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		*why = "the public key fails OpenSSL's checks";
	return ok;
}

static void add_key(struct jwt_verifier *v, EVP_PKEY *pkey, enum jwt_alg alg, const char *kid)
{
	v->keys = xrealloc(v->keys, (v->nkeys + 1) * sizeof(v->keys[0]));
	v->keys[v->nkeys++] = (struct jwt_key){ .pkey = pkey, .alg = alg,
						 .kid = kid ? xstrdup(kid) : NULL };
}

static enum status load_secret(struct jwt_verifier *v, const char *path, struct error *err)
{
	struct buf b = BUF_INIT;
	enum status st = read_key_file("jwt secret file", path, &b, err);
	if (st != OK)
		goto out;
	size_t n = b.len;
	if (n && b.data[n - 1] == '\n')
		n--;
	if (n && b.data[n - 1] == '\r')
		n--;
	if (n < SECRET_MIN) {
		st = error_set(err, E_INVALID, "jwt secret file %s: the secret is shorter than %d bytes",
			       path, SECRET_MIN);
		goto out;
	}
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	v->hmac = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	if (!v->hmac || EVP_MAC_init(v->hmac, (const unsigned char *)b.data, n, params) != 1)
		st = error_set(err, E_INTERNAL, "HMAC-SHA256 is not available");
out:
	wipe_buf(&b);
	return st;
}

static enum status load_pem(struct jwt_verifier *v, const char *path, struct error *err)
{
	struct buf b = BUF_INIT;
	enum status st = read_key_file("jwt public key file", path, &b, err);
	if (st != OK)
		goto out;
	BIO *bio = BIO_new_mem_buf(b.data, (int)b.len);
	EVP_PKEY *pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	enum jwt_alg alg;
	const char *why = "no PEM public key (-----BEGIN PUBLIC KEY-----)";
	if (!pkey || !key_algorithm(pkey, &alg, &why) || !key_checks_out(pkey, &why)) {
		EVP_PKEY_free(pkey);
		st = error_set(err, E_INVALID, "jwt public key file %s: %s", path, why);
		goto out;
	}
	add_key(v, pkey, alg, NULL);
out:
	buf_release(&b);
	return st;
}

/* The big number of the base64url string member `key` of `jwk`, NULL when it is not one. */
static BIGNUM *jwk_bn(json_object *jwk, const char *key)
{
	bool bad = false;
	const char *s = get_string(jwk, key, &bad);
	size_t n;
	unsigned char *bytes = s ? b64url_decode(s, strlen(s), &n) : NULL;
	BIGNUM *bn = bytes && n ? BN_bin2bn(bytes, (int)n, NULL) : NULL;
	free(bytes);
	return bn;
}

/* A public key of type `type` ("RSA", "EC") from the parameters in `bld`; NULL when they make none. */
static EVP_PKEY *key_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;
	if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *jwk_rsa(json_object *jwk)
{
	BIGNUM *n = jwk_bn(jwk, "n"), *e = jwk_bn(jwk, "e");
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pkey = NULL;
	if (n && e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1)
		pkey = key_fromdata("RSA", bld);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

/* The 32 bytes of the base64url coordinate `key` of `jwk` into out; false when it is not one. */
static bool jwk_coordinate(json_object *jwk, const char *key, unsigned char out[32])
{
	bool bad = false;
	const char *s = get_string(jwk, key, &bad);
	size_t n = 0;
	unsigned char *bytes = s ? b64url_decode(s, strlen(s), &n) : NULL;
	bool ok = bytes && n == 32;
	if (ok)
		memcpy(out, bytes, 32);
	free(bytes);
	return ok;
}

static EVP_PKEY *jwk_ec(json_object *jwk)
{
	unsigned char point[65];
	point[0] = 0x04; /* uncompressed: x then y */
	if (!jwk_coordinate(jwk, "x", point + 1) || !jwk_coordinate(jwk, "y", point + 33))
		return NULL;
	char group[] = "prime256v1";
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pkey = NULL;
	if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) == 1)
		pkey = key_fromdata("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

/*
 * Adds the JWK `jwk` (number `i` of the set) when it is a signing key of a
 * supported type; skips others; E_INVALID for a key it should use but
 * cannot.
 */
static enum status load_jwk(struct jwt_verifier *v, const char *path, size_t i, json_object *jwk,
			    struct error *err)
{
	if (!json_object_is_type(jwk, json_type_object))
		return error_set(err, E_INVALID, "jwks file %s: key %zu is not an object", path, i);
	bool bad = false;
	const char *kty = get_string(jwk, "kty", &bad);
	const char *use = get_string(jwk, "use", &bad);
	const char *alg = get_string(jwk, "alg", &bad);
	const char *kid = get_string(jwk, "kid", &bad);
	const char *crv = get_string(jwk, "crv", &bad);
	if (bad || !kty)
		return error_set(err, E_INVALID,
				 "jwks file %s: key %zu: kty missing, or kty, use, alg, kid or crv not a string",
				 path, i);
	enum jwt_alg want;
	if (!strcmp(kty, "RSA"))
		want = ALG_RS256;
	else if (!strcmp(kty, "EC") && crv && !strcmp(crv, "P-256"))
		want = ALG_ES256;
	else
		return OK; /* oct, OKP, other curves: not ours */
	if ((use && strcmp(use, "sig")) || (alg && strcmp(alg, alg_names[want])))
		return OK;
	EVP_PKEY *pkey = want == ALG_RS256 ? jwk_rsa(jwk) : jwk_ec(jwk);
	enum jwt_alg got;
	const char *why = want == ALG_RS256 ? "bad n or e" : "bad x or y";
	if (!pkey || !key_algorithm(pkey, &got, &why) || got != want ||
	    !key_checks_out(pkey, &why)) {
		EVP_PKEY_free(pkey);
		return error_set(err, E_INVALID, "jwks file %s: key %zu: %s", path, i, why);
	}
	add_key(v, pkey, want, kid);
	return OK;
}

static enum status load_jwks(struct jwt_verifier *v, const char *path, struct error *err)
{
	struct buf b = BUF_INIT;
	enum status st = read_key_file("jwks file", path, &b, err);
	if (st != OK) {
		buf_release(&b);
		return st;
	}
	json_object *root = parse_object(b.data, b.len), *keys = NULL;
	buf_release(&b);
	if (!root || !json_object_object_get_ex(root, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		json_object_put(root);
		return error_set(err, E_INVALID, "jwks file %s: not a JSON object with a \"keys\" array",
				 path);
	}
	v->jwks = true;
	size_t n = json_object_array_length(keys);
	for (size_t i = 0; i < n && st == OK; i++)
		st = load_jwk(v, path, i, json_object_array_get_idx(keys, i), err);
	json_object_put(root);
	if (st == OK && !v->nkeys)
		st = error_set(err, E_INVALID,
			       "jwks file %s: no RSA or EC P-256 key for signatures (RS256, ES256)", path);
	return st;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

enum status jwt_verifier_new(const struct jwt_config *cfg, struct jwt_verifier **out,
			     struct error *err)
{
	*out = NULL;
	const char *secret = nonempty(cfg->secret_file), *jwks = nonempty(cfg->jwks_file),
		   *pem = nonempty(cfg->public_key_file);
	if (!!secret + !!jwks + !!pem != 1)
		return error_set(err, E_INVALID,
				 "JWT verification needs exactly one of a secret file, a JWKS file and a public key file");
	struct jwt_verifier *v = xcalloc(1, sizeof(*v));
	v->skew = cfg->skew_s;
	const char *role = nonempty(cfg->role_claim) ? cfg->role_claim : ".role";
	const char *name = nonempty(cfg->name_claim) ? cfg->name_claim : ".sub";
	enum status st = OK;
	if (!path_parse(role, &v->role))
		st = error_set(err, E_INVALID, "jwt role claim %s: not a claim path such as .role or .a.\"b/c\"[0]",
			       role);
	else if (!path_parse(name, &v->name))
		st = error_set(err, E_INVALID, "jwt name claim %s: not a claim path such as .sub or .a.\"b/c\"[0]",
			       name);
	else if (secret)
		st = load_secret(v, secret, err);
	else if (jwks)
		st = load_jwks(v, jwks, err);
	else
		st = load_pem(v, pem, err);
	if (st == OK && !secret && !(v->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)))
		st = error_set(err, E_INTERNAL, "SHA-256 is not available");
	ERR_clear_error();
	if (st != OK) {
		jwt_verifier_free(v);
		return st;
	}
	v->issuer = nonempty(cfg->issuer) ? xstrdup(cfg->issuer) : NULL;
	v->audience = nonempty(cfg->audience) ? xstrdup(cfg->audience) : NULL;
	*out = v;
	return OK;
}

void jwt_verifier_free(struct jwt_verifier *v)
{
	if (!v)
		return;
	EVP_MAC_CTX_free(v->hmac); /* wipes the key */
	for (size_t i = 0; i < v->nkeys; i++) {
		EVP_PKEY_free(v->keys[i].pkey);
		free(v->keys[i].kid);
	}
	free(v->keys);
	EVP_MD_free(v->sha256);
	free(v->issuer);
	free(v->audience);
	path_release(&v->role);
	path_release(&v->name);
	free(v);
}

/* ---- verifying ---- */

bool jwt_looks_like(const char *s)
{
	if (!s)
		return false;
	size_t part = 0, dots = 0;
	for (; *s; s++) {
		if (*s == '.') {
			if (dots == 2 || part == 0)
				return false;
			dots++;
			part = 0;
		} else if (b64url_value((unsigned char)*s) < 0) {
			return false;
		} else {
			part++;
		}
	}
	return dots == 2;
}

/* The verification's failure: E_INVALID with `reason` (a constant) as the detail. */
static enum status reject(struct error *err, const char *reason)
{
	return error_set(err, E_INVALID, "%s", reason);
}

static enum status check_hmac(const struct jwt_verifier *v, const char *input, size_t n,
			      const unsigned char *sig, size_t siglen, bool *ok, struct error *err)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(v->hmac);
	bool done = ctx && EVP_MAC_update(ctx, (const unsigned char *)input, n) == 1 &&
		    EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)) == 1 && maclen == 32;
	EVP_MAC_CTX_free(ctx);
	if (!done)
		return error_set(err, E_INTERNAL, "HMAC-SHA256 failed");
	*ok = siglen == 32 && CRYPTO_memcmp(mac, sig, 32) == 0;
	return OK;
}

/*
 * ES256's JWS signature r||s (RFC 7518, 3.4) as the DER ECDSA-Sig-Value
 * OpenSSL verifies: a new buffer (OPENSSL_free it) of *derlen bytes.
 */
static unsigned char *es256_der(const unsigned char sig[64], int *derlen)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
	unsigned char *der = NULL;
	if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
		r = s = NULL; /* es owns them */
		*derlen = i2d_ECDSA_SIG(es, &der);
		if (*derlen <= 0)
			der = NULL;
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return der;
}

static enum status check_key(const struct jwt_verifier *v, const struct jwt_key *k,
			     const char *input, size_t n, const unsigned char *sig, size_t siglen,
			     bool *ok, struct error *err)
{
	*ok = false;
	unsigned char *der = NULL;
	if (k->alg == ALG_ES256) {
		if (siglen != 64)
			return OK;
		int derlen = 0;
		if (!(der = es256_der(sig, &derlen)))
			return error_set(err, E_INTERNAL, "ECDSA signature conversion failed");
		sig = der;
		siglen = (size_t)derlen;
	} else if (siglen != (size_t)EVP_PKEY_get_size(k->pkey)) {
		return OK;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	enum status st = OK;
	if (!ctx || EVP_DigestVerifyInit(ctx, NULL, v->sha256, NULL, k->pkey) != 1)
		st = error_set(err, E_INTERNAL, "signature verification failed to start");
	else
		*ok = EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)input, n) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return st;
}

/*
 * Checks the signature sig[0..siglen) of input[0..n) with the configured
 * key(s), for the header's `alg` and `kid`.
 */
static enum status check_signature(const struct jwt_verifier *v, const char *alg, const char *kid,
				   const char *input, size_t n, const unsigned char *sig,
				   size_t siglen, struct error *err)
{
	enum jwt_alg a;
	if (!strcmp(alg, "HS256"))
		a = ALG_HS256;
	else if (!strcmp(alg, "RS256"))
		a = ALG_RS256;
	else if (!strcmp(alg, "ES256"))
		a = ALG_ES256;
	else
		return reject(err, "algorithm not allowed");
	bool ok = false;
	enum status st;
	if (v->hmac) {
		if (a != ALG_HS256)
			return reject(err, "algorithm not allowed");
		if ((st = check_hmac(v, input, n, sig, siglen, &ok, err)) != OK)
			return st;
		return ok ? OK : reject(err, "bad signature");
	}
	bool kid_known = false, alg_known = false;
	for (size_t i = 0; i < v->nkeys && !ok; i++) {
		const struct jwt_key *k = &v->keys[i];
		if (v->jwks && kid && (!k->kid || strcmp(k->kid, kid)))
			continue;
		kid_known = true;
		if (k->alg != a)
			continue;
		alg_known = true;
		if ((st = check_key(v, k, input, n, sig, siglen, &ok, err)) != OK)
			return st;
	}
	if (!kid_known)
		return reject(err, "unknown key");
	if (!alg_known)
		return reject(err, "algorithm not allowed");
	return ok ? OK : reject(err, "bad signature");
}

/*
 * The time claim `key` of `claims` in *t: 1 when present, 0 when absent,
 * -1 when not a number. Fractions are dropped; numbers beyond int64 are
 * clamped.
 */
static int time_claim(json_object *claims, const char *key, int64_t *t)
{
	json_object *o;
	if (!json_object_object_get_ex(claims, key, &o))
		return 0;
	if (json_object_is_type(o, json_type_int)) {
		*t = json_object_get_int64(o); /* clamped by json-c */
		return 1;
	}
	if (json_object_is_type(o, json_type_double)) {
		double d = json_object_get_double(o);
		if (isnan(d))
			return -1;
		*t = d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : (int64_t)d;
		return 1;
	}
	return -1;
}

/* Whether `a` is more than `skew` seconds after `b`. */
static bool later_than(int64_t a, int64_t b, unsigned skew)
{
	return a > b && (uint64_t)a - (uint64_t)b > skew;
}

static enum status check_claims(const struct jwt_verifier *v, json_object *claims, int64_t now,
				struct jwt_identity *out, struct error *err)
{
	int64_t exp = 0, nbf = 0, iat = 0;
	int has_exp = time_claim(claims, "exp", &exp), has_nbf = time_claim(claims, "nbf", &nbf),
	    has_iat = time_claim(claims, "iat", &iat);
	if (has_exp < 0 || has_nbf < 0 || has_iat < 0)
		return reject(err, "malformed");
	if (has_exp && later_than(now, exp, v->skew))
		return reject(err, "expired");
	if ((has_nbf && later_than(nbf, now, v->skew)) || (has_iat && later_than(iat, now, v->skew)))
		return reject(err, "not yet valid");
	json_object *o;
	if (v->issuer && !(json_object_object_get_ex(claims, "iss", &o) && json_string_is(o, v->issuer)))
		return reject(err, "wrong issuer");
	if (v->audience) {
		bool found = false;
		if (json_object_object_get_ex(claims, "aud", &o)) {
			if (json_object_is_type(o, json_type_array)) {
				size_t n = json_object_array_length(o);
				for (size_t i = 0; i < n && !found; i++)
					found = json_string_is(json_object_array_get_idx(o, i), v->audience);
			} else {
				found = json_string_is(o, v->audience);
			}
		}
		if (!found)
			return reject(err, "wrong audience");
	}
	o = path_get(&v->role, claims);
	size_t len = o && json_object_is_type(o, json_type_string) ? (size_t)json_object_get_string_len(o) : 0;
	if (!len || len >= sizeof(out->role) || memchr(json_object_get_string(o), '\0', len))
		return reject(err, "no role claim");
	memcpy(out->role, json_object_get_string(o), len + 1);
	o = path_get(&v->name, claims);
	const char *name = NULL;
	if (json_object_is_type(o, json_type_string)) {
		name = json_object_get_string(o);
		len = (size_t)json_object_get_string_len(o);
	} else if (json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double)) {
		name = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		len = strlen(name);
	} else if (o) { /* json-c's null is NULL: absent */
		return reject(err, "bad name claim");
	}
	if (name) {
		if (len >= sizeof(out->name) || memchr(name, '\0', len))
			return reject(err, "bad name claim");
		memcpy(out->name, name, len + 1);
	}
	out->expires = has_exp ? exp : 0;
	return OK;
}

static enum status verify(const struct jwt_verifier *v, const char *token, int64_t now,
			  struct jwt_identity *out, struct error *err)
{
	size_t len = strnlen(token, JWT_TOKEN_MAX + 1);
	if (len > JWT_TOKEN_MAX)
		return reject(err, "too long");
	const char *dot1 = memchr(token, '.', len);
	const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
		return reject(err, "malformed");
	const char *payload = dot1 + 1, *sigtext = dot2 + 1;
	size_t hlen, plen, siglen;
	unsigned char *header = b64url_decode(token, (size_t)(dot1 - token), &hlen);
	unsigned char *body = b64url_decode(payload, (size_t)(dot2 - payload), &plen);
	unsigned char *sig = b64url_decode(sigtext, len - (size_t)(sigtext - token), &siglen);
	json_object *hdr = header ? parse_object((const char *)header, hlen) : NULL, *claims = NULL;
	enum status st;
	if (!hdr || !body || !sig) {
		st = reject(err, "malformed");
		goto out;
	}
	bool bad = false;
	const char *alg = get_string(hdr, "alg", &bad);
	const char *kid = get_string(hdr, "kid", &bad);
	json_object *crit;
	if (alg && !strcasecmp(alg, "none"))
		st = reject(err, "algorithm not allowed");
	else if (bad || !alg || json_object_object_get_ex(hdr, "crit", &crit))
		st = reject(err, "malformed"); /* we understand no critical extension */
	else
		st = check_signature(v, alg, kid, token, (size_t)(dot2 - token), sig, siglen, err);
	if (st != OK)
		goto out;
	claims = parse_object((const char *)body, plen);
	st = claims ? check_claims(v, claims, now, out, err) : reject(err, "malformed");
out:
	json_object_put(hdr);
	json_object_put(claims);
	free(header);
	free(body);
	free(sig);
	return st;
}

enum status jwt_verify(const struct jwt_verifier *v, const char *token, int64_t now,
		       struct jwt_identity *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	enum status st = token ? verify(v, token, now, out, err) : reject(err, "malformed");
	if (st != OK) {
		memset(out, 0, sizeof(*out));
		ERR_clear_error();
	}
	return st;
}
