/*
 * test_cache.c: the response cache (api/cache.c).
 */
#include "t.h"

#include <stdio.h>
#include <time.h>

#include "api/cache.h"

static struct buf key_of(const char *s)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, s);
	return b;
}

TEST(cache_serves_only_the_current_version)
{
	struct response_cache *c = cache_new(CACHE_TTL_MS);
	struct buf k = key_of("/insights\npage=1&\n"), body = BUF_INIT;
	const char *type = NULL;
	CHECK(!cache_get(c, &k, 7, &body, &type));
	cache_put(c, &k, 7, "{\"total\":1}", 11, "application/json");
	CHECK(cache_get(c, &k, 7, &body, &type));
	CHECK_STR(body.data, "{\"total\":1}");
	CHECK_STR(type, "application/json");
	buf_reset(&body);
	/* A write moved the version on: the entry is gone for good. */
	CHECK(!cache_get(c, &k, 8, &body, &type));
	CHECK(!cache_get(c, &k, 7, &body, &type));
	CHECK(body.len == 0);
	/* Keys differ by query string and body. */
	struct buf k2 = key_of("/insights\npage=2&\n");
	cache_put(c, &k, 8, "a", 1, "application/json");
	CHECK(!cache_get(c, &k2, 8, &body, &type));
	CHECK(cache_hits(c) == 1 && cache_misses(c) == 4);
	buf_release(&k);
	buf_release(&k2);
	buf_release(&body);
	cache_free(c);
}

TEST(cache_stays_within_its_memory_bound)
{
	struct response_cache *c = cache_new(CACHE_TTL_MS);
	static char big[100000];
	memset(big, 'x', sizeof(big));
	struct buf body = BUF_INIT;
	const char *type;
	char name[32];
	/* 4000 entries of 100 kB would be 400 MB: most must have been evicted. */
	for (int i = 0; i < 4000; i++) {
		snprintf(name, sizeof(name), "/k%d", i);
		struct buf k = key_of(name);
		cache_put(c, &k, 1, big, sizeof(big), "text/plain");
		buf_release(&k);
	}
	int kept = 0;
	for (int i = 0; i < 4000; i++) {
		snprintf(name, sizeof(name), "/k%d", i);
		struct buf k = key_of(name);
		buf_reset(&body);
		kept += cache_get(c, &k, 1, &body, &type);
		buf_release(&k);
	}
	CHECK(kept > 0 && kept * sizeof(big) <= (8u << 20));
	/* The most recent entry survives. */
	struct buf last = key_of("/k3999");
	CHECK(cache_get(c, &last, 1, &body, &type));
	buf_release(&last);
	buf_release(&body);
	cache_free(c);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

TEST(cache_expired_entries_are_recomputed_by_one_caller)
{
	struct response_cache *c = cache_new(40);
	struct buf k = key_of("/statistics\n\n"), body = BUF_INIT;
	const char *type = NULL;
	cache_put(c, &k, 3, "old", 3, "application/json");
	CHECK(cache_get(c, &k, 3, &body, &type));
	sleep_ms(60);
	/* Expired: the first caller recomputes, the others get the old answer. */
	CHECK(!cache_get(c, &k, 3, &body, &type));
	buf_reset(&body);
	CHECK(cache_get(c, &k, 3, &body, &type));
	CHECK_STR(body.data, "old");
	/* Never across a write, though. */
	CHECK(!cache_get(c, &k, 4, &body, &type));
	cache_put(c, &k, 4, "new", 3, "application/json");
	sleep_ms(60);
	CHECK(!cache_get(c, &k, 4, &body, &type));
	/* A recomputation that never stored gives way to another after a TTL. */
	sleep_ms(60);
	CHECK(!cache_get(c, &k, 4, &body, &type));
	buf_reset(&body);
	CHECK(cache_get(c, &k, 4, &body, &type));
	CHECK_STR(body.data, "new");
	cache_put(c, &k, 4, "newer", 5, "application/json");
	buf_reset(&body);
	CHECK(cache_get(c, &k, 4, &body, &type));
	CHECK_STR(body.data, "newer");
	buf_release(&k);
	buf_release(&body);
	cache_free(c);
}

/* An answer is worth storing once its key comes back: not the first time. */
TEST(cache_admits_keys_asked_for_twice)
{
	struct response_cache *c = cache_new(CACHE_TTL_MS);
	struct buf a = key_of("/insights\npage=1&\n"), b = key_of("/insights\npage=2&\n");
	CHECK(!cache_admit(c, &a));
	CHECK(!cache_admit(c, &b));
	CHECK(cache_admit(c, &a));
	CHECK(cache_admit(c, &b));
	CHECK(cache_admit(c, &a));
	buf_release(&a);
	buf_release(&b);
	cache_free(c);
}

/*
 * A key that had an entry was asked for twice already: whoever recomputes
 * it after it expired, or after a write, stores the answer, however many
 * other keys went through the table of keys asked for meanwhile.
 */
static void ask_for_other_keys(struct response_cache *c)
{
	char name[32];
	for (int i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "/k%d", i);
		struct buf other = key_of(name);
		cache_admit(c, &other);
		buf_release(&other);
	}
}

TEST(cache_admits_the_recomputation_of_an_entry)
{
	struct response_cache *c = cache_new(40);
	struct buf k = key_of("/statistics\n\n"), body = BUF_INIT;
	const char *type = NULL;
	cache_put(c, &k, 3, "old", 3, "application/json");
	ask_for_other_keys(c);
	sleep_ms(60);
	CHECK(!cache_get(c, &k, 3, &body, &type)); /* expired: this caller recomputes */
	CHECK(cache_admit(c, &k));
	cache_put(c, &k, 3, "new", 3, "application/json");
	ask_for_other_keys(c);
	CHECK(!cache_get(c, &k, 4, &body, &type)); /* a write came after it */
	CHECK(cache_admit(c, &k));
	buf_release(&k);
	buf_release(&body);
	cache_free(c);
}
