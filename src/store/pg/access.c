/*
 * access.c: the PostgreSQL driver's API tokens and audit trail (store.h's
 * token_* and audit_* operations), with the same columns and rules as on
 * SQLite. Timestamps are text in the API's format; comparisons use the "C"
 * collation so that they order as time does whatever the database's.
 */
#include "store/pg/pg.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/banned.h"

#define TOKEN_COLS "id, name, role, token_hash, last4, created_at, expires_at, last_used_at"
#define AUDIT_COLS \
	"id, time, actor, role, action, resource, resource_id, request_id, changes"

static void pg_read_token(const PGresult *r, int row, struct arena *a, struct token *t)
{
	memset(t, 0, sizeof(*t));
	t->id = pg_col_int(r, row, 0);
	t->name = pg_col_text(r, row, 1, a);
	if (role_parse(PQgetvalue(r, row, 2), &t->role))
		t->role = ROLE_NONE;
	t->hash = pg_col_text(r, row, 3, a);
	t->last4 = pg_col_text(r, row, 4, a);
	struct store_row rr = pg_row(r, row);
	store_read_ts(&rr, 5, t->created_at);
	store_read_ts(&rr, 6, t->expires_at);
	store_read_ts(&rr, 7, t->last_used_at);
}

/* Runs `sql` with `key` as $1 and reads at most one token. */
static enum status pg_token_one(struct pg_conn *c, struct arena *a, const char *sql,
				const char *key, struct token *out, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_text(&p, key);
	PGresult *r;
	enum status rc = pg_q_built(c, sql, &p, &r, err);
	if (rc)
		return rc;
	if (PQntuples(r) == 0)
		rc = error_set(err, E_NOTFOUND, "Token not found");
	else
		pg_read_token(r, 0, a, out);
	PQclear(r);
	return rc;
}

static enum status pg_body_token_create(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	const struct token *in = op->token_in;
	struct pg_params p = { 0 };
	pg_p_text(&p, in->name);
	pg_p_text(&p, role_name(in->role));
	pg_p_text(&p, in->hash);
	pg_p_text(&p, in->last4);
	pg_p_text(&p, in->created_at);
	pg_p_ts(&p, in->expires_at);
	PGresult *r;
	/* ON CONFLICT: a name taken by a concurrent create is a conflict, not a failed transaction. */
	enum status rc = pg_q_built(c,
		"INSERT INTO api_tokens (name, role, token_hash, last4, created_at, expires_at)"
		" VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING"
		" RETURNING " TOKEN_COLS, &p, &r, err);
	if (rc)
		return rc;
	if (PQntuples(r) == 0)
		rc = error_set(err, E_CONFLICT, "Token with name '%s' already exists", in->name);
	else
		pg_read_token(r, 0, op->a, op->out);
	PQclear(r);
	return rc;
}

enum status pg_token_create(struct store *st, struct arena *a, const struct token *in,
			    struct token *out, struct error *err)
{
	struct pg_op op = { .a = a, .token_in = in, .out = out };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_token_create, &op, err);
}

static enum status pg_body_token_list(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	PGresult *r;
	struct pg_params none = { 0 };
	enum status rc = pg_q_built(c, "SELECT " TOKEN_COLS " FROM api_tokens"
				    " ORDER BY name COLLATE \"C\"", &none, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	struct token *out = arena_alloc(op->a, (size_t)(rows ? rows : 1) * sizeof(*out));
	for (int i = 0; i < rows; i++)
		pg_read_token(r, i, op->a, &out[i]);
	PQclear(r);
	*op->token_rows = out;
	*op->n = (size_t)rows;
	return OK;
}

enum status pg_token_list(struct store *st, struct arena *a, struct token **out, size_t *n,
			  struct error *err)
{
	struct pg_op op = { .a = a, .token_rows = out, .n = n };
	return pg_run(pg_of(st), PG_RUN_PRIMARY, pg_body_token_list, &op, err);
}

static enum status pg_body_token_find(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	return pg_token_one(c, op->a, "SELECT " TOKEN_COLS " FROM api_tokens WHERE token_hash = $1",
			    op->key, op->out, err);
}

enum status pg_token_find(struct store *st, struct arena *a, const char *hash, struct token *out,
			  struct error *err)
{
	/* On the primary: a token just created must work at once. */
	struct pg_op op = { .a = a, .key = hash, .out = out };
	return pg_run(pg_of(st), PG_RUN_PRIMARY, pg_body_token_find, &op, err);
}

static enum status pg_body_token_delete(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	return pg_token_one(c, op->a, "DELETE FROM api_tokens WHERE name = $1 RETURNING " TOKEN_COLS,
			    op->key, op->out, err);
}

enum status pg_token_delete(struct store *st, struct arena *a, const char *name,
			    struct token *out, struct error *err)
{
	struct pg_op op = { .a = a, .key = name, .out = out };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_token_delete, &op, err);
}

