/*
 * cache.c: a cache of whole responses for the read routes flagged
 * HTTP_ROUTE_CACHE (lists, searches, statistics, tags, categories).
 *
 * Correctness first: an entry is tagged with the service's data version
 * read *before* its response was computed, and is served only while that
 * version is still current. Every write acknowledged by this instance bumps
 * the version after its commit, so no entry computed before a write is
 * served after it: the cache never returns data older than a write this
 * instance has acknowledged. Writes made by other instances on a shared
 * PostgreSQL database reach the version through the store's notifications
 * (svc_watch), and while they cannot, nothing is cached. Writes that
 * nothing reports (a `recount-tags` run on SQLite, a notification lost) are
 * covered by a short time to live (CACHE_TTL_MS). When an entry expires
 * while it is still current, one request computes it again and the others
 * are served the old answer meanwhile (for at most one more time to live),
 * rather than all computing the same answer at once.
 *
 * Memory is bounded (CACHE_BYTES); the table is split into shards, each
 * with its own lock, and a full shard evicts its oldest entries first. An
 * answer is stored the second time its key is asked for (cache_admit):
 * requests that differ every time (other pages, other words) would
 * otherwise fill the cache with answers nobody asks for again, evicting
 * the ones that are. An answer that replaces an entry (expired, or older
 * than a write) is stored at once: its key was asked for twice already.
 * Keys are the route, the query string and the body; responses are stored
 * only for 200 answers.
 */
#include "api/cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/xalloc.h"
#include "lib/banned.h"

#define SHARDS 16
#define SLOTS_PER_SHARD 256
#define CACHE_BYTES (8u << 20)          /* responses, all shards together */
#define MAX_ENTRY (CACHE_BYTES / SHARDS / 4)
#define SEEN_SLOTS 1024                 /* per shard: hashes of keys asked for, direct-mapped */

struct entry {
	uint64_t hash;
	uint64_t version;
	uint64_t born_ns;
	uint64_t refresh_ns;      /* when a request set out to replace it; 0: none */
	char *key;
	size_t keylen;
	char *body;
	size_t len;
	const char *content_type; /* static */
	uint64_t used;            /* for eviction: shard clock when last served */
};

struct shard {
	pthread_mutex_t lock;
	struct entry slots[SLOTS_PER_SHARD];
	size_t bytes;
	uint64_t clock;
	uint64_t seen[SEEN_SLOTS];
};

struct response_cache {
	uint64_t ttl_ns;
	struct shard shards[SHARDS];
	atomic_uint_fast64_t hits, misses;
};

/* FNV-1a, 64 bits: keys are short and never adversarial for correctness
 * (a collision only costs a full key comparison). */
static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3u;
	}
	return h;
}

struct response_cache *cache_new(unsigned ttl_ms)
{
	struct response_cache *c = xcalloc(1, sizeof(*c));
	c->ttl_ns = (uint64_t)ttl_ms * 1000000u;
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_init(&c->shards[i].lock, NULL);
	return c;
}

/* The place of hash `h` in its shard's table of keys asked for. */
static uint64_t *seen_slot(struct shard *s, uint64_t h)
{
	return &s->seen[(h / SHARDS) % SEEN_SLOTS];
}

static void entry_clear(struct shard *s, struct entry *e)
{
	s->bytes -= e->len + e->keylen;
	free(e->key);
	free(e->body);
	memset(e, 0, sizeof(*e));
}

void cache_free(struct response_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < SHARDS; i++) {
		struct shard *s = &c->shards[i];
		for (int k = 0; k < SLOTS_PER_SHARD; k++)
			if (s->slots[k].key)
				entry_clear(s, &s->slots[k]);
		pthread_mutex_destroy(&s->lock);
	}
	free(c);
}

