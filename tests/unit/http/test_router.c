/*
 * test_router.c: matching methods and paths against a route table
 * (http/router.c).
 */
#include "t.h"

#include <string.h>

#include "http/router.h"

static void nop(struct http_request *req)
{
	(void)req;
}

static const struct http_route routes[] = {
	{ HTTP_GET, "/insights", nop, 0, NULL },
	{ HTTP_POST, "/insights", nop, 0, NULL },
	{ HTTP_POST, "/insights/search", nop, 0, NULL },
	{ HTTP_GET | HTTP_PUT, "/insights/{insight_id}", nop, 0, NULL },
	{ HTTP_DELETE, "/insights/{insight_id}", nop, 0, NULL },
	{ HTTP_GET, "/a/{x}/b/{y}", nop, 0, NULL },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static struct http_match find(enum http_method m, const char *path, struct arena *a)
{
	struct http_match out;
	http_route_find(routes, NROUTES, m, path, a, &out);
	return out;
}

TEST(router_matches_literal_paths_by_method)
{
	struct arena a = ARENA_INIT;
	struct http_match m = find(HTTP_GET, "/insights", &a);
	CHECK(m.route == &routes[0] && m.path_route == &routes[0]);
	m = find(HTTP_POST, "/insights", &a);
	CHECK(m.route == &routes[1]);
	/* A literal segment wins where it is listed first. */
	m = find(HTTP_POST, "/insights/search", &a);
	CHECK(m.route == &routes[2] && m.params[0] == NULL);
	m = find(HTTP_HEAD, "/insights", &a);
	CHECK(m.route == &routes[0]); /* HEAD is served by GET */
	arena_release(&a);
}

TEST(router_extracts_parameters)
{
	struct arena a = ARENA_INIT;
	struct http_match m = find(HTTP_PUT, "/insights/42", &a);
	CHECK(m.route == &routes[3]);
	CHECK_STR(m.params[0], "42");
	CHECK_STR(m.param_names[0], "insight_id");
	m = find(HTTP_DELETE, "/insights/abc", &a);
	CHECK(m.route == &routes[4]);
	CHECK_STR(m.params[0], "abc"); /* typing is the handler's business */
	m = find(HTTP_GET, "/a/1/b/two", &a);
	CHECK(m.route == &routes[5]);
	CHECK_STR(m.params[0], "1");
	CHECK_STR(m.params[1], "two");
	CHECK_STR(m.param_names[1], "y");
	arena_release(&a);
}

TEST(router_reports_wrong_methods_and_unknown_paths)
{
	struct arena a = ARENA_INIT;
	struct http_match m = find(HTTP_PATCH, "/insights/7", &a);
	CHECK(m.route == NULL);
	CHECK(m.path_route == &routes[3]); /* the endpoint, for metrics */
	CHECK(m.allow == (HTTP_GET | HTTP_PUT | HTTP_DELETE));
	CHECK(m.params[0] == NULL);
	m = find(HTTP_GET, "/insights/search", &a); /* the path is POST's; also {insight_id}'s */
	CHECK(m.route == &routes[3] && m.params[0] && !strcmp(m.params[0], "search"));
	static const char *const unknown[] = { "/insight", "/insights/1/2", "/insights//", "/",
					       "", "/a/1/b", "/a//b/2", "insights" };
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		m = find(HTTP_GET, unknown[i], &a);
		CHECK(m.route == NULL && m.path_route == NULL && m.allow == 0);
	}
	arena_release(&a);
}

TEST(router_parses_method_names)
{
	CHECK(http_method_parse("GET") == HTTP_GET);
	CHECK(http_method_parse("DELETE") == HTTP_DELETE);
	CHECK(http_method_parse("OPTIONS") == HTTP_OPTIONS);
	CHECK(http_method_parse("get") == HTTP_OTHER); /* methods are case-sensitive */
	CHECK(http_method_parse("BREW") == HTTP_OTHER);
}
