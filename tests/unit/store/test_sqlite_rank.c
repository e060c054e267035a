/*
 * test_sqlite_rank.c: the SQLite driver's rank gate (store/sqlite/rank.c)
 * and the gated search pages (find.c). On 2,000 insights with a skewed
 * vocabulary, insights_rank_gate() must give bm25's value to the bit for
 * every row that can reach its threshold and drop only rows that cannot,
 * and every page of a search must be the page bm25 alone ranks.
 */
#include "t.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/common.h"
#include "store/sqlite/sqlite.h"
#include "store/store.h"

#define NROWS 2000

/* Words by how many rows hold them: most, many, some, few. */
static const char *const common[] = { "system", "data" };
static const char *const mid[] = { "index", "cache", "lattice" };
static const char *const rare[] = { "quorum", "zephyr" };

static const char *const queries[] = {
	"system", "data", "index", "cache", "lattice", "quorum", "zephyr", "filler7",
	"SYSTEM", "system data", "index cache", "system quorum", "data zephyr",
	"cache lattice filler3", "system system", "data data data", "system-data",
	"index-cache", "data-index-cache", "system-data index", "quorum-zephyr",
	"lattice system data", "nowhere", "system nowhere",
};

static uint64_t rng = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Appends `n` tokens of text: mostly filler, the skewed words at their rates. */
static void add_words(struct buf *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned r = rnd(1000);
		const char *w;
		if (r < 120)
			w = common[r % 2];
		else if (r < 150)
			w = mid[r % 3];
		else if (r < 153)
			w = rare[r % 2];
		else if (r < 170)
			w = "system data";
		else if (r < 175)
			w = "index cache";
		else
			w = NULL;
		if (w)
			buf_addf(b, "%s%s", b->len ? " " : "", w);
		else
			buf_addf(b, "%sfiller%u", b->len ? " " : "", rnd(40));
	}
}

/*
 * Fills the file with NROWS insights: short and long texts, words in the
 * title, description or content, repeated words, and rows made of one
 * word (whose length is no more than their hits), more of them among the
 * newest.
 */
