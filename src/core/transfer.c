/*
 * transfer.c: exports and imports of the whole database (transfer.h),
 * with json-c for every JSON byte read or written.
 *
 * The record of an insight is described once, by insight_fields: each
 * field's name, kind and place in struct insight (what exports read) and
 * struct insight_input (what imports fill). JSON Lines, CSV and Markdown
 * all walk that table. The fields a client may write through the API are
 * decoded by core/input.c and checked by core/validate.c, exactly as a
 * request body; the table decodes the rest (id, times, revision, the
 * category's and tags' slugs).
 */
#include "core/transfer.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <yaml.h>

#include "core/input.h"
#include "core/validate.h"
#include "lib/log.h"
#include "lib/utf8.h"
#include "lib/banned.h"

#define EXPORT_FORMAT_VERSION 1
/* Rows per keyset page. */
#define PAGE_INSIGHTS 200
#define PAGE_TAGS 500

int transfer_format_parse(const char *s, enum transfer_format *out)
{
	static const char *const names[] = { "jsonl", "csv", "markdown" };
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum transfer_format)i;
			return 0;
		}
	return -1;
}

int transfer_conflict_parse(const char *s, enum transfer_conflict *out)
{
	static const char *const names[] = { "fail", "skip", "update" };
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum transfer_conflict)i;
			return 0;
		}
	return -1;
}

/* ---- the fields of an insight ---------------------------------------------------------- */

enum field_kind {
	F_ID,        /* int64 id; kept on import when free */
	F_TEXT,      /* const char *, opt_str in the input (decoded by core/input.c) */
	F_PRIORITY,  /* enum priority (core/input.c) */
	F_STATUS,    /* enum lifecycle (core/input.c) */
	F_TS,        /* char[TS_SIZE], never null; const char * in the input */
	F_TS_NULL,   /* the same, null when "" */
	F_DATE,      /* char[DATE_SIZE], null when ""; opt_str in the input (core/input.c) */
	F_INT,       /* int64 (the revision) */
	F_CATEGORY,  /* category_id, written as the category's slug */
	F_TAGS,      /* the tags, written as their slugs */
};

struct insight_field {
	const char *name;
	enum field_kind kind;
	size_t row;   /* offset in struct insight */
	size_t in;    /* offset in struct insight_input (restore fields only) */
	bool nullable;
};

#define ROW(f) offsetof(struct insight, f)
#define IN(f) offsetof(struct insight_input, f)

/*
 * Every field of an insight, in the order records list them. A new field
 * of the model gets its row here: then every format carries it.
 */
static const struct insight_field insight_fields[] = {
	{ "id", F_ID, ROW(id), IN(id), false },
	{ "title", F_TEXT, ROW(title), 0, false },
	{ "description", F_TEXT, ROW(description), 0, false },
	{ "content", F_TEXT, ROW(content), 0, true },
	{ "source", F_TEXT, ROW(source), 0, true },
	{ "author", F_TEXT, ROW(author), 0, false },
	{ "category", F_CATEGORY, ROW(category_id), 0, true },
	{ "tags", F_TAGS, 0, 0, false },
	{ "priority", F_PRIORITY, ROW(priority), 0, false },
	{ "status", F_STATUS, ROW(status), 0, false },
	{ "created_at", F_TS, ROW(created_at), IN(created_at), false },
	{ "updated_at", F_TS, ROW(updated_at), IN(updated_at), false },
	{ "published_at", F_TS_NULL, ROW(published_at), IN(published_at), true },
	{ "revision", F_INT, ROW(revision), IN(revision), false },
	{ "owner", F_TEXT, ROW(owner), 0, true },
	{ "review_by", F_DATE, ROW(review_by), 0, true },
	{ "reviewed_at", F_TS_NULL, ROW(reviewed_at), IN(reviewed_at), true },
};

#define NFIELDS (sizeof(insight_fields) / sizeof(insight_fields[0]))

#define AT(base, off, type) ((type *)((char *)(base) + (off)))
#define AT_C(base, off, type) ((const type *)((const char *)(base) + (off)))

/* ---- the export cursor ------------------------------------------------------------------- */

enum phase { PH_HEADER, PH_CATEGORIES, PH_TAGS, PH_INSIGHTS, PH_DONE };

struct export_cursor {
	struct service *svc;
	enum transfer_format format;
	enum phase phase;
	struct arena keep;            /* the categories */
	struct category *cats;        /* parents first */
	size_t ncats, next_cat;
	struct category *by_id;       /* the same, by id, for slugs */
	struct arena page;            /* the current page of tags or insights */
	struct q_row *rows;
	size_t nrows, next_row;
	struct tag_link *links;       /* the page's tags, by insight id */
	size_t nlinks, next_link;
	int64_t after;                /* keyset: the last id read */
	bool last_page;
	bool csv_header;              /* written */
	uint64_t done, total;
};

static struct q_select keyset(struct arena *a, enum q_table t, int64_t after, int64_t limit)
{
	struct q_value *v = ARENA_NEW(a, struct q_value);
	memset(v, 0, sizeof(*v));
	v->type = QTY_INT;
	v->i = after;
	struct q_expr *e = ARENA_NEW(a, struct q_expr);
	memset(e, 0, sizeof(*e));
	e->kind = QX_CMP;
	e->column = 0; /* id, in every table */
	e->op = QOP_GT;
	e->values = v;
	e->nvalues = 1;
	struct q_order *o = ARENA_NEW(a, struct q_order);
	memset(o, 0, sizeof(*o));
	o->kind = QO_COLUMN;
	o->column = 0;
	return (struct q_select){ .table = t, .columns = (1ull << q_ncolumns[t]) - 1, .where = e,
				  .order = o, .norder = 1, .limit = limit };
}

static int cmp_cat_id(const void *a, const void *b)
{
	int64_t x = ((const struct category *)a)->id, y = ((const struct category *)b)->id;
	return x < y ? -1 : x > y;
}

static const struct category *cat_find(const struct category *v, size_t n, int64_t id)
{
	struct category key = { .id = id };
	return bsearch(&key, v, n, sizeof(*v), cmp_cat_id);
}

