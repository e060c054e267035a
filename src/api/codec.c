/*
 * codec.c: the JSON encoding of codec.h (decoding is core/input.c's).
 */
#include "api/codec.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "lib/xalloc.h"
#include "lib/banned.h"

/* ---- encoding ------------------------------------------------------- */

static void kts(struct jsonw *w, const char *key, const char *ts)
{
	jsonw_key(w, key);
	if (ts[0])
		jsonw_str(w, ts);
	else
		jsonw_null(w);
}

void encode_tag(struct jsonw *w, const struct tag *t)
{
	jsonw_object_open(w);
	jsonw_kint(w, "id", t->id);
	jsonw_kstr(w, "name", t->name);
	jsonw_kstr(w, "slug", t->slug);
	jsonw_kstr(w, "description", t->description);
	jsonw_kstr(w, "color", t->color);
	kts(w, "created_at", t->created_at);
	jsonw_kint(w, "usage_count", t->usage_count);
	jsonw_object_close(w);
}

void encode_category(struct jsonw *w, const struct category *c, bool counted)
{
	jsonw_object_open(w);
	jsonw_kint(w, "id", c->id);
	jsonw_kstr(w, "name", c->name);
	jsonw_kstr(w, "slug", c->slug);
	jsonw_kstr(w, "description", c->description);
	jsonw_kid(w, "parent_id", c->parent_id);
	jsonw_kstr(w, "color", c->color);
	jsonw_kstr(w, "icon", c->icon);
	kts(w, "created_at", c->created_at);
	kts(w, "updated_at", c->updated_at);
	if (counted)
		jsonw_kint(w, "insight_count", c->insight_count);
	jsonw_object_close(w);
}

/*
 * The tags and categories a response has written, by id, and where: one
 * read gives every copy of a tag or category the same fields, so a page
 * writes each once and copies it after (a page of 20 insights holds some
 * 60 tags, most of them the same few).
 */
#define MEMO_SLOTS 64

struct memo_slot {
	int64_t id;
	size_t at, len;
};

struct memo {
	struct memo_slot tags[MEMO_SLOTS], cats[MEMO_SLOTS];
	size_t ntags, ncats;
};

/* Copies the value written earlier for `id`; false when there is none. */
static bool memo_repeat(struct jsonw *w, const struct memo_slot *slots, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (slots[i].id == id) {
			jsonw_repeat(w, slots[i].at, slots[i].len);
			return true;
		}
	return false;
}

static void memo_note(struct memo_slot *slots, size_t *n, int64_t id, size_t at, size_t end)
{
	if (*n < MEMO_SLOTS)
		slots[(*n)++] = (struct memo_slot){ .id = id, .at = at, .len = end - at };
}

static void memo_tag(struct jsonw *w, const struct tag *t, struct memo *m)
{
	if (!m) {
		encode_tag(w, t);
		return;
	}
	if (memo_repeat(w, m->tags, m->ntags, t->id))
		return;
	size_t at = jsonw_value_at(w);
	encode_tag(w, t);
	memo_note(m->tags, &m->ntags, t->id, at, w->out->len);
}

static void memo_category(struct jsonw *w, const struct category *c, struct memo *m)
{
	if (!m) {
		encode_category(w, c, false);
		return;
	}
	if (memo_repeat(w, m->cats, m->ncats, c->id))
		return;
	size_t at = jsonw_value_at(w);
	encode_category(w, c, false);
	memo_note(m->cats, &m->ncats, c->id, at, w->out->len);
}

static void encode_insight_memo(struct jsonw *w, const struct insight *in,
				const char *content_html, struct memo *m);

void encode_insight(struct jsonw *w, const struct insight *in)
{
	encode_insight_memo(w, in, NULL, NULL);
}

void encode_insight_html(struct jsonw *w, const struct insight *in, const char *content_html)
{
	encode_insight_memo(w, in, content_html, NULL);
}

