/*
 * plan.c: from an operation's selection sets to what the executor reads.
 * Fields are collected per response key as the specification's
 * CollectFields does (fragments expanded, @skip and @include applied,
 * fields of one key merged); each field that reads rows gets its read in
 * core/query.h's form: the where tree, the ordering, the page, the columns
 * its sub-fields need. Identifiers come from the schema (core/query.h's
 * tables), values from the request only as q_values: nothing a client wrote
 * becomes SQL text.
 *
 * Runtime rules that graphql-js's validation leaves open are enforced here
 * with Hasura v2's behaviour: a null operand of a comparison is an error
 * (v1 read it as true), `limit` has a ceiling, a list without `limit`
 * answers at most that many rows (as a Hasura role's row limit does).
 */
#include "graphql/gx.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/model.h"
#include "graphql/validate.h"
#include "lib/banned.h"

/* Selection sets nested deeper than this are refused whatever the limits (the JSON writer's depth). */
#define GX_TOTAL_DEPTH 36

/* ---- values of comparisons --------------------------------------------------------- */

/* "2024-01-15T10:30:00Z" for `t`, the stores' format (4-digit years). */
static const char *format_ts(struct gx *x, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char out[64];
	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
		return NULL;
	snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return arena_strdup(x->a, out);
}

/*
 * The q_value of literal `v` for a column of type `type`. For a timestamp
 * with a fraction of a second (stored times have none), *round_up says to
 * use the next second: set it to decide; *fraction reports there was one.
 */
static bool cmp_value(struct gx *x, enum q_type type, const struct gql_value *v, bool round_up,
		      struct q_value *out, bool *fraction)
{
	*fraction = false;
	out->type = type;
	switch (type) {
	case QTY_INT:
		if (gx_int(v, &out->i))
			return true;
		break;
	case QTY_FLOAT:
		if (v->kind == GQL_INT || v->kind == GQL_FLOAT) {
			out->f = strtod(v->text, NULL);
			return true;
		}
		break;
	case QTY_TEXT:
		if (v->kind == GQL_STRING) {
			out->s = v->text;
			return true;
		}
		break;
	case QTY_TIMESTAMP: {
		int64_t t;
		if (v->kind != GQL_STRING || !gql_timestamp_parse(v->text, &t, fraction))
			break;
		if (*fraction && round_up)
			t++;
		out->s = format_ts(x, t);
		if (out->s)
			return true;
		return gx_fail(x, "validation-failed", "the timestamp '%s' is out of range (years 1 to 9999)",
			       v->text);
	}
	}
	return gx_fail(x, "validation-failed", "a value of the wrong type");
}

static struct q_expr *new_expr(struct gx *x, enum q_expr_kind kind)
{
	struct q_expr *e = ARENA_NEW(x->a, struct q_expr);
	e->kind = kind;
	return e;
}

/* One comparison `op` on column `column` of `t` with operand `v` (not null). */
static struct q_expr *comparison(struct gx *x, enum q_table t, int column, enum q_cmp op,
				 const struct gql_value *v)
{
	const struct q_column *col = &q_columns[t][column];
	struct q_expr *e = new_expr(x, QX_CMP);
	e->column = column;
	e->op = op;
	if (op == QOP_IS_NULL) {
		e->is_null = v->kind == GQL_BOOLEAN && v->boolean;
		return e;
	}
	enum q_type type = op >= QOP_LIKE ? QTY_TEXT : col->type;
	if (op == QOP_IN || op == QOP_NIN) {
		size_t n = v->kind == GQL_LIST ? v->nitems : 1;
		struct q_value *vals = ARENA_NEW_ARRAY(x->a, struct q_value, n ? n : 1);
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			const struct gql_value *item = v->kind == GQL_LIST ? v->items[i] : v;
			bool fraction;
			gx_push_index(x, i);
			if (item->kind == GQL_NULL) {
				gx_fail(x, "validation-failed", "unexpected null value in a list of '%s'",
					op == QOP_IN ? "_in" : "_nin");
				return NULL;
			}
			bool ok = cmp_value(x, type, item, false, &vals[k], &fraction);
			gx_pop(x);
			if (!ok)
				return NULL;
			/* A time with a fraction of a second equals no stored time. */
			if (!fraction)
				k++;
		}
		e->values = vals;
		e->nvalues = k;
		return e;
	}
	/* Stored times are whole seconds: x < 10.5 is x < 11, x >= 10.5 is x >= 11. */
	bool fraction;
	struct q_value *val = ARENA_NEW(x->a, struct q_value);
	if (!cmp_value(x, type, v, op == QOP_LT || op == QOP_GTE, val, &fraction))
		return NULL;
	if (fraction && op == QOP_EQ)
		return new_expr(x, QX_FALSE);
	if (fraction && op == QOP_NEQ) {
		e->op = QOP_IS_NULL;
		e->is_null = false;
		return e;
	}
	e->values = val;
	e->nvalues = 1;
	return e;
}

