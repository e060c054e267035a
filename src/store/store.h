/*
 * store.h: the storage interface.
 *
 * A driver (SQLite, PostgreSQL) is a versioned const table of operations at
 * the domain level, in the manner of SQLite's VFS and git's ref backends:
 * callers never see SQL, and no caller knows which driver it runs on. A
 * driver's handle embeds `struct store` first; the driver downcasts it.
 *
 * Callers go through the store_*() wrappers below, never through the
 * table: the wrappers (store.c) are the one door into a driver, the single
 * place that asserts its contract and injects faults for the tests. Only
 * store.c reads `st->drv`.
 *
 * Contracts shared by every operation:
 *  - It returns OK or fills `err` and returns its status (err->status is
 *    that status). Messages in `err` never contain SQL, file paths or
 *    connection strings.
 *  - Out-parameters are zeroed on failure: a caller never sees a pointer
 *    or count from a call that failed.
 *  - It is safe to call from any number of threads at once; the driver owns
 *    its connections and hands one to each call.
 *  - Every write is one transaction: on any failure nothing is left written.
 *    Referenced rows (category_id, parent_id, tag_ids) are checked inside
 *    that transaction and reported as E_INVALID problems (worded by
 *    core/model.h, at paths relative to the input). Uniqueness clashes are
 *    E_CONFLICT. A database that is down, locked past the busy timeout or
 *    slower than the request timeout gives E_UNAVAILABLE.
 *  - Rows returned point into `arena` and live as long as it does.
 *  - Inputs have passed core/validate.h; id lists are sorted and distinct.
 */
#ifndef INSIGHTS_STORE_H
#define INSIGHTS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/dburl.h"
#include "core/access.h"
#include "core/idempotency.h"
#include "core/lifecycle.h"
#include "core/model.h"
#include "core/query.h"
#include "lib/arena.h"
#include "lib/error.h"

struct store_driver;

/* The base of every driver's handle. */
struct store {
	const struct store_driver *drv;
};

struct store_config {
	unsigned pool_size;          /* connections (PostgreSQL); 0: default */
	unsigned busy_timeout_ms;    /* wait for a lock held by another process */
	/*
	 * Abandon a read after this long (E_UNAVAILABLE). Writes on SQLite are
	 * not interrupted: they share one transaction with the other writes of
	 * their commit group, which an interrupt would abort with them.
	 */
	unsigned query_timeout_ms;
	const char *read_url;        /* an optional read replica; may be NULL */
	/*
	 * Ranking bound: a search whose text matches more insights than this
	 * ranks only the newest `search_window` matches (for pages within
	 * them). 0: rank every match.
	 */
	unsigned search_window;
	/*
	 * This process serves requests from the store (caching what it reads,
	 * with other processes' writes unseen): a driver whose database cannot
	 * tell one process of another's writes (SQLite) refuses to open for a
	 * second serving process (E_UNAVAILABLE).
	 */
	bool serving;
};

struct store_gauges {
	int64_t insights;
	int64_t tags;
	int64_t categories;
	int64_t pool_in_use;
	int64_t pool_idle;
};

/*
 * Several processes write through the same database in a normal deployment
 * (PostgreSQL): a process sees other processes' writes only through the
 * driver's `watch`; without one, response caches keyed on its own writes
 * are off.
 */
#define STORE_SHARED 1u
/* Calls wait on the network: a caller should not make an event loop wait. */
#define STORE_REMOTE 2u

/* The interface version drivers are written against; bumped when slots change. */
#define STORE_DRIVER_VERSION 7

/*
 * What a watching driver reports (see `watch`): whether it hears other
 * processes' writes, and the highest data version it knows of (0: none).
 */
typedef void (*store_changed_fn)(void *arg, bool heard, uint64_t version);

/*
 * Duplicate candidates (insight_similar): a word's document frequency is
 * counted up to STORE_SIMILAR_DF_CAP (a word found that often is too
 * common to find anything by); at most STORE_SIMILAR_PICK of the rarest
 * words (store_similar_pick) find the candidates.
 */
