/*
 * idem.c: the SQLite driver's idempotency keys (store.h's idem_*
 * operations). Writes are serialised by the driver (txn.c), so a claim's
 * "only if" is a plain INSERT OR IGNORE or a conditional UPDATE whose
 * changed-row count says whether it took.
 */
#include "store/sqlite/sqlite.h"

#include <string.h>

#include "lib/banned.h"

#define IDEM_COLS "actor, key, target, fingerprint, token, created_at, status, body"

enum status sq_idem_get(struct store *st, struct arena *a, const char *actor, const char *key,
			struct idem_row *out, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_READ, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c, "SELECT " IDEM_COLS " FROM idempotency_keys"
				      " WHERE actor = ?1 AND key = ?2", err);
	if (!s)
		return sq_txn_end(&t, err->status, err);
	sq_bind_text(s, 1, actor);
	sq_bind_text(s, 2, key);
	int src = sq_step(s);
	if (src == SQLITE_ROW) {
		out->actor = sq_col_text(s, 0, a);
		out->key = sq_col_text(s, 1, a);
		out->target = sq_col_text(s, 2, a);
		out->fingerprint = sq_col_text(s, 3, a);
		out->token = sq_col_text(s, 4, a);
		out->created_at = sqlite3_column_int64(s, 5);
		out->status = sqlite3_column_int(s, 6);
		out->body = sq_col_text(s, 7, a);
		out->body_len = out->body ? (size_t)sqlite3_column_bytes(s, 7) : 0;
	} else if (src == SQLITE_DONE) {
		rc = error_set(err, E_NOTFOUND, "Idempotency key not found");
	} else {
		rc = sq_fail(t.c, src, err);
	}
	sqlite3_reset(s);
	return sq_txn_end(&t, rc, err);
}

/* Runs a write statement prepared by the caller; *changes gets the rows it touched. */
static enum status sq_idem_run(struct sq_txn *t, sqlite3_stmt *s, int *changes,
			       struct error *err)
{
	int src = sq_run(s);
	if (src != SQLITE_OK)
		return sq_fail(t->c, src, err);
	*changes = sqlite3_changes(t->c->db);
	return OK;
}

enum status sq_idem_put(struct store *st, const struct idem_row *row, const char *replaces,
			struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c, replaces
		? "UPDATE idempotency_keys SET target = ?3, fingerprint = ?4, token = ?5,"
		  " created_at = ?6, status = 0, body = NULL"
		  " WHERE actor = ?1 AND key = ?2 AND token = ?7"
		: "INSERT OR IGNORE INTO idempotency_keys"
		  " (actor, key, target, fingerprint, token, created_at)"
		  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", err);
	int changes = 0;
	if (!s) {
		rc = err->status;
	} else {
		sq_bind_text(s, 1, row->actor);
		sq_bind_text(s, 2, row->key);
		sq_bind_text(s, 3, row->target);
		sq_bind_text(s, 4, row->fingerprint);
		sq_bind_text(s, 5, row->token);
		sqlite3_bind_int64(s, 6, row->created_at);
		if (replaces)
			sq_bind_text(s, 7, replaces);
		rc = sq_idem_run(&t, s, &changes, err);
	}
	if (rc == OK && changes == 0)
		rc = error_set(err, E_CONFLICT, "The idempotency key was claimed by another request");
	return sq_txn_end(&t, rc, err);
}

enum status sq_idem_finish(struct store *st, const struct idem_row *answer, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c,
		"UPDATE idempotency_keys SET status = ?4, body = ?5"
		" WHERE actor = ?1 AND key = ?2 AND token = ?3 AND status = 0", err);
	int changes = 0;
	if (!s) {
		rc = err->status;
	} else {
		sq_bind_text(s, 1, answer->actor);
		sq_bind_text(s, 2, answer->key);
		sq_bind_text(s, 3, answer->token);
		sqlite3_bind_int(s, 4, answer->status);
		sqlite3_bind_text(s, 5, answer->body, (int)answer->body_len, SQLITE_STATIC);
		rc = sq_idem_run(&t, s, &changes, err);
	}
	if (rc == OK && changes == 0)
		rc = error_set(err, E_CONFLICT, "The idempotency key was claimed by another request");
	return sq_txn_end(&t, rc, err);
}

enum status sq_idem_release(struct store *st, const char *actor, const char *key,
			    const char *token, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c, "DELETE FROM idempotency_keys"
				      " WHERE actor = ?1 AND key = ?2 AND token = ?3 AND status = 0",
				      err);
	int changes = 0;
	if (!s) {
		rc = err->status;
	} else {
		sq_bind_text(s, 1, actor);
		sq_bind_text(s, 2, key);
		sq_bind_text(s, 3, token);
		rc = sq_idem_run(&t, s, &changes, err);
	}
	return sq_txn_end(&t, rc, err);
}

enum status sq_idem_prune(struct store *st, int64_t before, int64_t *deleted, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_dyn_stmt(t.c, "DELETE FROM idempotency_keys WHERE created_at < ?1",
				      err);
	int changes = 0;
	if (!s) {
		rc = err->status;
	} else {
		sqlite3_bind_int64(s, 1, before);
		rc = sq_idem_run(&t, s, &changes, err);
		*deleted = changes;
	}
	return sq_txn_end(&t, rc, err);
}
