/*
 * ast.h: the syntax tree of an executable GraphQL document (the October 2021
 * specification's ExecutableDocument: operations and fragments), as
 * graphql/parser.h's gql_parse() builds it.
 *
 * Every node, array and string of a tree lives in the arena given to
 * gql_parse() and dies with it; nothing is freed on its own, and nothing
 * points into the parsed text, which may go as soon as gql_parse() returns.
 * Strings are NUL-terminated UTF-8 (a string value cannot contain U+0000:
 * the parser refuses it). An array with no items is NULL with a count of 0.
 * Optional parts that are absent are NULL.
 *
 * Every node carries the position of its first character. Lines and
 * columns start at 1; a line ends at "\n", "\r\n" or a lone "\r" (the
 * specification's LineTerminator); columns count Unicode code points.
 * graphql-js counts UTF-16 code units instead, so its columns are one
 * larger for each character above U+FFFF earlier on the same line; they
 * agree everywhere else.
 */
#ifndef INSIGHTS_GQL_AST_H
#define INSIGHTS_GQL_AST_H

#include <stdbool.h>
#include <stddef.h>

struct gql_pos {
	unsigned line;   /* 1-based */
	unsigned column; /* 1-based, in code points */
};

struct gql_value;
struct gql_directive;
struct gql_selection_set;

enum gql_value_kind {
	GQL_VARIABLE, /* $name: text is the name without "$" */
	GQL_INT,      /* text is the literal as written: "-12" */
	GQL_FLOAT,    /* text is the literal as written: "1.5e3" */
	GQL_STRING,   /* text is the decoded value (escapes and block strings resolved) */
	GQL_BOOLEAN,  /* boolean */
	GQL_NULL,     /* nothing */
	GQL_ENUM,     /* text is the name */
	GQL_LIST,     /* items, nitems */
	GQL_OBJECT,   /* fields, nfields */
};

/* One `name: value` of an input object value. */
struct gql_object_field {
	const char *name;
	struct gql_pos pos; /* of the name */
	struct gql_value *value;
};

struct gql_value {
	enum gql_value_kind kind;
	struct gql_pos pos;
	const char *text;               /* see enum gql_value_kind; NULL otherwise */
	bool boolean;                   /* GQL_BOOLEAN */
	/*
	 * GQL_STRING: written as a block string (between triple quotes rather
	 * than single ones): graphql-js tells the two apart when it compares the
	 * arguments of fields to merge, so validation must too.
	 */
	bool block;
	struct gql_value **items;       /* GQL_LIST, in order */
	size_t nitems;
	struct gql_object_field *fields; /* GQL_OBJECT, in order (duplicates kept) */
	size_t nfields;
};

/* `name: value`, of a field or of a directive. */
struct gql_argument {
	const char *name;
	struct gql_pos pos; /* of the name */
	struct gql_value *value;
};

/* `@name(args)` */
struct gql_directive {
	const char *name;
	struct gql_pos pos; /* of the "@" */
	struct gql_argument *args;
	size_t nargs;
};

enum gql_selection_kind {
	GQL_FIELD,           /* alias: name(args) @directives { set } */
	GQL_FRAGMENT_SPREAD, /* ...name @directives */
	GQL_INLINE_FRAGMENT, /* ... on type_condition @directives { set } */
};

struct gql_selection {
	enum gql_selection_kind kind;
	struct gql_pos pos;         /* of the alias or name; of the "..." for fragments */
	const char *alias;          /* GQL_FIELD: NULL when none */
	const char *name;           /* GQL_FIELD: the field; GQL_FRAGMENT_SPREAD: the fragment */
	struct gql_argument *args;  /* GQL_FIELD */
	size_t nargs;
	struct gql_directive *directives;
	size_t ndirectives;
	const char *type_condition; /* GQL_INLINE_FRAGMENT: NULL when none */
	/* GQL_FIELD: NULL when the field has none; GQL_INLINE_FRAGMENT: never NULL */
	struct gql_selection_set *set;
};

/* `{ selection+ }`: never empty. */
struct gql_selection_set {
	struct gql_pos pos; /* of the "{" */
	struct gql_selection *items;
	size_t n;
};

enum gql_type_kind {
	GQL_TYPE_NAMED,    /* name */
	GQL_TYPE_LIST,     /* [of] */
	GQL_TYPE_NON_NULL, /* of! (of is a named or list type) */
};

/* The type of a variable: `[Int!]!` is NON_NULL of LIST of NON_NULL of NAMED "Int". */
struct gql_type_ref {
	enum gql_type_kind kind;
	const char *name;          /* GQL_TYPE_NAMED; NULL otherwise */
	struct gql_type_ref *of;   /* GQL_TYPE_LIST, GQL_TYPE_NON_NULL; NULL otherwise */
	struct gql_pos pos;        /* of the name or "["; a non-null type's is its inner type's */
};

/* `$name: type = default_value @directives` */
struct gql_variable_def {
	const char *name;                /* without "$" */
	struct gql_pos pos;              /* of the "$" */
	struct gql_type_ref *type;
	struct gql_value *default_value; /* NULL when none; never holds a variable */
	struct gql_directive *directives;
	size_t ndirectives;
};

enum gql_op_kind {
	GQL_QUERY,
	GQL_MUTATION,
	GQL_SUBSCRIPTION,
};

struct gql_operation {
	enum gql_op_kind kind;       /* the shorthand `{ ... }` is an anonymous query */
	const char *name;            /* NULL when anonymous */
	struct gql_pos pos;          /* of the keyword, or of the "{" of the shorthand */
	struct gql_variable_def *vars;
	size_t nvars;
	struct gql_directive *directives;
	size_t ndirectives;
	struct gql_selection_set *set; /* never NULL */
};

/* `fragment name on type_condition @directives { set }` */
struct gql_fragment {
	const char *name;            /* never "on" */
	struct gql_pos pos;          /* of the keyword "fragment" */
	const char *type_condition;
	struct gql_directive *directives;
	size_t ndirectives;
	struct gql_selection_set *set; /* never NULL */
};

/*
 * A document: its operations and its fragments, each array in the order of
 * the text. A document that parsed holds at least one definition (it may
 * hold fragments only: that is for validation to refuse).
 */
struct gql_document {
	struct gql_operation *ops;
	size_t nops;
	struct gql_fragment *frags;
	size_t nfrags;
};

#endif
