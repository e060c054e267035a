/*
 * rows.c: the SQLite driver's parameters and rows. Rows are decoded by
 * store/common.h's one decoder, through the accessors below; what is read
 * is copied into the caller's arena.
 */
#include "store/sqlite/sqlite.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "lib/banned.h"

static bool sq_row_is_null(const void *res, int row, int col)
{
	(void)row;
	return sqlite3_column_type((sqlite3_stmt *)res, col) == SQLITE_NULL;
}

static int64_t sq_row_int64(const void *res, int row, int col)
{
	(void)row;
	return sqlite3_column_int64((sqlite3_stmt *)res, col);
}

static const char *sq_row_text(const void *res, int row, int col, size_t *len)
{
	(void)row;
	sqlite3_stmt *s = (sqlite3_stmt *)res;
	const unsigned char *v = sqlite3_column_text(s, col);
	*len = v ? (size_t)sqlite3_column_bytes(s, col) : 0;
	return (const char *)v;
}

static const struct store_row_ops sq_row_ops = {
	.is_null = sq_row_is_null,
	.int64 = sq_row_int64,
	.text = sq_row_text,
};

struct store_row sq_row(sqlite3_stmt *s)
{
	return (struct store_row){ .ops = &sq_row_ops, .res = s, .row = 0 };
}

void sq_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

void sq_bind_id(sqlite3_stmt *s, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

void sq_bind_ts(sqlite3_stmt *s, int i, const char *ts)
{
	sq_bind_text(s, i, ts[0] ? ts : NULL);
}

const char *sq_col_text(sqlite3_stmt *s, int i, struct arena *a)
{
	const unsigned char *v = sqlite3_column_text(s, i);
	if (!v)
		return NULL;
	return arena_strndup(a, (const char *)v, (size_t)sqlite3_column_bytes(s, i));
}

/* By insight, then tag: the order of store_hang_tags's groups and of an insight's tags. */
static int cmp_link(const void *pa, const void *pb)
{
	const struct tag_link *x = pa, *y = pb;
	if (x->insight_id != y->insight_id)
		return x->insight_id < y->insight_id ? -1 : 1;
	return (x->tag.id > y->tag.id) - (x->tag.id < y->tag.id);
}

enum status sq_read_tag_links(struct sq_conn *c, struct arena *a, const int64_t *ids, size_t n,
			      struct tag_link **out, size_t *nout, struct error *err)
{
	*out = NULL;
	*nout = 0;
	if (!n)
		return OK;
	/* One insight (a point read) needs no list of ids to take apart. */
	sqlite3_stmt *s = sq_stmt(c, n == 1 ? S_INSIGHT_TAGS_ONE : S_INSIGHT_TAGS, err);
	if (!s)
		return err->status;
	struct buf list = BUF_INIT;
	if (n == 1) {
		sqlite3_bind_int64(s, 1, ids[0]);
	} else {
		store_ids_print(&list, ids, n, '[', ']');
		sqlite3_bind_text(s, 1, list.data, (int)list.len, SQLITE_STATIC);
	}
	struct tag_link *links = NULL;
	size_t nlinks = 0, cap = 0;
	struct store_row row = sq_row(s);
	int rc;
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		if (nlinks == cap) {
			cap = cap ? cap * 2 : 16;
			struct tag_link *grown = ARENA_NEW_ARRAY(a, struct tag_link, cap);
			if (nlinks)
				memcpy(grown, links, nlinks * sizeof(*links));
			links = grown;
		}
		links[nlinks].insight_id = sqlite3_column_int64(s, 0);
		store_read_tag(&row, 1, a, &links[nlinks].tag);
		nlinks++;
	}
	sqlite3_reset(s);
	buf_release(&list);
	if (rc != SQLITE_DONE)
		return sq_fail(c, rc, err);
	if (n > 1 && nlinks > 1) {
		qsort(links, nlinks, sizeof(*links), cmp_link);
		/* An id listed twice joined its tags twice (IN read each once): keep one. */
		size_t kept = 1;
		for (size_t i = 1; i < nlinks; i++)
			if (cmp_link(&links[i], &links[kept - 1]))
				links[kept++] = links[i];
		nlinks = kept;
	}
	*out = links;
	*nout = nlinks;
	return OK;
}