/* Reads every category, then orders them parents first (ids ascending among equals). */
static enum status load_categories(struct export_cursor *c, struct error *err)
{
	size_t cap = 0;
	int64_t after = 0;
	for (;;) {
		struct q_select q = keyset(&c->keep, QT_CATEGORIES, after, 500);
		struct q_rows rows;
		enum status rc = svc_select(c->svc, &c->keep, &q, &rows, err);
		if (rc)
			return rc;
		if (c->ncats + rows.n > cap) {
			cap = 2 * (c->ncats + rows.n);
			struct category *grown = ARENA_NEW_ARRAY(&c->keep, struct category, cap);
			if (c->ncats)
				memcpy(grown, c->by_id, c->ncats * sizeof(*grown));
			c->by_id = grown;
		}
		for (size_t i = 0; i < rows.n; i++)
			c->by_id[c->ncats++] = rows.rows[i].u.category;
		if (rows.n < 500)
			break;
		after = rows.rows[rows.n - 1].u.category.id;
	}
	/* Parents first: repeatedly take those whose parent is already taken. */
	c->cats = ARENA_NEW_ARRAY(&c->keep, struct category, c->ncats ? c->ncats : 1);
	bool *taken = ARENA_NEW_ARRAY(&c->keep, bool, c->ncats ? c->ncats : 1);
	memset(taken, 0, c->ncats ? c->ncats : 1);
	size_t n = 0;
	while (n < c->ncats) {
		size_t before = n;
		for (size_t i = 0; i < c->ncats; i++) {
			if (taken[i])
				continue;
			int64_t parent = c->by_id[i].parent_id;
			const struct category *p = parent ? cat_find(c->by_id, c->ncats, parent) : NULL;
			if (!p || taken[p - c->by_id]) {
				taken[i] = true;
				c->cats[n++] = c->by_id[i];
			}
		}
		if (n == before) /* a cycle, which the store never lets happen: keep id order */
			for (size_t i = 0; i < c->ncats; i++)
				if (!taken[i]) {
					taken[i] = true;
					c->cats[n++] = c->by_id[i];
				}
	}
	return OK;
}

enum status export_open(struct service *svc, enum transfer_format format,
			struct export_cursor **out, struct error *err)
{
	error_clear(err);
	struct export_cursor *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->svc = svc;
	c->format = format;
	c->keep = (struct arena)ARENA_INIT;
	c->page = (struct arena)ARENA_INIT;
	enum status rc = load_categories(c, err);
	struct store_gauges g;
	if (rc == OK && (rc = svc_gauges(svc, &g, err)) == OK)
		c->total = g.insights > 0 ? (uint64_t)g.insights : 0;
	if (rc) {
		export_close(c);
		return rc;
	}
	c->phase = format == TRANSFER_CSV ? PH_INSIGHTS : PH_HEADER;
	*out = c;
	return OK;
}

void export_close(struct export_cursor *c)
{
	if (!c)
		return;
	arena_release(&c->keep);
	arena_release(&c->page);
	free(c);
}

uint64_t export_done(const struct export_cursor *c)
{
	return c->done;
}

uint64_t export_total(const struct export_cursor *c)
{
	return c->total > c->done ? c->total : c->done;
}

/* Reads the next page of tags or insights (with their tags); false: none left. */
static enum status next_page(struct export_cursor *c, enum q_table t, bool *got, struct error *err)
{
	*got = false;
	if (c->last_page)
		return OK;
	arena_release(&c->page);
	c->page = (struct arena)ARENA_INIT;
	int64_t limit = t == QT_TAGS ? PAGE_TAGS : PAGE_INSIGHTS;
	struct q_select q = keyset(&c->page, t, c->after, limit);
	struct q_rows rows;
	enum status rc = svc_select(c->svc, &c->page, &q, &rows, err);
	if (rc)
		return rc;
	c->rows = rows.rows;
	c->nrows = rows.n;
	c->next_row = 0;
	c->last_page = rows.n < (size_t)limit;
	c->nlinks = c->next_link = 0;
	if (!rows.n)
		return OK;
	c->after = t == QT_TAGS ? rows.rows[rows.n - 1].u.tag.id : rows.rows[rows.n - 1].u.insight.id;
	if (t == QT_INSIGHTS) {
		int64_t *ids = ARENA_NEW_ARRAY(&c->page, int64_t, rows.n);
		for (size_t i = 0; i < rows.n; i++)
			ids[i] = rows.rows[i].u.insight.id;
		struct q_select tq = keyset(&c->page, QT_TAGS, 0, -1);
		tq.has_via = true;
		tq.via = QR_INSIGHT_TAGS;
		tq.parents = ids;
		tq.nparents = rows.n;
		struct q_rows tags;
		if ((rc = svc_select(c->svc, &c->page, &tq, &tags, err)))
			return rc;
		/* Group under their insight, in the page's order (ids ascending). */
		c->links = ARENA_NEW_ARRAY(&c->page, struct tag_link, tags.n ? tags.n : 1);
		for (size_t i = 0; i < tags.n; i++)
			c->links[i] = (struct tag_link){ tags.rows[i].parent, tags.rows[i].u.tag };
		c->nlinks = tags.n;
		for (size_t i = 1; i < c->nlinks; i++) { /* insertion sort: nearly sorted */
			struct tag_link x = c->links[i];
			size_t k = i;
			while (k > 0 && (c->links[k - 1].insight_id > x.insight_id ||
					 (c->links[k - 1].insight_id == x.insight_id &&
					  c->links[k - 1].tag.id > x.tag.id))) {
				c->links[k] = c->links[k - 1];
				k--;
			}
			c->links[k] = x;
		}
	}
	*got = true;
	return OK;
}

/* The next insight with its tags; NULL when none is left. */
static enum status next_insight(struct export_cursor *c, struct insight **out, struct error *err)
{
	*out = NULL;
	if (c->next_row == c->nrows) {
		bool got;
		enum status rc = next_page(c, QT_INSIGHTS, &got, err);
		if (rc || !got || !c->nrows)
			return rc;
	}
	struct insight *in = &c->rows[c->next_row++].u.insight;
	while (c->next_link < c->nlinks && c->links[c->next_link].insight_id < in->id)
		c->next_link++;
	size_t first = c->next_link;
	while (c->next_link < c->nlinks && c->links[c->next_link].insight_id == in->id)
		c->next_link++;
	in->ntags = c->next_link - first;
	in->tags = ARENA_NEW_ARRAY(&c->page, struct tag, in->ntags ? in->ntags : 1);
	for (size_t i = 0; i < in->ntags; i++)
		in->tags[i] = c->links[first + i].tag;
	c->done++;
	*out = in;
	return OK;
}

static const char *category_slug(const struct export_cursor *c, int64_t id)
{
	const struct category *k = id ? cat_find(c->by_id, c->ncats, id) : NULL;
	return k ? k->slug : NULL;
}

