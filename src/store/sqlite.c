/*
 * sqlite.c: the SQLite storage driver (store.h), for one process serving
 * one team from a single file.
 *
 * Connections: a pool of connections, one per thread that needs one at a
 * time, each keeping its prepared statements for its whole life (fixed
 * statements in an array indexed by `enum sq_stmt`, statements built from
 * filters in a small cache keyed by their SQL text).
 *
 * Transactions: the file runs in WAL mode, so readers never wait for the
 * writer. Writers are serialised inside the process by `write_lock`, so that
 * concurrent requests queue on a mutex instead of sleeping in SQLite's busy
 * handler (the busy timeout still covers other processes, a `recount-tags`
 * run say), and their commits are grouped (see txn_begin). Reads of more
 * than one statement run in one read transaction, so a response is one
 * consistent snapshot.
 *
 * Durability: synchronous=NORMAL in WAL mode. A committed transaction is in
 * the WAL before the response is sent and survives the process being killed;
 * the last transactions before a power loss may be lost.
 *
 * Time limits: a progress handler abandons any statement that runs past the
 * connection's deadline (now + query_timeout when the connection is taken).
 */
#include <sqlite3.h>

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/cpus.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"
#include "store/sqlite_schema.h"
#include "lib/banned.h"

#define INSIGHT_COLS                                                               \
	"i.id, i.title, i.description, i.content, i.source, i.author, i.category_id, " \
	"i.priority, i.status, i.created_at, i.updated_at, i.published_at, "          \
	"c.id, c.name, c.slug, c.description, c.parent_id, c.color, c.icon, "          \
	"c.created_at, c.updated_at"
#define INSIGHT_FROM "insights i LEFT JOIN categories c ON c.id = i.category_id"
#define TAG_COLS "t.id, t.name, t.slug, t.description, t.color, t.created_at, t.usage_count"
#define CATEGORY_COLS                                                      \
	"c.id, c.name, c.slug, c.description, c.parent_id, c.color, c.icon, " \
	"c.created_at, c.updated_at, "                                        \
	"(SELECT coalesce(sum(n), 0) FROM insight_counts k WHERE k.category_id = c.id)"

enum sq_stmt {
	S_BEGIN,
	S_BEGIN_IMMEDIATE,
	S_COMMIT,
	S_ROLLBACK,
	S_PING,
	S_INSIGHT_GET,
	S_INSIGHT_GET_TAGGED,
	S_INSIGHTS_BY_IDS,
	S_INSIGHT_TAGS_ONE,
	S_INSIGHT_TAGS,
	S_INSIGHT_INSERT,
	S_FTS_ADD,
	S_INSIGHT_UPDATE,
	S_INSIGHT_DELETE,
	S_INSIGHT_TAGS_ADD,
	S_INSIGHT_TAGS_KEEP_ONLY,
	S_INSIGHT_TAGS_CLEAR,
	S_INSIGHT_RECENT,
	S_COUNT_FAST,
	S_SEARCH_WINDOW,
	S_TAGS_EXISTING,
	S_TAG_GET,
	S_TAG_LIST,
	S_TAG_CLASH,
	S_TAG_INSERT,
	S_TAG_UPDATE,
	S_TAG_DELETE,
	S_TAG_UNLINK,
	S_CATEGORY_GET,
	S_CATEGORY_LIST,
	S_CATEGORY_EXISTS,
	S_CATEGORY_CLASH,
	S_CATEGORY_INSERT,
	S_CATEGORY_UPDATE,
	S_CATEGORY_DELETE,
	S_CATEGORY_IS_ANCESTOR,
	S_CATEGORY_USAGE,
	S_STATS_COUNTS,
	S_STATS_CATEGORIES,
	S_STATS_TAGS,
	S_GAUGES,
	S_TRENDS,
	S_TOP_AUTHORS,
	S_RECOUNT_DRIFT,
	S_RECOUNT_FIX,
	S__COUNT
};

static const char *const sq_sql[S__COUNT] = {
	[S_BEGIN] = "BEGIN",
	[S_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_PING] = "SELECT coalesce(max(version), 0) FROM schema_migrations",
	[S_INSIGHT_GET] = "SELECT " INSIGHT_COLS " FROM " INSIGHT_FROM " WHERE i.id = ?1",
	/* The insight and its tags: one row per tag (or one with NULL tag columns). */
	[S_INSIGHT_GET_TAGGED] =
		"SELECT " INSIGHT_COLS ", " TAG_COLS " FROM " INSIGHT_FROM
		" LEFT JOIN insight_tags it ON it.insight_id = i.id"
		" LEFT JOIN tags t ON t.id = it.tag_id WHERE i.id = ?1 ORDER BY t.id",
	[S_INSIGHTS_BY_IDS] =
		"SELECT " INSIGHT_COLS " FROM json_each(?1) j JOIN insights i ON i.id = j.value"
		" LEFT JOIN categories c ON c.id = i.category_id ORDER BY j.key",
	[S_INSIGHT_TAGS_ONE] =
		"SELECT it.insight_id, " TAG_COLS " FROM insight_tags it"
		" JOIN tags t ON t.id = it.tag_id WHERE it.insight_id = ?1 ORDER BY t.id",
	[S_INSIGHT_TAGS] =
		"SELECT it.insight_id, " TAG_COLS " FROM insight_tags it"
		" JOIN tags t ON t.id = it.tag_id"
		" WHERE it.insight_id IN (SELECT value FROM json_each(?1))"
		" ORDER BY it.insight_id, t.id",
	[S_INSIGHT_INSERT] =
		"INSERT INTO insights (title, description, content, source, author, category_id,"
		" priority, status, created_at, updated_at, published_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[S_INSIGHT_UPDATE] =
		"UPDATE insights SET title = ?1, description = ?2, content = ?3, source = ?4,"
		" author = ?5, category_id = ?6, priority = ?7, status = ?8, created_at = ?9,"
		" updated_at = ?10, published_at = ?11 WHERE id = ?12",
	[S_INSIGHT_DELETE] = "DELETE FROM insights WHERE id = ?1",
	[S_FTS_ADD] =
		"INSERT INTO insights_fts (rowid, title, description, content)"
		" SELECT id, title, description, content FROM insights"
		" WHERE id IN (SELECT value FROM json_each(?1))",
	[S_INSIGHT_TAGS_ADD] =
		"INSERT OR IGNORE INTO insight_tags (insight_id, tag_id)"
		" SELECT ?1, value FROM json_each(?2)",
	[S_INSIGHT_TAGS_KEEP_ONLY] =
		"DELETE FROM insight_tags WHERE insight_id = ?1"
		" AND tag_id NOT IN (SELECT value FROM json_each(?2))",
	[S_INSIGHT_TAGS_CLEAR] = "DELETE FROM insight_tags WHERE insight_id = ?1",
	[S_INSIGHT_RECENT] =
		"SELECT " INSIGHT_COLS " FROM " INSIGHT_FROM
		" ORDER BY i.created_at DESC, i.id DESC LIMIT ?1",
	[S_COUNT_FAST] =
		"SELECT coalesce(sum(n), 0) FROM insight_counts"
		" WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR priority = ?2)"
		" AND (?3 IS NULL OR category_id = ?3)",
	/* The rowid of the ?2+1-th newest match: where a bounded ranking starts. */
	[S_SEARCH_WINDOW] =
		"SELECT rowid FROM insights_fts WHERE insights_fts MATCH ?1"
		" ORDER BY rowid DESC LIMIT 1 OFFSET ?2",
	[S_TAGS_EXISTING] =
		"SELECT value FROM json_each(?1) WHERE value NOT IN (SELECT id FROM tags)",
	[S_TAG_GET] = "SELECT " TAG_COLS " FROM tags t WHERE t.id = ?1",
	[S_TAG_LIST] = "SELECT " TAG_COLS " FROM tags t ORDER BY t.name LIMIT ?1 OFFSET ?2",
	[S_TAG_CLASH] =
		"SELECT name = ?1, slug = ?2 FROM tags WHERE (name = ?1 OR slug = ?2) AND id != ?3"
		" ORDER BY id LIMIT 1",
	[S_TAG_INSERT] =
		"INSERT INTO tags (name, slug, description, color, created_at, usage_count)"
		" VALUES (?1, ?2, ?3, ?4, ?5, 0)",
	[S_TAG_UPDATE] =
		"UPDATE tags SET name = ?1, slug = ?2, description = ?3, color = ?4 WHERE id = ?5",
	[S_TAG_DELETE] = "DELETE FROM tags WHERE id = ?1",
	[S_TAG_UNLINK] = "DELETE FROM insight_tags WHERE tag_id = ?1",
	[S_CATEGORY_GET] = "SELECT " CATEGORY_COLS " FROM categories c WHERE c.id = ?1",
	[S_CATEGORY_LIST] =
		"SELECT " CATEGORY_COLS " FROM categories c ORDER BY c.name LIMIT ?1 OFFSET ?2",
	[S_CATEGORY_EXISTS] = "SELECT 1 FROM categories WHERE id = ?1",
	[S_CATEGORY_CLASH] =
		"SELECT name = ?1, slug = ?2 FROM categories WHERE (name = ?1 OR slug = ?2)"
		" AND id != ?3 ORDER BY id LIMIT 1",
	[S_CATEGORY_INSERT] =
		"INSERT INTO categories (name, slug, description, parent_id, color, icon,"
		" created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_CATEGORY_UPDATE] =
		"UPDATE categories SET name = ?1, slug = ?2, description = ?3, parent_id = ?4,"
		" color = ?5, icon = ?6, updated_at = ?7 WHERE id = ?8",
	[S_CATEGORY_DELETE] = "DELETE FROM categories WHERE id = ?1",
	/* Is ?2 the category ?1 or one of its ancestors? UNION stops on a loop. */
	[S_CATEGORY_IS_ANCESTOR] =
		"WITH RECURSIVE up(id) AS (SELECT ?1 UNION"
		" SELECT c.parent_id FROM categories c JOIN up ON c.id = up.id"
		" WHERE c.parent_id IS NOT NULL)"
		" SELECT 1 FROM up WHERE id = ?2",
	[S_CATEGORY_USAGE] =
		"SELECT (SELECT count(*) FROM insights WHERE category_id = ?1),"
		" (SELECT count(*) FROM categories WHERE parent_id = ?1)",
	[S_STATS_COUNTS] =
		"SELECT status, priority, category_id, n FROM insight_counts WHERE n != 0",
	[S_STATS_CATEGORIES] = "SELECT id, name FROM categories ORDER BY name",
	[S_STATS_TAGS] = "SELECT count(*) FROM tags",
	[S_GAUGES] =
		"SELECT (SELECT coalesce(sum(n), 0) FROM insight_counts),"
		" (SELECT count(*) FROM tags), (SELECT count(*) FROM categories)",
	[S_TRENDS] =
		"SELECT substr(created_at, 1, 10) AS day, status, count(*) FROM insights"
		" WHERE created_at >= ?1 GROUP BY day, status",
	[S_TOP_AUTHORS] =
		"SELECT author, count(*) AS n FROM insights WHERE status = 'published'"
		" GROUP BY author ORDER BY n DESC, author LIMIT ?1 OFFSET ?2",
	[S_RECOUNT_DRIFT] =
		"SELECT id, name, usage_count, real FROM (SELECT t.id, t.name, t.usage_count,"
		" (SELECT count(*) FROM insight_tags it WHERE it.tag_id = t.id) AS real"
		" FROM tags t) WHERE usage_count != real ORDER BY id",
	[S_RECOUNT_FIX] =
		"UPDATE tags SET usage_count ="
		" (SELECT count(*) FROM insight_tags it WHERE it.tag_id = tags.id) WHERE id = ?1",
};

