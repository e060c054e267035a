/*
 * revision.c: the PostgreSQL driver's revisions and versions (store.h's
 * row_version and revision_* operations), with the same columns and rules
 * as on SQLite. A locked row_version is SELECT ... FOR UPDATE in the
 * caller's batch: the row is the first a write of it locks anyway, so the
 * order in which writes lock rows (insight, category, tags) is kept.
 * Timestamps of revisions are text in the API's format, compared in the
 * "C" collation so that they order as time does.
 */
#include "store/pg/pg.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/banned.h"

/* The version column of each table (the names come from this table, never a request). */
static const char *const pg_version_sql[QT__COUNT][2] = {
	[QT_INSIGHTS] = { "SELECT revision FROM insights WHERE id = $1",
			  "SELECT revision FROM insights WHERE id = $1 FOR UPDATE" },
	[QT_TAGS] = { "SELECT version FROM tags WHERE id = $1",
		      "SELECT version FROM tags WHERE id = $1 FOR UPDATE" },
	[QT_CATEGORIES] = { "SELECT version FROM categories WHERE id = $1",
			    "SELECT version FROM categories WHERE id = $1 FOR UPDATE" },
};

static const char *const pg_missing[QT__COUNT] = {
	[QT_INSIGHTS] = "Insight not found",
	[QT_TAGS] = "Tag not found",
	[QT_CATEGORIES] = "Category not found",
};

static enum status pg_body_row_version(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_int(&p, op->id);
	PGresult *r;
	enum status rc = pg_q_built(c, pg_version_sql[op->table][op->lock], &p, &r, err);
	if (rc)
		return rc;
	if (PQntuples(r) == 0)
		rc = error_set(err, E_NOTFOUND, "%s", pg_missing[op->table]);
	else
		*op->tally = pg_col_int(r, 0, 0);
	PQclear(r);
	return rc;
}

enum status pg_row_version(struct store *st, enum q_table table, int64_t id, bool lock,
			   int64_t *version, struct error *err)
{
	struct pg_op op = { .id = id, .table = table, .lock = lock && pg_in_batch(pg_of(st)),
			    .tally = version };
	/* On the primary: an entity tag older than a write just acknowledged would fail If-Match. */
	return pg_run(pg_of(st), op.lock ? PG_RUN_WRITE : PG_RUN_PRIMARY, pg_body_row_version,
		      &op, err);
}

static enum status pg_body_revision_add(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	const struct insight_revision *r = op->revision_in;
	const struct insight *v = &r->v;
	struct buf ids = BUF_INIT;
	store_ids_print(&ids, r->tag_ids, r->ntag_ids, '[', ']');
	struct pg_params p = { 0 };
	pg_p_int(&p, v->id);
	pg_p_int(&p, v->revision);
	pg_p_text(&p, v->title);
	pg_p_text(&p, v->description);
	pg_p_text(&p, v->content);
	pg_p_text(&p, v->source);
	pg_p_text(&p, v->author);
	pg_p_id(&p, v->category_id);
	pg_p_text(&p, priority_name(v->priority));
	pg_p_text(&p, lifecycle_name(v->status));
	pg_p_ts(&p, v->created_at);
	pg_p_ts(&p, v->updated_at);
	pg_p_ts(&p, v->published_at);
	pg_p_text(&p, ids.data);
	pg_p_text(&p, r->actor);
	pg_p_ts(&p, r->deleted_at);
	pg_p_text(&p, v->review_by[0] ? v->review_by : NULL);
	pg_p_text(&p, v->owner);
	pg_p_ts(&p, v->reviewed_at);
	enum status rc = pg_q_built(c,
		"INSERT INTO insight_revisions (" STORE_REVISION_COLS ")"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,"
		" $17, $18, $19)"
		" ON CONFLICT (insight_id, revision) DO NOTHING", &p, NULL, err);
	buf_release(&ids);
	return rc;
}

enum status pg_revision_add(struct store *st, const struct insight_revision *r,
			    struct error *err)
{
	struct pg_op op = { .revision_in = r };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_revision_add, &op, err);
}

