/*
 * find.c: the PostgreSQL driver's reads: point reads, lists, ranked search,
 * batch reads for several insights, statistics, trends and authors.
 *
 * Round trips: the event loop waits for every read it runs, so a read's
 * cost is mostly its round trips. Reads of several statements send them
 * pipelined (pg_q_pipeline: libpq's pipeline mode, one Sync), BEGIN and
 * COMMIT included, so that a page or the statistics take two round trips,
 * not five to seven. SQL built from a filter without search text is
 * prepared per connection, keyed by its text; SQL with search text goes
 * unprepared, so that it is planned with the actual values (which lets the
 * planner evaluate the full-text query once).
 */
#include "store/pg/pg.h"

#include <string.h>

#define INSIGHT_COLS STORE_INSIGHT_COLS
#define INSIGHT_FROM STORE_INSIGHT_FROM

#include "lib/banned.h"

static enum status pg_body_insight_get(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	return pg_load_insight(c, op->a, op->id, false, op->out, err);
}

enum status pg_insight_get(struct store *st, struct arena *a, int64_t id,
				  struct insight *out, struct error *err)
{
	struct pg_op op = { .a = a, .id = id, .out = out };
	return pg_run(pg_of(st), PG_RUN_READ, pg_body_insight_get, &op, err);
}

/*
 * Builds the FROM and WHERE clauses a filter needs (over `insights i`, and
 * its category `c` when `join`), adding its parameters. Returns the number
 * of the search text's parameter (0: no text).
 */
static int pg_build_where(const struct insight_filter *f, bool text, const char *tags, bool join,
		       struct buf *sql, struct pg_params *p)
{
	int text_param = 0;
	buf_adds(sql, join ? " FROM " INSIGHT_FROM " WHERE true" : " FROM insights i WHERE true");
	if (text) {
		text_param = pg_p_text(p, f->text);
		buf_addf(sql, " AND i.search @@ insights_fts_query($%d)", text_param);
	}
	if (f->status >= 0)
		buf_addf(sql, " AND i.status = $%d", pg_p_text(p, lifecycle_name((enum lifecycle)f->status)));
	if (f->priority >= 0)
		buf_addf(sql, " AND i.priority = $%d", pg_p_text(p, priority_name((enum priority)f->priority)));
	if (f->category_id)
		buf_addf(sql, " AND i.category_id = $%d", pg_p_int(p, f->category_id));
	/* strpos, not LIKE: % and _ in the filter are plain characters. */
	if (f->author)
		buf_addf(sql, " AND strpos(lower(i.author), lower($%d)) > 0", pg_p_text(p, f->author));
	if (f->ntag_ids) {
		int ids = pg_p_text(p, tags);
		int n = pg_p_int(p, (int64_t)f->ntag_ids);
		buf_addf(sql, " AND i.id IN (SELECT x.insight_id FROM insight_tags x"
			      " WHERE x.tag_id = ANY($%d::bigint[]) GROUP BY x.insight_id"
			      " HAVING count(*) = $%d)", ids, n);
	}
	if (f->stale_before) {
		int today = pg_p_text(p, f->today);
		int before = pg_p_text(p, f->stale_before);
		buf_addf(sql, " AND ((i.review_by < $%d AND i.status <> 'archived')"
			      " OR (i.status = 'published'"
			      " AND greatest(i.updated_at, i.reviewed_at) < $%d::timestamp))",
			 today, before);
	}
	return text_param;
}

/* The total for a filter that the insight_counts table can answer. */
static enum status pg_count_fast(struct pg_conn *c, const struct insight_filter *f, int64_t *total,
			      struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_text(&p, f->status >= 0 ? lifecycle_name((enum lifecycle)f->status) : NULL);
	pg_p_text(&p, f->priority >= 0 ? priority_name((enum priority)f->priority) : NULL);
	pg_p_id(&p, f->category_id);
	PGresult *r;
	enum status rc = pg_q_fixed(c, P_COUNT_FAST, &p, &r, err);
	if (rc)
		return rc;
	*total = pg_col_int(r, 0, 0);
	PQclear(r);
	return OK;
}