/* Statements built from a filter, cached by their SQL text. */
#define DYN_CACHE 32

struct dyn_stmt {
	char *sql;
	sqlite3_stmt *stmt;
};

struct sq_store;

struct sq_conn {
	struct sq_store *store;  /* the owner */
	sqlite3 *db;
	bool big;                /* one of the few with a large page cache */
	sqlite3_stmt *stmt[S__COUNT];
	struct dyn_stmt dyn[DYN_CACHE];
	unsigned dyn_next;       /* the slot to evict next */
	uint64_t deadline_ns;
	struct sq_conn *next;    /* in the idle list */
};

struct sq_store {
	struct store base;
	char *path;
	struct store_config cfg;
	pthread_mutex_t pool_lock;
	struct sq_conn *idle;        /* idle connections, large caches first */
	unsigned nconns;             /* connections open */
	unsigned nidle;              /* of which idle */
	unsigned nbig;               /* of which have a large cache */
	/* Group commit (see txn_begin): all under write_lock but `queued`. */
	pthread_mutex_t write_lock;
	pthread_cond_t committed;
	atomic_uint queued;          /* writers waiting for write_lock */
	struct sq_conn *writer;      /* holds the open group transaction, or NULL */
	unsigned group_size;         /* writes done in the open group */
	struct group_member *members; /* writes of the open group waiting for its commit */
	struct buf fts_pending;      /* ids inserted by the group, to index: "[1,2" */
	size_t fts_count;            /* how many */	/* The checkpointer (see wal_hook). */
	pthread_t ckpt_thread;
	bool ckpt_running;
	struct sq_conn *ckpt_conn;
	pthread_mutex_t ckpt_lock;
	pthread_cond_t ckpt_cond;
	atomic_bool ckpt_wanted;
	bool ckpt_stop;              /* under ckpt_lock */
};

static struct sq_store *sq_of(struct store *st)
{
	assert(st->drv == &store_sqlite_driver);
	return (struct sq_store *)st;
}

/* ---- errors --------------------------------------------------------- */

/*
 * Maps an SQLite failure to a status. The client sees only a generic
 * sentence; SQLite's own message goes to the log.
 */
static enum status sq_fail(struct sq_conn *c, int rc, struct error *err)
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

/* ---- connections ---------------------------------------------------- */

static int progress_cb(void *arg)
{
	const struct sq_conn *c = arg;
	return c->deadline_ns && clock_mono_ns() > c->deadline_ns;
}

