/*
 * schema.c: the data API's GraphQL schema (schema.h), generated from
 * core/query.h's tables as Hasura v2 generates its schema from tracked
 * tables, plus the introspection types of the October 2021 specification.
 *
 * Everything is allocated once from a process-wide arena and never changes
 * afterwards, so readers need no lock. The builder collects each type's
 * fields in a fixed-size scratch array, then sorts them by name.
 */
#include "graphql/schema.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/banned.h"

#define MAX_MEMBERS 64
#define MAX_TYPES 256

const char *const gql_directive_loc_names[GD__COUNT] = {
	"QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD",
	"INLINE_FRAGMENT", "VARIABLE_DEFINITION", "SCHEMA", "SCALAR", "OBJECT",
	"FIELD_DEFINITION", "ARGUMENT_DEFINITION", "INTERFACE", "UNION", "ENUM", "ENUM_VALUE",
	"INPUT_OBJECT", "INPUT_FIELD_DEFINITION",
};

/* ---- the builder --------------------------------------------------------------- */

static struct arena schema_arena;
static struct gql_schema schema;
static const struct gql_type *all_types[MAX_TYPES];
static size_t nall_types;

static char *fmt(const char *f, const char *a, const char *b)
{
	char tmp[256];
	snprintf(tmp, sizeof(tmp), f, a, b);
	return arena_strdup(&schema_arena, tmp);
}

static struct gql_type *new_type(enum gql_kind kind, const char *name, const char *description)
{
	struct gql_type *t = ARENA_NEW(&schema_arena, struct gql_type);
	t->kind = kind;
	t->name = name;
	t->description = description;
	assert(nall_types < MAX_TYPES);
	all_types[nall_types++] = t;
	return t;
}

static const struct gql_type *nn(const struct gql_type *of)
{
	struct gql_type *t = (struct gql_type *)of;
	if (!t->non_null) {
		t->non_null = ARENA_NEW(&schema_arena, struct gql_type);
		t->non_null->kind = GK_NON_NULL;
		t->non_null->of = of;
	}
	return t->non_null;
}

static const struct gql_type *list(const struct gql_type *of)
{
	struct gql_type *t = (struct gql_type *)of;
	if (!t->list) {
		t->list = ARENA_NEW(&schema_arena, struct gql_type);
		t->list->kind = GK_LIST;
		t->list->of = of;
	}
	return t->list;
}

/* [T!]! and [T!] */
static const struct gql_type *nn_list_nn(const struct gql_type *of)
{
	return nn(list(nn(of)));
}

static const struct gql_type *list_nn(const struct gql_type *of)
{
	return list(nn(of));
}

/* Scratch lists of fields, inputs and enum values, sorted into the type at the end. */
struct members {
	struct gql_field fields[MAX_MEMBERS];
	struct gql_input_value inputs[MAX_MEMBERS];
	struct gql_enum_value values[MAX_MEMBERS];
	size_t nfields, ninputs, nvalues;
};

static struct gql_field *field(struct members *m, const char *name, const struct gql_type *type,
			       enum gql_field_kind kind, const char *description)
{
	assert(m->nfields < MAX_MEMBERS);
	struct gql_field *f = &m->fields[m->nfields++];
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->type = type;
	f->kind = kind;
	f->description = description;
	return f;
}

static struct gql_input_value *input(struct members *m, const char *name,
				     const struct gql_type *type, enum gql_input_role role,
				     const char *description)
{
	assert(m->ninputs < MAX_MEMBERS);
	struct gql_input_value *v = &m->inputs[m->ninputs++];
	memset(v, 0, sizeof(*v));
	v->name = name;
	v->type = type;
	v->role = role;
	v->description = description;
	return v;
}

static void enum_value(struct members *m, const char *name, int value, const char *description)
{
	assert(m->nvalues < MAX_MEMBERS);
	m->values[m->nvalues++] = (struct gql_enum_value){ .name = name, .value = value,
							   .description = description };
}

static int by_field_name(const void *a, const void *b)
{
	return strcmp(((const struct gql_field *)a)->name, ((const struct gql_field *)b)->name);
}

static int by_input_name(const void *a, const void *b)
{
	return strcmp(((const struct gql_input_value *)a)->name,
		      ((const struct gql_input_value *)b)->name);
}

static int by_value_name(const void *a, const void *b)
{
	return strcmp(((const struct gql_enum_value *)a)->name,
		      ((const struct gql_enum_value *)b)->name);
}

/* Copies the scratch inputs out, sorted; empties them. */
static const struct gql_input_value *take_inputs(struct members *m, size_t *n)
{
	struct gql_input_value *v = ARENA_NEW_ARRAY(&schema_arena, struct gql_input_value,
						    m->ninputs ? m->ninputs : 1);
	memcpy(v, m->inputs, m->ninputs * sizeof(*v));
	qsort(v, m->ninputs, sizeof(*v), by_input_name);
	*n = m->ninputs;
	m->ninputs = 0;
	return v;
}

