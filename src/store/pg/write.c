/*
 * write.c: the PostgreSQL driver's writes (insights, tags, categories) and
 * its maintenance (recounting tag usage). Each write is one transaction
 * (run.c) that locks what it relies on, in one order, before reading it:
 * the insight row, then its category, then its tags by ascending id.
 */
#include "store/pg/pg.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/banned.h"

/* ---- insights -------------------------------------------------------------- */

/*
 * After a row was inserted with an explicit id (a restore, an import):
 * moves `table`'s id sequence past it, so that the next generated id does
 * not clash. A sequence already beyond (every restore) is left alone:
 * setting it back while another transaction draws from it would hand out
 * an id twice.
 */
static enum status pg_sequence_past(struct pg_conn *c, const char *table, int64_t id,
				    struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_text(&p, table);
	pg_p_int(&p, id);
	return pg_q_built(c,
		"SELECT setval(pg_get_serial_sequence($1, 'id'), $2::bigint) WHERE $2::bigint >"
		" coalesce(pg_sequence_last_value(pg_get_serial_sequence($1, 'id')::regclass), 0)",
		&p, NULL, err);
}

/*
 * Checks and locks the rows an insight write refers to, adding a problem
 * for each missing one: its category (which then cannot be deleted before
 * we commit) and, when tags change, the tags it adds and those it carries
 * now (locked in ascending id order, before the associations move their
 * counts). `id` is 0 for a new insight.
 */
static enum status pg_lock_insight_refs(struct pg_conn *c, int64_t id, const struct insight_input *in,
					struct error *err)
{
	PGresult *r;
	enum status rc;
	if (in->category_id.set && in->category_id.v) {
		struct pg_params p = { 0 };
		pg_p_int(&p, in->category_id.v);
		rc = pg_q_fixed(c, P_CATEGORY_KEY_SHARE, &p, &r, err);
		if (rc)
			return rc;
		if (PQntuples(r) == 0)
			problem_missing_category(err, "category_id", in->category_id.v);
		PQclear(r);
	}
	if (in->tag_ids_set) {
		struct buf ids = BUF_INIT;
		store_ids_print(&ids, in->tag_ids, in->ntag_ids, '{', '}');
		struct pg_params p = { 0 };
		pg_p_int(&p, id);
		pg_p_text(&p, ids.data);
		rc = pg_q_fixed(c, P_TAGS_LOCK, &p, &r, err);
		buf_release(&ids);
		if (rc)
			return rc;
		/* Both lists are ascending: walk them together. */
		int rows = PQntuples(r), k = 0;
		for (size_t i = 0; i < in->ntag_ids; i++) {
			while (k < rows && pg_col_int(r, k, 0) < in->tag_ids[i])
				k++;
			if (k == rows || pg_col_int(r, k, 0) != in->tag_ids[i])
				problem_missing_tag(err, in->tag_ids[i]);
		}
		PQclear(r);
	}
	return err->status == E_INVALID ? E_INVALID : OK;
}

static void pg_insight_params(struct pg_params *p, const struct insight *row)
{
	pg_p_text(p, row->title);
	pg_p_text(p, row->description);
	pg_p_text(p, row->content);
	pg_p_text(p, row->source);
	pg_p_text(p, row->author);
	pg_p_id(p, row->category_id);
	pg_p_text(p, priority_name(row->priority));
	pg_p_text(p, lifecycle_name(row->status));
	pg_p_ts(p, row->created_at);
	pg_p_ts(p, row->updated_at);
	pg_p_ts(p, row->published_at);
	pg_p_text(p, row->review_by[0] ? row->review_by : NULL);
	pg_p_text(p, row->owner);
	pg_p_ts(p, row->reviewed_at);
}

