/*
 * test_utf8.c: UTF-8 validation and counting (lib/utf8.c).
 */
#include "t.h"

#include <string.h>

#include "lib/utf8.h"

TEST(utf8_validation)
{
	CHECK(utf8_valid("plain", 5));
	CHECK(utf8_valid("caf\xC3\xA9", 5));
	CHECK(utf8_valid("\xF0\x9F\x98\x80", 4));          /* U+1F600 */
	CHECK(!utf8_valid("\xC3", 1));                       /* truncated */
	CHECK(!utf8_valid("\xC0\xAF", 2));                   /* overlong '/' */
	CHECK(!utf8_valid("\xED\xA0\x80", 3));               /* surrogate */
	CHECK(!utf8_valid("\xF4\x90\x80\x80", 4));           /* above U+10FFFF */
	CHECK(!utf8_valid("\xFF", 1));
	CHECK(utf8_count("caf\xC3\xA9\xF0\x9F\x98\x80", 9) == 5);
}