/* Moves the scratch members into `t`, sorted by name; empties them. */
static void finish(struct gql_type *t, struct members *m)
{
	if (m->nfields) {
		struct gql_field *f = ARENA_NEW_ARRAY(&schema_arena, struct gql_field, m->nfields);
		memcpy(f, m->fields, m->nfields * sizeof(*f));
		qsort(f, m->nfields, sizeof(*f), by_field_name);
		t->fields = f;
		t->nfields = m->nfields;
		m->nfields = 0;
	}
	if (m->ninputs)
		t->inputs = take_inputs(m, &t->ninputs);
	if (m->nvalues) {
		struct gql_enum_value *v = ARENA_NEW_ARRAY(&schema_arena, struct gql_enum_value,
							   m->nvalues);
		memcpy(v, m->values, m->nvalues * sizeof(*v));
		qsort(v, m->nvalues, sizeof(*v), by_value_name);
		t->values = v;
		t->nvalues = m->nvalues;
		m->nvalues = 0;
	}
}

/* ---- scalars and shared types ------------------------------------------------------ */

static const struct gql_type *t_int, *t_float, *t_string, *t_boolean, *t_timestamp, *t_order_by;

static const struct gql_type *scalar(const char *name, enum gql_scalar s, const char *description)
{
	struct gql_type *t = new_type(GK_SCALAR, name, description);
	t->scalar = s;
	return t;
}

/* The GraphQL type of a column's values (nullable). */
static const struct gql_type *column_type(const struct q_column *c)
{
	switch (c->type) {
	case QTY_INT:
		return t_int;
	case QTY_FLOAT:
		return t_float;
	case QTY_TIMESTAMP:
		return t_timestamp;
	case QTY_TEXT:
		return t_string;
	}
	return t_string;
}

static const struct gql_type *comparison_exp[4]; /* by enum q_type */

/* <Scalar>_comparison_exp: _eq, _gt, ... (text adds the LIKE family). */
static const struct gql_type *make_comparison(const struct gql_type *scalar_type, bool text)
{
	struct members *m = calloc(1, sizeof(*m));
	static const struct {
		const char *name;
		enum q_cmp op;
		bool list, boolean, text;
		const char *description;
	} ops[] = {
		{ "_eq", QOP_EQ, false, false, false, "equal to" },
		{ "_neq", QOP_NEQ, false, false, false, "not equal to" },
		{ "_gt", QOP_GT, false, false, false, "greater than" },
		{ "_gte", QOP_GTE, false, false, false, "greater than or equal to" },
		{ "_lt", QOP_LT, false, false, false, "less than" },
		{ "_lte", QOP_LTE, false, false, false, "less than or equal to" },
		{ "_in", QOP_IN, true, false, false, "one of the list (an empty list: none)" },
		{ "_nin", QOP_NIN, true, false, false, "none of the list" },
		{ "_is_null", QOP_IS_NULL, false, true, false,
		  "true: the value is null; false: it is not" },
		{ "_like", QOP_LIKE, false, false, true,
		  "matches the SQL LIKE pattern (% any text, _ one character, \\ escapes)" },
		{ "_nlike", QOP_NLIKE, false, false, true, "does not match the LIKE pattern" },
		{ "_ilike", QOP_ILIKE, false, false, true,
		  "matches the LIKE pattern ignoring case, for all of Unicode" },
		{ "_nilike", QOP_NILIKE, false, false, true,
		  "does not match the LIKE pattern ignoring case" },
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (ops[i].text && !text)
			continue;
		const struct gql_type *t = ops[i].boolean ? t_boolean
				 : ops[i].list	  ? list_nn(scalar_type)
						  : scalar_type;
		input(m, ops[i].name, t, GI_CMP, ops[i].description)->op = ops[i].op;
	}
	struct gql_type *t = new_type(
		GK_INPUT_OBJECT, fmt("%s_comparison_exp", scalar_type->name, NULL),
		fmt("Conditions on a value of type %s; all that are given must hold.",
		    scalar_type->name, NULL));
	finish(t, m);
	free(m);
	return t;
}

/* ---- tables ----------------------------------------------------------------------- */

/* Every type generated for one table. */
struct table_types {
	struct gql_type *object, *bool_exp, *order_by, *select_column, *aggregate,
		*aggregate_fields, *avg, *sum, *max, *min, *aggregate_order_by, *insert_input,
		*set_input, *pk_columns_input, *mutation_response;
};

static struct table_types tt[QT__COUNT];

static bool numeric(const struct q_column *c)
{
	return c->type == QTY_INT || c->type == QTY_FLOAT;
}

/* Columns a client may write, as the REST API takes them. */
static bool writable(enum q_table table, int column)
{
	switch (table) {
	case QT_INSIGHTS:
		return column == QI_TITLE || column == QI_DESCRIPTION || column == QI_CONTENT ||
		       column == QI_SOURCE || column == QI_AUTHOR || column == QI_CATEGORY_ID ||
		       column == QI_PRIORITY || column == QI_STATUS || column == QI_REVIEW_BY ||
		       column == QI_OWNER;
	case QT_TAGS:
		return column == QG_NAME || column == QG_SLUG || column == QG_DESCRIPTION ||
		       column == QG_COLOR;
	case QT_CATEGORIES:
		return column == QC_NAME || column == QC_SLUG || column == QC_DESCRIPTION ||
		       column == QC_PARENT_ID || column == QC_COLOR || column == QC_ICON;
	case QT__COUNT:
		break;
	}
	return false;
}

