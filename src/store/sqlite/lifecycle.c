/*
 * lifecycle.c: the SQLite driver's lifecycle statistics (store.h's
 * transition_add, lifecycle and stale_count). Transition times are text in
 * the API's format; strftime('%s') reads them (and created_at) as seconds.
 */
#include "store/sqlite/sqlite.h"

#include <string.h>

#include "lib/banned.h"

enum status sq_transition_add(struct store *st, const struct transition *tr, struct error *err)
{
	/* An append: it touches no insight, so the group's pending index entries can wait. */
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_APPEND, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c,
		"INSERT INTO insight_transitions (insight_id, from_status, to_status, at, actor)"
		" VALUES (?1, ?2, ?3, ?4, ?5)", err);
	if (!s) {
		rc = err->status;
	} else {
		sqlite3_bind_int64(s, 1, tr->insight_id);
		sq_bind_text(s, 2, tr->from >= 0 ? lifecycle_name((enum lifecycle)tr->from) : NULL);
		sq_bind_text(s, 3, lifecycle_name(tr->to));
		sq_bind_text(s, 4, tr->at);
		sq_bind_text(s, 5, tr->actor);
		int src = sq_run(s);
		if (src != SQLITE_OK)
			rc = sq_fail(t.c, src, err);
	}
	return sq_txn_end(&t, rc, err);
}

/*
 * The insights first published at or after ?1: the first transition to
 * published of each (by time, then id: ix_insight_transitions_insight finds
 * it per insight), its insight, category and first creation transition.
 */
#define SQ_FIRST_PUBLISHED                                                           \
	" FROM insight_transitions t JOIN insights i ON i.id = t.insight_id"         \
	" LEFT JOIN categories c ON c.id = i.category_id"                            \
	" LEFT JOIN insight_transitions x ON x.id = (SELECT y.id FROM insight_transitions y" \
	"  WHERE y.insight_id = t.insight_id AND y.from_status IS NULL"              \
	"  ORDER BY y.at, y.id LIMIT 1)"                                             \
	" WHERE t.to_status = 'published' AND t.at >= ?1"                            \
	" AND t.id = (SELECT p.id FROM insight_transitions p"                        \
	"  WHERE p.insight_id = t.insight_id AND p.to_status = 'published'"          \
	"  ORDER BY p.at, p.id LIMIT 1)"

static enum status sq_lifecycle_in_txn(struct sq_conn *c, struct arena *a, const char *since,
				       struct lifecycle_data *out, struct error *err)
{
	sqlite3_stmt *s = sq_dyn_stmt(c,
		"SELECT from_status, to_status, count(*) FROM insight_transitions WHERE at >= ?1"
		" GROUP BY from_status, to_status", err);
	if (!s)
		return err->status;
	sqlite3_bind_text(s, 1, since, -1, SQLITE_STATIC);
	size_t cap = (LIFECYCLE_COUNT + 1) * LIFECYCLE_COUNT;
	out->counts = ARENA_NEW_ARRAY(a, struct transition_count, cap);
	int rc;
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		const char *from = (const char *)sqlite3_column_text(s, 0);
		const char *to = (const char *)sqlite3_column_text(s, 1);
		enum lifecycle f = LIFECYCLE_DRAFT, g;
		if ((from && lifecycle_parse(from, &f)) || !to || lifecycle_parse(to, &g) ||
		    out->ncounts >= cap)
			continue; /* not a status this service writes */
		out->counts[out->ncounts++] = (struct transition_count){
			.from = from ? (int)f : -1, .to = (int)g, .count = sqlite3_column_int64(s, 2) };
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sq_fail(c, rc, err);

	s = sq_dyn_stmt(c,
		"SELECT CAST(strftime('%s', t.at) AS INTEGER)"
		" - CAST(strftime('%s', coalesce(x.at, i.created_at)) AS INTEGER),"
		" c.name, i.author" SQ_FIRST_PUBLISHED, err);
	if (!s)
		return err->status;
	sqlite3_bind_text(s, 1, since, -1, SQLITE_STATIC);
	size_t n = 0;
	cap = 64;
	struct publication *pubs = ARENA_NEW_ARRAY(a, struct publication, cap);
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			struct publication *more = ARENA_NEW_ARRAY(a, struct publication, cap * 2);
			memcpy(more, pubs, n * sizeof(*pubs));
			pubs = more;
			cap *= 2;
		}
		int64_t secs = sqlite3_column_int64(s, 0);
		pubs[n++] = (struct publication){ .seconds = secs > 0 ? secs : 0,
						  .category = sq_col_text(s, 1, a),
						  .author = sq_col_text(s, 2, a) };
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sq_fail(c, rc, err);
	out->pubs = pubs;
	out->npubs = n;
	return OK;
}

enum status sq_lifecycle(struct store *st, struct arena *a, const char *since,
			 struct lifecycle_data *out, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	rc = sq_lifecycle_in_txn(t.c, a, since, out, err);
	return sq_txn_end(&t, rc, err);
}

enum status sq_stale_count(struct store *st, const char *before, int64_t *n, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	/* The expression of ix_insights_fresh: a range of that index, not the table. */
	sqlite3_stmt *s = sq_dyn_stmt(t.c,
		"SELECT count(*) FROM insights WHERE status = 'published'"
		" AND max(updated_at, coalesce(reviewed_at, '')) < ?1", err);
	if (!s)
		return sq_txn_end(&t, err->status, err);
	sqlite3_bind_text(s, 1, before, -1, SQLITE_STATIC);
	int src = sq_step(s);
	if (src == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	else
		rc = sq_fail(t.c, src, err);
	sqlite3_reset(s);
	return sq_txn_end(&t, rc, err);
}
