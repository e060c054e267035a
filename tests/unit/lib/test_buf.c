/*
 * test_buf.c: the growable buffer (lib/buf.c) and the request arena (lib/arena.c).
 */
#include "t.h"

#include <stdint.h>
#include <stdlib.h>

#include "lib/arena.h"
#include "lib/buf.h"

TEST(buf_grows_and_detaches)
{
	struct buf b = BUF_INIT;
	CHECK_STR(buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		buf_addf(&b, "%d,", i);
	CHECK(b.len == 3890);
	CHECK(b.data[b.len] == '\0');
	CHECK(!strncmp(b.data, "0,1,2,", 6));
	size_t len;
	char *d = buf_detach(&b, &len);
	CHECK(len == 3890 && b.data == NULL && b.len == 0);
	free(d);
	d = buf_detach(&b, &len); /* an empty buffer still detaches a string */
	CHECK(d && d[0] == '\0' && len == 0);
	free(d);
}

TEST(arena_aligns_and_copies)
{
	struct arena a = ARENA_INIT;
	char *s = arena_strdup(&a, "hello");
	CHECK_STR(s, "hello");
	for (int i = 0; i < 100; i++) {
		void *p = arena_alloc(&a, (size_t)i * 37 + 1);
		CHECK(((uintptr_t)p % _Alignof(max_align_t)) == 0);
	}
	char *big = arena_alloc(&a, 100000);
	big[99999] = 1;
	CHECK(big[0] == 0);
	CHECK_STR(s, "hello"); /* earlier allocations survive later chunks */
	arena_release(&a);
	CHECK(a.head == NULL);
}

