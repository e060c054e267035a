/*
 * test_validate.c: input validation (core/validate.c).
 */
#include "t.h"

#include <string.h>

#include "core/model.h"
#include "core/validate.h"
#include "lib/error.h"

static struct opt_str str(const char *v)
{
	return (struct opt_str){ .set = true, .v = v };
}

TEST(insight_validation)
{
	struct error e = ERROR_INIT;
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
	struct error e = ERROR_INIT;
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


TEST(date_valid_calendar)
{
	CHECK(date_valid("2026-03-31") && date_valid("0001-01-01") && date_valid("9999-12-31"));
	CHECK(date_valid("2024-02-29") && date_valid("2000-02-29"));
	CHECK(!date_valid("2026-02-29") && !date_valid("1900-02-29")); /* not leap years */
	CHECK(!date_valid("2026-04-31") && !date_valid("2026-13-01") && !date_valid("2026-00-10"));
	CHECK(!date_valid("2026-01-00") && !date_valid("0000-01-01"));
	CHECK(!date_valid("2026-1-01") && !date_valid("2026/01/01") && !date_valid("20260101"));
	CHECK(!date_valid("2026-01-01T00:00:00Z") && !date_valid("") && !date_valid("2026-01-0a"));
	CHECK(!date_valid(" 2026-01-01") && !date_valid("+026-01-01"));
}

TEST(insight_check_review_fields)
{
	struct insight_input in = { 0 };
	struct error err = ERROR_INIT;
	in.review_by = (struct opt_str){ true, "2026-02-30" };
	CHECK(insight_input_check(&in, false, &err) == E_INVALID);
	CHECK(err.nproblems == 1 && error_has(&err, "review_by"));
	CHECK(!strcmp(err.problems[0].type, "date_parsing"));

	/* null clears; a real date passes */
	error_clear(&err);
	in.review_by = (struct opt_str){ true, NULL };
	CHECK(insight_input_check(&in, false, &err) == OK);
	in.review_by = (struct opt_str){ true, "2026-02-28" };
	CHECK(insight_input_check(&in, false, &err) == OK);

	/* owner: null allowed, 1..OWNER_MAX characters (not bytes) */
	char owner[OWNER_MAX * 2 + 3];
	for (size_t i = 0; i < OWNER_MAX; i++)
		memcpy(owner + 2 * i, "\xc3\xa9", 2); /* é */
	owner[2 * OWNER_MAX] = '\0';
	in.owner = (struct opt_str){ true, owner };
	CHECK(insight_input_check(&in, false, &err) == OK);
	memcpy(owner + 2 * OWNER_MAX, "x", 2);
	CHECK(insight_input_check(&in, false, &err) == E_INVALID);
	CHECK(error_has(&err, "owner") && !strcmp(err.problems[0].type, "string_too_long"));
	error_clear(&err);
	in.owner = (struct opt_str){ true, "" };
	CHECK(insight_input_check(&in, false, &err) == E_INVALID);
	error_clear(&err);
	in.owner = (struct opt_str){ true, NULL };
	CHECK(insight_input_check(&in, false, &err) == OK);
}
