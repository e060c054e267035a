/*
 * write.c: the SQLite driver's writes (insights, tags, categories) and its
 * maintenance (recounting tag usage, optimizing after a bulk load). Each
 * write is one savepoint of a commit group (txn.c): it checks what it
 * refers to, writes, reads back what it answers, and is undone whole when
 * any step fails.
 */
#include "store/sqlite/sqlite.h"

#include <inttypes.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/banned.h"

/* ---- insights ------------------------------------------------------------------ */

/* Checks the rows an insight input refers to, adding a problem for each missing one. */
static enum status sq_check_insight_refs(struct sq_conn *c, const struct insight_input *in,
					 struct error *err)
{
	if (in->category_id.set && in->category_id.v) {
		sqlite3_stmt *s = sq_stmt(c, S_CATEGORY_EXISTS, err);
		if (!s)
			return err->status;
		sqlite3_bind_int64(s, 1, in->category_id.v);
		int rc = sq_step(s);
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			problem_missing_category(err, "category_id", in->category_id.v);
		else if (rc != SQLITE_ROW)
			return sq_fail(c, rc, err);
	}
	if (in->tag_ids_set && in->ntag_ids) {
		sqlite3_stmt *s = sq_stmt(c, S_TAGS_EXISTING, err);
		if (!s)
			return err->status;
		struct buf ids = BUF_INIT;
		store_ids_print(&ids, in->tag_ids, in->ntag_ids, '[', ']');
		sqlite3_bind_text(s, 1, ids.data, (int)ids.len, SQLITE_STATIC);
		int rc;
		while ((rc = sq_step(s)) == SQLITE_ROW)
			problem_missing_tag(err, sqlite3_column_int64(s, 0));
		sqlite3_reset(s);
		buf_release(&ids);
		if (rc != SQLITE_DONE)
			return sq_fail(c, rc, err);
	}
	return err->status == E_INVALID ? E_INVALID : OK;
}

static void sq_bind_insight_row(sqlite3_stmt *s, const struct insight *r)
{
	sq_bind_text(s, 1, r->title);
	sq_bind_text(s, 2, r->description);
	sq_bind_text(s, 3, r->content);
	sq_bind_text(s, 4, r->source);
	sq_bind_text(s, 5, r->author);
	sq_bind_id(s, 6, r->category_id);
	sq_bind_text(s, 7, priority_name(r->priority));
	sq_bind_text(s, 8, lifecycle_name(r->status));
	sq_bind_ts(s, 9, r->created_at);
	sq_bind_ts(s, 10, r->updated_at);
	sq_bind_ts(s, 11, r->published_at);
	sq_bind_ts(s, 12, r->review_by);
	sq_bind_text(s, 13, r->owner);
	sq_bind_ts(s, 14, r->reviewed_at);
}

/* Makes the insight's tags exactly `in->tag_ids`, touching only what changes. */
static enum status sq_set_tags(struct sq_conn *c, int64_t id, const struct insight_input *in,
			       bool fresh, struct error *err)
{
	struct buf ids = BUF_INIT;
	store_ids_print(&ids, in->tag_ids, in->ntag_ids, '[', ']');
	enum status rc = OK;
	enum sq_stmt steps[2];
	int nsteps = 0;
	if (!fresh)
		steps[nsteps++] = S_INSIGHT_TAGS_KEEP_ONLY;
	if (in->ntag_ids)
		steps[nsteps++] = S_INSIGHT_TAGS_ADD;
	for (int i = 0; rc == OK && i < nsteps; i++) {
		sqlite3_stmt *s = sq_stmt(c, steps[i], err);
		if (!s) {
			rc = err->status;
			break;
		}
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, ids.data, (int)ids.len, SQLITE_STATIC);
		int src = sq_run(s);
		if (src != SQLITE_OK)
			rc = sq_fail(c, src, err);
	}
	buf_release(&ids);
	return rc;
}

