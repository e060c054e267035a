/*
 * fuzz_body.c: request bodies, raw bytes down the path a POST or PUT body
 * takes (api/respond.c, api/codec.c, core/validate.c, core/model.c): the
 * strict JSON text checks and json-c (api_json_parse), the four decoders,
 * the validation rules, an input becoming a row, and the answer written
 * back (encode_insight, encode_error).
 *
 * Invariants: api_json_parse accepts exactly the RFC 8259 texts whose value
 * is an object (a reference parser below decides, with this project's
 * extra rule that escaped surrogates come in pairs); a rejection is one
 * problem at [] or [offset within the text]; decoders and checks report
 * E_INVALID exactly when they add problems, at the fields they read;
 * decoded strings are valid UTF-8 without NUL; id lists are sorted, unique
 * and positive; everything written back is JSON that reads back the same.
 */
#include "fuzz.h"

#include <json-c/json.h>
#include <stdbool.h>

#include "api/api.h"
#include "api/codec.h"
#include "core/model.h"
#include "core/validate.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/jsonw.h"
#include "lib/banned.h"

/* ---- a reference RFC 8259 parser ---------------------------------------- */

/* Stops descending here: json-c's limit (64) is near, acceptance may differ. */
#define REF_DEPTH_MAX 60

struct ref {
	const unsigned char *s;
	size_t n, i;
	int depth;
	bool deep; /* nested beyond REF_DEPTH_MAX: no verdict */
};

static bool ref_value(struct ref *r);

static void ref_ws(struct ref *r)
{
	while (r->i < r->n && (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\n' ||
			       r->s[r->i] == '\r'))
		r->i++;
}

static bool ref_in(const struct ref *r, size_t k, unsigned lo, unsigned hi)
{
	return r->i + k < r->n && r->s[r->i + k] >= lo && r->s[r->i + k] <= hi;
}

/* One well-formed UTF-8 sequence (Unicode's table 3-7) of 2 to 4 bytes. */
static bool ref_utf8(struct ref *r)
{
	unsigned c = r->s[r->i];
	size_t len;
	bool ok;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, ok = ref_in(r, 1, 0x80, 0xBF);
	else if (c == 0xE0)
		len = 3, ok = ref_in(r, 1, 0xA0, 0xBF) && ref_in(r, 2, 0x80, 0xBF);
	else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
		len = 3, ok = ref_in(r, 1, 0x80, 0xBF) && ref_in(r, 2, 0x80, 0xBF);
	else if (c == 0xED)
		len = 3, ok = ref_in(r, 1, 0x80, 0x9F) && ref_in(r, 2, 0x80, 0xBF);
	else if (c == 0xF0)
		len = 4, ok = ref_in(r, 1, 0x90, 0xBF) && ref_in(r, 2, 0x80, 0xBF) &&
			      ref_in(r, 3, 0x80, 0xBF);
	else if (c >= 0xF1 && c <= 0xF3)
		len = 4, ok = ref_in(r, 1, 0x80, 0xBF) && ref_in(r, 2, 0x80, 0xBF) &&
			      ref_in(r, 3, 0x80, 0xBF);
	else if (c == 0xF4)
		len = 4, ok = ref_in(r, 1, 0x80, 0x8F) && ref_in(r, 2, 0x80, 0xBF) &&
			      ref_in(r, 3, 0x80, 0xBF);
	else
		return false;
	if (ok)
		r->i += len;
	return ok;
}