static enum status pg_find_in_txn(struct pg_conn *c, struct arena *a, const struct insight_filter *f,
			       const char *tags, struct buf *sql, struct insight_page *out,
			       struct error *err)
{
	memset(out, 0, sizeof(*out));
	bool text = store_has_text(f);
	enum status rc;
	PGresult *r;

	/* The total. */
	if (!text && !store_needs_row_count(f)) {
		rc = pg_count_fast(c, f, &out->total, err);
	} else {
		struct pg_params p = { 0 };
		buf_reset(sql);
		buf_adds(sql, "SELECT count(*)");
		pg_build_where(f, text, tags, true, sql, &p);
		rc = pg_q_built(c, sql->data, &p, &r, err);
		if (rc == OK) {
			out->total = pg_col_int(r, 0, 0);
			PQclear(r);
		}
	}
	if (rc)
		return rc;

	int64_t offset;
	if (!store_page_offset(f, out->total, &offset))
		return OK;

	/*
	 * A search matching more than the window ranks its newest `window`
	 * matches, then the older ones (store_window_plan, as on SQLite). The
	 * window starts at the id of its oldest match.
	 *
	 * The statements of a split search take their matches from the word
	 * index inside a fence (OFFSET 0: the planner cannot push an id range,
	 * an order or a limit into it). Without the fence, a common word and an
	 * id range or order led the planner to walk the primary key and test
	 * the words of every row it met, reading each row's out-of-line
	 * tsvector: 260 ms for the window's edge of a word in 20% of 100k
	 * insights, 23 ms with the matches from the index, sorted.
	 */
	struct window_plan plan = { .a_offset = offset, .a_limit = f->page_size };
	if (text)
		store_window_plan(c->pool->cfg->search_window, out->total, offset, f->page_size,
				  &plan);
	int64_t from = 0;
	if (plan.split) {
		struct pg_params wp = { 0 };
		buf_reset(sql);
		buf_adds(sql, "SELECT m.id FROM (SELECT i.id");
		pg_build_where(f, text, tags, false, sql, &wp);
		buf_addf(sql, " OFFSET 0) m ORDER BY m.id DESC LIMIT 1 OFFSET $%d",
			 pg_p_int(&wp, (int64_t)c->pool->cfg->search_window - 1));
		rc = pg_q_built(c, sql->data, &wp, &r, err);
		if (rc)
			return rc;
		from = PQntuples(r) > 0 ? pg_col_int(r, 0, 0) : 0;
		PQclear(r);
	}