/* AND of `n` expressions (one: itself). */
static struct q_expr *all_of(struct gx *x, struct q_expr **kids, size_t n)
{
	if (n == 1)
		return kids[0];
	struct q_expr *e = new_expr(x, QX_AND);
	e->kids = kids;
	e->nkids = n;
	return e;
}

static bool is_null_value(const struct gql_value *v)
{
	return v->kind == GQL_NULL;
}

/* The comparisons of a <scalar>_comparison_exp object on a column. */
static struct q_expr *column_conditions(struct gx *x, enum q_table t, int column,
					const struct gql_type *exp_type, const struct gql_value *v)
{
	if (v->kind != GQL_OBJECT) {
		gx_fail(x, "validation-failed", "expected an object for type '%s'", exp_type->name);
		return NULL;
	}
	if (!v->nfields)
		return new_expr(x, QX_TRUE);
	struct q_expr **kids = ARENA_NEW_ARRAY(x->a, struct q_expr *, v->nfields);
	for (size_t i = 0; i < v->nfields; i++) {
		const struct gql_object_field *of = &v->fields[i];
		const struct gql_input_value *iv = gql_input_find(exp_type->inputs, exp_type->ninputs,
								   of->name);
		gx_push(x, of->name);
		if (!iv || iv->role != GI_CMP) {
			gx_fail(x, "validation-failed", "field '%s' not found in type: '%s'", of->name,
				exp_type->name);
			return NULL;
		}
		if (is_null_value(of->value)) {
			gx_fail(x, "validation-failed",
				"unexpected null value for '%s': a comparison needs a value (_is_null "
				"tests for null)", of->name);
			return NULL;
		}
		kids[i] = comparison(x, t, column, iv->op, of->value);
		gx_pop(x);
		if (!kids[i])
			return NULL;
	}
	return all_of(x, kids, v->nfields);
}

