/*
 * txn.c: the SQLite driver's transactions.
 *
 * The file runs in WAL mode, so readers never wait for the writer. Reads of
 * more than one statement run in one read transaction, so that a response
 * is one consistent snapshot.
 *
 * Writes are serialised inside the process by write_lock, so that
 * concurrent requests queue on a mutex instead of sleeping in SQLite's busy
 * handler (the busy timeout still covers other processes, a `recount-tags`
 * run say), and their commits are grouped. Each write runs in a savepoint
 * of a shared transaction on the writer connection; when the write is done
 * and other writers are already queued for the write lock, the transaction
 * is left open for them and the finished write waits until a later member
 * of its group commits it. The last member of a group (no one queued, or the
 * group is full) commits for all and wakes them. A write is acknowledged
 * only once its group's COMMIT has succeeded, so it is as durable as with
 * one transaction per write, while the cost of a commit (WAL appends, the
 * FTS5 segment flush) is shared by the group.
 *
 * A write that fails rolls back to its savepoint: the other members of the
 * group are not affected. A failing COMMIT (or SQLite abandoning the
 * transaction, which it does on some I/O errors) fails every member. No
 * statement of a group is ever interrupted by the query timeout: SQLite
 * rolls back the whole transaction of an interrupted write, which would
 * fail the other members too.
 */
#include "store/sqlite/sqlite.h"

#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>

#include "lib/log.h"
#include "lib/banned.h"

#define GROUP_MAX 64

/*
 * FTS5 flushes its pending terms into a new segment at every savepoint,
 * and SQLite opens one for every statement of an explicit transaction that
 * may abort: indexing each new insight from a trigger would write (and
 * later merge) one segment per insight. New insights are therefore indexed
 * by one statement just before their group commits (sq_fts_flush), which
 * writes one segment for the whole group. Any other write flushes first,
 * so that updates and deletes always find the rows they change in the
 * index.
 */

/* A write waiting for its group's commit; lives on the waiter's stack. */
struct sq_group_member {
	bool done;
	bool committed;
	struct sq_group_member *next;
};

static bool sq_group_finish(struct sq_store *s, bool commit);

/*
 * Indexes the insights the open group inserted since its last flush (see
 * struct sq_store). Holds write_lock.
 */
static int sq_fts_flush(struct sq_store *s)
{
	size_t from = s->fts_flushed, to = s->fts_pending.len;
	if (from == to)
		return SQLITE_OK;
	struct buf ids = BUF_INIT;
	buf_addch(&ids, '[');
	buf_add(&ids, s->fts_pending.data + from, to - from - 1); /* without the last comma */
	buf_addch(&ids, ']');
	struct error err = ERROR_INIT; /* the caller reports the failure */
	int src = SQLITE_OK;
	/* The word index, then the substring index (migration 4). */
	static const enum sq_stmt adds[] = { S_FTS_ADD, S_TRGM_ADD };
	for (size_t i = 0; src == SQLITE_OK && i < sizeof(adds) / sizeof(adds[0]); i++) {
		sqlite3_stmt *q = sq_stmt(s->writer, adds[i], &err);
		src = SQLITE_ERROR;
		if (q) {
			sqlite3_bind_text(q, 1, ids.data, (int)ids.len, SQLITE_STATIC);
			src = sq_run(q);
		}
	}
	buf_release(&ids);
	if (src == SQLITE_OK)
		s->fts_flushed = to;
	return src;
}

/* Forgets the group's ids: it ended. */
static void sq_fts_forget(struct sq_store *s)
{
	buf_reset(&s->fts_pending);
	s->fts_flushed = 0;
}

/* Undoes what the write `t` added or indexed: it was rolled back to its savepoint. */
static void sq_fts_rewind(struct sq_store *s, const struct sq_txn *t)
{
	buf_truncate(&s->fts_pending, t->fts_mark);
	s->fts_flushed = t->fts_flushed;
}

void sq_fts_defer(struct sq_store *s, int64_t id)
{
	buf_addf(&s->fts_pending, "%" PRId64 ",", id);
}

