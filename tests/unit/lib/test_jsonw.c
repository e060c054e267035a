/*
 * test_jsonw.c: the streaming JSON writer (lib/jsonw.c).
 */
#include "t.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/jsonw.h"
#include "lib/utf8.h"

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


/* The escaping json_escape promises, one byte at a time: the oracle of the test below. */
static void escape_slowly(struct buf *out, const unsigned char *p, size_t len)
{
	buf_addch(out, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		size_t n = c >= 0x80 ? utf8_seqlen(p + i, len - i) : 0;
		if (n) {
			buf_add(out, p + i, n);
			i += n - 1;
		} else if (c == '"' || c == '\\') {
			buf_addf(out, "\\%c", c);
		} else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
			buf_addf(out, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' :
					      c == '\b' ? 'b' : 'f');
		} else if (c < 0x20) {
			buf_addf(out, "\\u%04x", c);
		} else if (c >= 0x80) {
			buf_adds(out, "\xEF\xBF\xBD");
		} else {
			buf_addch(out, (char)c);
		}
	}
	buf_addch(out, '"');
}

/*
 * Strings of plain text with a special byte (a quote, a backslash, a
 * control character, a multi-byte character whole or cut, an invalid
 * byte) at every offset of the 8-byte blocks the writer skips at once.
 */
TEST(json_escape_matches_a_byte_at_a_time_escaper)
{
	static const char *const specials[] = { "\"", "\\", "\n", "\x01", "\x1f", "\x7f",
						"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
						"\xC3", "\xE2\x82", "\xFF", "\x80" };
	const size_t nspecial = sizeof(specials) / sizeof(specials[0]);
	unsigned seed = 7;
	int mismatches = 0;
	for (int round = 0; round < 4000; round++) {
		unsigned char text[80];
		size_t len = 0;
		size_t want = (size_t)(round % 70);
		while (len < want) {
			seed = seed * 1103515245u + 12345u;
			unsigned r = seed >> 16;
			if (r % 5 == 0) {
				const char *sp = specials[(r / 5) % nspecial];
				size_t n = strlen(sp);
				if (len + n > sizeof(text))
					break;
				memcpy(text + len, sp, n);
				len += n;
			} else {
				text[len++] = (unsigned char)(' ' + r % 95);
			}
		}
		struct buf fast = BUF_INIT, slow = BUF_INIT;
		json_escape(&fast, (const char *)text, len);
		escape_slowly(&slow, text, len);
		if (fast.len != slow.len || memcmp(fast.data, slow.data, fast.len))
			mismatches++;
		buf_release(&fast);
		buf_release(&slow);
	}
	CHECK(mismatches == 0);
}

static void keys(struct jsonw *w)
{
	jsonw_object_open(w);
	jsonw_kint(w, "plain_name", 1);
	jsonw_kint(w, "a \"quoted\"\n name", 2);
	jsonw_kint(w, "", 3);
	jsonw_object_close(w);
}

/* Member names: the plain ones copied, the others escaped as strings are. */
TEST(jsonw_keys_plain_and_escaped)
{
	char *s = write_json(keys);
	CHECK_STR(s, "{\"plain_name\":1,\"a \\\"quoted\\\"\\n name\":2,\"\":3}");
	free(s);
}