struct q_expr *gx_where(struct gx *x, enum q_table t, const struct gql_value *v)
{
	char name[64];
	snprintf(name, sizeof(name), "%s_bool_exp", q_table_names[t]);
	const struct gql_type *bt = gql_type_find(x->s, name);
	if (v->kind != GQL_OBJECT) {
		gx_fail(x, "validation-failed", "expected an object for type '%s'", name);
		return NULL;
	}
	if (!v->nfields)
		return new_expr(x, QX_TRUE);
	struct q_expr **kids = ARENA_NEW_ARRAY(x->a, struct q_expr *, v->nfields);
	for (size_t i = 0; i < v->nfields; i++) {
		const struct gql_object_field *of = &v->fields[i];
		const struct gql_input_value *iv = gql_input_find(bt->inputs, bt->ninputs, of->name);
		gx_push(x, of->name);
		if (!iv) {
			gx_fail(x, "validation-failed", "field '%s' not found in type: '%s'", of->name,
				name);
			return NULL;
		}
		if (is_null_value(of->value)) {
			gx_fail(x, "validation-failed", "unexpected null value for '%s'", of->name);
			return NULL;
		}
		struct q_expr *e = NULL;
		switch (iv->role) {
		case GI_AND:
		case GI_OR: {
			e = new_expr(x, iv->role == GI_AND ? QX_AND : QX_OR);
			size_t n = of->value->kind == GQL_LIST ? of->value->nitems : 1;
			e->kids = ARENA_NEW_ARRAY(x->a, struct q_expr *, n ? n : 1);
			for (size_t k = 0; k < n; k++) {
				const struct gql_value *item =
					of->value->kind == GQL_LIST ? of->value->items[k] : of->value;
				if (of->value->kind == GQL_LIST)
					gx_push_index(x, k);
				if (is_null_value(item)) {
					gx_fail(x, "validation-failed", "unexpected null value in '%s'",
						of->name);
					return NULL;
				}
				e->kids[k] = gx_where(x, t, item);
				if (of->value->kind == GQL_LIST)
					gx_pop(x);
				if (!e->kids[k])
					return NULL;
			}
			e->nkids = n;
			break;
		}
		case GI_NOT: {
			struct q_expr *sub = gx_where(x, t, of->value);
			if (!sub)
				return NULL;
			e = new_expr(x, QX_NOT);
			e->kids = ARENA_NEW_ARRAY(x->a, struct q_expr *, 1);
			e->kids[0] = sub;
			e->nkids = 1;
			break;
		}
		case GI_COLUMN:
			e = column_conditions(x, t, iv->column, gql_named(iv->type), of->value);
			break;
		case GI_REL: {
			const struct q_expr *sub = gx_where(x, q_rels[iv->rel].to, of->value);
			if (!sub)
				return NULL;
			e = new_expr(x, QX_REL);
			e->rel = iv->rel;
			/* {} on a relationship: a related row exists, whatever it holds. */
			e->sub = sub->kind == QX_TRUE ? NULL : sub;
			break;
		}
		default:
			gx_fail(x, "validation-failed", "field '%s' not found in type: '%s'", of->name, name);
			return NULL;
		}
		gx_pop(x);
		if (!e)
			return NULL;
		kids[i] = e;
	}
	return all_of(x, kids, v->nfields);
}

/* ---- arguments of reads --------------------------------------------------------------- */

static void direction(const struct gql_value *v, struct q_order *o)
{
	const struct gql_enum_value *ev = NULL;
	static const struct gql_type *ob;
	if (!ob)
		ob = gql_type_find(gql_schema(), "order_by");
	if (v->kind == GQL_ENUM)
		ev = gql_enum_find(ob, v->text);
	int d = ev ? ev->value : GO_ASC;
	o->desc = d >= GO_DESC;
	o->nulls_first = d == GO_ASC_NULLS_FIRST || d == GO_DESC || d == GO_DESC_NULLS_FIRST;
}

/* Appends the orderings of one <table>_order_by object. */
static bool order_object(struct gx *x, enum q_table t, const struct gql_value *v,
			 struct q_order *out, size_t *n, size_t cap)
{
	char name[64];
	snprintf(name, sizeof(name), "%s_order_by", q_table_names[t]);
	const struct gql_type *ot = gql_type_find(x->s, name);
	if (v->kind != GQL_OBJECT)
		return gx_fail(x, "validation-failed", "expected an object for type '%s'", name);
	for (size_t i = 0; i < v->nfields; i++) {
		const struct gql_object_field *of = &v->fields[i];
		const struct gql_input_value *iv = gql_input_find(ot->inputs, ot->ninputs, of->name);
		if (!iv)
			return gx_fail(x, "validation-failed", "field '%s' not found in type: '%s'",
				       of->name, name);
		if (of->value->kind == GQL_NULL)
			continue;
		gx_push(x, of->name);
		if (iv->role == GI_COLUMN) {
			if (*n < cap) {
				out[*n] = (struct q_order){ .kind = QO_COLUMN, .column = iv->column };
				direction(of->value, &out[(*n)++]);
			}
		} else if (iv->role == GI_REL) {
			/* An object relationship: by columns of the related row. */
			const struct gql_value *sub = of->value;
			const struct gql_type *st = gql_named(iv->type);
			for (size_t k = 0; sub->kind == GQL_OBJECT && k < sub->nfields; k++) {
				const struct gql_input_value *sv = gql_input_find(
					st->inputs, st->ninputs, sub->fields[k].name);
				if (sub->fields[k].value->kind == GQL_NULL)
					continue;
				if (!sv || sv->role != GI_COLUMN) {
					gx_push(x, sub->fields[k].name);
					return gx_fail(x, "validation-failed",
						       "ordering by a relationship of '%s' is not supported: "
						       "order by a column of it", of->name);
				}
				if (*n < cap) {
					out[*n] = (struct q_order){ .kind = QO_REL_COLUMN, .rel = iv->rel,
								    .column = sv->column };
					direction(sub->fields[k].value, &out[(*n)++]);
				}
			}
		} else if (iv->role == GI_REL_AGG) {
			const struct gql_value *sub = of->value;
			for (size_t k = 0; sub->kind == GQL_OBJECT && k < sub->nfields; k++) {
				if (sub->fields[k].value->kind == GQL_NULL)
					continue;
				if (strcmp(sub->fields[k].name, "count")) {
					gx_push(x, sub->fields[k].name);
					return gx_fail(x, "validation-failed",
						       "ordering by '%s' of an aggregate is not supported: "
						       "order by count", sub->fields[k].name);
				}
				if (*n < cap) {
					out[*n] = (struct q_order){ .kind = QO_REL_COUNT, .rel = iv->rel };
					direction(sub->fields[k].value, &out[(*n)++]);
				}
			}
		}
		gx_pop(x);
	}
	return true;
}

