/*
 * pg.h: the PostgreSQL driver's internal header, shared by its files and by
 * nothing else (callers use store.h; only this driver includes
 * <libpq-fe.h>). The driver serves any number of stateless instances
 * sharing one primary, with an optional streaming replica for reads, and
 * answers every call exactly as the SQLite driver does (same rows, order,
 * statuses and messages); where the two differ it is in how they stay
 * correct when several processes write at once.
 *
 *   driver.c   the operations table; open, close, ping, gauges
 *   conn.c     connections, their session settings, the two pools
 *   io.c       non-blocking I/O against a deadline, parameters, prepared
 *              statements, pipelines, errors
 *   stmt.c     the fixed statements
 *   run.c      running one call: the pool, the transaction, retries, NOTIFY
 *   listen.c   LISTEN for other instances' writes
 *   rows.c     reading rows (through store/common.h) and tags of several insights
 *   find.c     point reads, lists, ranked search, statistics and trends
 *   write.c    writes of insights, tags and categories; maintenance
 *   access.c   API tokens and the audit trail
 *   idem.c     idempotency keys
 *   migrate.c  the schema migrations (migrations/NNNN_name.sql, embedded)
 *
 * Every name defined here starts with pg_, PG_ or P_ (pg_conn_take,
 * P_INSIGHT_GET), so that grep finds one definition.
 */
#ifndef INSIGHTS_STORE_PG_H
#define INSIGHTS_STORE_PG_H

#include <libpq-fe.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "store/common.h"
#include "store/store.h"

#define PG_POOL_SIZE_DEFAULT 10
#define PG_CONNECT_TIMEOUT_MS_DEFAULT 3000
/* How long the client waits past statement_timeout before dropping a connection. */
#define PG_CLIENT_GRACE_MS 1000
/*
 * Distinct filter shapes a connection keeps prepared (a filter has five
 * optional parts, so at most 32 shapes without text); beyond, SQL is sent
 * unprepared.
 */
#define PG_BUILT_CACHE 48
/* Statements in one pipeline at most. */
#define PG_MAX_PIPELINE 8
#define PG_MAX_PARAMS 24
/* Tells the instances that listen that the data changed (run.c, listen.c). */
#define PG_CHANNEL "insights_changes"
/* Advisory lock keys ('insight' in ASCII, and the next value). */
#define PG_LOCK_MIGRATE "29676314523297908"
#define PG_LOCK_CATEGORY_TREE "29676314523297909"

/* ---- statements (stmt.c) ----------------------------------------------------- */

enum pg_stmt {
	P_BEGIN,
	P_BEGIN_SNAPSHOT,
	P_COMMIT,
	P_ROLLBACK,
	P_PING,
	P_SEARCH_PLAN,
	P_SEARCH_PLAN_END,
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
	P_CATEGORIES_BY_IDS,
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
	P_INSIGHT_RELATED,
	P_GAUGES,
	P_RECOUNT_PREPARE,
	P_RECOUNT_LOCK,
	P_RECOUNT,
	P__COUNT
};

extern const char *const pg_sql[P__COUNT];

/* ts_rank's weights for D, C, B, A: content 1, description 5, title 10, as bm25 on SQLite. */
#define PG_RANK_WEIGHTS "'{0.1, 0.1, 0.5, 1.0}'"

/* ---- the handle ----------------------------------------------------------------- */

struct pg_pool;

struct pg_conn {
	PGconn *db;
	struct pg_pool *pool;
	bool prepared[P__COUNT];
	/* SQL built from filters that this connection has prepared, as "d<index>". */
	char *built[PG_BUILT_CACHE];
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
	/* The listener (listen.c), when one runs. */
	pthread_t watcher;
	bool watching;
	atomic_bool stop_watching;
	store_changed_fn changed;
	void *changed_arg;
};

/* The handle of `st`, which must be this driver's. */
struct pg_store *pg_of(struct store *st);

/* ---- errors and I/O (io.c) ----------------------------------------------------------- */