static enum status pg_body_token_touch(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct buf ids = BUF_INIT;
	store_ids_print(&ids, op->ids, op->count, '{', '}');
	struct pg_params p = { 0 };
	pg_p_text(&p, op->key);
	pg_p_text(&p, ids.data);
	enum status rc = pg_q_built(c, "UPDATE api_tokens SET last_used_at = $1"
				    " WHERE id = ANY($2::bigint[])", &p, NULL, err);
	buf_release(&ids);
	return rc;
}

enum status pg_token_touch(struct store *st, const int64_t *ids, size_t n, const char *at,
			   struct error *err)
{
	struct pg_op op = { .ids = ids, .count = n, .key = at };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_token_touch, &op, err);
}

static enum status pg_body_audit_append(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	const struct audit_entry *e = op->audit_in;
	struct pg_params p = { 0 };
	pg_p_text(&p, e->time);
	pg_p_text(&p, e->actor);
	pg_p_text(&p, e->role);
	pg_p_text(&p, e->action);
	pg_p_text(&p, e->resource);
	pg_p_id(&p, e->resource_id);
	pg_p_text(&p, e->request_id);
	pg_p_text(&p, e->changes);
	return pg_q_built(c, "INSERT INTO audit_log (time, actor, role, action, resource,"
			  " resource_id, request_id, changes)"
			  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", &p, NULL, err);
}

enum status pg_audit_append(struct store *st, const struct audit_entry *e, struct error *err)
{
	struct pg_op op = { .audit_in = e };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_audit_append, &op, err);
}

/* The WHERE clause of an audit filter, its values as $1..$5 (NULL: no condition). */
#define PG_AUDIT_WHERE                                                                  \
	" WHERE ($1::text IS NULL OR resource = $1) AND ($2::bigint IS NULL OR resource_id = $2)" \
	" AND ($3::text IS NULL OR actor = $3)"                                           \
	" AND ($4::text IS NULL OR time COLLATE \"C\" >= $4)"                             \
	" AND ($5::text IS NULL OR time COLLATE \"C\" <= $5)"

static void pg_audit_params(struct pg_params *p, const struct audit_filter *f)
{
	pg_p_text(p, f->resource);
	if (f->resource_id_set)
		pg_p_int(p, f->resource_id);
	else
		pg_p_text(p, NULL);
	pg_p_text(p, f->actor);
	pg_p_text(p, f->since);
	pg_p_text(p, f->until);
}

static enum status pg_body_audit_find(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	const struct audit_filter *f = op->audit_filter;
	struct audit_page *out = op->out;
	struct pg_params p = { 0 };
	pg_audit_params(&p, f);
	PGresult *r;
	enum status rc = pg_q_built(c, "SELECT count(*) FROM audit_log" PG_AUDIT_WHERE, &p, &r, err);
	if (rc)
		return rc;
	out->total = pg_col_int(r, 0, 0);
	PQclear(r);
	if (out->total <= (f->page - 1) * f->page_size)
		return OK;
	pg_p_int(&p, f->page_size);
	pg_p_int(&p, (f->page - 1) * f->page_size);
	rc = pg_q_built(c, "SELECT " AUDIT_COLS " FROM audit_log" PG_AUDIT_WHERE
			" ORDER BY id DESC LIMIT $6 OFFSET $7", &p, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	out->items = arena_alloc(op->a, (size_t)(rows ? rows : 1) * sizeof(*out->items));
	for (int i = 0; i < rows; i++) {
		struct audit_entry *e = &out->items[i];
		memset(e, 0, sizeof(*e));
		e->id = pg_col_int(r, i, 0);
		struct store_row rr = pg_row(r, i);
		store_read_ts(&rr, 1, e->time);
		e->actor = pg_col_text(r, i, 2, op->a);
		e->role = pg_col_text(r, i, 3, op->a);
		e->action = pg_col_text(r, i, 4, op->a);
		e->resource = pg_col_text(r, i, 5, op->a);
		e->resource_id = pg_col_int(r, i, 6);
		e->request_id = pg_col_text(r, i, 7, op->a);
		e->changes = pg_col_text(r, i, 8, op->a);
	}
	out->n = (size_t)rows;
	PQclear(r);
	return OK;
}

enum status pg_audit_find(struct store *st, struct arena *a, const struct audit_filter *f,
			  struct audit_page *out, struct error *err)
{
	struct pg_op op = { .a = a, .audit_filter = f, .out = out };
	/* In one snapshot: the total and the page agree. */
	return pg_run(pg_of(st), PG_RUN_SNAPSHOT, pg_body_audit_find, &op, err);
}

static enum status pg_body_audit_prune(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_text(&p, op->key);
	PGresult *r;
	enum status rc = pg_q_built(c, "DELETE FROM audit_log WHERE time COLLATE \"C\" < $1", &p,
				    &r, err);
	if (rc)
		return rc;
	*op->tally = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return OK;
}

enum status pg_audit_prune(struct store *st, const char *before, int64_t *deleted,
			   struct error *err)
{
	struct pg_op op = { .key = before, .tally = deleted };
	return pg_run(pg_of(st), PG_RUN_MAINTENANCE, pg_body_audit_prune, &op, err);
}
