/*
 * query.h: the intermediate form of a read that a front end composes
 * (today the GraphQL executor) and a store driver compiles into its own
 * SQL: which table, which rows (a filter tree), in which order, which page,
 * and, for relationships, under which parents. It names tables, columns and
 * relationships by enum only: every identifier of the SQL comes from the
 * driver's tables, every value travels as a bound parameter, and no text a
 * client wrote is ever spliced into a statement.
 *
 * Everything here points into the caller's arena and is only read by the
 * store.
 */
#ifndef INSIGHTS_QUERY_H
#define INSIGHTS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model.h"

enum q_table { QT_INSIGHTS, QT_TAGS, QT_CATEGORIES, QT__COUNT };

/* Columns of each table, in the order of their row structs (model.h). */
enum q_insight_col { QI_ID, QI_TITLE, QI_DESCRIPTION, QI_CONTENT, QI_SOURCE, QI_AUTHOR,
		     QI_CATEGORY_ID, QI_PRIORITY, QI_STATUS, QI_CREATED_AT, QI_UPDATED_AT,
		     QI_PUBLISHED_AT, QI_REVISION, QI_REVIEW_BY, QI_OWNER, QI_REVIEWED_AT, QI__COUNT };
enum q_tag_col { QG_ID, QG_NAME, QG_SLUG, QG_DESCRIPTION, QG_COLOR, QG_CREATED_AT,
		 QG_USAGE_COUNT, QG__COUNT };
enum q_category_col { QC_ID, QC_NAME, QC_SLUG, QC_DESCRIPTION, QC_PARENT_ID, QC_COLOR, QC_ICON,
		      QC_CREATED_AT, QC_UPDATED_AT, QC_INSIGHT_COUNT, QC__COUNT };

enum q_type { QTY_INT, QTY_TEXT, QTY_TIMESTAMP, QTY_FLOAT };

struct q_column {
	const char *name;  /* as the API spells it: "created_at" */
	enum q_type type;
	bool nullable;
};

/* Relationships between the tables. */
enum q_rel {
	QR_INSIGHT_CATEGORY,   /* object: insights.category_id -> categories */
	QR_INSIGHT_TAGS,       /* array: insights -> tags, through insight_tags */
	QR_TAG_INSIGHTS,       /* array: tags -> insights, through insight_tags */
	QR_CATEGORY_PARENT,    /* object: categories.parent_id -> categories */
	QR_CATEGORY_CHILDREN,  /* array: categories <- categories.parent_id */
	QR_CATEGORY_INSIGHTS,  /* array: categories <- insights.category_id */
	QR__COUNT
};

struct q_rel_info {
	const char *name;      /* "category", "tags", ... */
	enum q_table from, to;
	bool array;
	/* Object relationships: the column of `from` that holds the id of `to`. */
	int key;
};

/* The columns and relationships, indexed by their enums. */
extern const struct q_column *const q_columns[QT__COUNT];
extern const size_t q_ncolumns[QT__COUNT];
extern const struct q_rel_info q_rels[QR__COUNT];
extern const char *const q_table_names[QT__COUNT];

/* A value to compare with: integers and text (timestamps are text, normalised). */
struct q_value {
	enum q_type type;
	int64_t i;
	double f;
	const char *s;
};

enum q_cmp { QOP_EQ, QOP_NEQ, QOP_GT, QOP_GTE, QOP_LT, QOP_LTE, QOP_IN, QOP_NIN, QOP_IS_NULL,
	     QOP_LIKE, QOP_NLIKE, QOP_ILIKE, QOP_NILIKE };

enum q_expr_kind {
	QX_TRUE,
	QX_FALSE,
	QX_AND,   /* every kid holds (no kid: true) */
	QX_OR,    /* one kid holds (no kid: false) */
	QX_NOT,   /* kids[0] does not hold */
	QX_CMP,   /* column op values */
	QX_REL,   /* object relationship: the related row exists and `sub` holds for it;
		     array relationship: at least one related row for which `sub` holds */
};

struct q_expr {
	enum q_expr_kind kind;
	struct q_expr **kids;
	size_t nkids;
	int column;                /* QX_CMP */
	enum q_cmp op;
	const struct q_value *values; /* one; a list for IN and NIN (may be empty) */
	size_t nvalues;
	bool is_null;              /* QOP_IS_NULL: true for IS NULL, false for IS NOT NULL */
	enum q_rel rel;            /* QX_REL */
	const struct q_expr *sub;
};

enum q_order_kind {
	QO_COLUMN,      /* a column of the table */
	QO_REL_COLUMN,  /* a column of an object relationship's row */
	QO_REL_COUNT,   /* how many rows an array relationship has */
};

struct q_order {
	enum q_order_kind kind;
	int column;
	enum q_rel rel;
	bool desc;
	bool nulls_first;
};

/*
 * A page of rows. `columns` says which columns the caller reads (a bit per
 * column); the others may be left empty. Rows come in `order`, ties broken
 * by id in the direction of the first ordering (ascending without one;
 * descending, newest first, for a search ranked by relevance). With `via`, the rows are those of relationship `via`
 * (whose `to` is `table`) for each of `parents` (ids of its `from` table),
 * each carrying its parent's id, and limit and offset apply per parent.
 * With `search`, only rows matching the ranked full-text search of that
 * text (insights only), ranked by relevance when `order` is empty.
 */
struct q_select {
	enum q_table table;
	uint64_t columns;
	const struct q_expr *where;   /* NULL: every row */
	const struct q_order *order;
	size_t norder;
	int64_t limit;                /* < 0: none */
	int64_t offset;
	const int *distinct_on;       /* keep the first row of each distinct combination */
	size_t ndistinct;
	bool has_via;
	enum q_rel via;
	const int64_t *parents;       /* sorted, distinct */
	size_t nparents;
	const char *search;
};

struct q_row {
	int64_t parent;               /* with `via` */
	union {
		struct insight insight;
		struct tag tag;
		struct category category;
	} u;
};

struct q_rows {
	struct q_row *rows;
	size_t n;
};

enum q_agg_fn { QA_COUNT, QA_COUNT_COLUMN, QA_COUNT_DISTINCT, QA_SUM, QA_AVG, QA_MAX, QA_MIN };

struct q_agg {
	enum q_agg_fn fn;
	int column;                   /* all but QA_COUNT */
};

/* An aggregate's value: NULL (no row), an integer, a float or a text. */
struct q_agg_value {
	bool null;
	enum q_type type;
	int64_t i;
	double f;
	const char *s;
};

/*
 * Aggregates over the rows `select` selects (its page included, its
 * `columns` ignored), one result per parent with `via` (parents without
 * rows get none), per distinct combination of `group_by` columns otherwise
 * (one in all when there is none).
 */
struct q_aggregate {
	struct q_select select;
	const struct q_agg *aggs;
	size_t naggs;
	const int *group_by;
	size_t ngroup;
};

struct q_agg_row {
	int64_t parent;
	struct q_agg_value *keys;     /* ngroup of them, with the column's type */
	struct q_agg_value *values;   /* naggs */
};

struct q_agg_rows {
	struct q_agg_row *rows;
	size_t n;
};

/* The column of `table` named `name`, or -1. */
int q_column_find(enum q_table table, const char *name);

#endif
