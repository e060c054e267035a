/*
 * conn.c: the SQLite driver's connections: opening them with the driver's
 * settings, a pool of them (one per thread that needs one at a time, each
 * keeping its prepared statements for its whole life), the mapping of
 * SQLite failures to statuses, and the checkpointer thread.
 */
#include "store/sqlite/sqlite.h"

#include <assert.h>
#include <stdlib.h>

#include "lib/clock.h"
#include "lib/cpus.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "lib/banned.h"

struct sq_store *sq_of(struct store *st)
{
	assert(st->drv == &store_sqlite_driver);
	return (struct sq_store *)st;
}

/* ---- errors ----------------------------------------------------------------- */

enum status sq_fail(struct sq_conn *c, int rc, struct error *err)
{
	int primary = rc & 0xff;
	const char *msg = c ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
	switch (primary) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		log_warn("sqlite: database busy: %s", msg);
		return error_set(err, E_UNAVAILABLE, "The database is busy; try again");
	case SQLITE_INTERRUPT:
		log_warn("sqlite: statement exceeded the query timeout");
		return error_set(err, E_UNAVAILABLE,
				 "The request took longer than the query timeout");
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return error_set(err, E_CONFLICT, "A row with this name or slug already exists");
		log_error("sqlite: constraint failed: %s", msg);
		return error_set(err, E_CONFLICT, "The change conflicts with existing data");
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_PROTOCOL:
		log_error("sqlite: database unavailable: %s", msg);
		return error_set(err, E_UNAVAILABLE, "The database is unavailable");
	default:
		log_error("sqlite: unexpected failure (%d): %s", rc, msg);
		return error_set(err, E_INTERNAL, "Internal Server Error");
	}
}

/* ---- connections -------------------------------------------------------------- */

static int sq_progress(void *arg)
{
	const struct sq_conn *c = arg;
	return c->deadline_ns && clock_mono_ns() > c->deadline_ns;
}

void sq_conn_free(struct sq_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	for (int i = 0; i < SQ_DYN_CACHE; i++) {
		sqlite3_finalize(c->dyn[i].stmt);
		free(c->dyn[i].sql);
	}
	sqlite3_close(c->db);
	free(c);
}

/*
 * The WAL is copied back into the database file by a thread of its own.
 * Done by the committing connection (SQLite's auto-checkpoint), the copy
 * and its fsync would run under write_lock and stall every writer for tens
 * of milliseconds. Commits only report the WAL's size here; past
 * CKPT_PAGES (about 16 MB) the checkpointer runs a PASSIVE checkpoint,
 * which never blocks readers or writers. The WAL starts over from its
 * beginning at the first commit after a complete checkpoint.
 */
#define CKPT_PAGES 4000
/*
 * A checkpoint only restarts the WAL from its beginning if it caught up
 * with the last commit; under back-to-back commits (a bulk load) the
 * checkpointer never does, and the WAL would grow without end. Past this
 * size the committing writer checkpoints itself, under write_lock, as
 * SQLite's auto-checkpoint does: no commit can append meanwhile.
 */
#define CKPT_PAGES_MAX (4 * CKPT_PAGES)

static int sq_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct sq_store *s = arg;
	if (pages >= CKPT_PAGES_MAX) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if (pages >= CKPT_PAGES && !atomic_exchange(&s->ckpt_wanted, true)) {
		pthread_mutex_lock(&s->ckpt_lock);
		pthread_cond_signal(&s->ckpt_cond);
		pthread_mutex_unlock(&s->ckpt_lock);
	}
	return SQLITE_OK;
}

static void *sq_checkpointer(void *arg)
{
	struct sq_store *s = arg;
	pthread_mutex_lock(&s->ckpt_lock);
	while (!s->ckpt_stop) {
		if (!atomic_exchange(&s->ckpt_wanted, false)) {
			pthread_cond_wait(&s->ckpt_cond, &s->ckpt_lock);
			continue;
		}
		pthread_mutex_unlock(&s->ckpt_lock);
		int rc = sqlite3_wal_checkpoint_v2(s->ckpt_conn->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
						   NULL, NULL);
		if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
			log_warn("sqlite: checkpoint failed: %s", sqlite3_errmsg(s->ckpt_conn->db));
		pthread_mutex_lock(&s->ckpt_lock);
	}
	pthread_mutex_unlock(&s->ckpt_lock);
	return NULL;
}

void sq_checkpointer_start(struct sq_store *s)
{
	pthread_mutex_init(&s->ckpt_lock, NULL);
	pthread_cond_init(&s->ckpt_cond, NULL);
	struct error err = ERROR_INIT;
	if (sq_conn_open(s, false, &s->ckpt_conn, &err) != OK)
		return;
	if (pthread_create(&s->ckpt_thread, NULL, sq_checkpointer, s) == 0)
		s->ckpt_running = true;
	else
		log_warn("sqlite: no checkpoint thread: the WAL will be checkpointed at close");
}

void sq_checkpointer_stop(struct sq_store *s)
{
	if (s->ckpt_running) {
		pthread_mutex_lock(&s->ckpt_lock);
		s->ckpt_stop = true;
		pthread_cond_signal(&s->ckpt_cond);
		pthread_mutex_unlock(&s->ckpt_lock);
		pthread_join(s->ckpt_thread, NULL);
	}
	sq_conn_free(s->ckpt_conn);
	s->ckpt_conn = NULL;
	pthread_mutex_destroy(&s->ckpt_lock);
	pthread_cond_destroy(&s->ckpt_cond);
}