enum status sq_attach_tags(struct sq_conn *c, struct arena *a, struct insight *items, size_t n,
			   struct error *err)
{
	if (!n)
		return OK;
	int64_t one, *ids = n == 1 ? &one : xmalloc(n * sizeof(*ids));
	for (size_t i = 0; i < n; i++)
		ids[i] = items[i].id;
	/* The query orders links by insight id; the items need not be. */
	struct tag_link *links;
	size_t nlinks;
	enum status rc = sq_read_tag_links(c, a, ids, n, &links, &nlinks, err);
	if (ids != &one)
		free(ids);
	if (rc == OK)
		store_hang_tags(items, n, links, nlinks, a);
	return rc;
}

enum status sq_load_insight(struct sq_conn *c, struct arena *a, int64_t id,
			    struct insight *out, struct error *err)
{
	sqlite3_stmt *s = sq_stmt(c, S_INSIGHT_GET, err);
	if (!s)
		return err->status;
	sqlite3_bind_int64(s, 1, id);
	int rc = sq_step(s);
	if (rc == SQLITE_ROW) {
		struct store_row row = sq_row(s);
		store_read_insight(&row, 0, a, out);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return error_set(err, E_NOTFOUND, "Insight not found");
	if (rc != SQLITE_ROW)
		return sq_fail(c, rc, err);
	return sq_attach_tags(c, a, out, 1, err);
}

enum status sq_read_rows(struct sq_store *s, enum sq_stmt which, int64_t limit, int64_t offset,
			 size_t size, void (*read)(sqlite3_stmt *q, struct arena *a, void *row),
			 struct arena *a, void **out, size_t *n, struct error *err)
{
	*out = NULL;
	*n = 0;
	struct sq_conn *c;
	enum status rc = sq_conn_take(s, &c, err);
	if (rc)
		return rc;
	sqlite3_stmt *q = sq_stmt(c, which, err);
	if (!q) {
		sq_conn_give(s, c);
		return err->status;
	}
	char *rows = arena_alloc(a, size * (size_t)limit);
	sqlite3_bind_int64(q, 1, limit);
	sqlite3_bind_int64(q, 2, offset);
	size_t got = 0;
	int src;
	while ((src = sq_step(q)) == SQLITE_ROW && got < (size_t)limit)
		read(q, a, rows + size * got++);
	sqlite3_reset(q);
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		rc = sq_fail(c, src, err);
	sq_conn_give(s, c);
	if (rc == OK) {
		*out = rows;
		*n = got;
	}
	return rc;
}

void sq_read_tag_row(sqlite3_stmt *s, struct arena *a, void *row)
{
	struct store_row r = sq_row(s);
	store_read_tag(&r, 0, a, row);
}

void sq_read_category_row(sqlite3_stmt *s, struct arena *a, void *row)
{
	struct store_row r = sq_row(s);
	store_read_category(&r, 0, true, a, row);
}

enum status sq_load_row(struct sq_conn *c, enum sq_stmt which, int64_t id,
			void (*read)(sqlite3_stmt *q, struct arena *a, void *row), struct arena *a,
			void *out, const char *missing, struct error *err)
{
	sqlite3_stmt *q = sq_stmt(c, which, err);
	if (!q)
		return err->status;
	sqlite3_bind_int64(q, 1, id);
	int src = sq_step(q);
	if (src == SQLITE_ROW)
		read(q, a, out);
	sqlite3_reset(q);
	if (src == SQLITE_DONE)
		return error_set(err, E_NOTFOUND, "%s", missing);
	return src == SQLITE_ROW ? OK : sq_fail(c, src, err);
}
