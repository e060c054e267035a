/*
 * run.c: running one call of the PostgreSQL driver: a connection of the
 * right pool, a deadline, a transaction when the call needs one, retries,
 * and the notification of other instances after a write.
 *
 * Transactions: every write is one READ COMMITTED transaction that locks
 * what it relies on before reading it, always in the same order (the
 * insight row, then its category, then its tags by ascending id, then the
 * insight_counts rows the triggers move), so that concurrent writers queue
 * instead of deadlocking or reading stale rows; a deadlock or serialization
 * failure that still happens is retried a few times after a short random
 * pause. Reads of more than one statement run in one REPEATABLE READ
 * READ ONLY transaction: one snapshot, as the contract asks. Nothing is
 * retried across a COMMIT whose outcome is unknown.
 *
 * Time limits: every call has a deadline of query_timeout (waiting for a
 * connection included). The server enforces it per statement
 * (statement_timeout); the client gives it PG_CLIENT_GRACE_MS more and
 * then drops the connection.
 *
 * Other instances: after each write commits, the connection that made it
 * sends a notification (NOTIFY_SQL); listening instances (listen.c) bump
 * their data version, so that their response caches drop what they
 * computed before. Notifying after the commit, in a transaction of its own
 * without a synchronous flush, keeps commits from queueing on the server's
 * global notification lock. A notification that is lost (the writer's
 * connection broke just after its commit) leaves other instances' caches to
 * expire.
 */
#include "store/pg/pg.h"

#include <stdlib.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/banned.h"

/* Attempts of a transaction that hits a deadlock or serialization failure. */
#define MAX_ATTEMPTS 5
/*
 * One statement in a transaction of its own: the next data version, sent
 * with the notification; the commit does not wait for its flush.
 */
#define NOTIFY_SQL                                                                  \
	"SELECT n.v, pg_notify('" PG_CHANNEL "', n.v::text),"                      \
	" set_config('synchronous_commit', 'off', true)"                           \
	" FROM (SELECT nextval('insights_data_version') AS v) n"

/*
 * Tells the listening instances that a write committed, with the data
 * version it takes (store_set_write_version). Best effort: the write stands
 * whatever happens here, and a failure only costs the other instances'
 * caches their freshness until they expire.
 */
static void pg_notify_others(struct pg_conn *c)
{
	struct error ignored = ERROR_INIT;
	struct pg_params none = { 0 };
	PGresult *r = NULL;
	if (pg_q_built(c, NOTIFY_SQL, &none, &r, &ignored) != OK) {
		log_warn("postgresql: could not notify other instances of a write");
		return;
	}
	if (PQntuples(r) == 1)
		store_set_write_version((uint64_t)pg_col_int(r, 0, 0));
	PQclear(r);
}

static bool pg_retryable(const struct pg_conn *c)
{
	if (pg_state_is(c, "40001") || pg_state_is(c, "40P01"))
		return true;
	/*
	 * A connection that broke before COMMIT was sent left nothing behind:
	 * the server rolled back. Typically an idle connection to a server that
	 * restarted since; the next attempt connects again.
	 */
	return c->broken && !c->timed_out && !c->committing;
}

/* Sleeps a random 1..2^attempt * 8 ms, so that retrying transactions do not collide again. */
static void pg_backoff(int attempt)
{
	static _Thread_local unsigned seed;
	if (!seed)
		seed = (unsigned)clock_mono_ns() ^ (unsigned)(uintptr_t)&seed;
	unsigned ms = 1 + (unsigned)rand_r(&seed) % (8u << attempt);
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000 };
	nanosleep(&ts, NULL);
}

/*
 * Runs `body` on a connection of the right pool, inside a transaction when
 * the mode asks for one: committed when the body returns OK, rolled back
 * otherwise. Deadlocks, serialization failures and connections lost before
 * COMMIT are retried (the body runs again from the start and must not rely
 * on what a failed attempt left in its outputs).
 */
