/*
 * pg.c: the PostgreSQL storage driver (store.h), for any number of
 * stateless instances sharing one primary, with an optional streaming
 * replica for reads. It answers every call exactly as the SQLite driver
 * does (same rows, order, statuses and messages); where the two differ it is
 * in how they stay correct when several processes write at once.
 *
 * Connections: two pools (the primary, and the replica when read_url is
 * set) of at most pool_size libpq connections each, opened on demand. Each
 * connection prepares a fixed statement (enum pg_stmt) the first time it
 * runs it and keeps it for its life. SQL built from a filter without search
 * text is prepared too, per connection, keyed by its text (a filter shape
 * gives one text; BUILT_CACHE of them); SQL with search text goes through
 * PQsendQueryParams, so it is planned with the actual values (which lets the
 * planner evaluate the full-text query once). A caller that finds the pool
 * exhausted waits, at most query_timeout, for a connection to come back.
 *
 * Round trips: the event loop waits for every read it runs, so a read's
 * cost is mostly its round trips. Reads of several statements send them
 * pipelined (q_pipeline: libpq's pipeline mode, one Sync), BEGIN and COMMIT
 * included, so that a page or the statistics take two round trips, not
 * five to seven.
 *
 * Time limits: every call has a deadline of query_timeout (waiting for a
 * connection included). The server enforces it per statement
 * (statement_timeout); the client gives it one more second and then drops
 * the connection, so that a server that stops answering (a dead host, a
 * partition) costs one query timeout, not a TCP timeout. All I/O is
 * non-blocking and polled against the deadline; connecting is bounded by
 * connect_timeout (3 s unless the URL says otherwise) and TCP keepalives
 * detect a peer that vanished while idle.
 *
 * Outages: a connection that failed is never reused; an idle one is checked
 * (without a round trip) before it is handed out, so a restarted server's
 * closed connections are noticed and replaced. While the server is down,
 * each call fails in one connection attempt with E_UNAVAILABLE; when it
 * comes back, the next call connects again. Nothing is retried across a
 * COMMIT whose outcome is unknown.
 *
 * Transactions: every write is one READ COMMITTED transaction that locks
 * what it relies on before reading it, always in the same order (the
 * insight row, then its category, then its tags by ascending id, then the
 * insight_counts rows the triggers move), so that concurrent writers queue
 * instead of deadlocking or reading stale rows; a deadlock or serialization
 * failure that still happens is retried a few times after a short random
 * pause. Reads of more than one statement run in one REPEATABLE READ
 * READ ONLY transaction: one snapshot, as the contract asks.
 *
 * Other instances: after each write commits, the connection that made it
 * sends a notification (NOTIFY_SQL); an instance that watches (pg_watch)
 * listens on a connection of its own and tells the service, which bumps
 * its data version so that its response cache drops what it computed
 * before. Notifying after the commit, in a transaction of its own without
 * a synchronous flush, keeps commits from queueing on the server's global
 * notification lock. A notification that is lost (the writer's connection
 * broke just after its commit) leaves other instances' caches to expire
 * (2 s).
 *
 * Errors: SQLSTATEs map to statuses in pg_fail(); the server's message goes
 * to the log, never to the client, and the connection string only ever
 * appears redacted.
 */
#include <libpq-fe.h>

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/dburl.h"
#include "core/validate.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/pg.h"
#include "store/pg_schema.h"
#include "store/store.h"
#include "lib/banned.h"

#define POOL_SIZE_DEFAULT 10
#define CONNECT_TIMEOUT_MS_DEFAULT 3000
/* How long the client waits past statement_timeout before dropping a connection. */
#define CLIENT_GRACE_MS 1000
/* Attempts of a transaction that hits a deadlock or serialization failure. */
#define MAX_ATTEMPTS 5
/* At most one "cannot connect" line per pool in this many seconds. */
#define CONNECT_LOG_EVERY_S 5

/*
 * Distinct filter shapes a connection keeps prepared (a filter has five
 * optional parts, so at most 32 shapes without text); beyond, SQL is sent
 * unprepared.
 */
#define BUILT_CACHE 48
/* Statements in one pipeline at most. */
#define MAX_PIPELINE 8

/* Advisory lock keys ('insight' in ASCII, and the next value). */
#define LOCK_MIGRATE "29676314523297908"
/* Tells the instances that listen that the data changed (see the header). */
#define CHANNEL "insights_changes"
#define NOTIFY_SQL                                                     \
	"BEGIN; SET LOCAL synchronous_commit TO off;"                  \
	" SELECT pg_notify('" CHANNEL "', ''); COMMIT"
/* How often the listener looks at its stop flag, and retries connecting. */
#define WATCH_POLL_MS 200
#define WATCH_RETRY_MS 1000
#define LOCK_CATEGORY_TREE "29676314523297909"

#define INSIGHT_COLS                                                               \
	"i.id, i.title, i.description, i.content, i.source, i.author, i.category_id, " \
	"i.priority, i.status, i.created_at, i.updated_at, i.published_at, "          \
	"c.id, c.name, c.slug, c.description, c.parent_id, c.color, c.icon, "          \
	"c.created_at, c.updated_at"
#define INSIGHT_NCOLS 21
#define INSIGHT_FROM "insights i LEFT JOIN categories c ON c.id = i.category_id"
#define TAG_COLS "t.id, t.name, t.slug, t.description, t.color, t.created_at, t.usage_count"
#define CATEGORY_COLS                                                      \
	"c.id, c.name, c.slug, c.description, c.parent_id, c.color, c.icon, " \
	"c.created_at, c.updated_at, "                                        \
	"(SELECT coalesce(sum(n), 0) FROM insight_counts k WHERE k.category_id = c.id)"
/* One insight with its tags, one row per tag (or one row without). */
#define INSIGHT_WITH_TAGS                                                     \
	"SELECT " INSIGHT_COLS ", " TAG_COLS " FROM " INSIGHT_FROM               \
	" LEFT JOIN insight_tags it ON it.insight_id = i.id"                  \
	" LEFT JOIN tags t ON t.id = it.tag_id WHERE i.id = $1"
/* ts_rank's weights for D, C, B, A: content 1, description 5, title 10, as bm25 on SQLite. */
#define RANK_WEIGHTS "'{0.1, 0.1, 0.5, 1.0}'"

enum pg_stmt {
	P_BEGIN,
	P_BEGIN_SNAPSHOT,
	P_COMMIT,
	P_ROLLBACK,
	P_PING,
	P_INSIGHT_GET,
	P_INSIGHT_GET_LOCKED,
	P_INSIGHT_LOCK,
	P_INSIGHT_TAGS,
	P_INSIGHT_INSERT,
	P_INSIGHT_UPDATE,
	P_INSIGHT_DELETE,
	P_INSIGHT_TAGS_ADD,
	P_INSIGHT_TAGS_KEEP_ONLY,
	P_INSIGHT_TAGS_CLEAR,
	P_INSIGHT_RECENT,
	P_SEARCH_WINDOW,
	P_COUNT_FAST,
	P_TAGS_LOCK,
	P_TAG_GET,
	P_TAG_GET_LOCKED,
	P_TAG_LOCK_DELETE,
	P_TAG_LIST,
	P_TAG_CLASH,
	P_TAG_INSERT,
	P_TAG_UPDATE,
	P_TAG_DELETE,
	P_TAG_UNLINK,
	P_CATEGORY_GET,
	P_CATEGORY_GET_LOCKED,
	P_CATEGORY_LIST,
	P_CATEGORY_KEY_SHARE,
	P_CATEGORY_LOCK_DELETE,
	P_CATEGORY_CLASH,
	P_CATEGORY_INSERT,
	P_CATEGORY_UPDATE,
	P_CATEGORY_DELETE,
	P_CATEGORY_IS_ANCESTOR,
	P_CATEGORY_USAGE,
	P_CATEGORY_TREE_LOCK,
	P_STATS_COUNTS,
	P_STATS_CATEGORIES,
	P_STATS_TAGS,
	P_TRENDS,
	P_TOP_AUTHORS,
	P_GAUGES,
	P_RECOUNT_PREPARE,
	P_RECOUNT_LOCK,
	P_RECOUNT,
	P__COUNT
};

static const char *const pg_sql[P__COUNT] = {
	[P_BEGIN] = "BEGIN",
	[P_BEGIN_SNAPSHOT] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	[P_COMMIT] = "COMMIT",
	[P_ROLLBACK] = "ROLLBACK",
	[P_PING] = "SELECT 1",
	[P_INSIGHT_GET] = INSIGHT_WITH_TAGS " ORDER BY t.id",
	/* The row an update rewrites, held until commit so no update is lost. */
	[P_INSIGHT_GET_LOCKED] = INSIGHT_WITH_TAGS " ORDER BY t.id FOR NO KEY UPDATE OF i",
	[P_INSIGHT_LOCK] = "SELECT 1 FROM insights WHERE id = $1 FOR UPDATE",
	[P_INSIGHT_TAGS] =
		"SELECT it.insight_id, " TAG_COLS " FROM insight_tags it"
		" JOIN tags t ON t.id = it.tag_id"
		" WHERE it.insight_id = ANY($1::bigint[])"
		" ORDER BY it.insight_id, t.id",
	[P_INSIGHT_INSERT] =
		"INSERT INTO insights (title, description, content, source, author, category_id,"
		" priority, status, created_at, updated_at, published_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
	[P_INSIGHT_UPDATE] =
		"UPDATE insights SET title = $1, description = $2, content = $3, source = $4,"
		" author = $5, category_id = $6, priority = $7, status = $8, created_at = $9,"
		" updated_at = $10, published_at = $11 WHERE id = $12",
	[P_INSIGHT_DELETE] = "DELETE FROM insights WHERE id = $1",
	/* unnest keeps the (ascending) order: the triggers lock tags in that order. */
	[P_INSIGHT_TAGS_ADD] =
		"INSERT INTO insight_tags (insight_id, tag_id)"
		" SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
	[P_INSIGHT_TAGS_KEEP_ONLY] =
		"DELETE FROM insight_tags WHERE insight_id = $1 AND tag_id <> ALL($2::bigint[])",
	[P_INSIGHT_TAGS_CLEAR] = "DELETE FROM insight_tags WHERE insight_id = $1",
	/* Chosen on ids alone, then joined to the few wide rows. */
	[P_INSIGHT_RECENT] =
		"SELECT " INSIGHT_COLS " FROM (SELECT id FROM insights"
		" ORDER BY created_at DESC, id DESC LIMIT $1) p"
		" JOIN insights i ON i.id = p.id LEFT JOIN categories c ON c.id = i.category_id"
		" ORDER BY i.created_at DESC, i.id DESC",
	/* The id from which the `window` ($2 + 1) newest matches of a search start. */
	[P_SEARCH_WINDOW] =
		"SELECT id FROM insights WHERE search @@ insights_fts_query($1)"
		" ORDER BY id DESC LIMIT 1 OFFSET $2",
	[P_COUNT_FAST] =
		"SELECT coalesce(sum(n), 0) FROM insight_counts"
		" WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR priority = $2)"
		" AND ($3::bigint IS NULL OR category_id = $3)",
	/*
	 * Locks, in ascending id order, the tags a write is about to count: those
	 * it adds ($2) and those the insight $1 carries now. The association
	 * triggers then update rows this transaction already holds.
	 */
	[P_TAGS_LOCK] =
		"SELECT id FROM tags WHERE id = ANY($2::bigint[])"
		" OR id IN (SELECT tag_id FROM insight_tags WHERE insight_id = $1)"
		" ORDER BY id FOR NO KEY UPDATE",
	[P_TAG_GET] = "SELECT " TAG_COLS " FROM tags t WHERE t.id = $1",
	[P_TAG_GET_LOCKED] = "SELECT " TAG_COLS " FROM tags t WHERE t.id = $1 FOR NO KEY UPDATE",
	[P_TAG_LOCK_DELETE] = "SELECT 1 FROM tags WHERE id = $1 FOR UPDATE",
	[P_TAG_LIST] =
		"SELECT " TAG_COLS " FROM tags t ORDER BY t.name COLLATE \"C\" LIMIT $1 OFFSET $2",
	[P_TAG_CLASH] =
		"SELECT name = $1, slug = $2 FROM tags WHERE (name = $1 OR slug = $2) AND id <> $3"
		" ORDER BY id LIMIT 1",
	[P_TAG_INSERT] =
		"INSERT INTO tags (name, slug, description, color, created_at, usage_count)"
		" VALUES ($1, $2, $3, $4, $5, 0) RETURNING id",
	[P_TAG_UPDATE] =
		"UPDATE tags SET name = $1, slug = $2, description = $3, color = $4 WHERE id = $5",
	[P_TAG_DELETE] = "DELETE FROM tags WHERE id = $1",
	[P_TAG_UNLINK] = "DELETE FROM insight_tags WHERE tag_id = $1",
	[P_CATEGORY_GET] = "SELECT " CATEGORY_COLS " FROM categories c WHERE c.id = $1",
	[P_CATEGORY_GET_LOCKED] =
		"SELECT " CATEGORY_COLS " FROM categories c WHERE c.id = $1 FOR NO KEY UPDATE",
	[P_CATEGORY_LIST] =
		"SELECT " CATEGORY_COLS " FROM categories c ORDER BY c.name COLLATE \"C\""
		" LIMIT $1 OFFSET $2",
	/* A category a new reference points to: it cannot be deleted until we commit. */
	[P_CATEGORY_KEY_SHARE] = "SELECT 1 FROM categories WHERE id = $1 FOR KEY SHARE",
	/* Taken before counting references, which therefore cannot appear meanwhile. */
	[P_CATEGORY_LOCK_DELETE] = "SELECT 1 FROM categories WHERE id = $1 FOR UPDATE",
	[P_CATEGORY_CLASH] =
		"SELECT name = $1, slug = $2 FROM categories WHERE (name = $1 OR slug = $2)"
		" AND id <> $3 ORDER BY id LIMIT 1",
	[P_CATEGORY_INSERT] =
		"INSERT INTO categories (name, slug, description, parent_id, color, icon,"
		" created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
	[P_CATEGORY_UPDATE] =
		"UPDATE categories SET name = $1, slug = $2, description = $3, parent_id = $4,"
		" color = $5, icon = $6, updated_at = $7 WHERE id = $8",
	[P_CATEGORY_DELETE] = "DELETE FROM categories WHERE id = $1",
	/* Is $2 the category $1 or one of its ancestors? UNION stops on a loop. */
	[P_CATEGORY_IS_ANCESTOR] =
		"WITH RECURSIVE up(id) AS (SELECT $1::bigint UNION"
		" SELECT c.parent_id FROM categories c JOIN up ON c.id = up.id"
		" WHERE c.parent_id IS NOT NULL)"
		" SELECT 1 FROM up WHERE id = $2",
	[P_CATEGORY_USAGE] =
		"SELECT (SELECT count(*) FROM insights WHERE category_id = $1),"
		" (SELECT count(*) FROM categories WHERE parent_id = $1)",
	/*
	 * Serialises changes of parent: two moves that are each acyclic can make
	 * a cycle together, and row locks cannot see that.
	 */
	[P_CATEGORY_TREE_LOCK] = "SELECT pg_advisory_xact_lock(" LOCK_CATEGORY_TREE ")",
	[P_STATS_COUNTS] =
		"SELECT status, priority, category_id, n FROM insight_counts WHERE n <> 0",
	[P_STATS_CATEGORIES] = "SELECT id, name FROM categories ORDER BY name COLLATE \"C\"",
	[P_STATS_TAGS] = "SELECT count(*) FROM tags",
	[P_TRENDS] =
		"SELECT to_char(created_at, 'YYYY-MM-DD') AS day, status, count(*) FROM insights"
		" WHERE created_at >= $1::timestamp GROUP BY day, status",
	[P_TOP_AUTHORS] =
		"SELECT author, count(*) AS n FROM insights WHERE status = 'published'"
		" GROUP BY author ORDER BY n DESC, author COLLATE \"C\" LIMIT $1",
	/*
	 * A recount holds off every change of associations (SHARE conflicts with
	 * writes, not reads) so that the counts it computes stay true until it
	 * commits; it is a maintenance command and may take its time.
	 */
	[P_GAUGES] =
		"SELECT (SELECT coalesce(sum(n), 0) FROM insight_counts),"
		" (SELECT count(*) FROM tags), (SELECT count(*) FROM categories)",
	[P_RECOUNT_PREPARE] = "SELECT set_config('statement_timeout', '0', true)",
	[P_RECOUNT_LOCK] = "LOCK TABLE insight_tags IN SHARE MODE",
	[P_RECOUNT] =
		"WITH real AS (SELECT t.id, t.name, t.usage_count AS was,"
		"   (SELECT count(*) FROM insight_tags it WHERE it.tag_id = t.id) AS now FROM tags t),"
		" fixed AS (UPDATE tags SET usage_count = real.now FROM real"
		"   WHERE tags.id = real.id AND real.was <> real.now RETURNING tags.id)"
		" SELECT real.id, real.name, real.was, real.now FROM real JOIN fixed ON fixed.id = real.id"
		" ORDER BY real.id",
};