static void encode_insight_memo(struct jsonw *w, const struct insight *in,
				const char *content_html, struct memo *m)
{
	jsonw_object_open(w);
	jsonw_kint(w, "id", in->id);
	jsonw_kstr(w, "title", in->title);
	jsonw_kstr(w, "description", in->description);
	jsonw_kstr(w, "content", in->content);
	jsonw_kstr(w, "source", in->source);
	jsonw_kstr(w, "author", in->author);
	jsonw_kid(w, "category_id", in->category_id);
	jsonw_kstr(w, "priority", priority_name(in->priority));
	jsonw_kstr(w, "status", lifecycle_name(in->status));
	kts(w, "created_at", in->created_at);
	kts(w, "updated_at", in->updated_at);
	kts(w, "published_at", in->published_at);
	jsonw_kint(w, "revision", in->revision);
	kts(w, "review_by", in->review_by);
	jsonw_kstr(w, "owner", in->owner);
	kts(w, "reviewed_at", in->reviewed_at);
	jsonw_key(w, "tags");
	jsonw_array_open(w);
	for (size_t i = 0; i < in->ntags; i++)
		memo_tag(w, &in->tags[i], m);
	jsonw_array_close(w);
	jsonw_key(w, "category");
	if (in->category)
		memo_category(w, in->category, m);
	else
		jsonw_null(w);
	if (content_html)
		jsonw_kstr(w, "content_html", content_html);
	jsonw_object_close(w);
}

void encode_revision(struct jsonw *w, const struct insight_revision *r)
{
	const struct insight *v = &r->v;
	jsonw_object_open(w);
	jsonw_kint(w, "id", v->id);
	jsonw_kint(w, "revision", v->revision);
	jsonw_kstr(w, "title", v->title);
	jsonw_kstr(w, "description", v->description);
	jsonw_kstr(w, "content", v->content);
	jsonw_kstr(w, "source", v->source);
	jsonw_kstr(w, "author", v->author);
	jsonw_kid(w, "category_id", v->category_id);
	jsonw_kstr(w, "priority", priority_name(v->priority));
	jsonw_kstr(w, "status", lifecycle_name(v->status));
	kts(w, "created_at", v->created_at);
	kts(w, "updated_at", v->updated_at);
	kts(w, "published_at", v->published_at);
	jsonw_key(w, "tag_ids");
	jsonw_array_open(w);
	for (size_t i = 0; i < r->ntag_ids; i++)
		jsonw_int(w, r->tag_ids[i]);
	jsonw_array_close(w);
	kts(w, "review_by", v->review_by);
	jsonw_kstr(w, "owner", v->owner);
	kts(w, "reviewed_at", v->reviewed_at);
	jsonw_kstr(w, "actor", r->actor);
	kts(w, "deleted_at", r->deleted_at);
	jsonw_object_close(w);
}

void encode_revision_page(struct jsonw *w, const struct revision_page *p, int64_t page,
			  int64_t page_size)
{
	jsonw_object_open(w);
	jsonw_kint(w, "total", p->total);
	jsonw_kint(w, "page", page);
	jsonw_kint(w, "page_size", page_size);
	jsonw_key(w, "revisions");
	jsonw_array_open(w);
	for (size_t i = 0; i < p->n; i++)
		encode_revision(w, &p->items[i]);
	jsonw_array_close(w);
	jsonw_object_close(w);
}

void cursor_format(const struct insight *in, char out[CURSOR_SIZE])
{
	static const int at[14] = { 0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18 };
	char digits[15];
	for (int i = 0; i < 14; i++)
		digits[i] = in->created_at[at[i]];
	digits[14] = '\0';
	snprintf(out, CURSOR_SIZE, "%s.%lld", digits, (long long)in->id);
}

/* The two digits at s, or -1. */
static int two_digits(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

bool cursor_parse(const char *s, char ts[TS_SIZE], int64_t *id)
{
	for (int i = 0; i < 14; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	if (s[14] != '.')
		return false;
	int mon = two_digits(s + 4), day = two_digits(s + 6), hour = two_digits(s + 8),
	    min = two_digits(s + 10), sec = two_digits(s + 12);
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return false;
	int64_t v = 0;
	const char *p = s + 15;
	if (!*p || strlen(p) > 18)
		return false;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	if (v < 1)
		return false;
	snprintf(ts, TS_SIZE, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", s, s + 4, s + 6, s + 8, s + 10,
		 s + 12);
	*id = v;
	return true;
}

/*
 * About how many bytes an insight takes in JSON: its texts, as escaping
 * rarely lengthens them by much, and its fixed fields, tags and category.
 */
static size_t insight_json_estimate(const struct insight *in)
{
	const char *texts[] = { in->title, in->description, in->content, in->source, in->author,
				in->owner };
	size_t n = 640 + in->ntags * 200;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i])
			n += strlen(texts[i]);
	return n + n / 16;
}

