/*
 * idem.c: the PostgreSQL driver's idempotency keys (store.h's idem_*
 * operations), with the same table and rules as on SQLite. Instances share
 * the rows: a claim is an INSERT ... ON CONFLICT DO NOTHING or an UPDATE
 * conditioned on the token it replaces, which READ COMMITTED re-checks on
 * the latest version of the row, so that of two instances racing for a key
 * exactly one takes it. The answer is stored by an UPDATE conditioned on
 * the claimer's token in the write's own transaction: it locks the row
 * until that commits, so a takeover racing with it waits, then finds the
 * row answered and does not take it.
 */
#include "store/pg/pg.h"

#include <stdlib.h>
#include <string.h>

#include "lib/banned.h"

#define IDEM_COLS "actor, key, target, fingerprint, token, created_at, status, body"

static enum status pg_body_idem_get(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_text(&p, op->idem_in->actor);
	pg_p_text(&p, op->idem_in->key);
	PGresult *r;
	enum status rc = pg_q_built(c, "SELECT " IDEM_COLS " FROM idempotency_keys"
				    " WHERE actor = $1 AND key = $2", &p, &r, err);
	if (rc)
		return rc;
	if (PQntuples(r) == 0) {
		rc = error_set(err, E_NOTFOUND, "Idempotency key not found");
	} else {
		struct idem_row *out = op->out;
		out->actor = pg_col_text(r, 0, 0, op->a);
		out->key = pg_col_text(r, 0, 1, op->a);
		out->target = pg_col_text(r, 0, 2, op->a);
		out->fingerprint = pg_col_text(r, 0, 3, op->a);
		out->token = pg_col_text(r, 0, 4, op->a);
		out->created_at = pg_col_int(r, 0, 5);
		out->status = (int)pg_col_int(r, 0, 6);
		out->body = pg_col_text(r, 0, 7, op->a);
		out->body_len = out->body ? (size_t)PQgetlength(r, 0, 7) : 0;
	}
	PQclear(r);
	return rc;
}

enum status pg_idem_get(struct store *st, struct arena *a, const char *actor, const char *key,
			struct idem_row *out, struct error *err)
{
	/* On the primary: a claim another instance just made must be seen. */
	struct idem_row want = { .actor = actor, .key = key };
	struct pg_op op = { .a = a, .idem_in = &want, .out = out };
	return pg_run(pg_of(st), PG_RUN_PRIMARY, pg_body_idem_get, &op, err);
}

/* Runs a write; E_CONFLICT with `clash` when it touched no row. */
static enum status pg_idem_write(struct pg_conn *c, const char *sql, const struct pg_params *p,
				 const char *clash, struct error *err)
{
	PGresult *r;
	enum status rc = pg_q_built(c, sql, p, &r, err);
	if (rc)
		return rc;
	if (clash && strtoll(PQcmdTuples(r), NULL, 10) == 0)
		rc = error_set(err, E_CONFLICT, "%s", clash);
	PQclear(r);
	return rc;
}

#define PG_IDEM_TAKEN "The idempotency key was claimed by another request"

static enum status pg_body_idem_put(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	const struct idem_row *row = op->idem_in;
	struct pg_params p = { 0 };
	pg_p_text(&p, row->actor);
	pg_p_text(&p, row->key);
	pg_p_text(&p, row->target);
	pg_p_text(&p, row->fingerprint);
	pg_p_text(&p, row->token);
	pg_p_int(&p, row->created_at);
	if (!op->key)
		return pg_idem_write(c, "INSERT INTO idempotency_keys"
				     " (actor, key, target, fingerprint, token, created_at)"
				     " VALUES ($1, $2, $3, $4, $5, $6)"
				     " ON CONFLICT (actor, key) DO NOTHING", &p, PG_IDEM_TAKEN, err);
	pg_p_text(&p, op->key);
	return pg_idem_write(c, "UPDATE idempotency_keys SET target = $3, fingerprint = $4,"
			     " token = $5, created_at = $6, status = 0, body = NULL"
			     " WHERE actor = $1 AND key = $2 AND token = $7", &p, PG_IDEM_TAKEN, err);
}

enum status pg_idem_put(struct store *st, const struct idem_row *row, const char *replaces,
			struct error *err)
{
	struct pg_op op = { .idem_in = row, .key = replaces };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_idem_put, &op, err);
}

static enum status pg_body_idem_finish(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	const struct idem_row *answer = op->idem_in;
	struct pg_params p = { 0 };
	pg_p_text(&p, answer->actor);
	pg_p_text(&p, answer->key);
	pg_p_text(&p, answer->token);
	pg_p_int(&p, answer->status);
	pg_p_text(&p, answer->body);
	return pg_idem_write(c, "UPDATE idempotency_keys SET status = $4, body = $5"
			     " WHERE actor = $1 AND key = $2 AND token = $3 AND status = 0", &p,
			     PG_IDEM_TAKEN, err);
}

enum status pg_idem_finish(struct store *st, const struct idem_row *answer, struct error *err)
{
	struct pg_op op = { .idem_in = answer };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_idem_finish, &op, err);
}

static enum status pg_body_idem_release(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_text(&p, op->idem_in->actor);
	pg_p_text(&p, op->idem_in->key);
	pg_p_text(&p, op->idem_in->token);
	return pg_idem_write(c, "DELETE FROM idempotency_keys"
			     " WHERE actor = $1 AND key = $2 AND token = $3 AND status = 0", &p,
			     NULL, err);
}

enum status pg_idem_release(struct store *st, const char *actor, const char *key,
			    const char *token, struct error *err)
{
	struct idem_row claim = { .actor = actor, .key = key, .token = token };
	struct pg_op op = { .idem_in = &claim };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_idem_release, &op, err);
}

static enum status pg_body_idem_prune(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_int(&p, op->id);
	PGresult *r;
	enum status rc = pg_q_built(c, "DELETE FROM idempotency_keys WHERE created_at < $1", &p,
				    &r, err);
	if (rc)
		return rc;
	*op->tally = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return OK;
}

enum status pg_idem_prune(struct store *st, int64_t before, int64_t *deleted, struct error *err)
{
	struct pg_op op = { .id = before, .tally = deleted };
	return pg_run(pg_of(st), PG_RUN_MAINTENANCE, pg_body_idem_prune, &op, err);
}
