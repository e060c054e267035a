/*
 * test_core.c: the domain rules (core/model.c) and input validation
 * (core/validate.c).
 */
#include "t.h"

#include "core/model.h"
#include "core/validate.h"

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

TEST(insight_validation)
{
	struct error e;
	error_clear(&e);
	struct insight_input in = { 0 };
	CHECK(insight_input_check(&in, true, &e) == E_INVALID);
	CHECK(e.nproblems == 3); /* title, description, author missing */
	CHECK_LOC(&e.problems[0], "title");
	CHECK_STR(e.problems[0].type, "missing");

	error_clear(&e);
	CHECK(insight_input_check(&in, false, &e) == OK); /* nothing to update is fine */

	char title[501 * 2 + 1];
	for (int i = 0; i < 501; i++)
		memcpy(title + 2 * i, "\xC3\xA9", 2); /* 501 characters, 1002 bytes */
	title[1002] = '\0';
	struct insight_input big = { .title = str(title), .description = str(""), .author = str("a") };
	error_clear(&e);
	CHECK(insight_input_check(&big, true, &e) == E_INVALID);
	CHECK(e.nproblems == 1 && !strcmp(e.problems[0].type, "string_too_long"));
	title[1000] = '\0'; /* 500 characters */
	error_clear(&e);
	CHECK(insight_input_check(&big, true, &e) == OK);

	struct insight_input nulls = { .title = { true, NULL }, .content = { true, NULL } };
	error_clear(&e);
	CHECK(insight_input_check(&nulls, false, &e) == E_INVALID);
	CHECK(e.nproblems == 1);
	CHECK_LOC(&e.problems[0], "title");

	/* A field the decoder already reported is not reported twice. */
	error_clear(&e);
	error_invalid(&e, "title", "string_type", "Input should be a valid string");
	CHECK(insight_input_check(&nulls, false, &e) == E_INVALID);
	CHECK(e.nproblems == 1);
}

TEST(tag_and_category_validation)
{
	struct error e;
	error_clear(&e);
	struct tag_input t = { .name = str("n"), .slug = str("s"), .color = str("#3B82F6") };
	CHECK(tag_input_check(&t, true, &e) == OK);
	t.color = str("#3B82F");
	CHECK(tag_input_check(&t, true, &e) == E_INVALID);
	CHECK_STR(e.problems[0].type, "string_pattern_mismatch");
	CHECK(color_valid("#abcdef") && color_valid("#ABC123"));
	CHECK(!color_valid("abcdef") && !color_valid("#abcdeg") && !color_valid("#abcdef0"));

	error_clear(&e);
	struct category_input c = { .name = str(""), .slug = str("s"), .icon = str("") };
	CHECK(category_input_check(&c, true, &e) == E_INVALID);
	CHECK(e.nproblems == 1);
	CHECK_LOC(&e.problems[0], "name");
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