static void fill(sqlite3 *db)
{
	CHECK(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_stmt *s;
	CHECK(sqlite3_prepare_v2(db, "INSERT INTO insights (created_at, updated_at, author,"
				     " title, description, content) VALUES"
				     " ('2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'a', ?1, ?2, ?3)",
				 -1, &s, NULL) == SQLITE_OK);
	struct buf t = BUF_INIT, d = BUF_INIT, c = BUF_INIT;
	for (int i = 0; i < NROWS; i++) {
		buf_reset(&t);
		buf_reset(&d);
		buf_reset(&c);
		/*
		 * The newest quarter holds more of the short rows, which rank
		 * best: the window's scores are not the older matches'.
		 */
		unsigned kind = rnd(i < NROWS * 3 / 4 ? 20 : 5);
		if (kind == 0) {
			/* One word, again and again. */
			const char *w = rnd(2) ? common[rnd(2)] : mid[rnd(3)];
			buf_adds(&t, w);
			buf_addf(&d, "%s %s", w, w);
		} else if (kind == 1) {
			buf_adds(&t, "system data");
			buf_adds(&d, "system");
		} else {
			add_words(&t, 1 + rnd(6));
			add_words(&d, 2 + rnd(20));
			/* Content: often none, usually short, sometimes long. */
			unsigned len = rnd(4) == 0 ? 0 : rnd(5) == 0 ? 80 + rnd(300) : rnd(30);
			add_words(&c, len);
		}
		sqlite3_bind_text(s, 1, t.data, (int)t.len, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, d.data, (int)d.len, SQLITE_STATIC);
		if (c.len)
			sqlite3_bind_text(s, 3, c.data, (int)c.len, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 3);
		CHECK(sqlite3_step(s) == SQLITE_DONE);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	buf_release(&t);
	buf_release(&d);
	buf_release(&c);
	CHECK(sqlite3_exec(db, "INSERT INTO insights_fts (insights_fts) VALUES ('rebuild');"
			       "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
}

struct rank_fixture {
	char path[64];
	char url[80];
	sqlite3 *db;  /* a connection of the test's own, with the gate */
};

static struct store *open_store(const struct rank_fixture *x, unsigned window)
{
	struct store_config cfg = { .pool_size = 2, .busy_timeout_ms = 1000,
				    .query_timeout_ms = 60000, .search_window = window };
	struct error e = ERROR_INIT;
	struct store *st = NULL;
	if (store_open(x->url, &cfg, &st, &e) != OK) {
		fprintf(stderr, "cannot open %s: %s\n", x->url, e.detail);
		return NULL;
	}
	return st;
}

static int rank_setup(struct rank_fixture *x)
{
	snprintf(x->path, sizeof(x->path), "/tmp/insights-rank-%d.db", (int)getpid());
	snprintf(x->url, sizeof(x->url), "sqlite:///%s", x->path);
	t_remove_sqlite(x->path);
	struct store *st = open_store(x, 0);
	if (!st) {
		CHECK(!"store opens");
		return -1;
	}
	struct error e = ERROR_INIT;
	int applied = 0;
	CHECK(store_migrate(st, &applied, &e) == OK);
	store_close(st);
	CHECK(sqlite3_open(x->path, &x->db) == SQLITE_OK);
	CHECK(sq_rank_register(x->db) == SQLITE_OK);
	rng = 0x9e3779b97f4a7c15u;
	fill(x->db);
	return 0;
}

static void rank_teardown(struct rank_fixture *x)
{
	sqlite3_close(x->db);
	t_remove_sqlite(x->path);
}

static bool same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
	CHECK(rc == SQLITE_OK);
	return s;
}

/*
 * Checks the gate of query `fts` against bm25 at `threshold`: every row
 * gets bm25's value to the bit, or the sentinel when its bm25 is above the
 * threshold. Returns how many rows got the sentinel.
 */
static int check_gate_at(sqlite3 *db, const char *fts, double threshold, int64_t matches,
			 const char *query)
{
	sqlite3_stmt *s = prepare(db, "SELECT rowid, " SQ_BM25_SQL ","
				      " insights_rank_gate(insights_fts, ?2, 0, ?3)"
				      " FROM insights_fts WHERE insights_fts MATCH ?1");
	sqlite3_bind_text(s, 1, fts, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 2, threshold);
	sqlite3_bind_int64(s, 3, matches);
	int dropped = 0, bad = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		double bm25 = sqlite3_column_double(s, 1), gate = sqlite3_column_double(s, 2);
		if (same_bits(gate, SQ_RANK_SENTINEL) && bm25 > threshold)
			dropped++;
		else if (!same_bits(gate, bm25) && bad++ < 3)
			fprintf(stderr, "'%s' row %lld at %.17g: bm25 %.17g, gate %.17g\n", query,
				(long long)sqlite3_column_int64(s, 0), threshold, bm25, gate);
	}
	CHECK(bad == 0);
	sqlite3_finalize(s);
	return dropped;
}

/* Every row reaches its own score: the bound is never worse than bm25. */
static void check_gate_own(sqlite3 *db, const char *fts, const char *query)
{
	CHECK(sqlite3_exec(db, "DELETE FROM own", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_stmt *s = prepare(db, "INSERT INTO own SELECT rowid, " SQ_BM25_SQL
				      " FROM insights_fts WHERE insights_fts MATCH ?1");
	sqlite3_bind_text(s, 1, fts, -1, SQLITE_STATIC);
	CHECK(sqlite3_step(s) == SQLITE_DONE);
	sqlite3_finalize(s);
	s = prepare(db, "SELECT o.id, o.t, insights_rank_gate(insights_fts, o.t)"
			" FROM insights_fts JOIN own o ON o.id = insights_fts.rowid"
			" WHERE insights_fts MATCH ?1");
	sqlite3_bind_text(s, 1, fts, -1, SQLITE_STATIC);
	int bad = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		double t = sqlite3_column_double(s, 1), gate = sqlite3_column_double(s, 2);
		if (!same_bits(t, gate) && bad++ < 3)
			fprintf(stderr, "'%s' row %lld: bm25 %.17g, gate at it %.17g\n", query,
				(long long)sqlite3_column_int64(s, 0), t, gate);
	}
	CHECK(bad == 0);
	sqlite3_finalize(s);
}

/* The score at rank `k` (0-based) of a query's matches, or 0 when fewer. */
static double score_at(sqlite3 *db, const char *fts, int64_t k)
{
	sqlite3_stmt *s = prepare(db, "SELECT " SQ_BM25_SQL " FROM insights_fts WHERE insights_fts MATCH ?1"
				      " ORDER BY " SQ_BM25_SQL " LIMIT 1 OFFSET ?2");
	sqlite3_bind_text(s, 1, fts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, k);
	double v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_double(s, 0) : 0;
	sqlite3_finalize(s);
	return v;
}

static int64_t count_matches(sqlite3 *db, const char *fts)
{
	sqlite3_stmt *s = prepare(db, "SELECT count(*) FROM insights_fts WHERE insights_fts MATCH ?1");
	sqlite3_bind_text(s, 1, fts, -1, SQLITE_STATIC);
	int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	sqlite3_finalize(s);
	return n;
}

TEST(sqlite_rank_gate_values)
{
	struct rank_fixture x = { 0 };
	if (rank_setup(&x))
		return;
	CHECK(sqlite3_exec(x.db, "CREATE TEMP TABLE own (id INTEGER PRIMARY KEY, t REAL)", NULL, NULL,
			   NULL) == SQLITE_OK);
	int dropped = 0;
	struct buf fts = BUF_INIT;
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		buf_reset(&fts);
		if (!sq_fts_query(queries[i], &fts))
			continue;
		int64_t n = count_matches(x.db, fts.data);
		/*
		 * A threshold nothing misses: the exact value everywhere, whether
		 * the gate counts the matches itself or is told them.
		 */
		CHECK(check_gate_at(x.db, fts.data, SQ_RANK_SENTINEL, -1, queries[i]) == 0);
		CHECK(check_gate_at(x.db, fts.data, SQ_RANK_SENTINEL, n, queries[i]) == 0);
		check_gate_own(x.db, fts.data, queries[i]);
		for (int64_t k = 0; k < n; k += n / 5 + 1)
			dropped += check_gate_at(x.db, fts.data, score_at(x.db, fts.data, k),
						 k % 2 ? n : -1, queries[i]);
	}
	/* The gate drops rows at all (a gate that never does is no faster). */
	CHECK(dropped > 1000);
	buf_release(&fts);
	rank_teardown(&x);
}

/*
 * The matches of `fts` among the insights of `status` (every status when
 * NULL), as SQL for the helpers below: ?1 the words, ?2 the status.
 */
#define MATCHES_SQL(cols) \
	"SELECT " cols " FROM insights_fts JOIN insights i ON i.id = insights_fts.rowid" \
	" WHERE insights_fts MATCH ?1 AND (?2 IS NULL OR i.status = ?2)"

/* The rowid of the n-th newest match (n >= 1), as the window plan finds it. */
static int64_t nth_newest(sqlite3 *db, const char *fts, const char *status, int64_t n)
{
	sqlite3_stmt *s = prepare(db, MATCHES_SQL("insights_fts.rowid")
				      " ORDER BY insights_fts.rowid DESC LIMIT 1 OFFSET ?3");
	sqlite3_bind_text(s, 1, fts, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, n - 1);
	int64_t id = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	sqlite3_finalize(s);
	return id;
}

static int64_t count_filtered(sqlite3 *db, const char *fts, const char *status)
{
	sqlite3_stmt *s = prepare(db, MATCHES_SQL("count(*)"));
	sqlite3_bind_text(s, 1, fts, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
	int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	sqlite3_finalize(s);
	return n;
}

/* Appends bm25's ranking of the matches with lo <= rowid < hi, `limit` from `skip`. */
static void ranked(sqlite3 *db, const char *fts, const char *status, int64_t lo, int64_t hi,
		   int64_t limit, int64_t skip, struct buf *ids)
{
	if (limit <= 0)
		return;
	sqlite3_stmt *s = prepare(db, MATCHES_SQL("insights_fts.rowid")
				      " AND insights_fts.rowid >= ?3 AND insights_fts.rowid < ?4"
				      " ORDER BY " SQ_BM25_SQL ", insights_fts.rowid DESC"
				      " LIMIT ?5 OFFSET ?6");
	sqlite3_bind_text(s, 1, fts, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, lo);
	sqlite3_bind_int64(s, 4, hi);
	sqlite3_bind_int64(s, 5, limit);
	sqlite3_bind_int64(s, 6, skip);
	while (sqlite3_step(s) == SQLITE_ROW)
		buf_addf(ids, " %lld", (long long)sqlite3_column_int64(s, 0));
	sqlite3_finalize(s);
}

/* A status filter's value (-1: none). */
static int status_filter(const char *status)
{
	enum lifecycle l;
	return status && lifecycle_parse(status, &l) == 0 ? (int)l : -1;
}

/*
 * Compares the store's pages of every query with bm25's for one window,
 * among the insights of one status (every status when NULL).
 */
static int check_pages(struct rank_fixture *x, unsigned window, const char *status)
{
	static const int64_t sizes[] = { 1, 3, 20, 57 };
	struct store *st = open_store(x, window);
	if (!st) {
		CHECK(!"store opens");
		return 0;
	}
	struct arena a = ARENA_INIT;
	struct buf fts = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	int pages = 0;
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		buf_reset(&fts);
		if (!sq_fts_query(queries[i], &fts))
			continue;
		int64_t total = count_filtered(x->db, fts.data, status);
		int64_t from =
			window && total > window ? nth_newest(x->db, fts.data, status, window) : 0;
		for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
			int64_t ps = sizes[z];
			/* The first pages, pages at the window's edge, one halfway, the last. */
			int64_t at[] = { 1, 2, 5, window / ps, window / ps + 1, window / ps + 2,
					 total / 2 / ps + 1, (total + ps - 1) / ps };
			for (size_t p = 0; p < sizeof(at) / sizeof(at[0]); p++) {
				if (at[p] < 1 || (p && at[p] == at[p - 1]))
					continue;
				int64_t offset = (at[p] - 1) * ps;
				struct window_plan plan;
				store_window_plan(window, total, offset, ps, &plan);
				buf_reset(&want);
				ranked(x->db, fts.data, status, plan.split ? from : 0, INT64_MAX,
				       plan.a_limit, plan.a_offset, &want);
				ranked(x->db, fts.data, status, 0, plan.split ? from : INT64_MAX,
				       plan.b_limit, plan.b_offset, &want);

				struct insight_filter f = { .text = queries[i],
							    .status = status_filter(status),
							    .priority = -1, .page = at[p],
							    .page_size = ps };
				struct insight_page page = { 0 };
				struct error e = ERROR_INIT;
				CHECK(store_insight_find(st, &a, &f, &page, &e) == OK);
				CHECK(page.total == total);
				buf_reset(&got);
				for (size_t k = 0; k < page.n; k++)
					buf_addf(&got, " %lld", (long long)page.items[k].id);
				if (strcmp(got.len ? got.data : "", want.len ? want.data : "")) {
					t_failures++;
					fprintf(stderr, "'%s' window %u status %s page %lld of %lld:\n"
						"  got: %s\n  bm25:%s\n", queries[i], window,
						status ? status : "any", (long long)at[p],
						(long long)ps, got.len ? got.data : "",
						want.len ? want.data : "");
				}
				t_checks++;
				pages++;
				arena_release(&a);
			}
		}
	}
	buf_release(&fts);
	buf_release(&want);
	buf_release(&got);
	store_close(st);
	return pages;
}

TEST(sqlite_rank_gate_pages)
{
	struct rank_fixture x = { 0 };
	if (rank_setup(&x))
		return;
	int pages = check_pages(&x, 600, NULL) + check_pages(&x, 0, NULL) +
		    check_pages(&x, 250, NULL);
	CHECK(pages > 1000);
	rank_teardown(&x);
}

/*
 * A filtered search is gated too: the gate must see only the rows that pass
 * the filter, or rows the filter drops would tighten its threshold and push
 * the page's rows out. A third of the rows are published, at random.
 */
TEST(sqlite_rank_gate_filtered_pages)
{
	struct rank_fixture x = { 0 };
	if (rank_setup(&x))
		return;
	CHECK(sqlite3_exec(x.db, "UPDATE insights SET status = 'published' WHERE (id * 7919) % 3 = 0",
			   NULL, NULL, NULL) == SQLITE_OK);
	int pages = check_pages(&x, 0, "published") + check_pages(&x, 200, "published") +
		    check_pages(&x, 0, "draft");
	CHECK(pages > 800);
	rank_teardown(&x);
}
