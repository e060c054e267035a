/*
 * schema.h: the GraphQL schema of the data API, in Hasura's dialect: its
 * types, fields, arguments and directives, as one immutable structure that
 * the validator, the planner, the executor and introspection all read. It
 * is built once, at the first call of gql_schema(), from core/query.h's
 * tables, columns and relationships: a column added there appears here,
 * with every type Hasura would generate for it (comparison, order, select
 * column, aggregate, insert and set inputs), and introspection answers
 * from the same structure the executor runs, so the two cannot disagree.
 *
 * Type and field names follow Hasura v2's generator: `insights`,
 * `insights_bool_exp`, `insights_order_by`, `insights_select_column`,
 * `insights_aggregate`, `insights_aggregate_fields`, `insights_max_fields`,
 * `insights_insert_input`, `insights_set_input`,
 * `insights_pk_columns_input`, `insights_mutation_response`,
 * `String_comparison_exp`, `order_by`, `query_root`, `mutation_root`.
 * Fields and input fields are sorted by name, as Hasura lists them.
 */
#ifndef INSIGHTS_GQL_SCHEMA_H
#define INSIGHTS_GQL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "core/query.h"
#include "lib/buf.h"

enum gql_kind {
	GK_SCALAR,
	GK_OBJECT,
	GK_INTERFACE,     /* none in this schema; named for introspection */
	GK_UNION,         /* none either */
	GK_ENUM,
	GK_INPUT_OBJECT,
	GK_LIST,
	GK_NON_NULL,
};

/* What a scalar is, for coercing values. */
enum gql_scalar {
	GS_NONE,
	GS_INT,
	GS_FLOAT,
	GS_STRING,
	GS_BOOLEAN,
	GS_ID,
	GS_TIMESTAMP,     /* Hasura's `timestamp`: an ISO 8601 date and time, as text */
};

/*
 * What an input value (an argument or an input object's field) means to
 * the planner; GI_NONE for those it reads by name (introspection's).
 */
enum gql_input_role {
	GI_NONE,
	/* arguments of fields that read rows */
	GI_WHERE, GI_ORDER_BY, GI_LIMIT, GI_OFFSET, GI_DISTINCT_ON, GI_ID, GI_ARGS, GI_GROUP_BY,
	/* arguments of mutations */
	GI_OBJECTS, GI_OBJECT, GI_SET, GI_PK_COLUMNS, GI_EXPECTED_REVISION,
	/* count(columns, distinct) */
	GI_COLUMNS, GI_DISTINCT,
	/* fields of <table>_bool_exp */
	GI_AND, GI_OR, GI_NOT, GI_COLUMN, GI_REL,
	/* fields of <scalar>_comparison_exp: `op` says which */
	GI_CMP,
	/* fields of <table>_order_by: GI_COLUMN, GI_REL (object: a nested order), GI_REL_AGG */
	GI_REL_AGG,
	/* fields of <table>_aggregate_order_by */
	GI_AGG_COUNT,
	/* fields of search_insights_args */
	GI_QUERY,
	/* fields of <table>_insert_input and _set_input: GI_COLUMN, and */
	GI_TAG_IDS,
	/* @include/@skip's `if`, @deprecated's `reason`, @specifiedBy's `url` */
	GI_IF, GI_REASON, GI_URL,
};

struct gql_type;

struct gql_input_value {
	const char *name;
	const char *description;
	const struct gql_type *type;
	/* The default as GraphQL text ("false"), or NULL. */
	const char *default_value;
	enum gql_input_role role;
	int column;             /* GI_COLUMN */
	enum q_rel rel;         /* GI_REL, GI_REL_AGG */
	enum q_cmp op;          /* GI_CMP */
};

/* What the executor does for a field. */
enum gql_field_kind {
	GF_META,          /* introspection's own fields, resolved by name */
	/* query_root */
	GF_SELECT,        /* <table>(where, order_by, limit, offset, distinct_on) */
	GF_BY_PK,         /* <table>_by_pk(id) */
	GF_AGGREGATE,     /* <table>_aggregate(...) */
	GF_SEARCH,        /* search_insights(args, ...) */
	GF_SEARCH_AGGREGATE,
	GF_GROUPS,        /* insights_groups(group_by, where) */
	GF_SCHEMA,        /* __schema */
	GF_TYPE,          /* __type(name) */
	/* mutation_root */
	GF_INSERT, GF_INSERT_ONE, GF_UPDATE, GF_UPDATE_BY_PK, GF_DELETE, GF_DELETE_BY_PK,
	/* fields of a table's object type */
	GF_COLUMN,        /* `column` */
	GF_OBJ_REL,       /* `rel`: the related row or null */
	GF_ARR_REL,       /* `rel`: the related rows (where, order_by, limit, ...) */
	GF_ARR_REL_AGG,   /* `rel`_aggregate */
	/* <table>_aggregate */
	GF_AGG_AGGREGATE, /* aggregate: <table>_aggregate_fields */
	GF_AGG_NODES,     /* nodes: [<table>!]! */
	/* <table>_aggregate_fields */
	GF_AGG_COUNT,     /* count(columns, distinct) */
	GF_AGG_FN,        /* sum/avg/max/min: `agg` of each column below */
	GF_AGG_COLUMN,    /* a column of <table>_<fn>_fields */
	/* insights_group */
	GF_GROUP_KEYS,
	GF_GROUP_AGGREGATE,
	/* <table>_mutation_response */
	GF_AFFECTED_ROWS,
	GF_RETURNING,
};

