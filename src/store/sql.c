/*
 * sql.c: the compiler of sql.h, from core/query.h's intermediate form to
 * the SQL both drivers run.
 *
 * A select is built in two layers. The inner one selects the table's
 * columns (those not asked for as NULL), the parent's id for a
 * relationship, and the sort keys, filtered by the where tree; the outer
 * one, needed only for a page per parent or for distinct_on, numbers the
 * rows with ROW_NUMBER() and keeps those in the page. Table aliases are t0
 * for the table and aN for the tables of nested conditions, numbered as they
 * are made; no name in the SQL comes from a request.
 */
#include "store/sql.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "lib/banned.h"

/* ---- the tables as SQL names them ------------------------------------------ */

static const char *const sql_tables[QT__COUNT] = {
	[QT_INSIGHTS] = "insights",
	[QT_TAGS] = "tags",
	[QT_CATEGORIES] = "categories",
};

/* Columns of each table, in the decoder's order (store/common.h). */
static const char *const sql_insight_cols[QI__COUNT] = {
	"id", "title", "description", "content", "source", "author", "category_id",
	"priority", "status", "created_at", "updated_at", "published_at", "revision",
	"review_by", "owner", "reviewed_at",
};
static const char *const sql_tag_cols[QG__COUNT] = {
	"id", "name", "slug", "description", "color", "created_at", "usage_count",
};
static const char *const sql_category_cols[QC__COUNT] = {
	"id", "name", "slug", "description", "parent_id", "color", "icon", "created_at",
	"updated_at", NULL /* insight_count: computed */,
};
static const char *const *const sql_cols[QT__COUNT] = {
	[QT_INSIGHTS] = sql_insight_cols,
	[QT_TAGS] = sql_tag_cols,
	[QT_CATEGORIES] = sql_category_cols,
};

/*
 * An insight row has its category's 9 columns after its own (the point
 * reads' shape); a select leaves them NULL.
 */
size_t sql_row_width(enum q_table table)
{
	return table == QT_INSIGHTS ? QI__COUNT + 9 : q_ncolumns[table];
}

/* ---- building ------------------------------------------------------------------ */

void sql_init(struct sql *q, const struct sql_dialect *d, struct arena *a)
{
	memset(q, 0, sizeof(*q));
	q->d = d;
	q->a = a;
}

void sql_release(struct sql *q)
{
	buf_release(&q->text);
	free(q->params);
	q->params = NULL;
	q->nparams = q->cap = 0;
}

int sql_param(struct sql *q, struct sql_param p)
{
	if (q->nparams == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 16;
		q->params = xrealloc(q->params, q->cap * sizeof(*q->params));
	}
	q->params[q->nparams++] = p;
	return (int)q->nparams;
}

static void sql_add(struct sql *q, const char *s)
{
	buf_adds(&q->text, s);
}

/* Adds a value as a parameter and its placeholder. */
static void sql_value(struct sql *q, const struct q_value *v)
{
	int n = sql_param(q, (struct sql_param){ .type = v->type, .i = v->i, .f = v->f, .s = v->s });
	q->d->placeholder(&q->text, n);
	if (v->type == QTY_TIMESTAMP && q->d->timestamp_cast)
		sql_add(q, q->d->timestamp_cast);
}

/* The SQL of column `col` of `table` under alias `alias`, into `b`. */
static void sql_column(struct buf *b, enum q_table table, int col, const char *alias)
{
	if (table == QT_CATEGORIES && col == QC_INSIGHT_COUNT) {
		buf_addf(b, "(SELECT coalesce(sum(k.n), 0) FROM insight_counts k"
			    " WHERE k.category_id = %s.id)", alias);
		return;
	}
	buf_addf(b, "%s.%s", alias, sql_cols[table][col]);
}

static char *sql_alias(struct sql *q)
{
	char name[16];
	snprintf(name, sizeof(name), "a%u", ++q->aliases);
	return arena_strdup(q->a, name);
}

