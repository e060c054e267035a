/*
 * test_lib.c: the building blocks of src/lib.
 */
#include "t.h"

#include <stdint.h>
#include <stdlib.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/jsonw.h"
#include "lib/utf8.h"

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

TEST(utf8_validation)
{
	CHECK(utf8_valid("plain", 5));
	CHECK(utf8_valid("caf\xC3\xA9", 5));
	CHECK(utf8_valid("\xF0\x9F\x98\x80", 4));          /* U+1F600 */
	CHECK(!utf8_valid("\xC3", 1));                       /* truncated */
	CHECK(!utf8_valid("\xC0\xAF", 2));                   /* overlong '/' */
	CHECK(!utf8_valid("\xED\xA0\x80", 3));               /* surrogate */
	CHECK(!utf8_valid("\xF4\x90\x80\x80", 4));           /* above U+10FFFF */
	CHECK(!utf8_valid("\xFF", 1));
	CHECK(utf8_count("caf\xC3\xA9\xF0\x9F\x98\x80", 9) == 5);
}

static char *write_json(void (*fn)(struct jsonw *))
{
	struct buf b = BUF_INIT;
	struct jsonw w;
	jsonw_init(&w, &b);
	fn(&w);
	CHECK(w.depth == 0);
	return buf_detach(&b, NULL);
}

static void nested(struct jsonw *w)
{
	jsonw_object_open(w);
	jsonw_kint(w, "a", -9223372036854775807LL - 1);
	jsonw_key(w, "b");
	jsonw_array_open(w);
	jsonw_int(w, 1);
	jsonw_int(w, 0);
	jsonw_int(w, -10);
	jsonw_int(w, 9223372036854775807LL);
	jsonw_null(w);
	jsonw_bool(w, true);
	jsonw_object_open(w);
	jsonw_object_close(w);
	jsonw_array_open(w);
	jsonw_array_close(w);
	jsonw_array_close(w);
	jsonw_kstr(w, "c", NULL);
	jsonw_kid(w, "d", 0);
	jsonw_kid(w, "e", 7);
	jsonw_object_close(w);
}

TEST(jsonw_places_separators)
{
	char *s = write_json(nested);
	CHECK_STR(s, "{\"a\":-9223372036854775808,\"b\":[1,0,-10,9223372036854775807,null,true,{},[]],\"c\":null,\"d\":null,\"e\":7}");
	free(s);
}

static void escapes(struct jsonw *w)
{
	static const char text[] = "q\"b\\n\n\t\x01\x1f/caf\xC3\xA9\xFF\xC3";
	jsonw_strn(w, text, sizeof(text) - 1);
}

TEST(jsonw_escapes_and_repairs_utf8)
{
	char *s = write_json(escapes);
	/* Control characters escaped, valid UTF-8 kept, invalid bytes become U+FFFD. */
	CHECK_STR(s, "\"q\\\"b\\\\n\\n\\t\\u0001\\u001f/caf\xC3\xA9\xEF\xBF\xBD\xEF\xBF\xBD\"");
	free(s);
}

TEST(error_collects_problems)
{
	struct error e;
	error_clear(&e);
	CHECK(e.status == OK);
	CHECK(error_invalid(&e, "body.title", "missing", "Field required") == E_INVALID);
	CHECK(error_has(&e, "body.title"));
	CHECK(!error_has(&e, "body.author"));
	for (int i = 0; i < 40; i++)
		error_invalid(&e, "body.x", "t", "m %d", i);
	CHECK(e.nproblems == ERROR_MAX_PROBLEMS);
	CHECK(error_set(&e, E_NOTFOUND, "Tag not found") == E_NOTFOUND);
	CHECK_STR(e.detail, "Tag not found");
}
