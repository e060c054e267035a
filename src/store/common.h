/*
 * common.h: what the storage drivers share, for drivers only (callers use
 * store.h). Everything here is backend-neutral: the columns every driver
 * selects and the one decoder that reads them, page and search-window
 * arithmetic, the accumulation of statistics and trends, the grouping of
 * tags under their insights, id lists and the splitting of search text into
 * words. A rule that must hold the same on every backend lives here once,
 * so that "every endpoint answers exactly as on SQLite" does not depend on
 * code copied by hand.
 */
#ifndef INSIGHTS_STORE_COMMON_H
#define INSIGHTS_STORE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model.h"
#include "core/query.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/error.h"

/* ---- columns ---------------------------------------------------------- */

/*
 * The columns of a row, in the order the SQL lists below select them; a
 * driver reads column `base + TC_NAME` where the row's tag columns start
 * at `base`. The SQL text is the same on both dialects.
 */
enum tag_col { TC_ID, TC_NAME, TC_SLUG, TC_DESCRIPTION, TC_COLOR, TC_CREATED_AT, TC_USAGE_COUNT,
	       TC__COUNT };
#define STORE_TAG_COLS \
	"t.id, t.name, t.slug, t.description, t.color, t.created_at, t.usage_count"

enum category_col { CC_ID, CC_NAME, CC_SLUG, CC_DESCRIPTION, CC_PARENT_ID, CC_COLOR, CC_ICON,
		    CC_CREATED_AT, CC_UPDATED_AT, CC_INSIGHT_COUNT, CC__COUNT };
/* Without insight_count (an insight's embedded category), then the count. */
#define STORE_CATEGORY_COLS                                                \
	"c.id, c.name, c.slug, c.description, c.parent_id, c.color, c.icon, " \
	"c.created_at, c.updated_at"
#define STORE_CATEGORY_COUNTED_COLS                                      \
	STORE_CATEGORY_COLS ", "                                            \
	"(SELECT coalesce(sum(n), 0) FROM insight_counts k WHERE k.category_id = c.id)"

/* An insight's columns, then its category's (without the count; NULL when it has none). */
enum insight_col { IC_ID, IC_TITLE, IC_DESCRIPTION, IC_CONTENT, IC_SOURCE, IC_AUTHOR,
		   IC_CATEGORY_ID, IC_PRIORITY, IC_STATUS, IC_CREATED_AT, IC_UPDATED_AT,
		   IC_PUBLISHED_AT, IC_REVISION, IC_REVIEW_BY, IC_OWNER, IC_REVIEWED_AT, IC_CATEGORY,
		   IC__COUNT = IC_CATEGORY + CC_INSIGHT_COUNT };
#define STORE_INSIGHT_COLS                                                         \
	"i.id, i.title, i.description, i.content, i.source, i.author, i.category_id, " \
	"i.priority, i.status, i.created_at, i.updated_at, i.published_at, i.revision, " \
	"i.review_by, i.owner, i.reviewed_at, "                                        \
	STORE_CATEGORY_COLS
#define STORE_INSIGHT_FROM "insights i LEFT JOIN categories c ON c.id = i.category_id"

/*
 * A row as the decoder sees it: a driver's result (a statement, a result
 * set and a row number) behind three accessors. Text is borrowed from the
 * driver until the next row; `len` receives its length.
 */
struct store_row_ops {
	bool (*is_null)(const void *res, int row, int col);
	int64_t (*int64)(const void *res, int row, int col);
	const char *(*text)(const void *res, int row, int col, size_t *len);
};

struct store_row {
	const struct store_row_ops *ops;
	const void *res;
	int row;
};

/* Read a row's columns from `base` on into rows allocated in `a`. */
void store_read_tag(const struct store_row *r, int base, struct arena *a, struct tag *out);
void store_read_category(const struct store_row *r, int base, bool counted, struct arena *a,
			 struct category *out);
/* Without tags; the category is allocated in `a` when the row has one. */
void store_read_insight(const struct store_row *r, int base, struct arena *a,
			struct insight *out);
/*
 * A timestamp column as the API writes it ("2025-12-23T18:00:00Z"): SQLite
 * stores that form, PostgreSQL sends "2025-12-23 18:00:00" (UTC). "" for NULL.
 */
void store_read_ts(const struct store_row *r, int col, char out[TS_SIZE]);

/* ---- revisions ------------------------------------------------------------------ */

/* The columns of insight_revisions, in this order, on both dialects. */
enum revision_col { RC_INSIGHT_ID, RC_REVISION, RC_TITLE, RC_DESCRIPTION, RC_CONTENT, RC_SOURCE,
		    RC_AUTHOR, RC_CATEGORY_ID, RC_PRIORITY, RC_STATUS, RC_CREATED_AT,
		    RC_UPDATED_AT, RC_PUBLISHED_AT, RC_TAG_IDS, RC_ACTOR, RC_DELETED_AT,
		    RC_REVIEW_BY, RC_OWNER, RC_REVIEWED_AT, RC__COUNT };
#define STORE_REVISION_COLS                                                            \
	"insight_id, revision, title, description, content, source, author, category_id, " \
	"priority, status, created_at, updated_at, published_at, tag_ids, actor, deleted_at, " \
	"review_by, owner, reviewed_at"
/* Reads a revision row (tag_ids a JSON array of ids) into `out`, in `a`. */
void store_read_revision(const struct store_row *r, struct arena *a,
			 struct insight_revision *out);

/* ---- tags of several insights -------------------------------------------- */

