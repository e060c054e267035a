/*
 * fuzz_fts.c: the SQLite driver's full-text query builder (sq_fts_query,
 * store/sqlite/find.c) and the word splitter it shares with PostgreSQL
 * (store_next_word, store/common.c), on arbitrary search text.
 *
 * Invariants: the words are the text's maximal runs of characters other
 * than ASCII whitespace, in order; the query is false exactly when there is
 * none, and otherwise one double-quoted string per word, separated by
 * single spaces, with inner quotes doubled (so that it reads back as the
 * words). And the promise behind it, user text never becomes query syntax:
 * for text that can reach it (valid UTF-8, as the decoder lets through),
 * an in-memory FTS5 table built like insights_fts runs the query without
 * error, and a row holding the text matches it whenever every word holds
 * an ASCII letter or digit (so that no phrase is empty).
 */
#include "fuzz.h"

#include <sqlite3.h>
#include <stdbool.h>

#include "lib/buf.h"
#include "lib/utf8.h"
#include "store/common.h"
#include "store/sqlite/sqlite.h"
#include "lib/banned.h"

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The reference word k of `text`: its bounds, or false past the last one. */
static bool ref_word(const char *text, size_t k, const char **word, size_t *len)
{
	const char *p = text;
	for (size_t i = 0;; i++) {
		while (*p && space(*p))
			p++;
		if (!*p)
			return false;
		const char *w = p;
		while (*p && !space(*p))
			p++;
		if (i == k) {
			*word = w, *len = (size_t)(p - w);
			return true;
		}
	}
}

static sqlite3 *db;
static sqlite3_stmt *put, *match;

static void open_db(void)
{
	FUZZ_CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	FUZZ_CHECK(sqlite3_exec(db,
		"CREATE VIRTUAL TABLE t USING fts5(title, description, content,"
		" tokenize = 'unicode61 remove_diacritics 2');"
		"INSERT INTO t (rowid, title, description, content)"
		" VALUES (1, 'Composite indexes', 'query time', 'NEAR or AND \"quoted\" text*');",
		NULL, NULL, NULL) == SQLITE_OK);
	FUZZ_CHECK(sqlite3_prepare_v2(db,
		"INSERT OR REPLACE INTO t (rowid, title, description, content)"
		" VALUES (2, 'x', 'y', ?)",
		-1, &put, NULL) == SQLITE_OK);
	/* As the driver ranks: bm25 with the title counting most. */
	FUZZ_CHECK(sqlite3_prepare_v2(db,
		"SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t, 10.0, 5.0, 1.0)",
		-1, &match, NULL) == SQLITE_OK);
}

/* Runs the query against the table: whether row 2 (holding the text) matched. */
static bool run_match(const char *text, const char *query)
{
	if (!db)
		open_db();
	sqlite3_bind_text(put, 1, text, -1, SQLITE_STATIC);
	FUZZ_CHECK(sqlite3_step(put) == SQLITE_DONE);
	sqlite3_reset(put);
	sqlite3_bind_text(match, 1, query, -1, SQLITE_STATIC);
	bool found = false;
	int rc;
	while ((rc = sqlite3_step(match)) == SQLITE_ROW)
		found |= sqlite3_column_int64(match, 0) == 2;
	if (rc != SQLITE_DONE)
		fprintf(stderr, "fuzz: MATCH %s: %s\n", query, sqlite3_errmsg(db));
	FUZZ_CHECK(rc == SQLITE_DONE);
	sqlite3_reset(match);
	return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);

	/* store_next_word against the reference. */
	const char *p = text, *word;
	size_t len, n = 0;
	bool all_alnum = true;
	while (store_next_word(&p, &word, &len)) {
		const char *rw;
		size_t rl;
		FUZZ_CHECK(ref_word(text, n, &rw, &rl));
		FUZZ_CHECK(word == rw && len == rl && p == word + len);
		bool has = false;
		for (size_t i = 0; i < len; i++)
			has |= alnum(word[i]);
		all_alnum &= has;
		n++;
	}
	FUZZ_CHECK(!ref_word(text, n, &word, &len) && *p == '\0');

	/* The query reads back as the words. */
	struct buf q = BUF_INIT;
	bool any = sq_fts_query(text, &q);
	FUZZ_CHECK(any == (n > 0));
	FUZZ_CHECK(any || q.len == 0);
	const char *s = buf_cstr(&q);
	for (size_t k = 0; k < n; k++) {
		FUZZ_CHECK(ref_word(text, k, &word, &len));
		if (k)
			FUZZ_CHECK(*s++ == ' ');
		FUZZ_CHECK(*s++ == '"');
		size_t i = 0;
		for (;;) {
			if (s[0] == '"' && s[1] == '"') {
				FUZZ_CHECK(i < len && word[i] == '"');
				s += 2, i++;
			} else if (s[0] == '"') {
				s++;
				break;
			} else {
				FUZZ_CHECK(*s && i < len && word[i] == *s);
				s++, i++;
			}
		}
		FUZZ_CHECK(i == len);
	}
	FUZZ_CHECK(*s == '\0' && (size_t)(s - buf_cstr(&q)) == q.len);

	/* FTS5 reads it as strings only. */
	if (any && utf8_valid(text, strlen(text))) {
		bool found = run_match(text, buf_cstr(&q));
		FUZZ_CHECK(found || !all_alnum);
	}
	buf_release(&q);
	free(text);
	return 0;
}