/* Makes the insight's tags exactly `in->tag_ids`, touching only what changes. */
static enum status pg_set_tags(struct pg_conn *c, int64_t id, const struct insight_input *in,
			       bool fresh, struct error *err)
{
	struct buf ids = BUF_INIT;
	store_ids_print(&ids, in->tag_ids, in->ntag_ids, '{', '}');
	struct pg_params p = { 0 };
	pg_p_int(&p, id);
	pg_p_text(&p, ids.data);
	enum status rc = OK;
	if (!fresh)
		rc = pg_q_fixed(c, P_INSIGHT_TAGS_KEEP_ONLY, &p, NULL, err);
	if (rc == OK && in->ntag_ids)
		rc = pg_q_fixed(c, P_INSIGHT_TAGS_ADD, &p, NULL, err);
	buf_release(&ids);
	return rc;
}

/* Inserts one insight (checking and locking what it refers to) in the caller's transaction. */
static enum status pg_insert_insight(struct pg_conn *c, const struct insight_input *in, int64_t *id,
				     struct error *err)
{
	enum status rc = pg_lock_insight_refs(c, 0, in, err);
	if (rc)
		return rc;
	char now[TS_SIZE];
	clock_timestamp(now);
	struct insight row;
	insight_init(&row, in, now);
	struct pg_params p = { 0 };
	pg_insight_params(&p, &row);
	pg_p_int(&p, row.revision);
	PGresult *r;
	if (row.id) {
		/* A restore: the insight's own id (the identity allows it). */
		pg_p_int(&p, row.id);
		rc = pg_q_built(c,
			"INSERT INTO insights (title, description, content, source, author,"
			" category_id, priority, status, created_at, updated_at, published_at,"
			" review_by, owner, reviewed_at, revision, id)"
			" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
			" RETURNING id", &p, &r, err);
	} else {
		rc = pg_q_fixed(c, P_INSIGHT_INSERT, &p, &r, err);
	}
	if (rc)
		return rc;
	*id = pg_col_int(r, 0, 0);
	PQclear(r);
	if (row.id)
		rc = pg_sequence_past(c, "insights", row.id, err);
	if (rc == OK)
		rc = store_fault_halfway(err);
	if (rc == OK && in->tag_ids_set)
		rc = pg_set_tags(c, *id, in, true, err);
	return rc;
}

static enum status pg_body_insight_create(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	int64_t id = 0;
	enum status rc = pg_insert_insight(c, op->insight_in, &id, err);
	if (rc == OK)
		rc = pg_load_insight(c, op->a, id, false, op->out, err);
	return rc;
}

enum status pg_insight_create(struct store *st, struct arena *a,
			      const struct insight_input *in, struct insight *out,
			      struct error *err)
{
	struct pg_op op = { .a = a, .insight_in = in, .out = out };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_insight_create, &op, err);
}

static enum status pg_body_insight_create_many(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	enum status rc = OK;
	for (size_t i = 0; rc == OK && i < op->count; i++) {
		int64_t id;
		rc = pg_insert_insight(c, &op->insight_in[i], &id, err);
	}
	return rc;
}

/* A batch takes as long as it takes: no query timeout. */
enum status pg_insight_create_many(struct store *st, const struct insight_input *in,
				   size_t n, struct error *err)
{
	struct pg_op op = { .insight_in = in, .count = n };
	return pg_run(pg_of(st), PG_RUN_MAINTENANCE, pg_body_insight_create_many, &op, err);
}

static enum status pg_body_insight_update(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	const struct insight_input *in = op->insight_in;
	struct insight row;
	enum status rc = pg_load_insight(c, op->a, op->id, true, &row, err);
	if (rc == OK)
		rc = pg_lock_insight_refs(c, op->id, in, err);
	if (rc)
		return rc;
	char now[TS_SIZE];
	clock_timestamp(now);
	insight_apply(&row, in, now);
	struct pg_params p = { 0 };
	pg_insight_params(&p, &row);
	pg_p_int(&p, op->id);
	rc = pg_q_fixed(c, P_INSIGHT_UPDATE, &p, NULL, err);
	if (rc == OK)
		rc = store_fault_halfway(err);
	if (rc == OK && in->tag_ids_set)
		rc = pg_set_tags(c, op->id, in, false, err);
	if (rc == OK)
		rc = pg_load_insight(c, op->a, op->id, false, op->out, err);
	return rc;
}