/* ---- JSON Lines ------------------------------------------------------------------------ */

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *jts(const char *ts)
{
	return ts[0] ? json_object_new_string(ts) : NULL;
}

static void emit_json(struct buf *out, json_object *o)
{
	size_t len;
	const char *s = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	buf_add(out, s, len);
	buf_addch(out, '\n');
	json_object_put(o);
}

/* The value of field `f` of insight `in`, as JSON (NULL: null). */
static json_object *field_json(const struct export_cursor *c, const struct insight_field *f,
			       const struct insight *in)
{
	switch (f->kind) {
	case F_ID:
	case F_INT:
		return json_object_new_int64(*AT_C(in, f->row, int64_t));
	case F_TEXT:
		return jstr(*AT_C(in, f->row, char *));
	case F_PRIORITY:
		return json_object_new_string(priority_name(in->priority));
	case F_STATUS:
		return json_object_new_string(lifecycle_name(in->status));
	case F_TS:
	case F_TS_NULL:
	case F_DATE:
		return jts(AT_C(in, f->row, char));
	case F_CATEGORY:
		return jstr(category_slug(c, in->category_id));
	case F_TAGS: {
		json_object *a = json_object_new_array();
		for (size_t i = 0; i < in->ntags; i++)
			json_object_array_add(a, json_object_new_string(in->tags[i].slug));
		return a;
	}
	}
	return NULL;
}

static void jsonl_insight(const struct export_cursor *c, struct buf *out, const struct insight *in)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("insight"));
	for (size_t i = 0; i < NFIELDS; i++)
		json_object_object_add(o, insight_fields[i].name, field_json(c, &insight_fields[i], in));
	emit_json(out, o);
}

static void jsonl_category(const struct export_cursor *c, struct buf *out, const struct category *k)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("category"));
	json_object_object_add(o, "id", json_object_new_int64(k->id));
	json_object_object_add(o, "name", jstr(k->name));
	json_object_object_add(o, "slug", jstr(k->slug));
	json_object_object_add(o, "description", jstr(k->description));
	json_object_object_add(o, "parent", jstr(category_slug(c, k->parent_id)));
	json_object_object_add(o, "color", jstr(k->color));
	json_object_object_add(o, "icon", jstr(k->icon));
	json_object_object_add(o, "created_at", jts(k->created_at));
	json_object_object_add(o, "updated_at", jts(k->updated_at));
	emit_json(out, o);
}

static void jsonl_tag(struct buf *out, const struct tag *t)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("tag"));
	json_object_object_add(o, "id", json_object_new_int64(t->id));
	json_object_object_add(o, "name", jstr(t->name));
	json_object_object_add(o, "slug", jstr(t->slug));
	json_object_object_add(o, "description", jstr(t->description));
	json_object_object_add(o, "color", jstr(t->color));
	json_object_object_add(o, "created_at", jts(t->created_at));
	json_object_object_add(o, "usage_count", json_object_new_int64(t->usage_count));
	emit_json(out, o);
}

/* ---- CSV --------------------------------------------------------------------------------- */

void csv_field(struct buf *out, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n") && s[0] != ' ' && (!s[0] || s[strlen(s) - 1] != ' ')) {
		buf_adds(out, s);
		return;
	}
	buf_addch(out, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			buf_addch(out, '"');
		buf_addch(out, *p);
	}
	buf_addch(out, '"');
}

/* A field's value as CSV or YAML text: NULL for null. */
static const char *field_text(const struct export_cursor *c, const struct insight_field *f,
			      const struct insight *in, struct arena *a)
{
	char num[32];
	switch (f->kind) {
	case F_ID:
	case F_INT:
		snprintf(num, sizeof(num), "%" PRId64, *AT_C(in, f->row, int64_t));
		return arena_strdup(a, num);
	case F_TEXT:
		return *AT_C(in, f->row, char *);
	case F_PRIORITY:
		return priority_name(in->priority);
	case F_STATUS:
		return lifecycle_name(in->status);
	case F_TS:
	case F_TS_NULL:
	case F_DATE: {
		const char *ts = AT_C(in, f->row, char);
		return ts[0] ? ts : NULL;
	}
	case F_CATEGORY:
		return category_slug(c, in->category_id);
	case F_TAGS: {
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < in->ntags; i++) {
			if (i)
				buf_addch(&b, ';');
			buf_adds(&b, in->tags[i].slug);
		}
		const char *s = arena_strdup(a, buf_cstr(&b));
		buf_release(&b);
		return s;
	}
	}
	return NULL;
}

static void csv_header(struct buf *out)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		if (i)
			buf_addch(out, ',');
		csv_field(out, insight_fields[i].name);
	}
	buf_adds(out, "\r\n");
}

static void csv_insight(const struct export_cursor *c, struct buf *out, const struct insight *in,
			struct arena *a)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		if (i)
			buf_addch(out, ',');
		csv_field(out, field_text(c, &insight_fields[i], in, a));
	}
	buf_adds(out, "\r\n");
}

/* ---- Markdown ---------------------------------------------------------------------------- */

void yaml_quoted(struct buf *out, const char *s)
{
	/* A JSON string is a YAML double-quoted scalar with the same value. */
	json_object *o = json_object_new_string(s);
	buf_adds(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

void transfer_slug(struct buf *out, const char *title)
{
	size_t start = out->len, n = 0;
	bool dash = false;
	for (const unsigned char *p = (const unsigned char *)title; *p && n < 60; p++) {
		unsigned char ch = *p;
		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
			if (dash && n) {
				buf_addch(out, '-');
				n++;
			}
			dash = false;
			buf_addch(out, (char)ch);
			n++;
		} else {
			dash = true;
		}
	}
	if (out->len == start)
		buf_adds(out, "insight");
}

static void md_insight(const struct export_cursor *c, struct buf *name, struct buf *out,
		       const struct insight *in, struct arena *a)
{
	buf_addf(name, "%" PRId64 "-", in->id);
	transfer_slug(name, in->title);
	buf_adds(name, ".md");
	buf_adds(out, "---\n");
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct insight_field *f = &insight_fields[i];
		if (f->kind == F_TEXT && f->row == ROW(content))
			continue; /* the body */
		buf_adds(out, f->name);
		buf_adds(out, ": ");
		if (f->kind == F_TAGS) {
			buf_addch(out, '[');
			for (size_t k = 0; k < in->ntags; k++) {
				if (k)
					buf_adds(out, ", ");
				yaml_quoted(out, in->tags[k].slug);
			}
			buf_addch(out, ']');
		} else {
			const char *v = field_text(c, f, in, a);
			if (!v)
				buf_adds(out, "null");
			else if (f->kind == F_ID || f->kind == F_INT)
				buf_adds(out, v);
			else
				yaml_quoted(out, v);
		}
		buf_addch(out, '\n');
	}
	buf_adds(out, "---\n");
	/* The body is the content, byte for byte (no newline added): imports read it back. */
	if (in->content)
		buf_adds(out, in->content);
}