/* ---- conditions ----------------------------------------------------------------- */

static void sql_expr(struct sql *q, enum q_table table, const char *alias,
		     const struct q_expr *e);

static void sql_cmp(struct sql *q, enum q_table table, const char *alias, const struct q_expr *e)
{
	struct buf col = BUF_INIT;
	sql_column(&col, table, e->column, alias);
	static const char *const ops[] = {
		[QOP_EQ] = " = ", [QOP_NEQ] = " <> ", [QOP_GT] = " > ", [QOP_GTE] = " >= ",
		[QOP_LT] = " < ", [QOP_LTE] = " <= ",
	};
	switch (e->op) {
	case QOP_EQ:
	case QOP_NEQ:
	case QOP_GT:
	case QOP_GTE:
	case QOP_LT:
	case QOP_LTE:
		sql_add(q, col.data);
		sql_add(q, ops[e->op]);
		sql_value(q, &e->values[0]);
		break;
	case QOP_IN:
	case QOP_NIN:
		if (!e->nvalues) {
			sql_add(q, e->op == QOP_IN ? "1 = 0" : "1 = 1");
			break;
		}
		if (e->op == QOP_NIN)
			sql_add(q, "NOT ");
		q->d->in_list(q, col.data, q_columns[table][e->column].type, e->values, e->nvalues);
		break;
	case QOP_IS_NULL:
		buf_addf(&q->text, "%s IS %sNULL", col.data, e->is_null ? "" : "NOT ");
		break;
	case QOP_LIKE:
	case QOP_NLIKE:
	case QOP_ILIKE:
	case QOP_NILIKE: {
		bool negated = e->op == QOP_NLIKE || e->op == QOP_NILIKE;
		bool insensitive = e->op == QOP_ILIKE || e->op == QOP_NILIKE;
		sql_add(q, "(");
		if (!negated && q->d->like_prefilter &&
		    q->d->like_prefilter(q, table, e->column, alias, e->values[0].s))
			sql_add(q, " AND ");
		int n = sql_param(q, (struct sql_param){ .type = QTY_TEXT, .s = e->values[0].s });
		q->d->like(&q->text, col.data, n, insensitive, negated);
		sql_add(q, ")");
		break;
	}
	}
	buf_release(&col);
}

/*
 * EXISTS over the rows of relationship `rel` of the row `alias` (of the
 * relationship's `from` table), for which `sub` holds.
 */
static void sql_rel_exists(struct sql *q, enum q_rel rel, const char *alias, const struct q_expr *sub)
{
	const struct q_rel_info *r = &q_rels[rel];
	char *to = sql_alias(q);
	bool in = false;
	switch (rel) {
	case QR_INSIGHT_CATEGORY:
	case QR_CATEGORY_PARENT:
		/*
		 * The one related row, by key: whether the key is among the
		 * ids for which `sub` holds, a list the database builds once,
		 * instead of a lookup of the related row for every row tested
		 * (a page of one category's insights tested a few hundred). IS
		 * TRUE keeps EXISTS's answer for a NULL key: false, and true
		 * under a negation.
		 */
		buf_addf(&q->text, "(%s.%s IN (SELECT %s.id FROM %s %s WHERE true", alias,
			 sql_cols[r->from][r->key], to, sql_tables[r->to], to);
		in = true;
		break;
	case QR_INSIGHT_TAGS:
		buf_addf(&q->text, "EXISTS (SELECT 1 FROM insight_tags l%s JOIN tags %s ON %s.id = l%s.tag_id"
				   " WHERE l%s.insight_id = %s.id", to, to, to, to, to, alias);
		break;
	case QR_TAG_INSIGHTS:
		buf_addf(&q->text, "EXISTS (SELECT 1 FROM insight_tags l%s JOIN insights %s"
				   " ON %s.id = l%s.insight_id WHERE l%s.tag_id = %s.id",
			 to, to, to, to, to, alias);
		break;
	case QR_CATEGORY_CHILDREN:
		buf_addf(&q->text, "EXISTS (SELECT 1 FROM categories %s WHERE %s.parent_id = %s.id", to, to,
			 alias);
		break;
	case QR_CATEGORY_INSIGHTS:
		buf_addf(&q->text, "EXISTS (SELECT 1 FROM insights %s WHERE %s.category_id = %s.id", to, to,
			 alias);
		break;
	case QR__COUNT:
		assert(!"a relationship");
	}
	if (sub) {
		sql_add(q, " AND ");
		sql_expr(q, r->to, to, sub);
	}
	sql_add(q, in ? ")) IS TRUE" : ")");
}

