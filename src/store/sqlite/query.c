/*
 * query.c: the SQLite driver's reads of core/query.h (selects and
 * aggregates, compiled by store/sql.c with this driver's dialect) and the
 * SQL functions they use: insights_like(), LIKE and ILIKE as PostgreSQL
 * reads them (backslash escapes; ILIKE folding case for all of Unicode
 * with the C library's tables, as PostgreSQL does in a C.UTF-8 database).
 * SQLite's own LIKE folds ASCII only and has no escape character.
 */
#include "store/sqlite/sqlite.h"

#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wctype.h>

#include "lib/jsonw.h"
#include "lib/utf8.h"
#include "store/sql.h"
#include "lib/banned.h"

/* ---- insights_like(text, pattern, insensitive) ------------------------------------ */

static locale_t sq_utf8_locale;

static void sq_make_locale(void)
{
	sq_utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* The next code point of `s` (valid UTF-8: SQLite text from the API is). */
static unsigned sq_next_cp(const unsigned char **s)
{
	const unsigned char *p = *s;
	unsigned c = *p++;
	if (c >= 0xF0 && p[0] && p[1] && p[2]) {
		c = ((c & 7u) << 18) | ((p[0] & 63u) << 12) | ((p[1] & 63u) << 6) | (p[2] & 63u);
		p += 3;
	} else if (c >= 0xE0 && p[0] && p[1]) {
		c = ((c & 15u) << 12) | ((p[0] & 63u) << 6) | (p[1] & 63u);
		p += 2;
	} else if (c >= 0xC0 && p[0]) {
		c = ((c & 31u) << 6) | (p[0] & 63u);
		p += 1;
	}
	*s = p;
	return c;
}

static unsigned sq_fold(unsigned c, bool insensitive)
{
	if (!insensitive)
		return c;
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	return sq_utf8_locale ? (unsigned)towlower_l((wint_t)c, sq_utf8_locale) : c;
}

/*
 * Whether `s` matches `p`: % any run, _ one character, \\x the character x.
 * Iterative, with one backtracking point per %, so any pattern costs at
 * most the product of the two lengths.
 */
static bool sq_like_match(const unsigned char *s, const unsigned char *p, bool insensitive)
{
	const unsigned char *star_p = NULL, *star_s = NULL;
	for (;;) {
		if (*p == '%') {
			while (*p == '%')
				p++;
			if (!*p)
				return true;
			star_p = p;
			star_s = s;
			continue;
		}
		if (!*s)
			return !*p;
		const unsigned char *s_next = s, *p_next = p;
		unsigned sc = sq_next_cp(&s_next);
		bool ok;
		if (*p == '_') {
			p_next = p + 1;
			ok = true;
		} else if (*p) {
			if (*p_next == '\\' && p_next[1])
				p_next++;
			unsigned pc = sq_next_cp(&p_next);
			ok = sq_fold(sc, insensitive) == sq_fold(pc, insensitive);
		} else {
			ok = false;
		}
		if (ok) {
			s = s_next;
			p = p_next;
			continue;
		}
		if (!star_p || !*star_s)
			return false;
		/* Let the last % take one more character of s. */
		sq_next_cp(&star_s);
		s = star_s;
		p = star_p;
	}
}

/*
 * A pattern of the form %literal% (no other wildcard, no escape), the
 * common substring filter, kept with the statement (sqlite3_set_auxdata)
 * so that it is analysed once per query rather than once per row.
 */
struct sq_contains {
	size_t n;
	bool ascii;       /* the literal is ASCII: a fast case-insensitive scan can work */
	char *lower;      /* the literal lower-cased (ASCII only) */
	char lit[];       /* the literal, then its lower-cased copy */
};

static struct sq_contains *sq_contains_of(const unsigned char *p)
{
	size_t len = strlen((const char *)p);
	if (len < 3 || p[0] != '%' || p[len - 1] != '%')
		return NULL;
	bool ascii = true;
	for (size_t i = 1; i + 1 < len; i++) {
		if (p[i] == '%' || p[i] == '_' || p[i] == '\\')
			return NULL;
		ascii &= p[i] < 0x80;
	}
	struct sq_contains *c = malloc(sizeof(*c) + 2 * (len - 1));
	if (!c)
		return NULL;
	c->n = len - 2;
	c->ascii = ascii;
	c->lower = c->lit + c->n + 1;
	for (size_t i = 0; i < c->n; i++) {
		unsigned char ch = p[i + 1];
		c->lit[i] = (char)ch;
		c->lower[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	c->lit[c->n] = c->lower[c->n] = '\0';
	return c;
}

/*
 * Whether ASCII text `s` holds the lower-case ASCII literal `lit`, ignoring
 * case; -1 when `s` is not ASCII (the general matcher must decide: a few
 * other characters fold to ASCII ones, U+212A KELVIN SIGN to k).
 */
static int sq_ascii_icontains(const unsigned char *s, const struct sq_contains *c)
{
	unsigned char first = (unsigned char)c->lower[0];
	unsigned char upper = first >= 'a' && first <= 'z' ? first - 32 : first;
	for (const unsigned char *t = s; *t; t++) {
		if (*t >= 0x80)
			return -1;
		if ((*t == first || *t == upper) && !strncasecmp((const char *)t, c->lower, c->n)) {
			/* A match; the rest of the text must still be ASCII for the answer to hold. */
			for (const unsigned char *r = t + c->n; *r; r++)
				if (*r >= 0x80)
					return -1;
			return 1;
		}
	}
	return 0;
}

static void sq_like_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	const unsigned char *s = sqlite3_value_text(argv[0]);
	const unsigned char *p = sqlite3_value_text(argv[1]);
	bool insensitive = sqlite3_value_int(argv[2]) != 0;
	if (!s || !p) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	struct sq_contains *c = sqlite3_get_auxdata(ctx, 1);
	if (!c && (c = sq_contains_of(p)) != NULL) {
		sqlite3_set_auxdata(ctx, 1, c, free);
		c = sqlite3_get_auxdata(ctx, 1); /* SQLite may have freed it at once */
	}
	if (c && !insensitive) {
		/* Byte-exact substrings of valid UTF-8 are substrings of characters. */
		sqlite3_result_int(ctx, memmem(s, (size_t)sqlite3_value_bytes(argv[0]), c->lit, c->n) != NULL);
		return;
	}
	if (c && c->ascii) {
		int hit = sq_ascii_icontains(s, c);
		if (hit >= 0) {
			sqlite3_result_int(ctx, hit);
			return;
		}
	}
	sqlite3_result_int(ctx, sq_like_match(s, p, insensitive));
}

int sq_register_functions(sqlite3 *db)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sq_make_locale);
	return sqlite3_create_function(db, "insights_like", 3,
				       SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
				       sq_like_fn, NULL, NULL);
}