/* The calling thread's batch (see store.h), when it has one open. */
struct pg_batch {
	struct pg_store *s;
	struct pg_conn *c;
	/* A write ran since the deferred triggers last fired (see pg_run_in_batch). */
	bool deferred;
};

static _Thread_local struct pg_batch pg_batch_now;

bool pg_in_batch(struct pg_store *s)
{
	return pg_batch_now.s == s && pg_batch_now.c;
}

/*
 * The setting ends with the search's own transaction, or explicitly after
 * the search when it runs in a batch's, which goes on.
 */
static enum status pg_body_search(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	enum status rc = pg_q_fixed(c, P_SEARCH_PLAN, NULL, NULL, err);
	if (rc == OK)
		rc = op->search_body(c, op, err);
	if (rc == OK && op->in_batch)
		rc = pg_q_fixed(c, P_SEARCH_PLAN_END, NULL, NULL, err);
	return rc;
}

enum status pg_run_search(struct pg_store *s, pg_run_body body, struct pg_op *op,
			  struct error *err)
{
	op->search_body = body;
	op->in_batch = pg_in_batch(s);
	return pg_run(s, PG_RUN_SNAPSHOT, pg_body_search, op, err);
}

/*
 * A call inside the thread's batch: on its connection, in its
 * transaction, without retries (the batch as a whole succeeds or not).
 * Bodies that open and close their own snapshot (PG_RUN_PIPELINE) are
 * never run here: their callers choose another body in a batch.
 */
static enum status pg_run_in_batch(struct pg_store *s, enum pg_run_mode mode, pg_run_body body,
				   struct pg_op *op, struct error *err)
{
	struct pg_conn *c = pg_batch_now.c;
	if (mode == PG_RUN_PIPELINE)
		return error_set(err, E_INTERNAL, "a pipelined read cannot run in a batch");
	uint64_t timeout_ns = (uint64_t)s->cfg.query_timeout_ms * 1000000u;
	c->deadline_ns = timeout_ns
		? clock_mono_ns() + timeout_ns + (uint64_t)PG_CLIENT_GRACE_MS * 1000000u : 0;
	if (mode == PG_RUN_WRITE) {
		pg_batch_now.deferred = true;
		return body(c, op, err);
	}
	/*
	 * The counters' triggers are deferred to COMMIT (see the schema): a
	 * read in the batch after its writes fires them first, so that it sees
	 * the counts those writes make (their rows stay locked until the
	 * batch ends, as a write's would).
	 */
	if (pg_batch_now.deferred) {
		struct pg_params none = { 0 };
		enum status rc = pg_q_built(c, "SET CONSTRAINTS ALL IMMEDIATE", &none, NULL, err);
		if (rc == OK)
			rc = pg_q_built(c, "SET CONSTRAINTS ALL DEFERRED", &none, NULL, err);
		if (rc)
			return rc;
		pg_batch_now.deferred = false;
	}
	return body(c, op, err);
}

enum status pg_batch_begin(struct store *st, struct error *err)
{
	struct pg_store *s = pg_of(st);
	if (pg_batch_now.c)
		return error_set(err, E_INTERNAL, "a batch is already open on this thread");
	uint64_t timeout_ns = (uint64_t)s->cfg.query_timeout_ms * 1000000u;
	uint64_t wait_until = timeout_ns ? clock_mono_ns() + timeout_ns : 0;
	struct pg_conn *c;
	enum status rc = pg_conn_take(&s->primary, wait_until, 0, &c, err);
	if (rc)
		return rc;
	c->deadline_ns = wait_until ? wait_until + (uint64_t)PG_CLIENT_GRACE_MS * 1000000u : 0;
	rc = pg_q_fixed(c, P_BEGIN, NULL, NULL, err);
	if (rc) {
		pg_conn_give(c);
		return rc;
	}
	pg_batch_now = (struct pg_batch){ .s = s, .c = c };
	return OK;
}