static void sql_expr(struct sql *q, enum q_table table, const char *alias, const struct q_expr *e)
{
	switch (e->kind) {
	case QX_TRUE:
		sql_add(q, "1 = 1");
		return;
	case QX_FALSE:
		sql_add(q, "1 = 0");
		return;
	case QX_AND:
	case QX_OR:
		if (!e->nkids) {
			sql_add(q, e->kind == QX_AND ? "1 = 1" : "1 = 0");
			return;
		}
		sql_add(q, "(");
		for (size_t i = 0; i < e->nkids; i++) {
			if (i)
				sql_add(q, e->kind == QX_AND ? " AND " : " OR ");
			sql_expr(q, table, alias, e->kids[i]);
		}
		sql_add(q, ")");
		return;
	case QX_NOT:
		sql_add(q, "NOT (");
		sql_expr(q, table, alias, e->kids[0]);
		sql_add(q, ")");
		return;
	case QX_CMP:
		sql_cmp(q, table, alias, e);
		return;
	case QX_REL:
		sql_rel_exists(q, e->rel, alias, e->sub);
		return;
	}
}

/* ---- selects ---------------------------------------------------------------------- */

/* The sort key of `o` for rows of `table` under alias t0. */
static void sql_order_key(struct sql *q, enum q_table table, const struct q_order *o)
{
	const struct q_rel_info *r = &q_rels[o->rel];
	switch (o->kind) {
	case QO_COLUMN:
		sql_column(&q->text, table, o->column, "t0");
		return;
	case QO_REL_COLUMN: {
		char *to = sql_alias(q);
		sql_add(q, "(SELECT ");
		sql_column(&q->text, r->to, o->column, to);
		buf_addf(&q->text, " FROM %s %s WHERE %s.id = t0.%s)", sql_tables[r->to], to, to,
			 sql_cols[r->from][r->key]);
		return;
	}
	case QO_REL_COUNT:
		switch (o->rel) {
		case QR_INSIGHT_TAGS:
			sql_add(q, "(SELECT count(*) FROM insight_tags x WHERE x.insight_id = t0.id)");
			return;
		case QR_TAG_INSIGHTS:
			sql_add(q, "(SELECT count(*) FROM insight_tags x WHERE x.tag_id = t0.id)");
			return;
		case QR_CATEGORY_CHILDREN:
			sql_add(q, "(SELECT count(*) FROM categories x WHERE x.parent_id = t0.id)");
			return;
		case QR_CATEGORY_INSIGHTS:
			sql_add(q, "(SELECT count(*) FROM insights x WHERE x.category_id = t0.id)");
			return;
		default:
			assert(!"an array relationship");
			sql_add(q, "0");
			return;
		}
	}
}

/* " ASC NULLS LAST" and the like. */
static void sql_direction(struct sql *q, const struct q_order *o)
{
	sql_add(q, o->desc ? " DESC" : " ASC");
	sql_add(q, o->nulls_first ? " NULLS FIRST" : " NULLS LAST");
}

/*
 * The inner select: the table's columns as c0.., the parent as q_parent,
 * the sort keys as k0.., and the search rank as q_rank (when `ranked`);
 * FROM and WHERE. `columns`: which columns to select (the others are NULL).
 */