void encode_insight_page(struct jsonw *w, const struct insight_page *p, int64_t page,
			 int64_t page_size, bool cursor)
{
	/*
	 * One allocation of about the page's size instead of a doubling per
	 * power of two: a page of 20 insights (70 KB) went through eleven
	 * copies, the last into fresh pages of its own mapping (128 KB and up
	 * are mapped and unmapped one by one, main.c).
	 */
	size_t estimate = 256;
	for (size_t i = 0; i < p->n; i++)
		estimate += insight_json_estimate(&p->items[i]);
	buf_grow(w->out, estimate);
	jsonw_object_open(w);
	jsonw_kint(w, "total", p->total);
	jsonw_kint(w, "page", page);
	jsonw_kint(w, "page_size", page_size);
	jsonw_key(w, "insights");
	jsonw_array_open(w);
	struct memo *memo = xcalloc(1, sizeof(*memo));
	for (size_t i = 0; i < p->n; i++)
		encode_insight_memo(w, &p->items[i], NULL, memo);
	free(memo);
	jsonw_array_close(w);
	if (cursor && p->n && (int64_t)p->n == page_size) {
		char c[CURSOR_SIZE];
		cursor_format(&p->items[p->n - 1], c);
		jsonw_kstr(w, "cursor", c);
	}
	jsonw_object_close(w);
}

void encode_statistics(struct jsonw *w, const struct statistics *s)
{
	jsonw_object_open(w);
	jsonw_kint(w, "total_insights", s->total_insights);
	jsonw_key(w, "insights_by_status");
	jsonw_object_open(w);
	for (int i = 0; i < LIFECYCLE_COUNT; i++)
		jsonw_kint(w, lifecycle_name((enum lifecycle)i), s->by_status[i]);
	jsonw_object_close(w);
	jsonw_key(w, "insights_by_priority");
	jsonw_object_open(w);
	for (int i = 0; i < PRIORITY_COUNT; i++)
		jsonw_kint(w, priority_name((enum priority)i), s->by_priority[i]);
	jsonw_object_close(w);
	jsonw_key(w, "insights_by_category");
	jsonw_object_open(w);
	for (size_t i = 0; i < s->ncategories_counted; i++)
		jsonw_kint(w, s->by_category[i].name, s->by_category[i].count);
	jsonw_object_close(w);
	jsonw_kint(w, "total_tags", s->total_tags);
	jsonw_kint(w, "total_categories", s->total_categories);
	jsonw_kint(w, "stale_insights", s->stale_insights);
	jsonw_key(w, "recent_insights");
	jsonw_array_open(w);
	for (size_t i = 0; i < s->nrecent; i++)
		encode_insight(w, &s->recent[i]);
	jsonw_array_close(w);
	jsonw_object_close(w);
}

/* Writes a problem's path as a JSON array: ["body", "tag_ids", 2]. */
static void encode_loc(struct jsonw *w, const struct problem *p)
{
	jsonw_array_open(w);
	for (unsigned i = 0; i < p->nloc; i++) {
		if (p->loc[i].name[0])
			jsonw_str(w, p->loc[i].name);
		else
			jsonw_int(w, p->loc[i].index);
	}
	jsonw_array_close(w);
}

void encode_error(struct jsonw *w, const struct error *err)
{
	jsonw_object_open(w);
	jsonw_key(w, "detail");
	if (err->status == E_INVALID) {
		jsonw_array_open(w);
		for (size_t i = 0; i < err->nproblems; i++) {
			const struct problem *p = &err->problems[i];
			jsonw_object_open(w);
			jsonw_kstr(w, "type", p->type);
			jsonw_key(w, "loc");
			encode_loc(w, p);
			jsonw_kstr(w, "msg", p->msg);
			jsonw_object_close(w);
		}
		jsonw_array_close(w);
	} else {
		jsonw_str(w, err->detail);
	}
	jsonw_object_close(w);
}