/* Inserts one insight (checking what it refers to) in the caller's transaction. */
static enum status sq_insert_insight(struct sq_conn *c, const struct insight_input *in,
				     int64_t *id, struct error *err)
{
	enum status rc = sq_check_insight_refs(c, in, err);
	if (rc)
		return rc;
	char now[TS_SIZE];
	clock_timestamp(now);
	struct insight row;
	insight_init(&row, in, now);
	sqlite3_stmt *s = sq_stmt(c, S_INSIGHT_INSERT, err);
	if (!s)
		return err->status;
	sq_bind_insight_row(s, &row);
	sq_bind_id(s, 15, row.id);
	sqlite3_bind_int64(s, 16, row.revision);
	int src = sq_run(s);
	if (src != SQLITE_OK)
		return sq_fail(c, src, err);
	*id = sqlite3_last_insert_rowid(c->db);
	sq_fts_defer(c->store, *id);
	rc = store_fault_halfway(err);
	if (rc == OK && in->tag_ids_set)
		rc = sq_set_tags(c, *id, in, true, err);
	return rc;
}

enum status sq_insight_create(struct store *st, struct arena *a, const struct insight_input *in,
			      struct insight *out, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_APPEND, &t, err);
	if (rc)
		return rc;
	int64_t id = 0;
	rc = sq_insert_insight(t.c, in, &id, err);
	if (rc == OK)
		rc = sq_load_insight(t.c, a, id, out, err);
	return sq_txn_end(&t, rc, err);
}

enum status sq_insight_create_many(struct store *st, const struct insight_input *in, size_t n,
				   struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_APPEND, &t, err);
	if (rc)
		return rc;
	for (size_t i = 0; rc == OK && i < n; i++) {
		int64_t id;
		rc = sq_insert_insight(t.c, &in[i], &id, err);
	}
	return sq_txn_end(&t, rc, err);
}

enum status sq_insight_update(struct store *st, struct arena *a, int64_t id,
			      const struct insight_input *in, struct insight *out,
			      struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	struct sq_conn *c = t.c;
	struct insight row;
	rc = sq_load_insight(c, a, id, &row, err);
	if (rc == OK)
		rc = sq_check_insight_refs(c, in, err);
	if (rc == OK) {
		char now[TS_SIZE];
		clock_timestamp(now);
		insight_apply(&row, in, now);
		sqlite3_stmt *s = sq_stmt(c, S_INSIGHT_UPDATE, err);
		if (!s) {
			rc = err->status;
		} else {
			sq_bind_insight_row(s, &row);
			sqlite3_bind_int64(s, 15, id);
			int src = sq_run(s);
			rc = src == SQLITE_OK ? OK : sq_fail(c, src, err);
		}
		if (rc == OK)
			rc = store_fault_halfway(err);
		if (rc == OK && in->tag_ids_set)
			rc = sq_set_tags(c, id, in, false, err);
		if (rc == OK)
			rc = sq_load_insight(c, a, id, out, err);
	}
	return sq_txn_end(&t, rc, err);
}

enum status sq_insight_delete(struct store *st, int64_t id, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	int changes = 0;
	rc = sq_run_on_id(t.c, S_INSIGHT_TAGS_CLEAR, id, NULL, err);
	if (rc == OK)
		rc = sq_run_on_id(t.c, S_INSIGHT_DELETE, id, &changes, err);
	if (rc == OK && changes == 0)
		rc = error_set(err, E_NOTFOUND, "Insight not found");
	return sq_txn_end(&t, rc, err);
}

/* ---- tags ------------------------------------------------------------------------ */

static enum status sq_load_tag(struct sq_conn *c, struct arena *a, int64_t id, struct tag *out,
			       struct error *err)
{
	return sq_load_row(c, S_TAG_GET, id, sq_read_tag_row, a, out, "Tag not found", err);
}