/* Counts the orderings an order_by value holds (an upper bound). */
static size_t count_orders(const struct gql_value *v)
{
	if (v->kind == GQL_LIST) {
		size_t n = 0;
		for (size_t i = 0; i < v->nitems; i++)
			n += count_orders(v->items[i]);
		return n;
	}
	if (v->kind != GQL_OBJECT)
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < v->nfields; i++)
		n += v->fields[i].value->kind == GQL_OBJECT ? v->fields[i].value->nfields : 1;
	return n;
}

static bool order_args(struct gx *x, enum q_table t, const struct gql_value *v, struct q_select *q)
{
	size_t cap = count_orders(v);
	struct q_order *out = ARENA_NEW_ARRAY(x->a, struct q_order, cap ? cap : 1);
	size_t n = 0;
	if (v->kind == GQL_LIST) {
		for (size_t i = 0; i < v->nitems; i++) {
			gx_push_index(x, i);
			if (!order_object(x, t, v->items[i], out, &n, cap))
				return false;
			gx_pop(x);
		}
	} else if (v->kind != GQL_NULL && !order_object(x, t, v, out, &n, cap)) {
		return false;
	}
	q->order = out;
	q->norder = n;
	return true;
}

/* A non-negative Int argument within [0, max] (max < 0: none). */
static bool count_arg(struct gx *x, const char *name, const struct gql_value *v, int64_t max,
		      int64_t *out)
{
	gx_push(x, name);
	if (!gx_int(v, out))
		return gx_fail(x, "validation-failed", "expected a 32-bit integer for type 'Int'");
	if (*out < 0)
		return gx_fail(x, "validation-failed", "'%s' must not be negative", name);
	if (max >= 0 && *out > max)
		return gx_fail(x, "validation-failed",
			       "the %s %" PRId64 " is above the largest allowed, %" PRId64
			       " (--graphql-max-limit)", name, *out, max);
	gx_pop(x);
	return true;
}

/*
 * The arguments of a field that reads rows of `t` (where, order_by, limit,
 * offset, distinct_on; args for the search) into `q`.
 */
