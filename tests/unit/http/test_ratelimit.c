/*
 * test_ratelimit.c: token buckets, their bound on memory, rates and the
 * RateLimit headers (http/ratelimit.c). Time is injected: no test sleeps.
 */
#include "t.h"

#include <pthread.h>
#include <stdint.h>

#include "http/ratelimit.h"

#define SEC 1000000000ull

TEST(ratelimit_burst_then_refusal)
{
	struct ratelimit *rl = ratelimit_new((struct ratelimit_policy){ .rate = 1, .burst = 5 }, 100);
	struct ratelimit_verdict v;
	uint64_t t = 1000 * SEC;
	for (unsigned i = 0; i < 5; i++) {
		ratelimit_take(rl, "alice", t, &v);
		CHECK(v.allowed);
		CHECK(v.remaining == 4 - i);
		CHECK(v.reset_s == i + 1); /* one token a second refills what was taken */
		CHECK(v.retry_after_s == 0);
	}
	ratelimit_take(rl, "alice", t, &v);
	CHECK(!v.allowed);
	CHECK(v.remaining == 0);
	CHECK(v.retry_after_s == 1);
	CHECK(v.reset_s == 5);
	/* Refused requests take nothing: still one second to the next token. */
	ratelimit_take(rl, "alice", t, &v);
	CHECK(!v.allowed);
	CHECK(v.retry_after_s == 1);
	ratelimit_free(rl);
}

TEST(ratelimit_refills_over_time)
{
	/* 600/m: one token every 100 ms, a bucket of 2. */
	struct ratelimit *rl = ratelimit_new((struct ratelimit_policy){ .rate = 10, .burst = 2 }, 100);
	struct ratelimit_verdict v;
	uint64_t t = 5 * SEC;
	ratelimit_take(rl, "k", t, &v);
	ratelimit_take(rl, "k", t, &v);
	CHECK(v.allowed && v.remaining == 0);
	ratelimit_take(rl, "k", t + 50000000, &v); /* half a token */
	CHECK(!v.allowed);
	CHECK(v.retry_after_s == 1);
	ratelimit_take(rl, "k", t + 100000000, &v); /* one token */
	CHECK(v.allowed);
	CHECK(v.remaining == 0);
	/* A long wait fills the bucket, never past its size. */
	ratelimit_take(rl, "k", t + 3600 * SEC, &v);
	CHECK(v.allowed);
	CHECK(v.remaining == 1);
	CHECK(v.reset_s == 1);
	/* A time before the bucket's last counts as no time passed. */
	ratelimit_take(rl, "k", t, &v);
	CHECK(v.allowed && v.remaining == 0);
	ratelimit_take(rl, "k", t, &v);
	CHECK(!v.allowed);
	ratelimit_free(rl);

	/* A slow rate: a minute for one token. */
	rl = ratelimit_new((struct ratelimit_policy){ .rate = 1.0 / 60, .burst = 1 }, 10);
	ratelimit_take(rl, "slow", t, &v);
	CHECK(v.allowed && v.reset_s == 60);
	ratelimit_take(rl, "slow", t + 15 * SEC, &v);
	CHECK(!v.allowed);
	CHECK(v.retry_after_s == 45);
	CHECK(v.reset_s == 45);
	ratelimit_take(rl, "slow", t + 60 * SEC, &v);
	CHECK(v.allowed);
	ratelimit_free(rl);

	/* A very fast rate: a token in less than a second is still "retry after 1". */
	rl = ratelimit_new((struct ratelimit_policy){ .rate = 3e8, .burst = 1 }, 10);
	ratelimit_take(rl, "fast", t, &v);
	CHECK(v.allowed);
	ratelimit_take(rl, "fast", t + 3, &v); /* 0.9 of a token */
	CHECK(!v.allowed);
	CHECK(v.retry_after_s == 1);
	ratelimit_free(rl);
}

TEST(ratelimit_keys_are_independent)
{
	struct ratelimit *rl = ratelimit_new((struct ratelimit_policy){ .rate = 1, .burst = 1 }, 100);
	struct ratelimit_verdict v;
	ratelimit_take(rl, "10.0.0.1", SEC, &v);
	CHECK(v.allowed);
	ratelimit_take(rl, "10.0.0.1", SEC, &v);
	CHECK(!v.allowed);
	ratelimit_take(rl, "10.0.0.2", SEC, &v);
	CHECK(v.allowed);
	ratelimit_take(rl, "10.0.0.10", SEC, &v);
	CHECK(v.allowed);
	/* Long keys: told apart beyond the bytes kept inline. */
	char a[200], b[200];
	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[150] = 'y';
	ratelimit_take(rl, a, SEC, &v);
	CHECK(v.allowed);
	ratelimit_take(rl, b, SEC, &v);
	CHECK(v.allowed);
	ratelimit_take(rl, a, SEC, &v);
	CHECK(!v.allowed);
	ratelimit_take(rl, "", SEC, &v);
	CHECK(v.allowed);
	ratelimit_free(rl);
}

