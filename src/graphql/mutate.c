/*
 * mutate.c: the mutation root's fields, each run through the same use cases
 * as REST's handlers (core/service.h): an input object becomes JSON and is
 * decoded by core/input.h, then validated and written by the service, so
 * the rules, the counters (usage_count, insight_count, statistics), the
 * search index, the cache's data version and the metrics cannot differ
 * between the two APIs. The executor runs every mutation field of a
 * request in one service batch (one transaction): the first failure undoes
 * them all.
 *
 * `returning` and the rows a *_by_pk or *_one answers are read back inside
 * the batch (after the write; before it for deletes), with the same reads
 * as a query's.
 */
#include "graphql/gx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/input.h"
#include "lib/banned.h"

/* ---- inputs ---------------------------------------------------------------------------- */

/* The JSON of a resolved value (json-c's NULL for null). */
static json_object *to_json(const struct gql_value *v)
{
	switch (v->kind) {
	case GQL_INT:
		return json_object_new_int64(strtoll(v->text, NULL, 10));
	case GQL_FLOAT:
		return json_object_new_double(strtod(v->text, NULL));
	case GQL_STRING:
	case GQL_ENUM:
		return json_object_new_string(v->text);
	case GQL_BOOLEAN:
		return json_object_new_boolean(v->boolean);
	case GQL_LIST: {
		json_object *a = json_object_new_array_ext((int)v->nitems);
		for (size_t i = 0; i < v->nitems; i++)
			json_object_array_add(a, to_json(v->items[i]));
		return a;
	}
	case GQL_OBJECT: {
		json_object *o = json_object_new_object();
		for (size_t i = 0; i < v->nfields; i++)
			json_object_object_add(o, v->fields[i].name, to_json(v->fields[i].value));
		return o;
	}
	case GQL_NULL:
	case GQL_VARIABLE:
		break;
	}
	return NULL;
}

/* A use case's failure as the request's error, at the input it was given (the current path). */
static bool write_failed(struct gx *x, const struct error *err)
{
	switch (err->status) {
	case E_INVALID: {
		if (!err->nproblems)
			return gx_fail(x, "validation-failed", "%s", err->detail);
		const struct problem *p = &err->problems[0];
		for (unsigned i = 0; i < p->nloc; i++) {
			if (p->loc[i].name[0])
				gx_push(x, arena_strdup(x->a, p->loc[i].name));
			else
				gx_push_index(x, (size_t)p->loc[i].index);
		}
		return gx_fail(x, "validation-failed", "%s", p->msg);
	}
	case E_CONFLICT:
		return gx_fail(x, "constraint-violation", "%s", err->detail);
	case E_NOTFOUND:
		return gx_fail(x, "not-found", "%s", err->detail);
	case E_PRECONDITION:
		/* _expected_revision did not match: Hasura's code for a failed check. */
		return gx_fail(x, "constraint-violation", "%s", err->detail);
	case E_UNAVAILABLE:
		x->http_status = 503;
		return gx_fail_at(x, "$", "unexpected", "%s", err->detail);
	default:
		x->http_status = 500;
		return gx_fail_at(x, "$", "unexpected", "the request failed: %s", err->detail);
	}
}

union input {
	struct insight_input insight;
	struct tag_input tag;
	struct category_input category;
};

/* Decodes input object `v` for table `t`; false with the error. */
static bool decode(struct gx *x, enum q_table t, const struct gql_value *v, union input *in)
{
	json_object *o = to_json(v);
	struct error err = ERROR_INIT;
	enum status rc = OK;
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return gx_fail(x, "validation-failed", "expected an object");
	}
	switch (t) {
	case QT_INSIGHTS:
		rc = decode_insight_input(o, x->a, &in->insight, &err);
		break;
	case QT_TAGS:
		rc = decode_tag_input(o, x->a, &in->tag, &err);
		break;
	case QT_CATEGORIES:
		rc = decode_category_input(o, x->a, &in->category, &err);
		break;
	case QT__COUNT:
		break;
	}
	json_object_put(o);
	return rc == OK ? true : write_failed(x, &err);
}

/* ---- the use cases, per table ------------------------------------------------------------ */