enum status pg_batch_end(struct store *st, bool commit, struct error *err)
{
	struct pg_store *s = pg_of(st);
	if (!pg_in_batch(s))
		return error_set(err, E_INTERNAL, "no batch is open on this thread");
	struct pg_conn *c = pg_batch_now.c;
	pg_batch_now = (struct pg_batch){ 0 };
	uint64_t timeout_ns = (uint64_t)s->cfg.query_timeout_ms * 1000000u;
	c->deadline_ns = timeout_ns
		? clock_mono_ns() + timeout_ns + (uint64_t)PG_CLIENT_GRACE_MS * 1000000u : 0;
	enum status rc = OK;
	if (!c->broken && PQtransactionStatus(c->db) != PQTRANS_IDLE) {
		if (commit && PQtransactionStatus(c->db) == PQTRANS_INTRANS) {
			c->committing = true;
			rc = pg_q_fixed(c, P_COMMIT, NULL, NULL, err);
		} else {
			struct error ignored = ERROR_INIT;
			pg_q_fixed(c, P_ROLLBACK, NULL, NULL, &ignored);
			if (commit)
				rc = error_set(err, E_UNAVAILABLE, "The database could not commit the change");
		}
	} else if (commit) {
		rc = pg_fail(c, NULL, err);
	}
	if (rc == OK && commit && !c->broken)
		pg_notify_others(c);
	pg_conn_give(c);
	return rc;
}

enum status pg_run(struct pg_store *s, enum pg_run_mode mode, pg_run_body body, struct pg_op *op,
		   struct error *err)
{
	if (pg_in_batch(s))
		return pg_run_in_batch(s, mode, body, op, err);
	struct pg_pool *pool =
		(mode == PG_RUN_READ || mode == PG_RUN_SNAPSHOT || mode == PG_RUN_PIPELINE) && s->replica
		? s->replica : &s->primary;
	uint64_t start = clock_mono_ns();
	uint64_t timeout_ns = (uint64_t)s->cfg.query_timeout_ms * 1000000u;
	uint64_t wait_until = 0, deadline = 0;
	if (mode != PG_RUN_MAINTENANCE && timeout_ns) {
		wait_until = start + timeout_ns;
		deadline = wait_until + (uint64_t)PG_CLIENT_GRACE_MS * 1000000u;
	}
	bool txn = mode == PG_RUN_SNAPSHOT || mode == PG_RUN_WRITE || mode == PG_RUN_MAINTENANCE;
	for (int attempt = 1;; attempt++) {
		struct pg_conn *c = NULL;
		enum status rc = pg_conn_take(pool, wait_until, deadline, &c, err);
		if (rc)
			return rc;
		c->deadline_ns = deadline;
		if (txn)
			rc = pg_q_fixed(c, mode == PG_RUN_SNAPSHOT ? P_BEGIN_SNAPSHOT : P_BEGIN, NULL, NULL, err);
		if (rc == OK)
			rc = body(c, op, err);
		if (txn && !c->broken) {
			if (rc == OK) {
				c->committing = true;
				rc = pg_q_fixed(c, P_COMMIT, NULL, NULL, err);
			} else if (PQtransactionStatus(c->db) != PQTRANS_IDLE) {
				struct error ignored = ERROR_INIT;
				pg_q_fixed(c, P_ROLLBACK, NULL, NULL, &ignored);
			}
		} else if (mode == PG_RUN_PIPELINE && !c->broken &&
			   PQtransactionStatus(c->db) != PQTRANS_IDLE) {
			/* A pipeline that failed between its BEGIN and its COMMIT. */
			struct error ignored = ERROR_INIT;
			pg_q_fixed(c, P_ROLLBACK, NULL, NULL, &ignored);
		}
		if (rc == OK && (mode == PG_RUN_WRITE || mode == PG_RUN_MAINTENANCE) && !c->broken)
			pg_notify_others(c);
		bool again = rc != OK && attempt < MAX_ATTEMPTS && pg_retryable(c) &&
			     (!deadline || clock_mono_ns() < wait_until);
		pg_conn_give(c);
		if (!again)
			return rc;
		log_debug("postgresql: retrying a transaction (attempt %d)", attempt + 1);
		error_clear(err);
		pg_backoff(attempt);
	}
}
