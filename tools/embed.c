/*
 * embed.c: the build-time generator that turns files into C data, so that
 * the insights binary serves its API documentation (the OpenAPI document,
 * the Swagger UI and ReDoc pages and their scripts) without reading any
 * file at run time and without the internet.
 *
 *   embed [--table NAME] OUT.c URL TYPE FILE [URL TYPE FILE]...
 *   embed --self-test
 *
 * For each triple it writes a `static const unsigned char` array holding
 * FILE's bytes and one more NUL byte (not counted in the length, so that a
 * text file can be used as a C string), then a table of src/lib/asset.h,
 * named `assets` unless --table says otherwise:
 *
 *   const struct asset assets[] = {
 *       { "/docs/swagger-ui.css", "text/css; charset=utf-8", asset_0, 187956, "<sha256>" },
 *       ...
 *   };
 *   const size_t assets_count = ...;
 *
 * The same tool embeds the API documentation's web assets (api/assets.h)
 * and the storage drivers' SQL migrations (store/sqlite/migrate.c, store/pg/migrate.c).
 *
 * The SHA-256 of each file, in lower-case hex, becomes its strong ETag.
 * SHA-256 is implemented here (FIPS 180-4) so the tool needs nothing but a
 * C17 compiler; `--self-test` checks it against the standard's vectors.
 *
 * OUT.c is written under a temporary name and renamed into place, so an
 * interrupted build never leaves a half-written source behind. Exit status:
 * 0 done, 1 an I/O failure or a failed self-test, 2 a usage error.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/banned.h"

/* ---- SHA-256 ------------------------------------------------------------ */

struct sha256 {
	uint32_t h[8];
	uint64_t nbytes;         /* message length so far */
	unsigned char block[64]; /* pending input, `nbytes % 64` bytes of it */
};

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_init(struct sha256 *s)
{
	static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(s->h, h0, sizeof(h0));
	s->nbytes = 0;
}

/* One 64-byte block through the compression function. */
static void sha256_block(struct sha256 *s, const unsigned char *p)
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
	uint32_t e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) +
			      sha256_k[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		h = g, g = f, f = e, e = d + t1;
		d = c, c = b, b = a, a = t1 + t2;
	}
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
	s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

static void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t used = (size_t)(s->nbytes % 64);
	s->nbytes += len;
	if (used) {
		size_t take = 64 - used < len ? 64 - used : len;
		memcpy(s->block + used, p, take);
		p += take, len -= take;
		if (used + take < 64)
			return;
		sha256_block(s, s->block);
	}
	for (; len >= 64; p += 64, len -= 64)
		sha256_block(s, p);
	memcpy(s->block, p, len);
}

/* Pads, finishes and writes the digest as 64 lower-case hex digits. */
static void sha256_hex(struct sha256 *s, char out[65])
{
	uint64_t bits = s->nbytes * 8;
	static const unsigned char pad[64] = { 0x80 };
	size_t used = (size_t)(s->nbytes % 64);
	sha256_update(s, pad, used < 56 ? 56 - used : 120 - used);
	unsigned char len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(s, len, 8);
	static const char hexd[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		unsigned char byte = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
		out[2 * i] = hexd[byte >> 4];
		out[2 * i + 1] = hexd[byte & 15];
	}
	out[64] = '\0';
}

/*
 * The vectors of FIPS 180-4's examples (and NIST's long message), fed in
 * pieces of awkward sizes so that the buffering across blocks is exercised
 * too. Returns the number of failures.
 */