#define STORE_SIMILAR_DF_CAP 2000
#define STORE_SIMILAR_PICK 8

struct store_similar {
	/* In: distinct words, as the full-text index splits text (core/similar.h). */
	const char *const *words;
	size_t nwords;
	size_t limit;              /* candidates wanted, >= 1 */
	/* Out: df[i] for words[i] (room for nwords, the caller's), capped. */
	int64_t *df;
	int64_t total;             /* insights */
	struct insight *items;     /* the candidates, with tags and category */
	size_t n;
};

/*
 * What `check` found (issue 15): one sentence per problem, in the caller's
 * arena (none: the database is consistent), and the rows it counted.
 */
struct store_check {
	const char **problems;
	size_t n;
	int64_t insights, tags, categories;
};

/* Progress of a long operation: `done` of `total` units (pages, rows). */
typedef void (*store_progress_fn)(void *arg, uint64_t done, uint64_t total);

struct store_driver {
	unsigned version;            /* STORE_DRIVER_VERSION */
	const char *name;
	unsigned flags;

	/*
	 * Connects (lazily where the driver can) and returns a handle in *out.
	 * Does not migrate. `url` is borrowed for the duration of the call.
	 */
	enum status (*open)(const struct dburl *url, const struct store_config *cfg,
			    struct store **out, struct error *err);
	/* Closes every connection and frees the handle. */
	void (*close)(struct store *st);

	/*
	 * Applies pending schema migrations in order, each in its own
	 * transaction, recording each in the database. Safe when several
	 * processes start at once. *applied receives how many ran.
	 */
	enum status (*migrate)(struct store *st, int *applied, struct error *err);
	/* A real round trip to the database. */
	enum status (*ping)(struct store *st, struct error *err);

	enum status (*insight_get)(struct store *st, struct arena *a, int64_t id,
				   struct insight *out, struct error *err);
	/*
	 * One page of insights matching `f`, with tags and category, and the
	 * total number of matches. Ranked by relevance when f->text holds a
	 * word, newest first (ties by id, highest first) otherwise.
	 */
	enum status (*insight_find)(struct store *st, struct arena *a,
				    const struct insight_filter *f,
				    struct insight_page *out, struct error *err);
	enum status (*insight_create)(struct store *st, struct arena *a,
				      const struct insight_input *in,
				      struct insight *out, struct error *err);
	/*
	 * Creates `n` insights in one transaction, all or none, without reading
	 * them back: for bulk loads (seed, import).
	 */
	enum status (*insight_create_many)(struct store *st, const struct insight_input *in,
					   size_t n, struct error *err);
	enum status (*insight_update)(struct store *st, struct arena *a, int64_t id,
				      const struct insight_input *in,
				      struct insight *out, struct error *err);
	enum status (*insight_delete)(struct store *st, int64_t id, struct error *err);
	/*
	 * The tags of the insights `ids` (sorted, distinct), in one read: links
	 * ordered by insight id, then tag id. Insights without tags (or that do
	 * not exist) have no link.
	 */
	enum status (*insight_tags)(struct store *st, struct arena *a, const int64_t *ids,
				    size_t n, struct tag_link **out, size_t *nout,
				    struct error *err);
	/*
	 * At most `limit` (>= 1) insights related to insight `id`, with tags and
	 * category: those sharing a tag with it or in its category (having no
	 * category relates nothing), ranked by the number of tags shared, then
	 * same category first, then newest (created_at, then id, descending).
	 * Never the insight itself. E_NOTFOUND when `id` names no insight.
	 */
	enum status (*insight_related)(struct store *st, struct arena *a, int64_t id,
				       int64_t limit, struct insight **out, size_t *n,
				       struct error *err);
	/*
	 * Candidates for duplicate warnings, from one snapshot: q->df[i] = the
	 * number of insights whose title, description or content holds
	 * q->words[i], at most STORE_SIMILAR_DF_CAP; q->total the number of
	 * insights; then at most q->limit insights (with tags and category)
	 * holding any of the words store_similar_pick chooses, in the order
	 * store_similar_top gives (store/common.h): the same on every driver.
	 */
	enum status (*insight_similar)(struct store *st, struct arena *a, struct store_similar *q,
				       struct error *err);