enum status pg_insight_update(struct store *st, struct arena *a, int64_t id,
			      const struct insight_input *in, struct insight *out,
			      struct error *err)
{
	struct pg_op op = { .a = a, .id = id, .insight_in = in, .out = out };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_insight_update, &op, err);
}

static enum status pg_body_insight_delete(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	int64_t found = 0;
	enum status rc = pg_q_on_id(c, P_INSIGHT_LOCK, op->id, &found, err);
	if (rc)
		return rc;
	if (!found)
		return error_set(err, E_NOTFOUND, "Insight not found");
	/* Its tags, in order, before the associations go. */
	struct pg_params p = { 0 };
	pg_p_int(&p, op->id);
	pg_p_text(&p, "{}");
	rc = pg_q_fixed(c, P_TAGS_LOCK, &p, NULL, err);
	if (rc == OK)
		rc = pg_q_on_id(c, P_INSIGHT_TAGS_CLEAR, op->id, NULL, err);
	if (rc == OK)
		rc = pg_q_on_id(c, P_INSIGHT_DELETE, op->id, NULL, err);
	return rc;
}

enum status pg_insight_delete(struct store *st, int64_t id, struct error *err)
{
	struct pg_op op = { .id = id };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_insight_delete, &op, err);
}

/* ---- tags ------------------------------------------------------------------ */

/*
 * Reports a name or slug already used by another row (the clash statement
 * selects "name matches, slug matches" of the first such row). A row that
 * appears after this check is caught by the unique index: pg_conflict_words().
 */
static enum status pg_check_clash(struct pg_conn *c, enum pg_stmt which, const char *what,
				  const char *name, const char *slug, int64_t self, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_text(&p, name);
	pg_p_text(&p, slug);
	pg_p_int(&p, self);
	PGresult *r;
	enum status rc = pg_q_fixed(c, which, &p, &r, err);
	if (rc)
		return rc;
	if (PQntuples(r) > 0) {
		if (pg_col_bool(r, 0, 0))
			rc = error_set(err, E_CONFLICT, "%s with name '%s' already exists", what, name);
		else
			rc = error_set(err, E_CONFLICT, "%s with slug '%s' already exists", what, slug);
	}
	PQclear(r);
	return rc;
}

static void pg_tag_params(struct pg_params *p, const struct tag *row)
{
	pg_p_text(p, row->name);
	pg_p_text(p, row->slug);
	pg_p_text(p, row->description);
	pg_p_text(p, row->color);
}

static enum status pg_body_tag_create(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	char now[TS_SIZE];
	clock_timestamp(now);
	struct tag row;
	tag_init(&row, op->tag_in, now);
	enum status rc = pg_check_clash(c, P_TAG_CLASH, "Tag", row.name, row.slug, 0, err);
	if (rc)
		return rc;
	struct pg_params p = { 0 };
	pg_tag_params(&p, &row);
	pg_p_ts(&p, row.created_at);
	PGresult *r;
	if (row.id) {
		/* An import: the tag's own id. */
		pg_p_int(&p, row.id);
		rc = pg_q_built(c,
			"INSERT INTO tags (name, slug, description, color, created_at, usage_count, id)"
			" VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING id", &p, &r, err);
	} else {
		rc = pg_q_fixed(c, P_TAG_INSERT, &p, &r, err);
	}
	if (rc)
		return pg_conflict_words(c, rc, "Tag", row.name, row.slug, err);
	int64_t id = pg_col_int(r, 0, 0);
	PQclear(r);
	if (row.id && (rc = pg_sequence_past(c, "tags", id, err)))
		return rc;
	return pg_load_tag(c, op->a, id, false, op->out, err);
}