/* The calling thread's batch, when it has one open. */
struct sq_batch {
	struct sq_store *s;
	struct sq_txn t;
};

static _Thread_local struct sq_batch *sq_batch_now;

struct sq_conn *sq_batch_conn(struct sq_store *s)
{
	return sq_batch_now && sq_batch_now->s == s ? sq_batch_now->t.c : NULL;
}

/*
 * A transaction inside the thread's batch: a write is a savepoint of it
 * (so that a failed write is undone alone, as outside a batch), a read
 * reads on its connection.
 */
static enum status sq_txn_nested(struct sq_store *s, enum sq_txn_mode mode, struct sq_txn *t,
				 struct error *err)
{
	t->nested = true;
	t->c = sq_batch_now->t.c;
	if (!t->write)
		return OK;
	int src = mode == SQ_APPEND ? SQLITE_OK : sq_fts_flush(s);
	if (src == SQLITE_OK)
		src = sq_exec(t->c, "SAVEPOINT n");
	t->fts_mark = s->fts_pending.len;
	t->fts_flushed = s->fts_flushed;
	return src == SQLITE_OK ? OK : sq_fail(t->c, src, err);
}

static enum status sq_txn_nested_end(struct sq_txn *t, enum status rc, struct error *err)
{
	if (t->write) {
		struct sq_store *s = t->s;
		int src = SQLITE_OK;
		if (rc != OK) {
			src = sq_exec(t->c, "ROLLBACK TO n");
			sq_fts_rewind(s, t);
		}
		if (src == SQLITE_OK)
			src = sq_exec(t->c, "RELEASE n");
		if (src != SQLITE_OK && rc == OK)
			rc = sq_fail(t->c, src, err);
	}
	t->c = NULL;
	return rc;
}

enum status sq_txn_begin(struct sq_store *s, enum sq_txn_mode mode, struct sq_txn *t,
			 struct error *err)
{
	t->s = s;
	t->write = mode != SQ_READ;
	t->c = NULL;
	t->nested = false;
	if (sq_batch_now && sq_batch_now->s == s)
		return sq_txn_nested(s, mode, t, err);
	if (!t->write) {
		enum status rc = sq_conn_take(s, &t->c, err);
		if (rc == OK)
			rc = sq_run_fixed(t->c, S_BEGIN, err);
		if (rc != OK && t->c) {
			sq_conn_give(s, t->c);
			t->c = NULL;
		}
		return rc;
	}

	atomic_fetch_add(&s->queued, 1);
	pthread_mutex_lock(&s->write_lock);
	atomic_fetch_sub(&s->queued, 1);
	enum status rc = OK;
	if (!s->writer) {
		rc = sq_conn_take(s, &s->writer, err);
		if (rc == OK) {
			s->writer->deadline_ns = 0; /* see the header: never interrupted */
			rc = sq_run_fixed(s->writer, S_BEGIN_IMMEDIATE, err);
			if (rc != OK) {
				sq_conn_give(s, s->writer);
				s->writer = NULL;
			}
		}
		if (rc == OK)
			s->group_size = 0;
	}
	if (rc == OK) {
		t->c = s->writer;
		int src = mode == SQ_APPEND ? SQLITE_OK : sq_fts_flush(s);
		if (src == SQLITE_OK)
			src = sq_exec(t->c, "SAVEPOINT w");
		if (src != SQLITE_OK) {
			rc = sq_fail(t->c, src, err);
			/* The group may hold half of its index: it cannot commit. */
			sq_group_finish(s, false);
		}
	}
	t->fts_mark = s->fts_pending.len;
	t->fts_flushed = s->fts_flushed;
	if (rc != OK) {
		t->c = NULL;
		pthread_mutex_unlock(&s->write_lock);
	}
	return rc;
}

/*
 * Commits (or rolls back) the open group, tells every waiting member how
 * it ended and wakes them. Returns whether the group committed.
 */