	enum status (*tag_get)(struct store *st, struct arena *a, int64_t id,
			       struct tag *out, struct error *err);
	/* Ordered by name. */
	enum status (*tag_list)(struct store *st, struct arena *a, struct range r,
				struct tag **out, size_t *n, struct error *err);
	enum status (*tag_create)(struct store *st, struct arena *a,
				  const struct tag_input *in, struct tag *out,
				  struct error *err);
	enum status (*tag_update)(struct store *st, struct arena *a, int64_t id,
				  const struct tag_input *in, struct tag *out,
				  struct error *err);
	/* Also removes the tag from every insight that carries it. */
	enum status (*tag_delete)(struct store *st, int64_t id, struct error *err);

	enum status (*category_get)(struct store *st, struct arena *a, int64_t id,
				    struct category *out, struct error *err);
	/* Ordered by name. */
	enum status (*category_list)(struct store *st, struct arena *a, struct range r,
				     struct category **out, size_t *n,
				     struct error *err);
	/*
	 * The categories `ids` (sorted, distinct) that exist, with their
	 * insight counts, in one read, ordered by id.
	 */
	enum status (*categories_by_ids)(struct store *st, struct arena *a, const int64_t *ids,
					 size_t n, struct category **out, size_t *nout,
					 struct error *err);
	enum status (*category_create)(struct store *st, struct arena *a,
				       const struct category_input *in,
				       struct category *out, struct error *err);
	/* A parent that is the category itself or a descendant is E_INVALID. */
	enum status (*category_update)(struct store *st, struct arena *a, int64_t id,
				       const struct category_input *in,
				       struct category *out, struct error *err);
	/* E_CONFLICT while insights or subcategories refer to it. */
	enum status (*category_delete)(struct store *st, int64_t id, struct error *err);

	/* Aggregates, read from one consistent snapshot. */
	enum status (*statistics)(struct store *st, struct arena *a,
				  struct statistics *out, struct error *err);
	/*
	 * Insights created per UTC day and status, for the `ndays` days ending
	 * today; `days` arrives with its dates filled in and counts at zero.
	 */
	enum status (*trends)(struct store *st, struct trend_day *days, size_t ndays,
			      struct error *err);
	/* Authors of published insights, most insights first, then by name. */
	enum status (*top_authors)(struct store *st, struct arena *a, int64_t limit,
				   struct count_by_name **out, size_t *n,
				   struct error *err);

	/*
	 * Tidies the database after a bulk load: merges full-text index
	 * segments, refreshes planner statistics. May take a while; optional
	 * (NULL: nothing to do).
	 */
	enum status (*optimize)(struct store *st, struct error *err);

	/*
	 * Numbers for the metrics endpoint: stored rows (from counters, not
	 * scans) and the connection pool (connections handed out and idle).
	 */
	enum status (*gauges)(struct store *st, struct store_gauges *out, struct error *err);

	/*
	 * Sets every tag's usage_count to its real number of associations, in
	 * one transaction, and reports the tags it changed.
	 */
	enum status (*recount_tags)(struct store *st, struct arena *a,
				    struct tag_fix **fixes, size_t *n,
				    struct error *err);

	/*
	 * Reads of core/query.h's intermediate form: the rows of a select
	 * (in its order; rows in `a`), the values of an aggregate. A select
	 * that cannot match (search text without a word) gives no row.
	 */
	enum status (*select)(struct store *st, struct arena *a, const struct q_select *q,
			      struct q_rows *out, struct error *err);
	enum status (*aggregate)(struct store *st, struct arena *a, const struct q_aggregate *q,
				 struct q_agg_rows *out, struct error *err);

