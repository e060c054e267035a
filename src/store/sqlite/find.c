/*
 * find.c: the SQLite driver's reads: point reads, lists, ranked search,
 * batch reads for several insights, statistics, trends and authors.
 */
#include "store/sqlite/sqlite.h"

#include <assert.h>
#include <string.h>

#include "lib/banned.h"

/* ---- point reads ----------------------------------------------------------- */

/*
 * A point read is one statement outside any explicit transaction: SQLite
 * reads it from one snapshot, and the BEGIN and COMMIT of a two-statement
 * read (and their lock calls) are saved.
 */
enum status sq_insight_get(struct store *st, struct arena *a, int64_t id, struct insight *out,
			   struct error *err)
{
	struct sq_store *s = sq_of(st);
	struct sq_conn *c;
	enum status rc = sq_conn_take(s, &c, err);
	if (rc)
		return rc;
	sqlite3_stmt *q = sq_stmt(c, S_INSIGHT_GET_TAGGED, err);
	if (!q) {
		sq_conn_give(s, c);
		return err->status;
	}
	sqlite3_bind_int64(q, 1, id);
	struct store_row row = sq_row(q);
	bool found = false;
	size_t cap = 0;
	int src;
	while ((src = sq_step(q)) == SQLITE_ROW) {
		if (!found) {
			store_read_insight(&row, 0, a, out);
			found = true;
		}
		if (sqlite3_column_type(q, SQ_TAGGED_TAG_COL) == SQLITE_NULL)
			continue;
		if (out->ntags == cap) {
			cap = cap ? cap * 2 : 8;
			struct tag *more = ARENA_NEW_ARRAY(a, struct tag, cap);
			if (out->ntags)
				memcpy(more, out->tags, out->ntags * sizeof(*more));
			out->tags = more;
		}
		store_read_tag(&row, SQ_TAGGED_TAG_COL, a, &out->tags[out->ntags++]);
	}
	sqlite3_reset(q);
	if (src != SQLITE_DONE)
		rc = sq_fail(c, src, err);
	else if (!found)
		rc = error_set(err, E_NOTFOUND, "Insight not found");
	sq_conn_give(s, c);
	return rc;
}

enum status sq_insight_tags(struct store *st, struct arena *a, const int64_t *ids, size_t n,
			    struct tag_link **out, size_t *nout, struct error *err)
{
	struct sq_store *s = sq_of(st);
	struct sq_conn *c;
	enum status rc = sq_conn_take(s, &c, err);
	if (rc)
		return rc;
	rc = sq_read_tag_links(c, a, ids, n, out, nout, err);
	sq_conn_give(s, c);
	return rc;
}

/* ---- lists and search -------------------------------------------------------- */

/*
 * Turns the user's search text into an FTS5 query that cannot be read as
 * query syntax: every whitespace-separated word becomes a quoted string
 * (inner quotes doubled), and quoted strings side by side must all match.
 * Punctuation inside a word is left to the tokenizer, so "foo-bar" is the
 * phrase "foo bar" and a word of punctuation alone matches nothing by
 * itself. Returns false when the text holds no word at all.
 */
bool sq_fts_query(const char *text, struct buf *q)
{
	const char *p = text, *word;
	size_t len;
	bool any = false;
	while (store_next_word(&p, &word, &len)) {
		if (any)
			buf_addch(q, ' ');
		buf_addch(q, '"');
		for (size_t i = 0; i < len; i++) {
			if (word[i] == '"')
				buf_addch(q, '"');
			buf_addch(q, word[i]);
		}
		buf_addch(q, '"');
		any = true;
	}
	return any;
}

#define MAX_BINDS 16

struct sq_bind {
	enum { SQ_BIND_INT, SQ_BIND_TEXT, SQ_BIND_REAL } type;
	int64_t i;
	const char *s;
	double d;
};

