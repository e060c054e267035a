/*
 * test_jwt.c: JWT verification (auth/jwt.c). The keys are made here
 * (RSA 2048 and EC P-256 by EVP_PKEY_Q_keygen) and the tokens signed here
 * with OpenSSL (HMAC, EVP_DigestSign), independently of the verifier; key
 * files go to a directory of their own under /tmp, removed by each test.
 */
#include "t.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth/jwt.h"
#include "lib/buf.h"

#define NOW INT64_C(1700000000)
#define SECRET "0123456789abcdef0123456789abcdef-hs256-test-secret"

/* ---- fixtures ---- */

struct fx {
	char dir[64];
	char paths[8][128];
	int n;
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/insights-jwt-XXXXXX");
	CHECK(mkdtemp(f->dir) != NULL);
}

/* Writes data[0..len) to the file `name` of the fixture's directory; its path. */
static const char *fx_write(struct fx *f, const char *name, const void *data, size_t len)
{
	char *path = f->paths[f->n++];
	char tmp[sizeof(f->paths[0])];
	snprintf(tmp, sizeof(tmp), "%s/%s", f->dir, name);
	memcpy(path, tmp, sizeof(tmp));
	FILE *fp = fopen(path, "wb");
	CHECK(fp != NULL);
	if (fp) {
		CHECK(fwrite(data, 1, len, fp) == len);
		fclose(fp);
	}
	return path;
}

static const char *fx_writes(struct fx *f, const char *name, const char *text)
{
	return fx_write(f, name, text, strlen(text));
}

static void fx_release(struct fx *f)
{
	for (int i = 0; i < f->n; i++)
		unlink(f->paths[i]);
	CHECK(rmdir(f->dir) == 0);
}

/* Keys made once for the whole run (reachable until exit). */
static EVP_PKEY *keys[4];

static EVP_PKEY *rsa_key(int i)
{
	if (!keys[i])
		keys[i] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	return keys[i];
}

static EVP_PKEY *ec_key(int i)
{
	if (!keys[2 + i])
		keys[2 + i] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return keys[2 + i];
}

/* ---- encoding and signing ---- */

static void add_b64url(struct buf *b, const void *data, size_t len)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = data;
	size_t i = 0;
	for (; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		buf_addch(b, a[v >> 18]);
		buf_addch(b, a[(v >> 12) & 63]);
		buf_addch(b, a[(v >> 6) & 63]);
		buf_addch(b, a[v & 63]);
	}
	if (len - i == 1) {
		buf_addch(b, a[p[i] >> 2]);
		buf_addch(b, a[(p[i] & 3) << 4]);
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)p[i] << 8 | p[i + 1];
		buf_addch(b, a[v >> 10]);
		buf_addch(b, a[(v >> 4) & 63]);
		buf_addch(b, a[(v & 15) << 2]);
	}
}

static char *b64url(const void *data, size_t len)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "");
	add_b64url(&b, data, len);
	return buf_detach(&b, NULL);
}

/* "b64(header).b64(payload)" in `b`. */
static void signing_input(struct buf *b, const char *header, const char *payload)
{
	buf_reset(b);
	add_b64url(b, header, strlen(header));
	buf_addch(b, '.');
	add_b64url(b, payload, strlen(payload));
}

/* input + "." + b64(sig): a new string. */
static char *finish(struct buf *b, const unsigned char *sig, size_t siglen)
{
	buf_addch(b, '.');
	add_b64url(b, sig, siglen);
	return buf_detach(b, NULL);
}

static char *hs_sign(const char *header, const char *payload, const void *key, size_t keylen)
{
	struct buf b = BUF_INIT;
	signing_input(&b, header, payload);
	unsigned char mac[64];
	size_t maclen = 0;
	CHECK(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen,
			(const unsigned char *)b.data, b.len, mac, sizeof(mac), &maclen) != NULL);
	return finish(&b, mac, maclen);
}

static char *hs(const char *header, const char *payload)
{
	return hs_sign(header, payload, SECRET, strlen(SECRET));
}

/* RS256 for an RSA key, ES256 (raw r||s) for an EC key. */
static char *pk(const char *header, const char *payload, EVP_PKEY *key)
{
	struct buf b = BUF_INIT;
	signing_input(&b, header, payload);
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	CHECK(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1);
	CHECK(EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)b.data, b.len) == 1);
	EVP_MD_CTX_free(ctx);
	if (EVP_PKEY_is_a(key, "EC")) {
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
		CHECK(es != NULL);
		unsigned char raw[64];
		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
		ECDSA_SIG_free(es);
		return finish(&b, raw, sizeof(raw));
	}
	return finish(&b, sig, siglen);
}

static char *pem_of(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	CHECK(PEM_write_bio_PUBKEY(bio, key) == 1);
	char *data;
	long n = BIO_get_mem_data(bio, &data);
	char *pem = strndup(data, (size_t)n);
	BIO_free(bio);
	return pem;
}

static void add_bn_param(struct buf *b, EVP_PKEY *key, const char *param, int pad)
{
	BIGNUM *bn = NULL;
	CHECK(EVP_PKEY_get_bn_param(key, param, &bn) == 1);
	unsigned char bytes[1024];
	int n = pad ? BN_bn2binpad(bn, bytes, pad) : BN_bn2bin(bn, bytes);
	add_b64url(b, bytes, (size_t)n);
	BN_free(bn);
}