/* ---- the export's steps -------------------------------------------------------------------- */

#define CHUNK (64 * 1024)

enum status export_next(struct export_cursor *c, struct buf *out, bool *more, struct error *err)
{
	*more = true;
	while (out->len < CHUNK) {
		switch (c->phase) {
		case PH_HEADER: {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "type", json_object_new_string("export"));
			json_object_object_add(o, "format", json_object_new_string("insights"));
			json_object_object_add(o, "version", json_object_new_int(EXPORT_FORMAT_VERSION));
			emit_json(out, o);
			c->phase = PH_CATEGORIES;
			break;
		}
		case PH_CATEGORIES:
			if (c->next_cat < c->ncats)
				jsonl_category(c, out, &c->cats[c->next_cat++]);
			else
				c->phase = PH_TAGS;
			break;
		case PH_TAGS:
			if (c->next_row == c->nrows) {
				bool got;
				enum status rc = next_page(c, QT_TAGS, &got, err);
				if (rc)
					return rc;
				if (!got || !c->nrows) {
					c->phase = PH_INSIGHTS;
					c->after = 0;
					c->last_page = false;
					c->nrows = c->next_row = 0;
				}
				break;
			}
			jsonl_tag(out, &c->rows[c->next_row++].u.tag);
			break;
		case PH_INSIGHTS: {
			if (c->format == TRANSFER_MARKDOWN) {
				*more = false; /* the insights are files of their own */
				return OK;
			}
			if (c->format == TRANSFER_CSV && !c->csv_header) {
				csv_header(out);
				c->csv_header = true;
			}
			struct insight *in;
			enum status rc = next_insight(c, &in, err);
			if (rc)
				return rc;
			if (!in) {
				c->phase = PH_DONE;
				break;
			}
			if (c->format == TRANSFER_CSV)
				csv_insight(c, out, in, &c->page);
			else
				jsonl_insight(c, out, in);
			break;
		}
		case PH_DONE:
			*more = false;
			return OK;
		}
	}
	return OK;
}

enum status export_next_file(struct export_cursor *c, struct buf *name, struct buf *out,
			     bool *more, struct error *err)
{
	struct insight *in;
	enum status rc = next_insight(c, &in, err);
	*more = rc == OK && in;
	if (*more)
		md_insight(c, name, out, in, &c->page);
	return rc;
}

/* ---- imports ------------------------------------------------------------------------------- */

enum { R_CATEGORY, R_TAG, R_INSIGHT };

struct importer {
	struct service *svc;
	enum transfer_conflict conflict;
	struct import_report *report;
	bool writing;                 /* the second pass */
	/* slug -> id (json-c objects as hash tables): in the database, and from the file */
	json_object *db_tags, *db_cats;
	json_object *db_tag_ids, *db_cat_ids;   /* "id" -> true */
	json_object *db_tag_names, *db_cat_names; /* name -> id */
	json_object *file_tag_names, *file_cat_names; /* name -> line */
	json_object *file_tags, *file_cats;     /* validating: slug -> line; writing: slug -> id */
	const char *where;            /* the file, for Markdown problems */
	long line;
	bool seen_record;
};

static void problem(struct importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct importer *im, const char *fmt, ...)
{
	struct import_report *r = im->report;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	char line[512];
	if (im->where)
		snprintf(line, sizeof(line), "%s: %s", im->where, msg);
	else
		snprintf(line, sizeof(line), "line %ld: %s", im->line, msg);
	char **grown = realloc(r->problems, (r->nproblems + 1) * sizeof(*grown));
	if (!grown)
		abort();
	r->problems = grown;
	r->problems[r->nproblems++] = strdup(line);
}

/* Reports the problems of `err` (paths relative to the record). */
static void problems_of(struct importer *im, const struct error *err)
{
	if (!err->nproblems) {
		problem(im, "%s", err->detail);
		return;
	}
	for (size_t i = 0; i < err->nproblems; i++) {
		const struct problem *p = &err->problems[i];
		char path[200] = "";
		size_t len = 0;
		for (unsigned k = 0; k < p->nloc && len < sizeof(path) - 1; k++) {
			int n = p->loc[k].name[0]
					? snprintf(path + len, sizeof(path) - len, "%s%s", k ? "." : "",
						   p->loc[k].name)
					: snprintf(path + len, sizeof(path) - len, "[%" PRId64 "]",
						   p->loc[k].index);
			len = n < 0 ? len : len + (size_t)n >= sizeof(path) ? sizeof(path) - 1 : len + (size_t)n;
		}
		problem(im, "%s: %s", path[0] ? path : "record", p->msg);
	}
}

static bool map_get(json_object *m, const char *key, int64_t *v)
{
	json_object *x;
	if (!key || !json_object_object_get_ex(m, key, &x))
		return false;
	if (v)
		*v = json_object_get_int64(x);
	return true;
}

static void map_put(json_object *m, const char *key, int64_t v)
{
	json_object_object_add(m, key, json_object_new_int64(v));
}

static bool id_taken(json_object *ids, int64_t id)
{
	char key[24];
	snprintf(key, sizeof(key), "%" PRId64, id);
	return map_get(ids, key, NULL);
}

