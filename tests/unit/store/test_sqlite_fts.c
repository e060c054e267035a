/*
 * test_sqlite_fts.c: the SQLite driver's full-text query builder
 * (store/sqlite/find.c): user text never becomes FTS5 syntax.
 */
#include "t.h"

#include "store/sqlite/sqlite.h"

static const char *fts(const char *text, struct buf *b)
{
	buf_reset(b);
	if (!sq_fts_query(text, b))
		return NULL;
	return b->data;
}

TEST(fts_query_quotes_every_word)
{
	struct buf b = BUF_INIT;
	CHECK_STR(fts("composite index", &b), "\"composite\" \"index\"");
	CHECK_STR(fts("  a\t\nb  ", &b), "\"a\" \"b\"");
	/* Operators, prefixes and column filters stay words. */
	CHECK_STR(fts("a OR b NOT c", &b), "\"a\" \"OR\" \"b\" \"NOT\" \"c\"");
	CHECK_STR(fts("pre* title:x NEAR(a b)", &b), "\"pre*\" \"title:x\" \"NEAR(a\" \"b)\"");
	/* Quotes are doubled inside the quoted string. */
	CHECK_STR(fts("say \"hi\"", &b), "\"say\" \"\"\"hi\"\"\"");
	CHECK_STR(fts("\"", &b), "\"\"\"\"");
	CHECK(fts("", &b) == NULL);
	CHECK(fts(" \t\r\n\f\v", &b) == NULL);
	buf_release(&b);
}