/* A query built from a filter: its SQL, its parameters and the texts they borrow. */
struct sq_find {
	struct buf sql;
	struct sq_bind binds[MAX_BINDS];
	int nbinds;
	struct buf fts;     /* the FTS5 query text */
	struct buf tags;    /* the tag ids as a JSON array */
	struct buf ids;     /* the page's ids as a JSON array */
};

static void sq_bind_add_text(struct sq_find *q, const char *s)
{
	assert(q->nbinds < MAX_BINDS);
	q->binds[q->nbinds++] = (struct sq_bind){ .type = SQ_BIND_TEXT, .s = s };
}

static void sq_bind_add_int(struct sq_find *q, int64_t i)
{
	assert(q->nbinds < MAX_BINDS);
	q->binds[q->nbinds++] = (struct sq_bind){ .type = SQ_BIND_INT, .i = i };
}

static bool sq_has_row_filters(const struct insight_filter *f)
{
	return f->status >= 0 || f->priority >= 0 || f->category_id || f->author || f->ntag_ids ||
	       f->stale_before;
}

/*
 * Starts a query over the insights matching `f`: `select` is what to
 * select, the FROM and WHERE clauses follow with their binds. With search
 * text the FTS5 table drives the query and the insights table is joined
 * only when a filter needs its columns.
 */
static void sq_build_query(const struct insight_filter *f, bool text, const char *select,
			   struct sq_find *q)
{
	buf_reset(&q->sql);
	q->nbinds = 0;
	buf_adds(&q->sql, select);
	if (text) {
		/*
		 * CROSS JOIN keeps the word index as the outer loop: left to
		 * itself, SQLite drives a filtered search from the status (or
		 * priority, or category) index and probes the word index once per
		 * row of it: 782 ms instead of 5 ms for a rare word among 30,000
		 * insights (the soak's finding).
		 */
		if (sq_has_row_filters(f))
			buf_adds(&q->sql, " FROM insights_fts CROSS JOIN insights i ON i.id = insights_fts.rowid");
		else
			buf_adds(&q->sql, " FROM insights_fts");
		buf_adds(&q->sql, " WHERE insights_fts MATCH ?");
		sq_bind_add_text(q, q->fts.data);
	} else {
		buf_adds(&q->sql, " FROM insights i WHERE 1");
	}
	if (f->status >= 0) {
		buf_adds(&q->sql, " AND i.status = ?");
		sq_bind_add_text(q, lifecycle_name((enum lifecycle)f->status));
	}
	if (f->priority >= 0) {
		buf_adds(&q->sql, " AND i.priority = ?");
		sq_bind_add_text(q, priority_name((enum priority)f->priority));
	}
	if (f->category_id) {
		buf_adds(&q->sql, " AND i.category_id = ?");
		sq_bind_add_int(q, f->category_id);
	}
	if (f->author) {
		/* instr, not LIKE: % and _ in the filter are plain characters. */
		buf_adds(&q->sql, " AND instr(lower(i.author), lower(?)) > 0");
		sq_bind_add_text(q, f->author);
	}
	if (f->ntag_ids) {
		buf_adds(&q->sql, " AND (SELECT count(*) FROM insight_tags x WHERE x.insight_id = i.id"
				  " AND x.tag_id IN (SELECT value FROM json_each(?))) = ?");
		sq_bind_add_text(q, q->tags.data);
		sq_bind_add_int(q, (int64_t)f->ntag_ids);
	}
	if (f->stale_before) {
		/* Past its review date, or published and neither updated nor reviewed since. */
		buf_adds(&q->sql, " AND ((i.review_by < ? AND i.status <> 'archived')"
				  " OR (i.status = 'published'"
				  " AND max(i.updated_at, coalesce(i.reviewed_at, '')) < ?))");
		sq_bind_add_text(q, f->today);
		sq_bind_add_text(q, f->stale_before);
	}
}

