/*
 * sqlite.h: the SQLite driver's internal header, shared by its files and
 * by nothing else (callers use store.h). The driver serves one process
 * from a single file:
 *
 *   driver.c   the operations table; open, close, ping, gauges
 *   conn.c     connections and their pool, page caches, errors, checkpoints
 *   stmt.c     the fixed statements and the cache of built ones
 *   txn.c      read transactions, and writes grouped into shared commits
 *   rows.c     binding parameters and reading rows (through store/common.h)
 *   find.c     point reads, lists, ranked search, statistics and trends
 *   rank.c     insights_rank_gate(), bm25 that skips rows below a threshold
 *   write.c    writes of insights, tags and categories; maintenance
 *   access.c   API tokens and the audit trail
 *   idem.c     idempotency keys
 *   migrate.c  the schema migrations (migrations/NNNN_name.sql, embedded)
 *
 * Durability: WAL mode with synchronous=NORMAL. A committed transaction is
 * in the WAL before the response is sent and survives the process being
 * killed; the last transactions before a power loss may be lost.
 *
 * Time limits: a progress handler abandons a read that runs past its
 * connection's deadline (now + query_timeout when the connection is taken).
 * Writes are never interrupted: SQLite rolls back the whole transaction of
 * an interrupted write statement, and a write shares its transaction with
 * the other members of its commit group (txn.c).
 *
 * Every name defined here starts with sq_ (sq_conn_take, S_INSIGHT_GET), so
 * that grep finds one definition.
 */
#ifndef INSIGHTS_STORE_SQLITE_H
#define INSIGHTS_STORE_SQLITE_H

#include <sqlite3.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "store/common.h"
#include "store/store.h"

/* ---- statements (stmt.c) ---------------------------------------------------- */

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
	S_TRGM_ADD,
	S_INSIGHT_UPDATE,
	S_INSIGHT_DELETE,
	S_INSIGHT_TAGS_ADD,
	S_INSIGHT_TAGS_KEEP_ONLY,
	S_INSIGHT_TAGS_CLEAR,
	S_INSIGHT_RECENT,
	S_COUNT_FAST,
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
	S_CATEGORIES_BY_IDS,
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
	S_INSIGHT_RELATED,
	S_RECOUNT_DRIFT,
	S_RECOUNT_FIX,
	S__COUNT
};

/* The first of STORE_TAG_COLS in S_INSIGHT_GET_TAGGED: after the insight's. */
#define SQ_TAGGED_TAG_COL IC__COUNT

/* What a WAL is truncated to when it restarts (16 MiB, about CKPT_PAGES; see conn.c). */
#define SQ_WAL_LIMIT_BYTES "16777216"
/* How much of the database file a connection maps for its reads (2 GiB; SQLite caps it at its
 * build's SQLITE_MAX_MMAP_SIZE, just under 2 GiB on Debian). */
#define SQ_MMAP_BYTES "2147483648"

/* Statements built from a filter, cached per connection by their SQL text. */
#define SQ_DYN_CACHE 32

struct sq_store;

struct sq_dyn_stmt {
	char *sql;
	sqlite3_stmt *stmt;
};

struct sq_conn {
	struct sq_store *store;  /* the owner */
	sqlite3 *db;
	bool big;                /* one of the few with a large page cache */
	sqlite3_stmt *stmt[S__COUNT];
	struct sq_dyn_stmt dyn[SQ_DYN_CACHE];
	unsigned dyn_next;       /* the slot to evict next */
	uint64_t deadline_ns;    /* reads are abandoned past it; 0: none */
	struct sq_conn *next;    /* in the idle list */
};

struct sq_group_member;