static bool select_args(struct gx *x, const struct gx_field *f, enum q_table t, struct q_select *q)
{
	memset(q, 0, sizeof(*q));
	q->table = t;
	q->limit = -1;
	const struct gql_selection *ast = f->ast;
	gx_push(x, "args");
	for (size_t i = 0; i < ast->nargs; i++) {
		const struct gql_input_value *iv = gql_input_find(f->def->args, f->def->nargs,
								  ast->args[i].name);
		const struct gql_value *v = gx_resolve(x, ast->args[i].value);
		if (!iv || !v || v->kind == GQL_NULL)
			continue;
		gx_push(x, iv->name);
		bool ok = true;
		switch (iv->role) {
		case GI_WHERE:
			ok = (q->where = gx_where(x, t, v)) != NULL;
			break;
		case GI_ORDER_BY:
			ok = order_args(x, t, v, q);
			break;
		case GI_LIMIT:
			gx_pop(x);
			ok = count_arg(x, "limit", v, x->cfg->max_limit, &q->limit);
			gx_push(x, "limit");
			break;
		case GI_OFFSET:
			gx_pop(x);
			ok = count_arg(x, "offset", v, -1, &q->offset);
			gx_push(x, "offset");
			break;
		case GI_DISTINCT_ON: {
			size_t n = v->kind == GQL_LIST ? v->nitems : 1;
			int *cols = ARENA_NEW_ARRAY(x->a, int, n ? n : 1);
			const struct gql_type *et = gql_named(iv->type);
			for (size_t k = 0; k < n; k++) {
				const struct gql_value *item = v->kind == GQL_LIST ? v->items[k] : v;
				const struct gql_enum_value *ev =
					item->kind == GQL_ENUM ? gql_enum_find(et, item->text) : NULL;
				if (!ev)
					return gx_fail(x, "validation-failed", "expected a column of '%s'",
						       q_table_names[t]);
				cols[k] = ev->value;
			}
			q->distinct_on = cols;
			q->ndistinct = n;
			break;
		}
		case GI_ARGS: {
			const struct gql_value *qv = NULL;
			for (size_t k = 0; v->kind == GQL_OBJECT && k < v->nfields; k++)
				if (!strcmp(v->fields[k].name, "query"))
					qv = v->fields[k].value;
			if (!qv || qv->kind != GQL_STRING) {
				gx_push(x, "query");
				return gx_fail(x, "validation-failed", "missing required field 'query'");
			}
			if (strlen(qv->text) > SEARCH_QUERY_MAX * 4) {
				gx_push(x, "query");
				return gx_fail(x, "validation-failed",
					       "the search text is longer than %d characters", SEARCH_QUERY_MAX);
			}
			q->search = qv->text;
			break;
		}
		default:
			break;
		}
		if (!ok)
			return false;
		gx_pop(x);
	}
	gx_pop(x);
	return true;
}

/* ---- what each field reads ------------------------------------------------------------- */

static enum q_table table_of(const struct gql_type *t)
{
	return gql_named(t)->table;
}

/* The columns a row's sub-fields need (the id always: relationships hang on it). */
static uint64_t needed_columns(const struct gx_field *kids, size_t n, enum q_table t)
{
	uint64_t cols = 1;
	for (size_t i = 0; i < n; i++) {
		const struct gql_field *d = kids[i].def;
		if (d->kind == GF_COLUMN)
			cols |= 1ull << d->column;
		else if (d->kind == GF_OBJ_REL && q_rels[d->rel].from == t)
			cols |= 1ull << q_rels[d->rel].key;
	}
	return cols;
}

static struct gx_read *new_read(struct gx *x, const struct q_select *template, enum q_table t)
{
	struct gx_read *r = ARENA_NEW(x->a, struct gx_read);
	if (template)
		r->q = *template;
	else
		r->q = (struct q_select){ .table = t, .limit = -1 };
	return r;
}

/* Adds aggregate function `fn` on `column` to `g`; returns its index. */
static int add_agg(struct gx *x, struct gx_agg *g, enum q_agg_fn fn, int column)
{
	for (size_t i = 0; i < g->naggs; i++)
		if (g->aggs[i].fn == fn && g->aggs[i].column == column)
			return (int)i;
	if (g->naggs == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 8;
		struct q_agg *grown = ARENA_NEW_ARRAY(x->a, struct q_agg, cap);
		if (g->naggs)
			memcpy(grown, g->aggs, g->naggs * sizeof(*grown));
		g->aggs = grown;
		g->cap = cap;
	}
	g->aggs[g->naggs] = (struct q_agg){ .fn = fn, .column = column };
	return (int)g->naggs++;
}