struct gql_field {
	const char *name;
	const char *description;
	const struct gql_type *type;
	const struct gql_input_value *args;   /* sorted by name */
	size_t nargs;
	bool deprecated;
	const char *deprecation_reason;
	enum gql_field_kind kind;
	enum q_table table;     /* GF_SELECT .. GF_DELETE_BY_PK: the table */
	int column;             /* GF_COLUMN, GF_AGG_COLUMN */
	enum q_rel rel;         /* GF_OBJ_REL, GF_ARR_REL, GF_ARR_REL_AGG */
	enum q_agg_fn agg;      /* GF_AGG_FN, GF_AGG_COLUMN */
};

struct gql_enum_value {
	const char *name;
	const char *description;
	bool deprecated;
	const char *deprecation_reason;
	int value;              /* a column for select_column enums; an ordering for order_by */
};

struct gql_type {
	enum gql_kind kind;
	const char *name;                       /* NULL for GK_LIST and GK_NON_NULL */
	const char *description;
	const struct gql_field *fields;         /* GK_OBJECT, sorted by name */
	size_t nfields;
	const struct gql_input_value *inputs;   /* GK_INPUT_OBJECT, sorted by name */
	size_t ninputs;
	const struct gql_enum_value *values;    /* GK_ENUM, sorted by name */
	size_t nvalues;
	const struct gql_type *of;              /* GK_LIST, GK_NON_NULL */
	const char *specified_by;               /* GK_SCALAR */
	enum gql_scalar scalar;                 /* GK_SCALAR */
	/* The table a table's object, input and enum types are about. */
	enum q_table table;
	/* The wrappers of this type, made once: [T] and T!. */
	struct gql_type *list, *non_null;
};

/* The values of the order_by enum. */
enum gql_order { GO_ASC, GO_ASC_NULLS_FIRST, GO_ASC_NULLS_LAST, GO_DESC, GO_DESC_NULLS_FIRST,
		 GO_DESC_NULLS_LAST };

enum gql_directive_loc {
	GD_QUERY = 1 << 0,
	GD_MUTATION = 1 << 1,
	GD_SUBSCRIPTION = 1 << 2,
	GD_FIELD = 1 << 3,
	GD_FRAGMENT_DEFINITION = 1 << 4,
	GD_FRAGMENT_SPREAD = 1 << 5,
	GD_INLINE_FRAGMENT = 1 << 6,
	GD_VARIABLE_DEFINITION = 1 << 7,
	GD_SCHEMA = 1 << 8,
	GD_SCALAR = 1 << 9,
	GD_OBJECT = 1 << 10,
	GD_FIELD_DEFINITION = 1 << 11,
	GD_ARGUMENT_DEFINITION = 1 << 12,
	GD_INTERFACE = 1 << 13,
	GD_UNION = 1 << 14,
	GD_ENUM = 1 << 15,
	GD_ENUM_VALUE = 1 << 16,
	GD_INPUT_OBJECT = 1 << 17,
	GD_INPUT_FIELD_DEFINITION = 1 << 18,
};
#define GD__COUNT 19

/* The spelling of location bit i (1 << i): "QUERY", "FIELD", ... */
extern const char *const gql_directive_loc_names[GD__COUNT];

struct gql_directive_def {
	const char *name;
	const char *description;
	unsigned locations;     /* enum gql_directive_loc bits */
	const struct gql_input_value *args;
	size_t nargs;
	bool repeatable;
};

struct gql_schema {
	const struct gql_type *const *types;    /* every named type, sorted by name */
	size_t ntypes;
	const struct gql_type *query, *mutation; /* query_root, mutation_root */
	const struct gql_directive_def *directives; /* @include @skip @deprecated @specifiedBy */
	size_t ndirectives;
	const char *description;
	/* Fields every object has, and those only query_root has. */
	const struct gql_field *typename_field;  /* __typename: String! */
	const struct gql_field *schema_field;    /* __schema: __Schema! */
	const struct gql_field *type_field;      /* __type(name: String!): __Type */
};

/* The schema (built at the first call, thread-safely; never freed). */
const struct gql_schema *gql_schema(void);

/* The named type `name`, or NULL. */
const struct gql_type *gql_type_find(const struct gql_schema *s, const char *name);
/*
 * The field `name` of object type `t`, including the meta fields
 * (__typename everywhere; __schema and __type on query_root), or NULL.
 */
const struct gql_field *gql_field_find(const struct gql_schema *s, const struct gql_type *t,
				       const char *name);
/* The input value `name` among `n` sorted ones, or NULL. */
const struct gql_input_value *gql_input_find(const struct gql_input_value *v, size_t n,
					     const char *name);
/* The value `name` of enum type `t`, or NULL. */
const struct gql_enum_value *gql_enum_find(const struct gql_type *t, const char *name);
const struct gql_directive_def *gql_directive_find(const struct gql_schema *s, const char *name);

/* The named type under any wrappers. */
const struct gql_type *gql_named(const struct gql_type *t);
/* Appends the type as GraphQL writes it: "[insights!]!". */
void gql_type_write(struct buf *b, const struct gql_type *t);
/* Whether a type is an input type (scalar, enum, input object, or wrappers of them). */
bool gql_is_input(const struct gql_type *t);
/* Whether a type is a leaf (scalar or enum) under any wrappers. */
bool gql_is_leaf(const struct gql_type *t);

/* The schema in SDL, for tools and tests (graphql-js reads it). */
void gql_schema_sdl(const struct gql_schema *s, struct buf *out);

#endif