/*
 * Reports a name or slug already used by another row of `what` (the clash
 * statement selects "name matches, slug matches" of the first such row).
 */
static enum status sq_check_clash(struct sq_conn *c, enum sq_stmt which, const char *what,
				  const char *name, const char *slug, int64_t self,
				  struct error *err)
{
	sqlite3_stmt *s = sq_stmt(c, which, err);
	if (!s)
		return err->status;
	sq_bind_text(s, 1, name);
	sq_bind_text(s, 2, slug);
	sqlite3_bind_int64(s, 3, self);
	int rc = sq_step(s);
	enum status st = OK;
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_int(s, 0))
			st = error_set(err, E_CONFLICT, "%s with name '%s' already exists", what, name);
		else
			st = error_set(err, E_CONFLICT, "%s with slug '%s' already exists", what, slug);
	} else if (rc != SQLITE_DONE) {
		st = sq_fail(c, rc, err);
	}
	sqlite3_reset(s);
	return st;
}

static enum status sq_write_tag(struct sq_conn *c, enum sq_stmt which, const struct tag *row,
				struct error *err)
{
	sqlite3_stmt *s = sq_stmt(c, which, err);
	if (!s)
		return err->status;
	sq_bind_text(s, 1, row->name);
	sq_bind_text(s, 2, row->slug);
	sq_bind_text(s, 3, row->description);
	sq_bind_text(s, 4, row->color);
	if (which == S_TAG_INSERT) {
		sq_bind_ts(s, 5, row->created_at);
		sq_bind_id(s, 6, row->id);
	} else
		sqlite3_bind_int64(s, 5, row->id);
	int src = sq_run(s);
	return src == SQLITE_OK ? OK : sq_fail(c, src, err);
}

enum status sq_tag_create(struct store *st, struct arena *a, const struct tag_input *in,
			  struct tag *out, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	char now[TS_SIZE];
	clock_timestamp(now);
	struct tag row;
	tag_init(&row, in, now);
	rc = sq_check_clash(t.c, S_TAG_CLASH, "Tag", row.name, row.slug, 0, err);
	if (rc == OK)
		rc = sq_write_tag(t.c, S_TAG_INSERT, &row, err);
	if (rc == OK)
		rc = sq_load_tag(t.c, a, sqlite3_last_insert_rowid(t.c->db), out, err);
	return sq_txn_end(&t, rc, err);
}

enum status sq_tag_update(struct store *st, struct arena *a, int64_t id,
			  const struct tag_input *in, struct tag *out, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	struct tag row;
	rc = sq_load_tag(t.c, a, id, &row, err);
	if (rc == OK) {
		tag_apply(&row, in);
		rc = sq_check_clash(t.c, S_TAG_CLASH, "Tag", row.name, row.slug, id, err);
	}
	if (rc == OK)
		rc = sq_write_tag(t.c, S_TAG_UPDATE, &row, err);
	if (rc == OK)
		rc = sq_load_tag(t.c, a, id, out, err);
	return sq_txn_end(&t, rc, err);
}

enum status sq_tag_delete(struct store *st, int64_t id, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	int changes = 0;
	rc = sq_run_on_id(t.c, S_TAG_UNLINK, id, NULL, err);
	if (rc == OK)
		rc = sq_run_on_id(t.c, S_TAG_DELETE, id, &changes, err);
	if (rc == OK && changes == 0)
		rc = error_set(err, E_NOTFOUND, "Tag not found");
	return sq_txn_end(&t, rc, err);
}

/* ---- categories ---------------------------------------------------------------------- */

static enum status sq_load_category(struct sq_conn *c, struct arena *a, int64_t id,
				    struct category *out, struct error *err)
{
	return sq_load_row(c, S_CATEGORY_GET, id, sq_read_category_row, a, out,
			   "Category not found", err);
}

/*
 * Checks a category's parent: it must exist and, for an existing category
 * `self`, must be neither `self` nor one of its descendants.
 */