/* The aggregate functions an <table>_aggregate_fields selection asks for, into `g`. */
static bool plan_agg_fields(struct gx *x, struct gx_field *f, struct gx_agg *g)
{
	for (size_t i = 0; i < f->nkids; i++) {
		struct gx_field *k = &f->kids[i];
		if (k->def->kind == GF_AGG_COUNT) {
			const struct gql_value *cols = gx_arg(x, k->ast->args, k->ast->nargs, "columns");
			const struct gql_value *dist = gx_arg(x, k->ast->args, k->ast->nargs, "distinct");
			bool distinct = dist && dist->kind == GQL_BOOLEAN && dist->boolean;
			size_t n = cols && cols->kind == GQL_LIST ? cols->nitems
				   : cols && cols->kind == GQL_ENUM ? 1
								    : 0;
			if (n > 1) {
				gx_push(x, "selectionSet");
				gx_push(x, k->ast->name);
				gx_push(x, "args");
				gx_push(x, "columns");
				return gx_fail(x, "validation-failed",
					       "count takes one column here (rows where it is not null)");
			}
			if (!n) {
				k->agg_index = add_agg(x, g, QA_COUNT, 0);
				continue;
			}
			const struct gql_value *c = cols->kind == GQL_LIST ? cols->items[0] : cols;
			const struct gql_enum_value *ev = gql_enum_find(
				gql_named(gql_input_find(k->def->args, k->def->nargs, "columns")->type),
				c->text);
			if (!ev)
				return gx_fail(x, "validation-failed", "an unknown column");
			k->agg_index = add_agg(x, g, distinct ? QA_COUNT_DISTINCT : QA_COUNT_COLUMN,
					       ev->value);
		} else if (k->def->kind == GF_AGG_FN) {
			for (size_t c = 0; c < k->nkids; c++)
				if (k->kids[c].def->kind == GF_AGG_COLUMN)
					k->kids[c].agg_index = add_agg(x, g, k->kids[c].def->agg,
								       k->kids[c].def->column);
		}
	}
	return true;
}

/* Finishes an aggregate `g` over `template`'s rows. */
static void seal_agg(struct gx_agg *g, const struct q_select *template)
{
	g->q.select = *template;
	g->q.aggs = g->aggs;
	g->q.naggs = g->naggs;
}

/*
 * Plans field `f` (its kids collected), whose parent field is `parent`
 * (NULL at the root): the reads it needs.
 */
static bool plan_field(struct gx *x, struct gx_field *f, struct gx_field *parent)
{
	const struct gql_field *d = f->def;
	switch (d->kind) {
	case GF_SELECT:
	case GF_SEARCH:
	case GF_ARR_REL: {
		enum q_table t = table_of(d->type);
		f->read = new_read(x, NULL, t);
		if (!select_args(x, f, t, &f->read->q))
			return false;
		if (d->kind == GF_ARR_REL) {
			f->read->q.has_via = true;
			f->read->q.via = d->rel;
		}
		if (f->read->q.limit < 0)
			f->read->q.limit = x->cfg->max_limit;
		f->read->q.columns = needed_columns(f->kids, f->nkids, t);
		return true;
	}
	case GF_BY_PK: {
		enum q_table t = d->table;
		f->read = new_read(x, NULL, t);
		const struct gql_value *id = gx_arg(x, f->ast->args, f->ast->nargs, "id");
		struct q_value *v = ARENA_NEW(x->a, struct q_value);
		v->type = QTY_INT;
		if (!gx_int(id, &v->i)) {
			gx_push(x, "args");
			gx_push(x, "id");
			return gx_fail(x, "validation-failed", "missing required field 'id'");
		}
		struct q_expr *e = new_expr(x, QX_CMP);
		e->column = 0;
		e->op = QOP_EQ;
		e->values = v;
		e->nvalues = 1;
		f->read->q.where = e;
		f->read->q.limit = 1;
		f->read->q.columns = needed_columns(f->kids, f->nkids, t);
		return true;
	}
	case GF_OBJ_REL: {
		enum q_table t = q_rels[d->rel].to;
		f->read = new_read(x, NULL, t);
		f->read->q.columns = needed_columns(f->kids, f->nkids, t);
		return true;
	}
	case GF_AGG_NODES: {
		enum q_table t = table_of(d->type);
		if (!parent || !parent->args)
			return gx_fail(x, "unexpected", "nodes outside an aggregate");
		f->read = new_read(x, parent->args, t);
		if (f->read->q.limit < 0)
			f->read->q.limit = x->cfg->max_limit;
		f->read->q.columns = needed_columns(f->kids, f->nkids, t);
		return true;
	}
	case GF_AGG_AGGREGATE: {
		if (!parent || !parent->args)
			return gx_fail(x, "unexpected", "an aggregate outside an aggregate field");
		f->agg = ARENA_NEW(x->a, struct gx_agg);
		if (!plan_agg_fields(x, f, f->agg))
			return false;
		seal_agg(f->agg, parent->args);
		return true;
	}
	case GF_RETURNING: {
		enum q_table t = table_of(d->type);
		f->read = new_read(x, NULL, t);
		f->read->q.columns = needed_columns(f->kids, f->nkids, t);
		return true;
	}
	case GF_GROUPS: {
		/* One aggregate for every `aggregate` kid; the keys are its group columns. */
		f->agg = ARENA_NEW(x->a, struct gx_agg);
		struct q_select *q = ARENA_NEW(x->a, struct q_select);
		if (!select_args(x, f, QT_INSIGHTS, q))
			return false;
		const struct gql_value *g = gx_arg(x, f->ast->args, f->ast->nargs, "group_by");
		size_t n = g ? (g->kind == GQL_LIST ? g->nitems : 1) : 0;
		int *cols = ARENA_NEW_ARRAY(x->a, int, n ? n : 1);
		const struct gql_type *et = gql_type_find(x->s, "insights_select_column");
		for (size_t i = 0; i < n; i++) {
			const struct gql_value *item = g->kind == GQL_LIST ? g->items[i] : g;
			const struct gql_enum_value *ev =
				item->kind == GQL_ENUM ? gql_enum_find(et, item->text) : NULL;
			if (!ev)
				return gx_fail(x, "validation-failed", "expected a column of insights");
			cols[i] = ev->value;
		}
		f->agg->q.group_by = cols;
		f->agg->q.ngroup = n;
		for (size_t i = 0; i < f->nkids; i++)
			if (f->kids[i].def->kind == GF_GROUP_AGGREGATE &&
			    !plan_agg_fields(x, &f->kids[i], f->agg))
				return false;
		seal_agg(f->agg, q);
		return true;
	}
	default:
		return true;
	}
}

