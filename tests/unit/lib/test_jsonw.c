/*
 * test_jsonw.c: the streaming JSON writer (lib/jsonw.c).
 */
#include "t.h"

#include <stdlib.h>

#include "lib/buf.h"
#include "lib/jsonw.h"

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

