/*
 * test_codec.c: JSON to domain inputs, and domain rows to JSON.
 */
#include "t.h"

#include <stdlib.h>

#include "api/codec.h"

static json_object *parse(const char *text)
{
	json_object *o = json_tokener_parse(text);
	CHECK(o != NULL);
	return o;
}

TEST(decode_insight_types_and_presence)
{
	struct arena a = ARENA_INIT;
	struct error e = ERROR_INIT;
	json_object *o = parse("{\"title\":\"T\",\"content\":null,\"category_id\":\"3\","
			       "\"priority\":\"high\",\"tag_ids\":[5,2,5.0,\"2\"]}");
	struct insight_input in;
	CHECK(decode_insight_input(o, &a, &in, &e) == OK);
	CHECK(in.title.set && !strcmp(in.title.v, "T"));
	CHECK(!in.description.set);
	CHECK(in.content.set && in.content.v == NULL);
	CHECK(in.category_id.set && in.category_id.v == 3);
	CHECK(in.priority_set && in.priority == PRIORITY_HIGH);
	CHECK(!in.status_set);
	CHECK(in.tag_ids_set && in.ntag_ids == 2 && in.tag_ids[0] == 2 && in.tag_ids[1] == 5);
	json_object_put(o);
	arena_release(&a);
}

TEST(decode_insight_reports_every_type_problem)
{
	struct arena a = ARENA_INIT;
	struct error e = ERROR_INIT;
	json_object *o = parse("{\"title\":7,\"priority\":\"urgent\",\"status\":null,"
			       "\"category_id\":1.5,\"tag_ids\":[1,true,\"x\",0],\"author\":\"a\\u0000b\"}");
	struct insight_input in;
	CHECK(decode_insight_input(o, &a, &in, &e) == E_INVALID);
	const char *want[][2] = {
		{ "title", "string_type" },     { "author", "string_type" },
		{ "category_id", "int_from_float" }, { "priority", "enum" },
		{ "status", "enum" },           { "tag_ids.1", "int_type" },
		{ "tag_ids.2", "int_parsing" }, { "tag_ids.3", "greater_than_equal" },
	};
	CHECK(e.nproblems == sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < e.nproblems && i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK_LOC(&e.problems[i], want[i][0]);
		CHECK_STR(e.problems[i].type, want[i][1]);
	}
	json_object_put(o);
	arena_release(&a);
}

TEST(decode_search_defaults_and_bounds)
{
	struct arena a = ARENA_INIT;
	struct error e = ERROR_INIT;
	json_object *o = parse("{\"query\":\"x\",\"status\":null,\"tag_ids\":null}");
	struct insight_filter f;
	CHECK(decode_search(o, &a, &f, &e) == OK);
	CHECK(f.page == 1 && f.page_size == 20 && f.status == -1 && f.priority == -1);
	CHECK(f.ntag_ids == 0 && !strcmp(f.text, "x"));
	json_object_put(o);

	error_clear(&e);
	o = parse("{\"page\":0,\"page_size\":101}");
	CHECK(decode_search(o, &a, &f, &e) == E_INVALID);
	CHECK(e.nproblems == 2);
	CHECK_STR(e.problems[0].type, "greater_than_equal");
	CHECK_STR(e.problems[1].type, "less_than_equal");
	json_object_put(o);
	arena_release(&a);
}

static char *encode(void (*fn)(struct jsonw *, const void *), const void *arg)
{
	struct buf b = BUF_INIT;
	struct jsonw w;
	jsonw_init(&w, &b);
	fn(&w, arg);
	return buf_detach(&b, NULL);
}

static void enc_insight(struct jsonw *w, const void *p) { encode_insight(w, p); }
static void enc_error(struct jsonw *w, const void *p) { encode_error(w, p); }