static int self_test(void)
{
	static const struct {
		const char *text;
		size_t repeat;
		const char *digest;
	} vectors[] = {
		{ "", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
		  "klmnopqrlmnopqrsmnopqrstnopqrstu", 1,
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
		{ "a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
	};
	int failures = 0;
	for (size_t v = 0; v < sizeof(vectors) / sizeof(vectors[0]); v++) {
		for (size_t piece = 1; piece <= 129; piece += 64) {
			struct sha256 s;
			sha256_init(&s);
			size_t n = strlen(vectors[v].text);
			for (size_t r = 0; r < vectors[v].repeat; r++)
				for (size_t off = 0; off < n; off += piece)
					sha256_update(&s, vectors[v].text + off,
						      n - off < piece ? n - off : piece);
			char hex[65];
			sha256_hex(&s, hex);
			if (strcmp(hex, vectors[v].digest)) {
				fprintf(stderr, "embed: sha256 self-test %zu (pieces of %zu) gave %s, want %s\n",
					v, piece, hex, vectors[v].digest);
				failures++;
			}
		}
	}
	if (!failures)
		printf("embed: sha256 self-test passed\n");
	return failures;
}

/* ---- the generated source ---------------------------------------------- */

/* Writes `s` as a C string literal. */
static void put_cstring(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '?')
			fputs("\\?", out); /* no trigraphs */
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\%03o", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/*
 * Copies FILE into the array `asset_<index>`, hashing it on the way.
 * Returns its length, or -1 (reported) when it cannot be read.
 */
static long long embed_file(FILE *out, size_t index, const char *path, char hex[65])
{
	FILE *in = fopen(path, "rb");
	if (!in) {
		fprintf(stderr, "embed: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	struct sha256 s;
	sha256_init(&s);
	fputs("/* ", out);
	for (const char *c = path; *c; c++) {
		fputc(*c, out);
		if (c[0] == '*' && c[1] == '/')
			fputc(' ', out); /* the comment must not end inside the path */
	}
	fprintf(out, " */\nstatic const unsigned char asset_%zu[] = {", index);
	unsigned char chunk[65536];
	long long total = 0;
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0) {
		sha256_update(&s, chunk, n);
		for (size_t i = 0; i < n; i++, total++)
			fprintf(out, "%s%u,", total % 24 ? "" : "\n\t", chunk[i]);
	}
	int bad = ferror(in);
	fclose(in);
	if (bad) {
		fprintf(stderr, "embed: cannot read %s\n", path);
		return -1;
	}
	/* The terminating NUL (also the one element of an empty file). */
	fprintf(out, "%s0,\n};\n\n", total % 24 ? "" : "\n\t");
	sha256_hex(&s, hex);
	return total;
}

static int generate(const char *table, const char *outpath, int nargs, char **args)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", outpath) >= (int)sizeof(tmp)) {
		fprintf(stderr, "embed: output path too long\n");
		return 2;
	}
	FILE *out = fopen(tmp, "w");
	if (!out) {
		fprintf(stderr, "embed: cannot create %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	size_t count = (size_t)nargs / 3;
	char (*hexes)[65] = calloc(count ? count : 1, sizeof(*hexes));
	long long *lens = calloc(count ? count : 1, sizeof(*lens));
	int rc = 0;
	if (!hexes || !lens) {
		fprintf(stderr, "embed: out of memory\n");
		rc = 1;
	}
	fprintf(out, "/*\n * Generated by tools/embed from the files named below; do not edit.\n"
		     " * The table %s of lib/asset.h.\n */\n#include \"lib/asset.h\"\n\n"
		     "#include \"lib/banned.h\"\n\n", table);
	for (size_t i = 0; i < count && !rc; i++) {
		lens[i] = embed_file(out, i, args[3 * i + 2], hexes[i]);
		if (lens[i] < 0)
			rc = 1;
	}
	if (!rc) {
		fprintf(out, "extern const struct asset %s[];\nextern const size_t %s_count;\n\n"
			     "const struct asset %s[] = {\n", table, table, table);
		for (size_t i = 0; i < count; i++) {
			fputs("\t{ ", out);
			put_cstring(out, args[3 * i]);
			fputs(", ", out);
			put_cstring(out, args[3 * i + 1]);
			fprintf(out, ", asset_%zu, %lld, \"%s\" },\n", i, lens[i], hexes[i]);
		}
		if (!count) /* C has no empty initializers */
			fputs("\t{ NULL, NULL, NULL, 0, NULL },\n", out);
		fprintf(out, "};\n\nconst size_t %s_count = %zu;\n", table, count);
	}
	free(hexes);
	free(lens);
	if (fclose(out) && !rc) {
		fprintf(stderr, "embed: cannot write %s: %s\n", tmp, strerror(errno));
		rc = 1;
	}
	if (!rc && rename(tmp, outpath)) {
		fprintf(stderr, "embed: cannot rename %s: %s\n", tmp, strerror(errno));
		rc = 1;
	}
	if (rc)
		remove(tmp);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--self-test"))
		return self_test() ? 1 : 0;
	const char *table = "assets";
	if (argc >= 3 && !strcmp(argv[1], "--table")) {
		table = argv[2];
		argc -= 2;
		argv += 2;
	}
	bool ident = *table && !(*table >= '0' && *table <= '9');
	for (const char *c = table; *c; c++)
		ident = ident && ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				  (*c >= '0' && *c <= '9') || *c == '_');
	if (argc < 2 || (argc - 2) % 3 != 0 || argv[1][0] == '-' || !ident) {
		fprintf(stderr, "usage: embed [--table NAME] OUT.c URL TYPE FILE [URL TYPE FILE]...\n"
				"       embed --self-test\n");
		return 2;
	}
	for (int i = 2; i < argc; i += 3) {
		if (argv[i][0] != '/') {
			fprintf(stderr, "embed: URL '%s' must start with '/'\n", argv[i]);
			return 2;
		}
	}
	return generate(table, argv[1], argc - 2, argv + 2);
}
