/*
 * sql.h: compiling core/query.h's intermediate form into SQL, for drivers
 * only. The SQL both drivers run is the same but for a few spellings
 * (placeholders, lists of values, case-insensitive patterns, full-text
 * search), which each driver gives as a `struct sql_dialect`; so a query
 * answers alike on both backends by construction. Identifiers come from
 * this file's tables, values only ever as parameters.
 *
 * A compiled select's rows have the table's columns first, in the order of
 * store/common.h's decoder (STORE_INSIGHT_COLS, STORE_TAG_COLS,
 * STORE_CATEGORY_COUNTED_COLS; columns the query does not ask for are
 * NULL), then, with `via`, the parent's id (column SQL_PARENT_COL(table)).
 * A compiled aggregate's rows have the parent's id (with `via`), the group
 * columns, then the aggregates.
 */
#ifndef INSIGHTS_STORE_SQL_H
#define INSIGHTS_STORE_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/query.h"
#include "lib/arena.h"
#include "lib/buf.h"

/* How many columns a table's rows have before the parent's id. */
size_t sql_row_width(enum q_table table);

/* A parameter: an integer, a text, a float, or a list as the dialect spells it (text). */
struct sql_param {
	enum q_type type;
	int64_t i;
	double f;
	const char *s;
};

struct sql;

struct sql_dialect {
	/* Appends the placeholder of parameter number n (1-based). */
	void (*placeholder)(struct buf *b, int n);
	/*
	 * Appends a test that `expr` is one of `values` (of `type`), adding
	 * the parameters it needs with sql_param(); values are not empty.
	 */
	void (*in_list)(struct sql *q, const char *expr, enum q_type type,
			const struct q_value *values, size_t n);
	/* Appends `expr` [NOT] LIKE / ILIKE the pattern parameter number n. */
	void (*like)(struct buf *b, const char *expr, int n, bool insensitive, bool negated);
	/*
	 * A search, one of two ways. search_join (optional): appends, after
	 * FROM, a join that keeps the matches of search parameter n among
	 * insight alias `alias`, bringing their rank when `ranked`.
	 * search_match (without search_join): appends the condition that
	 * `alias` matches search parameter n.
	 */
	void (*search_join)(struct buf *b, const char *alias, int n, bool ranked);
	void (*search_match)(struct buf *b, const char *alias, int n);
	/* Appends the rank of insight alias `alias` for search parameter n, best first when ascending. */
	void (*search_rank)(struct buf *b, const char *alias, int n);
	/* A parameter as the search needs it (SQLite: an FTS5 query); false: matches nothing. */
	bool (*search_text)(struct sql *q, const char *text, struct sql_param *out);
	/*
	 * Optional: appends a cheaper condition implied by `expr` LIKE/ILIKE
	 * the pattern (an index's), or nothing; returns whether it appended.
	 */
	bool (*like_prefilter)(struct sql *q, enum q_table table, int column, const char *alias,
			       const char *pattern);
	/* A timestamp parameter's placeholder needs a cast (PostgreSQL). */
	const char *timestamp_cast;
};

struct sql {
	const struct sql_dialect *d;
	struct buf text;
	struct sql_param *params;
	size_t nparams, cap;
	unsigned aliases;  /* the next table alias */
	bool empty;        /* the query can match nothing: the driver skips it */
	struct arena *a;   /* for texts made while compiling */
	void *driver;      /* the driver's own, for its dialect's functions (may be NULL) */
};

void sql_init(struct sql *q, const struct sql_dialect *d, struct arena *a);
void sql_release(struct sql *q);
/* Adds a parameter; returns its number. */
int sql_param(struct sql *q, struct sql_param p);

/* Compiles a select (see the header comment). */
void sql_select(struct sql *q, const struct q_select *s);
/* Compiles an aggregate. */
void sql_aggregate(struct sql *q, const struct q_aggregate *agg);

/*
 * Whether a LIKE pattern can use a trigram index as a prefilter: plain
 * ASCII (whose case folding the index and the exact test share), no
 * backslash escape, and a run of three characters or more between
 * wildcards.
 */
bool sql_trigram_worthy(const char *pattern);

#endif