/*
 * Maps a failed statement (r may be NULL: nothing came back) to a status.
 * The client sees a generic sentence; the server's message goes to the log.
 * Records the SQLSTATE and constraint name on the connection, and marks it
 * broken when it can no longer be trusted.
 */
enum status pg_fail(struct pg_conn *c, const PGresult *r, struct error *err);
/* The server's message of a result, or the connection's, on one line for the log. */
void pg_describe(struct pg_conn *c, const PGresult *r, char *out, size_t outlen);
bool pg_state_is(const struct pg_conn *c, const char *state);
/*
 * Words a uniqueness race the way the check before the write would have:
 * the unique index's name says which column clashed.
 */
enum status pg_conflict_words(struct pg_conn *c, enum status rc, const char *what,
			      const char *name, const char *slug, struct error *err);
/*
 * Waits until the socket is ready for `events`: the events that occurred,
 * 0 when the deadline (0: none) passed first, -1 on failure.
 */
int pg_wait_socket(PGconn *db, short events, uint64_t deadline_ns);
/* Settles a command just sent: OK with *out (NULL: discarded), or a failure. */
enum status pg_finish(struct pg_conn *c, bool sent, PGresult **out, struct error *err);

/* Statement parameters, all sent as text. A NULL value is SQL NULL. */
struct pg_params {
	int n;
	const char *v[PG_MAX_PARAMS];
	char num[PG_MAX_PARAMS][24];
};

/* Each adder returns the parameter's number ($1 is 1). */
int pg_p_text(struct pg_params *p, const char *s);
int pg_p_int(struct pg_params *p, int64_t v);
/* An id, or NULL for 0. */
int pg_p_id(struct pg_params *p, int64_t v);
/* A nullable timestamp: "" stands for NULL. */
int pg_p_ts(struct pg_params *p, const char *ts);

/* Runs the fixed statement `which`, preparing it on this connection first if needed. */
enum status pg_q_fixed(struct pg_conn *c, enum pg_stmt which, const struct pg_params *p,
		       PGresult **out, struct error *err);
/* Runs SQL built at run time: parsed and planned with these values. */
enum status pg_q_built(struct pg_conn *c, const char *sql, const struct pg_params *p,
		       PGresult **out, struct error *err);
/* Runs a fixed statement with one id; *changed receives the rows it touched. */
enum status pg_q_on_id(struct pg_conn *c, enum pg_stmt which, int64_t id, int64_t *changed,
		       struct error *err);

/*
 * One statement of a pipeline: a fixed statement, or (sql set) SQL built
 * at run time, prepared through the connection's cache when `prepare`.
 */
struct pg_pq {
	enum pg_stmt which;
	const char *sql;
	bool prepare;
	const struct pg_params *p;
};

/*
 * Runs statements in one round trip (libpq's pipeline mode); out[i]
 * receives statement i's result (the caller PQclears them) when every
 * statement succeeded. See io.c.
 */
enum status pg_q_pipeline(struct pg_conn *c, size_t n, const struct pg_pq *qs, PGresult **out,
			  struct error *err);

/* ---- rows (rows.c) ------------------------------------------------------------------------ */

/* Row `row` of a result as store/common.h's decoder reads it. */
struct store_row pg_row(const PGresult *r, int row);
const char *pg_col_text(const PGresult *r, int row, int col, struct arena *a);
/* An integer column; 0 for NULL. */
int64_t pg_col_int(const PGresult *r, int row, int col);
bool pg_col_bool(const PGresult *r, int row, int col);
/*
 * Hangs the tags of a result of rows (insight_id, STORE_TAG_COLS), ordered
 * by insight id then tag id, on the `n` insights they belong to.
 */
void pg_hang_tags(const PGresult *r, struct arena *a, struct insight *items, size_t n);
/* Loads the tags of `n` insights with one query and hangs them on each. */
enum status pg_attach_tags(struct pg_conn *c, struct arena *a, struct insight *items, size_t n,
			   struct error *err);
