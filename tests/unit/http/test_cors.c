/*
 * test_cors.c: which origins may read answers, with and without
 * credentials (http/cors.c).
 */
#include "t.h"

#include "http/cors.h"

static const char *allowed(const char *list, bool credentials, const char *origin)
{
	struct http_cors c;
	char why[256];
	static char out[128];
	if (http_cors_init(&c, list, credentials, why, sizeof(why))) {
		http_cors_release(&c);
		return "refused";
	}
	const char *a = http_cors_origin_allowed(&c, origin);
	snprintf(out, sizeof(out), "%s", a ? a : "(none)");
	http_cors_release(&c);
	return out;
}

TEST(cors_without_credentials)
{
	/* Unset: any origin, as before authentication existed. */
	CHECK_STR(allowed(NULL, false, "https://x.example"), "*");
	CHECK_STR(allowed("*", false, "https://x.example"), "*");
	CHECK_STR(allowed("", false, "https://x.example"), "(none)");
	CHECK_STR(allowed(NULL, false, NULL), "(none)"); /* no Origin, no CORS headers */
	CHECK_STR(allowed("https://a.example, https://b.example", false, "https://b.example"),
		  "https://b.example");
	CHECK_STR(allowed("https://a.example", false, "https://a.example.evil"), "(none)");
	CHECK_STR(allowed("https://a.example", false, "https://A.example"), "(none)");
	CHECK_STR(allowed("https://a.example,*", false, "https://z.example"), "*");
}

TEST(cors_with_credentials)
{
	/* Unset: no CORS at all. */
	CHECK_STR(allowed(NULL, true, "https://x.example"), "(none)");
	CHECK_STR(allowed("", true, "https://x.example"), "(none)");
	/* Any origin is refused at start, alone or in a list. */
	CHECK_STR(allowed("*", true, "https://x.example"), "refused");
	CHECK_STR(allowed("https://a.example, *", true, "https://a.example"), "refused");
	/* Listed origins are echoed exactly, others get nothing. */
	CHECK_STR(allowed("https://a.example,https://b.example", true, "https://a.example"),
		  "https://a.example");
	CHECK_STR(allowed("https://a.example,https://b.example", true, "https://c.example"),
		  "(none)");
	CHECK_STR(allowed("https://a.example", true, "null"), "(none)");

	struct http_cors c;
	char why[256];
	CHECK(http_cors_init(&c, "*", true, why, sizeof(why)) == -1);
	CHECK(strstr(why, "list the allowed origins in INSIGHTS_CORS_ORIGINS") != NULL);
	http_cors_release(&c);
	/* Even a table that says "any" answers no origin once credentials are on. */
	c = (struct http_cors){ .any = true, .credentials = true };
	CHECK(http_cors_origin_allowed(&c, "https://x.example") == NULL);
}
