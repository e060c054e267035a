/*
 * arena.h: a region allocator. Everything that lives exactly as long as one
 * request (decoded input, rows read from the store, strings) is allocated
 * from the request's arena and freed at once by arena_release() when the
 * request completes: there is no per-object free.
 *
 * An arena is not thread-safe; a request is handled by one thread at a time.
 */
#ifndef INSIGHTS_ARENA_H
#define INSIGHTS_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
};

#define ARENA_INIT { 0 }

/* Returns zeroed memory aligned for any object type; never NULL. */
void *arena_alloc(struct arena *a, size_t n);
/* Copies `n` bytes of `s` and a terminating NUL into the arena. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* Frees every allocation; the arena is empty and reusable afterwards. */
void arena_release(struct arena *a);

#define ARENA_NEW(a, type) ((type *)arena_alloc((a), sizeof(type)))
#define ARENA_NEW_ARRAY(a, type, n) ((type *)arena_alloc((a), sizeof(type) * (n)))

#endif