/* One JWK of the key, with `extra` members (",\"kid\":\"a\"") inside. */
static void add_jwk(struct buf *b, EVP_PKEY *key, const char *extra)
{
	if (EVP_PKEY_is_a(key, "RSA")) {
		buf_adds(b, "{\"kty\":\"RSA\",\"n\":\"");
		add_bn_param(b, key, OSSL_PKEY_PARAM_RSA_N, 0);
		buf_adds(b, "\",\"e\":\"");
		add_bn_param(b, key, OSSL_PKEY_PARAM_RSA_E, 0);
	} else {
		buf_adds(b, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"");
		add_bn_param(b, key, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		buf_adds(b, "\",\"y\":\"");
		add_bn_param(b, key, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
	}
	buf_addf(b, "\"%s}", extra);
}

/* ---- verifying ---- */

static struct jwt_verifier *hs_verifier(struct fx *f, const char *role_claim, const char *name_claim)
{
	struct jwt_config cfg = { .secret_file = fx_writes(f, "secret", SECRET "\n"),
				  .role_claim = role_claim, .name_claim = name_claim,
				  .skew_s = JWT_SKEW_DEFAULT };
	struct jwt_verifier *v = NULL;
	struct error err = ERROR_INIT;
	CHECK(jwt_verifier_new(&cfg, &v, &err) == OK);
	return v;
}

static struct jwt_verifier *pem_verifier(struct fx *f, EVP_PKEY *key)
{
	char *pem = pem_of(key);
	struct jwt_config cfg = { .public_key_file = fx_writes(f, EVP_PKEY_is_a(key, "RSA") ? "rsa.pem" : "ec.pem", pem),
				  .skew_s = JWT_SKEW_DEFAULT };
	free(pem);
	struct jwt_verifier *v = NULL;
	struct error err = ERROR_INIT;
	CHECK(jwt_verifier_new(&cfg, &v, &err) == OK);
	if (err.status)
		fprintf(stderr, "    %s\n", err.detail);
	return v;
}

/* Whether `token` verifies; the identity in *id. */
static bool ok(const struct jwt_verifier *v, const char *token, struct jwt_identity *id)
{
	struct jwt_identity scratch;
	struct error err = ERROR_INIT;
	enum status st = jwt_verify(v, token, NOW, id ? id : &scratch, &err);
	if (st != OK)
		fprintf(stderr, "    verify failed: %s\n", err.detail);
	return st == OK;
}

/*
 * Whether `token` fails with `reason`, with the identity zeroed and
 * nothing of the token (its signature, its payload) in the message.
 */
static bool fails(const struct jwt_verifier *v, const char *token, int64_t now, const char *reason)
{
	struct jwt_identity id;
	memset(&id, 0x5a, sizeof(id));
	struct error err = ERROR_INIT;
	enum status st = jwt_verify(v, token, now, &id, &err);
	static const struct jwt_identity zero;
	bool good = st == E_INVALID && !strcmp(err.detail, reason) && !memcmp(&id, &zero, sizeof(id));
	const char *last = token ? strrchr(token, '.') : NULL;
	if (last && strlen(last) > 8 && strstr(err.detail, last + 1))
		good = false;
	if (!good)
		fprintf(stderr, "    wanted \"%s\", got status %d \"%s\"\n", reason, (int)st, err.detail);
	return good;
}

#define HS_HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define RS_HDR "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"
#define ES_HDR "{\"alg\":\"ES256\",\"typ\":\"JWT\"}"
#define CLAIMS "{\"sub\":\"alice\",\"role\":\"editor\",\"exp\":1700003600}"

TEST(jwt_hs256_valid)
{
	struct fx f;
	fx_init(&f);
	struct jwt_verifier *v = hs_verifier(&f, NULL, NULL);
	char *t = hs(HS_HDR, CLAIMS);
	struct jwt_identity id;
	CHECK(ok(v, t, &id));
	CHECK_STR(id.role, "editor");
	CHECK_STR(id.name, "alice");
	CHECK(id.expires == INT64_C(1700003600));
	free(t);
	/* No exp: accepted (as PostgREST and Hasura do), expires 0; no sub: name "". */
	t = hs(HS_HDR, "{\"role\":\"viewer\"}");
	CHECK(ok(v, t, &id));
	CHECK(id.expires == 0);
	CHECK_STR(id.name, "");
	CHECK_STR(id.role, "viewer");
	free(t);
	/* Signed with another secret. */
	t = hs_sign(HS_HDR, CLAIMS, SECRET "x", strlen(SECRET) + 1);
	CHECK(fails(v, t, NOW, "bad signature"));
	free(t);
	jwt_verifier_free(v);
	fx_release(&f);
}

TEST(jwt_rs256_es256_pem_valid)
{
	struct fx f;
	fx_init(&f);
	struct jwt_verifier *rs = pem_verifier(&f, rsa_key(0));
	struct jwt_verifier *es = pem_verifier(&f, ec_key(0));
	char *t = pk(RS_HDR, CLAIMS, rsa_key(0));
	struct jwt_identity id;
	CHECK(ok(rs, t, &id));
	CHECK_STR(id.role, "editor");
	CHECK(fails(es, t, NOW, "algorithm not allowed"));
	free(t);
	t = pk(ES_HDR, CLAIMS, ec_key(0));
	CHECK(ok(es, t, &id));
	CHECK_STR(id.name, "alice");
	CHECK(fails(rs, t, NOW, "algorithm not allowed"));
	free(t);
	/* Signed by another key of the same type. */
	t = pk(RS_HDR, CLAIMS, rsa_key(1));
	CHECK(fails(rs, t, NOW, "bad signature"));
	free(t);
	t = pk(ES_HDR, CLAIMS, ec_key(1));
	CHECK(fails(es, t, NOW, "bad signature"));
	free(t);
	jwt_verifier_free(rs);
	jwt_verifier_free(es);
	fx_release(&f);
}

TEST(jwt_jwks_kid_selects_key)
{
	struct fx f;
	fx_init(&f);
	struct buf b = BUF_INIT;
	buf_adds(&b, "{\"keys\":[");
	add_jwk(&b, rsa_key(0), ",\"kid\":\"r0\",\"use\":\"sig\",\"alg\":\"RS256\"");
	buf_addch(&b, ',');
	add_jwk(&b, rsa_key(1), ",\"kid\":\"r1\"");
	buf_addch(&b, ',');
	add_jwk(&b, ec_key(0), ",\"kid\":\"e0\",\"use\":\"sig\"");
	buf_addch(&b, ',');
	/* Skipped: an encryption key, a key for another algorithm, a symmetric key. */
	add_jwk(&b, ec_key(1), ",\"kid\":\"enc\",\"use\":\"enc\"");
	buf_addch(&b, ',');
	add_jwk(&b, ec_key(1), ",\"kid\":\"other-alg\",\"alg\":\"ES384\"");
	buf_adds(&b, ",{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"oct\"}]}\n");
	struct jwt_config cfg = { .jwks_file = fx_writes(&f, "jwks.json", buf_cstr(&b)), .skew_s = 30 };
	buf_release(&b);
	struct jwt_verifier *v = NULL;
	struct error err = ERROR_INIT;
	CHECK(jwt_verifier_new(&cfg, &v, &err) == OK);
	if (!v) {
		fprintf(stderr, "    %s\n", err.detail);
		fx_release(&f);
		return;
	}
	char *t = pk("{\"alg\":\"RS256\",\"kid\":\"r1\"}", CLAIMS, rsa_key(1));
	CHECK(ok(v, t, NULL));
	free(t);
	t = pk("{\"alg\":\"RS256\",\"kid\":\"r0\"}", CLAIMS, rsa_key(1));
	CHECK(fails(v, t, NOW, "bad signature"));
	free(t);
	t = pk("{\"alg\":\"ES256\",\"kid\":\"e0\"}", CLAIMS, ec_key(0));
	CHECK(ok(v, t, NULL));
	free(t);
	/* The kid names a key of another type. */
	t = pk("{\"alg\":\"ES256\",\"kid\":\"r0\"}", CLAIMS, ec_key(0));
	CHECK(fails(v, t, NOW, "algorithm not allowed"));
	free(t);
	/* Unknown kids, and kids of skipped keys. */
	t = pk("{\"alg\":\"RS256\",\"kid\":\"nope\"}", CLAIMS, rsa_key(0));
	CHECK(fails(v, t, NOW, "unknown key"));
	free(t);
	t = pk("{\"alg\":\"ES256\",\"kid\":\"enc\"}", CLAIMS, ec_key(1));
	CHECK(fails(v, t, NOW, "unknown key"));
	free(t);
	t = pk("{\"alg\":\"ES256\",\"kid\":\"other-alg\"}", CLAIMS, ec_key(1));
	CHECK(fails(v, t, NOW, "unknown key"));
	free(t);
	t = hs_sign("{\"alg\":\"HS256\",\"kid\":\"oct\"}", CLAIMS, "secret", 6);
	CHECK(fails(v, t, NOW, "unknown key"));
	free(t);
	/* No kid: every key of the algorithm is tried. */
	t = pk(RS_HDR, CLAIMS, rsa_key(1));
	CHECK(ok(v, t, NULL));
	free(t);
	t = pk(ES_HDR, CLAIMS, ec_key(0));
	CHECK(ok(v, t, NULL));
	free(t);
	t = pk(ES_HDR, CLAIMS, ec_key(1)); /* only in skipped entries */
	CHECK(fails(v, t, NOW, "bad signature"));
	free(t);
	t = hs_sign(HS_HDR, CLAIMS, "secret", 6);
	CHECK(fails(v, t, NOW, "algorithm not allowed"));
	free(t);
	/* A kid that is not a string. */
	t = pk("{\"alg\":\"RS256\",\"kid\":1}", CLAIMS, rsa_key(1));
	CHECK(fails(v, t, NOW, "malformed"));
	free(t);
	jwt_verifier_free(v);
	fx_release(&f);
}

TEST(jwt_expiry_and_skew)
{
	struct fx f;
	fx_init(&f);
	struct jwt_verifier *v = hs_verifier(&f, NULL, NULL);
	char *t = hs(HS_HDR, "{\"role\":\"r\",\"exp\":1699999969}"); /* now - 31 */
	CHECK(fails(v, t, NOW, "expired"));
	free(t);
	t = hs(HS_HDR, "{\"role\":\"r\",\"exp\":1699999970}"); /* now - 30: within the skew */
	CHECK(ok(v, t, NULL));
	CHECK(fails(v, t, NOW + 1, "expired"));
	free(t);
	t = hs(HS_HDR, "{\"role\":\"r\",\"exp\":1699999969.9}");
	CHECK(fails(v, t, NOW, "expired"));
	free(t);
	/* Far past and far future, beyond int64. */
	t = hs(HS_HDR, "{\"role\":\"r\",\"exp\":-9223372036854775808}");
	CHECK(fails(v, t, NOW, "expired"));
	free(t);
	t = hs(HS_HDR, "{\"role\":\"r\",\"exp\":99999999999999999999999}");
	CHECK(ok(v, t, NULL));
	free(t);
	t = hs(HS_HDR, "{\"role\":\"r\",\"exp\":\"1800000000\"}");
	CHECK(fails(v, t, NOW, "malformed"));
	free(t);
	jwt_verifier_free(v);
	/* No skew at all. */
	struct jwt_config cfg = { .secret_file = f.paths[0], .skew_s = 0 };
	CHECK(jwt_verifier_new(&cfg, &v, &(struct error)ERROR_INIT) == OK);
	t = hs(HS_HDR, "{\"role\":\"r\",\"exp\":1699999999}");
	CHECK(fails(v, t, NOW, "expired"));
	free(t);
	t = hs(HS_HDR, "{\"role\":\"r\",\"exp\":1700000000}");
	CHECK(ok(v, t, NULL));
	free(t);
	jwt_verifier_free(v);
	fx_release(&f);
}

TEST(jwt_not_before_and_issued_at)
{
	struct fx f;
	fx_init(&f);
	struct jwt_verifier *v = hs_verifier(&f, NULL, NULL);
	char *t = hs(HS_HDR, "{\"role\":\"r\",\"nbf\":1700000031}");
	CHECK(fails(v, t, NOW, "not yet valid"));
	free(t);
	t = hs(HS_HDR, "{\"role\":\"r\",\"nbf\":1700000030}");
	CHECK(ok(v, t, NULL));
	free(t);
	t = hs(HS_HDR, "{\"role\":\"r\",\"iat\":1700000031}");
	CHECK(fails(v, t, NOW, "not yet valid"));
	free(t);
	t = hs(HS_HDR, "{\"role\":\"r\",\"iat\":1699990000,\"nbf\":1699990000,\"exp\":1700000100}");
	CHECK(ok(v, t, NULL));
	free(t);
	t = hs(HS_HDR, "{\"role\":\"r\",\"nbf\":true}");
	CHECK(fails(v, t, NOW, "malformed"));
	free(t);
	jwt_verifier_free(v);
	fx_release(&f);
}

TEST(jwt_issuer_and_audience)
{
	struct fx f;
	fx_init(&f);
	struct jwt_config cfg = { .secret_file = fx_writes(&f, "secret", SECRET),
				  .issuer = "https://idp.example", .audience = "insights", .skew_s = 30 };
	struct jwt_verifier *v = NULL;
	CHECK(jwt_verifier_new(&cfg, &v, &(struct error)ERROR_INIT) == OK);
	static const struct {
		const char *claims;
		const char *reason; /* NULL: accepted */
	} cases[] = {
		{ "{\"role\":\"r\",\"iss\":\"https://idp.example\",\"aud\":\"insights\"}", NULL },
		{ "{\"role\":\"r\",\"iss\":\"https://idp.example\",\"aud\":[\"other\",\"insights\"]}", NULL },
		{ "{\"role\":\"r\",\"iss\":\"https://evil.example\",\"aud\":\"insights\"}", "wrong issuer" },
		{ "{\"role\":\"r\",\"iss\":\"https://idp.example/\",\"aud\":\"insights\"}", "wrong issuer" },
		{ "{\"role\":\"r\",\"iss\":\"https://idp.example\\u0000x\",\"aud\":\"insights\"}", "wrong issuer" },
		{ "{\"role\":\"r\",\"aud\":\"insights\"}", "wrong issuer" },
		{ "{\"role\":\"r\",\"iss\":[\"https://idp.example\"],\"aud\":\"insights\"}", "wrong issuer" },
		{ "{\"role\":\"r\",\"iss\":\"https://idp.example\",\"aud\":\"other\"}", "wrong audience" },
		{ "{\"role\":\"r\",\"iss\":\"https://idp.example\",\"aud\":[\"other\"]}", "wrong audience" },
		{ "{\"role\":\"r\",\"iss\":\"https://idp.example\",\"aud\":[]}", "wrong audience" },
		{ "{\"role\":\"r\",\"iss\":\"https://idp.example\",\"aud\":[[\"insights\"]]}", "wrong audience" },
		{ "{\"role\":\"r\",\"iss\":\"https://idp.example\",\"aud\":\"insightsx\"}", "wrong audience" },
		{ "{\"role\":\"r\",\"iss\":\"https://idp.example\"}", "wrong audience" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = hs(HS_HDR, cases[i].claims);
		if (cases[i].reason)
			CHECK(fails(v, t, NOW, cases[i].reason));
		else
			CHECK(ok(v, t, NULL));
		free(t);
	}
	jwt_verifier_free(v);
	/* Not configured: not checked. */
	v = hs_verifier(&f, NULL, NULL);
	char *t = hs(HS_HDR, "{\"role\":\"r\",\"iss\":\"anyone\",\"aud\":42}");
	CHECK(ok(v, t, NULL));
	free(t);
	jwt_verifier_free(v);
	fx_release(&f);
}

TEST(jwt_alg_none_rejected)
{
	struct fx f;
	fx_init(&f);
	struct jwt_verifier *hsv = hs_verifier(&f, NULL, NULL);
	struct jwt_verifier *rsv = pem_verifier(&f, rsa_key(0));
	static const char *const nones[] = { "none", "None", "NONE", "nOnE" };
	for (size_t i = 0; i < 4; i++) {
		char hdr[64];
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\"}", nones[i]);
		char *h = b64url(hdr, strlen(hdr)), *p = b64url(CLAIMS, strlen(CLAIMS));
		char t[512];
		snprintf(t, sizeof(t), "%s.%s.", h, p);
		CHECK(fails(hsv, t, NOW, "algorithm not allowed"));
		CHECK(fails(rsv, t, NOW, "algorithm not allowed"));
		free(h);
		free(p);
		/* With the signature of a valid token. */
		char *good = hs_sign(hdr, CLAIMS, SECRET, strlen(SECRET));
		CHECK(fails(hsv, good, NOW, "algorithm not allowed"));
		free(good);
	}
	jwt_verifier_free(hsv);
	jwt_verifier_free(rsv);
	fx_release(&f);
}

/* The header's alg must be the key's: a valid signature under another name is refused. */
TEST(jwt_header_alg_must_match_key)
{
	struct fx f;
	fx_init(&f);
	struct jwt_verifier *hsv = hs_verifier(&f, NULL, NULL);
	struct jwt_verifier *rsv = pem_verifier(&f, rsa_key(0));
	struct jwt_verifier *esv = pem_verifier(&f, ec_key(0));
	static const char *const hdrs[] = { "{\"alg\":\"RS256\"}", "{\"alg\":\"ES256\"}",
					    "{\"alg\":\"HS256\"}", "{\"alg\":\"PS256\"}",
					    "{\"alg\":\"RS512\"}", "{\"alg\":\"hs256\"}",
					    "{\"typ\":\"JWT\"}", "{\"alg\":256}" };
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		const char *want = i >= 6 ? "malformed" : "algorithm not allowed";
		/* Each token signed correctly by the verifier's own key, under the wrong name. */
		char *t;
		if (i != 2) {
			t = hs(hdrs[i], CLAIMS);
			CHECK(fails(hsv, t, NOW, want));
			free(t);
		}
		if (i != 0) {
			t = pk(hdrs[i], CLAIMS, rsa_key(0));
			CHECK(fails(rsv, t, NOW, want));
			free(t);
		}
		if (i != 1) {
			t = pk(hdrs[i], CLAIMS, ec_key(0));
			CHECK(fails(esv, t, NOW, want));
			free(t);
		}
	}
	jwt_verifier_free(hsv);
	jwt_verifier_free(rsv);
	jwt_verifier_free(esv);
	fx_release(&f);
}

/* An RSA public key's PEM text used as an HMAC secret (the classic confusion attack). */
TEST(jwt_hs_rs_confusion_rejected)
{
	struct fx f;
	fx_init(&f);
	char *pem = pem_of(rsa_key(0));
	struct jwt_config cfg = { .public_key_file = fx_writes(&f, "rsa.pem", pem), .skew_s = 30 };
	struct jwt_verifier *v = NULL;
	CHECK(jwt_verifier_new(&cfg, &v, &(struct error)ERROR_INIT) == OK);
	char *t = hs_sign(HS_HDR, CLAIMS, pem, strlen(pem));
	CHECK(fails(v, t, NOW, "algorithm not allowed"));
	free(t);
	t = hs_sign(HS_HDR, CLAIMS, pem, strlen(pem) - 1); /* without the newline */
	CHECK(fails(v, t, NOW, "algorithm not allowed"));
	free(t);
	/* The same through a JWKS holding the key. */
	struct buf b = BUF_INIT;
	buf_adds(&b, "{\"keys\":[");
	add_jwk(&b, rsa_key(0), "");
	buf_adds(&b, "]}");
	struct jwt_config jc = { .jwks_file = fx_writes(&f, "jwks.json", buf_cstr(&b)), .skew_s = 30 };
	buf_release(&b);
	struct jwt_verifier *jv = NULL;
	CHECK(jwt_verifier_new(&jc, &jv, &(struct error)ERROR_INIT) == OK);
	t = hs_sign(HS_HDR, CLAIMS, pem, strlen(pem));
	CHECK(fails(jv, t, NOW, "algorithm not allowed"));
	free(t);
	free(pem);
	jwt_verifier_free(v);
	jwt_verifier_free(jv);
	fx_release(&f);
}

/*
 * `token` with its signature's last `cut` bytes removed, or -cut zero bytes
 * added (re-encoded: still base64url).
 */
static char *cut_signature(const char *token, int cut)
{
	const char *sig = strrchr(token, '.') + 1;
	struct buf std = BUF_INIT;
	for (const char *p = sig; *p; p++)
		buf_addch(&std, *p == '-' ? '+' : *p == '_' ? '/' : *p);
	while (std.len % 4)
		buf_addch(&std, '=');
	unsigned char raw[1024];
	int n = EVP_DecodeBlock(raw, (const unsigned char *)std.data, (int)std.len);
	CHECK(n > 0);
	n -= (int)(strlen(sig) % 4 == 2 ? 2 : strlen(sig) % 4 == 3 ? 1 : 0); /* the padding's zeros */
	buf_release(&std);
	struct buf b = BUF_INIT;
	buf_add(&b, token, (size_t)(sig - 1 - token));
	for (; cut < 0; cut++)
		raw[n++] = 0;
	return finish(&b, raw, (size_t)(n - cut));
}

/* Replaces the payload of `token` by b64(payload), keeping header and signature. */
static char *swap_payload(const char *token, const char *payload)
{
	const char *d1 = strchr(token, '.'), *d2 = strrchr(token, '.');
	struct buf b = BUF_INIT;
	buf_add(&b, token, (size_t)(d1 + 1 - token));
	add_b64url(&b, payload, strlen(payload));
	buf_adds(&b, d2);
	return buf_detach(&b, NULL);
}

TEST(jwt_tampered_or_truncated)
{
	struct fx f;
	fx_init(&f);
	struct jwt_verifier *vs[3] = { hs_verifier(&f, NULL, NULL), pem_verifier(&f, rsa_key(0)),
				       pem_verifier(&f, ec_key(0)) };
	char *ts[3] = { hs(HS_HDR, CLAIMS), pk(RS_HDR, CLAIMS, rsa_key(0)), pk(ES_HDR, CLAIMS, ec_key(0)) };
	for (int k = 0; k < 3; k++) {
		CHECK(ok(vs[k], ts[k], NULL));
		/* One byte of the payload changed: editor -> editos. */
		char *t = swap_payload(ts[k], "{\"sub\":\"alice\",\"role\":\"editos\",\"exp\":1700003600}");
		CHECK(fails(vs[k], t, NOW, "bad signature"));
		free(t);
		/* One character of the header changed (still base64url of JSON): typ JWT -> JWS. */
		t = strdup(ts[k]);
		const char *hdr = k == 0 ? HS_HDR : k == 1 ? RS_HDR : ES_HDR;
		char *h2 = strdup(hdr);
		h2[strlen(h2) - 3] = 'S';
		char *nh = b64url(h2, strlen(h2));
		memcpy(t, nh, strlen(nh));
		CHECK(fails(vs[k], t, NOW, "bad signature"));
		free(nh);
		free(h2);
		free(t);
		/* The signature one byte short, half as long. */
		t = cut_signature(ts[k], 0);
		CHECK(!strcmp(t, ts[k]));
		free(t);
		t = cut_signature(ts[k], 1);
		CHECK(fails(vs[k], t, NOW, "bad signature"));
		free(t);
		t = cut_signature(ts[k], k == 0 ? 16 : k == 1 ? 128 : 32);
		CHECK(fails(vs[k], t, NOW, "bad signature"));
		/* No signature at all. */
		strrchr(t, '.')[1] = '\0';
		CHECK(fails(vs[k], t, NOW, "bad signature"));
		free(t);
		/* One bit of the signature flipped. */
		t = strdup(ts[k]);
		char *last = strrchr(t, '.') + 1;
		last[0] = last[0] == 'A' ? 'B' : 'A';
		CHECK(fails(vs[k], t, NOW, "bad signature"));
		free(t);
		/* One byte too many. */
		t = cut_signature(ts[k], -1);
		CHECK(fails(vs[k], t, NOW, "bad signature"));
		free(t);
	}
	for (int k = 0; k < 3; k++) {
		jwt_verifier_free(vs[k]);
		free(ts[k]);
	}
	fx_release(&f);
}

/* ES256 takes exactly 64 bytes of r||s: DER (what OpenSSL makes) is refused. */
TEST(jwt_es256_signature_form)
{
	struct fx f;
	fx_init(&f);
	struct jwt_verifier *v = pem_verifier(&f, ec_key(0));
	struct buf b = BUF_INIT;
	signing_input(&b, ES_HDR, CLAIMS);
	unsigned char der[128];
	size_t derlen = sizeof(der);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	CHECK(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, ec_key(0)) == 1);
	CHECK(EVP_DigestSign(ctx, der, &derlen, (const unsigned char *)b.data, b.len) == 1);
	EVP_MD_CTX_free(ctx);
	char *t = finish(&b, der, derlen);
	CHECK(fails(v, t, NOW, "bad signature"));
	free(t);
	/* r||s with three zero bytes in front ("AAAA"): 67 bytes. */
	char *good = pk(ES_HDR, CLAIMS, ec_key(0));
	const char *sig = strrchr(good, '.') + 1;
	CHECK(strlen(sig) == 86);
	struct buf c = BUF_INIT;
	buf_add(&c, good, (size_t)(sig - good));
	buf_adds(&c, "AAAA");
	buf_adds(&c, sig);
	CHECK(fails(v, buf_cstr(&c), NOW, "bad signature"));
	buf_release(&c);
	free(good);
	jwt_verifier_free(v);
	fx_release(&f);
}