/* ---- the dialect ------------------------------------------------------------------- */

static void sq_placeholder(struct buf *b, int n)
{
	buf_addf(b, "?%d", n);
}

/* A list of values as one parameter: a JSON array for json_each(). */
static void sq_in_list(struct sql *q, const char *expr, enum q_type type,
		       const struct q_value *values, size_t n)
{
	struct buf json = BUF_INIT;
	buf_addch(&json, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addch(&json, ',');
		if (type == QTY_INT)
			buf_addf(&json, "%lld", (long long)values[i].i);
		else
			json_escape(&json, values[i].s, strlen(values[i].s));
	}
	buf_addch(&json, ']');
	int p = sql_param(q, (struct sql_param){ .type = QTY_TEXT,
						 .s = arena_strndup(q->a, json.data, json.len) });
	buf_release(&json);
	buf_addf(&q->text, "%s IN (SELECT value FROM json_each(?%d))", expr, p);
}

static void sq_like(struct buf *b, const char *expr, int n, bool insensitive, bool negated)
{
	buf_addf(b, "insights_like(%s, ?%d, %d) = %d", expr, n, insensitive, !negated);
}

/*
 * The matches and their bm25 from one pass over the word index, joined to
 * the insights by id. A rank looked up per row (a MATCH query for each)
 * took over 10 s for a word in 71% of 100k insights.
 */
static void sq_search_join(struct buf *b, const char *alias, int n, bool ranked)
{
	buf_addf(b, " JOIN (SELECT rowid AS q_id%s FROM insights_fts WHERE insights_fts MATCH ?%d)"
		    " q_s ON q_s.q_id = %s.id", ranked ? ", " SQ_BM25_SQL " AS q_score" : "", n, alias);
}

static void sq_search_rank(struct buf *b, const char *alias, int n)
{
	(void)alias;
	(void)n;
	buf_adds(b, "q_s.q_score");
}