	/* The page: rows of the window's ranking, then of the older matches'. */
	out->items = ARENA_NEW_ARRAY(a, struct insight, (size_t)f->page_size);
	for (int part = 0; part < 2; part++) {
		int64_t limit = part ? plan.b_limit : plan.a_limit;
		int64_t skip = part ? plan.b_offset : plan.a_offset;
		if (limit <= 0)
			continue;
		struct pg_params p = { 0 };
		buf_reset(sql);
		if (text && plan.split) {
			/*
			 * The part's matches from the fence, ranked (ts_rank reads
			 * the tsvector of the part's matches only), then the page's
			 * rows. A search without a window needs no fence: no id
			 * range or order of the primary key can tempt the planner.
			 */
			struct buf where = BUF_INIT;
			int tp = pg_build_where(f, text, tags, false, &where, &p);
			buf_addf(sql, "SELECT " INSIGHT_COLS " FROM (SELECT m.id, m.created_at,"
				      " ts_rank(" PG_RANK_WEIGHTS ", m.search, insights_fts_query($%d))"
				      " AS rank FROM (SELECT i.id, i.created_at, i.search%s OFFSET 0) m"
				      " WHERE true", tp, where.data);
			buf_release(&where);
			buf_addf(sql, part ? " AND m.id < $%d" : " AND m.id >= $%d", pg_p_int(&p, from));
			int lim = pg_p_int(&p, limit);
			int off = pg_p_int(&p, skip);
			buf_addf(sql, " ORDER BY rank DESC, m.created_at DESC, m.id DESC"
				      " LIMIT $%d OFFSET $%d) p JOIN insights i ON i.id = p.id"
				      " LEFT JOIN categories c ON c.id = i.category_id"
				      " ORDER BY p.rank DESC, p.created_at DESC, p.id DESC", lim, off);
		} else {
			buf_adds(sql, "SELECT " INSIGHT_COLS);
			int tp = pg_build_where(f, text, tags, true, sql, &p);
			if (!tp && f->after_ts) {
				int ts = pg_p_text(&p, f->after_ts);
				buf_addf(sql, " AND i.created_at <= $%d::timestamp AND (i.created_at <"
					 " $%d::timestamp OR i.id < $%d)", ts, ts,
					 pg_p_int(&p, f->after_id));
			}
			if (tp)
				buf_addf(sql, " ORDER BY ts_rank(" PG_RANK_WEIGHTS ", i.search,"
					 " insights_fts_query($%d)) DESC, i.created_at DESC, i.id DESC",
					 tp);
			else
				buf_adds(sql, " ORDER BY i.created_at DESC, i.id DESC");
			int lim = pg_p_int(&p, limit);
			int off = pg_p_int(&p, skip);
			buf_addf(sql, " LIMIT $%d OFFSET $%d", lim, off);
		}
		rc = pg_q_built(c, sql->data, &p, &r, err);
		if (rc)
			return rc;
		int rows = PQntuples(r);
		for (int i = 0; i < rows && out->n < (size_t)f->page_size; i++) {
			struct store_row row = pg_row(r, i);
			store_read_insight(&row, 0, a, &out->items[out->n++]);
		}
		PQclear(r);
	}
	return pg_attach_tags(c, a, out->items, out->n, err);
}

static enum status pg_body_insight_find(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	const struct insight_filter *f = op->filter;
	struct buf tags = BUF_INIT, sql = BUF_INIT;
	if (f->ntag_ids)
		store_ids_print(&tags, f->tag_ids, f->ntag_ids, '{', '}');
	enum status rc = pg_find_in_txn(c, op->a, f, tags.data, &sql, op->out, err);
	buf_release(&tags);
	buf_release(&sql);
	return rc;
}

/*
 * A page without search text, newest first, in two round trips: BEGIN, the
 * total and the page, pipelined; then the page's tags and COMMIT. The page
 * is chosen on ids alone (an index scan in created_at order that skips
 * `offset` rows without carrying their wide columns), then joined to its
 * 20-odd rows. The filter's SQL is prepared per connection by its text.
 */