	/*
	 * API tokens (core/access.h). A token is stored as its hash, never
	 * itself. token_create: E_CONFLICT when the name is taken.
	 * token_list: every token, ordered by name. token_find: the token
	 * with this hash, E_NOTFOUND when none. token_delete: removes the
	 * token named `name` and gives the row it was; E_NOTFOUND when none.
	 * token_touch: last_used_at = at for the tokens `ids`.
	 */
	enum status (*token_create)(struct store *st, struct arena *a, const struct token *in,
				    struct token *out, struct error *err);
	enum status (*token_list)(struct store *st, struct arena *a, struct token **out,
				  size_t *n, struct error *err);
	enum status (*token_find)(struct store *st, struct arena *a, const char *hash,
				  struct token *out, struct error *err);
	enum status (*token_delete)(struct store *st, struct arena *a, const char *name,
				    struct token *out, struct error *err);
	enum status (*token_touch)(struct store *st, const int64_t *ids, size_t n, const char *at,
				   struct error *err);
	/*
	 * The audit trail. audit_append writes one entry (its id is assigned)
	 * in the calling thread's batch, so that it commits or rolls back with
	 * the write it describes. audit_find: a page, newest first, and the
	 * total. audit_prune: deletes entries older than `before`.
	 */
	enum status (*audit_append)(struct store *st, const struct audit_entry *e,
				    struct error *err);
	enum status (*audit_find)(struct store *st, struct arena *a, const struct audit_filter *f,
				  struct audit_page *out, struct error *err);
	enum status (*audit_prune)(struct store *st, const char *before, int64_t *deleted,
				   struct error *err);

	/*
	 * Revisions and versions (issue 14; model.h's struct insight_revision).
	 * row_version: the revision of insight `id` (table QT_INSIGHTS) or the
	 * version of tag or category `id` (QT_TAGS, QT_CATEGORIES); with `lock`,
	 * inside a batch, the row is also locked against other writers until
	 * the batch ends, so that what the caller compares stays true until it
	 * commits. E_NOTFOUND when there is no such row.
	 * revision_add: keeps one revision (r->v.id, r->v.revision), in the
	 * calling thread's batch; a revision already kept is left as it is.
	 * revision_find: a page of insight `id`'s kept revisions, newest first,
	 * and their total. revision_get: revision `n` of insight `id` (n = 0:
	 * the latest kept), E_NOTFOUND when not kept. revision_retire: marks
	 * insight `id`'s revisions as those of an insight deleted at `at` (NULL:
	 * no longer deleted). revision_prune: forgets the revisions of insights
	 * deleted before `before`; *deleted counts the revisions.
	 */
	enum status (*row_version)(struct store *st, enum q_table table, int64_t id, bool lock,
				   int64_t *version, struct error *err);
	enum status (*revision_add)(struct store *st, const struct insight_revision *r,
				    struct error *err);
	enum status (*revision_find)(struct store *st, struct arena *a, int64_t id, int64_t page,
				     int64_t page_size, struct revision_page *out,
				     struct error *err);
	enum status (*revision_get)(struct store *st, struct arena *a, int64_t id, int64_t n,
				    struct insight_revision *out, struct error *err);
	enum status (*revision_retire)(struct store *st, int64_t id, const char *at,
				       struct error *err);
	enum status (*revision_prune)(struct store *st, const char *before, int64_t *deleted,
				      struct error *err);

	/*
	 * Idempotency keys (core/idempotency.h), rows keyed by (actor, key).
	 * idem_get: the row, E_NOTFOUND when none. idem_put: writes `row` as a
	 * claim (status 0, no body) in a transaction of its own: when
	 * `replaces` is NULL only if the key has no row, otherwise only if the
	 * key's row has the token `replaces`; E_CONFLICT when not. idem_finish:
	 * stores an answer on the key's row if it is still the claim of token
	 * `token`, E_CONFLICT otherwise (in the calling thread's batch, with
	 * the write it answers). idem_release: deletes the key's row if it is
	 * still the claim (status 0) of token `token`. idem_prune: deletes the
	 * rows created before `before` (Unix seconds).
	 */
	enum status (*idem_get)(struct store *st, struct arena *a, const char *actor,
				const char *key, struct idem_row *out, struct error *err);
	enum status (*idem_put)(struct store *st, const struct idem_row *row, const char *replaces,
				struct error *err);
	enum status (*idem_finish)(struct store *st, const struct idem_row *answer,
				   struct error *err);
	enum status (*idem_release)(struct store *st, const char *actor, const char *key,
				    const char *token, struct error *err);
	enum status (*idem_prune)(struct store *st, int64_t before, int64_t *deleted,
				  struct error *err);