/* "\uXXXX" at the cursor: its value, or -1. */
static long ref_u_escape(const struct ref *r, size_t at)
{
	if (at + 6 > r->n || r->s[at] != '\\' || r->s[at + 1] != 'u')
		return -1;
	long v = 0;
	for (size_t k = at + 2; k < at + 6; k++) {
		unsigned c = r->s[k];
		int d = c >= '0' && c <= '9' ? (int)(c - '0')
			: c >= 'a' && c <= 'f' ? (int)(c - 'a' + 10)
			: c >= 'A' && c <= 'F' ? (int)(c - 'A' + 10) : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static bool ref_string(struct ref *r)
{
	if (r->i >= r->n || r->s[r->i] != '"')
		return false;
	r->i++;
	while (r->i < r->n) {
		unsigned c = r->s[r->i];
		if (c == '"') {
			r->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			if (!ref_utf8(r))
				return false;
			continue;
		}
		if (c != '\\') {
			r->i++;
			continue;
		}
		if (r->i + 1 >= r->n)
			return false;
		if (strchr("\"\\/bfnrt", r->s[r->i + 1]) && r->s[r->i + 1]) {
			r->i += 2;
			continue;
		}
		long u = ref_u_escape(r, r->i);
		if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
			return false;
		r->i += 6;
		if (u >= 0xD800 && u <= 0xDBFF) {
			long low = ref_u_escape(r, r->i);
			if (low < 0xDC00 || low > 0xDFFF)
				return false;
			r->i += 6;
		}
	}
	return false;
}

static bool ref_digits(struct ref *r)
{
	size_t from = r->i;
	while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
		r->i++;
	return r->i > from;
}

static bool ref_number(struct ref *r)
{
	if (r->i < r->n && r->s[r->i] == '-')
		r->i++;
	if (r->i < r->n && r->s[r->i] == '0')
		r->i++;
	else if (!ref_in(r, 0, '1', '9') || !ref_digits(r))
		return false;
	if (r->i < r->n && r->s[r->i] == '.') {
		r->i++;
		if (!ref_digits(r))
			return false;
	}
	if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
		r->i++;
		if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-'))
			r->i++;
		if (!ref_digits(r))
			return false;
	}
	return true;
}

static bool ref_word(struct ref *r, const char *w)
{
	size_t len = strlen(w);
	if (r->n - r->i < len || memcmp(r->s + r->i, w, len))
		return false;
	r->i += len;
	return true;
}

/* An object or an array: `close` ends it, members are `key: value` when `keyed`. */
static bool ref_container(struct ref *r, unsigned char close, bool keyed)
{
	if (++r->depth > REF_DEPTH_MAX) {
		r->deep = true;
		return false;
	}
	r->i++;
	ref_ws(r);
	if (r->i < r->n && r->s[r->i] == close) {
		r->i++;
		r->depth--;
		return true;
	}
	for (;;) {
		if (keyed) {
			if (!ref_string(r))
				return false;
			ref_ws(r);
			if (r->i >= r->n || r->s[r->i] != ':')
				return false;
			r->i++;
			ref_ws(r);
		}
		if (!ref_value(r))
			return false;
		ref_ws(r);
		if (r->i >= r->n)
			return false;
		if (r->s[r->i] == close) {
			r->i++;
			r->depth--;
			return true;
		}
		if (r->s[r->i] != ',')
			return false;
		r->i++;
		ref_ws(r);
	}
}

static bool ref_value(struct ref *r)
{
	if (r->i >= r->n)
		return false;
	switch (r->s[r->i]) {
	case '{': return ref_container(r, '}', true);
	case '[': return ref_container(r, ']', false);
	case '"': return ref_string(r);
	case 't': return ref_word(r, "true");
	case 'f': return ref_word(r, "false");
	case 'n': return ref_word(r, "null");
	default: return ref_number(r);
	}
}

/* Whether `s` is a JSON text; *object: its value is an object. */
static bool ref_json(const char *s, size_t n, bool *object, bool *deep)
{
	struct ref r = { (const unsigned char *)s, n, 0, 0, false };
	ref_ws(&r);
	*object = r.i < n && s[r.i] == '{';
	bool ok = ref_value(&r);
	ref_ws(&r);
	*deep = r.deep;
	return ok && r.i == n;
}

/* ---- checks -------------------------------------------------------------- */

static bool text_ok(const char *s)
{
	struct ref r = { (const unsigned char *)s, strlen(s), 0, 0, false };
	while (r.i < r.n)
		if (r.s[r.i] < 0x80)
			r.i++;
		else if (!ref_utf8(&r))
			return false;
	return true;
}

static void check_str(const struct opt_str *s)
{
	FUZZ_CHECK(s->set || !s->v);
	if (s->v)
		FUZZ_CHECK(text_ok(s->v));
}

static void check_ids(const int64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(ids[i] >= 1);
		FUZZ_CHECK(i == 0 || ids[i - 1] < ids[i]);
	}
}

/* The status says whether there are problems, each at one of `fields`. */
static void check_problems(const struct error *err, const char *const *fields)
{
	FUZZ_CHECK(err->status == OK || err->status == E_INVALID);
	FUZZ_CHECK((err->status == E_INVALID) == (err->nproblems > 0));
	for (size_t i = 0; i < err->nproblems; i++) {
		const struct problem *p = &err->problems[i];
		FUZZ_CHECK(p->nloc >= 1 && p->nloc <= 2 && p->type[0] && p->msg[0]);
		bool known = false;
		for (const char *const *f = fields; *f; f++)
			known |= !strcmp(p->loc[0].name, *f);
		FUZZ_CHECK(known);
		FUZZ_CHECK(p->nloc == 1 || (!p->loc[1].name[0] && p->loc[1].index >= 0));
	}
}

