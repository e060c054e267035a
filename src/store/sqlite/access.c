/*
 * access.c: the SQLite driver's API tokens and audit trail (store.h's
 * token_* and audit_* operations). The statements are few and simple;
 * they run through the connection's cache of built statements.
 */
#include "store/sqlite/sqlite.h"

#include <string.h>

#include "lib/buf.h"
#include "lib/banned.h"

#define TOKEN_COLS "id, name, role, token_hash, last4, created_at, expires_at, last_used_at"
#define AUDIT_COLS \
	"id, time, actor, role, action, resource, resource_id, request_id, changes"

static void sq_read_token(sqlite3_stmt *s, struct arena *a, struct token *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(s, 0);
	t->name = sq_col_text(s, 1, a);
	const char *role = (const char *)sqlite3_column_text(s, 2);
	if (role_parse(role, &t->role))
		t->role = ROLE_NONE;
	t->hash = sq_col_text(s, 3, a);
	t->last4 = sq_col_text(s, 4, a);
	struct store_row row = sq_row(s);
	store_read_ts(&row, 5, t->created_at);
	store_read_ts(&row, 6, t->expires_at);
	store_read_ts(&row, 7, t->last_used_at);
}

/* Runs `sql` with `key` as ?1 and reads at most one token. */
static enum status sq_token_one(struct sq_conn *c, struct arena *a, const char *sql,
				const char *key, struct token *out, struct error *err)
{
	sqlite3_stmt *s = sq_dyn_stmt(c, sql, err);
	if (!s)
		return err->status;
	sq_bind_text(s, 1, key);
	int src = sq_step(s);
	enum status rc = OK;
	if (src == SQLITE_ROW)
		sq_read_token(s, a, out);
	else if (src == SQLITE_DONE)
		rc = error_set(err, E_NOTFOUND, "Token not found");
	else
		rc = sq_fail(c, src, err);
	sqlite3_reset(s);
	return rc;
}

enum status sq_token_create(struct store *st, struct arena *a, const struct token *in,
			    struct token *out, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	struct token clash;
	rc = sq_token_one(t.c, a, "SELECT " TOKEN_COLS " FROM api_tokens WHERE name = ?1",
			  in->name, &clash, err);
	if (rc == OK)
		rc = error_set(err, E_CONFLICT, "Token with name '%s' already exists", in->name);
	if (rc == E_NOTFOUND) {
		error_clear(err);
		rc = OK;
	}
	sqlite3_stmt *s = rc ? NULL : sq_dyn_stmt(t.c,
		"INSERT INTO api_tokens (name, role, token_hash, last4, created_at, expires_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)", err);
	if (rc == OK && !s)
		rc = err->status;
	if (rc == OK) {
		sq_bind_text(s, 1, in->name);
		sq_bind_text(s, 2, role_name(in->role));
		sq_bind_text(s, 3, in->hash);
		sq_bind_text(s, 4, in->last4);
		sq_bind_text(s, 5, in->created_at);
		sq_bind_ts(s, 6, in->expires_at);
		int src = sq_run(s);
		if (src != SQLITE_OK)
			rc = sq_fail(t.c, src, err);
	}
	if (rc == OK)
		rc = sq_token_one(t.c, a, "SELECT " TOKEN_COLS " FROM api_tokens WHERE name = ?1",
				  in->name, out, err);
	return sq_txn_end(&t, rc, err);
}

enum status sq_token_list(struct store *st, struct arena *a, struct token **out, size_t *n,
			  struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c, "SELECT " TOKEN_COLS " FROM api_tokens ORDER BY name",
				      err);
	if (!s)
		return sq_txn_end(&t, err->status, err);
	size_t cap = 16, count = 0;
	struct token *rows = arena_alloc(a, cap * sizeof(*rows));
	int src;
	while ((src = sq_step(s)) == SQLITE_ROW) {
		if (count == cap) {
			struct token *grown = arena_alloc(a, 2 * cap * sizeof(*grown));
			memcpy(grown, rows, cap * sizeof(*grown));
			rows = grown;
			cap *= 2;
		}
		sq_read_token(s, a, &rows[count++]);
	}
	if (src != SQLITE_DONE)
		rc = sq_fail(t.c, src, err);
	sqlite3_reset(s);
	*out = rows;
	*n = count;
	return sq_txn_end(&t, rc, err);
}

enum status sq_token_find(struct store *st, struct arena *a, const char *hash, struct token *out,
			  struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	rc = sq_token_one(t.c, a, "SELECT " TOKEN_COLS " FROM api_tokens WHERE token_hash = ?1",
			  hash, out, err);
	return sq_txn_end(&t, rc, err);
}

enum status sq_token_delete(struct store *st, struct arena *a, const char *name,
			    struct token *out, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	rc = sq_token_one(t.c, a, "SELECT " TOKEN_COLS " FROM api_tokens WHERE name = ?1", name,
			  out, err);
	sqlite3_stmt *s = rc ? NULL : sq_dyn_stmt(t.c, "DELETE FROM api_tokens WHERE id = ?1", err);
	if (rc == OK && !s)
		rc = err->status;
	if (rc == OK) {
		sqlite3_bind_int64(s, 1, out->id);
		int src = sq_run(s);
		if (src != SQLITE_OK)
			rc = sq_fail(t.c, src, err);
	}
	return sq_txn_end(&t, rc, err);
}

