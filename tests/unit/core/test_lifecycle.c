/*
 * test_lifecycle.c: lifecycle figures (core/lifecycle.c): nearest-rank
 * percentiles, transitions in order, durations grouped by category and
 * author.
 */
#include "t.h"

#include <string.h>

#include "core/lifecycle.h"
#include "lib/arena.h"

TEST(lifecycle_percentile_nearest_rank)
{
	int64_t one[] = { 7 };
	CHECK(lifecycle_percentile(one, 1, 50) == 7 && lifecycle_percentile(one, 1, 90) == 7);
	int64_t two[] = { 10, 20 };
	/* ceil(0.5 * 2) = 1: the lower middle value; ceil(0.9 * 2) = 2 */
	CHECK(lifecycle_percentile(two, 2, 50) == 10 && lifecycle_percentile(two, 2, 90) == 20);
	int64_t ten[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	CHECK(lifecycle_percentile(ten, 10, 50) == 5);
	CHECK(lifecycle_percentile(ten, 10, 90) == 9);   /* rank 9, not an interpolation */
	CHECK(lifecycle_percentile(ten, 10, 100) == 10);
	CHECK(lifecycle_percentile(ten, 10, 1) == 1);
	int64_t eleven[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
	CHECK(lifecycle_percentile(eleven, 11, 50) == 6); /* ceil(5.5) = 6 */
	CHECK(lifecycle_percentile(eleven, 11, 90) == 10); /* ceil(9.9) = 10 */
	int64_t three[] = { 100, 200, 300 };
	CHECK(lifecycle_percentile(three, 3, 50) == 200 && lifecycle_percentile(three, 3, 90) == 300);
}

TEST(lifecycle_compute_groups)
{
	struct arena a = ARENA_INIT;
	struct transition_count counts[] = {
		{ LIFECYCLE_DRAFT, LIFECYCLE_PUBLISHED, 3 },
		{ -1, LIFECYCLE_PUBLISHED, 1 },
		{ LIFECYCLE_PUBLISHED, LIFECYCLE_ARCHIVED, 1 },
		{ -1, LIFECYCLE_DRAFT, 4 },
	};
	struct publication pubs[] = {
		{ 3600, "Ops", "bob" },
		{ 0, NULL, "alice" },
		{ 7200, "Ops", "alice" },
		{ 86400, "Dev", "alice" },
	};
	struct lifecycle_data d = { counts, 4, pubs, 4 };
	struct lifecycle_figures f = { .days = 90 };
	lifecycle_compute(&a, &d, &f);
	CHECK(f.ncounts == 4);
	CHECK(f.counts[0].from == -1 && f.counts[0].to == LIFECYCLE_DRAFT && f.counts[0].count == 4);
	CHECK(f.counts[1].from == -1 && f.counts[1].to == LIFECYCLE_PUBLISHED);
	CHECK(f.counts[2].from == LIFECYCLE_DRAFT && f.counts[2].to == LIFECYCLE_PUBLISHED);
	CHECK(f.counts[3].from == LIFECYCLE_PUBLISHED && f.counts[3].to == LIFECYCLE_ARCHIVED);
	/* overall: 0, 3600, 7200, 86400: median rank 2, p90 rank 4 */
	CHECK(f.overall.count == 4 && f.overall.median == 3600 && f.overall.p90 == 86400);
	CHECK(!f.overall.name);
	/* by category, in name order; no category is "Uncategorized" */
	CHECK(f.ncategories == 3);
	CHECK_STR(f.by_category[0].name, "Dev");
	CHECK(f.by_category[0].count == 1 && f.by_category[0].median == 86400);
	CHECK_STR(f.by_category[1].name, "Ops");
	CHECK(f.by_category[1].count == 2 && f.by_category[1].median == 3600 &&
	      f.by_category[1].p90 == 7200);
	CHECK_STR(f.by_category[2].name, UNCATEGORIZED);
	CHECK(f.by_category[2].count == 1 && f.by_category[2].median == 0);
	/* by author */
	CHECK(f.nauthors == 2);
	CHECK_STR(f.by_author[0].name, "alice");
	CHECK(f.by_author[0].count == 3 && f.by_author[0].median == 7200 &&
	      f.by_author[0].p90 == 86400);
	CHECK_STR(f.by_author[1].name, "bob");
	CHECK(f.by_author[1].count == 1 && f.by_author[1].p90 == 3600);

	/* nothing published: counts zero, no groups */
	struct lifecycle_data none = { 0 };
	struct lifecycle_figures g = { .days = 1 };
	lifecycle_compute(&a, &none, &g);
	CHECK(g.overall.count == 0 && g.ncategories == 0 && g.nauthors == 0 && g.ncounts == 0);
	arena_release(&a);
}