static enum status pg_find_newest(struct pg_conn *c, struct arena *a, const struct insight_filter *f,
			       const char *tags, struct insight_page *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	struct buf where = BUF_INIT, count = BUF_INIT, page = BUF_INIT;
	struct pg_params p = { 0 }, fast = { 0 };
	pg_build_where(f, false, tags, false, &where, &p);
	struct pg_pq qs[PG_MAX_PIPELINE];
	size_t n = 0, at_count, at_page = 0;

	if (!store_needs_row_count(f)) {
		pg_p_text(&fast, f->status >= 0 ? lifecycle_name((enum lifecycle)f->status) : NULL);
		pg_p_text(&fast, f->priority >= 0 ? priority_name((enum priority)f->priority) : NULL);
		pg_p_id(&fast, f->category_id);
		qs[n] = (struct pg_pq){ .which = P_COUNT_FAST, .p = &fast };
	} else {
		buf_adds(&count, "SELECT count(*)");
		buf_add(&count, where.data, where.len);
		qs[n] = (struct pg_pq){ .sql = count.data, .prepare = true, .p = &p };
	}
	/* The page's parameters: the filter's (pointing into p), then limit and offset. */
	struct pg_params pp = p;
	int64_t offset;
	bool paged = !__builtin_mul_overflow(f->page - 1, f->page_size, &offset);
	if (paged) {
		int lim = pg_p_int(&pp, f->page_size);
		int off = pg_p_int(&pp, offset);
		buf_adds(&page, "SELECT " INSIGHT_COLS " FROM (SELECT i.id");
		buf_add(&page, where.data, where.len);
		/* After a key of the order (keyset pagination): a range of its index. */
		if (f->after_ts) {
			int ts = pg_p_text(&pp, f->after_ts);
			buf_addf(&page, " AND i.created_at <= $%d::timestamp AND (i.created_at <"
				 " $%d::timestamp OR i.id < $%d)", ts, ts, pg_p_int(&pp, f->after_id));
		}
		buf_addf(&page, " ORDER BY i.created_at DESC, i.id DESC LIMIT $%d OFFSET $%d) p"
				" JOIN insights i ON i.id = p.id LEFT JOIN categories c ON c.id = i.category_id"
				" ORDER BY i.created_at DESC, i.id DESC", lim, off);
		struct pg_pq total = qs[n];
		qs[n++] = (struct pg_pq){ .which = P_BEGIN_SNAPSHOT };
		at_count = n;
		qs[n++] = total;
		at_page = n;
		qs[n++] = (struct pg_pq){ .sql = page.data, .prepare = true, .p = &pp };
	} else {
		/* No page can start there: the total alone, one statement. */
		at_count = n++;
	}
	PGresult *r[PG_MAX_PIPELINE];
	enum status rc = pg_q_pipeline(c, n, qs, r, err);
	buf_release(&where);
	buf_release(&count);
	buf_release(&page);
	if (rc)
		return rc;
	out->total = pg_col_int(r[at_count], 0, 0);
	if (paged) {
		int rows = PQntuples(r[at_page]);
		if (rows > f->page_size)
			rows = (int)f->page_size;
		out->items = ARENA_NEW_ARRAY(a, struct insight, (size_t)(rows ? rows : 1));
		for (int i = 0; i < rows; i++) {
			struct store_row row = pg_row(r[at_page], i);
			store_read_insight(&row, 0, a, &out->items[out->n++]);
		}
	}
	for (size_t i = 0; i < n; i++)
		PQclear(r[i]);
	if (!paged)
		return OK;

	return pg_tags_and_commit(c, a, out->items, out->n, err);
}

static enum status pg_body_insight_newest(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	const struct insight_filter *f = op->filter;
	struct buf tags = BUF_INIT;
	if (f->ntag_ids)
		store_ids_print(&tags, f->tag_ids, f->ntag_ids, '{', '}');
	enum status rc = pg_find_newest(c, op->a, f, tags.data, op->out, err);
	buf_release(&tags);
	return rc;
}

enum status pg_insight_find(struct store *st, struct arena *a,
				   const struct insight_filter *f, struct insight_page *out,
				   struct error *err)
{
	memset(out, 0, sizeof(*out));
	struct pg_op op = { .a = a, .filter = f, .out = out };
	if (store_has_text(f))
		return pg_run_search(pg_of(st), pg_body_insight_find, &op, err);
	/* In a batch, reads run in its transaction: no snapshot of their own. */
	if (!pg_in_batch(pg_of(st)))
		return pg_run(pg_of(st), PG_RUN_PIPELINE, pg_body_insight_newest, &op, err);
	return pg_run(pg_of(st), PG_RUN_SNAPSHOT, pg_body_insight_find, &op, err);
}

static enum status pg_body_tag_get(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	return pg_load_tag(c, op->a, op->id, false, op->out, err);
}

enum status pg_tag_get(struct store *st, struct arena *a, int64_t id, struct tag *out,
			      struct error *err)
{
	struct pg_op op = { .a = a, .id = id, .out = out };
	return pg_run(pg_of(st), PG_RUN_READ, pg_body_tag_get, &op, err);
}