/* Loads the slugs and ids of the tags or categories already in the database. */
static enum status load_existing(struct importer *im, enum q_table t, struct error *err)
{
	json_object *by_slug = t == QT_TAGS ? im->db_tags : im->db_cats;
	json_object *ids = t == QT_TAGS ? im->db_tag_ids : im->db_cat_ids;
	json_object *names = t == QT_TAGS ? im->db_tag_names : im->db_cat_names;
	int64_t after = 0;
	for (;;) {
		struct arena a = ARENA_INIT;
		struct q_select q = keyset(&a, t, after, 500);
		struct q_rows rows;
		enum status rc = svc_select(im->svc, &a, &q, &rows, err);
		for (size_t i = 0; rc == OK && i < rows.n; i++) {
			int64_t id = t == QT_TAGS ? rows.rows[i].u.tag.id : rows.rows[i].u.category.id;
			const char *slug = t == QT_TAGS ? rows.rows[i].u.tag.slug : rows.rows[i].u.category.slug;
			map_put(by_slug, slug, id);
			map_put(names, t == QT_TAGS ? rows.rows[i].u.tag.name : rows.rows[i].u.category.name,
				id);
			char key[24];
			snprintf(key, sizeof(key), "%" PRId64, id);
			map_put(ids, key, 1);
			after = id;
		}
		size_t n = rc == OK ? rows.n : 0;
		arena_release(&a);
		if (rc)
			return rc;
		if (n < 500)
			return OK;
	}
}

/* A timestamp as the store keeps them: YYYY-MM-DDTHH:MM:SSZ, a real time. */
static bool ts_valid(const char *s)
{
	if (strlen(s) != TS_SIZE - 1)
		return false;
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return false;
	char back[TS_SIZE];
	clock_format(timegm(&tm), back);
	return !strcmp(back, s);
}

/*
 * Reads the record's restore field `name`: a timestamp (nullable ones may
 * be null, stored as ""), an id or revision (>= 1). Absent: left as is.
 */
static const char *get_ts(struct importer *im, json_object *o, const char *name, bool nullable,
			  struct arena *a)
{
	json_object *v;
	if (!json_object_object_get_ex(o, name, &v))
		return NULL;
	if (!v) {
		if (!nullable)
			problem(im, "%s: Input should be a timestamp, not null", name);
		return nullable ? "" : NULL;
	}
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	if (!s || !ts_valid(s)) {
		problem(im, "%s: Input should be a timestamp of the form 2025-01-31T23:59:59Z", name);
		return NULL;
	}
	return arena_strdup(a, s);
}

static int64_t get_pos(struct importer *im, json_object *o, const char *name)
{
	json_object *v;
	if (!json_object_object_get_ex(o, name, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
	    json_object_get_int64(v) == INT64_MAX) {
		problem(im, "%s: Input should be a positive integer", name);
		return 0;
	}
	return json_object_get_int64(v);
}

/* A slug reference (a string or null; absent: null). *ok false when malformed. */
static const char *get_slug(struct importer *im, json_object *o, const char *name, bool *ok)
{
	json_object *v;
	*ok = true;
	if (!json_object_object_get_ex(o, name, &v) || !v)
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		problem(im, "%s: Input should be a slug (a string) or null", name);
		*ok = false;
		return NULL;
	}
	return json_object_get_string(v);
}

/*
 * A reference to a category or tag by slug: while validating, it must be
 * defined earlier in the file or be in the database; while writing, gives
 * the id it has now.
 */
static bool resolve(struct importer *im, json_object *file, json_object *db, const char *what,
		    const char *field, const char *slug, int64_t *id)
{
	int64_t v;
	if (map_get(file, slug, &v)) {
		*id = im->writing ? v : 0;
		return true;
	}
	if (map_get(db, slug, &v)) {
		*id = v;
		return true;
	}
	problem(im, "%s: no %s with slug '%s' in the file before this line or in the database",
		field, what, slug);
	return false;
}

/* The row a record matches in the database (0: none), and whether it may be written. */
static bool conflict_ok(struct importer *im, const char *what, const char *key, int64_t existing)
{
	if (!existing || im->conflict != CONFLICT_FAIL)
		return true;
	problem(im, "%s %s already exists (choose --on-conflict skip or update)", what, key);
	return false;
}

/*
 * Names are unique too: a record's name must not be another row's, in the
 * database (unless that row is the one the record updates) or earlier in
 * the file. Checked while validating, so that every clash is listed.
 */
static bool name_free(struct importer *im, const char *what, const char *name, int64_t existing,
		      json_object *db, json_object *file)
{
	if (im->writing || !name)
		return true;
	int64_t owner, line;
	if (map_get(file, name, &line)) {
		problem(im, "name: %s name '%s' is already used on line %" PRId64, what, name, line);
		return false;
	}
	map_put(file, name, im->line);
	bool replaced = existing && im->conflict == CONFLICT_UPDATE;
	if (map_get(db, name, &owner) && owner != existing && (replaced || !existing)) {
		problem(im, "name: %s name '%s' is taken by another %s in the database", what, name,
			what);
		return false;
	}
	return true;
}

static void count(struct importer *im, int kind, int64_t existing)
{
	struct import_report *r = im->report;
	if (!existing)
		r->created[kind]++;
	else if (im->conflict == CONFLICT_UPDATE)
		r->updated[kind]++;
	else
		r->skipped[kind]++;
}

static enum status do_category(struct importer *im, json_object *o, struct arena *a)
{
	struct error err = ERROR_INIT;
	struct category_input in;
	memset(&in, 0, sizeof(in));
	decode_category_input(o, a, &in, &err);
	in.parent_id = (struct opt_id){ 0 };
	int64_t id = get_pos(im, o, "id");
	in.created_at = get_ts(im, o, "created_at", false, a);
	in.updated_at = get_ts(im, o, "updated_at", false, a);
	bool ok;
	const char *parent = get_slug(im, o, "parent", &ok);
	in.parent_id.set = true;
	if (parent && !resolve(im, im->file_cats, im->db_cats, "category", "parent", parent,
			       &in.parent_id.v))
		ok = false;
	category_input_check(&in, true, &err);
	if (err.status) {
		problems_of(im, &err);
		return OK;
	}
	const char *slug = in.slug.v;
	if (!im->writing && map_get(im->file_cats, slug, NULL)) {
		problem(im, "slug: category '%s' is defined twice in the file", slug);
		return OK;
	}
	int64_t existing = 0;
	map_get(im->db_cats, slug, &existing);
	char key[140];
	snprintf(key, sizeof(key), "'%s'", slug);
	if (!conflict_ok(im, "category", key, existing) || !ok ||
	    !name_free(im, "category", in.name.v, existing, im->db_cat_names, im->file_cat_names))
		return OK;
	if (!im->writing) {
		map_put(im->file_cats, slug, im->line);
		return OK;
	}
	in.id = id && !id_taken(im->db_cat_ids, id) ? id : 0;
	struct category row;
	enum status rc = OK;
	if (!existing || im->conflict == CONFLICT_UPDATE)
		rc = svc_import_category(im->svc, a, existing, &in, &row, &err);
	else
		row.id = existing;
	if (rc) {
		problems_of(im, &err);
		return rc;
	}
	map_put(im->file_cats, slug, row.id);
	count(im, R_CATEGORY, existing);
	return OK;
}

