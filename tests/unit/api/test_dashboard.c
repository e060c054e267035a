/*
 * test_dashboard.c: Accept-Encoding negotiation of the dashboard's files
 * (api/dashboard.c) and the safe Markdown renderer (api/markdown.c).
 */
#include "t.h"

#include <string.h>

#include "api/handlers.h"
#include "api/markdown.h"

TEST(dashboard_gzip_negotiation)
{
	CHECK(dashboard_accepts_gzip("gzip"));
	CHECK(dashboard_accepts_gzip("GZip"));
	CHECK(dashboard_accepts_gzip("deflate, gzip;q=0.5"));
	CHECK(dashboard_accepts_gzip(" gzip ; q=1 ,br"));
	CHECK(dashboard_accepts_gzip("x-gzip"));
	CHECK(dashboard_accepts_gzip("*"));
	CHECK(dashboard_accepts_gzip("br, *;q=0.1"));
	CHECK(dashboard_accepts_gzip("gzip;q=0.001"));
	CHECK(dashboard_accepts_gzip("gzip;q=garbage"));
	CHECK(!dashboard_accepts_gzip(NULL));
	CHECK(!dashboard_accepts_gzip(""));
	CHECK(!dashboard_accepts_gzip("identity"));
	CHECK(!dashboard_accepts_gzip("gzip;q=0"));
	CHECK(!dashboard_accepts_gzip("gzip;q=0.000"));
	CHECK(!dashboard_accepts_gzip("gzip; Q=0.0"));
	CHECK(!dashboard_accepts_gzip("gzip;q=0, *"));   /* named beats the wildcard */
	CHECK(!dashboard_accepts_gzip("*;q=0"));
	CHECK(!dashboard_accepts_gzip("gzipped, xgzip, gzi"));
	CHECK(!dashboard_accepts_gzip(",,;,"));
}

TEST(dashboard_markdown_is_safe)
{
	struct arena a = ARENA_INIT;
	const char *md = "# T\n\n<script>x</script>\n\n[a](javascript:x) [b](https://e.org)";
	const char *h = markdown_html(md, strlen(md), &a);
	CHECK(strstr(h, "<h1>T</h1>") != NULL);
	CHECK(strstr(h, "<script") == NULL);
	CHECK(strstr(h, "href=\"\"") != NULL);
	CHECK(strstr(h, "href=\"https://e.org\"") != NULL);
	CHECK(!strcmp(markdown_html("", 0, &a), ""));
	arena_release(&a);
}