/* ---- the handle ------------------------------------------------------ */

struct pg_pool;

struct pg_conn {
	PGconn *db;
	struct pg_pool *pool;
	bool prepared[P__COUNT];
	/* SQL built from filters that this connection has prepared, as "d<index>". */
	char *built[BUILT_CACHE];
	unsigned nbuilt;
	bool broken;            /* failed: close it instead of reusing it */
	bool timed_out;         /* the client deadline passed */
	bool committing;        /* the failure, if any, was at COMMIT */
	char sqlstate[6];       /* of the last failure; "" when none */
	char constraint[64];    /* of the last constraint violation */
	uint64_t deadline_ns;   /* client deadline for I/O; 0: none */
	struct pg_conn *next;   /* in the idle list */
};

struct pg_pool {
	const char *role;       /* "primary" or "replica", for the log */
	char *conninfo;
	char *redacted;
	unsigned size;
	unsigned connect_timeout_ms;
	const struct store_config *cfg;
	pthread_mutex_t lock;
	pthread_cond_t returned; /* a connection came back or closed */
	unsigned open;          /* connections that exist, idle or taken */
	unsigned nidle;         /* of which idle */
	struct pg_conn *idle;
	uint64_t last_log_ns;   /* of the last "cannot connect" line */
	unsigned unlogged;      /* failures since then */
};

struct pg_store {
	struct store base;
	struct store_config cfg;
	struct pg_pool primary;
	struct pg_pool *replica; /* NULL: reads go to the primary */
	/* The listener (pg_watch), when one runs. */
	pthread_t watcher;
	bool watching;
	atomic_bool stop_watching;
	void (*changed)(void *arg, bool heard);
	void *changed_arg;
};

static struct pg_store *pg_of(struct store *st)
{
	assert(st->drv == &store_pg_driver);
	return (struct pg_store *)st;
}

/* ---- errors ------------------------------------------------------------ */

/*
 * The server's message of a result, or the connection's, on one line (libpq
 * continues its messages on tab-indented lines) for the log.
 */
static void describe(struct pg_conn *c, const PGresult *r, char *out, size_t outlen)
{
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!msg)
		msg = PQerrorMessage(c->db);
	if (!msg || !*msg)
		msg = "no message";
	size_t n = 0;
	for (const char *p = msg; *p && n + 1 < outlen; p++) {
		char ch = *p == '\n' || *p == '\t' ? ' ' : *p;
		if (ch != ' ' || (n && out[n - 1] != ' '))
			out[n++] = ch;
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static bool state_is(const struct pg_conn *c, const char *state)
{
	return !strcmp(c->sqlstate, state);
}

/*
 * Maps a failed statement (r may be NULL: nothing came back) to a status.
 * The client sees a generic sentence; the server's message goes to the log.
 * Records the SQLSTATE and constraint name on the connection, and marks it
 * broken when it can no longer be trusted.
 */
static enum status pg_fail(struct pg_conn *c, const PGresult *r, struct error *err)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *cons = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
	snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", state ? state : "");
	snprintf(c->constraint, sizeof(c->constraint), "%s", cons ? cons : "");
	if (PQstatus(c->db) != CONNECTION_OK)
		c->broken = true;
	char msg[300];
	describe(c, r, msg, sizeof(msg));
	const char *role = c->pool->role;

	if (c->timed_out) {
		log_warn("postgresql (%s): no answer within the query timeout; dropping the connection",
			 role);
		return error_set(err, E_UNAVAILABLE, "The request took longer than the query timeout");
	}
	if (c->broken || !state || !strncmp(state, "08", 2) || !strncmp(state, "57P", 3) ||
	    !strncmp(state, "53", 2)) {
		c->broken = true;
		log_error("postgresql (%s): database unavailable: %s", role, msg);
		return error_set(err, E_UNAVAILABLE, "The database is unavailable");
	}
	if (!strcmp(state, "57014")) {
		log_warn("postgresql (%s): statement exceeded the query timeout", role);
		return error_set(err, E_UNAVAILABLE, "The request took longer than the query timeout");
	}
	if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03")) {
		log_warn("postgresql (%s): %s (%s)", role, msg, state);
		return error_set(err, E_UNAVAILABLE, "The database is busy; try again");
	}
	/*
	 * A replica that has not yet replayed a migration the primary applied
	 * lacks a table, column or function for a moment: unavailable, not a bug.
	 */
	if (!strncmp(state, "42", 2) && !strcmp(role, "replica")) {
		log_warn("postgresql (replica): %s (%s): has it replayed the latest migration?", msg, state);
		return error_set(err, E_UNAVAILABLE, "The database is unavailable");
	}
	if (!strcmp(state, "25006")) {
		log_error("postgresql (%s): %s", role, msg);
		return error_set(err, E_UNAVAILABLE, "The database is read-only");
	}
	if (!strcmp(state, "23505"))
		return error_set(err, E_CONFLICT, "A row with this name or slug already exists");
	if (!strncmp(state, "23", 2)) {
		log_error("postgresql (%s): constraint failed: %s (%s)", role, msg, state);
		return error_set(err, E_CONFLICT, "The change conflicts with existing data");
	}
	if (!strncmp(state, "54", 2)) {
		log_warn("postgresql (%s): %s (%s)", role, msg, state);
		return error_set(err, E_TOOLARGE, "The text is too large to store and index");
	}
	log_error("postgresql (%s): unexpected failure: %s (%s)", role, msg, state);
	return error_set(err, E_INTERNAL, "Internal Server Error");
}

/*
 * Words a uniqueness race the way the check before the write would have:
 * the unique index's name says which column clashed.
 */
static enum status conflict_words(struct pg_conn *c, enum status rc, const char *what,
				  const char *name, const char *slug, struct error *err)
{
	if (rc != E_CONFLICT || !state_is(c, "23505"))
		return rc;
	log_debug("postgresql (%s): a concurrent write took the value first (%s)", c->pool->role,
		  c->constraint);
	if (strstr(c->constraint, "_name"))
		return error_set(err, E_CONFLICT, "%s with name '%s' already exists", what, name);
	if (strstr(c->constraint, "_slug"))
		return error_set(err, E_CONFLICT, "%s with slug '%s' already exists", what, slug);
	return rc;
}

/* ---- I/O against a deadline -------------------------------------------- */

/*
 * Waits until the connection's socket is ready for `events`. Returns the
 * events that occurred, 0 when the deadline (0: none) passed first, -1 on
 * failure.
 */