/* The names of every table's types, made first so that types can refer to each other. */
static void declare_table(enum q_table t)
{
	const char *n = q_table_names[t];
	struct table_types *x = &tt[t];
	x->object = new_type(GK_OBJECT, n, fmt("Rows of the table \"%s\", with their relationships.", n, NULL));
	x->bool_exp = new_type(GK_INPUT_OBJECT, fmt("%s_bool_exp", n, NULL),
			       fmt("A condition on rows of \"%s\"; the fields given must all hold.", n, NULL));
	x->order_by = new_type(GK_INPUT_OBJECT, fmt("%s_order_by", n, NULL),
			       fmt("How to order rows of \"%s\".", n, NULL));
	x->select_column = new_type(GK_ENUM, fmt("%s_select_column", n, NULL),
				    fmt("The columns of \"%s\".", n, NULL));
	x->aggregate = new_type(GK_OBJECT, fmt("%s_aggregate", n, NULL),
				fmt("Aggregates over rows of \"%s\", and the rows.", n, NULL));
	x->aggregate_fields = new_type(GK_OBJECT, fmt("%s_aggregate_fields", n, NULL),
				       fmt("Aggregate functions over rows of \"%s\".", n, NULL));
	x->avg = new_type(GK_OBJECT, fmt("%s_avg_fields", n, NULL), "Averages of the numeric columns.");
	x->sum = new_type(GK_OBJECT, fmt("%s_sum_fields", n, NULL), "Sums of the numeric columns.");
	x->max = new_type(GK_OBJECT, fmt("%s_max_fields", n, NULL), "Largest values of the columns.");
	x->min = new_type(GK_OBJECT, fmt("%s_min_fields", n, NULL), "Smallest values of the columns.");
	x->aggregate_order_by = new_type(GK_INPUT_OBJECT, fmt("%s_aggregate_order_by", n, NULL),
					 fmt("How to order by an aggregate of related rows of \"%s\".", n, NULL));
	x->insert_input = new_type(GK_INPUT_OBJECT, fmt("%s_insert_input", n, NULL),
				   fmt("A new row of \"%s\", with the fields the REST API takes.", n, NULL));
	x->set_input = new_type(GK_INPUT_OBJECT, fmt("%s_set_input", n, NULL),
				fmt("Changes to rows of \"%s\": the fields given are set.", n, NULL));
	x->pk_columns_input = new_type(GK_INPUT_OBJECT, fmt("%s_pk_columns_input", n, NULL),
				       fmt("The primary key of a row of \"%s\".", n, NULL));
	x->mutation_response = new_type(GK_OBJECT, fmt("%s_mutation_response", n, NULL),
					fmt("What a mutation of \"%s\" did.", n, NULL));
	for (struct gql_type **p = &x->object; p <= &x->mutation_response; p++)
		(*p)->table = t;
}

/* The arguments of a field that reads rows of `t`: distinct_on, limit, offset, order_by, where. */
static void select_args(struct members *m, enum q_table t)
{
	input(m, "distinct_on", list_nn(tt[t].select_column), GI_DISTINCT_ON,
	      "keep the first row (in the order asked) of each distinct combination of these columns");
	input(m, "limit", t_int, GI_LIMIT, "the most rows to answer");
	input(m, "offset", t_int, GI_OFFSET, "how many rows to skip");
	input(m, "order_by", list_nn(tt[t].order_by), GI_ORDER_BY,
	      "the order of the rows (ties broken by primary key)");
	input(m, "where", tt[t].bool_exp, GI_WHERE, "which rows");
}

static struct gql_field *field_with_args(struct members *m, struct members *args, const char *name,
					 const struct gql_type *type, enum gql_field_kind kind,
					 const char *description)
{
	struct gql_field *f = field(m, name, type, kind, description);
	f->args = take_inputs(args, &f->nargs);
	return f;
}