static sqlite3_stmt *sq_prepare_query(struct sq_conn *c, const struct sq_find *q,
				      struct error *err)
{
	sqlite3_stmt *s = sq_dyn_stmt(c, q->sql.data, err);
	if (!s)
		return NULL;
	for (int i = 0; i < q->nbinds; i++) {
		const struct sq_bind *b = &q->binds[i];
		if (b->type == SQ_BIND_TEXT)
			sqlite3_bind_text(s, i + 1, b->s, -1, SQLITE_STATIC);
		else if (b->type == SQ_BIND_REAL)
			sqlite3_bind_double(s, i + 1, b->d);
		else
			sqlite3_bind_int64(s, i + 1, b->i);
	}
	return s;
}

/* The total for a filter that the insight_counts table can answer. */
static enum status sq_count_fast(struct sq_conn *c, const struct insight_filter *f,
				 int64_t *total, struct error *err)
{
	sqlite3_stmt *s = sq_stmt(c, S_COUNT_FAST, err);
	if (!s)
		return err->status;
	sq_bind_text(s, 1, f->status >= 0 ? lifecycle_name((enum lifecycle)f->status) : NULL);
	sq_bind_text(s, 2, f->priority >= 0 ? priority_name((enum priority)f->priority) : NULL);
	sq_bind_id(s, 3, f->category_id);
	int rc = sq_step(s);
	if (rc == SQLITE_ROW)
		*total = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW ? OK : sq_fail(c, rc, err);
}

/*
 * Reads the insights whose ids `ids` (a JSON array) lists, in that order,
 * with their categories and tags, into `out` (room for `cap`).
 */
static enum status sq_load_insights(struct sq_conn *c, struct arena *a, const struct buf *ids,
				    struct insight *out, size_t cap, size_t *n, struct error *err)
{
	sqlite3_stmt *s = sq_stmt(c, S_INSIGHTS_BY_IDS, err);
	if (!s)
		return err->status;
	sqlite3_bind_text(s, 1, ids->data, (int)ids->len, SQLITE_STATIC);
	struct store_row row = sq_row(s);
	/* Each row goes to its place in the list (its last column); ids listed but gone leave none. */
	bool *got = cap ? ARENA_NEW_ARRAY(a, bool, cap) : NULL;
	if (cap)
		memset(got, 0, cap * sizeof(*got));
	int rc;
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		sqlite3_int64 at = sqlite3_column_int64(s, IC__COUNT);
		if (at < 0 || (uint64_t)at >= cap || got[at])
			continue;
		store_read_insight(&row, 0, a, &out[at]);
		got[at] = true;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sq_fail(c, rc, err);
	*n = 0;
	for (size_t i = 0; i < cap; i++)
		if (got[i])
			out[(*n)++] = out[i];
	return sq_attach_tags(c, a, out, *n, err);
}

/*
 * One ranked part of a search (store_window_plan): the matches whose rowid
 * is at least `from` (part 0 of a split search), those below it (part 1),
 * or all of them (no split).
 */
struct sq_part {
	bool split;
	int part;
	int64_t from;
	int64_t matches;  /* how many */
};

/* Adds the part's rowid range to the search being built. */
static void sq_part_range(struct sq_find *q, const struct sq_part *p)
{
	if (!p->split)
		return;
	buf_adds(&q->sql, p->part ? " AND insights_fts.rowid < ?" : " AND insights_fts.rowid >= ?");
	sq_bind_add_int(q, p->from);
}

/*
 * Runs the built query and reads the first column of its first row into
 * *i; *found is false when there is no row.
 */