static enum status do_tag(struct importer *im, json_object *o, struct arena *a)
{
	struct error err = ERROR_INIT;
	struct tag_input in;
	memset(&in, 0, sizeof(in));
	decode_tag_input(o, a, &in, &err);
	int64_t id = get_pos(im, o, "id");
	in.created_at = get_ts(im, o, "created_at", false, a);
	tag_input_check(&in, true, &err);
	if (err.status) {
		problems_of(im, &err);
		return OK;
	}
	const char *slug = in.slug.v;
	if (!im->writing && map_get(im->file_tags, slug, NULL)) {
		problem(im, "slug: tag '%s' is defined twice in the file", slug);
		return OK;
	}
	int64_t existing = 0;
	map_get(im->db_tags, slug, &existing);
	char key[100];
	snprintf(key, sizeof(key), "'%s'", slug);
	if (!conflict_ok(im, "tag", key, existing) ||
	    !name_free(im, "tag", in.name.v, existing, im->db_tag_names, im->file_tag_names))
		return OK;
	if (!im->writing) {
		map_put(im->file_tags, slug, im->line);
		return OK;
	}
	in.id = id && !id_taken(im->db_tag_ids, id) ? id : 0;
	struct tag row;
	enum status rc = OK;
	if (!existing || im->conflict == CONFLICT_UPDATE)
		rc = svc_import_tag(im->svc, a, existing, &in, &row, &err);
	else
		row.id = existing;
	if (rc) {
		problems_of(im, &err);
		return rc;
	}
	map_put(im->file_tags, slug, row.id);
	count(im, R_TAG, existing);
	return OK;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static enum status do_insight(struct importer *im, json_object *o, struct arena *a)
{
	struct error err = ERROR_INIT;
	struct insight_input in;
	memset(&in, 0, sizeof(in));
	/* The fields a client writes: decoded as a request body is. */
	decode_insight_input(o, a, &in, &err);
	in.category_id = (struct opt_id){ .set = true };
	in.tag_ids_set = true;
	in.tag_ids = NULL;
	in.ntag_ids = 0;
	bool ok = true;
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct insight_field *f = &insight_fields[i];
		switch (f->kind) {
		case F_ID:
		case F_INT:
			*AT(&in, f->in, int64_t) = get_pos(im, o, f->name);
			break;
		case F_TS:
		case F_TS_NULL:
			*AT(&in, f->in, const char *) = get_ts(im, o, f->name, f->kind == F_TS_NULL, a);
			break;
		case F_CATEGORY: {
			bool good;
			const char *slug = get_slug(im, o, f->name, &good);
			if (!good || (slug && !resolve(im, im->file_cats, im->db_cats, "category", f->name,
						       slug, &in.category_id.v)))
				ok = false;
			break;
		}
		case F_TAGS: {
			json_object *v;
			if (!json_object_object_get_ex(o, f->name, &v) || !v)
				break;
			if (!json_object_is_type(v, json_type_array)) {
				problem(im, "%s: Input should be a list of tag slugs", f->name);
				ok = false;
				break;
			}
			size_t n = json_object_array_length(v);
			in.tag_ids = ARENA_NEW_ARRAY(a, int64_t, n ? n : 1);
			for (size_t k = 0; k < n; k++) {
				json_object *s = json_object_array_get_idx(v, k);
				int64_t id = 0;
				if (!json_object_is_type(s, json_type_string)) {
					problem(im, "%s[%zu]: Input should be a tag slug (a string)", f->name, k);
					ok = false;
				} else if (!resolve(im, im->file_tags, im->db_tags, "tag", f->name,
						    json_object_get_string(s), &id)) {
					ok = false;
				} else if (im->writing) {
					in.tag_ids[in.ntag_ids++] = id;
				}
			}
			break;
		}
		case F_TEXT:
		case F_DATE:
		case F_PRIORITY:
		case F_STATUS:
			break; /* core/input.c's */
		}
	}
	insight_input_check(&in, true, &err);
	if (err.status) {
		problems_of(im, &err);
		return OK;
	}
	if (!ok || !in.title.set)
		return OK;
	if (!in.published_at && in.status == LIFECYCLE_PUBLISHED && in.created_at)
		in.published_at = in.created_at;
	/* Sorted and distinct, as the store wants them. */
	if (in.ntag_ids)
		qsort(in.tag_ids, in.ntag_ids, sizeof(int64_t), cmp_id);
	size_t n = 0;
	for (size_t k = 0; k < in.ntag_ids; k++)
		if (!n || in.tag_ids[n - 1] != in.tag_ids[k])
			in.tag_ids[n++] = in.tag_ids[k];
	in.ntag_ids = n;
	int64_t existing = 0, version;
	if (in.id) {
		enum status rc = svc_version(im->svc, QT_INSIGHTS, in.id, &version, &err);
		if (rc == OK)
			existing = in.id;
		else if (rc != E_NOTFOUND) {
			problems_of(im, &err);
			return rc;
		}
		error_clear(&err);
	}
	char key[40];
	snprintf(key, sizeof(key), "%" PRId64, in.id);
	if (!conflict_ok(im, "insight", key, existing) || !im->writing)
		return OK;
	enum status rc = OK;
	if (!existing || im->conflict == CONFLICT_UPDATE) {
		struct insight row;
		if (existing) {
			in.id = 0;
			in.revision = 0;
			in.created_at = NULL;
		}
		rc = svc_import_insight(im->svc, a, existing, &in, &row, &err);
	}
	if (rc) {
		problems_of(im, &err);
		return rc;
	}
	count(im, R_INSIGHT, existing);
	return OK;
}

/* One record (a JSON object) of either pass. */
static enum status do_record(struct importer *im, json_object *o, struct arena *a)
{
	json_object *t;
	const char *type = json_object_object_get_ex(o, "type", &t) && json_object_is_type(t, json_type_string)
				   ? json_object_get_string(t) : NULL;
	if (!type) {
		problem(im, "type: a record needs a type (export, category, tag or insight)");
		return OK;
	}
	if (!strcmp(type, "export")) {
		json_object *v;
		if (im->seen_record)
			problem(im, "type: the export header must be the first line");
		else if (!json_object_object_get_ex(o, "version", &v) ||
			 json_object_get_int(v) != EXPORT_FORMAT_VERSION)
			problem(im, "version: this build reads version %d of the format",
				EXPORT_FORMAT_VERSION);
		im->seen_record = true;
		return OK;
	}
	im->seen_record = true;
	im->report->records++;
	if (!strcmp(type, "category"))
		return do_category(im, o, a);
	if (!strcmp(type, "tag"))
		return do_tag(im, o, a);
	if (!strcmp(type, "insight"))
		return do_insight(im, o, a);
	problem(im, "type: unknown record type '%s'", type);
	return OK;
}