static int wait_socket(PGconn *db, short events, uint64_t deadline_ns)
{
	int fd = PQsocket(db);
	if (fd < 0)
		return -1;
	for (;;) {
		int ms = -1;
		if (deadline_ns) {
			uint64_t now = clock_mono_ns();
			if (now >= deadline_ns)
				return 0;
			uint64_t left = (deadline_ns - now + 999999) / 1000000;
			ms = left > 60000 ? 60000 : (int)left;
		}
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, ms);
		if (n > 0)
			return p.revents ? p.revents : events;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * Sends what libpq has queued and collects the result of the one command
 * just sent. Returns it (the caller PQclears it), or NULL when the
 * connection failed or the deadline passed, the connection then marked
 * broken. Of several results, the first failure wins.
 */
static PGresult *collect(struct pg_conn *c)
{
	PGconn *db = c->db;
	for (;;) {
		int f = PQflush(db);
		if (f < 0)
			goto lost;
		if (f == 0)
			break;
		int w = wait_socket(db, POLLIN | POLLOUT, c->deadline_ns);
		if (w == 0)
			goto late;
		if (w < 0 || ((w & POLLIN) && !PQconsumeInput(db)))
			goto lost;
	}
	PGresult *res = NULL;
	for (;;) {
		while (PQisBusy(db)) {
			int w = wait_socket(db, POLLIN, c->deadline_ns);
			if (w == 0) {
				PQclear(res);
				goto late;
			}
			if (w < 0 || !PQconsumeInput(db)) {
				/* libpq turns what it read into results: drain them. */
				if (PQstatus(db) == CONNECTION_OK) {
					PQclear(res);
					goto lost;
				}
				break;
			}
		}
		PGresult *r = PQgetResult(db);
		if (!r)
			break;
		ExecStatusType s = res ? PQresultStatus(res) : PGRES_COMMAND_OK;
		if (!res || s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
			PQclear(res);
			res = r;
		} else {
			PQclear(r);
		}
		if (PQstatus(db) != CONNECTION_OK)
			break;
	}
	if (PQstatus(db) != CONNECTION_OK)
		c->broken = true;
	return res;
late:
	c->timed_out = true;
lost:
	c->broken = true;
	return NULL;
}

static bool result_ok(const PGresult *r)
{
	ExecStatusType s = PQresultStatus(r);
	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

/* Settles a command just sent: OK with *out (NULL: discarded), or a failure. */
static enum status finish(struct pg_conn *c, bool sent, PGresult **out, struct error *err)
{
	if (out)
		*out = NULL;
	PGresult *r = NULL;
	if (sent)
		r = collect(c);
	else
		c->broken = PQstatus(c->db) != CONNECTION_OK || c->broken;
	if (!r || !result_ok(r)) {
		enum status rc = pg_fail(c, r, err);
		PQclear(r);
		return rc;
	}
	if (out)
		*out = r;
	else
		PQclear(r);
	return OK;
}

/* ---- parameters and results --------------------------------------------- */

#define MAX_PARAMS 16

/* Statement parameters, all sent as text. A NULL value is SQL NULL. */
struct params {
	int n;
	const char *v[MAX_PARAMS];
	char num[MAX_PARAMS][24];
};

/* Each adder returns the parameter's number ($1 is 1). */
static int p_text(struct params *p, const char *s)
{
	assert(p->n < MAX_PARAMS);
	p->v[p->n++] = s;
	return p->n;
}

static int p_int(struct params *p, int64_t v)
{
	assert(p->n < MAX_PARAMS);
	snprintf(p->num[p->n], sizeof(p->num[p->n]), "%" PRId64, v);
	p->v[p->n] = p->num[p->n];
	return ++p->n;
}

/* An id, or NULL for 0. */
static int p_id(struct params *p, int64_t v)
{
	return v ? p_int(p, v) : p_text(p, NULL);
}

/* A nullable timestamp: "" stands for NULL. */
static int p_ts(struct params *p, const char *ts)
{
	return p_text(p, ts[0] ? ts : NULL);
}

/* "{1,2,3}": an array literal of ids, for $n::bigint[]. */
static void ids_array(struct buf *b, const int64_t *ids, size_t n)
{
	buf_addch(b, '{');
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s%" PRId64, i ? "," : "", ids[i]);
	buf_addch(b, '}');
}

/* Prepares the fixed statement `which` on this connection unless it is. */
static enum status prepare_fixed(struct pg_conn *c, enum pg_stmt which, struct error *err)
{
	if (c->prepared[which])
		return OK;
	char name[16];
	snprintf(name, sizeof(name), "s%d", (int)which);
	enum status rc = finish(c, PQsendPrepare(c->db, name, pg_sql[which], 0, NULL), NULL, err);
	if (rc == OK)
		c->prepared[which] = true;
	return rc;
}

/* Runs the fixed statement `which`, preparing it on this connection first if needed. */
static enum status q_fixed(struct pg_conn *c, enum pg_stmt which, const struct params *p,
			   PGresult **out, struct error *err)
{
	enum status rc = prepare_fixed(c, which, err);
	if (rc)
		return rc;
	char name[16];
	snprintf(name, sizeof(name), "s%d", (int)which);
	return finish(c, PQsendQueryPrepared(c->db, name, p ? p->n : 0, p ? p->v : NULL, NULL, NULL, 0),
		      out, err);
}

/* Runs SQL built at run time: parsed and planned with these values. */
static enum status q_built(struct pg_conn *c, const char *sql, const struct params *p,
			   PGresult **out, struct error *err)
{
	return finish(c, PQsendQueryParams(c->db, sql, p->n, NULL, p->v, NULL, NULL, 0), out, err);
}

/*
 * Prepares SQL built from a filter (its text is its key: the same filter
 * shape gives the same text, the values travel as parameters), so that a
 * repeated shape is parsed and planned once per connection instead of per
 * call. Writes the statement's name into `name`, or "" when the cache is
 * full (the caller then sends the SQL unprepared).
 */
static enum status prepare_built(struct pg_conn *c, const char *sql, char name[16],
				 struct error *err)
{
	for (unsigned i = 0; i < c->nbuilt; i++) {
		if (!strcmp(c->built[i], sql)) {
			snprintf(name, 16, "d%u", i);
			return OK;
		}
	}
	name[0] = '\0';
	if (c->nbuilt == BUILT_CACHE)
		return OK;
	char want[16];
	snprintf(want, sizeof(want), "d%u", c->nbuilt);
	enum status rc = finish(c, PQsendPrepare(c->db, want, sql, 0, NULL), NULL, err);
	if (rc)
		return rc;
	c->built[c->nbuilt++] = xstrdup(sql);
	memcpy(name, want, sizeof(want));
	return OK;
}

/*
 * One statement of a pipeline: a fixed statement, or (sql set) SQL built
 * at run time, prepared through the connection's cache when `prepare`.
 */
struct pq {
	enum pg_stmt which;
	const char *sql;
	bool prepare;
	const struct params *p;
};

/*
 * Runs statements in one round trip (libpq's pipeline mode): every one is
 * sent, then one Sync, then the results are read in order. out[i] receives
 * statement i's result (the caller PQclears them) when every statement
 * succeeded; on failure the first failing statement decides the status and
 * no result is kept. Statements not yet prepared on this connection are
 * prepared first (once per connection). Statements up to the Sync form one
 * implicit transaction; a pipeline that starts with BEGIN and ends with
 * COMMIT is one explicit transaction, left open (failed) if a statement
 * failed, for the caller to roll back.
 */
static enum status q_pipeline(struct pg_conn *c, size_t n, const struct pq *qs, PGresult **out,
			      struct error *err)
{
	assert(n <= MAX_PIPELINE);
	char names[MAX_PIPELINE][16];
	for (size_t i = 0; i < n; i++) {
		out[i] = NULL;
		enum status rc = OK;
		if (!qs[i].sql) {
			rc = prepare_fixed(c, qs[i].which, err);
			snprintf(names[i], sizeof(names[i]), "s%d", (int)qs[i].which);
		} else if (qs[i].prepare) {
			rc = prepare_built(c, qs[i].sql, names[i], err);
		} else {
			names[i][0] = '\0';
		}
		if (rc)
			return rc;
	}
	if (!PQenterPipelineMode(c->db))
		return finish(c, false, NULL, err);
	bool sent = true;
	for (size_t i = 0; sent && i < n; i++) {
		const struct params *p = qs[i].p;
		int np = p ? p->n : 0;
		const char *const *v = p ? p->v : NULL;
		if (names[i][0])
			sent = PQsendQueryPrepared(c->db, names[i], np, v, NULL, NULL, 0);
		else
			sent = PQsendQueryParams(c->db, qs[i].sql, np, NULL, v, NULL, NULL, 0);
	}
	if (!sent || !PQpipelineSync(c->db)) {
		c->broken = true;
		return finish(c, false, NULL, err);
	}
	enum status rc = OK;
	for (size_t i = 0; i <= n; i++) {
		PGresult *r = collect(c);
		if (!r) {
			/* Lost, or late: the connection is dropped, with its pipeline. */
			enum status lost = pg_fail(c, NULL, err);
			for (size_t k = 0; k < i && k < n; k++) {
				PQclear(out[k]);
				out[k] = NULL;
			}
			return rc ? rc : lost;
		}
		ExecStatusType s = PQresultStatus(r);
		if (i == n) {
			/* The Sync's result. */
			if (s != PGRES_PIPELINE_SYNC && rc == OK)
				rc = pg_fail(c, r, err);
			PQclear(r);
		} else if (s == PGRES_PIPELINE_ABORTED) {
			PQclear(r);
		} else if (!result_ok(r)) {
			if (rc == OK)
				rc = pg_fail(c, r, err);
			PQclear(r);
		} else {
			out[i] = r;
		}
	}
	if (!PQexitPipelineMode(c->db))
		c->broken = true;
	if (rc == OK && c->broken)
		rc = pg_fail(c, NULL, err);
	if (rc)
		for (size_t i = 0; i < n; i++) {
			PQclear(out[i]);
			out[i] = NULL;
		}
	return rc;
}

/* Runs a fixed statement with one id; *changed receives the rows it touched. */
static enum status q_on_id(struct pg_conn *c, enum pg_stmt which, int64_t id, int64_t *changed,
			   struct error *err)
{
	struct params p = { 0 };
	p_int(&p, id);
	PGresult *r;
	enum status rc = q_fixed(c, which, &p, &r, err);
	if (rc)
		return rc;
	if (changed)
		*changed = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r)
							       : strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return OK;
}

static const char *col_text(const PGresult *r, int row, int col, struct arena *a)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	return arena_strndup(a, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

/* An integer column; 0 for NULL. */
static int64_t col_int(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bool col_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

/*
 * A timestamp(0) column as the API writes it: the server (DateStyle ISO)
 * sends "2025-12-23 18:00:00"; the value is UTC. "" for NULL.
 */
static void col_ts(const PGresult *r, int row, int col, char out[TS_SIZE])
{
	out[0] = '\0';
	if (PQgetisnull(r, row, col))
		return;
	const char *v = PQgetvalue(r, row, col);
	size_t n = (size_t)PQgetlength(r, row, col);
	if (n == 19 && v[10] == ' ') {
		memcpy(out, v, 19);
		out[10] = 'T';
		out[19] = 'Z';
		out[20] = '\0';
		return;
	}
	if (n >= TS_SIZE)
		n = TS_SIZE - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

static void read_tag(const PGresult *r, int row, int col, struct arena *a, struct tag *t)
{
	t->id = col_int(r, row, col);
	t->name = col_text(r, row, col + 1, a);
	t->slug = col_text(r, row, col + 2, a);
	t->description = col_text(r, row, col + 3, a);
	t->color = col_text(r, row, col + 4, a);
	col_ts(r, row, col + 5, t->created_at);
	t->usage_count = col_int(r, row, col + 6);
}

/* Reads the 9 category columns at `col` (plus insight_count when `counted`). */
static void read_category(const PGresult *r, int row, int col, bool counted, struct arena *a,
			  struct category *c)
{
	c->id = col_int(r, row, col);
	c->name = col_text(r, row, col + 1, a);
	c->slug = col_text(r, row, col + 2, a);
	c->description = col_text(r, row, col + 3, a);
	c->parent_id = col_int(r, row, col + 4);
	c->color = col_text(r, row, col + 5, a);
	c->icon = col_text(r, row, col + 6, a);
	col_ts(r, row, col + 7, c->created_at);
	col_ts(r, row, col + 8, c->updated_at);
	c->insight_count = counted ? col_int(r, row, col + 9) : 0;
}

/* Reads a row of INSIGHT_COLS (without tags). */
static void read_insight(const PGresult *r, int row, struct arena *a, struct insight *in)
{
	memset(in, 0, sizeof(*in));
	in->id = col_int(r, row, 0);
	in->title = col_text(r, row, 1, a);
	in->description = col_text(r, row, 2, a);
	in->content = col_text(r, row, 3, a);
	in->source = col_text(r, row, 4, a);
	in->author = col_text(r, row, 5, a);
	in->category_id = col_int(r, row, 6);
	if (PQgetisnull(r, row, 7) || priority_parse(PQgetvalue(r, row, 7), &in->priority))
		in->priority = PRIORITY_MEDIUM;
	if (PQgetisnull(r, row, 8) || lifecycle_parse(PQgetvalue(r, row, 8), &in->status))
		in->status = LIFECYCLE_DRAFT;
	col_ts(r, row, 9, in->created_at);
	col_ts(r, row, 10, in->updated_at);
	col_ts(r, row, 11, in->published_at);
	if (!PQgetisnull(r, row, 12)) {
		in->category = ARENA_NEW(a, struct category);
		read_category(r, row, 12, false, a, in->category);
	}
}

/* ---- connections --------------------------------------------------------- */

/* Server notices and warnings (client_min_messages is warning) go to the log. */
static void on_notice(void *arg, const PGresult *r)
{
	const struct pg_pool *pool = arg;
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	log_warn("postgresql (%s): %s", pool->role, msg ? msg : "notice");
}

static void conn_free(struct pg_conn *c)
{
	if (!c)
		return;
	PQfinish(c->db);
	for (unsigned i = 0; i < c->nbuilt; i++)
		free(c->built[i]);
	free(c);
}

/* Logs a failure to connect, at most once per CONNECT_LOG_EVERY_S per pool. */
static void log_connect_failure(struct pg_pool *pool, const char *why)
{
	uint64_t now = clock_mono_ns();
	pthread_mutex_lock(&pool->lock);
	bool say = !pool->last_log_ns ||
		   now - pool->last_log_ns >= (uint64_t)CONNECT_LOG_EVERY_S * 1000000000u;
	unsigned more = pool->unlogged;
	if (say) {
		pool->last_log_ns = now;
		pool->unlogged = 0;
	} else {
		pool->unlogged++;
	}
	pthread_mutex_unlock(&pool->lock);
	if (say && more)
		log_error("postgresql (%s): cannot connect to %s: %s (and %u more failures)", pool->role,
			  pool->redacted, why, more);
	else if (say)
		log_error("postgresql (%s): cannot connect to %s: %s", pool->role, pool->redacted, why);
}

/*
 * Opens a connection and sets up its session: statement_timeout is the
 * query timeout, timestamps are UTC in ISO format, and a transaction left
 * idle (a stalled process) is ended by the server after twice the query
 * timeout, so it cannot hold row locks for ever. Defaults come before the
 * URL among libpq's parameters, so the URL can override them.
 */
static enum status conn_open(struct pg_pool *pool, uint64_t deadline_ns, struct pg_conn **out,
			     struct error *err)
{
	static const char *const keys[] = {
		"keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
		"fallback_application_name", "client_encoding", "dbname", NULL
	};
	const char *vals[] = { "1", "15", "5", "3", "insights", "UTF8", pool->conninfo, NULL };
	uint64_t now = clock_mono_ns();
	uint64_t connect_by = now + (uint64_t)pool->connect_timeout_ms * 1000000u;
	if (deadline_ns && deadline_ns < connect_by)
		connect_by = deadline_ns;

	struct pg_conn *c = xcalloc(1, sizeof(*c));
	c->pool = pool;
	c->db = PQconnectStartParams(keys, vals, 1);
	if (!c->db) {
		free(c);
		log_error("postgresql (%s): out of memory while connecting", pool->role);
		return error_set(err, E_UNAVAILABLE, "The database is unavailable");
	}
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	const char *why = NULL;
	if (PQstatus(c->db) == CONNECTION_BAD)
		ps = PGRES_POLLING_FAILED;
	while (ps != PGRES_POLLING_OK && ps != PGRES_POLLING_FAILED) {
		int w = wait_socket(c->db, ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, connect_by);
		if (w == 0) {
			why = "timed out";
			break;
		}
		if (w < 0) {
			ps = PGRES_POLLING_FAILED;
			break;
		}
		ps = PQconnectPoll(c->db);
	}
	if (ps != PGRES_POLLING_OK) {
		char msg[300];
		describe(c, NULL, msg, sizeof(msg));
		log_connect_failure(pool, why ? why : msg);
		conn_free(c);
		return error_set(err, E_UNAVAILABLE, "The database is unavailable");
	}
	PQsetnonblocking(c->db, 1);
	PQsetNoticeReceiver(c->db, on_notice, pool);

	char timeout[24], idle[24];
	unsigned qt = pool->cfg->query_timeout_ms;
	snprintf(timeout, sizeof(timeout), "%u", qt);
	snprintf(idle, sizeof(idle), "%llu", 2ull * qt);
	struct params p = { 0 };
	p_text(&p, timeout);
	p_text(&p, idle);
	c->deadline_ns = connect_by;
	enum status rc = q_built(c,
				 "SELECT set_config('statement_timeout', $1, false),"
				 " set_config('idle_in_transaction_session_timeout', $2, false),"
				 " set_config('TimeZone', 'UTC', false),"
				 " set_config('DateStyle', 'ISO, YMD', false),"
				 " set_config('IntervalStyle', 'postgres', false),"
				 " set_config('client_min_messages', 'warning', false)",
				 &p, NULL, err);
	if (rc) {
		conn_free(c);
		return rc;
	}
	c->deadline_ns = 0;
	*out = c;
	return OK;
}

/*
 * True when an idle connection can still be used. Without a round trip: an
 * idle connection has nothing to say, so anything readable on its socket is
 * a server that shut down, restarted or ended the session (a FATAL message,
 * then end of file).
 */
static bool conn_alive(struct pg_conn *c)
{
	if (c->broken || PQstatus(c->db) != CONNECTION_OK ||
	    PQtransactionStatus(c->db) != PQTRANS_IDLE)
		return false;
	struct pollfd p = { .fd = PQsocket(c->db), .events = POLLIN };
	return p.fd >= 0 && poll(&p, 1, 0) == 0;
}

static void timespec_at(uint64_t mono_ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(mono_ns / 1000000000u);
	ts->tv_nsec = (long)(mono_ns % 1000000000u);
}

/*
 * Takes an idle connection, or opens one while the pool has room, or waits
 * for one to come back until `wait_until` (0: no limit).
 */
static enum status conn_take(struct pg_pool *pool, uint64_t wait_until, uint64_t deadline_ns,
			     struct pg_conn **out, struct error *err)
{
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		struct pg_conn *c = pool->idle;
		if (c) {
			pool->idle = c->next;
			pool->nidle--;
			pthread_mutex_unlock(&pool->lock);
			c->next = NULL;
			if (conn_alive(c)) {
				*out = c;
				return OK;
			}
			log_info("postgresql (%s): dropping a connection the server closed", pool->role);
			conn_free(c);
			pthread_mutex_lock(&pool->lock);
			pool->open--;
			continue;
		}
		if (pool->open < pool->size) {
			pool->open++;
			pthread_mutex_unlock(&pool->lock);
			enum status rc = conn_open(pool, deadline_ns, out, err);
			if (rc) {
				pthread_mutex_lock(&pool->lock);
				pool->open--;
				pthread_cond_signal(&pool->returned);
				pthread_mutex_unlock(&pool->lock);
			}
			return rc;
		}
		if (wait_until && clock_mono_ns() >= wait_until)
			break;
		if (wait_until) {
			struct timespec ts;
			timespec_at(wait_until, &ts);
			pthread_cond_timedwait(&pool->returned, &pool->lock, &ts);
		} else {
			pthread_cond_wait(&pool->returned, &pool->lock);
		}
	}
	pthread_mutex_unlock(&pool->lock);
	log_warn("postgresql (%s): every connection of the pool (%u) stayed busy for the query timeout",
		 pool->role, pool->size);
	return error_set(err, E_UNAVAILABLE, "The database is busy; try again");
}

/* Returns a connection to its pool, or closes it when it cannot be trusted. */
static void conn_give(struct pg_conn *c)
{
	struct pg_pool *pool = c->pool;
	bool keep = !c->broken && PQstatus(c->db) == CONNECTION_OK &&
		    PQtransactionStatus(c->db) == PQTRANS_IDLE;
	c->deadline_ns = 0;
	c->timed_out = c->committing = false;
	c->sqlstate[0] = c->constraint[0] = '\0';
	if (!keep)
		conn_free(c);
	pthread_mutex_lock(&pool->lock);
	if (keep) {
		c->next = pool->idle;
		pool->idle = c;
		pool->nidle++;
	} else {
		pool->open--;
	}
	pthread_cond_signal(&pool->returned);
	pthread_mutex_unlock(&pool->lock);
}

/* ---- running a call -------------------------------------------------------- */

/* The arguments and results of one store call, for the body that runs it. */
struct op {
	struct arena *a;
	int64_t id;
	const struct insight_input *insight_in; /* `count` of them for a batch */
	size_t count;
	const struct tag_input *tag_in;
	const struct category_input *category_in;
	const struct insight_filter *filter;
	struct range range;
	int64_t limit;
	void *out;             /* struct insight, tag, category, insight_page, statistics */
	/* Lists: the array (in the arena) goes to one of these, its length to *n. */
	struct tag **tags;
	struct category **categories;
	struct count_by_name **names;
	struct tag_fix **fixes;
	size_t *n;
	struct trend_day *days;
	size_t ndays;
};

enum run_mode {
	RUN_READ,        /* one statement, on the replica when there is one */
	RUN_SNAPSHOT,    /* several statements in one snapshot, on the replica */
	RUN_PIPELINE,    /* on the replica; the body opens and commits its snapshot itself */
	RUN_PRIMARY,     /* one statement on the primary, outside a transaction */
	RUN_WRITE,       /* a transaction on the primary */
	RUN_MAINTENANCE, /* a transaction on the primary, without the client deadline */
};

typedef enum status (*run_body)(struct pg_conn *c, struct op *op, struct error *err);

/*
 * Tells the listening instances that a write committed. Best effort: the
 * write stands whatever happens here, and a failure only costs the other
 * instances' caches their freshness until they expire.
 */
static void notify_others(struct pg_conn *c)
{
	struct error ignored;
	error_clear(&ignored);
	if (finish(c, PQsendQuery(c->db, NOTIFY_SQL), NULL, &ignored) != OK)
		log_warn("postgresql: could not notify other instances of a write");
	if (!c->broken && PQtransactionStatus(c->db) != PQTRANS_IDLE) {
		error_clear(&ignored);
		q_fixed(c, P_ROLLBACK, NULL, NULL, &ignored);
	}
}

static bool retryable(const struct pg_conn *c)
{
	if (state_is(c, "40001") || state_is(c, "40P01"))
		return true;
	/*
	 * A connection that broke before COMMIT was sent left nothing behind:
	 * the server rolled back. Typically an idle connection to a server that
	 * restarted since; the next attempt connects again.
	 */
	return c->broken && !c->timed_out && !c->committing;
}

/* Sleeps a random 1..2^attempt * 8 ms, so that retrying transactions do not collide again. */
static void backoff(int attempt)
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
static enum status pg_run(struct pg_store *s, enum run_mode mode, run_body body, struct op *op,
			  struct error *err)
{
	struct pg_pool *pool =
		(mode == RUN_READ || mode == RUN_SNAPSHOT || mode == RUN_PIPELINE) && s->replica
		? s->replica : &s->primary;
	uint64_t start = clock_mono_ns();
	uint64_t timeout_ns = (uint64_t)s->cfg.query_timeout_ms * 1000000u;
	uint64_t wait_until = 0, deadline = 0;
	if (mode != RUN_MAINTENANCE && timeout_ns) {
		wait_until = start + timeout_ns;
		deadline = wait_until + (uint64_t)CLIENT_GRACE_MS * 1000000u;
	}
	bool txn = mode == RUN_SNAPSHOT || mode == RUN_WRITE || mode == RUN_MAINTENANCE;
	for (int attempt = 1;; attempt++) {
		struct pg_conn *c = NULL;
		enum status rc = conn_take(pool, wait_until, deadline, &c, err);
		if (rc)
			return rc;
		c->deadline_ns = deadline;
		if (txn)
			rc = q_fixed(c, mode == RUN_SNAPSHOT ? P_BEGIN_SNAPSHOT : P_BEGIN, NULL, NULL, err);
		if (rc == OK)
			rc = body(c, op, err);
		if (txn && !c->broken) {
			if (rc == OK) {
				c->committing = true;
				rc = q_fixed(c, P_COMMIT, NULL, NULL, err);
			} else if (PQtransactionStatus(c->db) != PQTRANS_IDLE) {
				struct error ignored;
				error_clear(&ignored);
				q_fixed(c, P_ROLLBACK, NULL, NULL, &ignored);
			}
		} else if (mode == RUN_PIPELINE && !c->broken &&
			   PQtransactionStatus(c->db) != PQTRANS_IDLE) {
			/* A pipeline that failed between its BEGIN and its COMMIT. */
			struct error ignored;
			error_clear(&ignored);
			q_fixed(c, P_ROLLBACK, NULL, NULL, &ignored);
		}
		if (rc == OK && (mode == RUN_WRITE || mode == RUN_MAINTENANCE) && !c->broken)
			notify_others(c);
		bool again = rc != OK && attempt < MAX_ATTEMPTS && retryable(c) &&
			     (!deadline || clock_mono_ns() < wait_until);
		conn_give(c);
		if (!again)
			return rc;
		log_debug("postgresql: retrying a transaction (attempt %d)", attempt + 1);
		error_clear(err);
		backoff(attempt);
	}
}

/* ---- open, close, migrate, ping ---------------------------------------------- */

static void pool_init(struct pg_pool *pool, const char *role, const struct dburl *u,
		      unsigned connect_timeout_ms, const struct store_config *cfg)
{
	memset(pool, 0, sizeof(*pool));
	pool->role = role;
	pool->conninfo = xstrdup(u->conninfo);
	pool->redacted = xstrdup(u->redacted);
	pool->size = cfg->pool_size ? cfg->pool_size : POOL_SIZE_DEFAULT;
	pool->connect_timeout_ms = connect_timeout_ms;
	pool->cfg = cfg;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&pool->returned, &attr);
	pthread_condattr_destroy(&attr);
}

static void pool_release(struct pg_pool *pool)
{
	struct pg_conn *c = pool->idle;
	while (c) {
		struct pg_conn *next = c->next;
		conn_free(c);
		pool->open--;
		pool->nidle--;
		c = next;
	}
	assert(pool->open == 0);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->returned);
	free(pool->conninfo);
	free(pool->redacted);
}

/*
 * Checks that libpq can parse a connection URI (without echoing it: a
 * parse error may quote the password) and reads its connect_timeout.
 */
static enum status check_conninfo(const struct dburl *u, unsigned *connect_timeout_ms,
				  struct error *err)
{
	char *why = NULL;
	PQconninfoOption *opts = PQconninfoParse(u->conninfo, &why);
	if (!opts) {
		PQfreemem(why);
		log_error("postgresql: libpq cannot parse %s", u->redacted);
		return error_set(err, E_INVALID, "libpq cannot parse the database URL");
	}
	*connect_timeout_ms = CONNECT_TIMEOUT_MS_DEFAULT;
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!strcmp(o->keyword, "connect_timeout") && o->val && *o->val) {
			long v = strtol(o->val, NULL, 10);
			if (v > 0)
				*connect_timeout_ms = (unsigned)(v < 2 ? 2000 : v * 1000);
		}
	}
	PQconninfoFree(opts);
	return OK;
}