TEST(ratelimit_memory_is_bounded)
{
	for (size_t max = 1; max <= 5000; max = max * 7 + 3) {
		struct ratelimit *rl =
			ratelimit_new((struct ratelimit_policy){ .rate = 1, .burst = 1 }, max);
		struct ratelimit_verdict v;
		char key[32];
		for (unsigned i = 0; i < 3 * max + 100; i++) {
			snprintf(key, sizeof(key), "client-%u", i);
			ratelimit_take(rl, key, SEC, &v);
			CHECK(v.allowed);
			CHECK(ratelimit_count(rl) <= max);
		}
		CHECK(ratelimit_count(rl) == max);
		ratelimit_free(rl);
	}
	/* The least recently used key goes first; a busy one stays. */
	struct ratelimit *rl = ratelimit_new((struct ratelimit_policy){ .rate = 1, .burst = 1 }, 50);
	struct ratelimit_verdict v;
	ratelimit_take(rl, "busy", SEC, &v);
	CHECK(v.allowed);
	char key[32];
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "other-%u", i);
		ratelimit_take(rl, key, SEC, &v);
		ratelimit_take(rl, "busy", SEC, &v);
		CHECK(!v.allowed); /* remembered: still empty */
	}
	/* A forgotten key comes back with a full bucket. */
	ratelimit_take(rl, "other-0", SEC, &v);
	CHECK(v.allowed);
	CHECK(ratelimit_count(rl) == 50);
	ratelimit_free(rl);
}

struct hammer {
	struct ratelimit *rl;
	unsigned id;
	unsigned allowed;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	struct ratelimit_verdict v;
	char key[32];
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "k%u", i % 300);
		ratelimit_take(h->rl, key, SEC, &v);
		ratelimit_take(h->rl, "shared", SEC, &v);
		h->allowed += v.allowed;
	}
	return NULL;
}

TEST(ratelimit_threads_share_buckets)
{
	/* Many threads on one key: exactly the burst gets through (no time passes). */
	struct ratelimit *rl =
		ratelimit_new((struct ratelimit_policy){ .rate = 1, .burst = 100 }, 256);
	struct hammer h[4];
	pthread_t th[4];
	for (unsigned i = 0; i < 4; i++) {
		h[i] = (struct hammer){ .rl = rl, .id = i };
		pthread_create(&th[i], NULL, hammer_main, &h[i]);
	}
	unsigned allowed = 0;
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		allowed += h[i].allowed;
	}
	CHECK(ratelimit_count(rl) <= 256);
	/* "shared" may be evicted among 301 keys in 256 places, and come back full. */
	CHECK(allowed >= 100);
	ratelimit_free(rl);
}

TEST(ratelimit_parse_rates)
{
	double r = 0;
	CHECK(ratelimit_parse_rate("50/s", &r) == 0 && r == 50);
	CHECK(ratelimit_parse_rate("600/m", &r) == 0 && r == 10);
	CHECK(ratelimit_parse_rate("10/min", &r) == 0 && r > 0.1666 && r < 0.1667);
	CHECK(ratelimit_parse_rate("1000/h", &r) == 0 && r > 0.2777 && r < 0.2778);
	CHECK(ratelimit_parse_rate("3600/hour", &r) == 0 && r == 1);
	CHECK(ratelimit_parse_rate("86400/d", &r) == 0 && r == 1);
	CHECK(ratelimit_parse_rate("0.5/s", &r) == 0 && r == 0.5);
	r = 7;
	const char *bad[] = { "", "50", "/s", "50/", "50/x", "50/S", "50 /s", " 50/s", "50/s ",
			      "-5/s", "+5/s", "0/s", "0.0/m", "abc/s", "5/ss", "1e999/s", "nan/s",
			      "inf/s", "50/s/s", "5//s" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ratelimit_parse_rate(bad[i], &r) != -1)
			fprintf(stderr, "accepted %s\n", bad[i]);
		CHECK(ratelimit_parse_rate(bad[i], &r) == -1);
	}
	CHECK(ratelimit_parse_rate(NULL, &r) == -1);
	CHECK(r == 7); /* untouched on failure */
}

TEST(ratelimit_header_text)
{
	struct ratelimit_policy p = { .rate = 50, .burst = 100 };
	struct ratelimit_fields f;
	struct ratelimit_verdict ok = { .allowed = true, .remaining = 57, .reset_s = 1 };
	ratelimit_format(&p, "default", &ok, &f);
	CHECK_STR(f.policy, "\"default\";q=100;w=2");
	CHECK_STR(f.state, "\"default\";r=57;t=1");
	CHECK_STR(f.retry_after, "");

	struct ratelimit_verdict no = { .allowed = false, .remaining = 0, .reset_s = 2,
					.retry_after_s = 1 };
	ratelimit_format(&p, "per-key", &no, &f);
	CHECK_STR(f.state, "\"per-key\";r=0;t=2");
	CHECK_STR(f.retry_after, "1");

	/* 10/min with a burst of 10: a window of a minute. */
	p = (struct ratelimit_policy){ .rate = 10.0 / 60, .burst = 10 };
	ratelimit_format(&p, "a\"b\\c\n", &ok, &f);
	CHECK_STR(f.policy, "\"abc\";q=10;w=60");
	/* A window never below one second. */
	p = (struct ratelimit_policy){ .rate = 1000, .burst = 5 };
	ratelimit_format(&p, "x", &ok, &f);
	CHECK_STR(f.policy, "\"x\";q=5;w=1");

	/* The verdict's numbers, end to end. */
	struct ratelimit *rl = ratelimit_new((struct ratelimit_policy){ .rate = 2, .burst = 3 }, 10);
	struct ratelimit_verdict v;
	for (int i = 0; i < 4; i++)
		ratelimit_take(rl, "k", SEC, &v);
	struct ratelimit_policy rp = ratelimit_policy(rl);
	ratelimit_format(&rp, "default", &v, &f);
	CHECK_STR(f.policy, "\"default\";q=3;w=2");
	CHECK_STR(f.state, "\"default\";r=0;t=2");
	CHECK_STR(f.retry_after, "1");
	ratelimit_free(rl);
}
