/*
 * test_common.c: the backend-neutral helpers every storage driver shares
 * (store/common.c): the row decoder, pages and search windows, words of
 * search text, statistics and trends, tag grouping, id lists, migration
 * names.
 */
#include "t.h"

#include <stdlib.h>
#include <string.h>

#include "store/common.h"
#include "store/store.h"

/* A row of text columns (NULL: SQL NULL), as a driver would present it. */
struct fake_row {
	const char *cols[40];
};

static bool fake_null(const void *res, int row, int col)
{
	(void)row;
	return ((const struct fake_row *)res)->cols[col] == NULL;
}

static int64_t fake_int(const void *res, int row, int col)
{
	(void)row;
	const char *v = ((const struct fake_row *)res)->cols[col];
	return v ? strtoll(v, NULL, 10) : 0;
}

static const char *fake_text(const void *res, int row, int col, size_t *len)
{
	(void)row;
	const char *v = ((const struct fake_row *)res)->cols[col];
	*len = v ? strlen(v) : 0;
	return v;
}

static const struct store_row_ops fake_ops = { fake_null, fake_int, fake_text };

TEST(decoder_reads_an_insight_and_its_category_by_column)
{
	struct fake_row f = { { 0 } };
	const char *insight[IC_CATEGORY] = { "7", "Title", "Desc", NULL, "src", "bob", "3", "high",
					     "published", "2025-12-23 18:00:00",
					     "2025-12-24T09:30:00Z", NULL };
	memcpy(f.cols, insight, sizeof(insight));
	const char *cat[CC_INSIGHT_COUNT] = { "3", "Tech", "tech", NULL, NULL, "#112233", "code",
					      "2025-01-01 00:00:00", "2025-01-02 00:00:00" };
	memcpy(f.cols + IC_CATEGORY, cat, sizeof(cat));
	struct store_row r = { &fake_ops, &f, 0 };
	struct arena a = ARENA_INIT;
	struct insight in;
	store_read_insight(&r, 0, &a, &in);
	CHECK(in.id == 7 && in.category_id == 3);
	CHECK_STR(in.title, "Title");
	CHECK(in.content == NULL);
	CHECK(in.priority == PRIORITY_HIGH && in.status == LIFECYCLE_PUBLISHED);
	CHECK_STR(in.created_at, "2025-12-23T18:00:00Z"); /* PostgreSQL's form, converted */
	CHECK_STR(in.updated_at, "2025-12-24T09:30:00Z"); /* SQLite's, kept */
	CHECK_STR(in.published_at, "");
	CHECK(in.category && in.category->id == 3 && in.category->parent_id == 0);
	CHECK_STR(in.category->name, "Tech");
	CHECK(in.category->description == NULL);
	CHECK(in.ntags == 0 && in.tags == NULL);

	/* Without a category (NULL columns) and with unknown enum text. */
	f.cols[IC_CATEGORY + CC_ID] = NULL;
	f.cols[IC_PRIORITY] = "urgent";
	f.cols[IC_STATUS] = NULL;
	store_read_insight(&r, 0, &a, &in);
	CHECK(in.category == NULL);
	CHECK(in.priority == PRIORITY_MEDIUM && in.status == LIFECYCLE_DRAFT);

	/* A tag at an offset, and a counted category. */
	struct fake_row t = { { "x", "5", "Perf", "perf", NULL, "#abcdef", "2025-01-01T00:00:00Z",
				"12" } };
	r.res = &t;
	struct tag tag;
	store_read_tag(&r, 1, &a, &tag);
	CHECK(tag.id == 5 && tag.usage_count == 12);
	CHECK_STR(tag.slug, "perf");
	struct fake_row c = { { "4", "Ops", "ops", "d", "1", NULL, NULL, "2025-01-01T00:00:00Z",
				"2025-01-01T00:00:00Z", "9" } };
	r.res = &c;
	struct category cc;
	store_read_category(&r, 0, true, &a, &cc);
	CHECK(cc.id == 4 && cc.parent_id == 1 && cc.insight_count == 9);
	store_read_category(&r, 0, false, &a, &cc);
	CHECK(cc.insight_count == 0);
	arena_release(&a);
}

