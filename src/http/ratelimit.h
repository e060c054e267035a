/*
 * ratelimit.h: token buckets keyed by a string (a credential's id, a
 * client's address), and the response headers that describe them.
 *
 * Each key has a bucket of `burst` tokens that refills at `rate` tokens per
 * second; a request takes one token or is refused. The table is fixed in
 * size (`max_keys` buckets, allocated once): when it is full, the key used
 * least recently is forgotten, and if it comes back it starts with a full
 * bucket. A client can therefore get a fresh bucket only by making
 * max_keys other keys busier than its own, which is accepted: the bound on
 * memory matters more than the exactness for rarely seen keys.
 *
 * Threads: every function may be called from any thread. The table is split
 * into shards by the key's hash, each with its own mutex held for a few
 * dozen instructions (a lookup is well under a microsecond).
 *
 * Keys longer than RATELIMIT_KEY_INLINE bytes are told apart by their first
 * bytes and a 64-bit keyed hash of the whole key.
 */
#ifndef INSIGHTS_RATELIMIT_H
#define INSIGHTS_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_KEY_INLINE 56
#define RATELIMIT_DEFAULT_KEYS 10000

struct http_request;

struct ratelimit_policy {
	double rate;  /* tokens per second, > 0 */
	double burst; /* bucket size, >= 1 */
};

struct ratelimit;

/*
 * A limiter of at most `max_keys` buckets (0: RATELIMIT_DEFAULT_KEYS), all
 * under policy `p`. Aborts when out of memory, as every allocation does.
 */
struct ratelimit *ratelimit_new(struct ratelimit_policy p, size_t max_keys);
void ratelimit_free(struct ratelimit *rl);
/* The policy the limiter was made with. */
struct ratelimit_policy ratelimit_policy(const struct ratelimit *rl);
/* Keys currently remembered: never more than max_keys. */
size_t ratelimit_count(struct ratelimit *rl);

struct ratelimit_verdict {
	bool allowed;
	unsigned remaining;     /* whole tokens left after this request */
	unsigned reset_s;       /* seconds until the bucket is full again (ceil) */
	unsigned retry_after_s; /* when !allowed: seconds until one token (ceil, >= 1); else 0 */
};

/*
 * Takes one token from `key`'s bucket at time `now_ns` (CLOCK_MONOTONIC
 * nanoseconds, as clock_mono_ns()). A time earlier than the bucket's last
 * (another thread read the clock first) counts as no time passed.
 */
void ratelimit_take(struct ratelimit *rl, const char *key, uint64_t now_ns,
		    struct ratelimit_verdict *out);

/*
 * Parses a rate "N/unit" into tokens per second: N a positive number
 * ("50", "0.5"), unit one of s, sec, second, m, min, minute, h, hour, d,
 * day ("50/s", "600/m", "10/min", "1000/h"). Returns 0, or -1 on anything
 * else (no spaces, no zero).
 */
int ratelimit_parse_rate(const char *s, double *per_second);

/*
 * The header values of draft-ietf-httpapi-ratelimit-headers-11 (May 2026,
 * the structured-field syntax of drafts 08 and later), for policy `name`:
 *   RateLimit-Policy: "name";q=<burst>;w=<seconds to refill the whole burst>
 *   RateLimit: "name";r=<remaining>;t=<seconds until the bucket is full>
 *   Retry-After: <seconds until one token> (only when refused; else "")
 * `name` is a short identifier; characters that a structured-field string
 * cannot hold unescaped (", \, controls, non-ASCII) are dropped.
 */
struct ratelimit_fields {
	char policy[96];
	char state[96];
	char retry_after[16];
};
void ratelimit_format(const struct ratelimit_policy *p, const char *name,
		      const struct ratelimit_verdict *v, struct ratelimit_fields *out);
/* Adds those headers to the response of `req` (before http_respond()). */
void ratelimit_add_headers(struct http_request *req, const struct ratelimit_policy *p,
			   const char *name, const struct ratelimit_verdict *v);

#endif