TEST(jwt_bad_base64url_and_shape)
{
	struct fx f;
	fx_init(&f);
	struct jwt_verifier *v = hs_verifier(&f, NULL, NULL);
	char *t = hs(HS_HDR, CLAIMS);
	CHECK(ok(v, t, NULL));
	const char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
	size_t hl = (size_t)(d1 - t), pl = (size_t)(d2 - d1 - 1);
	char bad[1024];
	/* Padding on each part. */
	snprintf(bad, sizeof(bad), "%.*s=.%s", (int)hl, t, d1 + 1);
	CHECK(fails(v, bad, NOW, "malformed"));
	snprintf(bad, sizeof(bad), "%.*s==%s", (int)(d2 - t), t, d2);
	CHECK(fails(v, bad, NOW, "malformed"));
	snprintf(bad, sizeof(bad), "%s=", t);
	CHECK(fails(v, bad, NOW, "malformed"));
	/* Standard base64's characters, whitespace. */
	snprintf(bad, sizeof(bad), "%s", t);
	bad[d2 - t + 3] = '+';
	CHECK(fails(v, bad, NOW, "malformed"));
	snprintf(bad, sizeof(bad), "%s", t);
	bad[d2 - t + 3] = '/';
	CHECK(fails(v, bad, NOW, "malformed"));
	snprintf(bad, sizeof(bad), " %s", t);
	CHECK(fails(v, bad, NOW, "malformed"));
	snprintf(bad, sizeof(bad), "%s\n", t);
	CHECK(fails(v, bad, NOW, "malformed"));
	/* A part of an impossible length (4k+1), stray bits. */
	snprintf(bad, sizeof(bad), "%.*sA.%s", (int)hl, t, d1 + 1);
	CHECK(fails(v, bad, NOW, "malformed"));
	/* HS256's 32-byte signature is 43 characters, the last with 2 unused bits. */
	CHECK(strlen(d2 + 1) == 43);
	snprintf(bad, sizeof(bad), "%s", t);
	char *last = bad + strlen(bad) - 1;
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	int val = (int)(strchr(a, *last) - a);
	*last = a[val ^ 1]; /* an unused bit set */
	CHECK(fails(v, bad, NOW, "malformed"));
	/* Two parts, four parts, empty parts. */
	snprintf(bad, sizeof(bad), "%.*s", (int)(d2 - t), t);
	CHECK(fails(v, bad, NOW, "malformed"));
	snprintf(bad, sizeof(bad), "%s.%s", t, d2 + 1);
	CHECK(fails(v, bad, NOW, "malformed"));
	snprintf(bad, sizeof(bad), "%s", d1);
	CHECK(fails(v, bad, NOW, "malformed"));
	CHECK(fails(v, "..", NOW, "malformed"));
	CHECK(fails(v, "", NOW, "malformed"));
	CHECK(fails(v, NULL, NOW, "malformed"));
	(void)pl;
	free(t);
	/* Headers and payloads that are not JSON objects (signed correctly). */
	static const char *const notobj[] = { "[]", "\"x\"", "42", "null", "{", "{\"a\":1}}",
					      "{\"a\":1} x", "{'alg':'HS256'}", "" };
	for (size_t i = 0; i < sizeof(notobj) / sizeof(notobj[0]); i++) {
		t = hs(notobj[i], CLAIMS);
		CHECK(fails(v, t, NOW, "malformed"));
		free(t);
		t = hs(HS_HDR, notobj[i]);
		CHECK(fails(v, t, NOW, "malformed"));
		free(t);
	}
	/* A NUL inside the payload's JSON. */
	{
		struct buf b = BUF_INIT;
		add_b64url(&b, HS_HDR, strlen(HS_HDR));
		buf_addch(&b, '.');
		add_b64url(&b, "{\"role\":\"r\"}\0", 13);
		unsigned char mac[64];
		size_t maclen = 0;
		CHECK(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, SECRET, strlen(SECRET),
				(const unsigned char *)b.data, b.len, mac, sizeof(mac), &maclen) != NULL);
		t = finish(&b, mac, maclen);
		CHECK(fails(v, t, NOW, "malformed"));
		free(t);
	}
	/* Whitespace around JSON is JSON. */
	t = hs(" {\"alg\":\"HS256\"} ", " {\"role\":\"r\"}\n");
	CHECK(ok(v, t, NULL));
	free(t);
	/* A critical extension we do not know. */
	t = hs("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", CLAIMS);
	CHECK(fails(v, t, NOW, "malformed"));
	free(t);
	jwt_verifier_free(v);
	fx_release(&f);
}

