/*
 * test_token.c: API tokens (auth/token.c): their shape, the checksum that
 * rejects typos, the hash the database stores, constant-time comparison.
 */
#include "t.h"

#include <string.h>

#include "auth/token.h"

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

TEST(token_new_well_formed_and_distinct)
{
	char a[AUTH_TOKEN_SIZE], b[AUTH_TOKEN_SIZE];
	struct error err = ERROR_INIT;
	CHECK(auth_token_new(a, &err) == OK);
	CHECK(auth_token_new(b, &err) == OK);
	CHECK(strlen(a) == AUTH_TOKEN_LEN && AUTH_TOKEN_LEN == 53);
	CHECK(!strncmp(a, "ins_", 4));
	CHECK(auth_token_well_formed(a));
	CHECK(auth_token_well_formed(b));
	CHECK(strcmp(a, b) != 0);
	/* Many tokens: all well formed, all distinct from the first. */
	for (int i = 0; i < 200; i++) {
		CHECK(auth_token_new(b, &err) == OK);
		CHECK(auth_token_well_formed(b));
		CHECK(strcmp(a, b) != 0);
	}
}

/* Every single-character change, in the body or the checksum, is caught. */
TEST(token_one_changed_char_fails_checksum)
{
	char t[AUTH_TOKEN_SIZE];
	struct error err = ERROR_INIT;
	CHECK(auth_token_new(t, &err) == OK);
	int caught = 0, tried = 0;
	for (size_t i = 4; i < AUTH_TOKEN_LEN; i++) {
		char orig = t[i];
		for (const char *c = b62; *c; c++) {
			if (*c == orig)
				continue;
			t[i] = *c;
			tried++;
			caught += !auth_token_well_formed(t);
		}
		t[i] = orig;
	}
	CHECK(tried == 49 * 61);
	CHECK(caught == tried);
	CHECK(auth_token_well_formed(t));
	/* Two adjacent characters swapped. */
	for (size_t i = 4; i + 1 < AUTH_TOKEN_LEN; i++) {
		if (t[i] == t[i + 1])
			continue;
		char u[AUTH_TOKEN_SIZE];
		memcpy(u, t, sizeof(u));
		u[i] = t[i + 1];
		u[i + 1] = t[i];
		CHECK(!auth_token_well_formed(u));
	}
}

TEST(token_shape_rejected)
{
	char t[AUTH_TOKEN_SIZE];
	struct error err = ERROR_INIT;
	CHECK(auth_token_new(t, &err) == OK);
	char u[AUTH_TOKEN_SIZE + 1];
	/* Wrong prefix (the checksum covers only the body). */
	memcpy(u, t, AUTH_TOKEN_SIZE);
	u[0] = 'I';
	CHECK(!auth_token_well_formed(u));
	memcpy(u, "ghp_", 4);
	CHECK(!auth_token_well_formed(u));
	/* One character short, one too many. */
	memcpy(u, t, AUTH_TOKEN_SIZE);
	u[AUTH_TOKEN_LEN - 1] = '\0';
	CHECK(!auth_token_well_formed(u));
	memcpy(u, t, AUTH_TOKEN_SIZE);
	u[AUTH_TOKEN_LEN] = '0';
	u[AUTH_TOKEN_LEN + 1] = '\0';
	CHECK(!auth_token_well_formed(u));
	/* Outside the alphabet. */
	memcpy(u, t, AUTH_TOKEN_SIZE);
	u[10] = '-';
	CHECK(!auth_token_well_formed(u));
	CHECK(!auth_token_well_formed(NULL));
	CHECK(!auth_token_well_formed(""));
	CHECK(!auth_token_well_formed("ins_"));
}

/*
 * Tokens computed independently (Python: zlib.crc32, base62 by divmod):
 * the format is a contract with secret scanners and stored hashes.
 */
TEST(token_known_answers)
{
	/* The body of 32 zero bytes; CRC32 0x7849568f. */
	CHECK(auth_token_well_formed("ins_00000000000000000000000000000000000000000002CZclj"));
	/* The body of the bytes 0, 1, ..., 31. */
	CHECK(auth_token_well_formed("ins_003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf1Yo7hP"));
	/* The same with the checksum of the other. */
	CHECK(!auth_token_well_formed("ins_003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf2CZclj"));
}

TEST(token_hash_is_never_well_formed)
{
	char t[AUTH_TOKEN_SIZE], h[AUTH_HASH_HEX];
	struct error err = ERROR_INIT;
	CHECK(auth_token_new(t, &err) == OK);
	auth_hash_hex(t, strlen(t), h);
	CHECK(strlen(h) == 64);
	CHECK(!auth_token_well_formed(h));
	/* Not even with the prefix in front of it. */
	char p[80];
	snprintf(p, sizeof(p), "ins_%s", h);
	CHECK(!auth_token_well_formed(p));
}

TEST(token_hash_known_answer)
{
	char h[AUTH_HASH_HEX];
	auth_hash_hex("abc", 3, h);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	auth_hash_hex("", 0, h);
	CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* Only len bytes count. */
	auth_hash_hex("abcdef", 3, h);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(token_equal)
{
	CHECK(auth_equal("abcdef", "abcdef", 6));
	CHECK(!auth_equal("abcdef", "abcdeg", 6));
	CHECK(!auth_equal("xbcdef", "abcdef", 6));
	CHECK(auth_equal("abc", "abd", 2));
	CHECK(auth_equal("", "", 0));
}