static bool sq_group_finish(struct sq_store *s, bool commit)
{
	struct sq_conn *c = s->writer;
	bool ok = commit && !sqlite3_get_autocommit(c->db);
	if (ok && sq_fts_flush(s) != SQLITE_OK) {
		log_error("sqlite: indexing the group failed: %s", sqlite3_errmsg(c->db));
		ok = false;
	}
	sq_fts_forget(s);
	if (ok && sq_exec(c, "COMMIT") != SQLITE_OK) {
		log_error("sqlite: group commit failed: %s", sqlite3_errmsg(c->db));
		ok = false;
	}
	if (!ok && !sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	for (struct sq_group_member *m = s->members; m; m = m->next) {
		m->committed = ok;
		m->done = true;
	}
	s->members = NULL;
	s->writer = NULL;
	sq_conn_give(s, c);
	pthread_cond_broadcast(&s->committed);
	return ok;
}

enum status sq_txn_end(struct sq_txn *t, enum status rc, struct error *err)
{
	struct sq_store *s = t->s;
	if (t->nested)
		return sq_txn_nested_end(t, rc, err);
	if (!t->write) {
		if (rc == OK)
			rc = sq_run_fixed(t->c, S_COMMIT, err);
		if (!sqlite3_get_autocommit(t->c->db))
			sqlite3_exec(t->c->db, "ROLLBACK", NULL, NULL, NULL);
		sq_conn_give(s, t->c);
		t->c = NULL;
		return rc;
	}

	struct sq_conn *c = t->c;
	bool broken = sqlite3_get_autocommit(c->db);
	if (!broken) {
		if (rc != OK && sq_exec(c, "ROLLBACK TO w") != SQLITE_OK)
			broken = true;
		else if (sq_exec(c, "RELEASE w") != SQLITE_OK)
			broken = true;
	}
	if (rc != OK) {
		/*
		 * Its insights are gone with its savepoint, and so is the
		 * indexing of other writes' insights that it flushed.
		 */
		sq_fts_rewind(s, t);
	}
	s->group_size++;
	bool committed;
	if (!broken && atomic_load(&s->queued) == 0 && s->group_size < GROUP_MAX) {
		/*
		 * Before committing alone, let writers that are runnable (on a
		 * busy core they have not been scheduled yet) reach write_lock
		 * and join the group: on one core, groups otherwise stay at one.
		 */
		sched_yield();
	}
	if (!broken && atomic_load(&s->queued) > 0 && s->group_size < GROUP_MAX) {
		/* Others are queued for the lock: one of them will commit this group. */
		struct sq_group_member me = { .next = s->members };
		s->members = &me;
		while (!me.done)
			pthread_cond_wait(&s->committed, &s->write_lock);
		committed = me.committed;
	} else {
		committed = sq_group_finish(s, !broken);
	}
	pthread_mutex_unlock(&s->write_lock);
	t->c = NULL;
	if (!committed && rc == OK)
		rc = error_set(err, E_UNAVAILABLE, "The database could not commit the change");
	return rc;
}

enum status sq_batch_begin(struct store *st, struct error *err)
{
	struct sq_store *s = sq_of(st);
	if (sq_batch_now)
		return error_set(err, E_INTERNAL, "a batch is already open on this thread");
	struct sq_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return error_set(err, E_INTERNAL, "out of memory");
	b->s = s;
	/*
	 * Opened as an append: its own writes flush the group's pending index
	 * entries when they need to (sq_txn_nested), so that a batch holding
	 * one new insight (a create and its audit entry) leaves the indexing
	 * to the group's commit, as a lone create does.
	 */
	enum status rc = sq_txn_begin(s, SQ_APPEND, &b->t, err);
	if (rc) {
		free(b);
		return rc;
	}
	sq_batch_now = b;
	return OK;
}

enum status sq_batch_end(struct store *st, bool commit, struct error *err)
{
	struct sq_batch *b = sq_batch_now;
	if (!b || b->s != sq_of(st))
		return error_set(err, E_INTERNAL, "no batch is open on this thread");
	sq_batch_now = NULL;
	enum status rc = sq_txn_end(&b->t, commit ? OK : E_INTERNAL, err);
	free(b);
	if (!commit)
		error_clear(err); /* rolled back, as asked: not a failure */
	return commit ? rc : OK;
}