/* Whether the field's arguments must be read before its kids are planned. */
static bool plan_args_first(struct gx *x, struct gx_field *f)
{
	const struct gql_field *d = f->def;
	if (d->kind != GF_AGGREGATE && d->kind != GF_SEARCH_AGGREGATE && d->kind != GF_ARR_REL_AGG)
		return true;
	enum q_table t = table_of(d->type);
	f->args = ARENA_NEW(x->a, struct q_select);
	if (!select_args(x, f, t, f->args))
		return false;
	if (d->kind == GF_ARR_REL_AGG) {
		f->args->has_via = true;
		f->args->via = d->rel;
	}
	return true;
}

/* ---- collecting fields ------------------------------------------------------------------- */

struct collector {
	struct gx_field *fields;
	size_t n, cap;
	const char **visited;   /* fragments spread already */
	size_t nvisited, vcap;
};

static const struct gql_fragment *fragment(struct gx *x, const char *name)
{
	for (size_t i = 0; i < x->doc->nfrags; i++)
		if (!strcmp(x->doc->frags[i].name, name))
			return &x->doc->frags[i];
	return NULL;
}

static struct gx_field *field_for_key(struct gx *x, struct collector *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->fields[i].key, key))
			return &c->fields[i];
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct gx_field *grown = ARENA_NEW_ARRAY(x->a, struct gx_field, cap);
		if (c->n)
			memcpy(grown, c->fields, c->n * sizeof(*grown));
		c->fields = grown;
		c->cap = cap;
	}
	struct gx_field *f = &c->fields[c->n++];
	memset(f, 0, sizeof(*f));
	f->key = key;
	return f;
}