static enum status create_row(struct gx *x, enum q_table t, const union input *in, int64_t *id,
			      struct error *err)
{
	enum status rc = E_INTERNAL;
	switch (t) {
	case QT_INSIGHTS: {
		struct insight out;
		rc = svc_insight_create(x->svc, x->a, &in->insight, &out, err);
		*id = out.id;
		break;
	}
	case QT_TAGS: {
		struct tag out;
		rc = svc_tag_create(x->svc, x->a, &in->tag, &out, err);
		*id = out.id;
		break;
	}
	case QT_CATEGORIES: {
		struct category out;
		rc = svc_category_create(x->svc, x->a, &in->category, &out, err);
		*id = out.id;
		break;
	}
	case QT__COUNT:
		break;
	}
	return rc;
}

/* `expected`: the revision or version the row must be at (_expected_revision); 0: any. */
static enum status update_row(struct gx *x, enum q_table t, int64_t id, int64_t expected,
			      const union input *in, struct error *err)
{
	switch (t) {
	case QT_INSIGHTS: {
		struct insight out;
		return svc_insight_update_if(x->svc, x->a, id, expected, &in->insight, &out, err);
	}
	case QT_TAGS: {
		struct tag out;
		return svc_tag_update_if(x->svc, x->a, id, expected, &in->tag, &out, err);
	}
	case QT_CATEGORIES: {
		struct category out;
		return svc_category_update_if(x->svc, x->a, id, expected, &in->category, &out, err);
	}
	case QT__COUNT:
		break;
	}
	return E_INTERNAL;
}

static enum status delete_row(struct gx *x, enum q_table t, int64_t id, int64_t expected,
			      struct error *err)
{
	switch (t) {
	case QT_INSIGHTS:
		return svc_insight_delete_if(x->svc, id, expected, err);
	case QT_TAGS:
		return svc_tag_delete_if(x->svc, id, expected, err);
	case QT_CATEGORIES:
		return svc_category_delete_if(x->svc, id, expected, err);
	case QT__COUNT:
		break;
	}
	return E_INTERNAL;
}

/* ---- reading rows back ------------------------------------------------------------------------ */

static struct q_expr *ids_in(struct gx *x, const int64_t *ids, size_t n)
{
	struct q_value *v = ARENA_NEW_ARRAY(x->a, struct q_value, n ? n : 1);
	for (size_t i = 0; i < n; i++)
		v[i] = (struct q_value){ .type = QTY_INT, .i = ids[i] };
	struct q_expr *e = ARENA_NEW(x->a, struct q_expr);
	*e = (struct q_expr){ .kind = QX_CMP, .column = 0, .op = QOP_IN, .values = v, .nvalues = n };
	return e;
}

/*
 * Reads the rows `ids` of `t` for the selection of `f` (its kids), with
 * what their relationships need, into `r` (rows by id, ascending).
 */
static bool read_rows(struct gx *x, struct gx_field *f, enum q_table t, const int64_t *ids,
		      size_t n, struct gx_read *r)
{
	memset(r, 0, sizeof(*r));
	r->q.table = t;
	r->q.limit = -1;
	r->q.columns = ~0ull;
	if (!n)
		return true;
	r->q.where = ids_in(x, ids, n);
	struct error err = ERROR_INIT;
	if (svc_select(x->svc, x->a, &r->q, &r->rows, &err) != OK)
		return write_failed(x, &err);
	return gx_fetch_kids(x, f, t, &r->rows);
}

/* The ids of the rows of `t` that `where` selects, ascending. */
static bool select_ids(struct gx *x, enum q_table t, const struct gql_value *where, int64_t **ids,
		       size_t *n)
{
	struct q_select q = { .table = t, .limit = -1, .columns = 1 };
	gx_push(x, "args");
	gx_push(x, "where");
	q.where = where ? gx_where(x, t, where) : NULL;
	gx_pop(x);
	gx_pop(x);
	if (where && !q.where)
		return false;
	struct q_rows rows;
	struct error err = ERROR_INIT;
	if (svc_select(x->svc, x->a, &q, &rows, &err) != OK)
		return write_failed(x, &err);
	*ids = ARENA_NEW_ARRAY(x->a, int64_t, rows.n ? rows.n : 1);
	for (size_t i = 0; i < rows.n; i++)
		(*ids)[i] = t == QT_INSIGHTS ? rows.rows[i].u.insight.id
			    : t == QT_TAGS   ? rows.rows[i].u.tag.id
					     : rows.rows[i].u.category.id;
	*n = rows.n;
	return true;
}