static enum status sq_check_parent(struct sq_conn *c, int64_t parent, int64_t self,
				   struct error *err)
{
	sqlite3_stmt *s = sq_stmt(c, S_CATEGORY_EXISTS, err);
	if (!s)
		return err->status;
	sqlite3_bind_int64(s, 1, parent);
	int rc = sq_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return problem_missing_category(err, "parent_id", parent);
	if (rc != SQLITE_ROW)
		return sq_fail(c, rc, err);
	if (!self)
		return OK;
	s = sq_stmt(c, S_CATEGORY_IS_ANCESTOR, err);
	if (!s)
		return err->status;
	sqlite3_bind_int64(s, 1, parent);
	sqlite3_bind_int64(s, 2, self);
	rc = sq_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return problem_parent_cycle(err, parent);
	return rc == SQLITE_DONE ? OK : sq_fail(c, rc, err);
}

static enum status sq_write_category(struct sq_conn *c, enum sq_stmt which,
				     const struct category *row, struct error *err)
{
	sqlite3_stmt *s = sq_stmt(c, which, err);
	if (!s)
		return err->status;
	sq_bind_text(s, 1, row->name);
	sq_bind_text(s, 2, row->slug);
	sq_bind_text(s, 3, row->description);
	sq_bind_id(s, 4, row->parent_id);
	sq_bind_text(s, 5, row->color);
	sq_bind_text(s, 6, row->icon);
	if (which == S_CATEGORY_INSERT) {
		sq_bind_ts(s, 7, row->created_at);
		sq_bind_ts(s, 8, row->updated_at);
		sq_bind_id(s, 9, row->id);
	} else {
		sq_bind_ts(s, 7, row->updated_at);
		sqlite3_bind_int64(s, 8, row->id);
	}
	int src = sq_run(s);
	return src == SQLITE_OK ? OK : sq_fail(c, src, err);
}

enum status sq_category_create(struct store *st, struct arena *a,
			       const struct category_input *in, struct category *out,
			       struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	char now[TS_SIZE];
	clock_timestamp(now);
	struct category row = { 0 };
	category_apply(&row, in, now);
	if (row.parent_id)
		rc = sq_check_parent(t.c, row.parent_id, 0, err);
	if (rc == OK)
		rc = sq_check_clash(t.c, S_CATEGORY_CLASH, "Category", row.name, row.slug, 0, err);
	if (rc == OK)
		rc = sq_write_category(t.c, S_CATEGORY_INSERT, &row, err);
	if (rc == OK)
		rc = sq_load_category(t.c, a, sqlite3_last_insert_rowid(t.c->db), out, err);
	return sq_txn_end(&t, rc, err);
}

enum status sq_category_update(struct store *st, struct arena *a, int64_t id,
			       const struct category_input *in, struct category *out,
			       struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	struct category row;
	rc = sq_load_category(t.c, a, id, &row, err);
	if (rc == OK) {
		char now[TS_SIZE];
		clock_timestamp(now);
		category_apply(&row, in, now);
		if (in->parent_id.set && row.parent_id)
			rc = sq_check_parent(t.c, row.parent_id, id, err);
	}
	if (rc == OK)
		rc = sq_check_clash(t.c, S_CATEGORY_CLASH, "Category", row.name, row.slug, id, err);
	if (rc == OK)
		rc = sq_write_category(t.c, S_CATEGORY_UPDATE, &row, err);
	if (rc == OK)
		rc = sq_load_category(t.c, a, id, out, err);
	return sq_txn_end(&t, rc, err);
}

