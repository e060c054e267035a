/*
 * test_error.c: statuses and validation problems with their paths (lib/error.c).
 */
#include "t.h"

#include <string.h>

#include "lib/error.h"

TEST(error_collects_problems)
{
	struct error e = ERROR_INIT;
	CHECK(e.status == OK && e.nproblems == 0);
	CHECK(error_invalid(&e, "title", "missing", "Field required") == E_INVALID);
	CHECK(e.status == E_INVALID);
	CHECK(error_has(&e, "title"));
	CHECK(!error_has(&e, "author"));
	CHECK(!error_has(&e, "titl"));
	for (int i = 0; i < 40; i++)
		error_invalid(&e, "x", "t", "m %d", i);
	CHECK(e.nproblems == ERROR_MAX_PROBLEMS);
	CHECK_STR(e.problems[ERROR_MAX_PROBLEMS - 1].msg, "m 14"); /* the first ones are kept */
	CHECK(error_set(&e, E_NOTFOUND, "Tag not found") == E_NOTFOUND);
	CHECK_STR(e.detail, "Tag not found");
	error_clear(&e);
	CHECK(e.status == OK && e.nproblems == 0 && e.detail[0] == '\0');
}

TEST(error_paths_are_names_and_indexes)
{
	struct error e = ERROR_INIT;
	error_invalid_item(&e, "tag_ids", 2, "int_type", "Input should be a valid integer");
	CHECK(e.problems[0].nloc == 2);
	CHECK_STR(e.problems[0].loc[0].name, "tag_ids");
	CHECK(e.problems[0].loc[1].name[0] == '\0' && e.problems[0].loc[1].index == 2);
	CHECK_LOC(&e.problems[0], "tag_ids.2");
	error_invalid(&e, NULL, "missing", "Field required"); /* the input as a whole */
	CHECK(e.problems[1].nloc == 0);
	CHECK(error_has(&e, "tag_ids"));
}

TEST(error_locate_prefixes_from_a_mark)
{
	struct error e = ERROR_INIT;
	error_invalid(&e, "page", "int_parsing", "x");
	size_t mark = e.nproblems;
	error_invalid(&e, "title", "missing", "Field required");
	error_invalid_item(&e, "tag_ids", 0, "int_type", "y");
	error_locate(&e, mark, "body");
	error_locate_index(&e, mark, 7);
	CHECK_LOC(&e.problems[0], "page");             /* before the mark: untouched */
	CHECK_LOC(&e.problems[1], "7.body.title");
	CHECK_LOC(&e.problems[2], "7.body.tag_ids.0");
	/* A full path keeps its outermost segments. */
	struct error deep = ERROR_INIT;
	error_invalid(&deep, "leaf", "t", "m");
	for (int i = 0; i < ERROR_LOC_MAX + 2; i++)
		error_locate_index(&deep, 0, i);
	CHECK(deep.problems[0].nloc == ERROR_LOC_MAX);
	CHECK(deep.problems[0].loc[0].index == ERROR_LOC_MAX + 1);
}
