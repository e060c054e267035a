/*
 * arena.c: the region allocator of arena.h. Chunks are chained newest
 * first; an allocation larger than a quarter chunk gets a chunk of its own so
 * that big rows do not waste the tail of the current one.
 */
#include "lib/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "lib/banned.h"

#define CHUNK_SIZE 8192

struct arena_chunk {
	struct arena_chunk *next;
	size_t used;
	size_t size;
	alignas(max_align_t) unsigned char mem[];
};

static struct arena_chunk *chunk_new(size_t size)
{
	struct arena_chunk *c = xmalloc(sizeof(*c) + size);
	c->next = NULL;
	c->used = 0;
	c->size = size;
	return c;
}

/* Memory from the arena, not zeroed. */
static void *take(struct arena *a, size_t n)
{
	const size_t align = alignof(max_align_t);
	n = (n + align - 1) & ~(align - 1);
	if (n == 0)
		n = align;

	struct arena_chunk *c = a->head;
	if (!c || c->size - c->used < n) {
		if (n > CHUNK_SIZE / 4) {
			/* A big block: give it its own chunk, behind the current one. */
			struct arena_chunk *big = chunk_new(n);
			big->used = n;
			if (c) {
				big->next = c->next;
				c->next = big;
			} else {
				a->head = big;
			}
			return big->mem;
		}
		c = chunk_new(CHUNK_SIZE);
		c->next = a->head;
		a->head = c;
	}
	void *p = c->mem + c->used;
	c->used += n;
	return p;
}

void *arena_alloc(struct arena *a, size_t n)
{
	void *p = take(a, n);
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *d = take(a, n + 1);
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
}