/* Reads the rows of every `returning` kid of `f` (they may be aliased apart). */
static bool read_returning(struct gx *x, struct gx_field *f, enum q_table t, const int64_t *ids,
			  size_t n)
{
	for (size_t i = 0; i < f->nkids; i++) {
		struct gx_field *k = &f->kids[i];
		if (k->def->kind == GF_RETURNING && !read_rows(x, k, t, ids, n, k->read))
			return false;
	}
	return true;
}

static void write_response_all(struct gx *x, struct jsonw *w, struct gx_field *f, size_t affected)
{
	jsonw_object_open(w);
	for (size_t i = 0; i < f->nkids; i++) {
		const struct gx_field *k = &f->kids[i];
		jsonw_key(w, k->key);
		if (k->def->kind == GF_AFFECTED_ROWS) {
			jsonw_int(w, (int64_t)affected);
		} else if (k->def->kind == GF_RETURNING) {
			jsonw_array_open(w);
			for (size_t j = 0; j < k->read->rows.n; j++)
				gx_write_row(x, w, k->kids, k->nkids, k->read->q.table,
					     &k->read->rows.rows[j]);
			jsonw_array_close(w);
		} else {
			jsonw_str(w, k->owner->name);
		}
	}
	jsonw_object_close(w);
}

/* ---- the fields -------------------------------------------------------------------------------- */

static const struct gql_value *arg(struct gx *x, struct gx_field *f, const char *name)
{
	return gx_arg(x, f->ast->args, f->ast->nargs, name);
}

/* The row `id` as the object `f` selects, or null. */
static bool write_one(struct gx *x, struct jsonw *w, struct gx_field *f, enum q_table t, int64_t id)
{
	struct gx_read r;
	if (!read_rows(x, f, t, &id, 1, &r))
		return false;
	if (r.rows.n)
		gx_write_row(x, w, f->kids, f->nkids, t, &r.rows.rows[0]);
	else
		jsonw_null(w);
	return true;
}

static bool insert(struct gx *x, struct gx_field *f, enum q_table t, struct jsonw *w)
{
	bool one = f->def->kind == GF_INSERT_ONE;
	const struct gql_value *v = arg(x, f, one ? "object" : "objects");
	size_t n = !v ? 0 : v->kind == GQL_LIST ? v->nitems : 1;
	int64_t *ids = ARENA_NEW_ARRAY(x->a, int64_t, n ? n : 1);
	gx_push(x, "args");
	gx_push(x, one ? "object" : "objects");
	for (size_t i = 0; i < n; i++) {
		const struct gql_value *item = v->kind == GQL_LIST ? v->items[i] : v;
		if (!one)
			gx_push_index(x, i);
		union input in;
		if (!decode(x, t, item, &in))
			return false;
		struct error err = ERROR_INIT;
		if (create_row(x, t, &in, &ids[i], &err) != OK)
			return write_failed(x, &err);
		if (!one)
			gx_pop(x);
	}
	gx_pop(x);
	gx_pop(x);
	if (one)
		return n ? write_one(x, w, f, t, ids[0]) : (jsonw_null(w), true);
	if (!read_returning(x, f, t, ids, n))
		return false;
	write_response_all(x, w, f, n);
	return true;
}

/* The input of _set (absent: nothing changes). */
static bool set_input(struct gx *x, struct gx_field *f, enum q_table t, union input *in)
{
	const struct gql_value *set = arg(x, f, "_set");
	memset(in, 0, sizeof(*in));
	if (!set || set->kind == GQL_NULL)
		return true;
	gx_push(x, "args");
	gx_push(x, "_set");
	bool ok = decode(x, t, set, in);
	gx_pop(x);
	gx_pop(x);
	return ok;
}

/*
 * The *_by_pk mutations' _expected_revision (not Hasura's: ours): the
 * revision (insights) or version (tags, categories) the row must be at for
 * the write to happen, compared inside its transaction. 0 when absent or null.
 */