/*
 * Hangs tag links (rows of (insight id, tag), ordered by insight id then tag
 * id) on the `n` insights they belong to: each insight's `tags` points into
 * `a`. What keeps a page at a constant number of queries.
 */
void store_hang_tags(struct insight *items, size_t n, const struct tag_link *links,
		     size_t nlinks, struct arena *a);

/* Appends "<open>1,2,3<close>": ids as a JSON array ('[', ']') or a PostgreSQL array ('{', '}'). */
void store_ids_print(struct buf *b, const int64_t *ids, size_t n, char open, char close);
/* The same for the ids of `n` insights. */
void store_item_ids_print(struct buf *b, const struct insight *items, size_t n, char open,
			  char close);

/* ---- pages and searches --------------------------------------------------- */

/*
 * The offset of the filter's page. False when no row of it can exist: the
 * page starts at or past `total`, or the offset overflows.
 */
bool store_page_offset(const struct insight_filter *f, int64_t total, int64_t *offset);
/*
 * A ranked search and its window (store_config.search_window). When the
 * search matches more than `window` insights, its ranking is the newest
 * `window` matches by relevance, then the older ones by relevance: every
 * page of the search comes from that one order, so pages are disjoint and
 * together hold every match, while the pages within the window cost only
 * the ranking of the window. A page then takes up to two parts: rows
 * a_offset.. of the window's ranking (a_limit of them), then rows b_offset..
 * of the older matches' (b_limit). Without a split, part A is the ranking
 * of all matches.
 */
struct window_plan {
	bool split;
	int64_t a_offset, a_limit;
	int64_t b_offset, b_limit;
};

void store_window_plan(unsigned window, int64_t total, int64_t offset, int64_t page_size,
		       struct window_plan *out);
/* True when the filter has search text holding a word. */
bool store_has_text(const struct insight_filter *f);
/* True when the filter needs more than the per-(status, priority, category) counts. */
bool store_needs_row_count(const struct insight_filter *f);
/*
 * The next whitespace-separated word of search text at *p: returns false at
 * the end; otherwise sets the word (not NUL-terminated) and moves *p past it.
 */
bool store_next_word(const char **p, const char **word, size_t *len);

/* ---- duplicate candidates (store_driver.insight_similar) ----------------------- */

/*
 * The words that find candidates: those found in at least one insight and
 * fewer than STORE_SIMILAR_DF_CAP (so their matches are few and all read),
 * rarest first (ties: in the caller's order), at most STORE_SIMILAR_PICK.
 * Writes their indexes to `pick` (room for STORE_SIMILAR_PICK); returns
 * how many.
 */
size_t store_similar_pick(const int64_t *df, size_t n, size_t *pick);

/* An insight holding a picked word, and that word's weight. */
struct similar_hit {
	int64_t id;
	double weight;
};

/* A picked word's weight: ln((total + 1) / (df + 0.5)). */
double store_similar_weight(int64_t total, int64_t df);

/*
 * The candidates: the ids of `hits` (reordered) ranked by the sum of their
 * words' weights, highest first (ties: the highest id first), at most
 * `limit`, into `ids`. Returns how many.
 */
size_t store_similar_top(struct similar_hit *hits, size_t n, size_t limit, int64_t *ids);

/* ---- statistics and trends ------------------------------------------------- */

/*
 * Builds struct statistics from the two reads every driver makes: the
 * insight counts per (status, priority, category) (stats_count, any order),
 * then every category by name (stats_category, in name order). Categories
 * without insights count 0; insights without a category are counted under
 * UNCATEGORIZED.
 */
struct stats_acc {
	struct statistics *out;
	struct { int64_t id, n; } *cats;
	size_t ncats, cap;
	int64_t uncategorized;
	size_t nnames, names_cap;
};

void stats_begin(struct stats_acc *acc, struct statistics *out);
void stats_count(struct stats_acc *acc, const char *status, const char *priority,
		 int64_t category_id, int64_t n);
void stats_category(struct stats_acc *acc, struct arena *a, int64_t id, const char *name,
		    size_t len);
/* Completes `out` (by_category in `a`) and frees the accumulator. */
void stats_finish(struct stats_acc *acc, struct arena *a);
/* Frees the accumulator of a read that failed. */
void stats_abandon(struct stats_acc *acc);

/* Adds `n` insights created on `day` ("YYYY-MM-DD") with `status` to the day's counts. */
void store_trend_add(struct trend_day *days, size_t ndays, const char *day, const char *status,
		     int64_t n);

/* ---- migrations ------------------------------------------------------------------- */

/*
 * A driver's migrations are files migrations/NNNN_some_name.sql, embedded
 * in order (lib/asset.h, named "/NNNN_some_name.sql"). Reads the version
 * (NNNN) and name ("some name") of one; false when the name has not that
 * form (a build mistake).
 */
bool store_migration_name(const char *path, int *version, char *name, size_t namelen);

/* ---- queries (core/query.h) -------------------------------------------------------- */

/* The type of an aggregate's value over `table`: counts and sums of integers are integers. */
enum q_type store_agg_type(enum q_table table, const struct q_agg *agg);

/* ---- data versions ------------------------------------------------------------- */

/* For a shared driver: the version the calling thread's write published (store_write_version). */
void store_set_write_version(uint64_t v);

/* ---- fault injection (see lib/fault.h) -------------------------------------- */

/* E_UNAVAILABLE when the point "store.write.halfway" is armed; OK otherwise. */
enum status store_fault_halfway(struct error *err);

#endif