struct sq_store {
	struct store base;
	char *path;
	int serve_lock;              /* a descriptor holding the serving lock, or -1 */
	struct store_config cfg;
	pthread_mutex_t pool_lock;
	struct sq_conn *idle;        /* idle connections, large caches first */
	unsigned nconns;             /* connections open */
	unsigned nidle;              /* of which idle */
	unsigned nbig;               /* of which have a large cache */
	/* Group commit (txn.c): all under write_lock but `queued`. */
	pthread_mutex_t write_lock;
	pthread_cond_t committed;
	atomic_uint queued;          /* writers waiting for write_lock */
	struct sq_conn *writer;      /* holds the open group transaction, or NULL */
	unsigned group_size;         /* writes done in the open group */
	struct sq_group_member *members; /* writes of the open group waiting for its commit */
	/*
	 * Ids the group inserted, each followed by a comma ("1,2,"), from the
	 * group's start: those before fts_flushed are indexed (sq_fts_flush),
	 * the others wait. Kept whole until the group ends, so that a write
	 * rolled back to its savepoint, which undoes the indexing done since
	 * it began, puts both positions back (sq_txn.fts_mark, fts_flushed).
	 */
	struct buf fts_pending;
	size_t fts_flushed;
	/* The checkpointer (conn.c). */
	pthread_t ckpt_thread;
	bool ckpt_running;
	struct sq_conn *ckpt_conn;
	pthread_mutex_t ckpt_lock;
	pthread_cond_t ckpt_cond;
	atomic_bool ckpt_wanted;
	bool ckpt_stop;              /* under ckpt_lock */
};

/* The handle of `st`, which must be this driver's. */
struct sq_store *sq_of(struct store *st);

/* ---- connections (conn.c) --------------------------------------------------- */

/*
 * Maps an SQLite failure to a status. The client sees only a generic
 * sentence; SQLite's own message goes to the log. `c` may be NULL.
 */
enum status sq_fail(struct sq_conn *c, int rc, struct error *err);
/*
 * Opens a connection to the file with the driver's settings; `pooled` ones
 * may get a large page cache (see conn.c).
 */
enum status sq_conn_open(struct sq_store *s, bool pooled, struct sq_conn **out,
			 struct error *err);
void sq_conn_free(struct sq_conn *c);
/* Takes an idle connection (or opens one) and starts its read deadline. */
enum status sq_conn_take(struct sq_store *s, struct sq_conn **out, struct error *err);
/* Returns a connection to the pool, resetting what it left running. */
void sq_conn_give(struct sq_store *s, struct sq_conn *c);
/* The deadline of a read starting now (0 when there is no query timeout). */
uint64_t sq_read_deadline(const struct sq_store *s);
/* Starts and stops the checkpointer thread (conn.c). */
void sq_checkpointer_start(struct sq_store *s);
void sq_checkpointer_stop(struct sq_store *s);

/* ---- statements (stmt.c) ---------------------------------------------------- */

/* sqlite3_exec without callbacks (fails with an I/O error under the sqlite.io fault). */
int sq_exec(struct sq_conn *c, const char *sql);
/* sqlite3_step (the same fault). Every statement of the driver steps through here. */
int sq_step(sqlite3_stmt *s);
/* The fixed statement `which`, prepared on first use; NULL on failure (err set). */
sqlite3_stmt *sq_stmt(struct sq_conn *c, enum sq_stmt which, struct error *err);
/* A statement for built SQL, from the connection's cache; NULL on failure. */
sqlite3_stmt *sq_dyn_stmt(struct sq_conn *c, const char *sql, struct error *err);
/* Runs a statement that returns no rows, then resets it: SQLITE_OK or the failure. */
int sq_run(sqlite3_stmt *s);
enum status sq_run_fixed(struct sq_conn *c, enum sq_stmt which, struct error *err);
/* Runs a fixed statement with one id bound as ?1; *changes gets the rows touched. */
enum status sq_run_on_id(struct sq_conn *c, enum sq_stmt which, int64_t id, int *changes,
			 struct error *err);

/* ---- transactions (txn.c) --------------------------------------------------- */

enum sq_txn_mode {
	SQ_READ,
	SQ_WRITE,  /* any write */
	SQ_APPEND, /* inserts that change no indexed insight: new insights' indexing waits for the commit */
};

