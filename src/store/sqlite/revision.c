/*
 * revision.c: the SQLite driver's revisions and versions (store.h's
 * row_version and revision_* operations). Writes are serialised by the
 * write lock, which a batch holds from its start: a version read in a batch
 * stays true until the batch commits, so row_version needs no lock of its
 * own here.
 */
#include "store/sqlite/sqlite.h"

#include <string.h>

#include "lib/buf.h"
#include "lib/banned.h"

/* The version column of each table (the names come from this table, never a request). */
static const char *const sq_version_sql[QT__COUNT] = {
	[QT_INSIGHTS] = "SELECT revision FROM insights WHERE id = ?1",
	[QT_TAGS] = "SELECT version FROM tags WHERE id = ?1",
	[QT_CATEGORIES] = "SELECT version FROM categories WHERE id = ?1",
};

static const char *const sq_missing[QT__COUNT] = {
	[QT_INSIGHTS] = "Insight not found",
	[QT_TAGS] = "Tag not found",
	[QT_CATEGORIES] = "Category not found",
};

enum status sq_row_version(struct store *st, enum q_table table, int64_t id, bool lock,
			   int64_t *version, struct error *err)
{
	(void)lock; /* a batch holds the write lock already */
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c, sq_version_sql[table], err);
	if (!s)
		return sq_txn_end(&t, err->status, err);
	sqlite3_bind_int64(s, 1, id);
	int src = sq_step(s);
	if (src == SQLITE_ROW)
		*version = sqlite3_column_int64(s, 0);
	else if (src == SQLITE_DONE)
		rc = error_set(err, E_NOTFOUND, "%s", sq_missing[table]);
	else
		rc = sq_fail(t.c, src, err);
	sqlite3_reset(s);
	return sq_txn_end(&t, rc, err);
}

enum status sq_revision_add(struct store *st, const struct insight_revision *r,
			    struct error *err)
{
	/*
	 * An append: it touches no insight, so the group's pending index
	 * entries wait for its commit. As a plain write it indexed every new
	 * insight on its own at its first revision, one FTS5 segment per
	 * insight to write and merge (a fifth of a create's time).
	 */
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_APPEND, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c,
		"INSERT INTO insight_revisions (" STORE_REVISION_COLS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
		" ?17, ?18, ?19)"
		" ON CONFLICT (insight_id, revision) DO NOTHING", err);
	if (!s)
		return sq_txn_end(&t, err->status, err);
	const struct insight *v = &r->v;
	struct buf ids = BUF_INIT;
	store_ids_print(&ids, r->tag_ids, r->ntag_ids, '[', ']');
	sqlite3_bind_int64(s, 1, v->id);
	sqlite3_bind_int64(s, 2, v->revision);
	sq_bind_text(s, 3, v->title);
	sq_bind_text(s, 4, v->description);
	sq_bind_text(s, 5, v->content);
	sq_bind_text(s, 6, v->source);
	sq_bind_text(s, 7, v->author);
	sq_bind_id(s, 8, v->category_id);
	sq_bind_text(s, 9, priority_name(v->priority));
	sq_bind_text(s, 10, lifecycle_name(v->status));
	sq_bind_ts(s, 11, v->created_at);
	sq_bind_ts(s, 12, v->updated_at);
	sq_bind_ts(s, 13, v->published_at);
	sqlite3_bind_text(s, 14, ids.data, (int)ids.len, SQLITE_STATIC);
	sq_bind_text(s, 15, r->actor);
	sq_bind_ts(s, 16, r->deleted_at);
	sq_bind_ts(s, 17, v->review_by);
	sq_bind_text(s, 18, v->owner);
	sq_bind_ts(s, 19, v->reviewed_at);
	int src = sq_run(s);
	buf_release(&ids);
	if (src != SQLITE_OK)
		rc = sq_fail(t.c, src, err);
	return sq_txn_end(&t, rc, err);
}

enum status sq_revision_find(struct store *st, struct arena *a, int64_t id, int64_t page,
			     int64_t page_size, struct revision_page *out, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c,
		"SELECT count(*) FROM insight_revisions WHERE insight_id = ?1", err);
	if (!s)
		return sq_txn_end(&t, err->status, err);
	sqlite3_bind_int64(s, 1, id);
	int src = sq_step(s);
	if (src == SQLITE_ROW)
		out->total = sqlite3_column_int64(s, 0);
	else
		rc = sq_fail(t.c, src, err);
	sqlite3_reset(s);
	if (rc == OK && out->total > (page - 1) * page_size) {
		s = sq_dyn_stmt(t.c, "SELECT " STORE_REVISION_COLS " FROM insight_revisions"
				" WHERE insight_id = ?1 ORDER BY revision DESC LIMIT ?2 OFFSET ?3", err);
		if (!s)
			return sq_txn_end(&t, err->status, err);
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, page_size);
		sqlite3_bind_int64(s, 3, (page - 1) * page_size);
		out->items = ARENA_NEW_ARRAY(a, struct insight_revision, (size_t)page_size);
		while ((src = sq_step(s)) == SQLITE_ROW && out->n < (size_t)page_size) {
			struct store_row row = sq_row(s);
			store_read_revision(&row, a, &out->items[out->n++]);
		}
		if (src != SQLITE_DONE && src != SQLITE_ROW)
			rc = sq_fail(t.c, src, err);
		sqlite3_reset(s);
	}
	return sq_txn_end(&t, rc, err);
}

enum status sq_revision_get(struct store *st, struct arena *a, int64_t id, int64_t n,
			    struct insight_revision *out, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c, "SELECT " STORE_REVISION_COLS " FROM insight_revisions"
				      " WHERE insight_id = ?1 AND (?2 = 0 OR revision = ?2)"
				      " ORDER BY revision DESC LIMIT 1", err);
	if (!s)
		return sq_txn_end(&t, err->status, err);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, n);
	int src = sq_step(s);
	if (src == SQLITE_ROW) {
		struct store_row row = sq_row(s);
		store_read_revision(&row, a, out);
	} else if (src == SQLITE_DONE) {
		rc = error_set(err, E_NOTFOUND, "Revision not found");
	} else {
		rc = sq_fail(t.c, src, err);
	}
	sqlite3_reset(s);
	return sq_txn_end(&t, rc, err);
}

enum status sq_revision_retire(struct store *st, int64_t id, const char *at, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c,
		"UPDATE insight_revisions SET deleted_at = ?2 WHERE insight_id = ?1", err);
	if (!s)
		return sq_txn_end(&t, err->status, err);
	sqlite3_bind_int64(s, 1, id);
	sq_bind_text(s, 2, at);
	int src = sq_run(s);
	if (src != SQLITE_OK)
		rc = sq_fail(t.c, src, err);
	return sq_txn_end(&t, rc, err);
}

enum status sq_revision_prune(struct store *st, const char *before, int64_t *deleted,
			      struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c, "DELETE FROM insight_revisions"
				      " WHERE deleted_at IS NOT NULL AND deleted_at < ?1", err);
	if (!s)
		return sq_txn_end(&t, err->status, err);
	sq_bind_text(s, 1, before);
	int src = sq_run(s);
	if (src != SQLITE_OK)
		rc = sq_fail(t.c, src, err);
	else
		*deleted = sqlite3_changes(t.c->db);
	return sq_txn_end(&t, rc, err);
}
