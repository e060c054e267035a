/*
 * jsonw.h: a streaming JSON writer that appends compact JSON text to a buf.
 *
 * Responses are written with this rather than by building a json-c object
 * tree: encoding straight into the response buffer costs one pass and no
 * allocation per value, and response encoding dominates the cost of a read
 * (see the benchmark issue). Parsing request bodies stays with json-c.
 *
 * The writer places commas and colons itself; the caller only opens and
 * closes containers in a well-nested order (asserted). Strings are escaped
 * per RFC 8259 and any byte sequence that is not valid UTF-8 is written as
 * U+FFFD, so the output is always valid UTF-8 JSON.
 */
#ifndef INSIGHTS_JSONW_H
#define INSIGHTS_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define JSONW_MAX_DEPTH 80

struct jsonw {
	struct buf *out;       /* borrowed; the writer appends to it */
	unsigned depth;
	bool after_key;        /* a key was written; its value comes next */
	bool has_items[JSONW_MAX_DEPTH + 1];
};

void jsonw_init(struct jsonw *w, struct buf *out);

void jsonw_object_open(struct jsonw *w);
void jsonw_object_close(struct jsonw *w);
void jsonw_array_open(struct jsonw *w);
void jsonw_array_close(struct jsonw *w);
void jsonw_key(struct jsonw *w, const char *key);

/* A string value; NULL writes null. */
void jsonw_str(struct jsonw *w, const char *s);
void jsonw_strn(struct jsonw *w, const char *s, size_t len);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);
/* Already-encoded JSON text, written as one value (trusted, not checked). */
void jsonw_raw(struct jsonw *w, const char *json, size_t len);
/*
 * Writes again, as the next value, a value this writer wrote earlier: the
 * `len` bytes of its output from offset `at` (jsonw_value_at of a value
 * before it was written, to the output's length after).
 */
void jsonw_repeat(struct jsonw *w, size_t at, size_t len);
/*
 * Where the next value will start in the output: writes the separator
 * it needs now (a value must follow).
 */
size_t jsonw_value_at(struct jsonw *w);

/* Key and value in one call, for the common object members. */
void jsonw_kstr(struct jsonw *w, const char *key, const char *s);
void jsonw_kint(struct jsonw *w, const char *key, int64_t v);
void jsonw_kbool(struct jsonw *w, const char *key, bool v);
/* An id member that is null when `v` is 0 (ids start at 1). */
void jsonw_kid(struct jsonw *w, const char *key, int64_t v);

/* Appends `s` as a quoted, escaped JSON string to `out`. */
void json_escape(struct buf *out, const char *s, size_t len);

#endif
