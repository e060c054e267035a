/*
 * audit.c: field lists of each kind of row, and their differences.
 */
#include "core/audit.h"

#include <string.h>

#include "lib/buf.h"
#include "lib/jsonw.h"
#include "lib/banned.h"

static void add_str(struct audit_fields *o, const char *name, const char *s)
{
	o->f[o->n++] = (struct audit_field){ .name = name, .kind = AF_STR, .s = s };
}

static void add_ts(struct audit_fields *o, const char *name, const char *ts)
{
	add_str(o, name, ts && ts[0] ? ts : NULL);
}

static void add_id(struct audit_fields *o, const char *name, int64_t id)
{
	o->f[o->n++] = (struct audit_field){ .name = name, .kind = AF_ID, .id = id };
}

void audit_fields_insight(struct audit_fields *out, struct arena *a, const struct insight *r)
{
	out->n = 0;
	add_str(out, "title", r->title);
	add_str(out, "description", r->description);
	add_str(out, "content", r->content);
	add_str(out, "source", r->source);
	add_str(out, "author", r->author);
	add_id(out, "category_id", r->category_id);
	add_str(out, "priority", priority_name(r->priority));
	add_str(out, "status", lifecycle_name(r->status));
	add_ts(out, "published_at", r->published_at);
	add_ts(out, "review_by", r->review_by);
	add_str(out, "owner", r->owner);
	add_ts(out, "reviewed_at", r->reviewed_at);
	int64_t *ids = ARENA_NEW_ARRAY(a, int64_t, r->ntags ? r->ntags : 1);
	for (size_t i = 0; i < r->ntags; i++)
		ids[i] = r->tags[i].id;
	out->f[out->n++] = (struct audit_field){ .name = "tag_ids", .kind = AF_IDS, .ids = ids,
						 .nids = r->ntags };
}

void audit_fields_tag(struct audit_fields *out, const struct tag *r)
{
	out->n = 0;
	add_str(out, "name", r->name);
	add_str(out, "slug", r->slug);
	add_str(out, "description", r->description);
	add_str(out, "color", r->color);
}

void audit_fields_category(struct audit_fields *out, const struct category *r)
{
	out->n = 0;
	add_str(out, "name", r->name);
	add_str(out, "slug", r->slug);
	add_str(out, "description", r->description);
	add_id(out, "parent_id", r->parent_id);
	add_str(out, "color", r->color);
	add_str(out, "icon", r->icon);
}

void audit_fields_token(struct audit_fields *out, const struct token *r)
{
	out->n = 0;
	add_str(out, "name", r->name);
	add_str(out, "role", role_name(r->role));
	add_ts(out, "expires_at", r->expires_at);
}

static bool is_null(const struct audit_field *f)
{
	switch (f->kind) {
	case AF_STR: return !f->s;
	case AF_ID: return !f->id;
	case AF_IDS: return false; /* an empty list is a value */
	}
	return true;
}

static bool same(const struct audit_field *x, const struct audit_field *y)
{
	switch (x->kind) {
	case AF_STR: return (!x->s && !y->s) || (x->s && y->s && !strcmp(x->s, y->s));
	case AF_ID: return x->id == y->id;
	case AF_IDS:
		return x->nids == y->nids &&
		       (x->nids == 0 || !memcmp(x->ids, y->ids, x->nids * sizeof(*x->ids)));
	}
	return false;
}

static void write_value(struct jsonw *w, const struct audit_field *f)
{
	if (!f || is_null(f)) {
		jsonw_null(w);
		return;
	}
	switch (f->kind) {
	case AF_STR: jsonw_str(w, f->s); break;
	case AF_ID: jsonw_int(w, f->id); break;
	case AF_IDS:
		jsonw_array_open(w);
		for (size_t i = 0; i < f->nids; i++)
			jsonw_int(w, f->ids[i]);
		jsonw_array_close(w);
		break;
	}
}

const char *audit_changes(struct arena *a, const struct audit_fields *old,
			  const struct audit_fields *new)
{
	const struct audit_fields *shape = new ? new : old;
	struct buf b = BUF_INIT;
	struct jsonw w;
	jsonw_init(&w, &b);
	jsonw_object_open(&w);
	for (size_t i = 0; shape && i < shape->n; i++) {
		const struct audit_field *o = old ? &old->f[i] : NULL;
		const struct audit_field *n = new ? &new->f[i] : NULL;
		if (o && n && same(o, n))
			continue;
		/* A create lists what it set, a delete what it held: not their nulls. */
		if ((!o && is_null(n)) || (!n && is_null(o)))
			continue;
		jsonw_key(&w, shape->f[i].name);
		jsonw_object_open(&w);
		jsonw_key(&w, "old");
		write_value(&w, o);
		jsonw_key(&w, "new");
		write_value(&w, n);
		jsonw_object_close(&w);
	}
	jsonw_object_close(&w);
	const char *text = arena_strndup(a, b.data, b.len);
	buf_release(&b);
	return text;
}