TEST(page_offsets_and_search_windows)
{
	struct insight_filter f = { .page = 1, .page_size = 20 };
	int64_t off = -1;
	CHECK(store_page_offset(&f, 5, &off) && off == 0);
	CHECK(!store_page_offset(&f, 0, &off)); /* nothing to page */
	f.page = 3;
	CHECK(store_page_offset(&f, 41, &off) && off == 40);
	CHECK(!store_page_offset(&f, 40, &off));
	f.page = INT64_MAX;
	CHECK(!store_page_offset(&f, INT64_MAX, &off)); /* overflow */
	struct window_plan wp;
	store_window_plan(100, 100, 80, 20, &wp); /* no more matches than the window */
	CHECK(!wp.split && wp.a_offset == 80 && wp.a_limit == 20 && wp.b_limit == 0);
	store_window_plan(0, 5000, 80, 20, &wp); /* 0: rank everything */
	CHECK(!wp.split && wp.a_offset == 80 && wp.a_limit == 20);
	store_window_plan(100, 500, 60, 20, &wp); /* within the window */
	CHECK(wp.split && wp.a_offset == 60 && wp.a_limit == 20 && wp.b_limit == 0);
	store_window_plan(100, 500, 90, 20, &wp); /* across its edge */
	CHECK(wp.split && wp.a_offset == 90 && wp.a_limit == 10 && wp.b_offset == 0 && wp.b_limit == 10);
	store_window_plan(100, 500, 100, 20, &wp); /* past it */
	CHECK(wp.split && wp.a_limit == 0 && wp.b_offset == 0 && wp.b_limit == 20);
	store_window_plan(100, 500, 250, 20, &wp);
	CHECK(wp.split && wp.a_limit == 0 && wp.b_offset == 150 && wp.b_limit == 20);
	/* Every page of a split ranking, together: each position exactly once. */
	int seen[500] = { 0 };
	for (int64_t start = 0; start < 500; start += 7) {
		store_window_plan(100, 500, start, 7, &wp);
		for (int64_t k = 0; k < wp.a_limit; k++)
			seen[wp.a_offset + k]++;
		for (int64_t k = 0; k < wp.b_limit && 100 + wp.b_offset + k < 500; k++)
			seen[100 + wp.b_offset + k]++;
	}
	int once = 0;
	for (int k = 0; k < 500; k++)
		once += seen[k] == 1;
	CHECK(once == 500);
}

TEST(search_text_words)
{
	const char *p = "  composite\tindex \"x\"\n", *w;
	size_t n;
	CHECK(store_next_word(&p, &w, &n) && n == 9 && !strncmp(w, "composite", n));
	CHECK(store_next_word(&p, &w, &n) && n == 5 && !strncmp(w, "index", n));
	CHECK(store_next_word(&p, &w, &n) && n == 3 && !strncmp(w, "\"x\"", n));
	CHECK(!store_next_word(&p, &w, &n));
	struct insight_filter f = { .text = " \t " };
	CHECK(!store_has_text(&f));
	f.text = NULL;
	CHECK(!store_has_text(&f) && !store_needs_row_count(&f));
	f.text = "a";
	CHECK(store_has_text(&f) && store_needs_row_count(&f));
	struct insight_filter g = { .status = 1, .priority = -1, .category_id = 2 };
	CHECK(!store_needs_row_count(&g)); /* the counts table answers */
	g.author = "bob";
	CHECK(store_needs_row_count(&g));
}

TEST(statistics_accumulate_counts_and_categories)
{
	struct arena a = ARENA_INIT;
	struct statistics s;
	struct stats_acc acc;
	stats_begin(&acc, &s);
	stats_count(&acc, "draft", "low", 2, 3);
	stats_count(&acc, "published", "high", 2, 4);
	stats_count(&acc, "published", "high", 0, 5); /* uncategorized */
	stats_count(&acc, "archived", "critical", 9, 1);
	stats_category(&acc, &a, 9, "Alpha", 5);
	stats_category(&acc, &a, 2, "Beta", 4);
	stats_category(&acc, &a, 4, "Empty", 5);
	stats_finish(&acc, &a);
	CHECK(s.total_insights == 13 && s.total_categories == 3);
	CHECK(s.by_status[LIFECYCLE_DRAFT] == 3 && s.by_status[LIFECYCLE_PUBLISHED] == 9);
	CHECK(s.by_priority[PRIORITY_HIGH] == 9 && s.by_priority[PRIORITY_CRITICAL] == 1);
	CHECK(s.ncategories_counted == 4);
	CHECK_STR(s.by_category[0].name, "Alpha");
	CHECK(s.by_category[0].count == 1 && s.by_category[1].count == 7 &&
	      s.by_category[2].count == 0);
	CHECK_STR(s.by_category[3].name, UNCATEGORIZED);
	CHECK(s.by_category[3].count == 5);

	/* Many categories, none uncategorized: no extra entry. */
	stats_begin(&acc, &s);
	for (int i = 1; i <= 100; i++)
		stats_count(&acc, "draft", "low", i, i);
	for (int i = 1; i <= 100; i++)
		stats_category(&acc, &a, i, "c", 1);
	stats_finish(&acc, &a);
	CHECK(s.ncategories_counted == 100 && s.by_category[99].count == 100);
	arena_release(&a);
}