enum status sq_token_touch(struct store *st, const int64_t *ids, size_t n, const char *at,
			   struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	struct buf list = BUF_INIT;
	store_ids_print(&list, ids, n, '[', ']');
	sqlite3_stmt *s = sq_dyn_stmt(t.c,
		"UPDATE api_tokens SET last_used_at = ?1"
		" WHERE id IN (SELECT value FROM json_each(?2))", err);
	if (!s) {
		rc = err->status;
	} else {
		sq_bind_text(s, 1, at);
		sq_bind_text(s, 2, list.data);
		int src = sq_run(s);
		if (src != SQLITE_OK)
			rc = sq_fail(t.c, src, err);
	}
	buf_release(&list);
	return sq_txn_end(&t, rc, err);
}

enum status sq_audit_append(struct store *st, const struct audit_entry *e, struct error *err)
{
	/* An append: it touches no insight, so the group's pending index entries can wait. */
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_APPEND, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c,
		"INSERT INTO audit_log (time, actor, role, action, resource, resource_id,"
		" request_id, changes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", err);
	if (!s) {
		rc = err->status;
	} else {
		sq_bind_text(s, 1, e->time);
		sq_bind_text(s, 2, e->actor);
		sq_bind_text(s, 3, e->role);
		sq_bind_text(s, 4, e->action);
		sq_bind_text(s, 5, e->resource);
		sq_bind_id(s, 6, e->resource_id);
		sq_bind_text(s, 7, e->request_id);
		sq_bind_text(s, 8, e->changes);
		int src = sq_run(s);
		if (src != SQLITE_OK)
			rc = sq_fail(t.c, src, err);
	}
	return sq_txn_end(&t, rc, err);
}

/* The WHERE clause of an audit filter, its values as ?1..?6 (NULL: no condition). */
#define SQ_AUDIT_WHERE                                                        \
	" WHERE (?1 IS NULL OR resource = ?1) AND (?2 IS NULL OR resource_id = ?2)" \
	" AND (?3 IS NULL OR actor = ?3) AND (?4 IS NULL OR time >= ?4)"           \
	" AND (?5 IS NULL OR time <= ?5)"

static void sq_bind_audit_filter(sqlite3_stmt *s, const struct audit_filter *f)
{
	sq_bind_text(s, 1, f->resource);
	if (f->resource_id_set)
		sqlite3_bind_int64(s, 2, f->resource_id);
	else
		sqlite3_bind_null(s, 2);
	sq_bind_text(s, 3, f->actor);
	sq_bind_text(s, 4, f->since);
	sq_bind_text(s, 5, f->until);
}

enum status sq_audit_find(struct store *st, struct arena *a, const struct audit_filter *f,
			  struct audit_page *out, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c, "SELECT count(*) FROM audit_log" SQ_AUDIT_WHERE, err);
	if (!s)
		return sq_txn_end(&t, err->status, err);
	sq_bind_audit_filter(s, f);
	int src = sq_step(s);
	if (src == SQLITE_ROW)
		out->total = sqlite3_column_int64(s, 0);
	else
		rc = sq_fail(t.c, src, err);
	sqlite3_reset(s);
	if (rc == OK && out->total > (f->page - 1) * f->page_size) {
		s = sq_dyn_stmt(t.c, "SELECT " AUDIT_COLS " FROM audit_log" SQ_AUDIT_WHERE
				" ORDER BY id DESC LIMIT ?6 OFFSET ?7", err);
		if (!s)
			return sq_txn_end(&t, err->status, err);
		sq_bind_audit_filter(s, f);
		sqlite3_bind_int64(s, 6, f->page_size);
		sqlite3_bind_int64(s, 7, (f->page - 1) * f->page_size);
		out->items = arena_alloc(a, (size_t)f->page_size * sizeof(*out->items));
		while ((src = sq_step(s)) == SQLITE_ROW && out->n < (size_t)f->page_size) {
			struct audit_entry *e = &out->items[out->n++];
			memset(e, 0, sizeof(*e));
			e->id = sqlite3_column_int64(s, 0);
			struct store_row row = sq_row(s);
			store_read_ts(&row, 1, e->time);
			e->actor = sq_col_text(s, 2, a);
			e->role = sq_col_text(s, 3, a);
			e->action = sq_col_text(s, 4, a);
			e->resource = sq_col_text(s, 5, a);
			e->resource_id = sqlite3_column_int64(s, 6);
			e->request_id = sq_col_text(s, 7, a);
			e->changes = sq_col_text(s, 8, a);
		}
		if (src != SQLITE_DONE && src != SQLITE_ROW)
			rc = sq_fail(t.c, src, err);
		sqlite3_reset(s);
	}
	return sq_txn_end(&t, rc, err);
}

enum status sq_audit_prune(struct store *st, const char *before, int64_t *deleted,
			   struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c, "DELETE FROM audit_log WHERE time < ?1", err);
	if (!s) {
		rc = err->status;
	} else {
		sq_bind_text(s, 1, before);
		int src = sq_run(s);
		if (src != SQLITE_OK)
			rc = sq_fail(t.c, src, err);
		else
			*deleted = sqlite3_changes(t.c->db);
	}
	return sq_txn_end(&t, rc, err);
}