static enum status pg_body_tag_list(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_int(&p, op->range.limit);
	pg_p_int(&p, op->range.skip);
	PGresult *r;
	enum status rc = pg_q_fixed(c, P_TAG_LIST, &p, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	struct tag *tags = ARENA_NEW_ARRAY(op->a, struct tag, (size_t)(rows ? rows : 1));
	for (int i = 0; i < rows; i++) {
		struct store_row row = pg_row(r, i);
		store_read_tag(&row, 0, op->a, &tags[i]);
	}
	PQclear(r);
	*op->tags = tags;
	*op->n = (size_t)rows;
	return OK;
}

enum status pg_tag_list(struct store *st, struct arena *a, struct range r,
			       struct tag **out, size_t *n, struct error *err)
{
	*out = NULL;
	*n = 0;
	struct pg_op op = { .a = a, .range = r, .tags = out, .n = n };
	return pg_run(pg_of(st), PG_RUN_READ, pg_body_tag_list, &op, err);
}

static enum status pg_body_category_get(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	return pg_load_category(c, op->a, op->id, false, op->out, err);
}

enum status pg_category_get(struct store *st, struct arena *a, int64_t id,
				   struct category *out, struct error *err)
{
	struct pg_op op = { .a = a, .id = id, .out = out };
	return pg_run(pg_of(st), PG_RUN_READ, pg_body_category_get, &op, err);
}

static enum status pg_body_category_list(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_int(&p, op->range.limit);
	pg_p_int(&p, op->range.skip);
	PGresult *r;
	enum status rc = pg_q_fixed(c, P_CATEGORY_LIST, &p, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	struct category *cats = ARENA_NEW_ARRAY(op->a, struct category, (size_t)(rows ? rows : 1));
	for (int i = 0; i < rows; i++) {
		struct store_row row = pg_row(r, i);
		store_read_category(&row, 0, true, op->a, &cats[i]);
	}
	PQclear(r);
	*op->categories = cats;
	*op->n = (size_t)rows;
	return OK;
}

enum status pg_category_list(struct store *st, struct arena *a, struct range r,
				    struct category **out, size_t *n, struct error *err)
{
	*out = NULL;
	*n = 0;
	struct pg_op op = { .a = a, .range = r, .categories = out, .n = n };
	return pg_run(pg_of(st), PG_RUN_READ, pg_body_category_list, &op, err);
}

static enum status pg_body_statistics(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct statistics *out = op->out;
	struct arena *a = op->a;

	/*
	 * One round trip for BEGIN and the four reads, one more for the tags of
	 * the recent insights and COMMIT.
	 */
	struct pg_params rp = { 0 };
	pg_p_int(&rp, STATS_RECENT);
	const struct pg_pq qs[] = {
		{ .which = P_BEGIN_SNAPSHOT }, { .which = P_STATS_COUNTS },
		{ .which = P_STATS_CATEGORIES }, { .which = P_STATS_TAGS },
		{ .which = P_INSIGHT_RECENT, .p = &rp },
	};
	PGresult *res[PG_MAX_PIPELINE];
	enum status rc = pg_q_pipeline(c, sizeof(qs) / sizeof(qs[0]), qs, res, err);
	if (rc)
		return rc;

	/* Counts per (status, priority, category) from the trigger-kept table. */
	struct stats_acc acc;
	stats_begin(&acc, out);
	PGresult *r = res[1];
	int rows = PQntuples(r);
	for (int i = 0; i < rows; i++)
		stats_count(&acc, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), pg_col_int(r, i, 2),
			    pg_col_int(r, i, 3));
	PQclear(r);

	/* Every category by name, with its count (zero included). */
	r = res[2];
	rows = PQntuples(r);
	for (int i = 0; i < rows; i++)
		stats_category(&acc, a, pg_col_int(r, i, 0), PQgetvalue(r, i, 1),
			       (size_t)PQgetlength(r, i, 1));
	PQclear(r);
	stats_finish(&acc, a);

	r = res[3];
	out->total_tags = pg_col_int(r, 0, 0);
	PQclear(r);

	r = res[4];
	rows = PQntuples(r);
	if (rows > STATS_RECENT)
		rows = STATS_RECENT;
	out->recent = ARENA_NEW_ARRAY(a, struct insight, STATS_RECENT);
	for (int i = 0; i < rows; i++) {
		struct store_row row = pg_row(r, i);
		store_read_insight(&row, 0, a, &out->recent[out->nrecent++]);
	}
	PQclear(r);
	PQclear(res[0]);
	return pg_tags_and_commit(c, a, out->recent, out->nrecent, err);
}

enum status pg_statistics(struct store *st, struct arena *a, struct statistics *out,
				 struct error *err)
{
	memset(out, 0, sizeof(*out));
	struct pg_op op = { .a = a, .out = out };
	return pg_run(pg_of(st), PG_RUN_PIPELINE, pg_body_statistics, &op, err);
}

static enum status pg_body_trends(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	/* A retried attempt starts from zero again. */
	for (size_t i = 0; i < op->ndays; i++)
		memset(op->days[i].by_status, 0, sizeof(op->days[i].by_status));
	struct pg_params p = { 0 };
	pg_p_text(&p, op->days[0].date);
	PGresult *r;
	enum status rc = pg_q_fixed(c, P_TRENDS, &p, &r, err);
	if (rc)
		return rc;
	for (int row = 0; row < PQntuples(r); row++)
		store_trend_add(op->days, op->ndays,
				PQgetisnull(r, row, 0) ? NULL : PQgetvalue(r, row, 0),
				PQgetvalue(r, row, 1), pg_col_int(r, row, 2));
	PQclear(r);
	return OK;
}

enum status pg_trends(struct store *st, struct trend_day *days, size_t ndays,
			     struct error *err)
{
	struct pg_op op = { .days = days, .ndays = ndays };
	return pg_run(pg_of(st), PG_RUN_READ, pg_body_trends, &op, err);
}

static enum status pg_body_top_authors(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_int(&p, op->limit);
	PGresult *r;
	enum status rc = pg_q_fixed(c, P_TOP_AUTHORS, &p, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	if (rows > op->limit)
		rows = (int)op->limit;
	struct count_by_name *names = ARENA_NEW_ARRAY(op->a, struct count_by_name,
						      (size_t)(rows ? rows : 1));
	for (int i = 0; i < rows; i++) {
		names[i].name = pg_col_text(r, i, 0, op->a);
		names[i].count = pg_col_int(r, i, 1);
	}
	PQclear(r);
	*op->names = names;
	*op->n = (size_t)rows;
	return OK;
}

enum status pg_top_authors(struct store *st, struct arena *a, int64_t limit,
				  struct count_by_name **out, size_t *n, struct error *err)
{
	*out = NULL;
	*n = 0;
	struct pg_op op = { .a = a, .limit = limit, .names = out, .n = n };
	return pg_run(pg_of(st), PG_RUN_READ, pg_body_top_authors, &op, err);
}

static enum status pg_body_insight_tags(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct buf ids = BUF_INIT;
	store_ids_print(&ids, op->ids, op->count, '{', '}');
	struct pg_params p = { 0 };
	pg_p_text(&p, ids.data);
	PGresult *r;
	enum status rc = pg_q_fixed(c, P_INSIGHT_TAGS, &p, &r, err);
	buf_release(&ids);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	struct tag_link *links = rows ? ARENA_NEW_ARRAY(op->a, struct tag_link, (size_t)rows) : NULL;
	for (int i = 0; i < rows; i++) {
		struct store_row row = pg_row(r, i);
		links[i].insight_id = pg_col_int(r, i, 0);
		store_read_tag(&row, 1, op->a, &links[i].tag);
	}
	PQclear(r);
	*op->links = links;
	*op->n = (size_t)rows;
	return OK;
}

enum status pg_insight_tags(struct store *st, struct arena *a, const int64_t *ids, size_t n,
			    struct tag_link **out, size_t *nout, struct error *err)
{
	struct pg_op op = { .a = a, .ids = ids, .count = n, .links = out, .n = nout };
	return pg_run(pg_of(st), PG_RUN_READ, pg_body_insight_tags, &op, err);
}

static enum status pg_body_categories_by_ids(struct pg_conn *c, struct pg_op *op,
					     struct error *err)
{
	struct buf ids = BUF_INIT;
	store_ids_print(&ids, op->ids, op->count, '{', '}');
	struct pg_params p = { 0 };
	pg_p_text(&p, ids.data);
	PGresult *r;
	enum status rc = pg_q_fixed(c, P_CATEGORIES_BY_IDS, &p, &r, err);
	buf_release(&ids);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	struct category *cats = ARENA_NEW_ARRAY(op->a, struct category, (size_t)(rows ? rows : 1));
	for (int i = 0; i < rows; i++) {
		struct store_row row = pg_row(r, i);
		store_read_category(&row, 0, true, op->a, &cats[i]);
	}
	PQclear(r);
	*op->categories = cats;
	*op->n = (size_t)rows;
	return OK;
}

enum status pg_categories_by_ids(struct store *st, struct arena *a, const int64_t *ids, size_t n,
				 struct category **out, size_t *nout, struct error *err)
{
	struct pg_op op = { .a = a, .ids = ids, .count = n, .categories = out, .n = nout };
	return pg_run(pg_of(st), PG_RUN_READ, pg_body_categories_by_ids, &op, err);
}

static enum status pg_body_insight_related(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_int(&p, op->id);
	pg_p_int(&p, op->limit);
	PGresult *r;
	enum status rc = pg_q_fixed(c, P_INSIGHT_RELATED, &p, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	if (!rows) {
		PQclear(r);
		return error_set(err, E_NOTFOUND, "Insight not found");
	}
	struct insight *items = ARENA_NEW_ARRAY(op->a, struct insight, (size_t)op->limit);
	size_t n = 0;
	for (int i = 0; i < rows && n < (size_t)op->limit; i++) {
		/* The one row of an insight with nothing related has no id. */
		if (PQgetisnull(r, i, IC_ID))
			continue;
		struct store_row row = pg_row(r, i);
		store_read_insight(&row, 0, op->a, &items[n++]);
	}
	PQclear(r);
	rc = pg_attach_tags(c, op->a, items, n, err);
	if (rc)
		return rc;
	*op->insights = items;
	*op->n = n;
	return OK;
}

enum status pg_insight_related(struct store *st, struct arena *a, int64_t id, int64_t limit,
			       struct insight **out, size_t *n, struct error *err)
{
	struct pg_op op = { .a = a, .id = id, .limit = limit, .insights = out, .n = n };
	return pg_run(pg_of(st), PG_RUN_SNAPSHOT, pg_body_insight_related, &op, err);
}

/* ---- duplicate candidates ---------------------------------------------------------- */

/* Appends words as a PostgreSQL text array literal, every element quoted. */
static void pg_words_array(struct buf *b, const char *const *words, const size_t *pick,
			   size_t n)
{
	buf_addch(b, '{');
	for (size_t k = 0; k < n; k++) {
		const char *w = words[pick ? pick[k] : k];
		buf_adds(b, k ? ",\"" : "\"");
		for (; *w; w++) {
			if (*w == '"' || *w == '\\')
				buf_addch(b, '\\');
			buf_addch(b, *w);
		}
		buf_addch(b, '"');
	}
	buf_addch(b, '}');
}

/*
 * Each word's matches are counted, then read, through its own index scan
 * (a lateral subquery per word, with a LIMIT), never by a join the planner
 * could turn into a scan of every insight.
 */
static const char pg_similar_df_sql[] =
	"SELECT (SELECT count(*) FROM (SELECT 1 FROM insights i"
	" WHERE i.search @@ insights_fts_query(w.word) LIMIT $2) s)"
	" FROM unnest($1::text[]) WITH ORDINALITY w(word, k) ORDER BY w.k";
static const char pg_similar_hits_sql[] =
	"SELECT w.k, x.id FROM unnest($1::text[]) WITH ORDINALITY w(word, k)"
	" CROSS JOIN LATERAL (SELECT i.id FROM insights i"
	" WHERE i.search @@ insights_fts_query(w.word) LIMIT $2) x";
static const char pg_similar_rows_sql[] =
	"SELECT " INSIGHT_COLS " FROM unnest($1::bigint[]) WITH ORDINALITY j(id, k)"
	" JOIN insights i ON i.id = j.id LEFT JOIN categories c ON c.id = i.category_id"
	" ORDER BY j.k";

static enum status pg_similar_in_txn(struct pg_conn *c, struct arena *a, struct store_similar *q,
				     struct buf *b, struct error *err)
{
	q->items = NULL; /* a retried body starts over */
	q->n = 0;
	struct insight_filter all = { .status = -1, .priority = -1 };
	enum status rc = pg_count_fast(c, &all, &q->total, err);
	if (rc || !q->nwords)
		return rc;
	struct pg_params p = { 0 };
	PGresult *r;
	pg_words_array(b, q->words, NULL, q->nwords);
	pg_p_text(&p, b->data);
	pg_p_int(&p, STORE_SIMILAR_DF_CAP);
	rc = pg_q_built(c, pg_similar_df_sql, &p, &r, err);
	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(r) && (size_t)i < q->nwords; i++)
		q->df[i] = pg_col_int(r, i, 0);
	PQclear(r);

	size_t pick[STORE_SIMILAR_PICK];
	size_t npick = store_similar_pick(q->df, q->nwords, pick);
	if (!npick)
		return OK;
	double weights[STORE_SIMILAR_PICK];
	for (size_t k = 0; k < npick; k++)
		weights[k] = store_similar_weight(q->total, q->df[pick[k]]);
	buf_reset(b);
	pg_words_array(b, q->words, pick, npick);
	struct pg_params hp = { 0 };
	pg_p_text(&hp, b->data);
	pg_p_int(&hp, STORE_SIMILAR_DF_CAP);
	rc = pg_q_built(c, pg_similar_hits_sql, &hp, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	struct similar_hit *hits = ARENA_NEW_ARRAY(a, struct similar_hit, rows ? (size_t)rows : 1);
	size_t nhits = 0;
	for (int i = 0; i < rows; i++) {
		int64_t k = pg_col_int(r, i, 0);
		if (k >= 1 && (size_t)k <= npick)
			hits[nhits++] = (struct similar_hit){ pg_col_int(r, i, 1), weights[k - 1] };
	}
	PQclear(r);
	if (!nhits)
		return OK;
	int64_t *top = ARENA_NEW_ARRAY(a, int64_t, q->limit);
	size_t ntop = store_similar_top(hits, nhits, q->limit, top);
	buf_reset(b);
	store_ids_print(b, top, ntop, '{', '}');
	struct pg_params rp = { 0 };
	pg_p_text(&rp, b->data);
	rc = pg_q_built(c, pg_similar_rows_sql, &rp, &r, err);
	if (rc)
		return rc;
	rows = PQntuples(r);
	q->items = ARENA_NEW_ARRAY(a, struct insight, ntop);
	for (int i = 0; i < rows && q->n < ntop; i++) {
		struct store_row row = pg_row(r, i);
		store_read_insight(&row, 0, a, &q->items[q->n++]);
	}
	PQclear(r);
	return pg_attach_tags(c, a, q->items, q->n, err);
}

static enum status pg_body_insight_similar(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct buf b = BUF_INIT;
	enum status rc = pg_similar_in_txn(c, op->a, op->out, &b, err);
	buf_release(&b);
	return rc;
}

enum status pg_insight_similar(struct store *st, struct arena *a, struct store_similar *q,
			       struct error *err)
{
	struct pg_op op = { .a = a, .out = q };
	return pg_run(pg_of(st), PG_RUN_SNAPSHOT, pg_body_insight_similar, &op, err);
}