	/*
	 * Checks the database (issue 15), changing nothing: the database's own
	 * integrity checks where it has them (SQLite: integrity_check, foreign
	 * keys, the full-text indexes against the insights they index), then
	 * every counter the schema keeps against a recount of the rows: each
	 * tag's usage_count, and the insight counts per (status, priority,
	 * category) that statistics and list totals read. Each comparison reads
	 * one snapshot. Problems are sentences naming the row and both numbers.
	 */
	enum status (*check)(struct store *st, struct arena *a, struct store_check *out,
			     struct error *err);
	/*
	 * Writes a consistent copy of the database, as of one moment, to the
	 * new file `path` while other connections and processes go on writing,
	 * and checks the copy's integrity before it takes that name (nothing is
	 * left at `path` on failure; an existing file is E_CONFLICT). Reports
	 * pages copied through `progress` (may be NULL). Optional (NULL: the
	 * database has its own tools, such as pg_dump).
	 */
	enum status (*backup)(struct store *st, const char *path, store_progress_fn progress,
			      void *arg, struct error *err);
	/*
	 * Lifecycle statistics (issue 14; core/lifecycle.h). transition_add:
	 * records one status change, in the calling thread's batch (with the
	 * write that makes it). lifecycle: from one snapshot, the transitions
	 * at or after `since` counted by (from, to), and the insights (still
	 * stored) whose first transition to published is at or after `since`:
	 * the seconds from their first creation transition (or their
	 * created_at when they have none: a bulk load) to it, their category's
	 * name and their author (the insight's field).
	 * stale_count: the published insights whose updated_at and reviewed_at
	 * are both before `before` (a timestamp; reviewed_at NULL counts as
	 * before).
	 */
	enum status (*transition_add)(struct store *st, const struct transition *t,
				      struct error *err);
	enum status (*lifecycle)(struct store *st, struct arena *a, const char *since,
				 struct lifecycle_data *out, struct error *err);
	enum status (*stale_count)(struct store *st, const char *before, int64_t *n,
				   struct error *err);

	/*
	 * A batch: every operation the calling thread makes on the store
	 * between batch_begin and batch_end runs in one write transaction, on
	 * one connection, its reads seeing its writes; batch_end commits it
	 * (`commit`) or undoes it all. Within a batch a failed write is undone
	 * alone, but the caller is expected to end the batch without commit.
	 * Writes of a batch are not retried. One batch per thread at a time.
	 */
	enum status (*batch_begin)(struct store *st, struct error *err);
	enum status (*batch_end)(struct store *st, bool commit, struct error *err);

	/*
	 * For STORE_SHARED drivers: reports the writes other processes commit.
	 * From a thread of its own, the driver calls changed(arg, true, v) after
	 * such writes (and when it starts hearing them: what happened before
	 * is unknown), and changed(arg, false, 0) when it stops hearing them
	 * (its connection broke) until it hears again. `v` is the highest data
	 * version the driver has heard: every write that published a version
	 * up to it (store_write_version) was committed before the call. Runs
	 * until the store closes. Optional (NULL: the driver cannot tell).
	 */
	enum status (*watch)(struct store *st, store_changed_fn changed, void *arg,
			     struct error *err);
};

/*
 * Opens the store a DATABASE_URL names, choosing the driver by its scheme.
 * An unknown scheme is E_INVALID.
 */
enum status store_open(const char *url, const struct store_config *cfg,
		       struct store **out, struct error *err);
void store_close(struct store *st);

