/*
 * query.c: the PostgreSQL driver's reads of core/query.h (selects and
 * aggregates, compiled by store/sql.c with this driver's dialect): lists
 * of values as arrays, ILIKE (which folds case with the database's C.UTF-8
 * tables, as SQLite's insights_like() does with the C library's), the
 * full-text search of the schema's insights_fts_query().
 */
#include "store/pg/pg.h"

#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "lib/banned.h"

static void pg_placeholder(struct buf *b, int n)
{
	buf_addf(b, "$%d", n);
}

/* A list of values as one array parameter: "{1,2}" or {"a","b\"c"}. */
static void pg_in_list(struct sql *q, const char *expr, enum q_type type,
		       const struct q_value *values, size_t n)
{
	struct buf arr = BUF_INIT;
	buf_addch(&arr, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addch(&arr, ',');
		if (type == QTY_INT) {
			buf_addf(&arr, "%lld", (long long)values[i].i);
			continue;
		}
		buf_addch(&arr, '"');
		for (const char *c = values[i].s; *c; c++) {
			if (*c == '"' || *c == '\\')
				buf_addch(&arr, '\\');
			buf_addch(&arr, *c);
		}
		buf_addch(&arr, '"');
	}
	buf_addch(&arr, '}');
	int p = sql_param(q, (struct sql_param){ .type = QTY_TEXT,
						 .s = arena_strndup(q->a, arr.data, arr.len) });
	buf_release(&arr);
	static const char *const casts[] = {
		[QTY_INT] = "bigint[]", [QTY_TEXT] = "text[]", [QTY_TIMESTAMP] = "timestamp[]",
		[QTY_FLOAT] = "float8[]",
	};
	buf_addf(&q->text, "%s = ANY($%d::%s)", expr, p, casts[type]);
}

static void pg_like(struct buf *b, const char *expr, int n, bool insensitive, bool negated)
{
	buf_addf(b, "%s %s%s $%d", expr, negated ? "NOT " : "", insensitive ? "ILIKE" : "LIKE", n);
}

static void pg_search_match(struct buf *b, const char *alias, int n)
{
	buf_addf(b, "%s.search @@ insights_fts_query($%d)", alias, n);
}

static void pg_search_rank(struct buf *b, const char *alias, int n)
{
	/* Negated: the best first in ascending order, as SQLite's bm25(). */
	buf_addf(b, "-ts_rank(" PG_RANK_WEIGHTS ", %s.search, insights_fts_query($%d))", alias, n);
}

static bool pg_search_text(struct sql *q, const char *text, struct sql_param *out)
{
	(void)q;
	struct insight_filter f = { .text = text };
	*out = (struct sql_param){ .type = QTY_TEXT, .s = text };
	return store_has_text(&f);
}

static const struct sql_dialect pg_dialect = {
	.placeholder = pg_placeholder,
	.in_list = pg_in_list,
	.like = pg_like,
	.search_match = pg_search_match,
	.search_rank = pg_search_rank,
	.search_text = pg_search_text,
	.like_prefilter = NULL, /* the pg_trgm indexes serve LIKE and ILIKE themselves */
	.timestamp_cast = "::timestamp",
};

/* The compiled statement's parameters, as text. */
static void pg_sql_params(const struct sql *q, struct pg_params *p, struct arena *a,
			  const char ***big)
{
	*big = NULL;
	p->n = (int)q->nparams;
	const char **v = p->v;
	if (q->nparams > PG_MAX_PARAMS) {
		*big = ARENA_NEW_ARRAY(a, const char *, q->nparams);
		v = *big;
	}
	for (size_t i = 0; i < q->nparams; i++) {
		const struct sql_param *sp = &q->params[i];
		char num[32];
		switch (sp->type) {
		case QTY_INT:
			snprintf(num, sizeof(num), "%lld", (long long)sp->i);
			v[i] = arena_strdup(a, num);
			break;
		case QTY_FLOAT:
			snprintf(num, sizeof(num), "%.17g", sp->f);
			v[i] = arena_strdup(a, num);
			break;
		case QTY_TEXT:
		case QTY_TIMESTAMP:
			v[i] = sp->s;
			break;
		}
	}
}

/* Runs compiled SQL with its parameters; *out receives the result. */
static enum status pg_run_sql(struct pg_conn *c, const struct sql *q, struct arena *a,
			      PGresult **out, struct error *err)
{
	struct pg_params p = { 0 };
	const char **big;
	pg_sql_params(q, &p, a, &big);
	if (!big)
		return pg_q_built(c, q->text.data, &p, out, err);
	return pg_finish(c, PQsendQueryParams(c->db, q->text.data, (int)q->nparams, NULL, big, NULL,
					      NULL, 0), out, err);
}