static bool sq_search_text(struct sql *q, const char *text, struct sql_param *out)
{
	struct buf fts = BUF_INIT;
	bool any = sq_fts_query(text, &fts);
	*out = (struct sql_param){ .type = QTY_TEXT,
				   .s = arena_strndup(q->a, fts.data ? fts.data : "", fts.len) };
	buf_release(&fts);
	return any;
}

/*
 * Above this share of the insights, the rows a trigram of a pattern finds
 * are too many: reading the rows in order (and stopping at the page's end)
 * beats reading the index and then the rows.
 */
#define SQ_TRIGRAM_SELECTIVE 0.05

/*
 * Whether the trigram index narrows `pattern` to a small share of the
 * insights: the rows holding every trigram of its literal runs (what the
 * index would hand the exact test) are at most SQ_TRIGRAM_SELECTIVE of
 * them. Counting stops one row past that share, so the question costs at
 * most that much however common the pattern is.
 */
static bool sq_trigram_selective(struct sq_conn *c, const char *pattern)
{
	struct error err = ERROR_INIT;
	sqlite3_stmt *s = sq_dyn_stmt(c, "SELECT coalesce(max(id), 0) FROM insights", &err);
	if (!s)
		return true;
	int64_t total = sq_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	if (total < 1000)
		return false; /* a table this small is read faster than the index */
	/* Every trigram as an FTS5 string ("ab""c": a quote doubled), all of them required. */
	struct buf q = BUF_INIT;
	size_t run = 0;
	char t[3] = { 0 };
	for (const char *p = pattern; *p; p++) {
		if (*p == '%' || *p == '_') {
			run = 0;
			continue;
		}
		t[0] = t[1];
		t[1] = t[2];
		t[2] = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
		if (++run < 3)
			continue;
		buf_adds(&q, q.len ? " \"" : "\"");
		for (int k = 0; k < 3; k++) {
			if (t[k] == '"')
				buf_addch(&q, '"');
			buf_addch(&q, t[k]);
		}
		buf_addch(&q, '"');
	}
	int64_t cap = (int64_t)(SQ_TRIGRAM_SELECTIVE * (double)total), n = -1;
	s = q.len ? sq_dyn_stmt(c, "SELECT count(*) FROM (SELECT 1 FROM insights_trgm"
				  " WHERE insights_trgm MATCH ?1 LIMIT ?2)", &err) : NULL;
	if (s) {
		sqlite3_bind_text(s, 1, q.data, (int)q.len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, cap + 1);
		if (sq_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
	buf_release(&q);
	return n >= 0 && n <= cap;
}

/*
 * The trigram index of insights' texts (migration 4) narrows a LIKE before
 * the exact test, when the pattern is selective enough for it to pay.
 */
static bool sq_like_prefilter(struct sql *q, enum q_table table, int column, const char *alias,
			      const char *pattern)
{
	if (table != QT_INSIGHTS ||
	    (column != QI_TITLE && column != QI_DESCRIPTION && column != QI_CONTENT) ||
	    !sql_trigram_worthy(pattern))
		return false;
	if (q->driver && !sq_trigram_selective(q->driver, pattern))
		return false;
	int n = sql_param(q, (struct sql_param){ .type = QTY_TEXT, .s = pattern });
	buf_addf(&q->text, "%s.id IN (SELECT rowid FROM insights_trgm WHERE %s LIKE ?%d)", alias,
		 q_columns[table][column].name, n);
	return true;
}

static const struct sql_dialect sq_dialect = {
	.placeholder = sq_placeholder,
	.in_list = sq_in_list,
	.like = sq_like,
	.search_join = sq_search_join,
	.search_rank = sq_search_rank,
	.search_text = sq_search_text,
	.like_prefilter = sq_like_prefilter,
	.timestamp_cast = NULL,
};

/* ---- running them ------------------------------------------------------------------- */

static sqlite3_stmt *sq_prepare_sql(struct sq_conn *c, const struct sql *q, struct error *err)
{
	sqlite3_stmt *s = sq_dyn_stmt(c, q->text.data, err);
	if (!s)
		return NULL;
	sqlite3_clear_bindings(s);
	for (size_t i = 0; i < q->nparams; i++) {
		const struct sql_param *p = &q->params[i];
		int n = (int)i + 1;
		if (p->type == QTY_INT)
			sqlite3_bind_int64(s, n, p->i);
		else if (p->type == QTY_FLOAT)
			sqlite3_bind_double(s, n, p->f);
		else
			sqlite3_bind_text(s, n, p->s, -1, SQLITE_STATIC);
	}
	return s;
}

enum status sq_select(struct store *st, struct arena *a, const struct q_select *sel,
		      struct q_rows *out, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	struct sql q;
	sql_init(&q, &sq_dialect, a);
	q.driver = t.c;
	sql_select(&q, sel);
	if (q.empty) {
		sql_release(&q);
		return sq_txn_end(&t, OK, err);
	}
	sqlite3_stmt *s = sq_prepare_sql(t.c, &q, err);
	if (!s) {
		sql_release(&q);
		return sq_txn_end(&t, err->status, err);
	}
	size_t cap = 0, width = sql_row_width(sel->table);
	struct store_row row = sq_row(s);
	int src;
	while ((src = sq_step(s)) == SQLITE_ROW) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			struct q_row *grown = ARENA_NEW_ARRAY(a, struct q_row, cap);
			if (out->n)
				memcpy(grown, out->rows, out->n * sizeof(*grown));
			out->rows = grown;
		}
		struct q_row *r = &out->rows[out->n++];
		switch (sel->table) {
		case QT_INSIGHTS:
			store_read_insight(&row, 0, a, &r->u.insight);
			break;
		case QT_TAGS:
			store_read_tag(&row, 0, a, &r->u.tag);
			break;
		case QT_CATEGORIES:
			store_read_category(&row, 0, true, a, &r->u.category);
			break;
		case QT__COUNT:
			break;
		}
		r->parent = sel->has_via ? sqlite3_column_int64(s, (int)width) : 0;
	}
	sqlite3_reset(s);
	sql_release(&q);
	rc = src == SQLITE_DONE ? OK : sq_fail(t.c, src, err);
	return sq_txn_end(&t, rc, err);
}