TEST(encode_insight_shape)
{
	struct tag tag = { .id = 2, .name = "Perf", .slug = "perf", .created_at = "2025-12-23T18:00:00Z",
			   .usage_count = 1 };
	struct insight in = { .id = 1, .title = "T \"q\"", .description = "d", .author = "a",
			      .priority = PRIORITY_HIGH, .status = LIFECYCLE_PUBLISHED,
			      .created_at = "2025-12-23T18:00:00Z", .updated_at = "2025-12-23T18:00:00Z",
			      .published_at = "", .revision = 4, .review_by = "2026-03-31",
			      .owner = "ops", .tags = &tag, .ntags = 1 };
	char *s = encode(enc_insight, &in);
	CHECK_STR(s, "{\"id\":1,\"title\":\"T \\\"q\\\"\",\"description\":\"d\",\"content\":null,"
		     "\"source\":null,\"author\":\"a\",\"category_id\":null,\"priority\":\"high\","
		     "\"status\":\"published\",\"created_at\":\"2025-12-23T18:00:00Z\","
		     "\"updated_at\":\"2025-12-23T18:00:00Z\",\"published_at\":null,\"revision\":4,"
		     "\"review_by\":\"2026-03-31\",\"owner\":\"ops\",\"reviewed_at\":null,"
		     "\"tags\":[{\"id\":2,\"name\":\"Perf\",\"slug\":\"perf\",\"description\":null,"
		     "\"color\":null,\"created_at\":\"2025-12-23T18:00:00Z\",\"usage_count\":1}],"
		     "\"category\":null}");
	json_object *back = json_tokener_parse(s);
	CHECK(back != NULL); /* what we write, json-c reads */
	json_object_put(back);
	free(s);
}

static void enc_page(struct jsonw *w, const void *p)
{
	encode_insight_page(w, p, 2, 3, false);
}

/*
 * A page writes each tag and category once and copies it after: the page
 * must read as its insights encoded one by one, whatever repeats.
 */
TEST(encode_page_copies_repeated_tags_and_categories_exactly)
{
	struct tag tags[] = {
		{ .id = 2, .name = "Perf", .slug = "perf", .created_at = "2025-12-23T18:00:00Z",
		  .usage_count = 3 },
		{ .id = 7, .name = "Sec \"x\"", .slug = "sec", .description = "d", .color = "#fff",
		  .created_at = "2025-12-24T18:00:00Z", .usage_count = 1 },
		{ .id = 9, .name = "Ops", .slug = "ops", .created_at = "2025-12-25T18:00:00Z" },
	};
	struct category cats[] = {
		{ .id = 4, .name = "Infra", .slug = "infra", .created_at = "2025-12-01T00:00:00Z",
		  .updated_at = "2025-12-02T00:00:00Z", .parent_id = 1 },
		{ .id = 5, .name = "Web", .slug = "web", .icon = "globe",
		  .created_at = "2025-12-01T00:00:00Z", .updated_at = "2025-12-01T00:00:00Z" },
	};
	struct tag links[4][3] = {
		{ tags[0], tags[1] }, { tags[1], tags[0], tags[2] }, { tags[2] }, { tags[0] },
	};
	size_t ntags[] = { 2, 3, 1, 1 };
	struct category *of[] = { &cats[0], &cats[1], &cats[0], NULL };
	struct insight items[4];
	for (int i = 0; i < 4; i++)
		items[i] = (struct insight){
			.id = 10 + i, .title = "T", .description = "d", .author = "a",
			.priority = PRIORITY_LOW, .status = LIFECYCLE_DRAFT,
			.created_at = "2025-12-23T18:00:00Z", .updated_at = "2025-12-23T18:00:00Z",
			.published_at = "", .review_by = "", .reviewed_at = "", .revision = 1,
			.tags = links[i], .ntags = ntags[i], .category = of[i],
			.category_id = of[i] ? of[i]->id : 0,
		};
	struct insight_page page = { .total = 40, .items = items, .n = 4 };
	struct buf want = BUF_INIT;
	buf_adds(&want, "{\"total\":40,\"page\":2,\"page_size\":3,\"insights\":[");
	for (int i = 0; i < 4; i++) {
		char *one = encode(enc_insight, &items[i]);
		buf_addf(&want, "%s%s", i ? "," : "", one);
		free(one);
	}
	buf_adds(&want, "]}");
	char *s = encode(enc_page, &page);
	CHECK_STR(s, want.data);
	free(s);
	buf_release(&want);
}

TEST(encode_error_shapes)
{
	struct error e = ERROR_INIT;
	error_invalid_item(&e, "tag_ids", 2, "int_type", "Input should be a valid integer");
	error_locate(&e, 0, "body");
	error_invalid(&e, "insight_id", "int_parsing", "x");
	error_locate(&e, 1, "path");
	char *s = encode(enc_error, &e);
	CHECK_STR(s, "{\"detail\":[{\"type\":\"int_type\",\"loc\":[\"body\",\"tag_ids\",2],"
		     "\"msg\":\"Input should be a valid integer\"},"
		     "{\"type\":\"int_parsing\",\"loc\":[\"path\",\"insight_id\"],\"msg\":\"x\"}]}");
	free(s);
	error_clear(&e);
	error_set(&e, E_NOTFOUND, "Insight not found");
	s = encode(enc_error, &e);
	CHECK_STR(s, "{\"detail\":\"Insight not found\"}");
	free(s);
}