static void define_table(enum q_table t)
{
	struct table_types *x = &tt[t];
	const struct q_column *cols = q_columns[t];
	size_t ncols = q_ncolumns[t];
	struct members *m = calloc(1, sizeof(*m)), *args = calloc(1, sizeof(*args));

	/* The object type: columns, then relationships. */
	for (size_t c = 0; c < ncols; c++) {
		const struct gql_type *ct = column_type(&cols[c]);
		field(m, cols[c].name, cols[c].nullable ? ct : nn(ct), GF_COLUMN, NULL)->column = (int)c;
	}
	for (int r = 0; r < QR__COUNT; r++) {
		const struct q_rel_info *ri = &q_rels[r];
		if (ri->from != t)
			continue;
		if (!ri->array) {
			field(m, ri->name, tt[ri->to].object, GF_OBJ_REL,
			      "the related row (an object relationship)")->rel = (enum q_rel)r;
			continue;
		}
		select_args(args, ri->to);
		field_with_args(m, args, ri->name, nn_list_nn(tt[ri->to].object), GF_ARR_REL,
				"the related rows (an array relationship)")->rel = (enum q_rel)r;
		select_args(args, ri->to);
		field_with_args(m, args, fmt("%s_aggregate", ri->name, NULL), nn(tt[ri->to].aggregate),
				GF_ARR_REL_AGG, "aggregates over the related rows")->rel = (enum q_rel)r;
	}
	finish(x->object, m);

	/* <t>_bool_exp */
	input(m, "_and", list_nn(x->bool_exp), GI_AND, "all of these hold (none given: true)");
	input(m, "_or", list_nn(x->bool_exp), GI_OR, "one of these holds (none given: false)");
	input(m, "_not", x->bool_exp, GI_NOT, "this does not hold");
	for (size_t c = 0; c < ncols; c++)
		input(m, cols[c].name, comparison_exp[cols[c].type], GI_COLUMN, NULL)->column = (int)c;
	for (int r = 0; r < QR__COUNT; r++)
		if (q_rels[r].from == t)
			input(m, q_rels[r].name, tt[q_rels[r].to].bool_exp, GI_REL,
			      q_rels[r].array ? "at least one related row satisfies this"
					      : "the related row exists and satisfies this")
				->rel = (enum q_rel)r;
	finish(x->bool_exp, m);

	/* <t>_order_by */
	for (size_t c = 0; c < ncols; c++)
		input(m, cols[c].name, t_order_by, GI_COLUMN, NULL)->column = (int)c;
	for (int r = 0; r < QR__COUNT; r++) {
		const struct q_rel_info *ri = &q_rels[r];
		if (ri->from != t)
			continue;
		if (ri->array)
			input(m, fmt("%s_aggregate", ri->name, NULL), tt[ri->to].aggregate_order_by,
			      GI_REL_AGG, "by an aggregate of the related rows")->rel = (enum q_rel)r;
		else
			input(m, ri->name, tt[ri->to].order_by, GI_REL, "by the related row's columns")
				->rel = (enum q_rel)r;
	}
	finish(x->order_by, m);

	/* <t>_aggregate_order_by: by the number of related rows. */
	input(m, "count", t_order_by, GI_AGG_COUNT, "by how many related rows there are");
	finish(x->aggregate_order_by, m);

	/* <t>_select_column */
	for (size_t c = 0; c < ncols; c++)
		enum_value(m, cols[c].name, (int)c, "a column");
	finish(x->select_column, m);

	/* <t>_aggregate and its functions. */
	field(m, "aggregate", x->aggregate_fields, GF_AGG_AGGREGATE, "aggregate functions");
	field(m, "nodes", nn_list_nn(x->object), GF_AGG_NODES, "the rows");
	finish(x->aggregate, m);
	input(args, "columns", list_nn(x->select_column), GI_COLUMNS,
	      "count the rows where these columns are not null");
	input(args, "distinct", t_boolean, GI_DISTINCT, "count distinct values of the column");
	field_with_args(m, args, "count", nn(t_int), GF_AGG_COUNT, "how many rows");
	static const struct {
		const char *name;
		enum q_agg_fn fn;
	} fns[] = { { "avg", QA_AVG }, { "max", QA_MAX }, { "min", QA_MIN }, { "sum", QA_SUM } };
	struct gql_type *fn_types[] = { x->avg, x->max, x->min, x->sum };
	for (size_t i = 0; i < 4; i++) {
		field(m, fns[i].name, fn_types[i], GF_AGG_FN, NULL)->agg = fns[i].fn;
		struct members *cm = calloc(1, sizeof(*cm));
		for (size_t c = 0; c < ncols; c++) {
			bool num = numeric(&cols[c]);
			if ((fns[i].fn == QA_AVG || fns[i].fn == QA_SUM) && !num)
				continue;
			const struct gql_type *ct = fns[i].fn == QA_AVG ? t_float : column_type(&cols[c]);
			struct gql_field *f = field(cm, cols[c].name, ct, GF_AGG_COLUMN, NULL);
			f->column = (int)c;
			f->agg = fns[i].fn;
		}
		finish(fn_types[i], cm);
		free(cm);
	}
	finish(x->aggregate_fields, m);

	/* Mutation inputs and response. */
	for (size_t c = 0; c < ncols; c++)
		if (writable(t, (int)c)) {
			input(m, cols[c].name, column_type(&cols[c]), GI_COLUMN, NULL)->column = (int)c;
			input(args, cols[c].name, column_type(&cols[c]), GI_COLUMN, NULL)->column = (int)c;
		}
	if (t == QT_INSIGHTS) {
		input(m, "tag_ids", list_nn(t_int), GI_TAG_IDS, "the insight's tags");
		input(args, "tag_ids", list_nn(t_int), GI_TAG_IDS, "replaces the insight's tags");
	}
	finish(x->insert_input, m);
	finish(x->set_input, args);
	input(m, "id", nn(t_int), GI_COLUMN, NULL)->column = 0;
	finish(x->pk_columns_input, m);
	field(m, "affected_rows", nn(t_int), GF_AFFECTED_ROWS, "how many rows the mutation changed");
	field(m, "returning", nn_list_nn(x->object), GF_RETURNING, "the rows it changed");
	finish(x->mutation_response, m);
	free(m);
	free(args);
}

/* What _expected_revision (an extension: Hasura has no such argument) means for `t`. */
static const char *expected_doc(enum q_table t)
{
	return t == QT_INSIGHTS
		       ? "write only if the insight is still at this revision (its `revision`, "
			 "the REST API's ETag): else a constraint-violation error and nothing written "
			 "(not in Hasura)"
		       : "write only if the row is still at this version (the REST API's ETag): "
			 "else a constraint-violation error and nothing written (not in Hasura)";
}