/* The driver's name ("sqlite", "postgresql") and flags (STORE_SHARED, STORE_REMOTE). */
const char *store_name(const struct store *st);
unsigned store_flags(const struct store *st);
/* Whether the driver can report other processes' writes (store_watch). */
bool store_can_watch(const struct store *st);
/* Whether the driver can copy its database itself (store_backup). */
bool store_can_backup(const struct store *st);

/* The operations, as the driver table above describes them. */
enum status store_migrate(struct store *st, int *applied, struct error *err);
enum status store_ping(struct store *st, struct error *err);
enum status store_insight_get(struct store *st, struct arena *a, int64_t id,
			      struct insight *out, struct error *err);
enum status store_insight_find(struct store *st, struct arena *a, const struct insight_filter *f,
			       struct insight_page *out, struct error *err);
enum status store_insight_create(struct store *st, struct arena *a,
				 const struct insight_input *in, struct insight *out,
				 struct error *err);
enum status store_insight_create_many(struct store *st, const struct insight_input *in,
				      size_t n, struct error *err);
enum status store_insight_update(struct store *st, struct arena *a, int64_t id,
				 const struct insight_input *in, struct insight *out,
				 struct error *err);
enum status store_insight_delete(struct store *st, int64_t id, struct error *err);
enum status store_insight_tags(struct store *st, struct arena *a, const int64_t *ids, size_t n,
			       struct tag_link **out, size_t *nout, struct error *err);
enum status store_insight_related(struct store *st, struct arena *a, int64_t id, int64_t limit,
				  struct insight **out, size_t *n, struct error *err);
enum status store_insight_similar(struct store *st, struct arena *a, struct store_similar *q,
				  struct error *err);
enum status store_tag_get(struct store *st, struct arena *a, int64_t id, struct tag *out,
			  struct error *err);
enum status store_tag_list(struct store *st, struct arena *a, struct range r, struct tag **out,
			   size_t *n, struct error *err);
enum status store_tag_create(struct store *st, struct arena *a, const struct tag_input *in,
			     struct tag *out, struct error *err);
enum status store_tag_update(struct store *st, struct arena *a, int64_t id,
			     const struct tag_input *in, struct tag *out, struct error *err);
enum status store_tag_delete(struct store *st, int64_t id, struct error *err);
enum status store_category_get(struct store *st, struct arena *a, int64_t id,
			       struct category *out, struct error *err);
enum status store_category_list(struct store *st, struct arena *a, struct range r,
				struct category **out, size_t *n, struct error *err);
enum status store_categories_by_ids(struct store *st, struct arena *a, const int64_t *ids,
				    size_t n, struct category **out, size_t *nout,
				    struct error *err);
enum status store_category_create(struct store *st, struct arena *a,
				  const struct category_input *in, struct category *out,
				  struct error *err);
enum status store_category_update(struct store *st, struct arena *a, int64_t id,
				  const struct category_input *in, struct category *out,
				  struct error *err);
enum status store_category_delete(struct store *st, int64_t id, struct error *err);
enum status store_statistics(struct store *st, struct arena *a, struct statistics *out,
			     struct error *err);
enum status store_trends(struct store *st, struct trend_day *days, size_t ndays,
			 struct error *err);
enum status store_top_authors(struct store *st, struct arena *a, int64_t limit,
			      struct count_by_name **out, size_t *n, struct error *err);
/* OK without doing anything for a driver that has nothing to tidy. */
enum status store_optimize(struct store *st, struct error *err);
enum status store_gauges(struct store *st, struct store_gauges *out, struct error *err);
enum status store_recount_tags(struct store *st, struct arena *a, struct tag_fix **fixes,
			       size_t *n, struct error *err);
enum status store_select(struct store *st, struct arena *a, const struct q_select *q,
			 struct q_rows *out, struct error *err);
enum status store_aggregate(struct store *st, struct arena *a, const struct q_aggregate *q,
			    struct q_agg_rows *out, struct error *err);
enum status store_token_create(struct store *st, struct arena *a, const struct token *in,
				struct token *out, struct error *err);
