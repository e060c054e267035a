/*
 * rows.c: the PostgreSQL driver's rows. They are decoded by
 * store/common.h's one decoder through the accessors below, copying what
 * they read into the caller's arena; and the tags of several insights are
 * read in one statement, which keeps a page at a constant number of
 * queries.
 */
#include "store/pg/pg.h"

#include <stdlib.h>

#include "lib/banned.h"

static bool pg_row_is_null(const void *res, int row, int col)
{
	return PQgetisnull(res, row, col);
}

static int64_t pg_row_int64(const void *res, int row, int col)
{
	return pg_col_int(res, row, col);
}

static const char *pg_row_text(const void *res, int row, int col, size_t *len)
{
	if (PQgetisnull(res, row, col)) {
		*len = 0;
		return NULL;
	}
	*len = (size_t)PQgetlength(res, row, col);
	return PQgetvalue(res, row, col);
}

static const struct store_row_ops pg_row_ops = {
	.is_null = pg_row_is_null,
	.int64 = pg_row_int64,
	.text = pg_row_text,
};

struct store_row pg_row(const PGresult *r, int row)
{
	return (struct store_row){ .ops = &pg_row_ops, .res = r, .row = row };
}

const char *pg_col_text(const PGresult *r, int row, int col, struct arena *a)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	return arena_strndup(a, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

int64_t pg_col_int(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

bool pg_col_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

/* The rows (insight_id, STORE_TAG_COLS) of `r` as links in `a`. */
static struct tag_link *pg_tag_links(const PGresult *r, struct arena *a, size_t *n)
{
	int rows = PQntuples(r);
	*n = (size_t)rows;
	if (!rows)
		return NULL;
	struct tag_link *links = ARENA_NEW_ARRAY(a, struct tag_link, (size_t)rows);
	for (int i = 0; i < rows; i++) {
		struct store_row row = pg_row(r, i);
		links[i].insight_id = pg_col_int(r, i, 0);
		store_read_tag(&row, 1, a, &links[i].tag);
	}
	return links;
}

void pg_hang_tags(const PGresult *r, struct arena *a, struct insight *items, size_t n)
{
	size_t nlinks;
	struct tag_link *links = pg_tag_links(r, a, &nlinks);
	store_hang_tags(items, n, links, nlinks, a);
}

enum status pg_attach_tags(struct pg_conn *c, struct arena *a, struct insight *items, size_t n,
			   struct error *err)
{
	if (!n)
		return OK;
	struct buf ids = BUF_INIT;
	store_item_ids_print(&ids, items, n, '{', '}');
	struct pg_params p = { 0 };
	pg_p_text(&p, ids.data);
	PGresult *r;
	enum status rc = pg_q_fixed(c, P_INSIGHT_TAGS, &p, &r, err);
	buf_release(&ids);
	if (rc)
		return rc;
	pg_hang_tags(r, a, items, n);
	PQclear(r);
	return OK;
}

enum status pg_tags_and_commit(struct pg_conn *c, struct arena *a, struct insight *items,
			       size_t n, struct error *err)
{
	struct buf ids = BUF_INIT;
	store_item_ids_print(&ids, items, n, '{', '}');
	struct pg_params p = { 0 };
	pg_p_text(&p, ids.data);
	struct pg_pq qs[2];
	size_t nq = 0;
	if (n)
		qs[nq++] = (struct pg_pq){ .which = P_INSIGHT_TAGS, .p = &p };
	qs[nq++] = (struct pg_pq){ .which = P_COMMIT };
	PGresult *r[2];
	enum status rc = pg_q_pipeline(c, nq, qs, r, err);
	buf_release(&ids);
	if (rc)
		return rc;
	if (n)
		pg_hang_tags(r[0], a, items, n);
	for (size_t i = 0; i < nq; i++)
		PQclear(r[i]);
	return OK;
}

enum status pg_load_insight(struct pg_conn *c, struct arena *a, int64_t id, bool lock,
			    struct insight *out, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_int(&p, id);
	PGresult *r;
	enum status rc = pg_q_fixed(c, lock ? P_INSIGHT_GET_LOCKED : P_INSIGHT_GET, &p, &r, err);
	if (rc)
		return rc;
	/*
	 * The insight's row comes first. The tag columns follow the insight's:
	 * NULL on the insight's own row (P_INSIGHT_GET) or, with lock (one row
	 * per tag, joined), on the one row of an insight without tags.
	 */
	int rows = PQntuples(r);
	if (rows == 0 || PQgetisnull(r, 0, IC_ID)) {
		PQclear(r);
		return error_set(err, E_NOTFOUND, "Insight not found");
	}
	struct store_row first = pg_row(r, 0);
	store_read_insight(&first, 0, a, out);
	size_t ntags = 0;
	for (int i = 0; i < rows; i++)
		ntags += !PQgetisnull(r, i, IC__COUNT);
	out->ntags = ntags;
	out->tags = ntags ? ARENA_NEW_ARRAY(a, struct tag, ntags) : NULL;
	for (int i = 0, k = 0; i < rows; i++) {
		if (PQgetisnull(r, i, IC__COUNT))
			continue;
		struct store_row row = pg_row(r, i);
		store_read_tag(&row, IC__COUNT, a, &out->tags[k++]);
	}
	PQclear(r);
	return OK;
}

enum status pg_load_tag(struct pg_conn *c, struct arena *a, int64_t id, bool lock,
			struct tag *out, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_int(&p, id);
	PGresult *r;
	enum status rc = pg_q_fixed(c, lock ? P_TAG_GET_LOCKED : P_TAG_GET, &p, &r, err);
	if (rc)
		return rc;
	if (PQntuples(r) == 0) {
		rc = error_set(err, E_NOTFOUND, "Tag not found");
	} else {
		struct store_row row = pg_row(r, 0);
		store_read_tag(&row, 0, a, out);
	}
	PQclear(r);
	return rc;
}

enum status pg_load_category(struct pg_conn *c, struct arena *a, int64_t id, bool lock,
			     struct category *out, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_int(&p, id);
	PGresult *r;
	enum status rc = pg_q_fixed(c, lock ? P_CATEGORY_GET_LOCKED : P_CATEGORY_GET, &p, &r, err);
	if (rc)
		return rc;
	if (PQntuples(r) == 0) {
		rc = error_set(err, E_NOTFOUND, "Category not found");
	} else {
		struct store_row row = pg_row(r, 0);
		store_read_category(&row, 0, true, a, out);
	}
	PQclear(r);
	return rc;
}