/* Root fields of one table: reads on `q`, writes on `mu`. */
static void root_fields(enum q_table t, struct members *q, struct members *mu)
{
	const char *n = q_table_names[t];
	struct table_types *x = &tt[t];
	struct members *args = calloc(1, sizeof(*args));
	select_args(args, t);
	field_with_args(q, args, n, nn_list_nn(x->object), GF_SELECT,
			fmt("Rows of \"%s\".", n, NULL))->table = t;
	select_args(args, t);
	field_with_args(q, args, fmt("%s_aggregate", n, NULL), nn(x->aggregate), GF_AGGREGATE,
			fmt("Aggregates over rows of \"%s\".", n, NULL))->table = t;
	input(args, "id", nn(t_int), GI_ID, NULL);
	field_with_args(q, args, fmt("%s_by_pk", n, NULL), x->object, GF_BY_PK,
			fmt("The row of \"%s\" with this id, or null.", n, NULL))->table = t;

	input(args, "objects", nn_list_nn(x->insert_input), GI_OBJECTS, "the rows to insert");
	field_with_args(mu, args, fmt("insert_%s", n, NULL), x->mutation_response, GF_INSERT,
			fmt("Inserts rows into \"%s\": all or none.", n, NULL))->table = t;
	input(args, "object", nn(x->insert_input), GI_OBJECT, "the row to insert");
	field_with_args(mu, args, fmt("insert_%s_one", n, NULL), x->object, GF_INSERT_ONE,
			fmt("Inserts one row into \"%s\".", n, NULL))->table = t;
	input(args, "_set", x->set_input, GI_SET, "the columns to set");
	input(args, "where", nn(x->bool_exp), GI_WHERE, "which rows");
	field_with_args(mu, args, fmt("update_%s", n, NULL), x->mutation_response, GF_UPDATE,
			fmt("Updates the rows of \"%s\" that match.", n, NULL))->table = t;
	input(args, "_set", x->set_input, GI_SET, "the columns to set");
	input(args, "pk_columns", nn(x->pk_columns_input), GI_PK_COLUMNS, "which row");
	input(args, "_expected_revision", t_int, GI_EXPECTED_REVISION, expected_doc(t));
	field_with_args(mu, args, fmt("update_%s_by_pk", n, NULL), x->object, GF_UPDATE_BY_PK,
			fmt("Updates one row of \"%s\"; null if there is none.", n, NULL))->table = t;
	input(args, "where", nn(x->bool_exp), GI_WHERE, "which rows");
	field_with_args(mu, args, fmt("delete_%s", n, NULL), x->mutation_response, GF_DELETE,
			fmt("Deletes the rows of \"%s\" that match.", n, NULL))->table = t;
	input(args, "id", nn(t_int), GI_ID, NULL);
	input(args, "_expected_revision", t_int, GI_EXPECTED_REVISION, expected_doc(t));
	field_with_args(mu, args, fmt("delete_%s_by_pk", n, NULL), x->object, GF_DELETE_BY_PK,
			fmt("Deletes one row of \"%s\"; null if there is none.", n, NULL))->table = t;
	free(args);
}

/* search_insights, search_insights_aggregate and insights_groups. */
static void insight_extras(struct members *q)
{
	struct members *m = calloc(1, sizeof(*m));
	struct gql_type *sargs = new_type(GK_INPUT_OBJECT, "search_insights_args",
					  "The arguments of the ranked full-text search.");
	sargs->table = QT_INSIGHTS;
	input(m, "query", nn(t_string), GI_QUERY,
	      "the words to find (every word must match; ranked as POST /insights/search ranks)");
	finish(sargs, m);
	input(m, "args", nn(sargs), GI_ARGS, NULL);
	select_args(m, QT_INSIGHTS);
	field_with_args(q, m, "search_insights", nn_list_nn(tt[QT_INSIGHTS].object), GF_SEARCH,
			"Insights that match a full-text search, best first unless order_by says otherwise.")
		->table = QT_INSIGHTS;
	input(m, "args", nn(sargs), GI_ARGS, NULL);
	select_args(m, QT_INSIGHTS);
	field_with_args(q, m, "search_insights_aggregate", nn(tt[QT_INSIGHTS].aggregate),
			GF_SEARCH_AGGREGATE, "Aggregates over the insights a full-text search matches.")
		->table = QT_INSIGHTS;

	/* insights_groups: one row per distinct combination of the group_by columns. */
	struct gql_type *keys = new_type(GK_OBJECT, "insights_group_keys",
					 "The values of the grouping columns (the others are null).");
	keys->table = QT_INSIGHTS;
	for (size_t c = 0; c < QI__COUNT; c++)
		field(m, q_columns[QT_INSIGHTS][c].name, column_type(&q_columns[QT_INSIGHTS][c]),
		      GF_COLUMN, NULL)->column = (int)c;
	field(m, "category", tt[QT_CATEGORIES].object, GF_OBJ_REL,
	      "the category of the group (when category_id is a grouping column)")
		->rel = QR_INSIGHT_CATEGORY;
	finish(keys, m);
	struct gql_type *group = new_type(GK_OBJECT, "insights_group",
					  "A group of insights with equal values in the grouping columns.");
	group->table = QT_INSIGHTS;
	field(m, "keys", nn(keys), GF_GROUP_KEYS, "what the insights of the group share");
	field(m, "aggregate", nn(tt[QT_INSIGHTS].aggregate_fields), GF_GROUP_AGGREGATE,
	      "aggregates over the group's insights");
	finish(group, m);
	input(m, "group_by", nn_list_nn(tt[QT_INSIGHTS].select_column), GI_GROUP_BY,
	      "the columns whose values make a group");
	input(m, "where", tt[QT_INSIGHTS].bool_exp, GI_WHERE, "which insights");
	field_with_args(q, m, "insights_groups", nn_list_nn(group), GF_GROUPS,
			"Insights grouped by the values of some columns, with aggregates per group "
			"(one request for a dashboard's counts by status, priority or category).")
		->table = QT_INSIGHTS;
	free(m);
}