enum status pg_tag_create(struct store *st, struct arena *a, const struct tag_input *in,
			  struct tag *out, struct error *err)
{
	struct pg_op op = { .a = a, .tag_in = in, .out = out };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_tag_create, &op, err);
}

static enum status pg_body_tag_update(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct tag row;
	enum status rc = pg_load_tag(c, op->a, op->id, true, &row, err);
	if (rc)
		return rc;
	tag_apply(&row, op->tag_in);
	rc = pg_check_clash(c, P_TAG_CLASH, "Tag", row.name, row.slug, op->id, err);
	if (rc)
		return rc;
	struct pg_params p = { 0 };
	pg_tag_params(&p, &row);
	pg_p_int(&p, op->id);
	rc = pg_q_fixed(c, P_TAG_UPDATE, &p, NULL, err);
	if (rc)
		return pg_conflict_words(c, rc, "Tag", row.name, row.slug, err);
	/* Read back: usage_count as it is now, not as it was when locked. */
	return pg_load_tag(c, op->a, op->id, false, op->out, err);
}

enum status pg_tag_update(struct store *st, struct arena *a, int64_t id,
			  const struct tag_input *in, struct tag *out, struct error *err)
{
	struct pg_op op = { .a = a, .id = id, .tag_in = in, .out = out };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_tag_update, &op, err);
}

static enum status pg_body_tag_delete(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	int64_t found = 0;
	enum status rc = pg_q_on_id(c, P_TAG_LOCK_DELETE, op->id, &found, err);
	if (rc)
		return rc;
	if (!found)
		return error_set(err, E_NOTFOUND, "Tag not found");
	rc = pg_q_on_id(c, P_TAG_UNLINK, op->id, NULL, err);
	if (rc == OK)
		rc = pg_q_on_id(c, P_TAG_DELETE, op->id, NULL, err);
	return rc;
}

enum status pg_tag_delete(struct store *st, int64_t id, struct error *err)
{
	struct pg_op op = { .id = id };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_tag_delete, &op, err);
}

/* ---- categories -------------------------------------------------------------- */

/*
 * Checks a category's parent: it must exist (it is then locked against
 * deletion until we commit) and, for an existing category `self`, must be
 * neither `self` nor one of its descendants (under the tree lock).
 */
static enum status pg_check_parent(struct pg_conn *c, int64_t parent, int64_t self,
				   struct error *err)
{
	enum status rc;
	if (self) {
		rc = pg_q_fixed(c, P_CATEGORY_TREE_LOCK, NULL, NULL, err);
		if (rc)
			return rc;
	}
	int64_t found = 0;
	rc = pg_q_on_id(c, P_CATEGORY_KEY_SHARE, parent, &found, err);
	if (rc)
		return rc;
	if (!found)
		return problem_missing_category(err, "parent_id", parent);
	if (!self)
		return OK;
	struct pg_params p = { 0 };
	pg_p_int(&p, parent);
	pg_p_int(&p, self);
	PGresult *r;
	rc = pg_q_fixed(c, P_CATEGORY_IS_ANCESTOR, &p, &r, err);
	if (rc)
		return rc;
	bool cycle = PQntuples(r) > 0;
	PQclear(r);
	return cycle ? problem_parent_cycle(err, parent) : OK;
}

static void pg_category_params(struct pg_params *p, const struct category *row)
{
	pg_p_text(p, row->name);
	pg_p_text(p, row->slug);
	pg_p_text(p, row->description);
	pg_p_id(p, row->parent_id);
	pg_p_text(p, row->color);
	pg_p_text(p, row->icon);
}