static enum status pg_body_revision_find(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct revision_page *out = op->out;
	struct pg_params p = { 0 };
	pg_p_int(&p, op->id);
	PGresult *r;
	enum status rc = pg_q_built(c, "SELECT count(*) FROM insight_revisions WHERE insight_id = $1",
				    &p, &r, err);
	if (rc)
		return rc;
	out->total = pg_col_int(r, 0, 0);
	PQclear(r);
	int64_t page = op->range.skip, size = op->range.limit;
	if (out->total <= (page - 1) * size)
		return OK;
	pg_p_int(&p, size);
	pg_p_int(&p, (page - 1) * size);
	rc = pg_q_built(c, "SELECT " STORE_REVISION_COLS " FROM insight_revisions"
			" WHERE insight_id = $1 ORDER BY revision DESC LIMIT $2 OFFSET $3",
			&p, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	out->items = ARENA_NEW_ARRAY(op->a, struct insight_revision, (size_t)(rows ? rows : 1));
	for (int i = 0; i < rows; i++) {
		struct store_row row = pg_row(r, i);
		store_read_revision(&row, op->a, &out->items[i]);
	}
	out->n = (size_t)rows;
	PQclear(r);
	return OK;
}

enum status pg_revision_find(struct store *st, struct arena *a, int64_t id, int64_t page,
			     int64_t page_size, struct revision_page *out, struct error *err)
{
	struct pg_op op = { .a = a, .id = id, .range = { page, page_size }, .out = out };
	/* In one snapshot: the total and the page agree. */
	return pg_run(pg_of(st), PG_RUN_SNAPSHOT, pg_body_revision_find, &op, err);
}

static enum status pg_body_revision_get(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_int(&p, op->id);
	pg_p_int(&p, op->limit);
	PGresult *r;
	enum status rc = pg_q_built(c, "SELECT " STORE_REVISION_COLS " FROM insight_revisions"
				    " WHERE insight_id = $1 AND ($2::bigint = 0 OR revision = $2)"
				    " ORDER BY revision DESC LIMIT 1", &p, &r, err);
	if (rc)
		return rc;
	if (PQntuples(r) == 0) {
		rc = error_set(err, E_NOTFOUND, "Revision not found");
	} else {
		struct store_row row = pg_row(r, 0);
		store_read_revision(&row, op->a, op->out);
	}
	PQclear(r);
	return rc;
}

enum status pg_revision_get(struct store *st, struct arena *a, int64_t id, int64_t n,
			    struct insight_revision *out, struct error *err)
{
	struct pg_op op = { .a = a, .id = id, .limit = n, .out = out };
	/* On the primary: a restore reads what it brings back from what was just written. */
	return pg_run(pg_of(st), PG_RUN_PRIMARY, pg_body_revision_get, &op, err);
}

static enum status pg_body_revision_retire(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_int(&p, op->id);
	pg_p_text(&p, op->key);
	return pg_q_built(c, "UPDATE insight_revisions SET deleted_at = $2 WHERE insight_id = $1",
			  &p, NULL, err);
}

enum status pg_revision_retire(struct store *st, int64_t id, const char *at, struct error *err)
{
	struct pg_op op = { .id = id, .key = at };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_revision_retire, &op, err);
}

static enum status pg_body_revision_prune(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_text(&p, op->key);
	PGresult *r;
	enum status rc = pg_q_built(c, "DELETE FROM insight_revisions WHERE deleted_at IS NOT NULL"
				    " AND deleted_at COLLATE \"C\" < $1", &p, &r, err);
	if (rc)
		return rc;
	*op->tally = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return OK;
}

enum status pg_revision_prune(struct store *st, const char *before, int64_t *deleted,
			      struct error *err)
{
	struct pg_op op = { .key = before, .tally = deleted };
	return pg_run(pg_of(st), PG_RUN_MAINTENANCE, pg_body_revision_prune, &op, err);
}