static enum status pg_body_select(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	const struct q_select *sel = op->select;
	struct q_rows *out = op->out;
	memset(out, 0, sizeof(*out));
	struct sql q;
	sql_init(&q, &pg_dialect, op->a);
	sql_select(&q, sel);
	if (q.empty) {
		sql_release(&q);
		return OK;
	}
	PGresult *r;
	enum status rc = pg_run_sql(c, &q, op->a, &r, err);
	sql_release(&q);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	size_t width = sql_row_width(sel->table);
	out->rows = ARENA_NEW_ARRAY(op->a, struct q_row, (size_t)(rows ? rows : 1));
	for (int i = 0; i < rows; i++) {
		struct store_row row = pg_row(r, i);
		struct q_row *qr = &out->rows[out->n++];
		switch (sel->table) {
		case QT_INSIGHTS:
			store_read_insight(&row, 0, op->a, &qr->u.insight);
			break;
		case QT_TAGS:
			store_read_tag(&row, 0, op->a, &qr->u.tag);
			break;
		case QT_CATEGORIES:
			store_read_category(&row, 0, true, op->a, &qr->u.category);
			break;
		case QT__COUNT:
			break;
		}
		qr->parent = sel->has_via ? pg_col_int(r, i, (int)width) : 0;
	}
	PQclear(r);
	return OK;
}

enum status pg_select(struct store *st, struct arena *a, const struct q_select *q,
		      struct q_rows *out, struct error *err)
{
	struct pg_op op = { .a = a, .select = q, .out = out };
	if (q->search)
		return pg_run_search(pg_of(st), pg_body_select, &op, err);
	return pg_run(pg_of(st), PG_RUN_READ, pg_body_select, &op, err);
}

/* An aggregate's value of `type` at column `col`. */
static void pg_agg_value(const PGresult *r, int row, int col, enum q_type type, struct arena *a,
			 struct q_agg_value *v)
{
	v->type = type;
	v->null = PQgetisnull(r, row, col);
	if (v->null)
		return;
	switch (type) {
	case QTY_INT:
		v->i = pg_col_int(r, row, col);
		break;
	case QTY_FLOAT:
		v->f = strtod(PQgetvalue(r, row, col), NULL);
		break;
	case QTY_TEXT:
		v->s = pg_col_text(r, row, col, a);
		break;
	case QTY_TIMESTAMP: {
		char ts[TS_SIZE];
		struct store_row sr = pg_row(r, row);
		store_read_ts(&sr, col, ts);
		v->s = arena_strdup(a, ts);
		break;
	}
	}
}

static enum status pg_body_aggregate(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	const struct q_aggregate *agg = op->aggregate;
	struct q_agg_rows *out = op->out;
	memset(out, 0, sizeof(*out));
	struct sql q;
	sql_init(&q, &pg_dialect, op->a);
	sql_aggregate(&q, agg);
	PGresult *r;
	enum status rc = pg_run_sql(c, &q, op->a, &r, err);
	sql_release(&q);
	if (rc)
		return rc;
	enum q_table table = agg->select.table;
	int rows = PQntuples(r);
	out->rows = ARENA_NEW_ARRAY(op->a, struct q_agg_row, (size_t)(rows ? rows : 1));
	for (int i = 0; i < rows; i++) {
		struct q_agg_row *qr = &out->rows[out->n++];
		int col = 0;
		qr->parent = agg->select.has_via ? pg_col_int(r, i, col++) : 0;
		qr->keys = ARENA_NEW_ARRAY(op->a, struct q_agg_value, agg->ngroup ? agg->ngroup : 1);
		qr->values = ARENA_NEW_ARRAY(op->a, struct q_agg_value, agg->naggs ? agg->naggs : 1);
		for (size_t k = 0; k < agg->ngroup; k++)
			pg_agg_value(r, i, col++, q_columns[table][agg->group_by[k]].type, op->a,
				     &qr->keys[k]);
		for (size_t k = 0; k < agg->naggs; k++)
			pg_agg_value(r, i, col++, store_agg_type(table, &agg->aggs[k]), op->a,
				     &qr->values[k]);
	}
	PQclear(r);
	return OK;
}

enum status pg_aggregate(struct store *st, struct arena *a, const struct q_aggregate *q,
			 struct q_agg_rows *out, struct error *err)
{
	struct pg_op op = { .a = a, .aggregate = q, .out = out };
	if (q->select.search)
		return pg_run_search(pg_of(st), pg_body_aggregate, &op, err);
	return pg_run(pg_of(st), PG_RUN_READ, pg_body_aggregate, &op, err);
}
