/*
 * store.c: the driver registry (a DATABASE_URL's scheme picks the driver)
 * and the one door into a driver: every store_*() wrapper of store.h.
 *
 * The wrappers are the single place that asserts a driver keeps the
 * contract of store.h (the returned status is the one in `err`; a
 * validation failure lists its problems; out-parameters are zeroed on
 * failure) and, in the test build, where faults are injected before and
 * after any operation (lib/fault.h: store.<operation>.before_ms, .after_ms,
 * .fail).
 */
#include "store/store.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "lib/fault.h"
#include "store/common.h"
#include "lib/banned.h"

static const struct {
	enum db_kind kind;
	const struct store_driver *drv;
} drivers[] = {
	{ DB_SQLITE, &store_sqlite_driver },
	{ DB_POSTGRESQL, &store_pg_driver },
};

enum status store_open(const char *url, const struct store_config *cfg,
		       struct store **out, struct error *err)
{
	struct dburl u;
	char why[256];
	*out = NULL;
	error_clear(err);
	if (dburl_parse(url, &u, why, sizeof(why)))
		return error_set(err, E_INVALID, "%s", why);
	enum status rc = error_set(err, E_INVALID, "no storage driver for %s", u.redacted);
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		const struct store_driver *drv = drivers[i].drv;
		if (drivers[i].kind != u.kind)
			continue;
		/* A driver built against another version of this interface is a bug. */
		assert(drv->version == STORE_DRIVER_VERSION);
		error_clear(err);
		rc = drv->open(&u, cfg, out, err);
		assert(rc == err->status);
		assert(rc != OK || (*out && (*out)->drv == drv));
		if (rc)
			*out = NULL;
		break;
	}
	dburl_release(&u);
	return rc;
}

void store_close(struct store *st)
{
	if (st)
		st->drv->close(st);
}

const char *store_name(const struct store *st)
{
	return st->drv->name;
}

unsigned store_flags(const struct store *st)
{
	return st->drv->flags;
}

bool store_can_watch(const struct store *st)
{
	return st->drv->watch != NULL;
}

bool store_can_backup(const struct store *st)
{
	return st->drv->backup != NULL;
}

/* ---- versions of shared data -------------------------------------------------- */

static _Thread_local uint64_t write_version;
static _Thread_local uint64_t calls;

uint64_t store_calls(void)
{
	return calls;
}

uint64_t store_write_version(void)
{
	return write_version;
}

void store_set_write_version(uint64_t v)
{
	write_version = v;
}

/* ---- the contract, and the tests' faults ----------------------------------- */

/* Before an operation: a test's delay or failure (lib/fault.h); OK otherwise. */
static enum status enter(const char *op, struct error *err)
{
	assert(err->status == OK);
	write_version = 0;
	calls++;
#ifdef INSIGHTS_FAULTS
	char point[64];
	snprintf(point, sizeof(point), "store.%s.before_ms", op);
	fault_sleep(point);
	snprintf(point, sizeof(point), "store.%s.fail", op);
	if (fault_armed(point, NULL))
		return error_set(err, E_UNAVAILABLE, "The database is unavailable");
#else
	(void)op;
#endif
	return OK;
}

/* After it: checks the driver's half of the error contract. */
static enum status leave(const char *op, enum status rc, struct error *err)
{
	assert(rc == err->status);
	assert(rc != E_INVALID || err->nproblems > 0);
#ifdef INSIGHTS_FAULTS
	char point[64];
	snprintf(point, sizeof(point), "store.%s.after_ms", op);
	fault_sleep(point);
#else
	(void)op;
#endif
	return rc;
}