static bool collect_set(struct gx *x, struct collector *c, const struct gql_type *type,
			const struct gql_selection_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct gql_selection *sel = &set->items[i];
		if (!gx_included(x, sel->directives, sel->ndirectives))
			continue;
		switch (sel->kind) {
		case GQL_FIELD: {
			const char *key = sel->alias ? sel->alias : sel->name;
			const struct gql_field *def = gql_field_find(x->s, type, sel->name);
			if (!def) {
				gx_push(x, "selectionSet");
				gx_push(x, sel->name);
				return gx_fail(x, "validation-failed", "field '%s' not found in type: '%s'",
					       sel->name, type->name);
			}
			struct gx_field *f = field_for_key(x, c, key);
			if (!f->def) {
				f->def = def;
				f->owner = type;
				f->ast = sel;
			}
			if (f->nasts == f->cap) {
				size_t cap = f->cap ? f->cap * 2 : 2;
				const struct gql_selection **grown =
					ARENA_NEW_ARRAY(x->a, const struct gql_selection *, cap);
				if (f->nasts)
					memcpy(grown, f->asts, f->nasts * sizeof(*grown));
				f->asts = grown;
				f->cap = cap;
			}
			f->asts[f->nasts++] = sel;
			break;
		}
		case GQL_FRAGMENT_SPREAD: {
			bool seen = false;
			for (size_t k = 0; k < c->nvisited && !seen; k++)
				seen = !strcmp(c->visited[k], sel->name);
			if (seen)
				continue;
			if (c->nvisited == c->vcap) {
				size_t cap = c->vcap ? c->vcap * 2 : 4;
				const char **grown = ARENA_NEW_ARRAY(x->a, const char *, cap);
				if (c->nvisited)
					memcpy(grown, c->visited, c->nvisited * sizeof(*grown));
				c->visited = grown;
				c->vcap = cap;
			}
			c->visited[c->nvisited++] = sel->name;
			const struct gql_fragment *fr = fragment(x, sel->name);
			if (!fr)
				return gx_fail(x, "validation-failed", "unknown fragment '%s'", sel->name);
			if (strcmp(fr->type_condition, type->name))
				continue;
			if (!collect_set(x, c, type, fr->set))
				return false;
			break;
		}
		case GQL_INLINE_FRAGMENT:
			if (sel->type_condition && strcmp(sel->type_condition, type->name))
				continue;
			if (!collect_set(x, c, type, sel->set))
				return false;
			break;
		}
	}
	return true;
}

/*
 * Collects the kids of each of the `n` fields (whose parent field is
 * `parent`, NULL at the root) and plans every one, depth first: a field's
 * arguments first (its aggregate and nodes kids copy them), then its kids,
 * then its own reads (which need its kids' columns).
 */
static bool plan_fields(struct gx *x, struct gx_field *fields, size_t n, struct gx_field *parent,
			unsigned depth)
{
	for (size_t i = 0; i < n; i++) {
		struct gx_field *f = &fields[i];
		const struct gql_type *named = gql_named(f->def->type);
		f->agg_index = -1;
		gx_push(x, "selectionSet");
		gx_push(x, f->ast->name); /* Hasura's paths name fields, not aliases */
		if (!plan_args_first(x, f))
			return false;
		if (named->kind == GK_OBJECT) {
			if (depth + 1 > GX_TOTAL_DEPTH)
				return gx_fail(x, "validation-failed",
					       "the query is nested deeper than %d selection sets",
					       GX_TOTAL_DEPTH);
			struct collector kc = { 0 };
			for (size_t k = 0; k < f->nasts; k++)
				if (f->asts[k]->set && !collect_set(x, &kc, named, f->asts[k]->set))
					return false;
			if (!kc.n)
				return gx_fail(x, "validation-failed", "missing selection set for '%s'",
					       f->key);
			f->kids = kc.fields;
			f->nkids = kc.n;
			if (!plan_fields(x, f->kids, f->nkids, f, depth + 1))
				return false;
		}
		if (!plan_field(x, f, parent))
			return false;
		gx_pop(x);
		gx_pop(x);
	}
	return true;
}

bool gx_collect(struct gx *x, const struct gql_type *type,
		const struct gql_selection_set *const *sets, size_t nsets, struct gx_field **out,
		size_t *n)
{
	struct collector c = { 0 };
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < nsets; i++)
		if (!collect_set(x, &c, type, sets[i]))
			return false;
	if (!plan_fields(x, c.fields, c.n, NULL, 1))
		return false;
	*out = c.fields;
	*n = c.n;
	return true;
}