/* Reads an aggregate's value of `type` at column `col`. */
static void sq_agg_value(sqlite3_stmt *s, int col, enum q_type type, struct arena *a,
			 struct q_agg_value *v)
{
	v->type = type;
	v->null = sqlite3_column_type(s, col) == SQLITE_NULL;
	if (v->null)
		return;
	switch (type) {
	case QTY_INT:
		v->i = sqlite3_column_int64(s, col);
		break;
	case QTY_FLOAT:
		v->f = sqlite3_column_double(s, col);
		break;
	case QTY_TEXT:
	case QTY_TIMESTAMP:
		v->s = sq_col_text(s, col, a);
		break;
	}
}

enum status sq_aggregate(struct store *st, struct arena *a, const struct q_aggregate *agg,
			 struct q_agg_rows *out, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	struct sql q;
	sql_init(&q, &sq_dialect, a);
	q.driver = t.c;
	sql_aggregate(&q, agg);
	sqlite3_stmt *s = sq_prepare_sql(t.c, &q, err);
	if (!s) {
		sql_release(&q);
		return sq_txn_end(&t, err->status, err);
	}
	enum q_table table = agg->select.table;
	size_t cap = 0;
	int src;
	while ((src = sq_step(s)) == SQLITE_ROW) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 8;
			struct q_agg_row *grown = ARENA_NEW_ARRAY(a, struct q_agg_row, cap);
			if (out->n)
				memcpy(grown, out->rows, out->n * sizeof(*grown));
			out->rows = grown;
		}
		struct q_agg_row *r = &out->rows[out->n++];
		int col = 0;
		r->parent = agg->select.has_via ? sqlite3_column_int64(s, col++) : 0;
		r->keys = ARENA_NEW_ARRAY(a, struct q_agg_value, agg->ngroup ? agg->ngroup : 1);
		r->values = ARENA_NEW_ARRAY(a, struct q_agg_value, agg->naggs ? agg->naggs : 1);
		for (size_t i = 0; i < agg->ngroup; i++)
			sq_agg_value(s, col++, q_columns[table][agg->group_by[i]].type, a, &r->keys[i]);
		for (size_t i = 0; i < agg->naggs; i++)
			sq_agg_value(s, col++, store_agg_type(table, &agg->aggs[i]), a, &r->values[i]);
	}
	sqlite3_reset(s);
	sql_release(&q);
	rc = src == SQLITE_DONE ? OK : sq_fail(t.c, src, err);
	return sq_txn_end(&t, rc, err);
}