static void sql_inner(struct sql *q, const struct q_select *s, uint64_t columns, int search_param,
		      bool ranked)
{
	enum q_table t = s->table;
	sql_add(q, "SELECT ");
	for (size_t c = 0; c < q_ncolumns[t]; c++) {
		if (c)
			sql_add(q, ", ");
		if (c == 0 || (columns & (1ull << c)))
			sql_column(&q->text, t, (int)c, "t0");
		else
			sql_add(q, "NULL");
		buf_addf(&q->text, " AS c%zu", c);
	}
	if (t == QT_INSIGHTS) /* the embedded category's columns of the point-read shape */
		for (int c = 0; c < 9; c++)
			buf_addf(&q->text, ", NULL AS e%d", c);
	if (s->has_via) {
		switch (s->via) {
		case QR_INSIGHT_TAGS:
			sql_add(q, ", l.insight_id AS q_parent");
			break;
		case QR_TAG_INSIGHTS:
			sql_add(q, ", l.tag_id AS q_parent");
			break;
		case QR_CATEGORY_CHILDREN:
			sql_add(q, ", t0.parent_id AS q_parent");
			break;
		case QR_CATEGORY_INSIGHTS:
			sql_add(q, ", t0.category_id AS q_parent");
			break;
		default:
			assert(!"an array relationship");
		}
	}
	for (size_t i = 0; i < s->norder; i++) {
		sql_add(q, ", ");
		sql_order_key(q, t, &s->order[i]);
		buf_addf(&q->text, " AS k%zu", i);
	}
	if (ranked) {
		sql_add(q, ", ");
		q->d->search_rank(&q->text, "t0", search_param);
		sql_add(q, " AS q_rank");
	}
	buf_addf(&q->text, " FROM %s t0", sql_tables[t]);
	if (search_param && q->d->search_join)
		q->d->search_join(&q->text, "t0", search_param, ranked);
	if (s->has_via && (s->via == QR_INSIGHT_TAGS || s->via == QR_TAG_INSIGHTS))
		buf_addf(&q->text, " JOIN insight_tags l ON l.%s = t0.id",
			 s->via == QR_INSIGHT_TAGS ? "tag_id" : "insight_id");
	sql_add(q, " WHERE 1 = 1");
	if (s->has_via) {
		static const char *const parent_col[QR__COUNT] = {
			[QR_INSIGHT_TAGS] = "l.insight_id", [QR_TAG_INSIGHTS] = "l.tag_id",
			[QR_CATEGORY_CHILDREN] = "t0.parent_id", [QR_CATEGORY_INSIGHTS] = "t0.category_id",
		};
		struct q_value *ids = arena_alloc(q->a, sizeof(*ids) * (s->nparents ? s->nparents : 1));
		for (size_t i = 0; i < s->nparents; i++)
			ids[i] = (struct q_value){ .type = QTY_INT, .i = s->parents[i] };
		sql_add(q, " AND ");
		if (s->nparents)
			q->d->in_list(q, parent_col[s->via], QTY_INT, ids, s->nparents);
		else
			sql_add(q, "1 = 0");
	}
	if (search_param && !q->d->search_join) {
		sql_add(q, " AND ");
		q->d->search_match(&q->text, "t0", search_param);
	}
	if (s->where) {
		sql_add(q, " AND ");
		sql_expr(q, t, "t0", s->where);
	}
}

/*
 * The ORDER BY list over the inner select's aliases: keys, rank, then id,
 * in the direction of the first key (so that created_at DESC, id DESC reads
 * an index in one direction, and lists newest first as REST does; a search
 * without an order breaks ties newest first too, as REST's does).
 */