enum status store_token_list(struct store *st, struct arena *a, struct token **out, size_t *n,
			      struct error *err);
enum status store_token_find(struct store *st, struct arena *a, const char *hash,
			      struct token *out, struct error *err);
enum status store_token_delete(struct store *st, struct arena *a, const char *name,
				struct token *out, struct error *err);
enum status store_token_touch(struct store *st, const int64_t *ids, size_t n, const char *at,
			       struct error *err);
/* E_INTERNAL outside a batch: an audit entry never commits alone. */
enum status store_audit_append(struct store *st, const struct audit_entry *e, struct error *err);
enum status store_audit_find(struct store *st, struct arena *a, const struct audit_filter *f,
			      struct audit_page *out, struct error *err);
enum status store_audit_prune(struct store *st, const char *before, int64_t *deleted,
			       struct error *err);
enum status store_row_version(struct store *st, enum q_table table, int64_t id, bool lock,
			      int64_t *version, struct error *err);
/* E_INTERNAL outside a batch: a revision is kept with the change that makes it. */
enum status store_revision_add(struct store *st, const struct insight_revision *r,
			       struct error *err);
enum status store_revision_find(struct store *st, struct arena *a, int64_t id, int64_t page,
				int64_t page_size, struct revision_page *out, struct error *err);
enum status store_revision_get(struct store *st, struct arena *a, int64_t id, int64_t n,
			       struct insight_revision *out, struct error *err);
enum status store_revision_retire(struct store *st, int64_t id, const char *at,
				  struct error *err);
enum status store_revision_prune(struct store *st, const char *before, int64_t *deleted,
				 struct error *err);
enum status store_idem_get(struct store *st, struct arena *a, const char *actor, const char *key,
			   struct idem_row *out, struct error *err);
enum status store_idem_put(struct store *st, const struct idem_row *row, const char *replaces,
			   struct error *err);
/* E_INTERNAL outside a batch: an answer is stored with the write it answers. */
enum status store_idem_finish(struct store *st, const struct idem_row *answer,
			      struct error *err);
enum status store_idem_release(struct store *st, const char *actor, const char *key,
			       const char *token, struct error *err);
enum status store_idem_prune(struct store *st, int64_t before, int64_t *deleted,
			     struct error *err);
enum status store_check(struct store *st, struct arena *a, struct store_check *out,
			struct error *err);
/* E_INTERNAL for a driver without `backup` (see store_can_backup). */
enum status store_backup(struct store *st, const char *path, store_progress_fn progress, void *arg,
			 struct error *err);
/* E_INTERNAL outside a batch: a transition is kept with the change that makes it. */
enum status store_transition_add(struct store *st, const struct transition *t,
				  struct error *err);
enum status store_lifecycle(struct store *st, struct arena *a, const char *since,
			    struct lifecycle_data *out, struct error *err);
enum status store_stale_count(struct store *st, const char *before, int64_t *n,
			      struct error *err);
/*
 * Begins a batch on the calling thread (see store_driver.batch_begin):
 * until store_batch_end, its operations run in one transaction.
 */
enum status store_batch_begin(struct store *st, struct error *err);
/* Ends the calling thread's batch: commits it or (commit false) undoes it. */
enum status store_batch_end(struct store *st, bool commit, struct error *err);
/* E_INTERNAL for a driver without `watch`. */
enum status store_watch(struct store *st, store_changed_fn changed, void *arg,
			struct error *err);
/*
 * The data version that the last successful write of the calling thread
 * published to other processes sharing the database (the value other
 * instances' watch reports once they have heard it); 0 when the driver
 * publishes none (SQLite) or the write could not tell them.
 */
uint64_t store_write_version(void);
/*
 * How many store operations the calling thread has made (each a bounded
 * number of SQL statements; one for select and aggregate): tests count
 * them to prove a front end's reads do not grow with the rows it reads.
 */
uint64_t store_calls(void);

extern const struct store_driver store_sqlite_driver;
extern const struct store_driver store_pg_driver;

#endif