/*
 * Ends a PG_RUN_PIPELINE read: loads the tags of `n` insights and commits,
 * in one round trip.
 */
enum status pg_tags_and_commit(struct pg_conn *c, struct arena *a, struct insight *items,
			       size_t n, struct error *err);
/*
 * Reads one insight with its tags in one statement (so from one snapshot,
 * even outside a transaction); `lock` also locks its row until commit.
 */
enum status pg_load_insight(struct pg_conn *c, struct arena *a, int64_t id, bool lock,
			    struct insight *out, struct error *err);

/* A tag, a category (with its count) by id; `lock` also locks its row until commit. */
enum status pg_load_tag(struct pg_conn *c, struct arena *a, int64_t id, bool lock,
			struct tag *out, struct error *err);
enum status pg_load_category(struct pg_conn *c, struct arena *a, int64_t id, bool lock,
			     struct category *out, struct error *err);

/* ---- connections (conn.c) ---------------------------------------------------------------- */

/*
 * Opens a connection and sets up its session (see conn.c); connecting is
 * bounded by the pool's connect timeout and `deadline_ns` (0: none).
 */
enum status pg_conn_open(struct pg_pool *pool, uint64_t deadline_ns, struct pg_conn **out,
			 struct error *err);
/*
 * A connection of its own for maintenance (migrations, VACUUM): outside the
 * pool, without the statement and idle-transaction timeouts.
 */
enum status pg_conn_open_unbounded(struct pg_pool *pool, struct pg_conn **out, struct error *err);
void pg_conn_free(struct pg_conn *c);
/*
 * Takes an idle connection, or opens one while the pool has room, or waits
 * for one to come back until `wait_until` (0: no limit).
 */
enum status pg_conn_take(struct pg_pool *pool, uint64_t wait_until, uint64_t deadline_ns,
			 struct pg_conn **out, struct error *err);
/* Returns a connection to its pool, or closes it when it cannot be trusted. */
void pg_conn_give(struct pg_conn *c);
void pg_pool_init(struct pg_pool *pool, const char *role, const struct dburl *u,
		  unsigned connect_timeout_ms, const struct store_config *cfg);
void pg_pool_release(struct pg_pool *pool);
/*
 * Checks that libpq can parse a connection URI (without echoing it: a
 * parse error may quote the password) and reads its connect_timeout.
 */
enum status pg_check_conninfo(const struct dburl *u, unsigned *connect_timeout_ms,
			      struct error *err);

/* ---- running a call (run.c) ------------------------------------------------------------------ */

/* The arguments and results of one store call, for the body that runs it. */
struct pg_op {
	struct arena *a;
	int64_t id;
	const int64_t *ids;                     /* batch reads: `count` of them */
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
	struct insight **insights;
	struct category **categories;
	struct count_by_name **names;
	struct tag_fix **fixes;
	struct tag_link **links;
	size_t *n;
	struct trend_day *days;
	size_t ndays;
	const struct q_select *select;
	const struct q_aggregate *aggregate;
	/* Tokens and the audit trail (access.c). */
	const char *key;                        /* a token's name or hash; a time */
	const struct token *token_in;
	const struct audit_entry *audit_in;
	const struct audit_filter *audit_filter;
	struct token **token_rows;
	int64_t *tally;                         /* rows a maintenance write touched; a count */
	const struct transition *transition_in; /* lifecycle.c */
	/* Revisions and versions (revision.c). */
	const struct insight_revision *revision_in;
	enum q_table table;
	bool lock;
	bool in_batch;                          /* the call runs in the thread's batch */
	/* pg_run_search: the body it runs after setting the search's plan. */
	enum status (*search_body)(struct pg_conn *c, struct pg_op *op, struct error *err);
	/* Idempotency keys (idem.c): a row to write, or the actor and key to read. */
	const struct idem_row *idem_in;
};