static int64_t expected_revision(struct gx *x, struct gx_field *f)
{
	const struct gql_value *e = arg(x, f, "_expected_revision");
	if (!e || e->kind == GQL_NULL)
		return 0;
	int64_t v;
	/* Below 1: a revision no row has, which the write's own check refuses. */
	return gx_int(e, &v) && v >= 1 ? v : -1;
}

static bool update(struct gx *x, struct gx_field *f, enum q_table t, struct jsonw *w)
{
	union input in;
	if (!set_input(x, f, t, &in))
		return false;
	if (f->def->kind == GF_UPDATE_BY_PK) {
		const struct gql_value *pk = arg(x, f, "pk_columns");
		int64_t id = 0;
		for (size_t i = 0; pk && pk->kind == GQL_OBJECT && i < pk->nfields; i++)
			if (!strcmp(pk->fields[i].name, "id"))
				gx_int(pk->fields[i].value, &id);
		struct error err = ERROR_INIT;
		gx_push(x, "args");
		gx_push(x, "_set");
		enum status rc = update_row(x, t, id, expected_revision(x, f), &in, &err);
		if (rc == E_PRECONDITION) {
			gx_pop(x);
			gx_push(x, "_expected_revision");
		}
		if (rc == E_NOTFOUND) {
			gx_pop(x);
			gx_pop(x);
			jsonw_null(w);
			return true;
		}
		if (rc != OK)
			return write_failed(x, &err);
		gx_pop(x);
		gx_pop(x);
		return write_one(x, w, f, t, id);
	}
	int64_t *ids = NULL;
	size_t n = 0;
	if (!select_ids(x, t, arg(x, f, "where"), &ids, &n))
		return false;
	gx_push(x, "args");
	gx_push(x, "_set");
	for (size_t i = 0; i < n; i++) {
		struct error err = ERROR_INIT;
		if (update_row(x, t, ids[i], 0, &in, &err) != OK)
			return write_failed(x, &err);
	}
	gx_pop(x);
	gx_pop(x);
	if (!read_returning(x, f, t, ids, n))
		return false;
	write_response_all(x, w, f, n);
	return true;
}

static bool delete(struct gx *x, struct gx_field *f, enum q_table t, struct jsonw *w)
{
	int64_t *ids = NULL, one = 0;
	size_t n = 0;
	if (f->def->kind == GF_DELETE_BY_PK) {
		if (!gx_int(arg(x, f, "id"), &one))
			return gx_fail(x, "validation-failed", "missing required field 'id'");
		ids = &one;
		n = 1;
	} else if (!select_ids(x, t, arg(x, f, "where"), &ids, &n)) {
		return false;
	}
	/* What the answer shows is read before the rows go. */
	struct gx_read before = { 0 };
	if (f->def->kind == GF_DELETE_BY_PK) {
		if (!read_rows(x, f, t, ids, n, &before))
			return false;
		if (!before.rows.n) {
			jsonw_null(w);
			return true;
		}
	} else if (!read_returning(x, f, t, ids, n)) {
		return false;
	}
	int64_t expected = f->def->kind == GF_DELETE_BY_PK ? expected_revision(x, f) : 0;
	for (size_t i = 0; i < n; i++) {
		struct error err = ERROR_INIT;
		if (delete_row(x, t, ids[i], expected, &err) != OK) {
			if (err.status == E_PRECONDITION) {
				gx_push(x, "args");
				gx_push(x, "_expected_revision");
			}
			return write_failed(x, &err);
		}
	}
	if (f->def->kind == GF_DELETE_BY_PK)
		gx_write_row(x, w, f->kids, f->nkids, t, &before.rows.rows[0]);
	else
		write_response_all(x, w, f, n);
	return true;
}

bool gx_run_mutation(struct gx *x, struct gx_field *f, struct jsonw *w)
{
	enum q_table t = f->def->table;
	switch (f->def->kind) {
	case GF_INSERT:
	case GF_INSERT_ONE:
		return insert(x, f, t, w);
	case GF_UPDATE:
	case GF_UPDATE_BY_PK:
		return update(x, f, t, w);
	case GF_DELETE:
	case GF_DELETE_BY_PK:
		return delete(x, f, t, w);
	default:
		jsonw_str(w, f->owner->name);
		return true;
	}
}