struct sq_txn {
	struct sq_store *s;
	struct sq_conn *c;
	bool write;
	bool nested;      /* inside the calling thread's batch: a savepoint of it, or nothing */
	size_t fts_mark;    /* fts_pending.len when the write began */
	size_t fts_flushed; /* fts_flushed when the write began */
};

/*
 * Begins a read transaction (one snapshot), or a write: a savepoint of the
 * open commit group, holding write_lock until sq_txn_end.
 */
enum status sq_txn_begin(struct sq_store *s, enum sq_txn_mode mode, struct sq_txn *t,
			 struct error *err);
/*
 * Ends the transaction: keeps the work when `rc` is OK, undoes it otherwise,
 * and for a write returns only once the work is committed (a failing commit
 * becomes the returned status). Returns the final status.
 */
enum status sq_txn_end(struct sq_txn *t, enum status rc, struct error *err);
/* Remembers an insight the open group inserted, to index at its commit. */
void sq_fts_defer(struct sq_store *s, int64_t id);
/*
 * A batch: every operation of the calling thread between sq_batch_begin
 * and sq_batch_end runs in one write transaction (see store.h), on one
 * connection. The connection of the calling thread's batch on `s`, or NULL.
 */
struct sq_conn *sq_batch_conn(struct sq_store *s);
enum status sq_batch_begin(struct store *st, struct error *err);
enum status sq_batch_end(struct store *st, bool commit, struct error *err);

/* ---- rows (rows.c) ------------------------------------------------------------ */

/* A statement's current row as store/common.h's decoder reads it. */
struct store_row sq_row(sqlite3_stmt *s);
void sq_bind_text(sqlite3_stmt *s, int i, const char *v);
/* An id, or NULL for 0. */
void sq_bind_id(sqlite3_stmt *s, int i, int64_t v);
/* A nullable timestamp: "" stands for NULL. */
void sq_bind_ts(sqlite3_stmt *s, int i, const char *ts);
/* A text column copied into `a`; NULL for NULL. */
const char *sq_col_text(sqlite3_stmt *s, int i, struct arena *a);
/*
 * The tags of `n` insights (S_INSIGHT_TAGS_ONE or S_INSIGHT_TAGS), as links
 * in `a` ordered by insight id, then tag id.
 */
enum status sq_read_tag_links(struct sq_conn *c, struct arena *a, const int64_t *ids, size_t n,
			      struct tag_link **out, size_t *nout, struct error *err);
/* Loads the tags of `n` insights with one query and hangs them on each. */
enum status sq_attach_tags(struct sq_conn *c, struct arena *a, struct insight *items, size_t n,
			   struct error *err);
/* Reads one insight with its tags inside the caller's transaction. */
enum status sq_load_insight(struct sq_conn *c, struct arena *a, int64_t id,
			    struct insight *out, struct error *err);
/* Row readers for sq_load_row and sq_read_rows: a tag, a category with its count. */
void sq_read_tag_row(sqlite3_stmt *s, struct arena *a, void *row);
void sq_read_category_row(sqlite3_stmt *s, struct arena *a, void *row);
/*
 * Runs fixed statement `which` with `id` as ?1 on the caller's connection
 * and reads its one row with `read`; E_NOTFOUND with `missing` when there
 * is none.
 */
enum status sq_load_row(struct sq_conn *c, enum sq_stmt which, int64_t id,
			void (*read)(sqlite3_stmt *q, struct arena *a, void *row), struct arena *a,
			void *out, const char *missing, struct error *err);
/*
 * Runs a fixed statement taking (limit, offset) as ?1 and ?2 and reads up
 * to `limit` rows of `size` bytes into an array in `a`, one row at a time
 * with `read`. For the simple lists of tags, categories and authors.
 */
enum status sq_read_rows(struct sq_store *s, enum sq_stmt which, int64_t limit, int64_t offset,
			 size_t size, void (*read)(sqlite3_stmt *q, struct arena *a, void *row),
			 struct arena *a, void **out, size_t *n, struct error *err);