/*
 * Page caches. Each connection has its own, and a pool grows to as many
 * connections as requests run at once (a few dozen): a large cache for all
 * would multiply the memory. The first connections opened, one per CPU,
 * get 10 MB (at 100k insights the interior pages and the tag index stay
 * in it: a point read then costs 1.07 preads instead of 2.2 with 2 MB, and
 * 1.33 with 6 MB) and are handed out first; the others have SQLite's
 * default 2 MB, emptied whenever they return to the pool (sq_conn_give).
 * Pages of the database file itself are read through its mapping (mmap_size),
 * which the kernel's page cache backs once for every connection.
 */
#define BIG_CACHE_KIB "10000"

enum status sq_conn_open(struct sq_store *s, bool pooled, struct sq_conn **out,
			 struct error *err)
{
	*out = NULL;
	struct sq_conn *c = xcalloc(1, sizeof(*c));
	c->store = s;
	int rc = sqlite3_open_v2(s->path, &c->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		log_error("sqlite: cannot open the database file: %s",
			  c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		sq_conn_free(c);
		error_set(err, E_UNAVAILABLE, "The database is unavailable");
		return E_UNAVAILABLE;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, (int)s->cfg.busy_timeout_ms);
	rc = sq_exec(c, "PRAGMA journal_mode = WAL;"
			"PRAGMA synchronous = NORMAL;"
			"PRAGMA foreign_keys = ON;"
			/* Statement journals in memory, not in temporary files. */
			"PRAGMA temp_store = MEMORY;"
			/*
			 * Reads of the database file through a mapping of it
			 * (up to SQ_MMAP_BYTES; WAL pages are still read):
			 * a list page of 20 insights made 40-odd pread calls
			 * that copied pages out of the kernel's cache, and
			 * their system time fell from 85-130 to 40-70 us.
			 */
			"PRAGMA mmap_size = " SQ_MMAP_BYTES ";"
			/*
			 * A WAL that a bulk load grew is cut back to this size
			 * when it next starts over, instead of keeping its peak.
			 */
			"PRAGMA journal_size_limit = " SQ_WAL_LIMIT_BYTES ";");
	if (rc != SQLITE_OK) {
		enum status st = sq_fail(c, rc, err);
		sq_conn_free(c);
		return st != OK ? st : E_INTERNAL; /* sq_fail never gives OK */
	}
	pthread_mutex_lock(&s->pool_lock);
	c->big = pooled && s->nbig < cpu_count();
	s->nbig += c->big;
	pthread_mutex_unlock(&s->pool_lock);
	sq_exec(c, c->big ? "PRAGMA cache_size = -" BIG_CACHE_KIB : "PRAGMA cache_size = -2000");
	if (sq_register_functions(c->db) != SQLITE_OK || sq_rank_register(c->db) != SQLITE_OK) {
		enum status st = sq_fail(c, sqlite3_errcode(c->db), err);
		sq_conn_free(c);
		return st != OK ? st : E_INTERNAL;
	}
	sqlite3_progress_handler(c->db, 1000, sq_progress, c);
	sqlite3_wal_hook(c->db, sq_wal_hook, s); /* instead of auto-checkpoints */
	*out = c;
	return OK;
}

uint64_t sq_read_deadline(const struct sq_store *s)
{
	return s->cfg.query_timeout_ms
		? clock_mono_ns() + (uint64_t)s->cfg.query_timeout_ms * 1000000u : 0;
}

enum status sq_conn_take(struct sq_store *s, struct sq_conn **out, struct error *err)
{
	*out = sq_batch_conn(s);
	if (*out)
		return OK; /* the thread's batch: its reads see its writes */
	pthread_mutex_lock(&s->pool_lock);
	struct sq_conn *c = s->idle;
	if (c) {
		s->idle = c->next;
		s->nidle--;
	}
	pthread_mutex_unlock(&s->pool_lock);
	if (!c) {
		enum status rc = sq_conn_open(s, true, &c, err);
		if (rc)
			return rc;
		pthread_mutex_lock(&s->pool_lock);
		s->nconns++;
		pthread_mutex_unlock(&s->pool_lock);
	}
	c->next = NULL;
	c->deadline_ns = sq_read_deadline(s);
	*out = c;
	return OK;
}

/*
 * Any statement still running is reset first: a forgotten one would pin an
 * old snapshot of the WAL.
 */
void sq_conn_give(struct sq_store *s, struct sq_conn *c)
{
	if (c == sq_batch_conn(s))
		return; /* the batch's: it ends with the batch */
	sqlite3_stmt *st = NULL;
	while ((st = sqlite3_next_stmt(c->db, st)))
		if (sqlite3_stmt_busy(st))
			sqlite3_reset(st);
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	c->deadline_ns = 0;
	/*
	 * The pool keeps the connections a burst opened: only the few with a
	 * large cache keep theirs, or a dozen of them held 25 MB of pages
	 * after the burst was over (test_hardening.py's slow readers).
	 */
	if (!c->big)
		sqlite3_db_release_memory(c->db);
	pthread_mutex_lock(&s->pool_lock);
	struct sq_conn **at = &s->idle;
	if (!c->big)
		while (*at && (*at)->big)
			at = &(*at)->next;
	c->next = *at;
	*at = c;
	s->nidle++;
	pthread_mutex_unlock(&s->pool_lock);
}
