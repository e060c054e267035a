/*
 * gx.h: the executor's insides, shared by graphql/'s files and nothing
 * else: the state of one request (struct gx), errors with Hasura's paths,
 * variables and argument values, and the plan of an operation: its fields
 * collected per response key (fragments, @include and @skip applied), each
 * with the reads it needs in core/query.h's form.
 */
#ifndef INSIGHTS_GQL_GX_H
#define INSIGHTS_GQL_GX_H

#include <json-c/json.h>
#include <stdbool.h>

#include "core/query.h"
#include "graphql/ast.h"
#include "graphql/graphql.h"
#include "graphql/schema.h"
#include "lib/jsonw.h"

#define GX_PATH_MAX 96

struct gx_var {
	const char *name;
	const struct gql_type *type;
	/* The value after coercion; NULL when the request gave none and there is no default. */
	const struct gql_value *value;
};

/* A read of rows, for a field whose value is rows of a table. */
struct gx_read {
	struct q_select q;
	struct q_rows rows;
};

/* An aggregate over rows, for an `aggregate` field or a group. */
struct gx_agg {
	struct q_aggregate q;
	struct q_agg *aggs;       /* the functions asked for, in q.aggs */
	size_t naggs, cap;
	struct q_agg_rows rows;
};

/*
 * One field of the answer: every field of the document with this response
 * key in one selection set, merged as the specification's CollectFields
 * merges them.
 */
struct gx_field {
	const char *key;                     /* the alias, or the name */
	const struct gql_field *def;
	const struct gql_type *owner;        /* the object type it is a field of */
	const struct gql_selection *ast;     /* the first of them: its arguments count */
	const struct gql_selection **asts;   /* all of them, for their selection sets */
	size_t nasts, cap;
	struct gx_field *kids;               /* the collected sub-fields, for object types */
	size_t nkids;
	/* What the executor reads for it (NULL when nothing). */
	struct gx_read *read;
	struct gx_agg *agg;
	int agg_index;                       /* GF_AGG_COUNT, GF_AGG_COLUMN: where its value is */
	/* Arguments of a field that reads rows, for its aggregate and nodes kids. */
	struct q_select *args;
	/* Introspection: the schema element __type and friends answer about. */
	const void *meta;
};

struct gx {
	struct service *svc;
	const struct gql_config *cfg;
	const struct gql_schema *s;
	struct arena *a;
	const struct gql_request *rq;
	const struct gql_document *doc;
	const struct gql_operation *op;
	struct gx_var *vars;
	size_t nvars;
	/* The first error; later ones are not kept (Hasura answers one). */
	bool failed;
	const char *err_code;
	const char *err_path;
	const char *err_msg;
	int http_status;
	/* The operation reads the schema only (its answer never changes: cached). */
	bool schema_only;
	/* Where the work is, for errors: "selectionSet", "insights", "args", "where", ... */
	const char *path[GX_PATH_MAX];
	size_t npath;
};

/* ---- errors and paths (exec.c) ----------------------------------------------------- */

void gx_push(struct gx *x, const char *segment);
void gx_push_index(struct gx *x, size_t index);
void gx_pop(struct gx *x);
/*
 * Records the request's error (only the first one), at the current path
 * unless `path` is given; returns false, for `return gx_fail(...)`.
 */
bool gx_fail(struct gx *x, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool gx_fail_at(struct gx *x, const char *path, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The current path as Hasura writes it: "$.selectionSet.insights.args.where". */
const char *gx_path(struct gx *x);

/* ---- values (values.c) ----------------------------------------------------------------- */

/* Coerces the request's variables for x->op; false (with the error) when one is wrong. */
bool gx_variables(struct gx *x);
/*
 * `v` with its variables replaced by their values: NULL when `v` is a
 * variable without a value (the argument or field is then absent). Object
 * fields and list items whose variable has no value are left out (items:
 * null).
 */
const struct gql_value *gx_resolve(struct gx *x, const struct gql_value *v);
/* The argument `name` of field `f`, resolved; NULL when absent. */
const struct gql_value *gx_arg(struct gx *x, const struct gql_argument *args, size_t nargs,
			       const char *name);
/* Whether @skip and @include let a selection in. */
bool gx_included(struct gx *x, const struct gql_directive *d, size_t n);
/* A literal's 64-bit integer (GQL_INT). */
bool gx_int(const struct gql_value *v, int64_t *out);

/* ---- planning (plan.c) ----------------------------------------------------------------- */

/*
 * Collects the fields of the selection sets `sets` on object type `type`
 * into *out (merged per response key) and, recursively, their kids, and
 * plans the reads of every one. False on an error.
 */
bool gx_collect(struct gx *x, const struct gql_type *type,
		const struct gql_selection_set *const *sets, size_t nsets, struct gx_field **out,
		size_t *n);
/* The where condition `v` on rows of `t`. */
struct q_expr *gx_where(struct gx *x, enum q_table t, const struct gql_value *v);

/* ---- running and writing (exec.c, introspect.c) ------------------------------------- */

/* Reads what the kids of `f` need under the rows `rows` of `table`. */
bool gx_fetch_kids(struct gx *x, struct gx_field *f, enum q_table table, const struct q_rows *rows);
/* Writes a row as the object of the kids' fields. */
void gx_write_row(struct gx *x, struct jsonw *w, const struct gx_field *kids, size_t nkids,
		  enum q_table table, const struct q_row *row);
/* Runs mutation field `f` (inside the request's batch) and writes its value. */
bool gx_run_mutation(struct gx *x, struct gx_field *f, struct jsonw *w);
/* Writes an introspection field's value (__schema, __type and their parts). */
void gx_write_meta(struct gx *x, struct jsonw *w, const struct gx_field *f);

#endif