/* Reads the JSON Lines file once (a pass); stops at a write's failure. */
static enum status jsonl_pass(struct importer *im, FILE *f, transfer_progress_fn progress,
			      void *arg, uint64_t size, struct error *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	im->line = 0;
	im->seen_record = false;
	enum status rc = OK;
	uint64_t read = 0;
	while (rc == OK && (len = getline(&line, &cap, f)) >= 0) {
		im->line++;
		read += (uint64_t)len;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len)
			continue;
		json_tokener *tok = json_tokener_new();
		json_object *o = json_tokener_parse_ex(tok, line, (int)len);
		enum json_tokener_error je = json_tokener_get_error(tok);
		if (je == json_tokener_success && (size_t)json_tokener_get_parse_end(tok) != (size_t)len)
			je = json_tokener_error_parse_unexpected;
		json_tokener_free(tok);
		if (je != json_tokener_success || !json_object_is_type(o, json_type_object)) {
			problem(im, "not a JSON object: %s",
				je != json_tokener_success ? json_tokener_error_desc(je) : "another value");
		} else {
			struct arena a = ARENA_INIT;
			rc = do_record(im, o, &a);
			arena_release(&a);
		}
		json_object_put(o);
		if (progress && (im->line % 1000 == 0))
			progress(arg, read, size);
	}
	free(line);
	if (rc == OK && ferror(f))
		rc = error_set(err, E_UNAVAILABLE, "Cannot read the file");
	if (rc && !err->status)
		error_set(err, rc, "The import failed");
	return rc;
}

/* ---- Markdown folders ---------------------------------------------------------------------- */

/* A plain YAML scalar as JSON: null, an integer, or the text itself. */
static json_object *yaml_scalar(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (!len || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
		    !strcmp(v, "NULL"))
			return NULL;
		char *end;
		errno = 0;
		long long i = strtoll(v, &end, 10);
		if (!*end && errno == 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')))
			return json_object_new_int64(i);
	}
	return json_object_new_string_len(v, (int)len);
}

int transfer_front_matter(const char *text, size_t len, json_object **out, char *why,
			  size_t whylen)
{
	*out = NULL;
	if (len < 4 || strncmp(text, "---\n", 4)) {
		snprintf(why, whylen, "no front matter: the file must begin with a line '---'");
		return -1;
	}
	const char *front = text + 4, *end = NULL;
	const char *p = front, *stop = text + len;
	while (p < stop) {
		const char *nl = memchr(p, '\n', (size_t)(stop - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(stop - p);
		if (l == 3 && !strncmp(p, "---", 3)) {
			end = p;
			break;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	if (!end) {
		snprintf(why, whylen, "front matter: no closing line '---'");
		return -1;
	}
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)front, (size_t)(end - front));
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(why, whylen, "front matter: not YAML: %s (line %zu)",
			 parser.problem ? parser.problem : "unreadable", parser.problem_mark.line + 2);
		yaml_parser_delete(&parser);
		return -1;
	}
	int rc = -1;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		snprintf(why, whylen, "front matter: should be a mapping of fields");
		goto done;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("insight"));
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
		if (!k || k->type != YAML_SCALAR_NODE || !v)
			continue;
		const char *key = (const char *)k->data.scalar.value;
		if (strlen(key) != k->data.scalar.length || !strcmp(key, "type") ||
		    !strcmp(key, "content"))
			continue;
		json_object *jv = NULL;
		if (v->type == YAML_SCALAR_NODE) {
			jv = yaml_scalar(v);
		} else if (v->type == YAML_SEQUENCE_NODE) {
			jv = json_object_new_array();
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				yaml_node_t *x = yaml_document_get_node(&doc, *it);
				json_object_array_add(jv, x && x->type == YAML_SCALAR_NODE ? yaml_scalar(x)
											    : NULL);
			}
		} else {
			snprintf(why, whylen, "%.100s: should be a value or a list", key);
			json_object_put(o);
			goto done;
		}
		json_object_object_add(o, key, jv);
	}
	const char *body = end + 3;
	if (body < stop && *body == '\n')
		body++;
	size_t blen = (size_t)(stop - body);
	json_object_object_add(o, "content", blen ? json_object_new_string_len(body, (int)blen) : NULL);
	*out = o;
	rc = 0;
done:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

static json_object *md_record(struct importer *im, const char *text, size_t len)
{
	json_object *o;
	char why[200];
	if (transfer_front_matter(text, len, &o, why, sizeof(why))) {
		problem(im, "%s", why);
		return NULL;
	}
	return o;
}

struct md_file {
	char *name;
	int64_t id; /* the name's number, for the order */
};

static int cmp_md(const void *a, const void *b)
{
	const struct md_file *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The folder's *.md files, by the number their names begin with, then by name. */
static enum status md_list(const char *dir, struct md_file **out, size_t *n, struct error *err)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return error_set(err, E_NOTFOUND, "Cannot open %s: %s", dir, strerror(errno));
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 4 || strcmp(e->d_name + len - 3, ".md") || e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			struct md_file *grown = realloc(*out, cap * sizeof(*grown));
			if (!grown)
				abort();
			*out = grown;
		}
		(*out)[*n].name = strdup(e->d_name);
		(*out)[*n].id = strtoll(e->d_name, NULL, 10);
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_md);
	return OK;
}