TEST(trends_add_to_their_day)
{
	struct trend_day days[2] = { { .date = "2025-12-01" }, { .date = "2025-12-02" } };
	store_trend_add(days, 2, "2025-12-02", "published", 4);
	store_trend_add(days, 2, "2025-12-02", "draft", 1);
	store_trend_add(days, 2, "2025-11-30", "draft", 9); /* outside the range */
	store_trend_add(days, 2, "2025-12-01", "bogus", 9);
	store_trend_add(days, 2, NULL, "draft", 9);
	CHECK(days[1].by_status[LIFECYCLE_PUBLISHED] == 4 && days[1].by_status[LIFECYCLE_DRAFT] == 1);
	CHECK(days[0].by_status[LIFECYCLE_DRAFT] == 0 && days[0].by_status[LIFECYCLE_ARCHIVED] == 0);
}

TEST(tags_hang_on_their_insights)
{
	struct arena a = ARENA_INIT;
	struct tag_link links[] = {
		{ 2, { .id = 10 } }, { 2, { .id = 11 } }, { 5, { .id = 10 } }, { 9, { .id = 12 } },
	};
	/* Items in page order (not by id), one without tags. */
	struct insight items[4] = { { .id = 9 }, { .id = 2 }, { .id = 3 }, { .id = 5 } };
	store_hang_tags(items, 4, links, 4, &a);
	CHECK(items[0].ntags == 1 && items[0].tags[0].id == 12);
	CHECK(items[1].ntags == 2 && items[1].tags[0].id == 10 && items[1].tags[1].id == 11);
	CHECK(items[2].ntags == 0 && items[2].tags == NULL);
	CHECK(items[3].ntags == 1 && items[3].tags[0].id == 10);
	arena_release(&a);
}

TEST(id_lists_and_migration_names)
{
	struct buf b = BUF_INIT;
	int64_t ids[] = { 1, 22, 333 };
	store_ids_print(&b, ids, 3, '[', ']');
	CHECK_STR(b.data, "[1,22,333]");
	buf_reset(&b);
	store_ids_print(&b, ids, 0, '{', '}');
	CHECK_STR(b.data, "{}");
	buf_release(&b);
	int v;
	char name[32];
	CHECK(store_migration_name("/0002_order_pages_by_index.sql", &v, name, sizeof(name)));
	CHECK(v == 2);
	CHECK_STR(name, "order pages by index");
	CHECK(!store_migration_name("/2_x.sql", &v, name, sizeof(name)));
	CHECK(!store_migration_name("/0003_x.txt", &v, name, sizeof(name)));
	CHECK(!store_migration_name("/0000_x.sql", &v, name, sizeof(name)));
}

TEST(similar_pick_takes_the_rarest_found_words)
{
	int64_t df[16] = { 5, 0, 1, STORE_SIMILAR_DF_CAP, 3, 1 };
	for (int i = 6; i < 16; i++)
		df[i] = 100 + i;
	size_t pick[STORE_SIMILAR_PICK];
	size_t n = store_similar_pick(df, 16, pick);
	CHECK(n == STORE_SIMILAR_PICK);
	/* df 1 (index 2, then 5: the caller's order), 3, 5, then the hundreds; never 0 or the cap. */
	CHECK(pick[0] == 2 && pick[1] == 5 && pick[2] == 4 && pick[3] == 0 && pick[4] == 6);
	CHECK(pick[STORE_SIMILAR_PICK - 1] == STORE_SIMILAR_PICK + 1); /* the hundreds from index 6 */
	/* Among the first six: never the word found in no insight, nor the one at the cap. */
	CHECK(store_similar_pick(df, 6, pick) == 4);
	CHECK(pick[0] == 2 && pick[1] == 5 && pick[2] == 4 && pick[3] == 0);
}

TEST(similar_top_sums_weights_per_insight)
{
	struct similar_hit hits[] = { { 7, 1.0 }, { 3, 2.0 }, { 7, 1.5 }, { 9, 2.5 }, { 4, 0.5 } };
	int64_t ids[3];
	size_t n = store_similar_top(hits, 5, 3, ids);
	/* 7: 2.5, 9: 2.5 (tie: highest id first), 3: 2.0; 4 left out. */
	CHECK(n == 3 && ids[0] == 9 && ids[1] == 7 && ids[2] == 3);
	CHECK(store_similar_top(hits, 0, 3, ids) == 0);
}