static enum status sq_query_value(struct sq_conn *c, const struct sq_find *q, int64_t *i,
				  bool *found, struct error *err)
{
	*found = false;
	sqlite3_stmt *s = sq_prepare_query(c, q, err);
	if (!s)
		return err->status;
	int rc = sq_step(s);
	if (rc == SQLITE_ROW) {
		*found = true;
		*i = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? OK : sq_fail(c, rc, err);
}

/*
 * The rowid of the part's n-th newest match (n >= 1), found by walking the
 * word index backwards, which costs no ranking. *found is false when the
 * part has fewer matches.
 */
static enum status sq_nth_newest(struct sq_conn *c, const struct insight_filter *f,
				 struct sq_find *q, const struct sq_part *p, int64_t n,
				 int64_t *rowid, bool *found, struct error *err)
{
	sq_build_query(f, true, "SELECT insights_fts.rowid", q);
	sq_part_range(q, p);
	buf_adds(&q->sql, " ORDER BY insights_fts.rowid DESC LIMIT 1 OFFSET ?");
	sq_bind_add_int(q, n - 1);
	return sq_query_value(c, q, rowid, found, err);
}

/*
 * The rank gate (rank.c) drops the rows that cannot be among a part's
 * first k, k the page's end, against the k best scores it has given so
 * far; it is worth its bookkeeping when a part has at least twice k
 * matches, and keeps at most this many scores.
 */
#define SQ_GATE_MAX_K 5000

static bool sq_gated(const struct sq_part *p, int64_t k)
{
	return k <= SQ_GATE_MAX_K && p->matches >= 2 * k;
}

/*
 * The gate's arguments (rank.c) for a page ending at k: no threshold but
 * its own, and the matches when they are the total (no filter drops any).
 */
static void sq_gate_binds(const struct insight_filter *f, int64_t k, int64_t total,
			  struct sq_bind out[3])
{
	out[0] = (struct sq_bind){ .type = SQ_BIND_REAL, .d = SQ_RANK_SENTINEL };
	out[1] = (struct sq_bind){ .type = SQ_BIND_INT, .i = k };
	out[2] = (struct sq_bind){ .type = SQ_BIND_INT, .i = sq_has_row_filters(f) ? -1 : total };
}

/*
 * One page of a list or a search, in two steps: the ids of the page (from
 * an index or the FTS5 ranking, reading no row that is not on the page),
 * then those rows. The ranking reads no insight row unless a filter needs
 * one.
 */
static enum status sq_find_in_txn(struct sq_conn *c, struct arena *a,
				  const struct insight_filter *f, struct sq_find *q,
				  struct insight_page *out, struct error *err)
{
	bool text = f->text && sq_fts_query(f->text, &q->fts);
	if (f->ntag_ids)
		store_ids_print(&q->tags, f->tag_ids, f->ntag_ids, '[', ']');

	/* The total. */
	enum status rc;
	if (!store_needs_row_count(f)) {
		rc = sq_count_fast(c, f, &out->total, err);
	} else {
		sq_build_query(f, text, "SELECT count(*)", q);
		sqlite3_stmt *s = sq_prepare_query(c, q, err);
		if (!s)
			return err->status;
		int src = sq_step(s);
		if (src == SQLITE_ROW)
			out->total = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		rc = src == SQLITE_ROW ? OK : sq_fail(c, src, err);
	}
	if (rc)
		return rc;

	int64_t offset;
	if (!store_page_offset(f, out->total, &offset))
		return OK;

	/*
	 * A search matching more than the window ranks its newest `window`
	 * matches, then the older ones (store_window_plan). The older ones
	 * start below the window's oldest match, found (when a page reaches
	 * them, or the window is not gated) by walking the index backwards,
	 * which costs no ranking.
	 */
	struct window_plan plan = { .a_offset = offset, .a_limit = f->page_size };
	if (text)
		store_window_plan(c->store->cfg.search_window, out->total, offset, f->page_size, &plan);
	int64_t window = (int64_t)c->store->cfg.search_window;
	int64_t from = 0;
	bool have_from = !plan.split;

	/* The ids of the page: of the window's ranking, then of the older matches'. */
	size_t n = 0;
	buf_addch(&q->ids, '[');
	for (int part = 0; part < 2; part++) {
		int64_t limit = part ? plan.b_limit : plan.a_limit;
		int64_t skip = part ? plan.b_offset : plan.a_offset;
		if (limit <= 0)
			continue;
		struct sq_part range = {
			.split = plan.split, .part = part, .from = from,
			.matches = !plan.split ? out->total : part ? out->total - window : window,
		};
		/*
		 * Ranking a part computes bm25 for each of its matches; the gate
		 * skips most of that for the rows that cannot reach the page.
		 * A gated window is ranked as it is read: its newest `window`
		 * matches, newest first (a subquery, which SQLite runs as a
		 * coroutine: the gate sees each row once), so nothing walks
		 * them first to find where the window starts.
		 */
		bool gate = text && sq_gated(&range, skip + limit);
		bool scan = gate && plan.split && part == 0;
		if (!scan && !have_from) {
			bool found;
			rc = sq_nth_newest(c, f, q, &(struct sq_part){ .split = false }, window, &from,
					   &found, err);
			if (rc)
				return rc;
			if (!found)
				return sq_fail(c, SQLITE_ERROR, err);
			have_from = true;
			range.from = from;
		}
		if (scan) {
			sq_build_query(f, true, "SELECT w.id FROM (SELECT insights_fts.rowid AS id,"
						" insights_rank_gate(insights_fts, ?, ?, ?) AS g", q);
			/* The gate's arguments come first in the text: their binds go first. */
			assert(q->nbinds + 3 <= MAX_BINDS);
			memmove(&q->binds[3], &q->binds[0], (size_t)q->nbinds * sizeof(q->binds[0]));
			q->nbinds += 3;
			sq_gate_binds(f, skip + limit, out->total, q->binds);
			buf_adds(&q->sql, " ORDER BY insights_fts.rowid DESC LIMIT ?) w"
					  " ORDER BY w.g, w.id DESC");
			sq_bind_add_int(q, window);
		} else {
			sq_build_query(f, text, text ? "SELECT insights_fts.rowid" : "SELECT i.id", q);
			if (text)
				sq_part_range(q, &range);
		}
		if (!text && f->after_ts) {
			/*
			 * After the key (created_at, id) in the list's order: the
			 * first condition is a range of the created_at indexes, so
			 * the scan starts there instead of walking what it skips.
			 */
			buf_adds(&q->sql, " AND i.created_at <= ? AND (i.created_at < ? OR i.id < ?)");
			sq_bind_add_text(q, f->after_ts);
			sq_bind_add_text(q, f->after_ts);
			sq_bind_add_int(q, f->after_id);
		}
		/*
		 * bm25() with the weights spelled out (SQ_BM25_WEIGHTS): FTS5's
		 * configured `rank` column computes the same value but measured
		 * twice as slow here. The gate orders the page's rows as bm25
		 * does. Ties go newest first, so that the order is total and
		 * pages never overlap.
		 */
		if (gate && !scan) {
			buf_adds(&q->sql, " ORDER BY insights_rank_gate(insights_fts, ?, ?, ?),"
					  " insights_fts.rowid DESC");
			assert(q->nbinds + 3 <= MAX_BINDS);
			sq_gate_binds(f, skip + limit, out->total, &q->binds[q->nbinds]);
			q->nbinds += 3;
		} else if (!gate) {
			buf_adds(&q->sql, text ? " ORDER BY " SQ_BM25_SQL ", insights_fts.rowid DESC"
					       : " ORDER BY i.created_at DESC, i.id DESC");
		}
		buf_adds(&q->sql, " LIMIT ? OFFSET ?");
		sq_bind_add_int(q, limit);
		sq_bind_add_int(q, skip);
		sqlite3_stmt *s = sq_prepare_query(c, q, err);
		if (!s)
			return err->status;
		int src;
		while ((src = sq_step(s)) == SQLITE_ROW)
			buf_addf(&q->ids, "%s%lld", n++ ? "," : "", (long long)sqlite3_column_int64(s, 0));
		sqlite3_reset(s);
		if (src != SQLITE_DONE)
			return sq_fail(c, src, err);
	}
	buf_addch(&q->ids, ']');

	/* The rows. */
	out->items = ARENA_NEW_ARRAY(a, struct insight, n ? n : 1);
	return sq_load_insights(c, a, &q->ids, out->items, n, &out->n, err);
}

enum status sq_insight_find(struct store *st, struct arena *a, const struct insight_filter *f,
			    struct insight_page *out, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	struct sq_find q = { .sql = BUF_INIT, .fts = BUF_INIT, .tags = BUF_INIT, .ids = BUF_INIT };
	rc = sq_find_in_txn(t.c, a, f, &q, out, err);
	buf_release(&q.sql);
	buf_release(&q.fts);
	buf_release(&q.tags);
	buf_release(&q.ids);
	return sq_txn_end(&t, rc, err);
}

/* ---- related insights ------------------------------------------------------------ */

enum status sq_insight_related(struct store *st, struct arena *a, int64_t id, int64_t limit,
			       struct insight **out, size_t *n, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *q = sq_stmt(t.c, S_INSIGHT_RELATED, err);
	if (!q)
		return sq_txn_end(&t, err->status, err);
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, limit);
	struct insight *items = ARENA_NEW_ARRAY(a, struct insight, (size_t)limit);
	struct store_row row = sq_row(q);
	bool found = false;
	int src;
	while ((src = sq_step(q)) == SQLITE_ROW) {
		found = true;
		/* The one row of an insight with nothing related has no id. */
		if (sqlite3_column_type(q, IC_ID) != SQLITE_NULL && *n < (size_t)limit)
			store_read_insight(&row, 0, a, &items[(*n)++]);
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (src != SQLITE_DONE)
		rc = sq_fail(t.c, src, err);
	else if (!found)
		rc = error_set(err, E_NOTFOUND, "Insight not found");
	else
		rc = sq_attach_tags(t.c, a, items, *n, err);
	if (rc == OK)
		*out = items;
	return sq_txn_end(&t, rc, err);
}

/* ---- tags and categories ------------------------------------------------------- */

/* Reads one row with `read` from a connection of the pool. */
static enum status sq_get_one(struct sq_store *s, enum sq_stmt which, int64_t id,
			      void (*read)(sqlite3_stmt *q, struct arena *a, void *row),
			      struct arena *a, void *out, const char *missing, struct error *err)
{
	struct sq_conn *c;
	enum status rc = sq_conn_take(s, &c, err);
	if (rc)
		return rc;
	rc = sq_load_row(c, which, id, read, a, out, missing, err);
	sq_conn_give(s, c);
	return rc;
}

static void sq_read_author_row(sqlite3_stmt *s, struct arena *a, void *row)
{
	struct count_by_name *r = row;
	r->name = sq_col_text(s, 0, a);
	r->count = sqlite3_column_int64(s, 1);
}

enum status sq_tag_get(struct store *st, struct arena *a, int64_t id, struct tag *out,
		       struct error *err)
{
	return sq_get_one(sq_of(st), S_TAG_GET, id, sq_read_tag_row, a, out, "Tag not found", err);
}

enum status sq_tag_list(struct store *st, struct arena *a, struct range r, struct tag **out,
			size_t *n, struct error *err)
{
	void *rows;
	enum status rc = sq_read_rows(sq_of(st), S_TAG_LIST, r.limit, r.skip, sizeof(struct tag),
				      sq_read_tag_row, a, &rows, n, err);
	*out = rows;
	return rc;
}

enum status sq_category_get(struct store *st, struct arena *a, int64_t id, struct category *out,
			    struct error *err)
{
	return sq_get_one(sq_of(st), S_CATEGORY_GET, id, sq_read_category_row, a, out,
			  "Category not found", err);
}

enum status sq_category_list(struct store *st, struct arena *a, struct range r,
			     struct category **out, size_t *n, struct error *err)
{
	void *rows;
	enum status rc = sq_read_rows(sq_of(st), S_CATEGORY_LIST, r.limit, r.skip,
				      sizeof(struct category), sq_read_category_row, a, &rows, n, err);
	*out = rows;
	return rc;
}

enum status sq_categories_by_ids(struct store *st, struct arena *a, const int64_t *ids, size_t n,
				 struct category **out, size_t *nout, struct error *err)
{
	struct sq_store *s = sq_of(st);
	struct sq_conn *c;
	enum status rc = sq_conn_take(s, &c, err);
	if (rc)
		return rc;
	sqlite3_stmt *q = sq_stmt(c, S_CATEGORIES_BY_IDS, err);
	if (!q) {
		sq_conn_give(s, c);
		return err->status;
	}
	struct buf list = BUF_INIT;
	store_ids_print(&list, ids, n, '[', ']');
	sqlite3_bind_text(q, 1, list.data, (int)list.len, SQLITE_STATIC);
	struct category *cats = ARENA_NEW_ARRAY(a, struct category, n);
	struct store_row row = sq_row(q);
	size_t got = 0;
	int src;
	while ((src = sq_step(q)) == SQLITE_ROW && got < n)
		store_read_category(&row, 0, true, a, &cats[got++]);
	sqlite3_reset(q);
	buf_release(&list);
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		rc = sq_fail(c, src, err);
	sq_conn_give(s, c);
	if (rc == OK) {
		*out = cats;
		*nout = got;
	}
	return rc;
}

/* ---- aggregates ---------------------------------------------------------------- */

static enum status sq_stats_in_txn(struct sq_conn *c, struct arena *a, struct statistics *out,
				   struct error *err)
{
	/* Counts per (status, priority, category) from the trigger-kept table. */
	sqlite3_stmt *s = sq_stmt(c, S_STATS_COUNTS, err);
	if (!s)
		return err->status;
	struct stats_acc acc;
	stats_begin(&acc, out);
	int rc;
	while ((rc = sq_step(s)) == SQLITE_ROW)
		stats_count(&acc, (const char *)sqlite3_column_text(s, 0),
			    (const char *)sqlite3_column_text(s, 1), sqlite3_column_int64(s, 2),
			    sqlite3_column_int64(s, 3));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		stats_abandon(&acc);
		return sq_fail(c, rc, err);
	}

	/* Every category by name, with its count (zero included). */
	s = sq_stmt(c, S_STATS_CATEGORIES, err);
	if (!s) {
		stats_abandon(&acc);
		return err->status;
	}
	while ((rc = sq_step(s)) == SQLITE_ROW)
		stats_category(&acc, a, sqlite3_column_int64(s, 0),
			       (const char *)sqlite3_column_text(s, 1),
			       (size_t)sqlite3_column_bytes(s, 1));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		stats_abandon(&acc);
		return sq_fail(c, rc, err);
	}
	stats_finish(&acc, a);

	s = sq_stmt(c, S_STATS_TAGS, err);
	if (!s)
		return err->status;
	rc = sq_step(s);
	if (rc == SQLITE_ROW)
		out->total_tags = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return sq_fail(c, rc, err);

	s = sq_stmt(c, S_INSIGHT_RECENT, err);
	if (!s)
		return err->status;
	sqlite3_bind_int(s, 1, STATS_RECENT);
	out->recent = ARENA_NEW_ARRAY(a, struct insight, STATS_RECENT);
	struct store_row row = sq_row(s);
	while ((rc = sq_step(s)) == SQLITE_ROW && out->nrecent < STATS_RECENT)
		store_read_insight(&row, 0, a, &out->recent[out->nrecent++]);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sq_fail(c, rc, err);
	return sq_attach_tags(c, a, out->recent, out->nrecent, err);
}