/* Runs operation `op` of the driver with `args`, between enter() and leave(). */
#define CALL(op, ...)                                              \
	enum status rc = enter(#op, err);                          \
	if (rc == OK)                                              \
		rc = st->drv->op(st, __VA_ARGS__);                 \
	rc = leave(#op, rc, err)

/* Zeroes an out-parameter (a row, a page, a struct) ... */
#define ZERO(p) memset((p), 0, sizeof(*(p)))

enum status store_migrate(struct store *st, int *applied, struct error *err)
{
	*applied = 0;
	CALL(migrate, applied, err);
	return rc;
}

enum status store_ping(struct store *st, struct error *err)
{
	CALL(ping, err);
	return rc;
}

enum status store_insight_get(struct store *st, struct arena *a, int64_t id,
			      struct insight *out, struct error *err)
{
	ZERO(out);
	CALL(insight_get, a, id, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_insight_find(struct store *st, struct arena *a, const struct insight_filter *f,
			       struct insight_page *out, struct error *err)
{
	assert(f->page >= 1 && f->page_size >= 1 && f->page_size <= PAGE_SIZE_MAX);
	ZERO(out);
	CALL(insight_find, a, f, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_insight_create(struct store *st, struct arena *a,
				 const struct insight_input *in, struct insight *out,
				 struct error *err)
{
	ZERO(out);
	CALL(insight_create, a, in, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_insight_create_many(struct store *st, const struct insight_input *in,
				      size_t n, struct error *err)
{
	CALL(insight_create_many, in, n, err);
	return rc;
}

enum status store_insight_update(struct store *st, struct arena *a, int64_t id,
				 const struct insight_input *in, struct insight *out,
				 struct error *err)
{
	ZERO(out);
	CALL(insight_update, a, id, in, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_insight_delete(struct store *st, int64_t id, struct error *err)
{
	CALL(insight_delete, id, err);
	return rc;
}

enum status store_insight_tags(struct store *st, struct arena *a, const int64_t *ids, size_t n,
			       struct tag_link **out, size_t *nout, struct error *err)
{
	*out = NULL;
	*nout = 0;
	if (!n)
		return OK;
	CALL(insight_tags, a, ids, n, out, nout, err);
	if (rc) {
		*out = NULL;
		*nout = 0;
	}
	return rc;
}

enum status store_insight_related(struct store *st, struct arena *a, int64_t id, int64_t limit,
				  struct insight **out, size_t *n, struct error *err)
{
	assert(limit >= 1);
	*out = NULL;
	*n = 0;
	CALL(insight_related, a, id, limit, out, n, err);
	assert(rc || *n <= (size_t)limit);
	if (rc) {
		*out = NULL;
		*n = 0;
	}
	return rc;
}

static void similar_zero(struct store_similar *q)
{
	if (q->nwords)
		memset(q->df, 0, q->nwords * sizeof(*q->df));
	q->total = 0;
	q->items = NULL;
	q->n = 0;
}

enum status store_insight_similar(struct store *st, struct arena *a, struct store_similar *q,
				  struct error *err)
{
	assert(q->limit >= 1 && (q->df || !q->nwords));
	similar_zero(q);
	CALL(insight_similar, a, q, err);
	assert(rc || q->n <= q->limit);
	if (rc)
		similar_zero(q);
	return rc;
}

enum status store_tag_get(struct store *st, struct arena *a, int64_t id, struct tag *out,
			  struct error *err)
{
	ZERO(out);
	CALL(tag_get, a, id, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_tag_list(struct store *st, struct arena *a, struct range r, struct tag **out,
			   size_t *n, struct error *err)
{
	*out = NULL;
	*n = 0;
	CALL(tag_list, a, r, out, n, err);
	if (rc) {
		*out = NULL;
		*n = 0;
	}
	return rc;
}

enum status store_tag_create(struct store *st, struct arena *a, const struct tag_input *in,
			     struct tag *out, struct error *err)
{
	ZERO(out);
	CALL(tag_create, a, in, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_tag_update(struct store *st, struct arena *a, int64_t id,
			     const struct tag_input *in, struct tag *out, struct error *err)
{
	ZERO(out);
	CALL(tag_update, a, id, in, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_tag_delete(struct store *st, int64_t id, struct error *err)
{
	CALL(tag_delete, id, err);
	return rc;
}

enum status store_category_get(struct store *st, struct arena *a, int64_t id,
			       struct category *out, struct error *err)
{
	ZERO(out);
	CALL(category_get, a, id, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_category_list(struct store *st, struct arena *a, struct range r,
				struct category **out, size_t *n, struct error *err)
{
	*out = NULL;
	*n = 0;
	CALL(category_list, a, r, out, n, err);
	if (rc) {
		*out = NULL;
		*n = 0;
	}
	return rc;
}

enum status store_categories_by_ids(struct store *st, struct arena *a, const int64_t *ids,
				    size_t n, struct category **out, size_t *nout,
				    struct error *err)
{
	*out = NULL;
	*nout = 0;
	if (!n)
		return OK;
	CALL(categories_by_ids, a, ids, n, out, nout, err);
	if (rc) {
		*out = NULL;
		*nout = 0;
	}
	return rc;
}

enum status store_category_create(struct store *st, struct arena *a,
				  const struct category_input *in, struct category *out,
				  struct error *err)
{
	ZERO(out);
	CALL(category_create, a, in, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_category_update(struct store *st, struct arena *a, int64_t id,
				  const struct category_input *in, struct category *out,
				  struct error *err)
{
	ZERO(out);
	CALL(category_update, a, id, in, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_category_delete(struct store *st, int64_t id, struct error *err)
{
	CALL(category_delete, id, err);
	return rc;
}

enum status store_statistics(struct store *st, struct arena *a, struct statistics *out,
			     struct error *err)
{
	ZERO(out);
	CALL(statistics, a, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_trends(struct store *st, struct trend_day *days, size_t ndays,
			 struct error *err)
{
	for (size_t i = 0; i < ndays; i++)
		memset(days[i].by_status, 0, sizeof(days[i].by_status));
	CALL(trends, days, ndays, err);
	if (rc)
		for (size_t i = 0; i < ndays; i++)
			memset(days[i].by_status, 0, sizeof(days[i].by_status));
	return rc;
}

enum status store_top_authors(struct store *st, struct arena *a, int64_t limit,
			      struct count_by_name **out, size_t *n, struct error *err)
{
	*out = NULL;
	*n = 0;
	CALL(top_authors, a, limit, out, n, err);
	if (rc) {
		*out = NULL;
		*n = 0;
	}
	return rc;
}

enum status store_optimize(struct store *st, struct error *err)
{
	if (!st->drv->optimize)
		return OK;
	CALL(optimize, err);
	return rc;
}

enum status store_gauges(struct store *st, struct store_gauges *out, struct error *err)
{
	ZERO(out);
	CALL(gauges, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_recount_tags(struct store *st, struct arena *a, struct tag_fix **fixes,
			       size_t *n, struct error *err)
{
	*fixes = NULL;
	*n = 0;
	CALL(recount_tags, a, fixes, n, err);
	if (rc) {
		*fixes = NULL;
		*n = 0;
	}
	return rc;
}

enum status store_check(struct store *st, struct arena *a, struct store_check *out,
			struct error *err)
{
	ZERO(out);
	CALL(check, a, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_backup(struct store *st, const char *path, store_progress_fn progress, void *arg,
			 struct error *err)
{
	if (!st->drv->backup)
		return error_set(err, E_INTERNAL, "This database has no backup of its own");
	CALL(backup, path, progress, arg, err);
	return rc;
}

enum status store_select(struct store *st, struct arena *a, const struct q_select *q,
			 struct q_rows *out, struct error *err)
{
	assert(q->table < QT__COUNT && (!q->has_via || q_rels[q->via].to == q->table));
	ZERO(out);
	CALL(select, a, q, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_aggregate(struct store *st, struct arena *a, const struct q_aggregate *q,
			    struct q_agg_rows *out, struct error *err)
{
	ZERO(out);
	CALL(aggregate, a, q, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

/* The store whose batch the calling thread has open, or NULL. */
static _Thread_local const struct store *batch_of;

enum status store_batch_begin(struct store *st, struct error *err)
{
	CALL(batch_begin, err);
	if (rc == OK)
		batch_of = st;
	return rc;
}

enum status store_batch_end(struct store *st, bool commit, struct error *err)
{
	/* The batch's writes publish their version at its end. */
	batch_of = NULL;
	CALL(batch_end, commit, err);
	return rc;
}

enum status store_token_create(struct store *st, struct arena *a, const struct token *in,
				struct token *out, struct error *err)
{
	ZERO(out);
	CALL(token_create, a, in, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_token_list(struct store *st, struct arena *a, struct token **out, size_t *n,
			      struct error *err)
{
	*out = NULL;
	*n = 0;
	CALL(token_list, a, out, n, err);
	if (rc) {
		*out = NULL;
		*n = 0;
	}
	return rc;
}

enum status store_token_find(struct store *st, struct arena *a, const char *hash,
			      struct token *out, struct error *err)
{
	ZERO(out);
	CALL(token_find, a, hash, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_token_delete(struct store *st, struct arena *a, const char *name,
				struct token *out, struct error *err)
{
	ZERO(out);
	CALL(token_delete, a, name, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_token_touch(struct store *st, const int64_t *ids, size_t n, const char *at,
			       struct error *err)
{
	if (n == 0)
		return OK;
	CALL(token_touch, ids, n, at, err);
	return rc;
}

enum status store_audit_append(struct store *st, const struct audit_entry *e, struct error *err)
{
	/* Alone it would commit even if the write it describes did not. */
	if (batch_of != st)
		return error_set(err, E_INTERNAL, "an audit entry is written inside a batch only");
	CALL(audit_append, e, err);
	return rc;
}

enum status store_audit_find(struct store *st, struct arena *a, const struct audit_filter *f,
			      struct audit_page *out, struct error *err)
{
	ZERO(out);
	CALL(audit_find, a, f, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_audit_prune(struct store *st, const char *before, int64_t *deleted,
			       struct error *err)
{
	*deleted = 0;
	CALL(audit_prune, before, deleted, err);
	return rc;
}

enum status store_row_version(struct store *st, enum q_table table, int64_t id, bool lock,
			      int64_t *version, struct error *err)
{
	*version = 0;
	CALL(row_version, table, id, lock, version, err);
	if (rc)
		*version = 0;
	return rc;
}

enum status store_revision_add(struct store *st, const struct insight_revision *r,
			       struct error *err)
{
	/* Alone it would commit even if the change it belongs to did not. */
	if (batch_of != st)
		return error_set(err, E_INTERNAL, "a revision is written inside a batch only");
	CALL(revision_add, r, err);
	return rc;
}

enum status store_revision_find(struct store *st, struct arena *a, int64_t id, int64_t page,
				int64_t page_size, struct revision_page *out, struct error *err)
{
	ZERO(out);
	CALL(revision_find, a, id, page, page_size, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_revision_get(struct store *st, struct arena *a, int64_t id, int64_t n,
			       struct insight_revision *out, struct error *err)
{
	ZERO(out);
	CALL(revision_get, a, id, n, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_revision_retire(struct store *st, int64_t id, const char *at,
				  struct error *err)
{
	CALL(revision_retire, id, at, err);
	return rc;
}

enum status store_revision_prune(struct store *st, const char *before, int64_t *deleted,
				 struct error *err)
{
	*deleted = 0;
	CALL(revision_prune, before, deleted, err);
	return rc;
}

enum status store_idem_get(struct store *st, struct arena *a, const char *actor, const char *key,
			   struct idem_row *out, struct error *err)
{
	ZERO(out);
	CALL(idem_get, a, actor, key, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_idem_put(struct store *st, const struct idem_row *row, const char *replaces,
			   struct error *err)
{
	/* A claim is seen by other requests only once committed: never inside a batch. */
	if (batch_of == st)
		return error_set(err, E_INTERNAL, "an idempotency claim is not written inside a batch");
	CALL(idem_put, row, replaces, err);
	return rc;
}

enum status store_idem_finish(struct store *st, const struct idem_row *answer,
			      struct error *err)
{
	/* Alone it would commit even if the write it answers did not. */
	if (batch_of != st)
		return error_set(err, E_INTERNAL, "an idempotent answer is stored inside a batch only");
	CALL(idem_finish, answer, err);
	return rc;
}

enum status store_idem_release(struct store *st, const char *actor, const char *key,
			       const char *token, struct error *err)
{
	if (batch_of == st)
		return error_set(err, E_INTERNAL, "an idempotency claim is not released inside a batch");
	CALL(idem_release, actor, key, token, err);
	return rc;
}

enum status store_idem_prune(struct store *st, int64_t before, int64_t *deleted,
			     struct error *err)
{
	*deleted = 0;
	CALL(idem_prune, before, deleted, err);
	return rc;
}

enum status store_transition_add(struct store *st, const struct transition *t,
				  struct error *err)
{
	/* Alone it would commit even if the change it records did not. */
	if (batch_of != st)
		return error_set(err, E_INTERNAL, "a transition is written inside a batch only");
	CALL(transition_add, t, err);
	return rc;
}

enum status store_lifecycle(struct store *st, struct arena *a, const char *since,
			    struct lifecycle_data *out, struct error *err)
{
	ZERO(out);
	CALL(lifecycle, a, since, out, err);
	if (rc)
		ZERO(out);
	return rc;
}

enum status store_stale_count(struct store *st, const char *before, int64_t *n,
			      struct error *err)
{
	*n = 0;
	CALL(stale_count, before, n, err);
	if (rc)
		*n = 0;
	return rc;
}

enum status store_watch(struct store *st, store_changed_fn changed, void *arg,
			struct error *err)
{
	if (!st->drv->watch)
		return error_set(err, E_INTERNAL, "the store cannot report other instances' writes");
	CALL(watch, changed, arg, err);
	return rc;
}