static void sql_order_list(struct sql *q, const struct q_select *s, bool ranked, const char *prefix)
{
	for (size_t i = 0; i < s->norder; i++) {
		buf_addf(&q->text, "%s%sk%zu", i ? ", " : "", prefix, i);
		sql_direction(q, &s->order[i]);
	}
	if (ranked && !s->norder)
		buf_addf(&q->text, "%sq_rank", prefix);
	bool desc = s->norder ? s->order[0].desc : ranked;
	buf_addf(&q->text, "%s%sc0 %s", s->norder || ranked ? ", " : "", prefix, desc ? "DESC" : "ASC");
}

/*
 * A select (or the rows an aggregate reads, with every column): an inner
 * select, then the page, per parent or in all, and distinct_on. Rows that
 * only an aggregate reads (`ordered` false) are in no order unless a page
 * or distinct_on picks them by it: a search then matches without ranking.
 */
static void sql_rows(struct sql *q, const struct q_select *s, uint64_t columns, bool ordered)
{
	int search_param = 0;
	if (s->search) {
		struct sql_param p;
		if (!q->d->search_text(q, s->search, &p)) {
			q->empty = true;
			p = (struct sql_param){ .type = QTY_TEXT, .s = "" };
		}
		search_param = sql_param(q, p);
	}
	/* distinct_on partitions by its columns: they must be read. */
	for (size_t i = 0; i < s->ndistinct; i++)
		columns |= 1ull << s->distinct_on[i];
	bool paged = s->limit >= 0 || s->offset > 0;
	bool per_parent = s->has_via && paged;
	bool windowed = per_parent || s->ndistinct;
	ordered = ordered || paged || windowed;
	bool ranked = search_param != 0 && ordered;
	if (!windowed) {
		sql_inner(q, s, columns, search_param, ranked);
		if (!ordered)
			return;
		sql_add(q, " ORDER BY ");
		if (s->has_via)
			sql_add(q, "q_parent, ");
		/* The inner select's aliases are visible in its own ORDER BY. */
		sql_order_list(q, s, ranked, "");
		if (s->limit >= 0 || s->offset > 0) {
			/* Without a limit, OFFSET still needs one (in SQLite's grammar). */
			sql_add(q, " LIMIT ");
			q->d->placeholder(&q->text, sql_param(q, (struct sql_param){
				.type = QTY_INT, .i = s->limit >= 0 ? s->limit : INT64_MAX }));
		}
		if (s->offset > 0) {
			sql_add(q, " OFFSET ");
			q->d->placeholder(&q->text, sql_param(q, (struct sql_param){ .type = QTY_INT,
										     .i = s->offset }));
		}
		return;
	}
	/*
	 * Windows: distinct_on keeps the first row of each combination (in the
	 * order asked), then the page is numbered per parent (or in all).
	 */
	sql_add(q, "SELECT ");
	for (size_t c = 0; c < q_ncolumns[s->table]; c++)
		buf_addf(&q->text, "%sw.c%zu", c ? ", " : "", c);
	if (s->table == QT_INSIGHTS)
		for (int c = 0; c < 9; c++)
			buf_addf(&q->text, ", w.e%d", c);
	if (s->has_via)
		sql_add(q, ", w.q_parent");
	sql_add(q, " FROM (SELECT d.*, ROW_NUMBER() OVER (");
	if (s->has_via)
		sql_add(q, "PARTITION BY d.q_parent ");
	sql_add(q, "ORDER BY ");
	sql_order_list(q, s, ranked, "d.");
	sql_add(q, ") AS q_page FROM (SELECT i.*");
	if (s->ndistinct) {
		sql_add(q, ", ROW_NUMBER() OVER (PARTITION BY ");
		if (s->has_via)
			sql_add(q, "i.q_parent, ");
		for (size_t i = 0; i < s->ndistinct; i++)
			buf_addf(&q->text, "%si.c%d", i ? ", " : "", s->distinct_on[i]);
		sql_add(q, " ORDER BY ");
		sql_order_list(q, s, ranked, "i.");
		sql_add(q, ") AS q_first");
	}
	sql_add(q, " FROM (");
	sql_inner(q, s, columns, search_param, ranked);
	sql_add(q, ") i) d");
	if (s->ndistinct)
		sql_add(q, " WHERE d.q_first = 1");
	sql_add(q, ") w WHERE 1 = 1");
	if (s->offset > 0) {
		sql_add(q, " AND w.q_page > ");
		q->d->placeholder(&q->text, sql_param(q, (struct sql_param){ .type = QTY_INT,
									    .i = s->offset }));
	}
	if (s->limit >= 0) {
		sql_add(q, " AND w.q_page <= ");
		q->d->placeholder(&q->text, sql_param(q, (struct sql_param){ .type = QTY_INT,
									    .i = s->offset + s->limit }));
	}
	sql_add(q, " ORDER BY ");
	if (s->has_via)
		sql_add(q, "w.q_parent, ");
	sql_add(q, "w.q_page");
}