/* ---- introspection's types ------------------------------------------------------------ */

static const struct gql_type *t_schema, *t_type;

static void meta_types(struct members *m)
{
	struct gql_type *schema_t = new_type(GK_OBJECT, "__Schema",
		"A GraphQL service's schema: its types, its root types and its directives.");
	struct gql_type *type = new_type(GK_OBJECT, "__Type",
		"A type of the schema: a named type, or a list or non-null wrapper of one.");
	struct gql_type *fld = new_type(GK_OBJECT, "__Field", "A field of an object type.");
	struct gql_type *iv = new_type(GK_OBJECT, "__InputValue",
		"An argument, or a field of an input object type.");
	struct gql_type *ev = new_type(GK_OBJECT, "__EnumValue", "A value of an enum type.");
	struct gql_type *dir = new_type(GK_OBJECT, "__Directive", "A directive the service knows.");
	struct gql_type *kind = new_type(GK_ENUM, "__TypeKind", "What kind of type a __Type is.");
	struct gql_type *loc = new_type(GK_ENUM, "__DirectiveLocation",
		"Where in a document or a schema a directive may appear.");
	t_schema = schema_t;
	t_type = type;

	static const char *const kinds[] = { "SCALAR", "OBJECT", "INTERFACE", "UNION", "ENUM",
					     "INPUT_OBJECT", "LIST", "NON_NULL" };
	for (int i = 0; i < 8; i++)
		enum_value(m, kinds[i], i, NULL);
	finish(kind, m);
	for (int i = 0; i < GD__COUNT; i++)
		enum_value(m, gql_directive_loc_names[i], 1 << i, NULL);
	finish(loc, m);

	field(m, "description", t_string, GF_META, NULL);
	field(m, "types", nn_list_nn(type), GF_META, "every named type");
	field(m, "queryType", nn(type), GF_META, NULL);
	field(m, "mutationType", type, GF_META, NULL);
	field(m, "subscriptionType", type, GF_META, NULL);
	field(m, "directives", nn_list_nn(dir), GF_META, NULL);
	finish(schema_t, m);

	struct members *args = calloc(1, sizeof(*args));
#define INCLUDE_DEPRECATED() \
	(input(args, "includeDeprecated", t_boolean, GI_NONE, NULL)->default_value = "false")
	field(m, "kind", nn(kind), GF_META, NULL);
	field(m, "name", t_string, GF_META, NULL);
	field(m, "description", t_string, GF_META, NULL);
	field(m, "specifiedByURL", t_string, GF_META, NULL);
	INCLUDE_DEPRECATED();
	field_with_args(m, args, "fields", list_nn(fld), GF_META, NULL);
	field(m, "interfaces", list_nn(type), GF_META, NULL);
	field(m, "possibleTypes", list_nn(type), GF_META, NULL);
	INCLUDE_DEPRECATED();
	field_with_args(m, args, "enumValues", list_nn(ev), GF_META, NULL);
	INCLUDE_DEPRECATED();
	field_with_args(m, args, "inputFields", list_nn(iv), GF_META, NULL);
	field(m, "ofType", type, GF_META, NULL);
	finish(type, m);

	field(m, "name", nn(t_string), GF_META, NULL);
	field(m, "description", t_string, GF_META, NULL);
	INCLUDE_DEPRECATED();
	field_with_args(m, args, "args", nn_list_nn(iv), GF_META, NULL);
	field(m, "type", nn(type), GF_META, NULL);
	field(m, "isDeprecated", nn(t_boolean), GF_META, NULL);
	field(m, "deprecationReason", t_string, GF_META, NULL);
	finish(fld, m);

	field(m, "name", nn(t_string), GF_META, NULL);
	field(m, "description", t_string, GF_META, NULL);
	field(m, "type", nn(type), GF_META, NULL);
	field(m, "defaultValue", t_string, GF_META,
	      "the default value as GraphQL text, or null when there is none");
	field(m, "isDeprecated", nn(t_boolean), GF_META, NULL);
	field(m, "deprecationReason", t_string, GF_META, NULL);
	finish(iv, m);

	field(m, "name", nn(t_string), GF_META, NULL);
	field(m, "description", t_string, GF_META, NULL);
	field(m, "isDeprecated", nn(t_boolean), GF_META, NULL);
	field(m, "deprecationReason", t_string, GF_META, NULL);
	finish(ev, m);

	field(m, "name", nn(t_string), GF_META, NULL);
	field(m, "description", t_string, GF_META, NULL);
	field(m, "isRepeatable", nn(t_boolean), GF_META, NULL);
	field(m, "locations", nn_list_nn(loc), GF_META, NULL);
	INCLUDE_DEPRECATED();
	field_with_args(m, args, "args", nn_list_nn(iv), GF_META, NULL);
	finish(dir, m);
#undef INCLUDE_DEPRECATED
	free(args);
}