enum pg_run_mode {
	PG_RUN_READ,        /* one statement, on the replica when there is one */
	PG_RUN_SNAPSHOT,    /* several statements in one snapshot, on the replica */
	PG_RUN_PIPELINE,    /* on the replica; the body opens and commits its snapshot itself */
	PG_RUN_PRIMARY,     /* one statement on the primary, outside a transaction */
	PG_RUN_WRITE,       /* a transaction on the primary */
	PG_RUN_MAINTENANCE, /* a transaction on the primary, without the client deadline */
};

typedef enum status (*pg_run_body)(struct pg_conn *c, struct pg_op *op, struct error *err);

/*
 * Runs `body` on a connection of the right pool, inside a transaction when
 * the mode asks for one (see run.c).
 */
enum status pg_run(struct pg_store *s, enum pg_run_mode mode, pg_run_body body,
		   struct pg_op *op, struct error *err);

/*
 * Runs a read with search text: `body` in a snapshot of its own (or in the
 * thread's batch), planned without sequential scans (P_SEARCH_PLAN).
 */
enum status pg_run_search(struct pg_store *s, pg_run_body body, struct pg_op *op,
			  struct error *err);

/* Batches (store.h): whether the calling thread has one open on `s`. */
bool pg_in_batch(struct pg_store *s);
enum status pg_batch_begin(struct store *st, struct error *err);
enum status pg_batch_end(struct store *st, bool commit, struct error *err);

/* ---- listening (listen.c) ------------------------------------------------------------------ */

enum status pg_watch(struct store *st, store_changed_fn changed, void *arg,
		     struct error *err);
/* Stops the listener, if one runs (at close). */
void pg_watch_stop(struct pg_store *s);

/* ---- the operations (find.c, write.c, migrate.c) ------------------------------------------------ */

enum status pg_insight_get(struct store *st, struct arena *a, int64_t id, struct insight *out,
			   struct error *err);
enum status pg_insight_find(struct store *st, struct arena *a, const struct insight_filter *f,
			    struct insight_page *out, struct error *err);
enum status pg_insight_tags(struct store *st, struct arena *a, const int64_t *ids, size_t n,
			    struct tag_link **out, size_t *nout, struct error *err);
enum status pg_insight_related(struct store *st, struct arena *a, int64_t id, int64_t limit,
			       struct insight **out, size_t *n, struct error *err);
enum status pg_insight_similar(struct store *st, struct arena *a, struct store_similar *q,
			       struct error *err);
enum status pg_tag_get(struct store *st, struct arena *a, int64_t id, struct tag *out,
		       struct error *err);
enum status pg_tag_list(struct store *st, struct arena *a, struct range r, struct tag **out,
			size_t *n, struct error *err);
enum status pg_category_get(struct store *st, struct arena *a, int64_t id, struct category *out,
			    struct error *err);
enum status pg_category_list(struct store *st, struct arena *a, struct range r,
			     struct category **out, size_t *n, struct error *err);
enum status pg_categories_by_ids(struct store *st, struct arena *a, const int64_t *ids, size_t n,
				 struct category **out, size_t *nout, struct error *err);
enum status pg_statistics(struct store *st, struct arena *a, struct statistics *out,
			  struct error *err);
enum status pg_trends(struct store *st, struct trend_day *days, size_t ndays, struct error *err);
enum status pg_top_authors(struct store *st, struct arena *a, int64_t limit,
			   struct count_by_name **out, size_t *n, struct error *err);

enum status pg_insight_create(struct store *st, struct arena *a, const struct insight_input *in,
			      struct insight *out, struct error *err);
enum status pg_insight_create_many(struct store *st, const struct insight_input *in, size_t n,
				   struct error *err);
enum status pg_insight_update(struct store *st, struct arena *a, int64_t id,
			      const struct insight_input *in, struct insight *out,
			      struct error *err);
enum status pg_insight_delete(struct store *st, int64_t id, struct error *err);
enum status pg_tag_create(struct store *st, struct arena *a, const struct tag_input *in,
			  struct tag *out, struct error *err);