void sql_select(struct sql *q, const struct q_select *s)
{
	sql_rows(q, s, s->columns, true);
}

/* The result type of an aggregate of a column of `type`. */
static const char *const agg_fns[] = {
	[QA_COUNT] = "count(*)", [QA_COUNT_COLUMN] = "count", [QA_COUNT_DISTINCT] = "count",
	[QA_SUM] = "sum", [QA_AVG] = "avg", [QA_MAX] = "max", [QA_MIN] = "min",
};

void sql_aggregate(struct sql *q, const struct q_aggregate *agg)
{
	const struct q_select *s = &agg->select;
	sql_add(q, "SELECT ");
	bool first = true;
	if (s->has_via) {
		sql_add(q, "r.q_parent");
		first = false;
	}
	for (size_t i = 0; i < agg->ngroup; i++) {
		buf_addf(&q->text, "%sr.c%d", first ? "" : ", ", agg->group_by[i]);
		first = false;
	}
	for (size_t i = 0; i < agg->naggs; i++) {
		const struct q_agg *a = &agg->aggs[i];
		sql_add(q, first ? "" : ", ");
		first = false;
		if (a->fn == QA_COUNT)
			sql_add(q, "count(*)");
		else
			buf_addf(&q->text, "%s(%sr.c%d)", agg_fns[a->fn],
				 a->fn == QA_COUNT_DISTINCT ? "DISTINCT " : "", a->column);
	}
	if (first)
		sql_add(q, "count(*)");
	/* The rows read only the columns the aggregates and the groups need. */
	uint64_t needed = 0;
	for (size_t i = 0; i < agg->naggs; i++)
		if (agg->aggs[i].fn != QA_COUNT)
			needed |= 1ull << agg->aggs[i].column;
	for (size_t i = 0; i < agg->ngroup; i++)
		needed |= 1ull << agg->group_by[i];
	sql_add(q, " FROM (");
	sql_rows(q, s, needed, false);
	sql_add(q, ") r");
	if (s->has_via || agg->ngroup) {
		sql_add(q, " GROUP BY ");
		first = true;
		if (s->has_via) {
			sql_add(q, "r.q_parent");
			first = false;
		}
		for (size_t i = 0; i < agg->ngroup; i++) {
			buf_addf(&q->text, "%sr.c%d", first ? "" : ", ", agg->group_by[i]);
			first = false;
		}
		sql_add(q, " ORDER BY ");
		first = true;
		if (s->has_via) {
			sql_add(q, "r.q_parent");
			first = false;
		}
		for (size_t i = 0; i < agg->ngroup; i++) {
			buf_addf(&q->text, "%sr.c%d ASC NULLS FIRST", first ? "" : ", ", agg->group_by[i]);
			first = false;
		}
	}
}

bool sql_trigram_worthy(const char *pattern)
{
	size_t run = 0, best = 0;
	for (const unsigned char *p = (const unsigned char *)pattern; *p; p++) {
		if (*p >= 0x80 || *p == '\\')
			return false;
		if (*p == '%' || *p == '_') {
			run = 0;
			continue;
		}
		if (++run > best)
			best = run;
	}
	return best >= 3;
}