/* Writes the problems as the API would and reads them back. */
static void check_encoded_error(const struct error *err)
{
	struct buf b = BUF_INIT;
	struct jsonw w;
	jsonw_init(&w, &b);
	encode_error(&w, err);
	json_object *o = json_tokener_parse(buf_cstr(&b));
	FUZZ_CHECK(o && json_object_is_type(o, json_type_object));
	json_object *detail;
	FUZZ_CHECK(json_object_object_get_ex(o, "detail", &detail));
	if (err->status == E_INVALID)
		FUZZ_CHECK(json_object_array_length(detail) == err->nproblems);
	json_object_put(o);
	buf_release(&b);
}

/* A string member of an encoded row reads back as the row's string. */
static void check_member(json_object *o, const char *key, const char *want)
{
	json_object *v;
	FUZZ_CHECK(json_object_object_get_ex(o, key, &v));
	if (!want) {
		FUZZ_CHECK(v == NULL);
		return;
	}
	FUZZ_CHECK(json_object_is_type(v, json_type_string));
	FUZZ_CHECK(!strcmp(json_object_get_string(v), want));
}

static void check_insight_row(const struct insight *row)
{
	struct buf b = BUF_INIT;
	struct jsonw w;
	jsonw_init(&w, &b);
	encode_insight(&w, row);
	json_object *o = json_tokener_parse(buf_cstr(&b));
	FUZZ_CHECK(o);
	check_member(o, "title", row->title);
	check_member(o, "description", row->description);
	check_member(o, "content", row->content);
	check_member(o, "source", row->source);
	check_member(o, "author", row->author);
	check_member(o, "owner", row->owner);
	check_member(o, "review_by", row->review_by[0] ? row->review_by : NULL);
	check_member(o, "priority", priority_name(row->priority));
	check_member(o, "status", lifecycle_name(row->status));
	json_object_put(o);
	buf_release(&b);
}

/* ---- the decoders -------------------------------------------------------- */

static const char *const insight_fields[] = {
	"title", "description", "content", "source", "author", "category_id", "priority",
	"status", "tag_ids", "review_by", "owner", NULL,
};
static const char *const tag_fields[] = { "name", "slug", "description", "color", NULL };
static const char *const category_fields[] = {
	"name", "slug", "description", "parent_id", "color", "icon", NULL,
};
static const char *const search_fields[] = {
	"query", "author", "category_id", "tag_ids", "priority", "status", "page", "page_size",
	NULL,
};

#define NOW "2025-12-23T18:00:00Z"

static void fuzz_insight(json_object *o, struct arena *a, bool create)
{
	struct insight_input in;
	struct error err = ERROR_INIT;
	enum status rc = decode_insight_input(o, a, &in, &err);
	FUZZ_CHECK(rc == err.status);
	check_problems(&err, insight_fields);
	check_str(&in.title), check_str(&in.description), check_str(&in.content);
	check_str(&in.source), check_str(&in.author);
	check_str(&in.review_by), check_str(&in.owner);
	FUZZ_CHECK(!in.category_id.set || in.category_id.v >= 0);
	FUZZ_CHECK(!in.priority_set || (unsigned)in.priority < PRIORITY_COUNT);
	FUZZ_CHECK(!in.status_set || (unsigned)in.status < LIFECYCLE_COUNT);
	check_ids(in.tag_ids, in.ntag_ids);
	FUZZ_CHECK(!in.created_at);
	size_t decoded = err.nproblems;
	rc = insight_input_check(&in, create, &err);
	FUZZ_CHECK(rc == err.status && err.nproblems >= decoded);
	check_problems(&err, insight_fields);
	check_encoded_error(&err);
	if (rc != OK)
		return;
	/* What passed the check is a calendar date, kept whole by the row. */
	FUZZ_CHECK(!in.review_by.set || !in.review_by.v || date_valid(in.review_by.v));
	struct insight row;
	if (create) {
		insight_init(&row, &in, NOW);
		FUZZ_CHECK(row.title && row.description && row.author);
	} else {
		memset(&row, 0, sizeof(row));
		row.title = "t", row.description = "d", row.author = "a";
		row.status = LIFECYCLE_PUBLISHED;
		insight_apply(&row, &in, NOW);
		if (!row.title || !row.description || !row.author)
			return; /* an update to null: refused by the use case, not here */
	}
	FUZZ_CHECK(!strcmp(row.updated_at, NOW));
	FUZZ_CHECK((row.status == LIFECYCLE_DRAFT) == !row.published_at[0] ||
		   row.status == LIFECYCLE_ARCHIVED);
	check_insight_row(&row);
}