enum status sq_statistics(struct store *st, struct arena *a, struct statistics *out,
			  struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	rc = sq_stats_in_txn(t.c, a, out, err);
	return sq_txn_end(&t, rc, err);
}

enum status sq_trends(struct store *st, struct trend_day *days, size_t ndays, struct error *err)
{
	struct sq_store *ss = sq_of(st);
	struct sq_conn *c;
	enum status rc = sq_conn_take(ss, &c, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_stmt(c, S_TRENDS, err);
	if (!s) {
		sq_conn_give(ss, c);
		return err->status;
	}
	sqlite3_bind_text(s, 1, days[0].date, -1, SQLITE_STATIC);
	int src;
	while ((src = sq_step(s)) == SQLITE_ROW)
		store_trend_add(days, ndays, (const char *)sqlite3_column_text(s, 0),
				(const char *)sqlite3_column_text(s, 1), sqlite3_column_int64(s, 2));
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		rc = sq_fail(c, src, err);
	sq_conn_give(ss, c);
	return rc;
}

enum status sq_top_authors(struct store *st, struct arena *a, int64_t limit,
			   struct count_by_name **out, size_t *n, struct error *err)
{
	void *rows;
	enum status rc = sq_read_rows(sq_of(st), S_TOP_AUTHORS, limit, 0,
				      sizeof(struct count_by_name), sq_read_author_row, a, &rows, n,
				      err);
	*out = rows;
	return rc;
}

/* ---- duplicate candidates ---------------------------------------------------------- */

/*
 * Steps through the insights holding `word`, at most STORE_SIMILAR_DF_CAP:
 * their number goes to *df and, when `hits` is given, each id with
 * `weight` is appended to it.
 */
static enum status sq_similar_word(struct sq_conn *c, const char *word, struct buf *fts,
				   int64_t *df, struct similar_hit *hits, size_t *nhits,
				   double weight, struct error *err)
{
	buf_reset(fts);
	*df = 0;
	if (!sq_fts_query(word, fts))
		return OK;
	sqlite3_stmt *s = sq_dyn_stmt(c, "SELECT rowid FROM insights_fts WHERE insights_fts MATCH ?1"
				      " LIMIT ?2", err);
	if (!s)
		return err->status;
	sqlite3_bind_text(s, 1, fts->data, (int)fts->len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, STORE_SIMILAR_DF_CAP);
	int rc;
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		if (hits)
			hits[(*nhits)++] = (struct similar_hit){ sqlite3_column_int64(s, 0), weight };
		(*df)++;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? OK : sq_fail(c, rc, err);
}

static enum status sq_similar_in_txn(struct sq_conn *c, struct arena *a, struct store_similar *q,
				     struct buf *fts, struct buf *ids, struct error *err)
{
	struct insight_filter all = { .status = -1, .priority = -1 };
	enum status rc = sq_count_fast(c, &all, &q->total, err);
	for (size_t i = 0; rc == OK && i < q->nwords; i++)
		rc = sq_similar_word(c, q->words[i], fts, &q->df[i], NULL, NULL, 0, err);
	if (rc)
		return rc;
	size_t pick[STORE_SIMILAR_PICK];
	size_t npick = store_similar_pick(q->df, q->nwords, pick);
	size_t cap = 0;
	for (size_t k = 0; k < npick; k++)
		cap += (size_t)q->df[pick[k]];
	struct similar_hit *hits = ARENA_NEW_ARRAY(a, struct similar_hit, cap ? cap : 1);
	size_t nhits = 0;
	for (size_t k = 0; rc == OK && k < npick; k++) {
		int64_t df;
		rc = sq_similar_word(c, q->words[pick[k]], fts, &df, hits, &nhits,
				     store_similar_weight(q->total, q->df[pick[k]]), err);
	}
	if (rc || !nhits)
		return rc;
	int64_t *top = ARENA_NEW_ARRAY(a, int64_t, q->limit);
	size_t ntop = store_similar_top(hits, nhits, q->limit, top);
	store_ids_print(ids, top, ntop, '[', ']');
	q->items = ARENA_NEW_ARRAY(a, struct insight, ntop);
	return sq_load_insights(c, a, ids, q->items, ntop, &q->n, err);
}

enum status sq_insight_similar(struct store *st, struct arena *a, struct store_similar *q,
			       struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	struct buf fts = BUF_INIT, ids = BUF_INIT;
	rc = sq_similar_in_txn(t.c, a, q, &fts, &ids, err);
	buf_release(&fts);
	buf_release(&ids);
	return sq_txn_end(&t, rc, err);
}