TEST(jwt_claim_paths)
{
	struct fx f;
	fx_init(&f);
	const char *claims =
		"{\"sub\":\"u1\",\"uid\":12345678901,\"score\":1.5,\"flag\":true,"
		"\"realm_access\":{\"roles\":[\"admin\",\"viewer\"]},"
		"\"https://hasura.io/jwt/claims\":{\"x-hasura-default-role\":\"author\","
		"\"x-hasura-user-id\":\"42\"},\"deep\":{\"a\":[[{\"b\":\"x\"}]]},"
		"\"n\":7,\"empty\":\"\",\"nul\":\"ad\\u0000min\",\"long\":\"0123456789012345678901234567890123456789012345678901234567890123\"}";
	static const struct {
		const char *role, *name;
		const char *role_want, *name_want; /* role_want NULL: fails with reason name_want */
	} cases[] = {
		{ ".realm_access.roles[0]", NULL, "admin", "u1" },
		{ ".realm_access.roles[1]", ".uid", "viewer", "12345678901" },
		{ ".\"https://hasura.io/jwt/claims\".\"x-hasura-default-role\"",
		  ".\"https://hasura.io/jwt/claims\".\"x-hasura-user-id\"", "author", "42" },
		{ ".deep.a[0][0].b", ".score", "x", "1.5" },
		{ ".\"realm_access\".roles[0]", ".nothing", "admin", "" },
		{ ".realm_access.roles[2]", NULL, NULL, "no role claim" },
		{ ".realm_access.roles", NULL, NULL, "no role claim" },
		{ ".role", NULL, NULL, "no role claim" },
		{ ".n", NULL, NULL, "no role claim" },
		{ ".empty", NULL, NULL, "no role claim" },
		{ ".long", NULL, NULL, "no role claim" },
		{ ".sub.x", NULL, NULL, "no role claim" },
		{ ".deep.a[0].b", NULL, NULL, "no role claim" },
		{ ".sub", ".flag", NULL, "bad name claim" },
		{ ".nul", NULL, NULL, "no role claim" },
		{ ".sub", ".nul", NULL, "bad name claim" },
		{ ".sub", ".realm_access", NULL, "bad name claim" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jwt_verifier *v = hs_verifier(&f, cases[i].role, cases[i].name);
		if (!v)
			continue;
		char *t = hs(HS_HDR, claims);
		if (cases[i].role_want) {
			struct jwt_identity id;
			CHECK(ok(v, t, &id));
			CHECK_STR(id.role, cases[i].role_want);
			CHECK_STR(id.name, cases[i].name_want);
		} else {
			CHECK(fails(v, t, NOW, cases[i].name_want));
		}
		free(t);
		jwt_verifier_free(v);
		unlink(f.paths[--f.n]);
	}
	/* Paths refused at start-up, naming the setting. */
	static const char *const bad[] = { "role", ".", "..role", ".role.", ".a[", ".a[x]", ".a[0",
					   ".a[]", ".\"unterminated", ".a b", ".a-b", ".a[-1]",
					   ".a[99999999999]", ".postgrest.roles[?(@ == \"author\")]",
					   ".a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct jwt_config cfg = { .secret_file = fx_writes(&f, "s", SECRET), .role_claim = bad[i] };
		struct jwt_verifier *v = (struct jwt_verifier *)&cfg;
		struct error err = ERROR_INIT;
		CHECK(jwt_verifier_new(&cfg, &v, &err) == E_INVALID);
		CHECK(v == NULL);
		CHECK(strstr(err.detail, "role claim") != NULL);
		cfg.role_claim = NULL;
		cfg.name_claim = bad[i];
		CHECK(jwt_verifier_new(&cfg, &v, &err) == E_INVALID);
		CHECK(strstr(err.detail, "name claim") != NULL);
		unlink(f.paths[--f.n]);
	}
	/* Quoted keys may hold dots, slashes and be empty; 16 steps are fine. */
	struct jwt_config cfg = { .secret_file = fx_writes(&f, "s", SECRET),
				  .role_claim = ".\"a.b/c\".\"\"[0]", .name_claim = ".a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p" };
	struct jwt_verifier *v = NULL;
	CHECK(jwt_verifier_new(&cfg, &v, &(struct error)ERROR_INIT) == OK);
	char *t = hs(HS_HDR, "{\"a.b/c\":{\"\":[\"dotted\"]}}");
	struct jwt_identity id;
	CHECK(ok(v, t, &id));
	CHECK_STR(id.role, "dotted");
	free(t);
	jwt_verifier_free(v);
	fx_release(&f);
}

TEST(jwt_length_limit)
{
	struct fx f;
	fx_init(&f);
	struct jwt_verifier *v = hs_verifier(&f, NULL, NULL);
	/* A valid token of exactly JWT_TOKEN_MAX bytes, then one byte more. */
	struct buf pad = BUF_INIT;
	char *t = NULL;
	size_t len = 0;
	for (size_t fill = 6000; fill < 6200; fill++) {
		buf_reset(&pad);
		buf_adds(&pad, "{\"role\":\"r\",\"pad\":\"");
		for (size_t i = 0; i < fill; i++)
			buf_addch(&pad, 'x');
		buf_adds(&pad, "\"}");
		free(t);
		t = hs(HS_HDR, buf_cstr(&pad));
		len = strlen(t);
		if (len >= JWT_TOKEN_MAX)
			break;
	}
	CHECK(len == JWT_TOKEN_MAX || len == JWT_TOKEN_MAX + 1);
	if (len == JWT_TOKEN_MAX) {
		CHECK(ok(v, t, NULL));
		buf_adds(&pad, " ");
		free(t);
		t = hs(HS_HDR, buf_cstr(&pad));
	}
	CHECK(strlen(t) > JWT_TOKEN_MAX);
	CHECK(fails(v, t, NOW, "too long"));
	free(t);
	/* Far longer, and not even a token: refused before any work. */
	char *huge = malloc(1 << 20);
	memset(huge, 'A', (1 << 20) - 1);
	huge[(1 << 20) - 1] = '\0';
	CHECK(fails(v, huge, NOW, "too long"));
	free(huge);
	buf_release(&pad);
	jwt_verifier_free(v);
	fx_release(&f);
}

TEST(jwt_looks_like_shape)
{
	CHECK(jwt_looks_like("eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiciJ9.c2ln"));
	CHECK(jwt_looks_like("a.b."));
	CHECK(jwt_looks_like("a-_.b.c"));
	CHECK(!jwt_looks_like("a.b"));
	CHECK(!jwt_looks_like("a.b.c.d"));
	CHECK(!jwt_looks_like(".b.c"));
	CHECK(!jwt_looks_like("a..c"));
	CHECK(!jwt_looks_like("a.b=.c"));
	CHECK(!jwt_looks_like("a.b.c+"));
	CHECK(!jwt_looks_like("a b.c.d"));
	CHECK(!jwt_looks_like("ins_00000000000000000000000000000000000000000002CZclj"));
	CHECK(!jwt_looks_like(""));
	CHECK(!jwt_looks_like(NULL));
}

TEST(jwt_verifier_config_errors)
{
	struct fx f;
	fx_init(&f);
	struct jwt_verifier *v = NULL;
	struct error err = ERROR_INIT;
	const char *secret = fx_writes(&f, "secret", SECRET);
	/* None, or more than one key. */
	struct jwt_config cfg = { 0 };
	CHECK(jwt_verifier_new(&cfg, &v, &err) == E_INVALID && !v);
	cfg = (struct jwt_config){ .secret_file = "" };
	CHECK(jwt_verifier_new(&cfg, &v, &err) == E_INVALID && !v);
	cfg = (struct jwt_config){ .secret_file = secret, .public_key_file = secret };
	CHECK(jwt_verifier_new(&cfg, &v, &err) == E_INVALID && !v);
	cfg = (struct jwt_config){ .secret_file = secret, .jwks_file = secret };
	CHECK(jwt_verifier_new(&cfg, &v, &err) == E_INVALID && !v);
	/* Secrets: 32 bytes after the newline is stripped, and never in the message. */
	static const char s31[] = "Zq9-secret-bytes-never-shown-31";
	cfg = (struct jwt_config){ .secret_file = fx_writes(&f, "s31", "Zq9-secret-bytes-never-shown-31\n") };
	CHECK(strlen(s31) == 31);
	err = (struct error)ERROR_INIT;
	CHECK(jwt_verifier_new(&cfg, &v, &err) == E_INVALID && !v);
	CHECK(strstr(err.detail, f.paths[f.n - 1]) != NULL);
	CHECK(strstr(err.detail, "Zq9") == NULL);
	cfg = (struct jwt_config){ .secret_file = fx_writes(&f, "s32", "Zq9-secret-bytes-never-shown-32\r\n") };
	CHECK(jwt_verifier_new(&cfg, &v, &err) == E_INVALID && !v);
	cfg = (struct jwt_config){ .secret_file = fx_writes(&f, "s32b", "Zq9-secret-bytes-never-shown-32!\n") };
	CHECK(jwt_verifier_new(&cfg, &v, &err) == OK && v);
	jwt_verifier_free(v);
	v = NULL;
	/* Missing files. */
	cfg = (struct jwt_config){ .public_key_file = "/nonexistent/key.pem" };
	err = (struct error)ERROR_INIT;
	CHECK(jwt_verifier_new(&cfg, &v, &err) == E_INVALID && !v);
	CHECK(strstr(err.detail, "/nonexistent/key.pem") != NULL);
	/* A PEM file with no public key in it (a secret, say): the message shows none of it. */
	cfg = (struct jwt_config){ .public_key_file = secret };
	err = (struct error)ERROR_INIT;
	CHECK(jwt_verifier_new(&cfg, &v, &err) == E_INVALID && !v);
	CHECK(strstr(err.detail, "0123456789abcdef") == NULL);
	/* Keys we do not verify with: P-384, RSA 1024. */
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	char *pem = pem_of(p384);
	cfg = (struct jwt_config){ .public_key_file = fx_writes(&f, "p384.pem", pem) };
	free(pem);
	err = (struct error)ERROR_INIT;
	CHECK(jwt_verifier_new(&cfg, &v, &err) == E_INVALID && !v);
	CHECK(strstr(err.detail, "P-256") != NULL);
	pem = pem_of(rsa1024);
	cfg = (struct jwt_config){ .public_key_file = fx_writes(&f, "rsa1024.pem", pem) };
	free(pem);
	err = (struct error)ERROR_INIT;
	CHECK(jwt_verifier_new(&cfg, &v, &err) == E_INVALID && !v);
	CHECK(strstr(err.detail, "2048") != NULL);
	/* JWKS: not JSON, no keys array, no usable key, a broken key we would use. */
	struct buf b = BUF_INIT;
	add_jwk(&b, rsa1024, "");
	char *small = buf_detach(&b, NULL);
	static const char *const bad_jwks[] = {
		"not json", "[]", "{\"keys\":{}}", "{\"keys\":[]}",
		"{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}",
		"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AAAA\",\"e\":\"AQAB\"}]}",
		"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"A=A\",\"e\":\"AQAB\"}]}",
		"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"}]}",
		"{\"keys\":[1]}", "{\"keys\":[{\"kty\":1}]}",
	};
	for (size_t i = 0; i < sizeof(bad_jwks) / sizeof(bad_jwks[0]) + 2; i++) {
		struct buf d = BUF_INIT;
		if (i < sizeof(bad_jwks) / sizeof(bad_jwks[0])) {
			buf_adds(&d, bad_jwks[i]);
		} else if (i == sizeof(bad_jwks) / sizeof(bad_jwks[0])) {
			buf_addf(&d, "{\"keys\":[%s]}", small);
		} else {
			/* A point not on the curve: the public key's y changed. */
			buf_adds(&d, "{\"keys\":[");
			struct buf k = BUF_INIT;
			add_jwk(&k, ec_key(0), "");
			char *y = strstr(k.data, "\"y\":\"") + 5;
			y[0] = y[0] == 'A' ? 'B' : 'A';
			buf_adds(&d, k.data);
			buf_release(&k);
			buf_adds(&d, "]}");
		}
		cfg = (struct jwt_config){ .jwks_file = fx_writes(&f, "bad.json", buf_cstr(&d)) };
		buf_release(&d);
		err = (struct error)ERROR_INIT;
		CHECK(jwt_verifier_new(&cfg, &v, &err) == E_INVALID && !v);
		CHECK(strstr(err.detail, "jwks file") != NULL);
		unlink(f.paths[--f.n]);
	}
	free(small);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa1024);
	fx_release(&f);
}