static enum status pg_body_category_create(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	char now[TS_SIZE];
	clock_timestamp(now);
	struct category row = { 0 };
	category_apply(&row, op->category_in, now);
	enum status rc = OK;
	if (row.parent_id)
		rc = pg_check_parent(c, row.parent_id, 0, err);
	if (rc == OK)
		rc = pg_check_clash(c, P_CATEGORY_CLASH, "Category", row.name, row.slug, 0, err);
	if (rc)
		return rc;
	struct pg_params p = { 0 };
	pg_category_params(&p, &row);
	pg_p_ts(&p, row.created_at);
	pg_p_ts(&p, row.updated_at);
	PGresult *r;
	if (row.id) {
		/* An import: the category's own id. */
		pg_p_int(&p, row.id);
		rc = pg_q_built(c,
			"INSERT INTO categories (name, slug, description, parent_id, color, icon,"
			" created_at, updated_at, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
			" RETURNING id", &p, &r, err);
	} else {
		rc = pg_q_fixed(c, P_CATEGORY_INSERT, &p, &r, err);
	}
	if (rc)
		return pg_conflict_words(c, rc, "Category", row.name, row.slug, err);
	int64_t id = pg_col_int(r, 0, 0);
	PQclear(r);
	if (row.id && (rc = pg_sequence_past(c, "categories", id, err)))
		return rc;
	return pg_load_category(c, op->a, id, false, op->out, err);
}

enum status pg_category_create(struct store *st, struct arena *a,
			       const struct category_input *in, struct category *out,
			       struct error *err)
{
	struct pg_op op = { .a = a, .category_in = in, .out = out };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_category_create, &op, err);
}

static enum status pg_body_category_update(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	const struct category_input *in = op->category_in;
	struct category row;
	enum status rc = pg_load_category(c, op->a, op->id, true, &row, err);
	if (rc)
		return rc;
	char now[TS_SIZE];
	clock_timestamp(now);
	category_apply(&row, in, now);
	if (in->parent_id.set && row.parent_id)
		rc = pg_check_parent(c, row.parent_id, op->id, err);
	if (rc == OK)
		rc = pg_check_clash(c, P_CATEGORY_CLASH, "Category", row.name, row.slug, op->id, err);
	if (rc)
		return rc;
	struct pg_params p = { 0 };
	pg_category_params(&p, &row);
	pg_p_ts(&p, row.updated_at);
	pg_p_int(&p, op->id);
	rc = pg_q_fixed(c, P_CATEGORY_UPDATE, &p, NULL, err);
	if (rc)
		return pg_conflict_words(c, rc, "Category", row.name, row.slug, err);
	return pg_load_category(c, op->a, op->id, false, op->out, err);
}

enum status pg_category_update(struct store *st, struct arena *a, int64_t id,
			       const struct category_input *in, struct category *out,
			       struct error *err)
{
	struct pg_op op = { .a = a, .id = id, .category_in = in, .out = out };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_category_update, &op, err);
}

static enum status pg_body_category_delete(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	int64_t found = 0;
	enum status rc = pg_q_on_id(c, P_CATEGORY_LOCK_DELETE, op->id, &found, err);
	if (rc)
		return rc;
	if (!found)
		return error_set(err, E_NOTFOUND, "Category not found");
	struct pg_params p = { 0 };
	pg_p_int(&p, op->id);
	PGresult *r;
	rc = pg_q_fixed(c, P_CATEGORY_USAGE, &p, &r, err);
	if (rc)
		return rc;
	int64_t insights = pg_col_int(r, 0, 0), children = pg_col_int(r, 0, 1);
	PQclear(r);
	if (insights)
		return error_set(err, E_CONFLICT,
				 "Cannot delete category with %" PRId64 " insights. Remove insights first.",
				 insights);
	if (children)
		return error_set(err, E_CONFLICT,
				 "Cannot delete category with %" PRId64
				 " subcategories. Remove or move them first.", children);
	return pg_q_on_id(c, P_CATEGORY_DELETE, op->id, NULL, err);
}

enum status pg_category_delete(struct store *st, int64_t id, struct error *err)
{
	struct pg_op op = { .id = id };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_category_delete, &op, err);
}

/* ---- maintenance --------------------------------------------------------------- */

