/*
 * exec.c: gql_execute(), from a request to its answer. It parses the
 * document, validates it, chooses the operation, coerces the variables,
 * plans it (plan.c) and runs it: each root field's rows are read with one
 * statement, then each nested relationship of theirs with one more for all
 * of them (the rows' ids as its parents), level after level, so the number
 * of statements grows with the depth of the query, never with the number of
 * rows. The answer is written straight into the output buffer; on an error
 * whatever was written is dropped, and the answer is the error alone, as
 * Hasura answers.
 */
#include "graphql/gx.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphql/parser.h"
#include "graphql/validate.h"
#include "lib/xalloc.h"
#include "lib/banned.h"

/* ---- errors and paths ---------------------------------------------------------------- */

void gx_push(struct gx *x, const char *segment)
{
	if (x->npath < GX_PATH_MAX)
		x->path[x->npath] = segment;
	x->npath++;
}

void gx_push_index(struct gx *x, size_t index)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "[%zu]", index);
	gx_push(x, arena_strdup(x->a, tmp));
}

void gx_pop(struct gx *x)
{
	if (x->npath)
		x->npath--;
}

const char *gx_path(struct gx *x)
{
	struct buf b = BUF_INIT;
	buf_addch(&b, '$');
	size_t n = x->npath < GX_PATH_MAX ? x->npath : GX_PATH_MAX;
	for (size_t i = 0; i < n; i++) {
		if (x->path[i][0] != '[')
			buf_addch(&b, '.');
		buf_adds(&b, x->path[i]);
	}
	char *s = arena_strndup(x->a, b.data, b.len);
	buf_release(&b);
	return s;
}

static bool fail_v(struct gx *x, const char *path, const char *code, const char *fmt, va_list ap)
{
	if (x->failed)
		return false;
	x->failed = true;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	x->err_msg = arena_strdup(x->a, msg);
	x->err_code = code;
	x->err_path = path ? arena_strdup(x->a, path) : gx_path(x);
	return false;
}

bool gx_fail(struct gx *x, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail_v(x, NULL, code, fmt, ap);
	va_end(ap);
	return false;
}

bool gx_fail_at(struct gx *x, const char *path, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail_v(x, path, code, fmt, ap);
	va_end(ap);
	return false;
}

/* A store's failure as the request's error. */
static bool store_failed(struct gx *x, const struct error *err)
{
	switch (err->status) {
	case E_UNAVAILABLE:
		x->http_status = 503;
		return gx_fail_at(x, "$", "unexpected", "%s", err->detail);
	case E_INVALID:
		return gx_fail(x, "validation-failed", "%s",
			       err->nproblems ? err->problems[0].msg : err->detail);
	default:
		x->http_status = 500;
		return gx_fail_at(x, "$", "unexpected", "the request failed: %s", err->detail);
	}
}

void gql_error_answer(struct buf *out, const char *code, const char *path, const char *message)
{
	struct jsonw w;
	jsonw_init(&w, out);
	jsonw_object_open(&w);
	jsonw_key(&w, "errors");
	jsonw_array_open(&w);
	jsonw_object_open(&w);
	jsonw_kstr(&w, "message", message);
	jsonw_key(&w, "extensions");
	jsonw_object_open(&w);
	jsonw_kstr(&w, "path", path);
	jsonw_kstr(&w, "code", code);
	jsonw_object_close(&w);
	jsonw_object_close(&w);
	jsonw_array_close(&w);
	jsonw_object_close(&w);
}

const char *gql_op_type_name(enum gql_op_type t)
{
	switch (t) {
	case GQL_OP_QUERY:
		return "query";
	case GQL_OP_MUTATION:
		return "mutation";
	case GQL_OP_SUBSCRIPTION:
		return "subscription";
	case GQL_OP_NONE:
		break;
	}
	return "none";
}

/* ---- rows ------------------------------------------------------------------------------ */