static void conn_free(struct sq_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	for (int i = 0; i < DYN_CACHE; i++) {
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

static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
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

static void *checkpointer(void *arg)
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

static int exec(struct sq_conn *c, const char *sql)
{
	return sqlite3_exec(c->db, sql, NULL, NULL, NULL);
}

/*
 * Page caches. Each connection has its own, and a pool grows to as many
 * connections as requests run at once (a few dozen): a large cache for all
 * would multiply the memory. The first connections opened, one per CPU,
 * get 10 MB (at 100k insights the interior pages and the tag index stay
 * in it: a point read then costs 1.07 preads instead of 2.2 with 2 MB, and
 * 1.33 with 6 MB) and are handed out first; the others keep SQLite's
 * default 2 MB.
 */
#define BIG_CACHE_KIB "10000"

static enum status conn_open(struct sq_store *s, bool pooled, struct sq_conn **out,
			     struct error *err)
{
	struct sq_conn *c = xcalloc(1, sizeof(*c));
	c->store = s;
	int rc = sqlite3_open_v2(s->path, &c->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		log_error("sqlite: cannot open the database file: %s",
			  c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		conn_free(c);
		return error_set(err, E_UNAVAILABLE, "The database is unavailable");
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, (int)s->cfg.busy_timeout_ms);
	rc = exec(c, "PRAGMA journal_mode = WAL;"
		     "PRAGMA synchronous = NORMAL;"
		     "PRAGMA foreign_keys = ON;"
		     /* Statement journals in memory, not in temporary files. */
		     "PRAGMA temp_store = MEMORY;");
	if (rc != SQLITE_OK) {
		enum status st = sq_fail(c, rc, err);
		conn_free(c);
		return st;
	}
	pthread_mutex_lock(&s->pool_lock);
	c->big = pooled && s->nbig < cpu_count();
	s->nbig += c->big;
	pthread_mutex_unlock(&s->pool_lock);
	exec(c, c->big ? "PRAGMA cache_size = -" BIG_CACHE_KIB : "PRAGMA cache_size = -2000");
	sqlite3_progress_handler(c->db, 1000, progress_cb, c);
	sqlite3_wal_hook(c->db, wal_hook, s); /* instead of auto-checkpoints */
	*out = c;
	return OK;
}

/* Takes an idle connection (or opens one) and starts its deadline. */
static enum status conn_take(struct sq_store *s, struct sq_conn **out, struct error *err)
{
	pthread_mutex_lock(&s->pool_lock);
	struct sq_conn *c = s->idle;
	if (c) {
		s->idle = c->next;
		s->nidle--;
	}
	pthread_mutex_unlock(&s->pool_lock);
	if (!c) {
		enum status rc = conn_open(s, true, &c, err);
		if (rc)
			return rc;
		pthread_mutex_lock(&s->pool_lock);
		s->nconns++;
		pthread_mutex_unlock(&s->pool_lock);
	}
	c->next = NULL;
	c->deadline_ns = s->cfg.query_timeout_ms
		? clock_mono_ns() + (uint64_t)s->cfg.query_timeout_ms * 1000000u : 0;
	*out = c;
	return OK;
}

/*
 * Returns a connection to the pool. Any statement still running is reset
 * first: a forgotten one would pin an old snapshot of the WAL.
 */
static void conn_give(struct sq_store *s, struct sq_conn *c)
{
	sqlite3_stmt *st = NULL;
	while ((st = sqlite3_next_stmt(c->db, st)))
		if (sqlite3_stmt_busy(st))
			sqlite3_reset(st);
	if (!sqlite3_get_autocommit(c->db))
		exec(c, "ROLLBACK");
	c->deadline_ns = 0;
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

/* The fixed statement `which`, prepared on first use; NULL on failure. */
static sqlite3_stmt *stmt(struct sq_conn *c, enum sq_stmt which, struct error *err)
{
	if (!c->stmt[which]) {
		int rc = sqlite3_prepare_v3(c->db, sq_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
					    &c->stmt[which], NULL);
		if (rc != SQLITE_OK) {
			sq_fail(c, rc, err);
			return NULL;
		}
	}
	return c->stmt[which];
}

/* A statement for built SQL, from the connection's cache. */
static sqlite3_stmt *dyn_stmt(struct sq_conn *c, const char *sql, struct error *err)
{
	for (int i = 0; i < DYN_CACHE; i++)
		if (c->dyn[i].sql && !strcmp(c->dyn[i].sql, sql))
			return c->dyn[i].stmt;
	struct dyn_stmt *d = &c->dyn[c->dyn_next];
	c->dyn_next = (c->dyn_next + 1) % DYN_CACHE;
	sqlite3_finalize(d->stmt);
	free(d->sql);
	d->sql = NULL;
	d->stmt = NULL;
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &d->stmt, NULL);
	if (rc != SQLITE_OK) {
		sq_fail(c, rc, err);
		return NULL;
	}
	d->sql = xstrdup(sql);
	return d->stmt;
}

/* Runs a statement that returns no rows, then resets it. */
static int run(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static enum status run_fixed(struct sq_conn *c, enum sq_stmt which, struct error *err)
{
	sqlite3_stmt *s = stmt(c, which, err);
	if (!s)
		return err->status;
	int rc = run(s);
	return rc == SQLITE_OK ? OK : sq_fail(c, rc, err);
}

/* ---- transactions --------------------------------------------------- */

/*
 * Writes use group commit. Each write runs in a savepoint of a shared
 * transaction on the writer connection; when the write is done and other
 * writers are already queued for the write lock, the transaction is left
 * open for them and the finished write waits until a later member of its
 * group commits it. The last member of a group (no one queued, or the group
 * is full) commits for all and wakes them. A write is acknowledged only
 * once its group's COMMIT has succeeded, so it is as durable as with one
 * transaction per write, while the cost of a commit (WAL appends, the FTS5
 * segment flush) is shared by the group.
 *
 * A write that fails rolls back to its savepoint: the other members of the
 * group are not affected. A failing COMMIT (or SQLite abandoning the
 * transaction, which it does on some I/O errors) fails every member.
 */
#define GROUP_MAX 64

/*
 * FTS5 flushes its pending terms into a new segment at every savepoint,
 * and SQLite opens one for every statement of an explicit transaction that
 * may abort: indexing each new insight from a trigger would write (and
 * later merge) one segment per insight. New insights are therefore indexed
 * by one statement just before their group commits (fts_flush), which
 * writes one segment for the whole group. Any other write flushes first, so
 * that updates and deletes always find the rows they change in the index.
 */
enum txn_mode {
	TXN_READ,
	TXN_WRITE,  /* any write */
	TXN_APPEND, /* inserts insights only: their indexing is deferred */
};

struct txn {
	struct sq_store *s;
	struct sq_conn *c;
	bool write;
	size_t fts_mark;  /* fts_pending.len when the write began */
	size_t fts_count; /* fts_count when the write began */
};

static bool group_finish(struct sq_store *s, bool commit);

/* Indexes the insights the open group inserted. Holds write_lock. */
static int fts_flush(struct sq_store *s)
{
	if (!s->fts_count)
		return SQLITE_OK;
	buf_addch(&s->fts_pending, ']');
	struct error err; /* the caller reports the failure */
	sqlite3_stmt *q = stmt(s->writer, S_FTS_ADD, &err);
	int src = SQLITE_ERROR;
	if (q) {
		sqlite3_bind_text(q, 1, s->fts_pending.data, (int)s->fts_pending.len, SQLITE_STATIC);
		src = run(q);
	}
	buf_reset(&s->fts_pending);
	s->fts_count = 0;
	return src;
}

/* Remembers an insight the open group inserted, for fts_flush. */
static void fts_defer(struct sq_store *s, int64_t id)
{
	buf_addf(&s->fts_pending, "%c%" PRId64, s->fts_count++ ? ',' : '[', id);
}

/* A write waiting for its group's commit; lives on the waiter's stack. */
struct group_member {
	bool done;
	bool committed;
	struct group_member *next;
};

static enum status txn_begin(struct sq_store *s, enum txn_mode mode, struct txn *t,
			     struct error *err)
{
	t->s = s;
	t->write = mode != TXN_READ;
	t->c = NULL;
	if (!t->write) {
		enum status rc = conn_take(s, &t->c, err);
		if (rc == OK)
			rc = run_fixed(t->c, S_BEGIN, err);
		if (rc != OK && t->c) {
			conn_give(s, t->c);
			t->c = NULL;
		}
		return rc;
	}

	atomic_fetch_add(&s->queued, 1);
	pthread_mutex_lock(&s->write_lock);
	atomic_fetch_sub(&s->queued, 1);
	enum status rc = OK;
	if (!s->writer) {
		rc = conn_take(s, &s->writer, err);
		if (rc == OK) {
			rc = run_fixed(s->writer, S_BEGIN_IMMEDIATE, err);
			if (rc != OK) {
				conn_give(s, s->writer);
				s->writer = NULL;
			}
		}
		if (rc == OK)
			s->group_size = 0;
	}
	if (rc == OK) {
		t->c = s->writer;
		t->c->deadline_ns = s->cfg.query_timeout_ms
			? clock_mono_ns() + (uint64_t)s->cfg.query_timeout_ms * 1000000u : 0;
		int src = mode == TXN_APPEND ? SQLITE_OK : fts_flush(s);
		if (src == SQLITE_OK)
			src = exec(t->c, "SAVEPOINT w");
		if (src != SQLITE_OK) {
			rc = sq_fail(t->c, src, err);
			/* The group may hold half of its index: it cannot commit. */
			group_finish(s, false);
		}
	}
	t->fts_mark = s->fts_pending.len;
	t->fts_count = s->fts_count;
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
static bool group_finish(struct sq_store *s, bool commit)
{
	struct sq_conn *c = s->writer;
	bool ok = commit && !sqlite3_get_autocommit(c->db);
	if (ok && fts_flush(s) != SQLITE_OK) {
		log_error("sqlite: indexing the group failed: %s", sqlite3_errmsg(c->db));
		ok = false;
	}
	buf_reset(&s->fts_pending);
	s->fts_count = 0;
	if (ok && exec(c, "COMMIT") != SQLITE_OK) {
		log_error("sqlite: group commit failed: %s", sqlite3_errmsg(c->db));
		ok = false;
	}
	if (!ok && !sqlite3_get_autocommit(c->db))
		exec(c, "ROLLBACK");
	for (struct group_member *m = s->members; m; m = m->next) {
		m->committed = ok;
		m->done = true;
	}
	s->members = NULL;
	s->writer = NULL;
	conn_give(s, c);
	pthread_cond_broadcast(&s->committed);
	return ok;
}

/*
 * Ends the transaction: keeps the work when `rc` is OK, undoes it otherwise,
 * and for a write returns only once the work is committed (a failing commit
 * becomes the returned status). Returns the final status.
 */
static enum status txn_end(struct txn *t, enum status rc, struct error *err)
{
	struct sq_store *s = t->s;
	if (!t->write) {
		if (rc == OK)
			rc = run_fixed(t->c, S_COMMIT, err);
		if (!sqlite3_get_autocommit(t->c->db))
			exec(t->c, "ROLLBACK");
		conn_give(s, t->c);
		t->c = NULL;
		return rc;
	}

	struct sq_conn *c = t->c;
	bool broken = sqlite3_get_autocommit(c->db);
	if (!broken) {
		if (rc != OK && exec(c, "ROLLBACK TO w") != SQLITE_OK)
			broken = true;
		else if (exec(c, "RELEASE w") != SQLITE_OK)
			broken = true;
	}
	if (rc != OK) {
		/* Its insights are gone with its savepoint. */
		buf_truncate(&s->fts_pending, t->fts_mark);
		s->fts_count = t->fts_count;
	}
	c->deadline_ns = 0;
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
		struct group_member me = { .next = s->members };
		s->members = &me;
		while (!me.done)
			pthread_cond_wait(&s->committed, &s->write_lock);
		committed = me.committed;
	} else {
		committed = group_finish(s, !broken);
	}
	pthread_mutex_unlock(&s->write_lock);
	t->c = NULL;
	if (!committed && rc == OK)
		rc = error_set(err, E_UNAVAILABLE, "The database could not commit the change");
	return rc;
}

/* ---- binding and reading -------------------------------------------- */

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Binds an id, or NULL for 0. */
static void bind_id(sqlite3_stmt *s, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* A nullable timestamp column: "" stands for NULL. */
static void bind_ts(sqlite3_stmt *s, int i, const char *ts)
{
	bind_text(s, i, ts[0] ? ts : NULL);
}

static const char *col_text(sqlite3_stmt *s, int i, struct arena *a)
{
	const unsigned char *v = sqlite3_column_text(s, i);
	if (!v)
		return NULL;
	return arena_strndup(a, (const char *)v, (size_t)sqlite3_column_bytes(s, i));
}

static void col_ts(sqlite3_stmt *s, int i, char out[TS_SIZE])
{
	const unsigned char *v = sqlite3_column_text(s, i);
	size_t n = v ? (size_t)sqlite3_column_bytes(s, i) : 0;
	if (n >= TS_SIZE)
		n = TS_SIZE - 1;
	if (n)
		memcpy(out, v, n);
	out[n] = '\0';
}

static void read_tag(sqlite3_stmt *s, int col, struct arena *a, struct tag *t)
{
	t->id = sqlite3_column_int64(s, col);
	t->name = col_text(s, col + 1, a);
	t->slug = col_text(s, col + 2, a);
	t->description = col_text(s, col + 3, a);
	t->color = col_text(s, col + 4, a);
	col_ts(s, col + 5, t->created_at);
	t->usage_count = sqlite3_column_int64(s, col + 6);
}

/* Reads the 9 category columns at `col` (plus insight_count when `counted`). */
static void read_category(sqlite3_stmt *s, int col, bool counted, struct arena *a,
			  struct category *c)
{
	c->id = sqlite3_column_int64(s, col);
	c->name = col_text(s, col + 1, a);
	c->slug = col_text(s, col + 2, a);
	c->description = col_text(s, col + 3, a);
	c->parent_id = sqlite3_column_int64(s, col + 4);
	c->color = col_text(s, col + 5, a);
	c->icon = col_text(s, col + 6, a);
	col_ts(s, col + 7, c->created_at);
	col_ts(s, col + 8, c->updated_at);
	c->insight_count = counted ? sqlite3_column_int64(s, col + 9) : 0;
}

/* Reads a row of INSIGHT_COLS (without tags). */
static void read_insight(sqlite3_stmt *s, struct arena *a, struct insight *in)
{
	memset(in, 0, sizeof(*in));
	in->id = sqlite3_column_int64(s, 0);
	in->title = col_text(s, 1, a);
	in->description = col_text(s, 2, a);
	in->content = col_text(s, 3, a);
	in->source = col_text(s, 4, a);
	in->author = col_text(s, 5, a);
	in->category_id = sqlite3_column_int64(s, 6);
	const char *p = (const char *)sqlite3_column_text(s, 7);
	if (!p || priority_parse(p, &in->priority))
		in->priority = PRIORITY_MEDIUM;
	const char *st = (const char *)sqlite3_column_text(s, 8);
	if (!st || lifecycle_parse(st, &in->status))
		in->status = LIFECYCLE_DRAFT;
	col_ts(s, 9, in->created_at);
	col_ts(s, 10, in->updated_at);
	col_ts(s, 11, in->published_at);
	if (sqlite3_column_type(s, 12) != SQLITE_NULL) {
		in->category = ARENA_NEW(a, struct category);
		read_category(s, 12, false, a, in->category);
	}
}

/* "[1,2,3]": a JSON array of ids for json_each(). */
static void ids_json(struct buf *b, const int64_t *ids, size_t n)
{
	buf_addch(b, '[');
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s%" PRId64, i ? "," : "", ids[i]);
	buf_addch(b, ']');
}

struct tag_row {
	int64_t insight_id;
	struct tag tag;
};

/*
 * Loads the tags of `n` insights with one query and hangs them on each.
 * This is what keeps a page at a constant number of queries.
 */
static enum status attach_tags(struct sq_conn *c, struct arena *a, struct insight *items,
			       size_t n, struct error *err)
{
	if (!n)
		return OK;
	/* One insight (a point read) needs no list of ids to take apart. */
	sqlite3_stmt *s = stmt(c, n == 1 ? S_INSIGHT_TAGS_ONE : S_INSIGHT_TAGS, err);
	if (!s)
		return err->status;
	struct buf ids = BUF_INIT;
	if (n == 1) {
		sqlite3_bind_int64(s, 1, items[0].id);
	} else {
		for (size_t i = 0; i < n; i++)
			buf_addf(&ids, "%c%" PRId64, i ? ',' : '[', items[i].id);
		buf_addch(&ids, ']');
		sqlite3_bind_text(s, 1, ids.data, (int)ids.len, SQLITE_STATIC);
	}

	struct tag_row *rows = NULL;
	size_t nrows = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (nrows == cap) {
			cap = cap ? cap * 2 : 16;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		rows[nrows].insight_id = sqlite3_column_int64(s, 0);
		read_tag(s, 1, a, &rows[nrows].tag);
		nrows++;
	}
	sqlite3_reset(s);
	buf_release(&ids);
	if (rc != SQLITE_DONE) {
		free(rows);
		return sq_fail(c, rc, err);
	}
	/* Rows come grouped by insight id, ascending: find each group. */
	for (size_t i = 0; i < n; i++) {
		size_t lo = 0, hi = nrows;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (rows[mid].insight_id < items[i].id)
				lo = mid + 1;
			else
				hi = mid;
		}
		size_t end = lo;
		while (end < nrows && rows[end].insight_id == items[i].id)
			end++;
		items[i].ntags = end - lo;
		items[i].tags = items[i].ntags ? ARENA_NEW_ARRAY(a, struct tag, items[i].ntags) : NULL;
		for (size_t k = lo; k < end; k++)
			items[i].tags[k - lo] = rows[k].tag;
	}
	free(rows);
	return OK;
}

/* Reads one insight with its tags inside the caller's transaction. */
static enum status load_insight(struct sq_conn *c, struct arena *a, int64_t id,
				struct insight *out, struct error *err)
{
	sqlite3_stmt *s = stmt(c, S_INSIGHT_GET, err);
	if (!s)
		return err->status;
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_insight(s, a, out);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return error_set(err, E_NOTFOUND, "Insight not found");
	if (rc != SQLITE_ROW)
		return sq_fail(c, rc, err);
	return attach_tags(c, a, out, 1, err);
}

/* ---- open, close, migrate, ping ------------------------------------- */

/*
 * Process-wide settings, made before SQLite initializes. Memory statistics
 * (which nothing reads) would take a global mutex on every allocation.
 */
static void sq_configure(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static enum status sq_open(const struct dburl *url, const struct store_config *cfg,
			   struct store **out, struct error *err)
{
	if (!sqlite3_threadsafe())
		return error_set(err, E_INTERNAL, "SQLite was built without thread support");
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sq_configure);
	struct sq_store *s = xcalloc(1, sizeof(*s));
	s->base.drv = &store_sqlite_driver;
	s->path = xstrdup(url->path);
	s->cfg = *cfg;
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_mutex_init(&s->write_lock, NULL);
	pthread_cond_init(&s->committed, NULL);
	/* Open one connection now, so a bad path fails at start-up. */
	struct sq_conn *c;
	enum status rc = conn_take(s, &c, err);
	if (rc) {
		pthread_mutex_destroy(&s->pool_lock);
		pthread_mutex_destroy(&s->write_lock);
		pthread_cond_destroy(&s->committed);
		free(s->path);
		free(s);
		return rc;
	}
	conn_give(s, c);
	pthread_mutex_init(&s->ckpt_lock, NULL);
	pthread_cond_init(&s->ckpt_cond, NULL);
	struct error ckpt_err;
	if (conn_open(s, false, &s->ckpt_conn, &ckpt_err) == OK) {
		if (pthread_create(&s->ckpt_thread, NULL, checkpointer, s) == 0)
			s->ckpt_running = true;
		else
			log_warn("sqlite: no checkpoint thread: the WAL will be checkpointed at close");
	}
	*out = &s->base;
	return OK;
}

static void sq_close(struct store *st)
{
	struct sq_store *s = sq_of(st);
	if (s->ckpt_running) {
		pthread_mutex_lock(&s->ckpt_lock);
		s->ckpt_stop = true;
		pthread_cond_signal(&s->ckpt_cond);
		pthread_mutex_unlock(&s->ckpt_lock);
		pthread_join(s->ckpt_thread, NULL);
	}
	if (s->ckpt_conn)
		conn_free(s->ckpt_conn);
	pthread_mutex_destroy(&s->ckpt_lock);
	pthread_cond_destroy(&s->ckpt_cond);
	struct sq_conn *c = s->idle;
	while (c) {
		struct sq_conn *next = c->next;
		conn_free(c);
		c = next;
	}
	assert(!s->writer);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_mutex_destroy(&s->write_lock);
	pthread_cond_destroy(&s->committed);
	buf_release(&s->fts_pending);
	free(s->path);
	free(s);
}

static enum status sq_migrate(struct store *st, int *applied, struct error *err)
{
	struct sq_store *s = sq_of(st);
	*applied = 0;
	struct sq_conn *c;
	enum status rc = conn_take(s, &c, err);
	if (rc)
		return rc;
	c->deadline_ns = 0; /* a migration may take as long as it takes */
	int src = exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			  " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
			  " applied_at TIMESTAMP NOT NULL)");
	for (size_t i = 0; src == SQLITE_OK && i < sizeof(sq_migrations) / sizeof(sq_migrations[0]); i++) {
		const struct sq_migration *m = &sq_migrations[i];
		pthread_mutex_lock(&s->write_lock);
		src = exec(c, "BEGIN IMMEDIATE");
		sqlite3_stmt *q = NULL;
		int done = 0;
		if (src == SQLITE_OK)
			src = sqlite3_prepare_v2(c->db, "SELECT 1 FROM schema_migrations WHERE version = ?1",
						 -1, &q, NULL);
		if (src == SQLITE_OK) {
			sqlite3_bind_int(q, 1, m->version);
			int step = sqlite3_step(q);
			done = step == SQLITE_ROW;
			if (step != SQLITE_ROW && step != SQLITE_DONE)
				src = step;
		}
		sqlite3_finalize(q);
		if (src == SQLITE_OK && !done) {
			src = exec(c, m->sql);
			if (src == SQLITE_OK) {
				char ts[TS_SIZE];
				clock_timestamp(ts);
				src = sqlite3_prepare_v2(c->db,
							 "INSERT INTO schema_migrations (version, name, applied_at)"
							 " VALUES (?1, ?2, ?3)", -1, &q, NULL);
				if (src == SQLITE_OK) {
					sqlite3_bind_int(q, 1, m->version);
					sqlite3_bind_text(q, 2, m->name, -1, SQLITE_STATIC);
					sqlite3_bind_text(q, 3, ts, -1, SQLITE_TRANSIENT);
					src = sqlite3_step(q) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(c->db);
				}
				sqlite3_finalize(q);
			}
		}
		if (src == SQLITE_OK)
			src = exec(c, "COMMIT");
		if (src != SQLITE_OK) {
			rc = sq_fail(c, src, err);
			exec(c, "ROLLBACK");
		} else if (!done) {
			(*applied)++;
			log_info("applied migration %d (%s)", m->version, m->name);
		}
		pthread_mutex_unlock(&s->write_lock);
	}
	if (src != SQLITE_OK && rc == OK)
		rc = sq_fail(c, src, err);
	conn_give(s, c);
	return rc;
}

static enum status sq_ping(struct store *st, struct error *err)
{
	struct sq_store *s = sq_of(st);
	struct sq_conn *c;
	enum status rc = conn_take(s, &c, err);
	if (rc)
		return rc;
	rc = run_fixed(c, S_PING, err);
	conn_give(s, c);
	return rc;
}

/* ---- insights ------------------------------------------------------- */

/*
 * A point read is one statement outside any explicit transaction: SQLite
 * reads it from one snapshot, and the BEGIN and COMMIT of a two-statement
 * read (and their lock calls) are saved.
 */
#define TAG_COL0 21 /* the first of TAG_COLS in S_INSIGHT_GET_TAGGED */

static enum status sq_insight_get(struct store *st, struct arena *a, int64_t id,
				  struct insight *out, struct error *err)
{
	struct sq_store *s = sq_of(st);
	struct sq_conn *c;
	enum status rc = conn_take(s, &c, err);
	if (rc)
		return rc;
	sqlite3_stmt *q = stmt(c, S_INSIGHT_GET_TAGGED, err);
	if (!q) {
		conn_give(s, c);
		return err->status;
	}
	sqlite3_bind_int64(q, 1, id);
	bool found = false;
	size_t cap = 0;
	int src;
	while ((src = sqlite3_step(q)) == SQLITE_ROW) {
		if (!found) {
			read_insight(q, a, out);
			found = true;
		}
		if (sqlite3_column_type(q, TAG_COL0) == SQLITE_NULL)
			continue;
		if (out->ntags == cap) {
			cap = cap ? cap * 2 : 8;
			struct tag *more = ARENA_NEW_ARRAY(a, struct tag, cap);
			if (out->ntags)
				memcpy(more, out->tags, out->ntags * sizeof(*more));
			out->tags = more;
		}
		read_tag(q, TAG_COL0, a, &out->tags[out->ntags++]);
	}
	sqlite3_reset(q);
	if (src != SQLITE_DONE)
		rc = sq_fail(c, src, err);
	else if (!found)
		rc = error_set(err, E_NOTFOUND, "Insight not found");
	conn_give(s, c);
	return rc;
}

/*
 * Turns the user's search text into an FTS5 query that cannot be read as
 * query syntax: every whitespace-separated word becomes a quoted string
 * (inner quotes doubled), and quoted strings side by side must all match.
 * Punctuation inside a word is left to the tokenizer, so "foo-bar" is the
 * phrase "foo bar" and a word of punctuation alone matches nothing by
 * itself. Returns false when the text holds no word at all.
 */
static bool fts_query(const char *text, struct buf *q)
{
	const char *p = text;
	bool any = false;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
			p++;
		if (!*p)
			break;
		if (any)
			buf_addch(q, ' ');
		buf_addch(q, '"');
		while (*p && !(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')) {
			if (*p == '"')
				buf_addch(q, '"');
			buf_addch(q, *p++);
		}
		buf_addch(q, '"');
		any = true;
	}
	return any;
}

struct bind {
	bool is_text;
	int64_t i;
	const char *s;
};

struct find_sql {
	struct buf sql;
	struct bind binds[8];
	int nbinds;
	struct buf fts;     /* the FTS5 query text */
	struct buf tags;    /* the tag ids as a JSON array */
	struct buf ids;     /* the page's ids as a JSON array */
};

static void add_bind_text(struct find_sql *q, const char *s)
{
	assert(q->nbinds < 8);
	q->binds[q->nbinds++] = (struct bind){ .is_text = true, .s = s };
}

static void add_bind_int(struct find_sql *q, int64_t i)
{
	assert(q->nbinds < 8);
	q->binds[q->nbinds++] = (struct bind){ .is_text = false, .i = i };
}

static bool has_row_filters(const struct insight_filter *f)
{
	return f->status >= 0 || f->priority >= 0 || f->category_id || f->author || f->ntag_ids;
}

/*
 * Starts a query over the insights matching `f`: `select` is what to
 * select, the FROM and WHERE clauses follow with their binds. With search
 * text the FTS5 table drives the query and the insights table is joined
 * only when a filter needs its columns.
 */
static void build_query(const struct insight_filter *f, bool text, const char *select,
			struct find_sql *q)
{
	buf_reset(&q->sql);
	q->nbinds = 0;
	buf_adds(&q->sql, select);
	if (text) {
		if (has_row_filters(f))
			buf_adds(&q->sql, " FROM insights_fts JOIN insights i ON i.id = insights_fts.rowid");
		else
			buf_adds(&q->sql, " FROM insights_fts");
		buf_adds(&q->sql, " WHERE insights_fts MATCH ?");
		add_bind_text(q, q->fts.data);
	} else {
		buf_adds(&q->sql, " FROM insights i WHERE 1");
	}
	if (f->status >= 0) {
		buf_adds(&q->sql, " AND i.status = ?");
		add_bind_text(q, lifecycle_name((enum lifecycle)f->status));
	}
	if (f->priority >= 0) {
		buf_adds(&q->sql, " AND i.priority = ?");
		add_bind_text(q, priority_name((enum priority)f->priority));
	}
	if (f->category_id) {
		buf_adds(&q->sql, " AND i.category_id = ?");
		add_bind_int(q, f->category_id);
	}
	if (f->author) {
		/* instr, not LIKE: % and _ in the filter are plain characters. */
		buf_adds(&q->sql, " AND instr(lower(i.author), lower(?)) > 0");
		add_bind_text(q, f->author);
	}
	if (f->ntag_ids) {
		buf_adds(&q->sql, " AND (SELECT count(*) FROM insight_tags x WHERE x.insight_id = i.id"
				  " AND x.tag_id IN (SELECT value FROM json_each(?))) = ?");
		add_bind_text(q, q->tags.data);
		add_bind_int(q, (int64_t)f->ntag_ids);
	}
}

static sqlite3_stmt *prepare_query(struct sq_conn *c, const struct find_sql *q, struct error *err)
{
	sqlite3_stmt *s = dyn_stmt(c, q->sql.data, err);
	if (!s)
		return NULL;
	for (int i = 0; i < q->nbinds; i++) {
		if (q->binds[i].is_text)
			sqlite3_bind_text(s, i + 1, q->binds[i].s, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(s, i + 1, q->binds[i].i);
	}
	return s;
}

/* The total for a filter that the insight_counts table can answer. */
static enum status count_fast(struct sq_conn *c, const struct insight_filter *f,
			      int64_t *total, struct error *err)
{
	sqlite3_stmt *s = stmt(c, S_COUNT_FAST, err);
	if (!s)
		return err->status;
	bind_text(s, 1, f->status >= 0 ? lifecycle_name((enum lifecycle)f->status) : NULL);
	bind_text(s, 2, f->priority >= 0 ? priority_name((enum priority)f->priority) : NULL);
	if (f->category_id)
		sqlite3_bind_int64(s, 3, f->category_id);
	else
		sqlite3_bind_null(s, 3);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*total = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW ? OK : sq_fail(c, rc, err);
}

/*
 * Reads the insights whose ids `ids` (a JSON array) lists, in that order,
 * with their categories and tags, into `out` (room for `cap`).
 */
static enum status load_insights(struct sq_conn *c, struct arena *a, const struct buf *ids,
				 struct insight *out, size_t cap, size_t *n, struct error *err)
{
	sqlite3_stmt *s = stmt(c, S_INSIGHTS_BY_IDS, err);
	if (!s)
		return err->status;
	sqlite3_bind_text(s, 1, ids->data, (int)ids->len, SQLITE_STATIC);
	*n = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap)
		read_insight(s, a, &out[(*n)++]);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sq_fail(c, rc, err);
	return attach_tags(c, a, out, *n, err);
}

/*
 * One page of a list or a search, in two steps: the ids of the page (from
 * an index or the FTS5 ranking, reading no row that is not on the page),
 * then those rows. The ranking reads no insight row unless a filter needs
 * one.
 */
static enum status find_in_txn(struct sq_conn *c, struct arena *a, const struct insight_filter *f,
			       struct find_sql *q, struct insight_page *out, struct error *err)
{
	bool text = f->text && fts_query(f->text, &q->fts);
	if (f->ntag_ids)
		ids_json(&q->tags, f->tag_ids, f->ntag_ids);

	/* The total. */
	enum status rc;
	if (!text && !f->author && !f->ntag_ids) {
		rc = count_fast(c, f, &out->total, err);
	} else {
		build_query(f, text, "SELECT count(*)", q);
		sqlite3_stmt *s = prepare_query(c, q, err);
		if (!s)
			return err->status;
		int src = sqlite3_step(s);
		if (src == SQLITE_ROW)
			out->total = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		rc = src == SQLITE_ROW ? OK : sq_fail(c, src, err);
	}
	if (rc)
		return rc;

	int64_t offset;
	if (__builtin_mul_overflow(f->page - 1, f->page_size, &offset) || offset >= out->total)
		return OK;

	/*
	 * Bounded ranking: when the text matches more than `window` insights
	 * and the page lies within the first `window` results, only the
	 * `window` newest matches are ranked (their smallest rowid is found by
	 * walking the index backwards, which costs no ranking).
	 */
	int64_t from = 0;
	uint64_t window = c->store->cfg.search_window;
	if (text && window && (uint64_t)offset + (uint64_t)f->page_size <= window) {
		sqlite3_stmt *w = stmt(c, S_SEARCH_WINDOW, err);
		if (!w)
			return err->status;
		sqlite3_bind_text(w, 1, q->fts.data, (int)q->fts.len, SQLITE_STATIC);
		sqlite3_bind_int64(w, 2, (int64_t)window - 1);
		int wrc = sqlite3_step(w);
		if (wrc == SQLITE_ROW)
			from = sqlite3_column_int64(w, 0);
		sqlite3_reset(w);
		if (wrc != SQLITE_ROW && wrc != SQLITE_DONE)
			return sq_fail(c, wrc, err);
	}

	/* The ids of the page. */
	build_query(f, text, text ? "SELECT insights_fts.rowid" : "SELECT i.id", q);
	if (from) {
		buf_adds(&q->sql, " AND insights_fts.rowid >= ?");
		add_bind_int(q, from);
	}
	/*
	 * bm25() with the weights spelled out: FTS5's configured `rank` column
	 * computes the same value but measured twice as slow here.
	 */
	buf_adds(&q->sql, text ? " ORDER BY bm25(insights_fts, 10.0, 5.0, 1.0)"
			       : " ORDER BY i.created_at DESC, i.id DESC");
	buf_adds(&q->sql, " LIMIT ? OFFSET ?");
	add_bind_int(q, f->page_size);
	add_bind_int(q, offset);
	sqlite3_stmt *s = prepare_query(c, q, err);
	if (!s)
		return err->status;
	buf_addch(&q->ids, '[');
	int src;
	size_t n = 0;
	while ((src = sqlite3_step(s)) == SQLITE_ROW)
		buf_addf(&q->ids, "%s%lld", n++ ? "," : "", (long long)sqlite3_column_int64(s, 0));
	buf_addch(&q->ids, ']');
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		return sq_fail(c, src, err);

	/* The rows. */
	out->items = ARENA_NEW_ARRAY(a, struct insight, n ? n : 1);
	return load_insights(c, a, &q->ids, out->items, n, &out->n, err);
}

static enum status sq_insight_find(struct store *st, struct arena *a,
				   const struct insight_filter *f, struct insight_page *out,
				   struct error *err)
{
	memset(out, 0, sizeof(*out));
	struct txn t;
	enum status rc = txn_begin(sq_of(st), TXN_READ, &t, err);
	if (rc)
		return rc;
	struct find_sql q = { .sql = BUF_INIT, .fts = BUF_INIT, .tags = BUF_INIT, .ids = BUF_INIT };
	rc = find_in_txn(t.c, a, f, &q, out, err);
	buf_release(&q.sql);
	buf_release(&q.fts);
	buf_release(&q.tags);
	buf_release(&q.ids);
	return txn_end(&t, rc, err);
}

/* Checks the rows an insight input refers to, adding a problem for each missing one. */
static enum status check_insight_refs(struct sq_conn *c, const struct insight_input *in,
				      struct error *err)
{
	if (in->category_id.set && in->category_id.v) {
		sqlite3_stmt *s = stmt(c, S_CATEGORY_EXISTS, err);
		if (!s)
			return err->status;
		sqlite3_bind_int64(s, 1, in->category_id.v);
		int rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			invalid_category_ref(err, "body.category_id", in->category_id.v);
		else if (rc != SQLITE_ROW)
			return sq_fail(c, rc, err);
	}
	if (in->tag_ids_set && in->ntag_ids) {
		sqlite3_stmt *s = stmt(c, S_TAGS_EXISTING, err);
		if (!s)
			return err->status;
		struct buf ids = BUF_INIT;
		ids_json(&ids, in->tag_ids, in->ntag_ids);
		sqlite3_bind_text(s, 1, ids.data, (int)ids.len, SQLITE_STATIC);
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			invalid_tag_ref(err, sqlite3_column_int64(s, 0));
		sqlite3_reset(s);
		buf_release(&ids);
		if (rc != SQLITE_DONE)
			return sq_fail(c, rc, err);
	}
	return err->status == E_INVALID ? E_INVALID : OK;
}

static void bind_insight_row(sqlite3_stmt *s, const struct insight *r)
{
	bind_text(s, 1, r->title);
	bind_text(s, 2, r->description);
	bind_text(s, 3, r->content);
	bind_text(s, 4, r->source);
	bind_text(s, 5, r->author);
	bind_id(s, 6, r->category_id);
	bind_text(s, 7, priority_name(r->priority));
	bind_text(s, 8, lifecycle_name(r->status));
	bind_ts(s, 9, r->created_at);
	bind_ts(s, 10, r->updated_at);
	bind_ts(s, 11, r->published_at);
}

/* Makes the insight's tags exactly `in->tag_ids`, touching only what changes. */
static enum status set_tags(struct sq_conn *c, int64_t id, const struct insight_input *in,
			    bool fresh, struct error *err)
{
	struct buf ids = BUF_INIT;
	ids_json(&ids, in->tag_ids, in->ntag_ids);
	enum status rc = OK;
	if (!fresh) {
		sqlite3_stmt *s = stmt(c, S_INSIGHT_TAGS_KEEP_ONLY, err);
		if (!s) {
			rc = err->status;
			goto out;
		}
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, ids.data, (int)ids.len, SQLITE_STATIC);
		int src = run(s);
		if (src != SQLITE_OK) {
			rc = sq_fail(c, src, err);
			goto out;
		}
	}
	if (in->ntag_ids) {
		sqlite3_stmt *s = stmt(c, S_INSIGHT_TAGS_ADD, err);
		if (!s) {
			rc = err->status;
			goto out;
		}
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, ids.data, (int)ids.len, SQLITE_STATIC);
		int src = run(s);
		if (src != SQLITE_OK)
			rc = sq_fail(c, src, err);
	}
out:
	buf_release(&ids);
	return rc;
}

/* Inserts one insight (checking what it refers to) in the caller's transaction. */
static enum status insert_insight(struct sq_conn *c, const struct insight_input *in,
				  int64_t *id, struct error *err)
{
	enum status rc = check_insight_refs(c, in, err);
	if (rc)
		return rc;
	char now[TS_SIZE];
	clock_timestamp(now);
	struct insight row;
	insight_init(&row, in, now);
	sqlite3_stmt *s = stmt(c, S_INSIGHT_INSERT, err);
	if (!s)
		return err->status;
	bind_insight_row(s, &row);
	int src = run(s);
	if (src != SQLITE_OK)
		return sq_fail(c, src, err);
	*id = sqlite3_last_insert_rowid(c->db);
	fts_defer(c->store, *id);
	if (in->tag_ids_set)
		rc = set_tags(c, *id, in, true, err);
	return rc;
}

static enum status sq_insight_create(struct store *st, struct arena *a,
				     const struct insight_input *in, struct insight *out,
				     struct error *err)
{
	struct txn t;
	enum status rc = txn_begin(sq_of(st), TXN_APPEND, &t, err);
	if (rc)
		return rc;
	int64_t id = 0;
	rc = insert_insight(t.c, in, &id, err);
	if (rc == OK)
		rc = load_insight(t.c, a, id, out, err);
	return txn_end(&t, rc, err);
}

static enum status sq_insight_create_many(struct store *st, const struct insight_input *in,
					  size_t n, struct error *err)
{
	struct txn t;
	enum status rc = txn_begin(sq_of(st), TXN_APPEND, &t, err);
	if (rc)
		return rc;
	t.c->deadline_ns = 0; /* a batch takes as long as it takes */
	for (size_t i = 0; rc == OK && i < n; i++) {
		int64_t id;
		rc = insert_insight(t.c, &in[i], &id, err);
	}
	return txn_end(&t, rc, err);
}

static enum status sq_insight_update(struct store *st, struct arena *a, int64_t id,
				     const struct insight_input *in, struct insight *out,
				     struct error *err)
{
	struct txn t;
	enum status rc = txn_begin(sq_of(st), TXN_WRITE, &t, err);
	if (rc)
		return rc;
	struct sq_conn *c = t.c;
	struct insight row;
	rc = load_insight(c, a, id, &row, err);
	if (rc == OK)
		rc = check_insight_refs(c, in, err);
	if (rc == OK) {
		char now[TS_SIZE];
		clock_timestamp(now);
		insight_apply(&row, in, now);
		sqlite3_stmt *s = stmt(c, S_INSIGHT_UPDATE, err);
		if (!s) {
			rc = err->status;
		} else {
			bind_insight_row(s, &row);
			sqlite3_bind_int64(s, 12, id);
			int src = run(s);
			rc = src == SQLITE_OK ? OK : sq_fail(c, src, err);
		}
		if (rc == OK && in->tag_ids_set)
			rc = set_tags(c, id, in, false, err);
		if (rc == OK)
			rc = load_insight(c, a, id, out, err);
	}
	return txn_end(&t, rc, err);
}

/* Runs a fixed statement with one id bound; *changes receives the rows touched. */
static enum status run_on_id(struct sq_conn *c, enum sq_stmt which, int64_t id,
			     int *changes, struct error *err)
{
	sqlite3_stmt *s = stmt(c, which, err);
	if (!s)
		return err->status;
	sqlite3_bind_int64(s, 1, id);
	int src = run(s);
	if (src != SQLITE_OK)
		return sq_fail(c, src, err);
	if (changes)
		*changes = sqlite3_changes(c->db);
	return OK;
}

static enum status sq_insight_delete(struct store *st, int64_t id, struct error *err)
{
	struct txn t;
	enum status rc = txn_begin(sq_of(st), TXN_WRITE, &t, err);
	if (rc)
		return rc;
	int changes = 0;
	rc = run_on_id(t.c, S_INSIGHT_TAGS_CLEAR, id, NULL, err);
	if (rc == OK)
		rc = run_on_id(t.c, S_INSIGHT_DELETE, id, &changes, err);
	if (rc == OK && changes == 0)
		rc = error_set(err, E_NOTFOUND, "Insight not found");
	return txn_end(&t, rc, err);
}

/*
 * Runs a fixed statement that takes (limit, offset) as ?1 and ?2 and reads
 * up to `limit` rows into an array of `size`-byte rows allocated in `a`,
 * one row at a time with `read`. For the simple lists of tags, categories
 * and authors.
 */
static enum status read_rows(struct sq_store *ss, enum sq_stmt which, int64_t limit,
			     int64_t offset, size_t size,
			     void (*read)(sqlite3_stmt *s, struct arena *a, void *row),
			     struct arena *a, void **out, size_t *n, struct error *err)
{
	struct sq_conn *c;
	enum status rc = conn_take(ss, &c, err);
	if (rc)
		return rc;
	char *rows = arena_alloc(a, size * (size_t)limit);
	*out = rows;
	*n = 0;
	sqlite3_stmt *s = stmt(c, which, err);
	if (!s) {
		conn_give(ss, c);
		return err->status;
	}
	sqlite3_bind_int64(s, 1, limit);
	sqlite3_bind_int64(s, 2, offset);
	int src;
	while ((src = sqlite3_step(s)) == SQLITE_ROW && *n < (size_t)limit)
		read(s, a, rows + size * (*n)++);
	sqlite3_reset(s);
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		rc = sq_fail(c, src, err);
	conn_give(ss, c);
	return rc;
}

static void read_tag_row(sqlite3_stmt *s, struct arena *a, void *row)
{
	read_tag(s, 0, a, row);
}

static void read_category_row(sqlite3_stmt *s, struct arena *a, void *row)
{
	read_category(s, 0, true, a, row);
}

static void read_author_row(sqlite3_stmt *s, struct arena *a, void *row)
{
	struct count_by_name *r = row;
	r->name = col_text(s, 0, a);
	r->count = sqlite3_column_int64(s, 1);
}

/* ---- tags ----------------------------------------------------------- */

static enum status load_tag(struct sq_conn *c, struct arena *a, int64_t id, struct tag *out,
			    struct error *err)
{
	sqlite3_stmt *s = stmt(c, S_TAG_GET, err);
	if (!s)
		return err->status;
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_tag(s, 0, a, out);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return error_set(err, E_NOTFOUND, "Tag not found");
	return rc == SQLITE_ROW ? OK : sq_fail(c, rc, err);
}

/*
 * Reports a name or slug already used by another row of `what` (the clash
 * statement selects "name matches, slug matches" of the first such row).
 */
static enum status check_clash(struct sq_conn *c, enum sq_stmt which, const char *what,
			       const char *name, const char *slug, int64_t self,
			       struct error *err)
{
	sqlite3_stmt *s = stmt(c, which, err);
	if (!s)
		return err->status;
	bind_text(s, 1, name);
	bind_text(s, 2, slug);
	sqlite3_bind_int64(s, 3, self);
	int rc = sqlite3_step(s);
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

static enum status sq_tag_get(struct store *st, struct arena *a, int64_t id, struct tag *out,
			      struct error *err)
{
	struct sq_store *s = sq_of(st);
	struct sq_conn *c;
	enum status rc = conn_take(s, &c, err);
	if (rc)
		return rc;
	rc = load_tag(c, a, id, out, err);
	conn_give(s, c);
	return rc;
}

static enum status sq_tag_list(struct store *st, struct arena *a, struct range r,
			       struct tag **out, size_t *n, struct error *err)
{
	void *rows;
	enum status rc = read_rows(sq_of(st), S_TAG_LIST, r.limit, r.skip, sizeof(struct tag),
				   read_tag_row, a, &rows, n, err);
	*out = rows;
	return rc;
}

static enum status write_tag(struct sq_conn *c, enum sq_stmt which, const struct tag *row,
			     struct error *err)
{
	sqlite3_stmt *s = stmt(c, which, err);
	if (!s)
		return err->status;
	bind_text(s, 1, row->name);
	bind_text(s, 2, row->slug);
	bind_text(s, 3, row->description);
	bind_text(s, 4, row->color);
	if (which == S_TAG_INSERT)
		bind_ts(s, 5, row->created_at);
	else
		sqlite3_bind_int64(s, 5, row->id);
	int src = run(s);
	return src == SQLITE_OK ? OK : sq_fail(c, src, err);
}

static enum status sq_tag_create(struct store *st, struct arena *a, const struct tag_input *in,
				 struct tag *out, struct error *err)
{
	struct txn t;
	enum status rc = txn_begin(sq_of(st), TXN_WRITE, &t, err);
	if (rc)
		return rc;
	struct tag row = { 0 };
	tag_apply(&row, in);
	clock_timestamp(row.created_at);
	rc = check_clash(t.c, S_TAG_CLASH, "Tag", row.name, row.slug, 0, err);
	if (rc == OK)
		rc = write_tag(t.c, S_TAG_INSERT, &row, err);
	if (rc == OK)
		rc = load_tag(t.c, a, sqlite3_last_insert_rowid(t.c->db), out, err);
	return txn_end(&t, rc, err);
}

static enum status sq_tag_update(struct store *st, struct arena *a, int64_t id,
				 const struct tag_input *in, struct tag *out, struct error *err)
{
	struct txn t;
	enum status rc = txn_begin(sq_of(st), TXN_WRITE, &t, err);
	if (rc)
		return rc;
	struct tag row;
	rc = load_tag(t.c, a, id, &row, err);
	if (rc == OK) {
		tag_apply(&row, in);
		rc = check_clash(t.c, S_TAG_CLASH, "Tag", row.name, row.slug, id, err);
	}
	if (rc == OK)
		rc = write_tag(t.c, S_TAG_UPDATE, &row, err);
	if (rc == OK)
		rc = load_tag(t.c, a, id, out, err);
	return txn_end(&t, rc, err);
}

static enum status sq_tag_delete(struct store *st, int64_t id, struct error *err)
{
	struct txn t;
	enum status rc = txn_begin(sq_of(st), TXN_WRITE, &t, err);
	if (rc)
		return rc;
	int changes = 0;
	rc = run_on_id(t.c, S_TAG_UNLINK, id, NULL, err);
	if (rc == OK)
		rc = run_on_id(t.c, S_TAG_DELETE, id, &changes, err);
	if (rc == OK && changes == 0)
		rc = error_set(err, E_NOTFOUND, "Tag not found");
	return txn_end(&t, rc, err);
}

/* ---- categories ----------------------------------------------------- */

static enum status load_category(struct sq_conn *c, struct arena *a, int64_t id,
				 struct category *out, struct error *err)
{
	sqlite3_stmt *s = stmt(c, S_CATEGORY_GET, err);
	if (!s)
		return err->status;
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_category(s, 0, true, a, out);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return error_set(err, E_NOTFOUND, "Category not found");
	return rc == SQLITE_ROW ? OK : sq_fail(c, rc, err);
}

static enum status sq_category_get(struct store *st, struct arena *a, int64_t id,
				   struct category *out, struct error *err)
{
	struct sq_store *s = sq_of(st);
	struct sq_conn *c;
	enum status rc = conn_take(s, &c, err);
	if (rc)
		return rc;
	rc = load_category(c, a, id, out, err);
	conn_give(s, c);
	return rc;
}

static enum status sq_category_list(struct store *st, struct arena *a, struct range r,
				    struct category **out, size_t *n, struct error *err)
{
	void *rows;
	enum status rc = read_rows(sq_of(st), S_CATEGORY_LIST, r.limit, r.skip,
				   sizeof(struct category), read_category_row, a, &rows, n, err);
	*out = rows;
	return rc;
}

/*
 * Checks a category's parent: it must exist and, for an existing category
 * `self`, must be neither `self` nor one of its descendants.
 */
static enum status check_parent(struct sq_conn *c, int64_t parent, int64_t self,
				struct error *err)
{
	sqlite3_stmt *s = stmt(c, S_CATEGORY_EXISTS, err);
	if (!s)
		return err->status;
	sqlite3_bind_int64(s, 1, parent);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return invalid_category_ref(err, "body.parent_id", parent);
	if (rc != SQLITE_ROW)
		return sq_fail(c, rc, err);
	if (!self)
		return OK;
	s = stmt(c, S_CATEGORY_IS_ANCESTOR, err);
	if (!s)
		return err->status;
	sqlite3_bind_int64(s, 1, parent);
	sqlite3_bind_int64(s, 2, self);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return invalid_parent_cycle(err, parent);
	return rc == SQLITE_DONE ? OK : sq_fail(c, rc, err);
}

static enum status write_category(struct sq_conn *c, enum sq_stmt which,
				  const struct category *row, struct error *err)
{
	sqlite3_stmt *s = stmt(c, which, err);
	if (!s)
		return err->status;
	bind_text(s, 1, row->name);
	bind_text(s, 2, row->slug);
	bind_text(s, 3, row->description);
	bind_id(s, 4, row->parent_id);
	bind_text(s, 5, row->color);
	bind_text(s, 6, row->icon);
	if (which == S_CATEGORY_INSERT) {
		bind_ts(s, 7, row->created_at);
		bind_ts(s, 8, row->updated_at);
	} else {
		bind_ts(s, 7, row->updated_at);
		sqlite3_bind_int64(s, 8, row->id);
	}
	int src = run(s);
	return src == SQLITE_OK ? OK : sq_fail(c, src, err);
}

static enum status sq_category_create(struct store *st, struct arena *a,
				      const struct category_input *in, struct category *out,
				      struct error *err)
{
	struct txn t;
	enum status rc = txn_begin(sq_of(st), TXN_WRITE, &t, err);
	if (rc)
		return rc;
	char now[TS_SIZE];
	clock_timestamp(now);
	struct category row = { 0 };
	category_apply(&row, in, now);
	if (row.parent_id)
		rc = check_parent(t.c, row.parent_id, 0, err);
	if (rc == OK)
		rc = check_clash(t.c, S_CATEGORY_CLASH, "Category", row.name, row.slug, 0, err);
	if (rc == OK)
		rc = write_category(t.c, S_CATEGORY_INSERT, &row, err);
	if (rc == OK)
		rc = load_category(t.c, a, sqlite3_last_insert_rowid(t.c->db), out, err);
	return txn_end(&t, rc, err);
}

static enum status sq_category_update(struct store *st, struct arena *a, int64_t id,
				      const struct category_input *in, struct category *out,
				      struct error *err)
{
	struct txn t;
	enum status rc = txn_begin(sq_of(st), TXN_WRITE, &t, err);
	if (rc)
		return rc;
	struct category row;
	rc = load_category(t.c, a, id, &row, err);
	if (rc == OK) {
		char now[TS_SIZE];
		clock_timestamp(now);
		category_apply(&row, in, now);
		if (in->parent_id.set && row.parent_id)
			rc = check_parent(t.c, row.parent_id, id, err);
	}
	if (rc == OK)
		rc = check_clash(t.c, S_CATEGORY_CLASH, "Category", row.name, row.slug, id, err);
	if (rc == OK)
		rc = write_category(t.c, S_CATEGORY_UPDATE, &row, err);
	if (rc == OK)
		rc = load_category(t.c, a, id, out, err);
	return txn_end(&t, rc, err);
}

static enum status sq_category_delete(struct store *st, int64_t id, struct error *err)
{
	struct txn t;
	enum status rc = txn_begin(sq_of(st), TXN_WRITE, &t, err);
	if (rc)
		return rc;
	struct arena a = ARENA_INIT;
	struct category row;
	rc = load_category(t.c, &a, id, &row, err);
	arena_release(&a);
	if (rc == OK) {
		sqlite3_stmt *s = stmt(t.c, S_CATEGORY_USAGE, err);
		if (!s) {
			rc = err->status;
		} else {
			sqlite3_bind_int64(s, 1, id);
			int src = sqlite3_step(s);
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
		rc = run_on_id(t.c, S_CATEGORY_DELETE, id, NULL, err);
	return txn_end(&t, rc, err);
}

/* ---- statistics ----------------------------------------------------- */

struct cat_count {
	int64_t id;
	int64_t n;
};

static enum status stats_in_txn(struct sq_conn *c, struct arena *a, struct statistics *out,
				struct error *err)
{
	/* Counts per (status, priority, category) from the trigger-kept table. */
	sqlite3_stmt *s = stmt(c, S_STATS_COUNTS, err);
	if (!s)
		return err->status;
	struct cat_count *cats = NULL;
	size_t ncats = 0, cap = 0;
	int64_t uncategorized = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		enum lifecycle ls;
		enum priority pr;
		int64_t n = sqlite3_column_int64(s, 3);
		if (!lifecycle_parse((const char *)sqlite3_column_text(s, 0), &ls))
			out->by_status[ls] += n;
		if (!priority_parse((const char *)sqlite3_column_text(s, 1), &pr))
			out->by_priority[pr] += n;
		out->total_insights += n;
		int64_t cat = sqlite3_column_int64(s, 2);
		if (!cat) {
			uncategorized += n;
			continue;
		}
		size_t k = 0;
		while (k < ncats && cats[k].id != cat)
			k++;
		if (k == ncats) {
			if (ncats == cap) {
				cap = cap ? cap * 2 : 16;
				cats = xrealloc(cats, cap * sizeof(*cats));
			}
			cats[ncats++] = (struct cat_count){ cat, 0 };
		}
		cats[k].n += n;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(cats);
		return sq_fail(c, rc, err);
	}

	/* Every category by name, with its count (zero included). */
	s = stmt(c, S_STATS_CATEGORIES, err);
	if (!s) {
		free(cats);
		return err->status;
	}
	size_t cap2 = 16, n2 = 0;
	struct count_by_name *names = xmalloc(cap2 * sizeof(*names));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n2 == cap2) {
			cap2 *= 2;
			names = xrealloc(names, cap2 * sizeof(*names));
		}
		int64_t id = sqlite3_column_int64(s, 0);
		int64_t n = 0;
		for (size_t k = 0; k < ncats; k++)
			if (cats[k].id == id)
				n = cats[k].n;
		names[n2++] = (struct count_by_name){ col_text(s, 1, a), n };
	}
	sqlite3_reset(s);
	free(cats);
	if (rc != SQLITE_DONE) {
		free(names);
		return sq_fail(c, rc, err);
	}
	out->total_categories = (int64_t)n2;
	out->by_category = ARENA_NEW_ARRAY(a, struct count_by_name, n2 + 1);
	memcpy(out->by_category, names, n2 * sizeof(*names));
	free(names);
	out->ncategories_counted = n2;
	if (uncategorized) {
		size_t k = 0;
		while (k < n2 && strcmp(out->by_category[k].name, UNCATEGORIZED))
			k++;
		if (k < n2) {
			out->by_category[k].count += uncategorized;
		} else {
			out->by_category[n2] = (struct count_by_name){ UNCATEGORIZED, uncategorized };
			out->ncategories_counted++;
		}
	}

	s = stmt(c, S_STATS_TAGS, err);
	if (!s)
		return err->status;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		out->total_tags = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return sq_fail(c, rc, err);

	s = stmt(c, S_INSIGHT_RECENT, err);
	if (!s)
		return err->status;
	sqlite3_bind_int(s, 1, STATS_RECENT);
	out->recent = ARENA_NEW_ARRAY(a, struct insight, STATS_RECENT);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && out->nrecent < STATS_RECENT)
		read_insight(s, a, &out->recent[out->nrecent++]);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sq_fail(c, rc, err);
	return attach_tags(c, a, out->recent, out->nrecent, err);
}