enum status pg_tag_update(struct store *st, struct arena *a, int64_t id,
			  const struct tag_input *in, struct tag *out, struct error *err);
enum status pg_tag_delete(struct store *st, int64_t id, struct error *err);
enum status pg_category_create(struct store *st, struct arena *a,
			       const struct category_input *in, struct category *out,
			       struct error *err);
enum status pg_category_update(struct store *st, struct arena *a, int64_t id,
			       const struct category_input *in, struct category *out,
			       struct error *err);
enum status pg_category_delete(struct store *st, int64_t id, struct error *err);
/* check.c */
enum status pg_check(struct store *st, struct arena *a, struct store_check *out, struct error *err);
enum status pg_optimize(struct store *st, struct error *err);
enum status pg_recount_tags(struct store *st, struct arena *a, struct tag_fix **fixes, size_t *n,
			    struct error *err);

enum status pg_migrate(struct store *st, int *applied, struct error *err);

enum status pg_select(struct store *st, struct arena *a, const struct q_select *q,
		      struct q_rows *out, struct error *err);
enum status pg_aggregate(struct store *st, struct arena *a, const struct q_aggregate *q,
			 struct q_agg_rows *out, struct error *err);

/* ---- API tokens and the audit trail (access.c) ------------------------------------ */

enum status pg_token_create(struct store *st, struct arena *a, const struct token *in,
			    struct token *out, struct error *err);
enum status pg_token_list(struct store *st, struct arena *a, struct token **out, size_t *n,
			  struct error *err);
enum status pg_token_find(struct store *st, struct arena *a, const char *hash, struct token *out,
			  struct error *err);
enum status pg_token_delete(struct store *st, struct arena *a, const char *name,
			    struct token *out, struct error *err);
enum status pg_token_touch(struct store *st, const int64_t *ids, size_t n, const char *at,
			   struct error *err);
enum status pg_row_version(struct store *st, enum q_table table, int64_t id, bool lock,
			   int64_t *version, struct error *err);
enum status pg_revision_add(struct store *st, const struct insight_revision *r,
			    struct error *err);
enum status pg_revision_find(struct store *st, struct arena *a, int64_t id, int64_t page,
			     int64_t page_size, struct revision_page *out, struct error *err);
enum status pg_revision_get(struct store *st, struct arena *a, int64_t id, int64_t n,
			    struct insight_revision *out, struct error *err);
enum status pg_revision_retire(struct store *st, int64_t id, const char *at, struct error *err);
enum status pg_revision_prune(struct store *st, const char *before, int64_t *deleted,
			      struct error *err);
enum status pg_audit_append(struct store *st, const struct audit_entry *e, struct error *err);
enum status pg_audit_find(struct store *st, struct arena *a, const struct audit_filter *f,
			  struct audit_page *out, struct error *err);
enum status pg_audit_prune(struct store *st, const char *before, int64_t *deleted,
			   struct error *err);

/* ---- idempotency keys (idem.c) ------------------------------------------------------------------ */
enum status pg_idem_get(struct store *st, struct arena *a, const char *actor, const char *key,
			struct idem_row *out, struct error *err);
enum status pg_idem_put(struct store *st, const struct idem_row *row, const char *replaces,
			struct error *err);
enum status pg_idem_finish(struct store *st, const struct idem_row *answer, struct error *err);
enum status pg_idem_release(struct store *st, const char *actor, const char *key,
			    const char *token, struct error *err);
enum status pg_idem_prune(struct store *st, int64_t before, int64_t *deleted, struct error *err);
/* lifecycle.c */
enum status pg_transition_add(struct store *st, const struct transition *t, struct error *err);
enum status pg_lifecycle(struct store *st, struct arena *a, const char *since,
			 struct lifecycle_data *out, struct error *err);
enum status pg_stale_count(struct store *st, const char *before, int64_t *n, struct error *err);

#endif
