/*
 * test_respond.c: reading a request's text without a request (api/respond.c):
 * the body's JSON (api_json_parse) and query values (api_query_parse_*).
 * Several cases are inputs the fuzz targets found (tests/fuzz/corpus/).
 */
#include "t.h"

#include "api/api.h"
#include "lib/banned.h"

/* Parses `text`; on failure returns NULL with the problem's path and message. */
static json_object *parse(const char *text, struct error *e)
{
	error_clear(e);
	return api_json_parse(text, strlen(text), e);
}

/* `text` is refused as json_invalid at byte `at`, with a message holding `why`. */
static void check_refused(const char *text, int64_t at, const char *why)
{
	struct error e;
	json_object *o = parse(text, &e);
	CHECK(o == NULL);
	json_object_put(o);
	CHECK(e.status == E_INVALID && e.nproblems == 1);
	CHECK_STR(e.problems[0].type, "json_invalid");
	CHECK(e.problems[0].nloc == 1 && e.problems[0].loc[0].index == at);
	if (!strstr(e.problems[0].msg, why))
		fprintf(stderr, "    %s: %s\n", text, e.problems[0].msg);
	CHECK(strstr(e.problems[0].msg, why) != NULL);
}

TEST(json_parse_paths_are_relative_to_the_text)
{
	struct error e;
	CHECK(parse("", &e) == NULL);
	CHECK_STR(e.problems[0].type, "missing");
	CHECK(e.problems[0].nloc == 0);
	CHECK(parse("[1]", &e) == NULL);
	CHECK_STR(e.problems[0].type, "model_attributes_type");
	CHECK(e.problems[0].nloc == 0);
	CHECK(parse("{\"a\": \"\\ud800\"}", &e) == NULL);
	CHECK_STR(e.problems[0].type, "string_unicode");
	CHECK(e.problems[0].nloc == 1 && e.problems[0].loc[0].index == 7);
	json_object *o = parse(" {\"a\": [1, -0, 0.5, 1e-3, 2E+2, true, false, null, \"it's\"]}"
			       " \r\n", &e);
	CHECK(o != NULL && e.status == OK);
	json_object_put(o);
}

/* json-c takes these even in strict mode; RFC 8259 does not (found by fuzz_body). */
TEST(json_parse_refuses_what_json_c_lets_through)
{
	check_refused("{'page': 1}", 1, "double quotes");
	check_refused("{\"page\": 00}", 9, "invalid number");
	check_refused("{\"page\": -01}", 9, "invalid number");
	check_refused("{\"page\": 1.}", 9, "invalid number");
	check_refused("{\"page\": -.5}", 9, "invalid number");
	check_refused("{\"page\": 1.e5}", 9, "invalid number");
	check_refused("{\"a\": [1, NaN]}", 10, "invalid literal");
	check_refused("{\"a\": Infinity}", 6, "invalid literal");
	check_refused("{\"a\": -Infinity}", 6, "invalid number");
}

/*
 * A text cut inside a string made json-c count the terminating NUL: the
 * offset was one past the end of the body (found by fuzz_body).
 */
TEST(json_parse_cut_texts_end_at_their_length)
{
	check_refused("{\"ttitle\": \"x\", \"page: 1}", 25, "Unexpected end of the JSON text");
	check_refused("{\"a", 3, "Unexpected end of the JSON text");
	check_refused("{\"a\": 1", 7, "Unexpected end of the JSON text");
	check_refused("{\"a\": [", 7, "Unexpected end of the JSON text");
}

/* Leading whitespace passed strtoll's own skipping (found by fuzz_query). */
TEST(query_int_is_exactly_decimal)
{
	static const char *const bad[] = { "\t5", "\n5", "\v5", "\f5", "\r5", "\n\n\n\n\n3", " 5",
					   "+5", "\t+5", "5 ", "", "-", "0x10", "1e3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct error e = ERROR_INIT;
		int64_t n = 0;
		api_query_parse_int("page", bad[i], 7, 1, 100, &n, &e);
		CHECK(n == 7 && e.nproblems == 1);
		CHECK_STR(e.problems[0].type, "int_parsing");
		CHECK_LOC(&e.problems[0], "query.page");
	}
	struct error e = ERROR_INIT;
	int64_t n = 0;
	api_query_parse_int("page", "-0042", 7, -100, 100, &n, &e);
	CHECK(n == -42 && e.status == OK);
	api_query_parse_int("skip", "9223372036854775807", 0, 0, INT64_MAX, &n, &e);
	CHECK(n == INT64_MAX && e.status == OK);
	api_query_parse_int("skip", "9223372036854775808", 0, 0, INT64_MAX, &n, &e);
	CHECK(n == 0 && e.nproblems == 1);
}

TEST(query_enums_and_strings)
{
	struct error e = ERROR_INIT;
	int v = 0;
	api_query_parse_lifecycle("status", "published", &v, &e);
	CHECK(v == LIFECYCLE_PUBLISHED && e.status == OK);
	api_query_parse_priority("priority", " high", &v, &e);
	CHECK(v == -1 && e.nproblems == 1);
	CHECK_LOC(&e.problems[0], "query.priority");
	const char *s = "x";
	api_query_parse_str("author", "", &s, &e);
	CHECK(s == NULL);
	api_query_parse_str("author", "\xc3\x28", &s, &e);
	CHECK(s == NULL && e.nproblems == 2);
	CHECK_STR(e.problems[1].type, "string_unicode");
}
