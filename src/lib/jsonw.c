/*
 * jsonw.c: the streaming JSON writer of jsonw.h.
 */
#include "lib/jsonw.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/utf8.h"
#include "lib/banned.h"

void jsonw_init(struct jsonw *w, struct buf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

/* Writes the separator a new value or key needs at the current position. */
static void before_value(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->has_items[w->depth])
		buf_addch(w->out, ',');
	w->has_items[w->depth] = true;
}

static void open_container(struct jsonw *w, char c)
{
	before_value(w);
	assert(w->depth < JSONW_MAX_DEPTH);
	buf_addch(w->out, c);
	w->has_items[++w->depth] = false;
}

static void close_container(struct jsonw *w, char c)
{
	assert(w->depth > 0 && !w->after_key);
	w->depth--;
	buf_addch(w->out, c);
}

void jsonw_object_open(struct jsonw *w) { open_container(w, '{'); }
void jsonw_object_close(struct jsonw *w) { close_container(w, '}'); }
void jsonw_array_open(struct jsonw *w) { open_container(w, '['); }
void jsonw_array_close(struct jsonw *w) { close_container(w, ']'); }

static const char hex[] = "0123456789abcdef";

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * Whether any of the 8 bytes of `v` needs attention: a control character
 * (< 0x20), '"', '\\' or a byte >= 0x80 (the start of a multi-byte
 * character, which must be checked). The usual "has a zero byte" trick:
 * (x - ONES) & ~x & HIGHS is non-zero iff some byte of x is zero.
 */
static inline uint64_t special_bytes(uint64_t v)
{
	uint64_t quote = v ^ (ONES * '"');
	uint64_t slash = v ^ (ONES * '\\');
	uint64_t ctrl = (v - ONES * 0x20) & ~v;            /* bytes < 0x20 (and some >= 0x80) */
	return ((quote - ONES) & ~quote) | ((slash - ONES) & ~slash) | ctrl | v;
}

/* Whether byte `c` is copied as it is (printable ASCII but '"' and '\\'). */
static inline bool plain_byte(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\' && c < 0x80;
}

/*
 * The index of the first byte from `i` on that is not plain_byte (`len`
 * when none is). Eight bytes at a time: the lowest byte special_bytes
 * flags is exact, as the bytes below it are plain and borrow nothing, so
 * on a little-endian machine its position is the flag's trailing zeros.
 */
static inline size_t skip_plain(const unsigned char *p, size_t i, size_t len)
{
	for (; i + 8 <= len; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		uint64_t flags = special_bytes(v) & HIGHS;
		if (flags) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return i + ((size_t)__builtin_ctzll(flags) >> 3);
#else
			break;
#endif
		}
	}
	while (i < len && plain_byte(p[i]))
		i++;
	return i;
}

void jsonw_key(struct jsonw *w, const char *key)
{
	assert(!w->after_key);
	before_value(w);
	size_t len = strlen(key);
	/* The encoders' own member names need no escaping: one copy. */
	if (skip_plain((const unsigned char *)key, 0, len) == len) {
		buf_grow(w->out, len + 3);
		char *d = w->out->data + w->out->len;
		d[0] = '"';
		memcpy(d + 1, key, len);
		d[len + 1] = '"';
		d[len + 2] = ':';
		w->out->len += len + 3;
		w->out->data[w->out->len] = '\0';
	} else {
		json_escape(w->out, key, len);
		buf_addch(w->out, ':');
	}
	w->after_key = true;
}

void json_escape(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	/* Worst case is 6 bytes per input byte (\u00XX); reserve the common case. */
	buf_grow(out, len + 2);
	out->data[out->len++] = '"';
	size_t run = 0; /* start of the pending run of bytes copied verbatim */
	size_t i = 0;
	while ((i = skip_plain(p, i, len)) < len) {
		unsigned char c = p[i];
		if (c >= 0x80) {
			size_t n = utf8_seqlen(p + i, len - i);
			if (n) {
				i += n;
				continue;
			}
		}
		buf_add(out, s + run, i - run);
		switch (c) {
		case '"': buf_add(out, "\\\"", 2); break;
		case '\\': buf_add(out, "\\\\", 2); break;
		case '\n': buf_add(out, "\\n", 2); break;
		case '\r': buf_add(out, "\\r", 2); break;
		case '\t': buf_add(out, "\\t", 2); break;
		case '\b': buf_add(out, "\\b", 2); break;
		case '\f': buf_add(out, "\\f", 2); break;
		default:
			if (c < 0x20) {
				char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
				buf_add(out, e, 6);
			} else {
				buf_add(out, "\xEF\xBF\xBD", 3); /* invalid UTF-8: U+FFFD */
			}
		}
		i++;
		run = i;
	}
	buf_add(out, s + run, len - run);
	buf_addch(out, '"');
}

void jsonw_strn(struct jsonw *w, const char *s, size_t len)
{
	before_value(w);
	json_escape(w->out, s, len);
}

void jsonw_str(struct jsonw *w, const char *s)
{
	if (!s)
		jsonw_null(w);
	else
		jsonw_strn(w, s, strlen(s));
}

void jsonw_int(struct jsonw *w, int64_t v)
{
	/* Digits from the right; the magnitude as unsigned, so INT64_MIN works. */
	char tmp[24];
	char *end = tmp + sizeof(tmp), *p = end;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	before_value(w);
	buf_add(w->out, p, (size_t)(end - p));
}

void jsonw_bool(struct jsonw *w, bool v)
{
	before_value(w);
	if (v)
		buf_add(w->out, "true", 4);
	else
		buf_add(w->out, "false", 5);
}

void jsonw_null(struct jsonw *w)
{
	before_value(w);
	buf_add(w->out, "null", 4);
}

void jsonw_raw(struct jsonw *w, const char *json, size_t len)
{
	before_value(w);
	buf_add(w->out, json, len);
}

size_t jsonw_value_at(struct jsonw *w)
{
	before_value(w);
	/* The separator is written; the value that follows needs none. */
	w->after_key = true;
	return w->out->len;
}

void jsonw_repeat(struct jsonw *w, size_t at, size_t len)
{
	assert(at + len <= w->out->len);
	before_value(w);
	/* Room first: the copy's source is in the buffer that may move. */
	buf_grow(w->out, len);
	memcpy(w->out->data + w->out->len, w->out->data + at, len);
	w->out->len += len;
	w->out->data[w->out->len] = '\0';
}

void jsonw_kstr(struct jsonw *w, const char *key, const char *s)
{
	jsonw_key(w, key);
	jsonw_str(w, s);
}

void jsonw_kint(struct jsonw *w, const char *key, int64_t v)
{
	jsonw_key(w, key);
	jsonw_int(w, v);
}

void jsonw_kbool(struct jsonw *w, const char *key, bool v)
{
	jsonw_key(w, key);
	jsonw_bool(w, v);
}

void jsonw_kid(struct jsonw *w, const char *key, int64_t v)
{
	jsonw_key(w, key);
	if (v)
		jsonw_int(w, v);
	else
		jsonw_null(w);
}