enum status sq_category_delete(struct store *st, int64_t id, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	struct arena a = ARENA_INIT;
	struct category row;
	rc = sq_load_category(t.c, &a, id, &row, err);
	arena_release(&a);
	if (rc == OK) {
		sqlite3_stmt *s = sq_stmt(t.c, S_CATEGORY_USAGE, err);
		if (!s) {
			rc = err->status;
		} else {
			sqlite3_bind_int64(s, 1, id);
			int src = sq_step(s);
			int64_t insights = 0, children = 0;
			if (src == SQLITE_ROW) {
				insights = sqlite3_column_int64(s, 0);
				children = sqlite3_column_int64(s, 1);
			}
			sqlite3_reset(s);
			if (src != SQLITE_ROW)
				rc = sq_fail(t.c, src, err);
			else if (insights)
				rc = error_set(err, E_CONFLICT,
					       "Cannot delete category with %" PRId64
					       " insights. Remove insights first.", insights);
			else if (children)
				rc = error_set(err, E_CONFLICT,
					       "Cannot delete category with %" PRId64
					       " subcategories. Remove or move them first.", children);
		}
	}
	if (rc == OK)
		rc = sq_run_on_id(t.c, S_CATEGORY_DELETE, id, NULL, err);
	return sq_txn_end(&t, rc, err);
}

/* ---- maintenance ---------------------------------------------------------------------- */

enum status sq_recount_tags(struct store *st, struct arena *a, struct tag_fix **fixes, size_t *n,
			    struct error *err)
{
	*fixes = NULL;
	*n = 0;
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_stmt(t.c, S_RECOUNT_DRIFT, err);
	if (!s)
		return sq_txn_end(&t, err->status, err);
	struct tag_fix *found = NULL;
	size_t nfound = 0, cap = 0;
	int src;
	while ((src = sq_step(s)) == SQLITE_ROW) {
		if (nfound == cap) {
			cap = cap ? cap * 2 : 16;
			struct tag_fix *grown = ARENA_NEW_ARRAY(a, struct tag_fix, cap);
			if (nfound)
				memcpy(grown, found, nfound * sizeof(*found));
			found = grown;
		}
		struct tag_fix *f = &found[nfound++];
		f->id = sqlite3_column_int64(s, 0);
		f->name = sq_col_text(s, 1, a);
		f->was = sqlite3_column_int64(s, 2);
		f->now = sqlite3_column_int64(s, 3);
	}
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		rc = sq_fail(t.c, src, err);
	for (size_t i = 0; rc == OK && i < nfound; i++)
		rc = sq_run_on_id(t.c, S_RECOUNT_FIX, found[i].id, NULL, err);
	rc = sq_txn_end(&t, rc, err);
	if (rc == OK) {
		*fixes = found;
		*n = nfound;
	}
	return rc;
}

/*
 * After a bulk load the FTS5 indexes hold one segment per transaction;
 * merging them all now spares the first writes after the load a merge of
 * the whole index (at a million insights that merge took longer than any
 * request may), and makes searches read one segment. ANALYZE, not PRAGMA
 * optimize: the latter only measures the tables this connection has
 * queried, and an import's connection had queried none (the planner of the
 * imported database then had no statistics at all).
 */
enum status sq_optimize(struct store *st, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	int src = sq_exec(t.c, "INSERT INTO insights_fts (insights_fts) VALUES ('optimize')");
	if (src == SQLITE_OK)
		src = sq_exec(t.c, "INSERT INTO insights_trgm (insights_trgm) VALUES ('optimize')");
	if (src == SQLITE_OK)
		src = sq_exec(t.c, "ANALYZE");
	rc = src == SQLITE_OK ? OK : sq_fail(t.c, src, err);
	rc = sq_txn_end(&t, rc, err);
	if (rc == OK) {
		/* Best effort: a WAL left long costs disk, not correctness. */
		struct error ignored = ERROR_INIT;
		struct sq_conn *c;
		if (sq_conn_take(sq_of(st), &c, &ignored) == OK) {
			sq_exec(c, "PRAGMA wal_checkpoint(TRUNCATE)");
			sq_conn_give(sq_of(st), c);
		}
	}
	return rc;
}