/*
 * Turns search text into an FTS5 query that cannot be read as query syntax
 * (find.c): each word a quoted string. False when the text holds no word.
 */
bool sq_fts_query(const char *text, struct buf *q);

/* Registers insights_like() (query.c) on a new connection; an SQLite result code. */
int sq_register_functions(sqlite3 *db);

/*
 * bm25's column weights (title, description, content) wherever the driver
 * ranks: find.c, query.c and rank.c. SQ_BM25_WEIGHTS_SQL is the same list
 * as SQL text.
 */
#define SQ_BM25_WEIGHTS 10.0, 5.0, 1.0
#define SQ_STRINGIFY_(...) #__VA_ARGS__
#define SQ_STRINGIFY(...) SQ_STRINGIFY_(__VA_ARGS__)
#define SQ_BM25_WEIGHTS_SQL SQ_STRINGIFY(SQ_BM25_WEIGHTS)
/* bm25(insights_fts, ...) with those weights, as SQL. */
#define SQ_BM25_SQL "bm25(insights_fts, " SQ_BM25_WEIGHTS_SQL ")"

/*
 * What insights_rank_gate(insights_fts, threshold) gives a row whose bm25
 * cannot be at or below `threshold`: it sorts after every real score (rank.c).
 */
#define SQ_RANK_SENTINEL 1e300
/* Registers insights_rank_gate() (rank.c) on a new connection; an SQLite result code. */
int sq_rank_register(sqlite3 *db);

/* ---- the operations (find.c, write.c, migrate.c) ---------------------------------------- */

enum status sq_insight_get(struct store *st, struct arena *a, int64_t id, struct insight *out,
			   struct error *err);
enum status sq_insight_find(struct store *st, struct arena *a, const struct insight_filter *f,
			    struct insight_page *out, struct error *err);
enum status sq_insight_tags(struct store *st, struct arena *a, const int64_t *ids, size_t n,
			    struct tag_link **out, size_t *nout, struct error *err);
enum status sq_insight_related(struct store *st, struct arena *a, int64_t id, int64_t limit,
			       struct insight **out, size_t *n, struct error *err);
enum status sq_insight_similar(struct store *st, struct arena *a, struct store_similar *q,
			       struct error *err);
enum status sq_tag_get(struct store *st, struct arena *a, int64_t id, struct tag *out,
		       struct error *err);
enum status sq_tag_list(struct store *st, struct arena *a, struct range r, struct tag **out,
			size_t *n, struct error *err);
enum status sq_category_get(struct store *st, struct arena *a, int64_t id, struct category *out,
			    struct error *err);
enum status sq_category_list(struct store *st, struct arena *a, struct range r,
			     struct category **out, size_t *n, struct error *err);
enum status sq_categories_by_ids(struct store *st, struct arena *a, const int64_t *ids, size_t n,
				 struct category **out, size_t *nout, struct error *err);
enum status sq_statistics(struct store *st, struct arena *a, struct statistics *out,
			  struct error *err);
enum status sq_trends(struct store *st, struct trend_day *days, size_t ndays, struct error *err);
enum status sq_top_authors(struct store *st, struct arena *a, int64_t limit,
			   struct count_by_name **out, size_t *n, struct error *err);

enum status sq_insight_create(struct store *st, struct arena *a, const struct insight_input *in,
			      struct insight *out, struct error *err);
enum status sq_insight_create_many(struct store *st, const struct insight_input *in, size_t n,
				   struct error *err);
enum status sq_insight_update(struct store *st, struct arena *a, int64_t id,
			      const struct insight_input *in, struct insight *out,
			      struct error *err);
enum status sq_insight_delete(struct store *st, int64_t id, struct error *err);
enum status sq_tag_create(struct store *st, struct arena *a, const struct tag_input *in,
			  struct tag *out, struct error *err);
