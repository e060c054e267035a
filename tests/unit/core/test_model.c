/*
 * test_model.c: the domain rules of core/model.c: lifecycle, partial updates, names.
 */
#include "t.h"

#include <string.h>

#include "core/model.h"

static struct opt_str str(const char *v)
{
	return (struct opt_str){ .set = true, .v = v };
}

TEST(lifecycle_sets_keeps_and_clears_published_at)
{
	struct insight_input in = { .title = str("t"), .description = str("d"), .author = str("a") };
	struct insight row;
	insight_init(&row, &in, "2025-01-01T00:00:00Z");
	CHECK(row.status == LIFECYCLE_DRAFT && row.priority == PRIORITY_MEDIUM);
	CHECK_STR(row.created_at, "2025-01-01T00:00:00Z");
	CHECK_STR(row.published_at, "");

	struct insight_input publish = { .status_set = true, .status = LIFECYCLE_PUBLISHED };
	insight_apply(&row, &publish, "2025-01-02T00:00:00Z");
	CHECK_STR(row.published_at, "2025-01-02T00:00:00Z");
	CHECK_STR(row.updated_at, "2025-01-02T00:00:00Z");
	CHECK_STR(row.created_at, "2025-01-01T00:00:00Z");

	/* Published again: the first publication stands. */
	insight_apply(&row, &publish, "2025-01-03T00:00:00Z");
	CHECK_STR(row.published_at, "2025-01-02T00:00:00Z");

	struct insight_input archive = { .status_set = true, .status = LIFECYCLE_ARCHIVED };
	insight_apply(&row, &archive, "2025-01-04T00:00:00Z");
	CHECK_STR(row.published_at, "2025-01-02T00:00:00Z");

	/* Archived -> published is a new publication. */
	insight_apply(&row, &publish, "2025-01-05T00:00:00Z");
	CHECK_STR(row.published_at, "2025-01-05T00:00:00Z");

	struct insight_input draft = { .status_set = true, .status = LIFECYCLE_DRAFT };
	insight_apply(&row, &draft, "2025-01-06T00:00:00Z");
	CHECK_STR(row.published_at, "");

	struct insight_input created_published = in;
	created_published.status_set = true;
	created_published.status = LIFECYCLE_PUBLISHED;
	insight_init(&row, &created_published, "2025-02-01T00:00:00Z");
	CHECK_STR(row.published_at, "2025-02-01T00:00:00Z");
}

TEST(partial_update_keeps_absent_fields)
{
	struct insight_input in = { .title = str("t"), .description = str("d"), .author = str("a"),
				    .source = str("s"), .category_id = { true, 4 } };
	struct insight row;
	insight_init(&row, &in, "2025-01-01T00:00:00Z");
	struct insight_input upd = { .title = str("new"), .source = { .set = true, .v = NULL } };
	insight_apply(&row, &upd, "2025-01-02T00:00:00Z");
	CHECK_STR(row.title, "new");
	CHECK_STR(row.description, "d");
	CHECK(row.source == NULL);
	CHECK(row.category_id == 4);
}

TEST(enum_names_round_trip)
{
	for (int i = 0; i < PRIORITY_COUNT; i++) {
		enum priority p;
		CHECK(priority_parse(priority_name((enum priority)i), &p) == 0 && (int)p == i);
	}
	for (int i = 0; i < LIFECYCLE_COUNT; i++) {
		enum lifecycle l;
		CHECK(lifecycle_parse(lifecycle_name((enum lifecycle)i), &l) == 0 && (int)l == i);
	}
	enum priority p;
	CHECK(priority_parse("HIGH", &p) == -1);
	CHECK(priority_parse("", &p) == -1);
}