static enum status pg_open(const struct dburl *url, const struct store_config *cfg,
			   struct store **out, struct error *err)
{
	if (!PQisthreadsafe())
		return error_set(err, E_INTERNAL, "libpq was built without thread support");
	unsigned primary_ct, replica_ct = 0;
	if (check_conninfo(url, &primary_ct, err))
		return err->status;
	struct dburl ru = { 0 };
	if (cfg->read_url) {
		char why[256];
		if (dburl_parse(cfg->read_url, &ru, why, sizeof(why)))
			return error_set(err, E_INVALID, "read replica: %s", why);
		enum status rc = ru.kind == DB_POSTGRESQL
			? check_conninfo(&ru, &replica_ct, err)
			: error_set(err, E_INVALID, "a read replica must be a postgresql:// URL");
		if (rc) {
			dburl_release(&ru);
			return rc;
		}
	}
	struct pg_store *s = xcalloc(1, sizeof(*s));
	s->base.drv = &store_pg_driver;
	s->cfg = *cfg;
	s->cfg.read_url = NULL; /* borrowed for this call only */
	pool_init(&s->primary, "primary", url, primary_ct, &s->cfg);
	if (cfg->read_url) {
		s->replica = xmalloc(sizeof(*s->replica));
		pool_init(s->replica, "replica", &ru, replica_ct, &s->cfg);
		dburl_release(&ru);
	}
	*out = &s->base;
	return OK;
}