static enum status sq_statistics(struct store *st, struct arena *a, struct statistics *out,
				 struct error *err)
{
	memset(out, 0, sizeof(*out));
	struct txn t;
	enum status rc = txn_begin(sq_of(st), TXN_READ, &t, err);
	if (rc)
		return rc;
	rc = stats_in_txn(t.c, a, out, err);
	return txn_end(&t, rc, err);
}

static enum status sq_trends(struct store *st, struct trend_day *days, size_t ndays,
			     struct error *err)
{
	struct sq_store *ss = sq_of(st);
	struct sq_conn *c;
	enum status rc = conn_take(ss, &c, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = stmt(c, S_TRENDS, err);
	if (!s) {
		conn_give(ss, c);
		return err->status;
	}
	sqlite3_bind_text(s, 1, days[0].date, -1, SQLITE_STATIC);
	int src;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		const char *day = (const char *)sqlite3_column_text(s, 0);
		enum lifecycle ls;
		if (!day || lifecycle_parse((const char *)sqlite3_column_text(s, 1), &ls))
			continue;
		for (size_t i = 0; i < ndays; i++)
			if (!strcmp(days[i].date, day))
				days[i].by_status[ls] += sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		rc = sq_fail(c, src, err);
	conn_give(ss, c);
	return rc;
}

static enum status sq_top_authors(struct store *st, struct arena *a, int64_t limit,
				  struct count_by_name **out, size_t *n, struct error *err)
{
	void *rows;
	enum status rc = read_rows(sq_of(st), S_TOP_AUTHORS, limit, 0, sizeof(struct count_by_name),
				   read_author_row, a, &rows, n, err);
	*out = rows;
	return rc;
}

static enum status sq_recount_tags(struct store *st, struct arena *a, struct tag_fix **fixes,
				   size_t *n, struct error *err)
{
	*fixes = NULL;
	*n = 0;
	struct txn t;
	enum status rc = txn_begin(sq_of(st), TXN_WRITE, &t, err);
	if (rc)
		return rc;
	t.c->deadline_ns = 0;
	sqlite3_stmt *s = stmt(t.c, S_RECOUNT_DRIFT, err);
	if (!s)
		return txn_end(&t, err->status, err);
	size_t cap = 0;
	int src;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct tag_fix *grown = ARENA_NEW_ARRAY(a, struct tag_fix, cap);
			if (*n)
				memcpy(grown, *fixes, *n * sizeof(**fixes));
			*fixes = grown;
		}
		struct tag_fix *f = &(*fixes)[(*n)++];
		f->id = sqlite3_column_int64(s, 0);
		f->name = col_text(s, 1, a);
		f->was = sqlite3_column_int64(s, 2);
		f->now = sqlite3_column_int64(s, 3);
	}
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		rc = sq_fail(t.c, src, err);
	for (size_t i = 0; rc == OK && i < *n; i++)
		rc = run_on_id(t.c, S_RECOUNT_FIX, (*fixes)[i].id, NULL, err);
	return txn_end(&t, rc, err);
}