enum status sq_tag_update(struct store *st, struct arena *a, int64_t id,
			  const struct tag_input *in, struct tag *out, struct error *err);
enum status sq_tag_delete(struct store *st, int64_t id, struct error *err);
enum status sq_category_create(struct store *st, struct arena *a,
			       const struct category_input *in, struct category *out,
			       struct error *err);
enum status sq_category_update(struct store *st, struct arena *a, int64_t id,
			       const struct category_input *in, struct category *out,
			       struct error *err);
enum status sq_category_delete(struct store *st, int64_t id, struct error *err);
enum status sq_recount_tags(struct store *st, struct arena *a, struct tag_fix **fixes, size_t *n,
			    struct error *err);
enum status sq_optimize(struct store *st, struct error *err);

/* ---- consistency and backups (check.c) ------------------------------------------ */

enum status sq_check(struct store *st, struct arena *a, struct store_check *out, struct error *err);
enum status sq_backup(struct store *st, const char *path, store_progress_fn progress, void *arg,
		      struct error *err);

enum status sq_migrate(struct store *st, int *applied, struct error *err);

enum status sq_select(struct store *st, struct arena *a, const struct q_select *q,
		      struct q_rows *out, struct error *err);
enum status sq_aggregate(struct store *st, struct arena *a, const struct q_aggregate *q,
			 struct q_agg_rows *out, struct error *err);

/* ---- API tokens and the audit trail (access.c) ------------------------------- */
enum status sq_token_create(struct store *st, struct arena *a, const struct token *in,
			    struct token *out, struct error *err);
enum status sq_token_list(struct store *st, struct arena *a, struct token **out, size_t *n,
			  struct error *err);
enum status sq_token_find(struct store *st, struct arena *a, const char *hash, struct token *out,
			  struct error *err);
enum status sq_token_delete(struct store *st, struct arena *a, const char *name,
			    struct token *out, struct error *err);
enum status sq_token_touch(struct store *st, const int64_t *ids, size_t n, const char *at,
			   struct error *err);
enum status sq_row_version(struct store *st, enum q_table table, int64_t id, bool lock,
			   int64_t *version, struct error *err);
enum status sq_revision_add(struct store *st, const struct insight_revision *r,
			    struct error *err);
enum status sq_revision_find(struct store *st, struct arena *a, int64_t id, int64_t page,
			     int64_t page_size, struct revision_page *out, struct error *err);
enum status sq_revision_get(struct store *st, struct arena *a, int64_t id, int64_t n,
			    struct insight_revision *out, struct error *err);
enum status sq_revision_retire(struct store *st, int64_t id, const char *at, struct error *err);
enum status sq_revision_prune(struct store *st, const char *before, int64_t *deleted,
			      struct error *err);
enum status sq_audit_append(struct store *st, const struct audit_entry *e, struct error *err);
enum status sq_audit_find(struct store *st, struct arena *a, const struct audit_filter *f,
			  struct audit_page *out, struct error *err);
enum status sq_audit_prune(struct store *st, const char *before, int64_t *deleted,
			   struct error *err);

/* ---- idempotency keys (idem.c) ------------------------------------------------- */
enum status sq_idem_get(struct store *st, struct arena *a, const char *actor, const char *key,
			struct idem_row *out, struct error *err);
enum status sq_idem_put(struct store *st, const struct idem_row *row, const char *replaces,
			struct error *err);
enum status sq_idem_finish(struct store *st, const struct idem_row *answer, struct error *err);
enum status sq_idem_release(struct store *st, const char *actor, const char *key,
			    const char *token, struct error *err);
enum status sq_idem_prune(struct store *st, int64_t before, int64_t *deleted, struct error *err);
/* lifecycle.c */
enum status sq_transition_add(struct store *st, const struct transition *t, struct error *err);
enum status sq_lifecycle(struct store *st, struct arena *a, const char *since,
			 struct lifecycle_data *out, struct error *err);
enum status sq_stale_count(struct store *st, const char *before, int64_t *n, struct error *err);

#endif