/* ---- listening to other instances ----------------------------------------- */

/* Sleeps `ms`, in WATCH_POLL_MS steps; false when told to stop meanwhile. */
static bool watch_nap(struct pg_store *s, unsigned ms)
{
	for (unsigned slept = 0; slept < ms; slept += WATCH_POLL_MS) {
		if (atomic_load(&s->stop_watching))
			return false;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = WATCH_POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	return !atomic_load(&s->stop_watching);
}

/* A connection that LISTENs, or NULL. */
static struct pg_conn *watch_connect(struct pg_store *s)
{
	struct pg_conn *c = NULL;
	struct error err;
	error_clear(&err);
	if (conn_open(&s->primary, 0, &c, &err) != OK)
		return NULL;
	struct params none = { 0 };
	c->deadline_ns = clock_mono_ns() + (uint64_t)s->primary.connect_timeout_ms * 1000000u;
	if (q_built(c, "LISTEN " CHANNEL, &none, NULL, &err) != OK) {
		conn_free(c);
		return NULL;
	}
	c->deadline_ns = 0;
	return c;
}

/*
 * The listener's thread: reports every notification, and the times when it
 * cannot hear them (no connection), to the watcher's callback.
 */
static void *watch_main(void *arg)
{
	struct pg_store *s = arg;
	struct pg_conn *c = NULL;
	while (!atomic_load(&s->stop_watching)) {
		if (!c) {
			c = watch_connect(s);
			if (!c) {
				watch_nap(s, WATCH_RETRY_MS);
				continue;
			}
			/* Whatever happened while nobody listened counts as a change. */
			s->changed(s->changed_arg, true);
		}
		int w = wait_socket(c->db, POLLIN, clock_mono_ns() + WATCH_POLL_MS * 1000000ull);
		bool lost = w < 0 || (w > 0 && !PQconsumeInput(c->db)) ||
			    PQstatus(c->db) != CONNECTION_OK;
		bool heard = false;
		PGnotify *n;
		while ((n = PQnotifies(c->db))) {
			heard = true;
			PQfreemem(n);
		}
		if (heard)
			s->changed(s->changed_arg, true);
		if (lost) {
			log_warn("postgresql: lost the connection that listens to other instances");
			s->changed(s->changed_arg, false);
			conn_free(c);
			c = NULL;
		}
	}
	conn_free(c);
	return NULL;
}

static enum status pg_watch(struct store *st, void (*changed)(void *arg, bool heard), void *arg,
			    struct error *err)
{
	struct pg_store *s = pg_of(st);
	if (s->watching)
		return error_set(err, E_INTERNAL, "already watching");
	/*
	 * A replica may not have replayed a write yet when its notification
	 * arrives: what is read then would stay cached after it has.
	 */
	if (s->replica)
		return error_set(err, E_INTERNAL, "reads come from a replica, which may lag behind");
	s->changed = changed;
	s->changed_arg = arg;
	atomic_store(&s->stop_watching, false);
	if (pthread_create(&s->watcher, NULL, watch_main, s))
		return error_set(err, E_INTERNAL, "cannot start the listening thread");
	s->watching = true;
	return OK;
}

static void pg_close(struct store *st)
{
	struct pg_store *s = pg_of(st);
	if (s->watching) {
		atomic_store(&s->stop_watching, true);
		pthread_join(s->watcher, NULL);
	}
	pool_release(&s->primary);
	if (s->replica) {
		pool_release(s->replica);
		free(s->replica);
	}
	free(s);
}

/* Applies one migration unless it is recorded; *done says whether it was. */
static enum status migrate_one(struct pg_conn *c, const struct pg_migration *m, bool *done,
			       struct error *err)
{
	struct params p = { 0 };
	p_int(&p, m->version);
	PGresult *r;
	enum status rc = q_built(c, "SELECT 1 FROM schema_migrations WHERE version = $1", &p, &r, err);
	if (rc)
		return rc;
	*done = PQntuples(r) > 0;
	PQclear(r);
	if (*done)
		return OK;
	/* The simple protocol: a migration is several statements. */
	rc = finish(c, PQsendQuery(c->db, m->sql), NULL, err);
	if (rc)
		return rc;
	char ts[TS_SIZE];
	clock_timestamp(ts);
	p_text(&p, m->name);
	p_text(&p, ts);
	return q_built(c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
		       &p, NULL, err);
}

/*
 * Holds a session advisory lock for the whole run, so that instances
 * starting together apply each migration once: the others wait, then find
 * it recorded. The lock and the migration connection are not the pool's;
 * neither has a time limit (a migration takes as long as it takes).
 */
static enum status pg_migrate(struct store *st, int *applied, struct error *err)
{
	struct pg_store *s = pg_of(st);
	*applied = 0;
	struct pg_conn *c;
	enum status rc = conn_open(&s->primary, 0, &c, err);
	if (rc)
		return rc;
	struct params none = { 0 };
	rc = q_built(c, "SELECT set_config('statement_timeout', '0', false),"
			" set_config('idle_in_transaction_session_timeout', '0', false)", &none, NULL, err);
	if (rc == OK)
		rc = q_built(c, "SELECT pg_advisory_lock(" LOCK_MIGRATE ")", &none, NULL, err);
	if (rc == OK)
		rc = q_built(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
				" version integer PRIMARY KEY, name text NOT NULL,"
				" applied_at timestamp(0) NOT NULL)", &none, NULL, err);
	for (size_t i = 0; rc == OK && i < sizeof(pg_migrations) / sizeof(pg_migrations[0]); i++) {
		const struct pg_migration *m = &pg_migrations[i];
		bool done = false;
		rc = q_built(c, "BEGIN", &none, NULL, err);
		if (rc == OK)
			rc = migrate_one(c, m, &done, err);
		if (rc == OK) {
			rc = q_built(c, "COMMIT", &none, NULL, err);
		} else if (!c->broken) {
			struct error ignored;
			error_clear(&ignored);
			q_built(c, "ROLLBACK", &none, NULL, &ignored);
		}
		if (rc == OK && !done) {
			(*applied)++;
			log_info("applied migration %d (%s)", m->version, m->name);
		}
	}
	if (!c->broken) {
		struct error ignored;
		error_clear(&ignored);
		q_built(c, "SELECT pg_advisory_unlock(" LOCK_MIGRATE ")", &none, NULL, &ignored);
	}
	conn_free(c);
	return rc;
}

static enum status body_ping(struct pg_conn *c, struct op *op, struct error *err)
{
	(void)op;
	return q_fixed(c, P_PING, NULL, NULL, err);
}

static enum status pg_ping(struct store *st, struct error *err)
{
	struct op op = { 0 };
	return pg_run(pg_of(st), RUN_PRIMARY, body_ping, &op, err);
}

/* ---- insights -------------------------------------------------------------- */

/*
 * Hangs the tags of a result of rows (insight_id, TAG_COLS), ordered by
 * insight id then tag id, on the `n` insights they belong to.
 */
static void hang_tags(const PGresult *r, struct arena *a, struct insight *items, size_t n)
{
	int nrows = PQntuples(r);
	/* Rows come grouped by insight id, ascending: find each group. */
	for (size_t i = 0; i < n; i++) {
		int lo = 0, hi = nrows;
		while (lo < hi) {
			int mid = lo + (hi - lo) / 2;
			if (col_int(r, mid, 0) < items[i].id)
				lo = mid + 1;
			else
				hi = mid;
		}
		int end = lo;
		while (end < nrows && col_int(r, end, 0) == items[i].id)
			end++;
		items[i].ntags = (size_t)(end - lo);
		items[i].tags = items[i].ntags ? ARENA_NEW_ARRAY(a, struct tag, items[i].ntags) : NULL;
		for (int k = lo; k < end; k++)
			read_tag(r, k, 1, a, &items[i].tags[k - lo]);
	}
}

/* "{1,2,3}": the ids of `n` insights, for $n::bigint[]. */
static void page_ids(struct buf *b, const struct insight *items, size_t n)
{
	buf_addch(b, '{');
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s%" PRId64, i ? "," : "", items[i].id);
	buf_addch(b, '}');
}

/*
 * Loads the tags of `n` insights with one query and hangs them on each.
 * This is what keeps a page at a constant number of queries.
 */
static enum status attach_tags(struct pg_conn *c, struct arena *a, struct insight *items,
			       size_t n, struct error *err)
{
	if (!n)
		return OK;
	struct buf ids = BUF_INIT;
	page_ids(&ids, items, n);
	struct params p = { 0 };
	p_text(&p, ids.data);
	PGresult *r;
	enum status rc = q_fixed(c, P_INSIGHT_TAGS, &p, &r, err);
	buf_release(&ids);
	if (rc)
		return rc;
	hang_tags(r, a, items, n);
	PQclear(r);
	return OK;
}

/*
 * Ends a RUN_PIPELINE read: loads the tags of `n` insights and commits, in
 * one round trip.
 */
static enum status tags_and_commit(struct pg_conn *c, struct arena *a, struct insight *items,
				   size_t n, struct error *err)
{
	struct buf ids = BUF_INIT;
	page_ids(&ids, items, n);
	struct params p = { 0 };
	p_text(&p, ids.data);
	struct pq qs[2];
	size_t nq = 0;
	if (n)
		qs[nq++] = (struct pq){ .which = P_INSIGHT_TAGS, .p = &p };
	qs[nq++] = (struct pq){ .which = P_COMMIT };
	PGresult *r[2];
	enum status rc = q_pipeline(c, nq, qs, r, err);
	buf_release(&ids);
	if (rc)
		return rc;
	if (n)
		hang_tags(r[0], a, items, n);
	for (size_t i = 0; i < nq; i++)
		PQclear(r[i]);
	return OK;
}

/*
 * Reads one insight with its tags in one statement (so from one snapshot,
 * even outside a transaction); `lock` also locks its row until commit.
 */
static enum status load_insight(struct pg_conn *c, struct arena *a, int64_t id, bool lock,
				struct insight *out, struct error *err)
{
	struct params p = { 0 };
	p_int(&p, id);
	PGresult *r;
	enum status rc = q_fixed(c, lock ? P_INSIGHT_GET_LOCKED : P_INSIGHT_GET, &p, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	if (rows == 0) {
		PQclear(r);
		return error_set(err, E_NOTFOUND, "Insight not found");
	}
	read_insight(r, 0, a, out);
	size_t ntags = 0;
	for (int i = 0; i < rows; i++)
		ntags += !PQgetisnull(r, i, INSIGHT_NCOLS);
	out->ntags = ntags;
	out->tags = ntags ? ARENA_NEW_ARRAY(a, struct tag, ntags) : NULL;
	for (int i = 0, k = 0; i < rows; i++)
		if (!PQgetisnull(r, i, INSIGHT_NCOLS))
			read_tag(r, i, INSIGHT_NCOLS, a, &out->tags[k++]);
	PQclear(r);
	return OK;
}

static enum status body_insight_get(struct pg_conn *c, struct op *op, struct error *err)
{
	return load_insight(c, op->a, op->id, false, op->out, err);
}

static enum status pg_insight_get(struct store *st, struct arena *a, int64_t id,
				  struct insight *out, struct error *err)
{
	struct op op = { .a = a, .id = id, .out = out };
	return pg_run(pg_of(st), RUN_READ, body_insight_get, &op, err);
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* True when the search text holds a word (as the SQLite driver decides). */
static bool has_word(const char *text)
{
	for (const char *p = text; p && *p; p++)
		if (!is_space(*p))
			return true;
	return false;
}

/*
 * Builds the FROM and WHERE clauses a filter needs (over `insights i`, and
 * its category `c` when `join`), adding its parameters. Returns the number
 * of the search text's parameter (0: no text).
 */
static int build_where(const struct insight_filter *f, bool text, const char *tags, bool join,
		       struct buf *sql, struct params *p)
{
	int text_param = 0;
	buf_adds(sql, join ? " FROM " INSIGHT_FROM " WHERE true" : " FROM insights i WHERE true");
	if (text) {
		text_param = p_text(p, f->text);
		buf_addf(sql, " AND i.search @@ insights_fts_query($%d)", text_param);
	}
	if (f->status >= 0)
		buf_addf(sql, " AND i.status = $%d", p_text(p, lifecycle_name((enum lifecycle)f->status)));
	if (f->priority >= 0)
		buf_addf(sql, " AND i.priority = $%d", p_text(p, priority_name((enum priority)f->priority)));
	if (f->category_id)
		buf_addf(sql, " AND i.category_id = $%d", p_int(p, f->category_id));
	/* strpos, not LIKE: % and _ in the filter are plain characters. */
	if (f->author)
		buf_addf(sql, " AND strpos(lower(i.author), lower($%d)) > 0", p_text(p, f->author));
	if (f->ntag_ids) {
		int ids = p_text(p, tags);
		int n = p_int(p, (int64_t)f->ntag_ids);
		buf_addf(sql, " AND i.id IN (SELECT x.insight_id FROM insight_tags x"
			      " WHERE x.tag_id = ANY($%d::bigint[]) GROUP BY x.insight_id"
			      " HAVING count(*) = $%d)", ids, n);
	}
	return text_param;
}

/* The total for a filter that the insight_counts table can answer. */
static enum status count_fast(struct pg_conn *c, const struct insight_filter *f, int64_t *total,
			      struct error *err)
{
	struct params p = { 0 };
	p_text(&p, f->status >= 0 ? lifecycle_name((enum lifecycle)f->status) : NULL);
	p_text(&p, f->priority >= 0 ? priority_name((enum priority)f->priority) : NULL);
	p_id(&p, f->category_id);
	PGresult *r;
	enum status rc = q_fixed(c, P_COUNT_FAST, &p, &r, err);
	if (rc)
		return rc;
	*total = col_int(r, 0, 0);
	PQclear(r);
	return OK;
}

static enum status find_in_txn(struct pg_conn *c, struct arena *a, const struct insight_filter *f,
			       const char *tags, struct buf *sql, struct insight_page *out,
			       struct error *err)
{
	memset(out, 0, sizeof(*out));
	bool text = has_word(f->text);
	enum status rc;
	PGresult *r;

	/* The total. */
	if (!text && !f->author && !f->ntag_ids) {
		rc = count_fast(c, f, &out->total, err);
	} else {
		struct params p = { 0 };
		buf_reset(sql);
		buf_adds(sql, "SELECT count(*)");
		build_where(f, text, tags, true, sql, &p);
		rc = q_built(c, sql->data, &p, &r, err);
		if (rc == OK) {
			out->total = col_int(r, 0, 0);
			PQclear(r);
		}
	}
	if (rc)
		return rc;

	int64_t offset;
	if (__builtin_mul_overflow(f->page - 1, f->page_size, &offset) || offset >= out->total)
		return OK;

	/*
	 * Bounded ranking, as on SQLite: when the text matches more than
	 * `window` insights and the page lies within the first `window`
	 * results, only the `window` newest text matches are ranked.
	 */
	int64_t from = 0;
	uint64_t window = c->pool->cfg->search_window;
	if (text && window && (uint64_t)offset + (uint64_t)f->page_size <= window) {
		struct params wp = { 0 };
		p_text(&wp, f->text);
		p_int(&wp, (int64_t)window - 1);
		rc = q_fixed(c, P_SEARCH_WINDOW, &wp, &r, err);
		if (rc)
			return rc;
		if (PQntuples(r) > 0)
			from = col_int(r, 0, 0);
		PQclear(r);
	}

	/* The page. */
	struct params p = { 0 };
	buf_reset(sql);
	buf_adds(sql, "SELECT " INSIGHT_COLS);
	int tp = build_where(f, text, tags, true, sql, &p);
	if (from)
		buf_addf(sql, " AND i.id >= $%d", p_int(&p, from));
	if (tp)
		buf_addf(sql, " ORDER BY ts_rank(" RANK_WEIGHTS ", i.search, insights_fts_query($%d)) DESC,"
			      " i.created_at DESC, i.id DESC", tp);
	else
		buf_adds(sql, " ORDER BY i.created_at DESC, i.id DESC");
	int lim = p_int(&p, f->page_size);
	int off = p_int(&p, offset);
	buf_addf(sql, " LIMIT $%d OFFSET $%d", lim, off);
	rc = q_built(c, sql->data, &p, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	if (rows > f->page_size)
		rows = (int)f->page_size;
	out->items = ARENA_NEW_ARRAY(a, struct insight, (size_t)(rows ? rows : 1));
	for (int i = 0; i < rows; i++)
		read_insight(r, i, a, &out->items[out->n++]);
	PQclear(r);
	return attach_tags(c, a, out->items, out->n, err);
}

static enum status body_insight_find(struct pg_conn *c, struct op *op, struct error *err)
{
	const struct insight_filter *f = op->filter;
	struct buf tags = BUF_INIT, sql = BUF_INIT;
	if (f->ntag_ids)
		ids_array(&tags, f->tag_ids, f->ntag_ids);
	enum status rc = find_in_txn(c, op->a, f, tags.data, &sql, op->out, err);
	buf_release(&tags);
	buf_release(&sql);
	return rc;
}

/*
 * A page without search text, newest first, in two round trips: BEGIN, the
 * total and the page, pipelined; then the page's tags and COMMIT. The page
 * is chosen on ids alone (an index scan in created_at order that skips
 * `offset` rows without carrying their wide columns), then joined to its
 * 20-odd rows. The filter's SQL is prepared per connection by its text.
 */
static enum status find_newest(struct pg_conn *c, struct arena *a, const struct insight_filter *f,
			       const char *tags, struct insight_page *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	struct buf where = BUF_INIT, count = BUF_INIT, page = BUF_INIT;
	struct params p = { 0 }, fast = { 0 };
	build_where(f, false, tags, false, &where, &p);
	struct pq qs[MAX_PIPELINE];
	size_t n = 0, at_count, at_page = 0;

	if (!f->author && !f->ntag_ids) {
		p_text(&fast, f->status >= 0 ? lifecycle_name((enum lifecycle)f->status) : NULL);
		p_text(&fast, f->priority >= 0 ? priority_name((enum priority)f->priority) : NULL);
		p_id(&fast, f->category_id);
		qs[n] = (struct pq){ .which = P_COUNT_FAST, .p = &fast };
	} else {
		buf_adds(&count, "SELECT count(*)");
		buf_add(&count, where.data, where.len);
		qs[n] = (struct pq){ .sql = count.data, .prepare = true, .p = &p };
	}
	/* The page's parameters: the filter's (pointing into p), then limit and offset. */
	struct params pp = p;
	int64_t offset;
	bool paged = !__builtin_mul_overflow(f->page - 1, f->page_size, &offset);
	if (paged) {
		int lim = p_int(&pp, f->page_size);
		int off = p_int(&pp, offset);
		buf_adds(&page, "SELECT " INSIGHT_COLS " FROM (SELECT i.id");
		buf_add(&page, where.data, where.len);
		buf_addf(&page, " ORDER BY i.created_at DESC, i.id DESC LIMIT $%d OFFSET $%d) p"
				" JOIN insights i ON i.id = p.id LEFT JOIN categories c ON c.id = i.category_id"
				" ORDER BY i.created_at DESC, i.id DESC", lim, off);
		struct pq total = qs[n];
		qs[n++] = (struct pq){ .which = P_BEGIN_SNAPSHOT };
		at_count = n;
		qs[n++] = total;
		at_page = n;
		qs[n++] = (struct pq){ .sql = page.data, .prepare = true, .p = &pp };
	} else {
		/* No page can start there: the total alone, one statement. */
		at_count = n++;
	}
	PGresult *r[MAX_PIPELINE];
	enum status rc = q_pipeline(c, n, qs, r, err);
	buf_release(&where);
	buf_release(&count);
	buf_release(&page);
	if (rc)
		return rc;
	out->total = col_int(r[at_count], 0, 0);
	if (paged) {
		int rows = PQntuples(r[at_page]);
		if (rows > f->page_size)
			rows = (int)f->page_size;
		out->items = ARENA_NEW_ARRAY(a, struct insight, (size_t)(rows ? rows : 1));
		for (int i = 0; i < rows; i++)
			read_insight(r[at_page], i, a, &out->items[out->n++]);
	}
	for (size_t i = 0; i < n; i++)
		PQclear(r[i]);
	if (!paged)
		return OK;

	return tags_and_commit(c, a, out->items, out->n, err);
}

static enum status body_insight_newest(struct pg_conn *c, struct op *op, struct error *err)
{
	const struct insight_filter *f = op->filter;
	struct buf tags = BUF_INIT;
	if (f->ntag_ids)
		ids_array(&tags, f->tag_ids, f->ntag_ids);
	enum status rc = find_newest(c, op->a, f, tags.data, op->out, err);
	buf_release(&tags);
	return rc;
}

static enum status pg_insight_find(struct store *st, struct arena *a,
				   const struct insight_filter *f, struct insight_page *out,
				   struct error *err)
{
	memset(out, 0, sizeof(*out));
	struct op op = { .a = a, .filter = f, .out = out };
	if (!has_word(f->text))
		return pg_run(pg_of(st), RUN_PIPELINE, body_insight_newest, &op, err);
	return pg_run(pg_of(st), RUN_SNAPSHOT, body_insight_find, &op, err);
}

/*
 * Checks and locks the rows an insight write refers to, adding a problem
 * for each missing one: its category (which then cannot be deleted before
 * we commit) and, when tags change, the tags it adds and those it carries
 * now (locked in ascending id order, before the associations move their
 * counts). `id` is 0 for a new insight.
 */
static enum status lock_insight_refs(struct pg_conn *c, int64_t id, const struct insight_input *in,
				     struct error *err)
{
	PGresult *r;
	enum status rc;
	if (in->category_id.set && in->category_id.v) {
		struct params p = { 0 };
		p_int(&p, in->category_id.v);
		rc = q_fixed(c, P_CATEGORY_KEY_SHARE, &p, &r, err);
		if (rc)
			return rc;
		if (PQntuples(r) == 0)
			invalid_category_ref(err, "body.category_id", in->category_id.v);
		PQclear(r);
	}
	if (in->tag_ids_set) {
		struct buf ids = BUF_INIT;
		ids_array(&ids, in->tag_ids, in->ntag_ids);
		struct params p = { 0 };
		p_int(&p, id);
		p_text(&p, ids.data);
		rc = q_fixed(c, P_TAGS_LOCK, &p, &r, err);
		buf_release(&ids);
		if (rc)
			return rc;
		/* Both lists are ascending: walk them together. */
		int rows = PQntuples(r), k = 0;
		for (size_t i = 0; i < in->ntag_ids; i++) {
			while (k < rows && col_int(r, k, 0) < in->tag_ids[i])
				k++;
			if (k == rows || col_int(r, k, 0) != in->tag_ids[i])
				invalid_tag_ref(err, in->tag_ids[i]);
		}
		PQclear(r);
	}
	return err->status == E_INVALID ? E_INVALID : OK;
}

static void insight_params(struct params *p, const struct insight *row)
{
	p_text(p, row->title);
	p_text(p, row->description);
	p_text(p, row->content);
	p_text(p, row->source);
	p_text(p, row->author);
	p_id(p, row->category_id);
	p_text(p, priority_name(row->priority));
	p_text(p, lifecycle_name(row->status));
	p_ts(p, row->created_at);
	p_ts(p, row->updated_at);
	p_ts(p, row->published_at);
}

/* Makes the insight's tags exactly `in->tag_ids`, touching only what changes. */
static enum status set_tags(struct pg_conn *c, int64_t id, const struct insight_input *in,
			    bool fresh, struct error *err)
{
	struct buf ids = BUF_INIT;
	ids_array(&ids, in->tag_ids, in->ntag_ids);
	struct params p = { 0 };
	p_int(&p, id);
	p_text(&p, ids.data);
	enum status rc = OK;
	if (!fresh)
		rc = q_fixed(c, P_INSIGHT_TAGS_KEEP_ONLY, &p, NULL, err);
	if (rc == OK && in->ntag_ids)
		rc = q_fixed(c, P_INSIGHT_TAGS_ADD, &p, NULL, err);
	buf_release(&ids);
	return rc;
}

/* Inserts one insight (checking and locking what it refers to) in the caller's transaction. */
static enum status insert_insight(struct pg_conn *c, const struct insight_input *in, int64_t *id,
				  struct error *err)
{
	enum status rc = lock_insight_refs(c, 0, in, err);
	if (rc)
		return rc;
	char now[TS_SIZE];
	clock_timestamp(now);
	struct insight row;
	insight_init(&row, in, now);
	struct params p = { 0 };
	insight_params(&p, &row);
	PGresult *r;
	rc = q_fixed(c, P_INSIGHT_INSERT, &p, &r, err);
	if (rc)
		return rc;
	*id = col_int(r, 0, 0);
	PQclear(r);
	if (in->tag_ids_set)
		rc = set_tags(c, *id, in, true, err);
	return rc;
}

static enum status body_insight_create(struct pg_conn *c, struct op *op, struct error *err)
{
	int64_t id = 0;
	enum status rc = insert_insight(c, op->insight_in, &id, err);
	if (rc == OK)
		rc = load_insight(c, op->a, id, false, op->out, err);
	return rc;
}

static enum status pg_insight_create(struct store *st, struct arena *a,
				     const struct insight_input *in, struct insight *out,
				     struct error *err)
{
	struct op op = { .a = a, .insight_in = in, .out = out };
	return pg_run(pg_of(st), RUN_WRITE, body_insight_create, &op, err);
}

static enum status body_insight_create_many(struct pg_conn *c, struct op *op, struct error *err)
{
	enum status rc = OK;
	for (size_t i = 0; rc == OK && i < op->count; i++) {
		int64_t id;
		rc = insert_insight(c, &op->insight_in[i], &id, err);
	}
	return rc;
}

/* A batch takes as long as it takes: no query timeout. */
static enum status pg_insight_create_many(struct store *st, const struct insight_input *in,
					  size_t n, struct error *err)
{
	struct op op = { .insight_in = in, .count = n };
	return pg_run(pg_of(st), RUN_MAINTENANCE, body_insight_create_many, &op, err);
}

static enum status body_insight_update(struct pg_conn *c, struct op *op, struct error *err)
{
	const struct insight_input *in = op->insight_in;
	struct insight row;
	enum status rc = load_insight(c, op->a, op->id, true, &row, err);
	if (rc == OK)
		rc = lock_insight_refs(c, op->id, in, err);
	if (rc)
		return rc;
	char now[TS_SIZE];
	clock_timestamp(now);
	insight_apply(&row, in, now);
	struct params p = { 0 };
	insight_params(&p, &row);
	p_int(&p, op->id);
	rc = q_fixed(c, P_INSIGHT_UPDATE, &p, NULL, err);
	if (rc == OK && in->tag_ids_set)
		rc = set_tags(c, op->id, in, false, err);
	if (rc == OK)
		rc = load_insight(c, op->a, op->id, false, op->out, err);
	return rc;
}

static enum status pg_insight_update(struct store *st, struct arena *a, int64_t id,
				     const struct insight_input *in, struct insight *out,
				     struct error *err)
{
	struct op op = { .a = a, .id = id, .insight_in = in, .out = out };
	return pg_run(pg_of(st), RUN_WRITE, body_insight_update, &op, err);
}

static enum status body_insight_delete(struct pg_conn *c, struct op *op, struct error *err)
{
	int64_t found = 0;
	enum status rc = q_on_id(c, P_INSIGHT_LOCK, op->id, &found, err);
	if (rc)
		return rc;
	if (!found)
		return error_set(err, E_NOTFOUND, "Insight not found");
	/* Its tags, in order, before the associations go. */
	struct params p = { 0 };
	p_int(&p, op->id);
	p_text(&p, "{}");
	rc = q_fixed(c, P_TAGS_LOCK, &p, NULL, err);
	if (rc == OK)
		rc = q_on_id(c, P_INSIGHT_TAGS_CLEAR, op->id, NULL, err);
	if (rc == OK)
		rc = q_on_id(c, P_INSIGHT_DELETE, op->id, NULL, err);
	return rc;
}

static enum status pg_insight_delete(struct store *st, int64_t id, struct error *err)
{
	struct op op = { .id = id };
	return pg_run(pg_of(st), RUN_WRITE, body_insight_delete, &op, err);
}

/* ---- tags ------------------------------------------------------------------ */

static enum status load_tag(struct pg_conn *c, struct arena *a, int64_t id, bool lock,
			    struct tag *out, struct error *err)
{
	struct params p = { 0 };
	p_int(&p, id);
	PGresult *r;
	enum status rc = q_fixed(c, lock ? P_TAG_GET_LOCKED : P_TAG_GET, &p, &r, err);
	if (rc)
		return rc;
	if (PQntuples(r) == 0)
		rc = error_set(err, E_NOTFOUND, "Tag not found");
	else
		read_tag(r, 0, 0, a, out);
	PQclear(r);
	return rc;
}

/*
 * Reports a name or slug already used by another row (the clash statement
 * selects "name matches, slug matches" of the first such row). A row that
 * appears after this check is caught by the unique index: conflict_words().
 */
static enum status check_clash(struct pg_conn *c, enum pg_stmt which, const char *what,
			       const char *name, const char *slug, int64_t self, struct error *err)
{
	struct params p = { 0 };
	p_text(&p, name);
	p_text(&p, slug);
	p_int(&p, self);
	PGresult *r;
	enum status rc = q_fixed(c, which, &p, &r, err);
	if (rc)
		return rc;
	if (PQntuples(r) > 0) {
		if (col_bool(r, 0, 0))
			rc = error_set(err, E_CONFLICT, "%s with name '%s' already exists", what, name);
		else
			rc = error_set(err, E_CONFLICT, "%s with slug '%s' already exists", what, slug);
	}
	PQclear(r);
	return rc;
}

static enum status body_tag_get(struct pg_conn *c, struct op *op, struct error *err)
{
	return load_tag(c, op->a, op->id, false, op->out, err);
}

static enum status pg_tag_get(struct store *st, struct arena *a, int64_t id, struct tag *out,
			      struct error *err)
{
	struct op op = { .a = a, .id = id, .out = out };
	return pg_run(pg_of(st), RUN_READ, body_tag_get, &op, err);
}

static enum status body_tag_list(struct pg_conn *c, struct op *op, struct error *err)
{
	struct params p = { 0 };
	p_int(&p, op->range.limit);
	p_int(&p, op->range.skip);
	PGresult *r;
	enum status rc = q_fixed(c, P_TAG_LIST, &p, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	struct tag *tags = ARENA_NEW_ARRAY(op->a, struct tag, (size_t)(rows ? rows : 1));
	for (int i = 0; i < rows; i++)
		read_tag(r, i, 0, op->a, &tags[i]);
	PQclear(r);
	*op->tags = tags;
	*op->n = (size_t)rows;
	return OK;
}

static enum status pg_tag_list(struct store *st, struct arena *a, struct range r,
			       struct tag **out, size_t *n, struct error *err)
{
	*out = NULL;
	*n = 0;
	struct op op = { .a = a, .range = r, .tags = out, .n = n };
	return pg_run(pg_of(st), RUN_READ, body_tag_list, &op, err);
}

static void tag_params(struct params *p, const struct tag *row)
{
	p_text(p, row->name);
	p_text(p, row->slug);
	p_text(p, row->description);
	p_text(p, row->color);
}

static enum status body_tag_create(struct pg_conn *c, struct op *op, struct error *err)
{
	struct tag row = { 0 };
	tag_apply(&row, op->tag_in);
	clock_timestamp(row.created_at);
	enum status rc = check_clash(c, P_TAG_CLASH, "Tag", row.name, row.slug, 0, err);
	if (rc)
		return rc;
	struct params p = { 0 };
	tag_params(&p, &row);
	p_ts(&p, row.created_at);
	PGresult *r;
	rc = q_fixed(c, P_TAG_INSERT, &p, &r, err);
	if (rc)
		return conflict_words(c, rc, "Tag", row.name, row.slug, err);
	int64_t id = col_int(r, 0, 0);
	PQclear(r);
	return load_tag(c, op->a, id, false, op->out, err);
}

static enum status pg_tag_create(struct store *st, struct arena *a, const struct tag_input *in,
				 struct tag *out, struct error *err)
{
	struct op op = { .a = a, .tag_in = in, .out = out };
	return pg_run(pg_of(st), RUN_WRITE, body_tag_create, &op, err);
}

static enum status body_tag_update(struct pg_conn *c, struct op *op, struct error *err)
{
	struct tag row;
	enum status rc = load_tag(c, op->a, op->id, true, &row, err);
	if (rc)
		return rc;
	tag_apply(&row, op->tag_in);
	rc = check_clash(c, P_TAG_CLASH, "Tag", row.name, row.slug, op->id, err);
	if (rc)
		return rc;
	struct params p = { 0 };
	tag_params(&p, &row);
	p_int(&p, op->id);
	rc = q_fixed(c, P_TAG_UPDATE, &p, NULL, err);
	if (rc)
		return conflict_words(c, rc, "Tag", row.name, row.slug, err);
	/* Read back: usage_count as it is now, not as it was when locked. */
	return load_tag(c, op->a, op->id, false, op->out, err);
}

static enum status pg_tag_update(struct store *st, struct arena *a, int64_t id,
				 const struct tag_input *in, struct tag *out, struct error *err)
{
	struct op op = { .a = a, .id = id, .tag_in = in, .out = out };
	return pg_run(pg_of(st), RUN_WRITE, body_tag_update, &op, err);
}

static enum status body_tag_delete(struct pg_conn *c, struct op *op, struct error *err)
{
	int64_t found = 0;
	enum status rc = q_on_id(c, P_TAG_LOCK_DELETE, op->id, &found, err);
	if (rc)
		return rc;
	if (!found)
		return error_set(err, E_NOTFOUND, "Tag not found");
	rc = q_on_id(c, P_TAG_UNLINK, op->id, NULL, err);
	if (rc == OK)
		rc = q_on_id(c, P_TAG_DELETE, op->id, NULL, err);
	return rc;
}

static enum status pg_tag_delete(struct store *st, int64_t id, struct error *err)
{
	struct op op = { .id = id };
	return pg_run(pg_of(st), RUN_WRITE, body_tag_delete, &op, err);
}

/* ---- categories -------------------------------------------------------------- */

static enum status load_category(struct pg_conn *c, struct arena *a, int64_t id, bool lock,
				 struct category *out, struct error *err)
{
	struct params p = { 0 };
	p_int(&p, id);
	PGresult *r;
	enum status rc = q_fixed(c, lock ? P_CATEGORY_GET_LOCKED : P_CATEGORY_GET, &p, &r, err);
	if (rc)
		return rc;
	if (PQntuples(r) == 0)
		rc = error_set(err, E_NOTFOUND, "Category not found");
	else
		read_category(r, 0, 0, true, a, out);
	PQclear(r);
	return rc;
}

static enum status body_category_get(struct pg_conn *c, struct op *op, struct error *err)
{
	return load_category(c, op->a, op->id, false, op->out, err);
}

static enum status pg_category_get(struct store *st, struct arena *a, int64_t id,
				   struct category *out, struct error *err)
{
	struct op op = { .a = a, .id = id, .out = out };
	return pg_run(pg_of(st), RUN_READ, body_category_get, &op, err);
}

static enum status body_category_list(struct pg_conn *c, struct op *op, struct error *err)
{
	struct params p = { 0 };
	p_int(&p, op->range.limit);
	p_int(&p, op->range.skip);
	PGresult *r;
	enum status rc = q_fixed(c, P_CATEGORY_LIST, &p, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	struct category *cats = ARENA_NEW_ARRAY(op->a, struct category, (size_t)(rows ? rows : 1));
	for (int i = 0; i < rows; i++)
		read_category(r, i, 0, true, op->a, &cats[i]);
	PQclear(r);
	*op->categories = cats;
	*op->n = (size_t)rows;
	return OK;
}

static enum status pg_category_list(struct store *st, struct arena *a, struct range r,
				    struct category **out, size_t *n, struct error *err)
{
	*out = NULL;
	*n = 0;
	struct op op = { .a = a, .range = r, .categories = out, .n = n };
	return pg_run(pg_of(st), RUN_READ, body_category_list, &op, err);
}

/*
 * Checks a category's parent: it must exist (it is then locked against
 * deletion until we commit) and, for an existing category `self`, must be
 * neither `self` nor one of its descendants (under the tree lock).
 */
static enum status check_parent(struct pg_conn *c, int64_t parent, int64_t self,
				struct error *err)
{
	enum status rc;
	if (self) {
		rc = q_fixed(c, P_CATEGORY_TREE_LOCK, NULL, NULL, err);
		if (rc)
			return rc;
	}
	int64_t found = 0;
	rc = q_on_id(c, P_CATEGORY_KEY_SHARE, parent, &found, err);
	if (rc)
		return rc;
	if (!found)
		return invalid_category_ref(err, "body.parent_id", parent);
	if (!self)
		return OK;
	struct params p = { 0 };
	p_int(&p, parent);
	p_int(&p, self);
	PGresult *r;
	rc = q_fixed(c, P_CATEGORY_IS_ANCESTOR, &p, &r, err);
	if (rc)
		return rc;
	bool cycle = PQntuples(r) > 0;
	PQclear(r);
	return cycle ? invalid_parent_cycle(err, parent) : OK;
}

static void category_params(struct params *p, const struct category *row)
{
	p_text(p, row->name);
	p_text(p, row->slug);
	p_text(p, row->description);
	p_id(p, row->parent_id);
	p_text(p, row->color);
	p_text(p, row->icon);
}

static enum status body_category_create(struct pg_conn *c, struct op *op, struct error *err)
{
	char now[TS_SIZE];
	clock_timestamp(now);
	struct category row = { 0 };
	category_apply(&row, op->category_in, now);
	enum status rc = OK;
	if (row.parent_id)
		rc = check_parent(c, row.parent_id, 0, err);
	if (rc == OK)
		rc = check_clash(c, P_CATEGORY_CLASH, "Category", row.name, row.slug, 0, err);
	if (rc)
		return rc;
	struct params p = { 0 };
	category_params(&p, &row);
	p_ts(&p, row.created_at);
	p_ts(&p, row.updated_at);
	PGresult *r;
	rc = q_fixed(c, P_CATEGORY_INSERT, &p, &r, err);
	if (rc)
		return conflict_words(c, rc, "Category", row.name, row.slug, err);
	int64_t id = col_int(r, 0, 0);
	PQclear(r);
	return load_category(c, op->a, id, false, op->out, err);
}

static enum status pg_category_create(struct store *st, struct arena *a,
				      const struct category_input *in, struct category *out,
				      struct error *err)
{
	struct op op = { .a = a, .category_in = in, .out = out };
	return pg_run(pg_of(st), RUN_WRITE, body_category_create, &op, err);
}

static enum status body_category_update(struct pg_conn *c, struct op *op, struct error *err)
{
	const struct category_input *in = op->category_in;
	struct category row;
	enum status rc = load_category(c, op->a, op->id, true, &row, err);
	if (rc)
		return rc;
	char now[TS_SIZE];
	clock_timestamp(now);
	category_apply(&row, in, now);
	if (in->parent_id.set && row.parent_id)
		rc = check_parent(c, row.parent_id, op->id, err);
	if (rc == OK)
		rc = check_clash(c, P_CATEGORY_CLASH, "Category", row.name, row.slug, op->id, err);
	if (rc)
		return rc;
	struct params p = { 0 };
	category_params(&p, &row);
	p_ts(&p, row.updated_at);
	p_int(&p, op->id);
	rc = q_fixed(c, P_CATEGORY_UPDATE, &p, NULL, err);
	if (rc)
		return conflict_words(c, rc, "Category", row.name, row.slug, err);
	return load_category(c, op->a, op->id, false, op->out, err);
}

static enum status pg_category_update(struct store *st, struct arena *a, int64_t id,
				      const struct category_input *in, struct category *out,
				      struct error *err)
{
	struct op op = { .a = a, .id = id, .category_in = in, .out = out };
	return pg_run(pg_of(st), RUN_WRITE, body_category_update, &op, err);
}

static enum status body_category_delete(struct pg_conn *c, struct op *op, struct error *err)
{
	int64_t found = 0;
	enum status rc = q_on_id(c, P_CATEGORY_LOCK_DELETE, op->id, &found, err);
	if (rc)
		return rc;
	if (!found)
		return error_set(err, E_NOTFOUND, "Category not found");
	struct params p = { 0 };
	p_int(&p, op->id);
	PGresult *r;
	rc = q_fixed(c, P_CATEGORY_USAGE, &p, &r, err);
	if (rc)
		return rc;
	int64_t insights = col_int(r, 0, 0), children = col_int(r, 0, 1);
	PQclear(r);
	if (insights)
		return error_set(err, E_CONFLICT,
				 "Cannot delete category with %" PRId64 " insights. Remove insights first.",
				 insights);
	if (children)
		return error_set(err, E_CONFLICT,
				 "Cannot delete category with %" PRId64
				 " subcategories. Remove or move them first.", children);
	return q_on_id(c, P_CATEGORY_DELETE, op->id, NULL, err);
}

static enum status pg_category_delete(struct store *st, int64_t id, struct error *err)
{
	struct op op = { .id = id };
	return pg_run(pg_of(st), RUN_WRITE, body_category_delete, &op, err);
}

/* ---- statistics ------------------------------------------------------------- */

struct cat_count {
	int64_t id;
	int64_t n;
};

static enum status body_statistics(struct pg_conn *c, struct op *op, struct error *err)
{
	struct statistics *out = op->out;
	struct arena *a = op->a;
	memset(out, 0, sizeof(*out));

	/*
	 * One round trip for BEGIN and the four reads, one more for the tags of
	 * the recent insights and COMMIT.
	 */
	struct params rp = { 0 };
	p_int(&rp, STATS_RECENT);
	const struct pq qs[] = {
		{ .which = P_BEGIN_SNAPSHOT }, { .which = P_STATS_COUNTS },
		{ .which = P_STATS_CATEGORIES }, { .which = P_STATS_TAGS },
		{ .which = P_INSIGHT_RECENT, .p = &rp },
	};
	PGresult *res[MAX_PIPELINE];
	enum status rc = q_pipeline(c, sizeof(qs) / sizeof(qs[0]), qs, res, err);
	if (rc)
		return rc;

	/* Counts per (status, priority, category) from the trigger-kept table. */
	PGresult *r = res[1];
	int rows = PQntuples(r);
	struct cat_count *cats = xmalloc((size_t)(rows ? rows : 1) * sizeof(*cats));
	size_t ncats = 0;
	int64_t uncategorized = 0;
	for (int i = 0; i < rows; i++) {
		enum lifecycle ls;
		enum priority pr;
		int64_t n = col_int(r, i, 3);
		if (!lifecycle_parse(PQgetvalue(r, i, 0), &ls))
			out->by_status[ls] += n;
		if (!priority_parse(PQgetvalue(r, i, 1), &pr))
			out->by_priority[pr] += n;
		out->total_insights += n;
		int64_t cat = col_int(r, i, 2);
		if (!cat) {
			uncategorized += n;
			continue;
		}
		size_t k = 0;
		while (k < ncats && cats[k].id != cat)
			k++;
		if (k == ncats)
			cats[ncats++] = (struct cat_count){ cat, 0 };
		cats[k].n += n;
	}
	PQclear(r);

	/* Every category by name, with its count (zero included). */
	r = res[2];
	size_t n2 = (size_t)PQntuples(r);
	out->total_categories = (int64_t)n2;
	out->by_category = ARENA_NEW_ARRAY(a, struct count_by_name, n2 + 1);
	for (size_t i = 0; i < n2; i++) {
		int64_t id = col_int(r, (int)i, 0), n = 0;
		for (size_t k = 0; k < ncats; k++)
			if (cats[k].id == id)
				n = cats[k].n;
		out->by_category[i] = (struct count_by_name){ col_text(r, (int)i, 1, a), n };
	}
	PQclear(r);
	free(cats);
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

	r = res[3];
	out->total_tags = col_int(r, 0, 0);
	PQclear(r);

	r = res[4];
	rows = PQntuples(r);
	if (rows > STATS_RECENT)
		rows = STATS_RECENT;
	out->recent = ARENA_NEW_ARRAY(a, struct insight, STATS_RECENT);
	for (int i = 0; i < rows; i++)
		read_insight(r, i, a, &out->recent[out->nrecent++]);
	PQclear(r);
	PQclear(res[0]);
	return tags_and_commit(c, a, out->recent, out->nrecent, err);
}

static enum status pg_statistics(struct store *st, struct arena *a, struct statistics *out,
				 struct error *err)
{
	memset(out, 0, sizeof(*out));
	struct op op = { .a = a, .out = out };
	return pg_run(pg_of(st), RUN_PIPELINE, body_statistics, &op, err);
}

static enum status body_trends(struct pg_conn *c, struct op *op, struct error *err)
{
	for (size_t i = 0; i < op->ndays; i++)
		memset(op->days[i].by_status, 0, sizeof(op->days[i].by_status));
	struct params p = { 0 };
	p_text(&p, op->days[0].date);
	PGresult *r;
	enum status rc = q_fixed(c, P_TRENDS, &p, &r, err);
	if (rc)
		return rc;
	for (int row = 0; row < PQntuples(r); row++) {
		const char *day = PQgetvalue(r, row, 0);
		enum lifecycle ls;
		if (PQgetisnull(r, row, 0) || lifecycle_parse(PQgetvalue(r, row, 1), &ls))
			continue;
		for (size_t i = 0; i < op->ndays; i++)
			if (!strcmp(op->days[i].date, day))
				op->days[i].by_status[ls] += col_int(r, row, 2);
	}
	PQclear(r);
	return OK;
}

static enum status pg_trends(struct store *st, struct trend_day *days, size_t ndays,
			     struct error *err)
{
	struct op op = { .days = days, .ndays = ndays };
	return pg_run(pg_of(st), RUN_READ, body_trends, &op, err);
}

static enum status body_top_authors(struct pg_conn *c, struct op *op, struct error *err)
{
	struct params p = { 0 };
	p_int(&p, op->limit);
	PGresult *r;
	enum status rc = q_fixed(c, P_TOP_AUTHORS, &p, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	if (rows > op->limit)
		rows = (int)op->limit;
	struct count_by_name *names = ARENA_NEW_ARRAY(op->a, struct count_by_name,
						      (size_t)(rows ? rows : 1));
	for (int i = 0; i < rows; i++) {
		names[i].name = col_text(r, i, 0, op->a);
		names[i].count = col_int(r, i, 1);
	}
	PQclear(r);
	*op->names = names;
	*op->n = (size_t)rows;
	return OK;
}

static enum status pg_top_authors(struct store *st, struct arena *a, int64_t limit,
				  struct count_by_name **out, size_t *n, struct error *err)
{
	*out = NULL;
	*n = 0;
	struct op op = { .a = a, .limit = limit, .names = out, .n = n };
	return pg_run(pg_of(st), RUN_READ, body_top_authors, &op, err);
}

static enum status body_gauges(struct pg_conn *c, struct op *op, struct error *err)
{
	struct store_gauges *out = op->out;
	PGresult *r;
	enum status rc = q_fixed(c, P_GAUGES, NULL, &r, err);
	if (rc)
		return rc;
	out->insights = col_int(r, 0, 0);
	out->tags = col_int(r, 0, 1);
	out->categories = col_int(r, 0, 2);
	PQclear(r);
	return OK;
}

static void count_pool(struct pg_pool *pool, struct store_gauges *out)
{
	pthread_mutex_lock(&pool->lock);
	out->pool_idle += pool->nidle;
	out->pool_in_use += (int64_t)pool->open - pool->nidle;
	pthread_mutex_unlock(&pool->lock);
}

/* Row counts come from the primary (the replica may lag); connections from both pools. */
static enum status pg_gauges(struct store *st, struct store_gauges *out, struct error *err)
{
	struct pg_store *s = pg_of(st);
	memset(out, 0, sizeof(*out));
	struct op op = { .out = out };
	enum status rc = pg_run(s, RUN_PRIMARY, body_gauges, &op, err);
	count_pool(&s->primary, out);
	if (s->replica)
		count_pool(s->replica, out);
	return rc;
}

static enum status body_recount(struct pg_conn *c, struct op *op, struct error *err)
{
	enum status rc = q_fixed(c, P_RECOUNT_PREPARE, NULL, NULL, err);
	if (rc == OK)
		rc = q_fixed(c, P_RECOUNT_LOCK, NULL, NULL, err);
	PGresult *r;
	if (rc == OK)
		rc = q_fixed(c, P_RECOUNT, NULL, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	struct tag_fix *fixes = rows ? ARENA_NEW_ARRAY(op->a, struct tag_fix, (size_t)rows) : NULL;
	for (int i = 0; i < rows; i++) {
		fixes[i].id = col_int(r, i, 0);
		fixes[i].name = col_text(r, i, 1, op->a);
		fixes[i].was = col_int(r, i, 2);
		fixes[i].now = col_int(r, i, 3);
	}
	PQclear(r);
	*op->fixes = fixes;
	*op->n = (size_t)rows;
	return OK;
}

static enum status pg_recount_tags(struct store *st, struct arena *a, struct tag_fix **fixes,
				   size_t *n, struct error *err)
{
	*fixes = NULL;
	*n = 0;
	struct op op = { .a = a, .fixes = fixes, .n = n };
	return pg_run(pg_of(st), RUN_MAINTENANCE, body_recount, &op, err);
}

const struct store_driver store_pg_driver = {
	.name = "postgresql",
	/* Other instances write to the same database: see pg_watch. */
	.flags = STORE_SHARED | STORE_REMOTE,
	.watch = pg_watch,
	.open = pg_open,
	.close = pg_close,
	.migrate = pg_migrate,
	.ping = pg_ping,
	.insight_get = pg_insight_get,
	.insight_find = pg_insight_find,
	.insight_create = pg_insight_create,
	.insight_create_many = pg_insight_create_many,
	.insight_update = pg_insight_update,
	.insight_delete = pg_insight_delete,
	.tag_get = pg_tag_get,
	.tag_list = pg_tag_list,
	.tag_create = pg_tag_create,
	.tag_update = pg_tag_update,
	.tag_delete = pg_tag_delete,
	.category_get = pg_category_get,
	.category_list = pg_category_list,
	.category_create = pg_category_create,
	.category_update = pg_category_update,
	.category_delete = pg_category_delete,
	.statistics = pg_statistics,
	.trends = pg_trends,
	.top_authors = pg_top_authors,
	.gauges = pg_gauges,
	.recount_tags = pg_recount_tags,
};
