/*
 * test_etag.c: entity-tag lists of If-None-Match and If-Match (http/etag.c).
 */
#include "t.h"

#include "http/http.h"

TEST(etag_lists_match_weakly)
{
	CHECK(http_etag_listed("\"abc\"", "abc"));
	CHECK(http_etag_listed("W/\"abc\"", "abc"));
	CHECK(http_etag_listed("\"x\", \"abc\"", "abc"));
	CHECK(http_etag_listed("\"x\",W/\"abc\"", "abc"));
	CHECK(http_etag_listed("*", "abc"));
	CHECK(http_etag_listed("  \"x\" ,  *", "abc"));
	CHECK(!http_etag_listed("\"abcd\"", "abc"));
	CHECK(!http_etag_listed("\"ab\"", "abc"));
	CHECK(!http_etag_listed("abc", "abc")); /* not quoted: not an entity tag */
	CHECK(!http_etag_listed("", "abc"));
	CHECK(!http_etag_listed("\"abc", "abc")); /* unterminated */
	CHECK(http_etag_listed("garbage, \"abc\"", "abc")); /* malformed members are skipped */
	CHECK(!http_etag_listed("w/\"x\"", "abc"));
}