static void fuzz_tag(json_object *o, struct arena *a, bool create)
{
	struct tag_input in;
	struct error err = ERROR_INIT;
	enum status rc = decode_tag_input(o, a, &in, &err);
	FUZZ_CHECK(rc == err.status);
	check_problems(&err, tag_fields);
	check_str(&in.name), check_str(&in.slug), check_str(&in.description), check_str(&in.color);
	rc = tag_input_check(&in, create, &err);
	FUZZ_CHECK(rc == err.status);
	check_problems(&err, tag_fields);
	check_encoded_error(&err);
	if (rc != OK)
		return;
	FUZZ_CHECK(!in.color.v || color_valid(in.color.v));
	struct tag row = { .id = 1, .name = "n", .slug = "s" };
	tag_apply(&row, &in);
	struct buf b = BUF_INIT;
	struct jsonw w;
	jsonw_init(&w, &b);
	encode_tag(&w, &row);
	json_object *back = json_tokener_parse(buf_cstr(&b));
	FUZZ_CHECK(back);
	check_member(back, "name", row.name);
	check_member(back, "description", row.description);
	json_object_put(back);
	buf_release(&b);
}

static void fuzz_category(json_object *o, struct arena *a, bool create)
{
	struct category_input in;
	struct error err = ERROR_INIT;
	enum status rc = decode_category_input(o, a, &in, &err);
	FUZZ_CHECK(rc == err.status);
	check_problems(&err, category_fields);
	check_str(&in.name), check_str(&in.slug), check_str(&in.description);
	check_str(&in.color), check_str(&in.icon);
	FUZZ_CHECK(!in.parent_id.set || in.parent_id.v >= 0);
	rc = category_input_check(&in, create, &err);
	FUZZ_CHECK(rc == err.status);
	check_problems(&err, category_fields);
	check_encoded_error(&err);
	if (rc != OK)
		return;
	struct category row = { .id = 1, .name = "n", .slug = "s" };
	category_apply(&row, &in, NOW);
	FUZZ_CHECK(!strcmp(row.updated_at, NOW));
}

static void fuzz_search(json_object *o, struct arena *a)
{
	struct insight_filter f;
	struct error err = ERROR_INIT;
	enum status rc = decode_search(o, a, &f, &err);
	FUZZ_CHECK(rc == err.status);
	check_problems(&err, search_fields);
	check_encoded_error(&err);
	FUZZ_CHECK(f.page >= 1 && f.page_size >= 1 && f.page_size <= PAGE_SIZE_MAX);
	FUZZ_CHECK(f.status >= -1 && f.status < LIFECYCLE_COUNT);
	FUZZ_CHECK(f.priority >= -1 && f.priority < PRIORITY_COUNT);
	FUZZ_CHECK(f.category_id >= 0);
	FUZZ_CHECK(!f.author || (f.author[0] && text_ok(f.author)));
	FUZZ_CHECK(!f.text || text_ok(f.text));
	check_ids(f.tag_ids, f.ntag_ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_bytes(data, size);
	struct error err = ERROR_INIT;
	json_object *o = api_json_parse(text, size, &err);

	bool object, deep;
	bool valid = ref_json(text, size, &object, &deep);
	if (!deep)
		FUZZ_CHECK(!!o == (valid && object));
	if (!o) {
		FUZZ_CHECK(err.status == E_INVALID && err.nproblems == 1);
		const struct problem *p = &err.problems[0];
		if (p->nloc == 0) {
			FUZZ_CHECK(!strcmp(p->type, size ? "model_attributes_type" : "missing"));
			FUZZ_CHECK(deep || !size || valid);
		} else {
			FUZZ_CHECK(p->nloc == 1 && !p->loc[0].name[0]);
			FUZZ_CHECK(p->loc[0].index >= 0 && (size_t)p->loc[0].index <= size);
			FUZZ_CHECK(!strcmp(p->type, "json_invalid") ||
				   !strcmp(p->type, "string_unicode"));
			FUZZ_CHECK(deep || !valid);
		}
		check_encoded_error(&err);
		free(text);
		return 0;
	}
	FUZZ_CHECK(err.status == OK && json_object_is_type(o, json_type_object));

	struct arena a = ARENA_INIT;
	fuzz_insight(o, &a, true);
	fuzz_insight(o, &a, false);
	fuzz_tag(o, &a, true);
	fuzz_tag(o, &a, false);
	fuzz_category(o, &a, true);
	fuzz_category(o, &a, false);
	fuzz_search(o, &a);
	arena_release(&a);
	json_object_put(o);
	free(text);
	return 0;
}