/* An integer column of a row (ids: 0 for null). */
static int64_t row_int(enum q_table t, const struct q_row *r, int column)
{
	switch (t) {
	case QT_INSIGHTS:
		return column == QI_CATEGORY_ID ? r->u.insight.category_id : r->u.insight.id;
	case QT_TAGS:
		return column == QG_USAGE_COUNT ? r->u.tag.usage_count : r->u.tag.id;
	case QT_CATEGORIES:
		return column == QC_PARENT_ID ? r->u.category.parent_id
		       : column == QC_INSIGHT_COUNT ? r->u.category.insight_count
						  : r->u.category.id;
	case QT__COUNT:
		break;
	}
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The distinct non-zero values of integer column `column` of `rows`, sorted. */
static int64_t *distinct_ints(struct gx *x, enum q_table t, const struct q_rows *rows, int column,
			      size_t *n)
{
	int64_t *v = ARENA_NEW_ARRAY(x->a, int64_t, rows->n ? rows->n : 1);
	size_t k = 0;
	for (size_t i = 0; i < rows->n; i++) {
		int64_t id = row_int(t, &rows->rows[i], column);
		if (id)
			v[k++] = id;
	}
	qsort(v, k, sizeof(*v), cmp_i64);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (!u || v[u - 1] != v[i])
			v[u++] = v[i];
	*n = u;
	return v;
}

/* The first row of `rows` (ordered by `by`: the parent or the id) with value `key`, or rows->n. */
static size_t lower_bound(const struct q_rows *rows, enum q_table t, bool by_parent, int64_t key)
{
	size_t lo = 0, hi = rows->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int64_t v = by_parent ? rows->rows[mid].parent : row_int(t, &rows->rows[mid], 0);
		if (v < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct q_agg_row *agg_row_for(const struct gx_agg *g, int64_t parent)
{
	size_t lo = 0, hi = g->rows.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->rows.rows[mid].parent < parent)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < g->rows.n && g->rows.rows[lo].parent == parent ? &g->rows.rows[lo] : NULL;
}

/* ---- reading ---------------------------------------------------------------------------- */

static bool fetch_read(struct gx *x, struct gx_read *r)
{
	struct error err = ERROR_INIT;
	if (svc_select(x->svc, x->a, &r->q, &r->rows, &err) != OK)
		return store_failed(x, &err);
	return true;
}

static bool fetch_agg(struct gx *x, struct gx_agg *g)
{
	struct error err = ERROR_INIT;
	if (svc_aggregate(x->svc, x->a, &g->q, &g->rows, &err) != OK)
		return store_failed(x, &err);
	return true;
}

/* The condition id IN ids. */
static struct q_expr *ids_in(struct gx *x, const int64_t *ids, size_t n)
{
	struct q_value *v = ARENA_NEW_ARRAY(x->a, struct q_value, n ? n : 1);
	for (size_t i = 0; i < n; i++)
		v[i] = (struct q_value){ .type = QTY_INT, .i = ids[i] };
	struct q_expr *e = ARENA_NEW(x->a, struct q_expr);
	*e = (struct q_expr){ .kind = QX_CMP, .column = 0, .op = QOP_IN, .values = v, .nvalues = n };
	return e;
}

/* Reads the rows of an object relationship's field `f` for the keys `ids`. */
static bool fetch_by_ids(struct gx *x, struct gx_field *f, const int64_t *ids, size_t n)
{
	if (!n)
		return true;
	f->read->q.where = ids_in(x, ids, n);
	return fetch_read(x, f->read) &&
	       gx_fetch_kids(x, f, f->read->q.table, &f->read->rows);
}

/* Reads an aggregate field's kids (aggregate, nodes) with `parents` when per parent. */
static bool fetch_aggregate_kids(struct gx *x, struct gx_field *f, const int64_t *parents,
				 size_t nparents)
{
	for (size_t i = 0; i < f->nkids; i++) {
		struct gx_field *k = &f->kids[i];
		if (k->agg) {
			if (parents) {
				k->agg->q.select.parents = parents;
				k->agg->q.select.nparents = nparents;
			}
			if (!fetch_agg(x, k->agg))
				return false;
		} else if (k->read) {
			if (parents) {
				k->read->q.parents = parents;
				k->read->q.nparents = nparents;
			}
			if (!fetch_read(x, k->read) ||
			    !gx_fetch_kids(x, k, k->read->q.table, &k->read->rows))
				return false;
		}
	}
	return true;
}

bool gx_fetch_kids(struct gx *x, struct gx_field *f, enum q_table table, const struct q_rows *rows)
{
	if (!rows->n)
		return true;
	size_t nids = 0;
	int64_t *ids = NULL;
	for (size_t i = 0; i < f->nkids; i++) {
		struct gx_field *k = &f->kids[i];
		switch (k->def->kind) {
		case GF_OBJ_REL: {
			size_t n;
			int64_t *keys = distinct_ints(x, table, rows, q_rels[k->def->rel].key, &n);
			if (!fetch_by_ids(x, k, keys, n))
				return false;
			break;
		}
		case GF_ARR_REL:
		case GF_ARR_REL_AGG:
			if (!ids)
				ids = distinct_ints(x, table, rows, 0, &nids);
			if (k->def->kind == GF_ARR_REL_AGG) {
				if (!fetch_aggregate_kids(x, k, ids, nids))
					return false;
				break;
			}
			k->read->q.parents = ids;
			k->read->q.nparents = nids;
			if (!fetch_read(x, k->read) ||
			    !gx_fetch_kids(x, k, k->read->q.table, &k->read->rows))
				return false;
			break;
		default:
			break;
		}
	}
	return true;
}

/* Reads what root field `f` of query_root needs. */
static bool fetch_root(struct gx *x, struct gx_field *f)
{
	switch (f->def->kind) {
	case GF_SELECT:
	case GF_SEARCH:
	case GF_BY_PK:
		return fetch_read(x, f->read) &&
		       gx_fetch_kids(x, f, f->read->q.table, &f->read->rows);
	case GF_AGGREGATE:
	case GF_SEARCH_AGGREGATE:
		return fetch_aggregate_kids(x, f, NULL, 0);
	case GF_GROUPS: {
		if (!fetch_agg(x, f->agg))
			return false;
		/* keys { category { ... } }: the categories of the groups' category_id. */
		int at = -1;
		for (size_t i = 0; i < f->agg->q.ngroup; i++)
			if (f->agg->q.group_by[i] == QI_CATEGORY_ID)
				at = (int)i;
		for (size_t i = 0; i < f->nkids; i++) {
			struct gx_field *keys = &f->kids[i];
			if (keys->def->kind != GF_GROUP_KEYS)
				continue;
			for (size_t k = 0; k < keys->nkids; k++) {
				struct gx_field *c = &keys->kids[k];
				if (c->def->kind != GF_OBJ_REL || at < 0)
					continue;
				int64_t *ids = ARENA_NEW_ARRAY(x->a, int64_t, f->agg->rows.n + 1);
				size_t n = 0;
				for (size_t r = 0; r < f->agg->rows.n; r++)
					if (!f->agg->rows.rows[r].keys[at].null)
						ids[n++] = f->agg->rows.rows[r].keys[at].i;
				qsort(ids, n, sizeof(*ids), cmp_i64);
				if (!fetch_by_ids(x, c, ids, n))
					return false;
			}
		}
		return true;
	}
	default:
		return true;
	}
}

/* ---- writing ----------------------------------------------------------------------------- */

/* A float as the shortest text that reads back the same. */
static void write_float(struct jsonw *w, double d)
{
	char num[40];
	if (!isfinite(d)) {
		jsonw_null(w);
		return;
	}
	snprintf(num, sizeof(num), "%.15g", d);
	if (strtod(num, NULL) != d)
		snprintf(num, sizeof(num), "%.17g", d);
	jsonw_raw(w, num, strlen(num));
}

/* A timestamp as the API writes it: "2024-01-15T10:30:00Z" (PostgreSQL gives "... 10:30:00"). */
static void write_ts(struct jsonw *w, const char *s)
{
	if (!s || !*s) {
		jsonw_null(w);
		return;
	}
	size_t n = strlen(s);
	if (n == 19 && s[10] == ' ') {
		char ts[TS_SIZE];
		memcpy(ts, s, 19);
		ts[10] = 'T';
		ts[19] = 'Z';
		ts[20] = '\0';
		jsonw_str(w, ts);
		return;
	}
	jsonw_str(w, s);
}

static void write_column(struct jsonw *w, enum q_table t, const struct q_row *r, int c)
{
	switch (t) {
	case QT_INSIGHTS: {
		const struct insight *in = &r->u.insight;
		switch ((enum q_insight_col)c) {
		case QI_ID:
			jsonw_int(w, in->id);
			return;
		case QI_TITLE:
			jsonw_str(w, in->title);
			return;
		case QI_DESCRIPTION:
			jsonw_str(w, in->description);
			return;
		case QI_CONTENT:
			jsonw_str(w, in->content);
			return;
		case QI_SOURCE:
			jsonw_str(w, in->source);
			return;
		case QI_AUTHOR:
			jsonw_str(w, in->author);
			return;
		case QI_CATEGORY_ID:
			if (in->category_id)
				jsonw_int(w, in->category_id);
			else
				jsonw_null(w);
			return;
		case QI_PRIORITY:
			jsonw_str(w, priority_name(in->priority));
			return;
		case QI_STATUS:
			jsonw_str(w, lifecycle_name(in->status));
			return;
		case QI_CREATED_AT:
			write_ts(w, in->created_at);
			return;
		case QI_UPDATED_AT:
			write_ts(w, in->updated_at);
			return;
		case QI_PUBLISHED_AT:
			write_ts(w, in->published_at);
			return;
		case QI_REVISION:
			jsonw_int(w, in->revision);
			return;
		case QI_REVIEW_BY:
			if (in->review_by[0])
				jsonw_str(w, in->review_by);
			else
				jsonw_null(w);
			return;
		case QI_OWNER:
			jsonw_str(w, in->owner);
			return;
		case QI_REVIEWED_AT:
			write_ts(w, in->reviewed_at);
			return;
		case QI__COUNT:
			break;
		}
		break;
	}
	case QT_TAGS: {
		const struct tag *g = &r->u.tag;
		switch ((enum q_tag_col)c) {
		case QG_ID:
			jsonw_int(w, g->id);
			return;
		case QG_NAME:
			jsonw_str(w, g->name);
			return;
		case QG_SLUG:
			jsonw_str(w, g->slug);
			return;
		case QG_DESCRIPTION:
			jsonw_str(w, g->description);
			return;
		case QG_COLOR:
			jsonw_str(w, g->color);
			return;
		case QG_CREATED_AT:
			write_ts(w, g->created_at);
			return;
		case QG_USAGE_COUNT:
			jsonw_int(w, g->usage_count);
			return;
		case QG__COUNT:
			break;
		}
		break;
	}
	case QT_CATEGORIES: {
		const struct category *k = &r->u.category;
		switch ((enum q_category_col)c) {
		case QC_ID:
			jsonw_int(w, k->id);
			return;
		case QC_NAME:
			jsonw_str(w, k->name);
			return;
		case QC_SLUG:
			jsonw_str(w, k->slug);
			return;
		case QC_DESCRIPTION:
			jsonw_str(w, k->description);
			return;
		case QC_PARENT_ID:
			if (k->parent_id)
				jsonw_int(w, k->parent_id);
			else
				jsonw_null(w);
			return;
		case QC_COLOR:
			jsonw_str(w, k->color);
			return;
		case QC_ICON:
			jsonw_str(w, k->icon);
			return;
		case QC_CREATED_AT:
			write_ts(w, k->created_at);
			return;
		case QC_UPDATED_AT:
			write_ts(w, k->updated_at);
			return;
		case QC_INSIGHT_COUNT:
			jsonw_int(w, k->insight_count);
			return;
		case QC__COUNT:
			break;
		}
		break;
	}
	case QT__COUNT:
		break;
	}
	jsonw_null(w);
}

static void write_agg_value(struct jsonw *w, const struct q_agg_value *v)
{
	if (!v || v->null) {
		jsonw_null(w);
		return;
	}
	switch (v->type) {
	case QTY_INT:
		jsonw_int(w, v->i);
		return;
	case QTY_FLOAT:
		write_float(w, v->f);
		return;
	case QTY_TEXT:
		jsonw_str(w, v->s);
		return;
	case QTY_TIMESTAMP:
		write_ts(w, v->s);
		return;
	}
}

/* An <table>_aggregate_fields object from aggregate row `row` (NULL: over no rows). */
static void write_agg_fields(struct jsonw *w, const struct gx_field *f, const struct q_agg_row *row)
{
	jsonw_object_open(w);
	for (size_t i = 0; i < f->nkids; i++) {
		const struct gx_field *k = &f->kids[i];
		jsonw_key(w, k->key);
		switch (k->def->kind) {
		case GF_AGG_COUNT:
			jsonw_int(w, row ? row->values[k->agg_index].i : 0);
			break;
		case GF_AGG_FN:
			jsonw_object_open(w);
			for (size_t c = 0; c < k->nkids; c++) {
				const struct gx_field *col = &k->kids[c];
				jsonw_key(w, col->key);
				if (col->def->kind == GF_AGG_COLUMN)
					write_agg_value(w, row ? &row->values[col->agg_index] : NULL);
				else
					jsonw_str(w, col->owner->name);
			}
			jsonw_object_close(w);
			break;
		default:
			jsonw_str(w, k->owner->name);
			break;
		}
	}
	jsonw_object_close(w);
}

/* The rows of `r` under `parent` (all of them when not per parent), as an array. */
static void write_rows(struct gx *x, struct jsonw *w, const struct gx_field *f,
		       const struct gx_read *r, bool per_parent, int64_t parent)
{
	jsonw_array_open(w);
	size_t i = per_parent ? lower_bound(&r->rows, r->q.table, true, parent) : 0;
	for (; i < r->rows.n; i++) {
		if (per_parent && r->rows.rows[i].parent != parent)
			break;
		gx_write_row(x, w, f->kids, f->nkids, r->q.table, &r->rows.rows[i]);
	}
	jsonw_array_close(w);
}

/* An <table>_aggregate object: its aggregate and nodes kids, per parent or in all. */
static void write_aggregate(struct gx *x, struct jsonw *w, const struct gx_field *f,
			    bool per_parent, int64_t parent)
{
	jsonw_object_open(w);
	for (size_t i = 0; i < f->nkids; i++) {
		const struct gx_field *k = &f->kids[i];
		jsonw_key(w, k->key);
		if (k->agg) {
			const struct q_agg_row *row = per_parent ? agg_row_for(k->agg, parent)
					      : k->agg->rows.n ? &k->agg->rows.rows[0]
								: NULL;
			write_agg_fields(w, k, row);
		} else if (k->read) {
			write_rows(x, w, k, k->read, per_parent, parent);
		} else {
			jsonw_str(w, k->owner->name);
		}
	}
	jsonw_object_close(w);
}

void gx_write_row(struct gx *x, struct jsonw *w, const struct gx_field *kids, size_t nkids,
		  enum q_table table, const struct q_row *row)
{
	jsonw_object_open(w);
	for (size_t i = 0; i < nkids; i++) {
		const struct gx_field *k = &kids[i];
		jsonw_key(w, k->key);
		switch (k->def->kind) {
		case GF_COLUMN:
			write_column(w, table, row, k->def->column);
			break;
		case GF_OBJ_REL: {
			int64_t id = row_int(table, row, q_rels[k->def->rel].key);
			const struct q_rows *rows = &k->read->rows;
			size_t at = id ? lower_bound(rows, k->read->q.table, false, id) : rows->n;
			if (at < rows->n && row_int(k->read->q.table, &rows->rows[at], 0) == id)
				gx_write_row(x, w, k->kids, k->nkids, k->read->q.table, &rows->rows[at]);
			else
				jsonw_null(w);
			break;
		}
		case GF_ARR_REL:
			write_rows(x, w, k, k->read, true, row_int(table, row, 0));
			break;
		case GF_ARR_REL_AGG:
			write_aggregate(x, w, k, true, row_int(table, row, 0));
			break;
		default:
			jsonw_str(w, k->owner->name);
			break;
		}
	}
	jsonw_object_close(w);
}

/* insights_groups: one object per group, its keys and its aggregates. */
static void write_groups(struct gx *x, struct jsonw *w, const struct gx_field *f)
{
	const struct gx_agg *g = f->agg;
	jsonw_array_open(w);
	for (size_t r = 0; r < g->rows.n; r++) {
		const struct q_agg_row *row = &g->rows.rows[r];
		jsonw_object_open(w);
		for (size_t i = 0; i < f->nkids; i++) {
			const struct gx_field *k = &f->kids[i];
			jsonw_key(w, k->key);
			if (k->def->kind == GF_GROUP_AGGREGATE) {
				write_agg_fields(w, k, row);
				continue;
			}
			if (k->def->kind != GF_GROUP_KEYS) {
				jsonw_str(w, k->owner->name);
				continue;
			}
			jsonw_object_open(w);
			for (size_t c = 0; c < k->nkids; c++) {
				const struct gx_field *col = &k->kids[c];
				jsonw_key(w, col->key);
				int at = -1;
				int want = col->def->kind == GF_OBJ_REL ? QI_CATEGORY_ID : col->def->column;
				for (size_t gi = 0; gi < g->q.ngroup; gi++)
					if (g->q.group_by[gi] == want)
						at = (int)gi;
				if (col->def->kind == GF_COLUMN) {
					const struct q_agg_value *v = at >= 0 ? &row->keys[at] : NULL;
					if (v && !v->null && col->def->column == QI_CATEGORY_ID)
						jsonw_int(w, v->i);
					else
						write_agg_value(w, v);
				} else if (col->def->kind == GF_OBJ_REL) {
					const struct q_rows *rows = &col->read->rows;
					int64_t id = at >= 0 && !row->keys[at].null ? row->keys[at].i : 0;
					size_t pos = id ? lower_bound(rows, QT_CATEGORIES, false, id) : rows->n;
					if (pos < rows->n && rows->rows[pos].u.category.id == id)
						gx_write_row(x, w, col->kids, col->nkids, QT_CATEGORIES,
							     &rows->rows[pos]);
					else
						jsonw_null(w);
				} else {
					jsonw_str(w, col->owner->name);
				}
			}
			jsonw_object_close(w);
		}
		jsonw_object_close(w);
	}
	jsonw_array_close(w);
}

/* Writes the value of root field `f` of query_root. */
static void write_root(struct gx *x, struct jsonw *w, const struct gx_field *f)
{
	switch (f->def->kind) {
	case GF_SELECT:
	case GF_SEARCH:
		write_rows(x, w, f, f->read, false, 0);
		return;
	case GF_BY_PK:
		if (f->read->rows.n)
			gx_write_row(x, w, f->kids, f->nkids, f->read->q.table, &f->read->rows.rows[0]);
		else
			jsonw_null(w);
		return;
	case GF_AGGREGATE:
	case GF_SEARCH_AGGREGATE:
		write_aggregate(x, w, f, false, 0);
		return;
	case GF_GROUPS:
		write_groups(x, w, f);
		return;
	case GF_SCHEMA:
	case GF_TYPE:
		gx_write_meta(x, w, f);
		return;
	default:
		jsonw_str(w, f->owner->name);
		return;
	}
}

/* ---- operations ---------------------------------------------------------------------------- */

static bool run_query(struct gx *x, struct gx_field *fields, size_t n, struct jsonw *w)
{
	for (size_t i = 0; i < n; i++) {
		gx_push(x, "selectionSet");
		gx_push(x, fields[i].ast->name);
		bool ok = fetch_root(x, &fields[i]);
		gx_pop(x);
		gx_pop(x);
		if (!ok)
			return false;
		jsonw_key(w, fields[i].key);
		write_root(x, w, &fields[i]);
	}
	return true;
}

static bool run_mutation(struct gx *x, struct gx_field *fields, size_t n, struct jsonw *w)
{
	struct error err = ERROR_INIT;
	if (svc_batch_begin(x->svc, &err) != OK)
		return store_failed(x, &err);
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		gx_push(x, "selectionSet");
		gx_push(x, fields[i].ast->name);
		jsonw_key(w, fields[i].key);
		ok = gx_run_mutation(x, &fields[i], w);
		gx_pop(x);
		gx_pop(x);
	}
	error_clear(&err);
	if (svc_batch_end(x->svc, ok, &err) != OK && ok)
		return store_failed(x, &err);
	return ok;
}

/* The operation to run: the one named, or the only one. */
static const struct gql_operation *choose(struct gx *x)
{
	const struct gql_document *d = x->doc;
	const char *name = x->rq->operation_name;
	if (name) {
		for (size_t i = 0; i < d->nops; i++)
			if (d->ops[i].name && !strcmp(d->ops[i].name, name))
				return &d->ops[i];
		gx_fail_at(x, "$", "validation-failed", "no such operation found in the document: \"%s\"",
			   name);
		return NULL;
	}
	if (d->nops == 1)
		return &d->ops[0];
	gx_fail_at(x, "$", "validation-failed",
		   d->nops ? "exactly one operation has to be present in the document when "
			     "operationName is not specified"
			   : "the document has no operation");
	return NULL;
}

static bool run(struct gx *x, struct buf *data, struct gql_outcome *outcome)
{
	struct gql_document doc;
	struct gql_pos pos;
	struct error err = ERROR_INIT;
	struct gql_limits limits = { .max_depth = 36, .max_tokens = 100000 };
	if (gql_parse(x->rq->query, x->rq->query_len, &limits, x->a, &doc, &pos, &err) != OK) {
		const char *msg = err.nproblems ? err.problems[0].msg : "not a valid graphql query";
		return gx_fail_at(x, "$.query", "parse-failed", "%s (line %u, column %u)", msg,
				  pos.line, pos.column);
	}
	x->doc = &doc;
	/* The operation's type, for the metrics, as soon as it is known. */
	for (size_t i = 0; i < doc.nops; i++) {
		const struct gql_operation *op = &doc.ops[i];
		const char *name = x->rq->operation_name;
		if (doc.nops == 1 || (name && op->name && !strcmp(op->name, name)))
			outcome->type = op->kind == GQL_MUTATION ? GQL_OP_MUTATION
					: op->kind == GQL_SUBSCRIPTION ? GQL_OP_SUBSCRIPTION
								       : GQL_OP_QUERY;
	}
	struct gql_validate_limits vl = { .max_depth = x->cfg->max_depth,
					  .max_fields = x->cfg->max_fields };
	struct gql_invalid inv;
	if (gql_validate(x->s, &doc, &vl, x->a, &inv) != OK)
		return gx_fail_at(x, inv.path, inv.code, "%s", inv.message);
	const struct gql_operation *op = choose(x);
	if (!op)
		return false;
	x->op = op;
	outcome->type = op->kind == GQL_MUTATION ? GQL_OP_MUTATION
			: op->kind == GQL_SUBSCRIPTION ? GQL_OP_SUBSCRIPTION
						       : GQL_OP_QUERY;
	if (op->kind == GQL_SUBSCRIPTION)
		return gx_fail_at(x, "$", "validation-failed", "subscriptions are not supported");
	if (op->kind == GQL_MUTATION && x->rq->read_only) {
		x->http_status = 405;
		return gx_fail_at(x, "$", "validation-failed",
				  "a mutation cannot be sent with GET: use POST");
	}
	if (!gx_variables(x))
		return false;
	const struct gql_type *root = op->kind == GQL_MUTATION ? x->s->mutation : x->s->query;
	struct gx_field *fields;
	size_t n;
	const struct gql_selection_set *sets[] = { op->set };
	if (!gx_collect(x, root, sets, 1, &fields, &n))
		return false;
	for (size_t i = 0; x->cfg->allowed && i < n; i++) {
		const char *kind = op->kind == GQL_MUTATION ? "mutation" : "query";
		enum gql_field_kind fk = fields[i].def->kind;
		if (fk == GF_SCHEMA || fk == GF_TYPE || fk == GF_META)
			continue; /* the schema is no one's data */
		if (!x->cfg->allowed(kind, fields[i].def->name)) {
			gx_push(x, "selectionSet");
			gx_push(x, fields[i].ast->name);
			return gx_fail(x, "permission-error", "no permission to run %s field '%s'",
				       kind, fields[i].def->name);
		}
	}
	x->schema_only = op->kind == GQL_QUERY;
	for (size_t i = 0; i < n; i++)
		x->schema_only &= fields[i].def->kind == GF_SCHEMA || fields[i].def->kind == GF_TYPE ||
				  fields[i].def->kind == GF_META;
	struct jsonw w;
	jsonw_init(&w, data);
	jsonw_object_open(&w);
	jsonw_key(&w, "data");
	jsonw_object_open(&w);
	bool ok = op->kind == GQL_MUTATION ? run_mutation(x, fields, n, &w)
					   : run_query(x, fields, n, &w);
	if (!ok)
		return false;
	jsonw_object_close(&w);
	jsonw_object_close(&w);
	return true;
}

/*
 * Answers to requests that read the schema only (introspection: GraphiQL,
 * code generators and graphql-js ask the same large query again and
 * again), by the request's text: the schema never changes while the
 * process runs, so neither do they. A few, replaced in turn.
 */
#define SCHEMA_ANSWERS 8
#define SCHEMA_ANSWER_MAX (1u << 20)

static struct schema_answer {
	char *key;
	size_t keylen;
	char *answer;
	size_t len;
} schema_answers[SCHEMA_ANSWERS];
static unsigned schema_answers_next;
static pthread_mutex_t schema_answers_lock = PTHREAD_MUTEX_INITIALIZER;

/* The key of a request: its operation name, its variables, its query. */
static void request_key(const struct gql_request *rq, struct buf *key)
{
	buf_addf(key, "%zu:%s", rq->operation_name ? strlen(rq->operation_name) : 0,
		 rq->operation_name ? rq->operation_name : "");
	const char *vars = rq->variables ? json_object_to_json_string_ext(rq->variables,
									   JSON_C_TO_STRING_PLAIN) : "";
	buf_addf(key, "%zu:%s", strlen(vars), vars);
	buf_add(key, rq->query, rq->query_len);
}

static bool schema_answer_find(const struct buf *key, struct buf *out)
{
	bool found = false;
	pthread_mutex_lock(&schema_answers_lock);
	for (size_t i = 0; i < SCHEMA_ANSWERS && !found; i++) {
		struct schema_answer *e = &schema_answers[i];
		if (e->key && e->keylen == key->len && !memcmp(e->key, key->data, key->len)) {
			buf_add(out, e->answer, e->len);
			found = true;
		}
	}
	pthread_mutex_unlock(&schema_answers_lock);
	return found;
}

static void schema_answer_keep(const struct buf *key, const char *answer, size_t len)
{
	if (len > SCHEMA_ANSWER_MAX || key->len > SCHEMA_ANSWER_MAX)
		return;
	char *k = xmalloc(key->len), *v = xmalloc(len);
	memcpy(k, key->data, key->len);
	memcpy(v, answer, len);
	pthread_mutex_lock(&schema_answers_lock);
	struct schema_answer *e = &schema_answers[schema_answers_next++ % SCHEMA_ANSWERS];
	free(e->key);
	free(e->answer);
	*e = (struct schema_answer){ .key = k, .keylen = key->len, .answer = v, .len = len };
	pthread_mutex_unlock(&schema_answers_lock);
}

void gql_execute(struct service *svc, const struct gql_config *cfg,
		 const struct gql_request *rq, struct arena *a, struct buf *out,
		 struct gql_outcome *outcome)
{
	struct gx x = { .svc = svc, .cfg = cfg, .s = gql_schema(), .a = a, .rq = rq,
			.http_status = 200 };
	memset(outcome, 0, sizeof(*outcome));
	size_t start = out->len;
	struct buf key = BUF_INIT;
	request_key(rq, &key);
	if (schema_answer_find(&key, out)) {
		buf_release(&key);
		*outcome = (struct gql_outcome){ .type = GQL_OP_QUERY, .ok = true, .http_status = 200 };
		return;
	}
	if (run(&x, out, outcome)) {
		if (x.schema_only)
			schema_answer_keep(&key, out->data + start, out->len - start);
		buf_release(&key);
		outcome->ok = true;
		outcome->http_status = 200;
		return;
	}
	buf_release(&key);
	buf_truncate(out, start);
	gql_error_answer(out, x.err_code ? x.err_code : "unexpected", x.err_path ? x.err_path : "$",
			 x.err_msg ? x.err_msg : "the request failed");
	outcome->http_status = x.http_status;
}