/* The slot of `key` (hash h) in a shard, or NULL. Caller holds the lock. */
static struct entry *find(struct shard *s, uint64_t h, const char *key, size_t keylen)
{
	for (int k = 0; k < SLOTS_PER_SHARD; k++) {
		struct entry *e = &s->slots[(h + (uint64_t)k) % SLOTS_PER_SHARD];
		if (!e->key)
			continue;
		if (e->hash == h && e->keylen == keylen && !memcmp(e->key, key, keylen))
			return e;
	}
	return NULL;
}

bool cache_get(struct response_cache *c, const struct buf *key, uint64_t version,
	       struct buf *body, const char **content_type)
{
	uint64_t h = hash_bytes(key->data, key->len);
	struct shard *s = &c->shards[h % SHARDS];
	uint64_t now = clock_mono_ns();
	bool hit = false;
	pthread_mutex_lock(&s->lock);
	struct entry *e = find(s, h, key->data, key->len);
	if (e && e->version != version) {
		entry_clear(s, e); /* a write came after it */
		e = NULL;
		*seen_slot(s, h) = h; /* its next answer is admitted */
	} else if (e && now - e->born_ns > c->ttl_ns &&
		   (!e->refresh_ns || now - e->refresh_ns > c->ttl_ns)) {
		e->refresh_ns = now; /* too old: this caller computes it again */
		e = NULL;
		*seen_slot(s, h) = h; /* and stores it */
	}
	if (e) {
		buf_add(body, e->body, e->len);
		*content_type = e->content_type;
		e->used = ++s->clock;
		hit = true;
	}
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_add(hit ? &c->hits : &c->misses, 1);
	return hit;
}

void cache_put(struct response_cache *c, const struct buf *key, uint64_t version,
	       const char *body, size_t len, const char *content_type)
{
	if (len > MAX_ENTRY)
		return;
	uint64_t h = hash_bytes(key->data, key->len);
	struct shard *s = &c->shards[h % SHARDS];
	pthread_mutex_lock(&s->lock);
	struct entry *e = find(s, h, key->data, key->len);
	if (e)
		entry_clear(s, e);
	/* Make room: evict the least recently served entries until it fits. */
	while (s->bytes + len + key->len > CACHE_BYTES / SHARDS) {
		struct entry *oldest = NULL;
		for (int k = 0; k < SLOTS_PER_SHARD; k++)
			if (s->slots[k].key && (!oldest || s->slots[k].used < oldest->used))
				oldest = &s->slots[k];
		if (!oldest)
			break;
		entry_clear(s, oldest);
	}
	/* A free slot near the key's home, or the oldest of the probe window. */
	struct entry *slot = NULL;
	for (int k = 0; k < SLOTS_PER_SHARD && !slot; k++) {
		struct entry *cand = &s->slots[(h + (uint64_t)k) % SLOTS_PER_SHARD];
		if (!cand->key)
			slot = cand;
	}
	if (!slot) {
		for (int k = 0; k < SLOTS_PER_SHARD; k++)
			if (!slot || s->slots[k].used < slot->used)
				slot = &s->slots[k];
		entry_clear(s, slot);
	}
	slot->hash = h;
	slot->version = version;
	slot->born_ns = clock_mono_ns();
	slot->key = xstrndup(key->data, key->len);
	slot->keylen = key->len;
	slot->body = xmalloc(len ? len : 1);
	memcpy(slot->body, body, len);
	slot->len = len;
	slot->content_type = content_type;
	slot->used = ++s->clock;
	s->bytes += len + key->len;
	pthread_mutex_unlock(&s->lock);
}

bool cache_admit(struct response_cache *c, const struct buf *key)
{
	uint64_t h = hash_bytes(key->data, key->len);
	struct shard *s = &c->shards[h % SHARDS];
	pthread_mutex_lock(&s->lock);
	uint64_t *seen = seen_slot(s, h);
	bool again = *seen == h;
	*seen = h;
	pthread_mutex_unlock(&s->lock);
	return again;
}

uint64_t cache_hits(const struct response_cache *c)
{
	return atomic_load(&c->hits);
}

uint64_t cache_misses(const struct response_cache *c)
{
	return atomic_load(&c->misses);
}