/* The meta fields: __typename on every object, __schema and __type on query_root. */
static void meta_fields(void)
{
	struct gql_field *f = ARENA_NEW_ARRAY(&schema_arena, struct gql_field, 3);
	f[0] = (struct gql_field){ .name = "__typename", .type = nn(t_string), .kind = GF_META,
				   .description = "the name of the object's type" };
	f[1] = (struct gql_field){ .name = "__schema", .type = nn(t_schema), .kind = GF_SCHEMA,
				   .description = "the schema" };
	struct gql_input_value *name = ARENA_NEW(&schema_arena, struct gql_input_value);
	*name = (struct gql_input_value){ .name = "name", .type = nn(t_string) };
	f[2] = (struct gql_field){ .name = "__type", .type = t_type, .kind = GF_TYPE,
				   .description = "the named type, or null", .args = name, .nargs = 1 };
	schema.typename_field = &f[0];
	schema.schema_field = &f[1];
	schema.type_field = &f[2];
}

static void directives(void)
{
	struct gql_directive_def *d = ARENA_NEW_ARRAY(&schema_arena, struct gql_directive_def, 4);
	struct gql_input_value *a = ARENA_NEW_ARRAY(&schema_arena, struct gql_input_value, 4);
	unsigned executable = GD_FIELD | GD_FRAGMENT_SPREAD | GD_INLINE_FRAGMENT;
	a[0] = (struct gql_input_value){ .name = "if", .type = nn(t_boolean), .role = GI_IF,
					 .description = "included when true" };
	a[1] = (struct gql_input_value){ .name = "if", .type = nn(t_boolean), .role = GI_IF,
					 .description = "skipped when true" };
	a[2] = (struct gql_input_value){ .name = "reason", .type = t_string, .role = GI_REASON,
					 .default_value = "\"No longer supported\"",
					 .description = "why, and what to use instead" };
	a[3] = (struct gql_input_value){ .name = "url", .type = nn(t_string), .role = GI_URL,
					 .description = "where the scalar's behaviour is specified" };
	d[0] = (struct gql_directive_def){ "include", "Includes this part only when `if` is true.",
					   executable, &a[0], 1, false };
	d[1] = (struct gql_directive_def){ "skip", "Leaves this part out when `if` is true.",
					   executable, &a[1], 1, false };
	d[2] = (struct gql_directive_def){ "deprecated", "Marks an element of the schema as deprecated.",
					   GD_FIELD_DEFINITION | GD_ARGUMENT_DEFINITION |
						   GD_INPUT_FIELD_DEFINITION | GD_ENUM_VALUE,
					   &a[2], 1, false };
	d[3] = (struct gql_directive_def){ "specifiedBy", "Where a custom scalar's behaviour is specified.",
					   GD_SCALAR, &a[3], 1, false };
	schema.directives = d;
	schema.ndirectives = 4;
}

static int by_type_name(const void *a, const void *b)
{
	return strcmp((*(const struct gql_type *const *)a)->name,
		      (*(const struct gql_type *const *)b)->name);
}

static void build(void)
{
	struct members *q = calloc(1, sizeof(*q)), *mu = calloc(1, sizeof(*mu));
	struct members *m = calloc(1, sizeof(*m));
	t_int = scalar("Int", GS_INT, "A signed whole number of at most 32 bits.");
	t_float = scalar("Float", GS_FLOAT, "A signed double-precision floating-point number.");
	t_string = scalar("String", GS_STRING, "Text, as UTF-8.");
	t_boolean = scalar("Boolean", GS_BOOLEAN, "true or false.");
	struct gql_type *ts = (struct gql_type *)scalar(
		"timestamp", GS_TIMESTAMP,
		"A date and time in UTC, as ISO 8601 text: \"2024-01-15T10:30:00Z\" (a time "
		"without an offset is read as UTC).");
	ts->specified_by = NULL;
	t_timestamp = ts;
	struct gql_type *ob = new_type(GK_ENUM, "order_by", "The direction of an ordering.");
	enum_value(m, "asc", GO_ASC, "ascending, nulls last");
	enum_value(m, "asc_nulls_first", GO_ASC_NULLS_FIRST, "ascending, nulls first");
	enum_value(m, "asc_nulls_last", GO_ASC_NULLS_LAST, "ascending, nulls last");
	enum_value(m, "desc", GO_DESC, "descending, nulls first");
	enum_value(m, "desc_nulls_first", GO_DESC_NULLS_FIRST, "descending, nulls first");
	enum_value(m, "desc_nulls_last", GO_DESC_NULLS_LAST, "descending, nulls last");
	finish(ob, m);
	t_order_by = ob;
	/* A comparison type for each type of column there is, as Hasura makes them. */
	bool used[4] = { false };
	for (int t = 0; t < QT__COUNT; t++)
		for (size_t c = 0; c < q_ncolumns[t]; c++)
			used[q_columns[t][c].type] = true;
	static const enum q_type qtypes[] = { QTY_INT, QTY_FLOAT, QTY_TEXT, QTY_TIMESTAMP };
	for (size_t i = 0; i < 4; i++)
		if (used[qtypes[i]])
			comparison_exp[qtypes[i]] = make_comparison(
				column_type(&(struct q_column){ .type = qtypes[i] }), qtypes[i] == QTY_TEXT);

	for (int t = 0; t < QT__COUNT; t++)
		declare_table((enum q_table)t);
	for (int t = 0; t < QT__COUNT; t++)
		define_table((enum q_table)t);
	for (int t = 0; t < QT__COUNT; t++)
		root_fields((enum q_table)t, q, mu);
	insight_extras(q);
	meta_types(m);

	struct gql_type *query = new_type(GK_OBJECT, "query_root", "Reads.");
	finish(query, q);
	struct gql_type *mutation = new_type(GK_OBJECT, "mutation_root",
					     "Writes: the fields of one request run in order, in one "
					     "transaction; if one fails, nothing is written.");
	finish(mutation, mu);
	schema.query = query;
	schema.mutation = mutation;
	meta_fields();
	directives();
	qsort(all_types, nall_types, sizeof(all_types[0]), by_type_name);
	schema.types = all_types;
	schema.ntypes = nall_types;
	free(q);
	free(mu);
	free(m);
}