static enum status pg_body_recount(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	enum status rc = pg_q_fixed(c, P_RECOUNT_PREPARE, NULL, NULL, err);
	if (rc == OK)
		rc = pg_q_fixed(c, P_RECOUNT_LOCK, NULL, NULL, err);
	PGresult *r;
	if (rc == OK)
		rc = pg_q_fixed(c, P_RECOUNT, NULL, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	struct tag_fix *fixes = rows ? ARENA_NEW_ARRAY(op->a, struct tag_fix, (size_t)rows) : NULL;
	for (int i = 0; i < rows; i++) {
		fixes[i].id = pg_col_int(r, i, 0);
		fixes[i].name = pg_col_text(r, i, 1, op->a);
		fixes[i].was = pg_col_int(r, i, 2);
		fixes[i].now = pg_col_int(r, i, 3);
	}
	PQclear(r);
	*op->fixes = fixes;
	*op->n = (size_t)rows;
	return OK;
}

enum status pg_recount_tags(struct store *st, struct arena *a, struct tag_fix **fixes,
			    size_t *n, struct error *err)
{
	*fixes = NULL;
	*n = 0;
	struct pg_op op = { .a = a, .fixes = fixes, .n = n };
	return pg_run(pg_of(st), PG_RUN_MAINTENANCE, pg_body_recount, &op, err);
}

/*
 * After a bulk load (`insights seed`, a large `insights import`): VACUUM
 * marks the new rows' pages all visible, so that the index-only scans of
 * lists and counts stop visiting the heap for each entry (221 heap fetches
 * for a page 5,000 deep after a 100k seed, whose pages autovacuum had passed
 * over while it ran), and ANALYZE gives the planner the new sizes. VACUUM
 * cannot run in a transaction, so it has a connection of its own, without
 * the query timeout (at a million insights it takes longer than any request
 * may).
 *
 * VACUUM cannot mark a page whose rows a snapshot still open elsewhere may
 * not see, and autovacuum's own ANALYZE of the new rows often holds one
 * just then: after a 100k seed most of the newest pages (the ones the first
 * pages of every list read) stayed unmarked, and a page 8,000 deep took 11
 * ms instead of 1.8. So while pages of `insights` are left unmarked, the
 * tidy-up waits a second and vacuums that table again (it skips the pages
 * already marked), for PG_OPTIMIZE_WAIT_S at most: writes that go on
 * elsewhere leave pages unmarked for autovacuum to finish later.
 */
#define PG_OPTIMIZE_WAIT_S 30

enum status pg_optimize(struct store *st, struct error *err)
{
	struct pg_store *s = pg_of(st);
	struct pg_conn *c;
	enum status rc = pg_conn_open_unbounded(&s->primary, &c, err);
	if (rc)
		return rc;
	struct pg_params none = { 0 };
	rc = pg_q_built(c, "VACUUM (ANALYZE) insights, insight_tags, insight_counts, tags, categories",
			&none, NULL, err);
	for (int waited = 0; rc == OK; waited++) {
		PGresult *r;
		rc = pg_q_built(c, "SELECT relallvisible >= relpages FROM pg_class"
				   " WHERE oid = 'insights'::regclass", &none, &r, err);
		if (rc)
			break;
		bool marked = PQntuples(r) != 1 || pg_col_bool(r, 0, 0);
		PQclear(r);
		if (marked)
			break;
		if (waited == PG_OPTIMIZE_WAIT_S) {
			log_info("postgresql: pages of new insights are left for autovacuum to mark"
				 " (other sessions still hold older snapshots)");
			break;
		}
		if (!waited)
			log_info("postgresql: waiting for older snapshots to end to mark the new"
				 " insights' pages");
		struct timespec ts = { .tv_sec = 1 };
		nanosleep(&ts, NULL);
		rc = pg_q_built(c, "VACUUM insights", &none, NULL, err);
	}
	pg_conn_free(c);
	return rc;
}