/*
 * After a bulk load the FTS5 index holds one segment per transaction;
 * merging them all now spares the first writes after the load a merge of
 * the whole index (at a million insights that merge took longer than any
 * request may), and makes searches read one segment.
 */
static enum status sq_optimize(struct store *st, struct error *err)
{
	struct txn t;
	enum status rc = txn_begin(sq_of(st), TXN_WRITE, &t, err);
	if (rc)
		return rc;
	t.c->deadline_ns = 0;
	int src = exec(t.c, "INSERT INTO insights_fts (insights_fts) VALUES ('optimize')");
	if (src == SQLITE_OK)
		src = exec(t.c, "PRAGMA optimize");
	rc = src == SQLITE_OK ? OK : sq_fail(t.c, src, err);
	rc = txn_end(&t, rc, err);
	if (rc == OK) {
		struct sq_conn *c;
		if (conn_take(sq_of(st), &c, err) == OK) {
			exec(c, "PRAGMA wal_checkpoint(TRUNCATE)");
			conn_give(sq_of(st), c);
		}
	}
	return rc;
}

static enum status sq_gauges(struct store *st, struct store_gauges *out, struct error *err)
{
	struct sq_store *ss = sq_of(st);
	memset(out, 0, sizeof(*out));
	struct sq_conn *c;
	enum status rc = conn_take(ss, &c, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = stmt(c, S_GAUGES, err);
	if (!s) {
		conn_give(ss, c);
		return err->status;
	}
	int src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		out->insights = sqlite3_column_int64(s, 0);
		out->tags = sqlite3_column_int64(s, 1);
		out->categories = sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	if (src != SQLITE_ROW)
		rc = sq_fail(c, src, err);
	conn_give(ss, c);
	pthread_mutex_lock(&ss->pool_lock);
	out->pool_idle = ss->nidle;
	out->pool_in_use = (int64_t)ss->nconns - ss->nidle;
	pthread_mutex_unlock(&ss->pool_lock);
	return rc;
}

const struct store_driver store_sqlite_driver = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.migrate = sq_migrate,
	.ping = sq_ping,
	.insight_get = sq_insight_get,
	.insight_find = sq_insight_find,
	.insight_create = sq_insight_create,
	.insight_create_many = sq_insight_create_many,
	.insight_update = sq_insight_update,
	.insight_delete = sq_insight_delete,
	.tag_get = sq_tag_get,
	.tag_list = sq_tag_list,
	.tag_create = sq_tag_create,
	.tag_update = sq_tag_update,
	.tag_delete = sq_tag_delete,
	.category_get = sq_category_get,
	.category_list = sq_category_list,
	.category_create = sq_category_create,
	.category_update = sq_category_update,
	.category_delete = sq_category_delete,
	.statistics = sq_statistics,
	.trends = sq_trends,
	.top_authors = sq_top_authors,
	.gauges = sq_gauges,
	.optimize = sq_optimize,
	.recount_tags = sq_recount_tags,
};