const struct gql_schema *gql_schema(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, build);
	return &schema;
}

/* ---- lookups ---------------------------------------------------------------------------- */

const struct gql_type *gql_type_find(const struct gql_schema *s, const char *name)
{
	size_t lo = 0, hi = s->ntypes;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->types[mid]->name, name);
		if (!c)
			return s->types[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct gql_field *gql_field_find(const struct gql_schema *s, const struct gql_type *t,
				       const char *name)
{
	if (name[0] == '_' && name[1] == '_') {
		if (!strcmp(name, "__typename"))
			return s->typename_field;
		if (t == s->query && !strcmp(name, "__schema"))
			return s->schema_field;
		if (t == s->query && !strcmp(name, "__type"))
			return s->type_field;
	}
	size_t lo = 0, hi = t->nfields;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->fields[mid].name, name);
		if (!c)
			return &t->fields[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct gql_input_value *gql_input_find(const struct gql_input_value *v, size_t n,
					     const char *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].name, name);
		if (!c)
			return &v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct gql_enum_value *gql_enum_find(const struct gql_type *t, const char *name)
{
	size_t lo = 0, hi = t->nvalues;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->values[mid].name, name);
		if (!c)
			return &t->values[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct gql_directive_def *gql_directive_find(const struct gql_schema *s, const char *name)
{
	for (size_t i = 0; i < s->ndirectives; i++)
		if (!strcmp(s->directives[i].name, name))
			return &s->directives[i];
	return NULL;
}

const struct gql_type *gql_named(const struct gql_type *t)
{
	while (t->kind == GK_LIST || t->kind == GK_NON_NULL)
		t = t->of;
	return t;
}

void gql_type_write(struct buf *b, const struct gql_type *t)
{
	switch (t->kind) {
	case GK_LIST:
		buf_addch(b, '[');
		gql_type_write(b, t->of);
		buf_addch(b, ']');
		return;
	case GK_NON_NULL:
		gql_type_write(b, t->of);
		buf_addch(b, '!');
		return;
	default:
		buf_adds(b, t->name);
	}
}

bool gql_is_input(const struct gql_type *t)
{
	t = gql_named(t);
	return t->kind == GK_SCALAR || t->kind == GK_ENUM || t->kind == GK_INPUT_OBJECT;
}

bool gql_is_leaf(const struct gql_type *t)
{
	t = gql_named(t);
	return t->kind == GK_SCALAR || t->kind == GK_ENUM;
}

/* ---- SDL -------------------------------------------------------------------------------- */

static void sdl_inputs(struct buf *out, const struct gql_input_value *v, size_t n, bool args)
{
	if (args && !n)
		return;
	if (args)
		buf_addch(out, '(');
	for (size_t i = 0; i < n; i++) {
		buf_addf(out, args ? "%s%s: " : "  %s%s: ", args && i ? ", " : "", v[i].name);
		gql_type_write(out, v[i].type);
		if (v[i].default_value)
			buf_addf(out, " = %s", v[i].default_value);
		if (!args)
			buf_addch(out, '\n');
	}
	if (args)
		buf_addch(out, ')');
}

void gql_schema_sdl(const struct gql_schema *s, struct buf *out)
{
	buf_addf(out, "schema {\n  query: %s\n  mutation: %s\n}\n", s->query->name,
		 s->mutation->name);
	for (size_t i = 0; i < s->ntypes; i++) {
		const struct gql_type *t = s->types[i];
		if (!strncmp(t->name, "__", 2))
			continue;
		switch (t->kind) {
		case GK_SCALAR:
			if (t->scalar == GS_TIMESTAMP)
				buf_addf(out, "\nscalar %s\n", t->name);
			break;
		case GK_ENUM:
			buf_addf(out, "\nenum %s {\n", t->name);
			for (size_t k = 0; k < t->nvalues; k++)
				buf_addf(out, "  %s\n", t->values[k].name);
			buf_adds(out, "}\n");
			break;
		case GK_INPUT_OBJECT:
			buf_addf(out, "\ninput %s {\n", t->name);
			sdl_inputs(out, t->inputs, t->ninputs, false);
			buf_adds(out, "}\n");
			break;
		case GK_OBJECT:
			buf_addf(out, "\ntype %s {\n", t->name);
			for (size_t k = 0; k < t->nfields; k++) {
				buf_addf(out, "  %s", t->fields[k].name);
				sdl_inputs(out, t->fields[k].args, t->fields[k].nargs, true);
				buf_adds(out, ": ");
				gql_type_write(out, t->fields[k].type);
				buf_addch(out, '\n');
			}
			buf_adds(out, "}\n");
			break;
		default:
			break;
		}
	}
}
