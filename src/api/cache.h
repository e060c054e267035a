/*
 * cache.h: the response cache of the read routes (see cache.c for the
 * rules that keep it from ever serving data older than an acknowledged
 * write).
 */
#ifndef INSIGHTS_CACHE_H
#define INSIGHTS_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"

struct response_cache;

/* How long an entry is served at most (see cache.c), unless a test says. */
#define CACHE_TTL_MS 2000

struct response_cache *cache_new(unsigned ttl_ms);
void cache_free(struct response_cache *c);

/*
 * Appends the cached response of `key` to `body` and sets its content type
 * when an entry exists for `key` that was computed at data version
 * `version` and has not expired; returns whether it did. Of the callers
 * that find an entry expired, only the first (in each time to live) gets
 * false, to compute it again; the others are still served the entry.
 */
bool cache_get(struct response_cache *c, const struct buf *key, uint64_t version,
	       struct buf *body, const char **content_type);
/*
 * Stores a response computed at data version `version` (read before the
 * computation started). `content_type` must be static. Large responses are
 * not stored.
 */
void cache_put(struct response_cache *c, const struct buf *key, uint64_t version,
	       const char *body, size_t len, const char *content_type);

/*
 * Notes that `key` was asked for and not served from the cache; returns
 * whether it was asked for before (lately: keys share a bounded table), so
 * that its answer is worth storing.
 */
bool cache_admit(struct response_cache *c, const struct buf *key);

uint64_t cache_hits(const struct response_cache *c);
uint64_t cache_misses(const struct response_cache *c);

#endif