static void md_list_free(struct md_file *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* One pass over the folder's files (see jsonl_pass). */
static enum status md_pass(struct importer *im, const char *dir, const struct md_file *files,
			   size_t n, transfer_progress_fn progress, void *arg, struct error *err)
{
	enum status rc = OK;
	struct buf path = BUF_INIT;
	for (size_t i = 0; rc == OK && i < n; i++) {
		im->where = files[i].name;
		buf_reset(&path);
		buf_addf(&path, "%s/%s", dir, files[i].name);
		FILE *f = fopen(buf_cstr(&path), "r");
		struct buf text = BUF_INIT;
		char chunk[8192];
		size_t got;
		while (f && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_add(&text, chunk, got);
		if (!f || ferror(f)) {
			problem(im, "cannot read the file");
		} else {
			json_object *o = md_record(im, text.data ? text.data : "", text.len);
			if (o) {
				struct arena a = ARENA_INIT;
				im->report->records++;
				rc = do_insight(im, o, &a);
				arena_release(&a);
				json_object_put(o);
			}
		}
		if (f)
			fclose(f);
		buf_release(&text);
		if (progress)
			progress(arg, i + 1, n);
	}
	buf_release(&path);
	im->where = NULL;
	if (rc && !err->status)
		error_set(err, rc, "The import failed");
	return rc;
}

static void importer_release(struct importer *im)
{
	json_object_put(im->db_tags);
	json_object_put(im->db_cats);
	json_object_put(im->db_tag_ids);
	json_object_put(im->db_cat_ids);
	json_object_put(im->file_tags);
	json_object_put(im->file_cats);
	json_object_put(im->db_tag_names);
	json_object_put(im->db_cat_names);
	json_object_put(im->file_tag_names);
	json_object_put(im->file_cat_names);
}

static void reset_file_maps(struct importer *im)
{
	json_object_put(im->file_tags);
	json_object_put(im->file_cats);
	im->file_tags = json_object_new_object();
	im->file_cats = json_object_new_object();
}

/* The audit entry's changes: what the import did, per kind of row. */
static char *summary(const struct import_report *r)
{
	static const char *const kinds[] = { "categories", "tags", "insights" };
	json_object *o = json_object_new_object();
	for (int k = 0; k < 3; k++) {
		json_object *v = json_object_new_object();
		json_object_object_add(v, "created", json_object_new_int64((int64_t)r->created[k]));
		json_object_object_add(v, "updated", json_object_new_int64((int64_t)r->updated[k]));
		json_object_object_add(v, "skipped", json_object_new_int64((int64_t)r->skipped[k]));
		json_object *change = json_object_new_object();
		json_object_object_add(change, "old", NULL);
		json_object_object_add(change, "new", v);
		json_object_object_add(o, kinds[k], change);
	}
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

enum status import_run(struct service *svc, const char *path, enum transfer_conflict conflict,
		       transfer_progress_fn progress, void *arg, struct import_report *report,
		       struct error *err)
{
	error_clear(err);
	memset(report, 0, sizeof(*report));
	struct md_file *files = NULL;
	size_t nfiles = 0;
	struct stat sb;
	bool folder = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
	FILE *f = NULL;
	long size = 0;
	if (folder) {
		enum status rc = md_list(path, &files, &nfiles, err);
		if (rc)
			return rc;
		/* The folder's categories and tags, if the export wrote them. */
		struct buf tax = BUF_INIT;
		buf_addf(&tax, "%s/%s", path, TRANSFER_TAXONOMY);
		f = fopen(buf_cstr(&tax), "r");
		buf_release(&tax);
	} else {
		f = fopen(path, "r");
		if (!f)
			return error_set(err, E_NOTFOUND, "Cannot open %s: %s", path, strerror(errno));
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		rewind(f);
	}
	struct importer im = {
		.svc = svc, .conflict = conflict, .report = report,
		.db_tags = json_object_new_object(), .db_cats = json_object_new_object(),
		.db_tag_ids = json_object_new_object(), .db_cat_ids = json_object_new_object(),
		.file_tags = json_object_new_object(), .file_cats = json_object_new_object(),
		.db_tag_names = json_object_new_object(), .db_cat_names = json_object_new_object(),
		.file_tag_names = json_object_new_object(), .file_cat_names = json_object_new_object(),
	};
	enum status rc = load_existing(&im, QT_TAGS, err);
	if (rc == OK)
		rc = load_existing(&im, QT_CATEGORIES, err);
	/* First pass: validate every record, write nothing. */
	if (rc == OK && f)
		rc = jsonl_pass(&im, f, NULL, NULL, 0, err);
	if (rc == OK && folder)
		rc = md_pass(&im, path, files, nfiles, NULL, NULL, err);
	if (rc == OK && report->nproblems) {
		rc = error_set(err, E_INVALID, "%zu problem%s found: nothing was imported",
			       report->nproblems, report->nproblems == 1 ? "" : "s");
	}
	/* Second pass: write every record in one transaction. */
	if (rc == OK) {
		if (f)
			rewind(f);
		reset_file_maps(&im);
		memset(report->created, 0, sizeof(report->created) * 3);
		report->records = 0;
		im.writing = true;
		rc = svc_batch_begin(svc, err);
		if (rc == OK) {
			if (f)
				rc = jsonl_pass(&im, f, folder ? NULL : progress, arg,
						size > 0 ? (uint64_t)size : 0, err);
			if (rc == OK && folder)
				rc = md_pass(&im, path, files, nfiles, progress, arg, err);
			if (rc == OK && report->nproblems)
				rc = error_set(err, E_INVALID, "The import failed: nothing was imported");
			if (rc == OK) {
				char *changes = summary(report);
				rc = svc_import_audit(svc, changes, err);
				free(changes);
			}
			struct error end = ERROR_INIT;
			if (rc == OK)
				rc = svc_batch_end(svc, true, err);
			else
				svc_batch_end(svc, false, &end);
		}
		/*
		 * As after a seed: an import into an empty database leaves its
		 * planner without statistics (the one query that lists one
		 * category's published high insights took the wrong index).
		 * Only a bulk load, though: at a million insights the tidy-up
		 * reads every index (ANALYZE alone took 39 s), which a few
		 * records added to a large database do not call for.
		 */
		struct store_gauges g;
		struct error unknown = ERROR_INIT; /* no count: no tidy-up (it is committed) */
		uint64_t wrote = report->created[2] + report->updated[2];
		if (rc == OK && wrote && svc_gauges(svc, &g, &unknown) == OK &&
		    wrote * IMPORT_BULK_SHARE >= (uint64_t)g.insights)
			rc = svc_optimize(svc, err);
		if (rc == OK && progress && !folder)
			progress(arg, size > 0 ? (uint64_t)size : 0, size > 0 ? (uint64_t)size : 0);
	}
	if (f)
		fclose(f);
	md_list_free(files, nfiles);
	importer_release(&im);
	return rc;
}

void import_report_release(struct import_report *r)
{
	for (size_t i = 0; i < r->nproblems; i++)
		free(r->problems[i]);
	free(r->problems);
	r->problems = NULL;
	r->nproblems = 0;
}
