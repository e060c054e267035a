/*
 * service.h: the use cases of insights, the one domain layer every front
 * end calls (the REST handlers today; GraphQL, the dashboard and importers
 * later). It validates inputs (core/validate.h), calls the store, and is the
 * single place where cross-cutting concerns of a use case attach: counters
 * for metrics now; authorisation, audit, revisions and webhooks later.
 *
 * Every function returns OK or the status it filled in `err`. Reads clear
 * `err` first. Writes that take an input do not: the caller clears it, and
 * a front end may leave in it the problems it found while decoding, so that
 * one 422 lists the type problems and the rule problems together; such a
 * write validates, then stops before the store when `err` holds anything.
 * Rows returned live in `a`.
 */
#ifndef INSIGHTS_SERVICE_H
#define INSIGHTS_SERVICE_H

#include <semaphore.h>
#include <stdatomic.h>

#include "core/access.h"
#include "core/idempotency.h"
#include "core/model.h"
#include "core/similar.h"
#include "lib/arena.h"
#include "lib/error.h"
#include "store/store.h"

struct service_counters {
	atomic_uint_fast64_t insights_created;
	atomic_uint_fast64_t insights_updated;
	atomic_uint_fast64_t insights_deleted;
};

#define SEARCHES_PER_CPU 2

/* --stale-after's default: 180 days. */
#define STALE_AFTER_DEFAULT_S (180 * 86400LL)

struct service {
	struct store *store;             /* borrowed */
	struct service_counters counters;
	/*
	 * Bumped after every write this instance commits: a read computed
	 * while it held a value is out of date once it moves (response caches
	 * key on it).
	 */
	atomic_uint_fast64_t data_version;
	/*
	 * Whether data_version moves with every write that reads here can
	 * see: always for a private store; for a shared one (other instances
	 * write too) only while the store reports their writes (svc_watch).
	 */
	atomic_bool version_complete;
	/*
	 * For a shared store: the highest data version of the shared database
	 * (store_write_version) known to be seen here: every write up to it is
	 * in what this instance reads, and bumped data_version on its way in.
	 */
	atomic_uint_fast64_t heard_version;
	bool shared;
	/*
	 * Ranked searches running at once, at most SEARCHES_PER_CPU per CPU:
	 * more would only share the same cores, each holding its own
	 * connection's pages and ranking state (memory grows with them).
	 */
	sem_t search_slots;
	/* How long a search waits for a slot before it is refused (0: no bound). */
	unsigned search_wait_ms;
	/*
	 * Idempotency keys (svc_idem_claim): how long an answer is replayed,
	 * and how long a claim whose request never answered blocks its key.
	 */
	int64_t idem_ttl_s;
	int64_t idem_claim_s;
	/* A draft this alike an insight (or more) is a possible duplicate of it. */
	double duplicate_threshold;
	/* A published insight neither updated nor reviewed for this long is stale (issue 14). */
	int64_t stale_after_s;
	/* Keys along deep lists, per data version (service.c, "Deep pages"). */
	struct page_anchors *anchors;
};

/* The current data version (see struct service). */
uint64_t svc_data_version(struct service *svc);
/*
 * The current data version, when it vouches for the data (see
 * version_complete): false while other instances' writes may go unseen.
 */
bool svc_complete_version(struct service *svc, uint64_t *version);
/*
 * For a shared store: makes the data version follow the writes of other
 * instances too, as the store reports them. E_INTERNAL when it cannot.
 */
enum status svc_watch(struct service *svc, struct error *err);
/*
 * The version a client can quote (X-Insights-Version) after a write the
 * calling thread just made: the shared database's version of it, or this
 * instance's data version for a private store.
 */
uint64_t svc_write_version(struct service *svc);
/*
 * Whether every write up to `version` (as svc_write_version gave it,
 * possibly on another instance) is seen by this instance, data version
 * included: a cached answer tagged with the data version read after this
 * returns true is not older than those writes.
 */
bool svc_has_seen(struct service *svc, uint64_t version);

void service_init(struct service *svc, struct store *store);
void service_release(struct service *svc);

enum status svc_health(struct service *svc, struct error *err);

enum status svc_insight_get(struct service *svc, struct arena *a, int64_t id,
			    struct insight *out, struct error *err);
enum status svc_insight_find(struct service *svc, struct arena *a,
			     const struct insight_filter *f, struct insight_page *out,
			     struct error *err);
enum status svc_insight_create(struct service *svc, struct arena *a,
			       const struct insight_input *in, struct insight *out,
			       struct error *err);
/*
 * Creates `n` insights at once, all or none (bulk loads: seed, import).
 * Problems of input i are located at [i, field].
 */
enum status svc_insight_create_many(struct service *svc, const struct insight_input *in,
				    size_t n, struct error *err);
enum status svc_insight_update(struct service *svc, struct arena *a, int64_t id,
			       const struct insight_input *in, struct insight *out,
			       struct error *err);
enum status svc_insight_delete(struct service *svc, int64_t id, struct error *err);

/*
 * Reads in core/query.h's form (the GraphQL API's): rows, and aggregates
 * of rows. Searches among them share the ranked searches' slots.
 */
enum status svc_select(struct service *svc, struct arena *a, const struct q_select *q,
		       struct q_rows *out, struct error *err);
enum status svc_aggregate(struct service *svc, struct arena *a, const struct q_aggregate *q,
			  struct q_agg_rows *out, struct error *err);

/*
 * A batch: every use case the calling thread runs on `svc` between
 * svc_batch_begin and svc_batch_end is one transaction, its reads seeing
 * its writes (store_batch_begin). What the writes publish (the data
 * version, the counters) is published at a committed end only. A front end
 * that runs several writes as one request (GraphQL mutations) ends the
 * batch without commit when one fails: then nothing is written. One batch
 * per thread at a time.
 */
enum status svc_batch_begin(struct service *svc, struct error *err);
enum status svc_batch_end(struct service *svc, bool commit, struct error *err);

/*
 * At most `limit` (1 to RELATED_LIMIT_MAX) insights related to insight `id`:
 * ranked by tags shared, then same category, then newest; never itself.
 */
enum status svc_insight_related(struct service *svc, struct arena *a, int64_t id, int64_t limit,
				struct insight **out, size_t *n, struct error *err);

enum status svc_tag_get(struct service *svc, struct arena *a, int64_t id,
			struct tag *out, struct error *err);
enum status svc_tag_list(struct service *svc, struct arena *a, struct range r,
			 struct tag **out, size_t *n, struct error *err);
enum status svc_tag_create(struct service *svc, struct arena *a,
			   const struct tag_input *in, struct tag *out, struct error *err);
enum status svc_tag_update(struct service *svc, struct arena *a, int64_t id,
			   const struct tag_input *in, struct tag *out, struct error *err);
enum status svc_tag_delete(struct service *svc, int64_t id, struct error *err);

enum status svc_category_get(struct service *svc, struct arena *a, int64_t id,
			     struct category *out, struct error *err);
enum status svc_category_list(struct service *svc, struct arena *a, struct range r,
			      struct category **out, size_t *n, struct error *err);
enum status svc_category_create(struct service *svc, struct arena *a,
				const struct category_input *in, struct category *out,
				struct error *err);
enum status svc_category_update(struct service *svc, struct arena *a, int64_t id,
				const struct category_input *in, struct category *out,
				struct error *err);
enum status svc_category_delete(struct service *svc, int64_t id, struct error *err);

/* With stale_insights (svc->stale_after_s ago, by clock_now()). */
enum status svc_statistics(struct service *svc, struct arena *a,
			   struct statistics *out, struct error *err);

/* ---- lifecycle (issue 14; core/lifecycle.h) ---- */

/*
 * GET /statistics/lifecycle: the transitions of the `days` (1..
 * LIFECYCLE_DAYS_MAX) days ending now (clock_now()), and how long the
 * insights first published in them took from creation to publication.
 */
enum status svc_lifecycle(struct service *svc, struct arena *a, int64_t days,
			  struct lifecycle_figures *out, struct error *err);
/*
 * Makes `f` list stale insights only (see struct insight_filter): past
 * their review date today, or published and neither updated nor reviewed
 * for svc->stale_after_s. The cut-offs are allocated in `a`.
 */
void svc_stale_filter(struct service *svc, struct arena *a, struct insight_filter *f);
/*
 * POST /insights/{id}/review: marks insight `id` reviewed now (reviewed_at;
 * updated_at is left as it was) and, when review_by->set, sets its next
 * review date (null clears it). A new revision, audited as "review".
 * `expected` as svc_insight_update_if. E_NOTFOUND for an unknown id;
 * E_INVALID for a review_by that is not a date (at ["review_by"]).
 */
enum status svc_insight_review(struct service *svc, struct arena *a, int64_t id,
			       int64_t expected, const struct opt_str *review_by,
			       struct insight *out, struct error *err);
/* `ndays` days ending today (UTC), oldest first, every day present. */
enum status svc_trends(struct service *svc, struct arena *a, int ndays,
		       struct trend_day **out, struct error *err);
enum status svc_top_authors(struct service *svc, struct arena *a, int64_t limit,
			    struct count_by_name **out, size_t *n, struct error *err);
/* Tidies the database after a bulk load (see store_driver.optimize). */
enum status svc_optimize(struct service *svc, struct error *err);
enum status svc_gauges(struct service *svc, struct store_gauges *out, struct error *err);
enum status svc_recount_tags(struct service *svc, struct arena *a,
			     struct tag_fix **fixes, size_t *n, struct error *err);

/* ---- API tokens and the audit trail (core/access.h) ---------------------- */

struct token_input {
	const char *name;        /* 1..TOKEN_NAME_MAX of letters, digits, ".", "_", "-" */
	const char *role;        /* reader, editor, admin, metrics */
	const char *expires_in;  /* "90d", "12h", "30m", "3600s"; NULL: never expires */
};

#define TOKEN_SECRET_SIZE 64

/*
 * Creates a token: its secret (given once, in `secret`) comes from the
 * OS's random bytes; only its hash is stored. Problems are located at
 * [name], [role], [expires_in]; E_CONFLICT when the name is taken.
 */
enum status svc_token_create(struct service *svc, struct arena *a, const struct token_input *in,
			     char secret[TOKEN_SECRET_SIZE], struct token *out, struct error *err);
enum status svc_token_list(struct service *svc, struct arena *a, struct token **out, size_t *n,
			   struct error *err);
/* Deletes the token named `name`: it stops working. E_NOTFOUND when none. */
enum status svc_token_revoke(struct service *svc, const char *name, struct error *err);
/*
 * The token whose secret is `secret`, when it is well formed, stored and
 * not expired at `now` (a timestamp); E_NOTFOUND otherwise (without saying
 * which: the caller answers 401 either way).
 */
enum status svc_token_check(struct service *svc, struct arena *a, const char *secret,
			    const char *now, struct token *out, struct error *err);
/* Records that tokens `ids` were used at `at` (kept coarsely by the caller). */
enum status svc_token_touch(struct service *svc, const int64_t *ids, size_t n, const char *at,
			    struct error *err);
/* A page of the audit trail, newest first. */
enum status svc_audit_find(struct service *svc, struct arena *a, const struct audit_filter *f,
			   struct audit_page *out, struct error *err);
/* Deletes audit entries older than `before`; *deleted gets how many. */
enum status svc_audit_prune(struct service *svc, const char *before, int64_t *deleted,
			    struct error *err);

/* ---- revisions and versions (issue 14) ------------------------------------------ */

/*
 * Conditional writes: as svc_*_update and svc_*_delete, when the row is
 * at revision (insights) or version (tags, categories) `expected`;
 * otherwise E_PRECONDITION ("Insight was modified") and nothing written.
 * The check and the write are one transaction: of writers expecting the
 * same version, one wins. `expected` 0: no condition (the plain use cases).
 * Every change of an insight keeps the revision it makes (and the one it
 * replaces, if that was never kept), with the calling thread's actor.
 */
enum status svc_insight_update_if(struct service *svc, struct arena *a, int64_t id,
				  int64_t expected, const struct insight_input *in,
				  struct insight *out, struct error *err);
enum status svc_insight_delete_if(struct service *svc, int64_t id, int64_t expected,
				  struct error *err);
enum status svc_tag_update_if(struct service *svc, struct arena *a, int64_t id, int64_t expected,
			      const struct tag_input *in, struct tag *out, struct error *err);
enum status svc_tag_delete_if(struct service *svc, int64_t id, int64_t expected,
			      struct error *err);
enum status svc_category_update_if(struct service *svc, struct arena *a, int64_t id,
				   int64_t expected, const struct category_input *in,
				   struct category *out, struct error *err);
enum status svc_category_delete_if(struct service *svc, int64_t id, int64_t expected,
				   struct error *err);
/* The current revision of insight `id` (QT_INSIGHTS) or version of a tag or category. */
enum status svc_version(struct service *svc, enum q_table table, int64_t id, int64_t *version,
			struct error *err);
/*
 * A page of insight `id`'s revisions, newest first, and their total; also
 * those of a deleted insight while they are kept. E_NOTFOUND when neither
 * the insight nor a revision of it exists.
 */
enum status svc_revision_list(struct service *svc, struct arena *a, int64_t id, int64_t page,
			      int64_t page_size, struct revision_page *out, struct error *err);
/* Revision `n` (>= 1) of insight `id`; E_NOTFOUND when there is none. */
enum status svc_revision_get(struct service *svc, struct arena *a, int64_t id, int64_t n,
			     struct insight_revision *out, struct error *err);
/*
 * Makes insight `id` what revision `n` was (every field, its tags; its
 * published_at too), as a new revision, through the update path (counts and
 * the search index follow). E_CONFLICT naming what is gone when its
 * category or a tag no longer exists; `expected` as for svc_insight_update_if.
 */
enum status svc_revision_restore(struct service *svc, struct arena *a, int64_t id, int64_t n,
				 int64_t expected, struct insight *out, struct error *err);
/*
 * Brings deleted insight `id` back, as its last revision was, under its id,
 * with its tags and category, at a new revision. E_NOTFOUND when no
 * revision of it is kept (never existed, or pruned); E_CONFLICT when it is
 * not deleted, or naming its category or a tag that no longer exists.
 */
enum status svc_insight_restore(struct service *svc, struct arena *a, int64_t id,
				struct insight *out, struct error *err);
/* Forgets the revisions of insights deleted before `before`; *deleted counts them. */
enum status svc_revision_prune(struct service *svc, const char *before, int64_t *deleted,
			       struct error *err);
/* ---- idempotent requests (core/idempotency.h) ------------------------------ */

#define IDEM_TTL_DEFAULT_S 86400

/* A request sent with an Idempotency-Key, as svc_idem_claim compares requests. */
struct idem_request {
	const char *key;          /* 1..IDEM_KEY_MAX bytes */
	const char *target;       /* what it does: "POST /insights" */
	const char *rest;         /* whatever else must match (query, body) */
	size_t rest_len;
};

enum idem_outcome {
	IDEM_PROCEED,   /* the key is claimed: run the write, then svc_idem_finish */
	IDEM_REPLAY,    /* answered before: status and body are the first answer */
	IDEM_BUSY,      /* a request with the key is still in flight */
	IDEM_MISMATCH,  /* the key was used for a different request (first_target says which) */
};

struct idem_claim {
	enum idem_outcome outcome;
	struct idem_row row;      /* PROCEED: the claim; REPLAY: the answer */
	const char *first_target; /* MISMATCH: what the key was first used for */
	bool same_target;         /* MISMATCH: the same target, another query or body */
	char token[IDEM_TOKEN_SIZE];
};

/*
 * Looks up the calling thread's actor's key `rq->key` and decides what to
 * do with the request (see enum idem_outcome). Keys are scoped to the
 * actor. An answer older than svc->idem_ttl_s, or a claim older than
 * svc->idem_claim_s (its request died with its process, or is past any
 * time it may take), counts as no row. On IDEM_PROCEED the key's row is a
 * claim, committed (other requests, on any instance, now see it): the
 * caller runs the write in a batch (svc_batch_begin) and stores its answer
 * with svc_idem_finish before ending it, or releases the claim
 * (svc_idem_release) when the write fails. Rows live in `a`.
 */
enum status svc_idem_claim(struct service *svc, struct arena *a, const struct idem_request *rq,
			   struct idem_claim *out, struct error *err);
/*
 * Stores the answer (`status`, `body` of `len` bytes and a NUL) of a claimed request
 * in the calling thread's batch, so that it commits with the write. A claim
 * taken over meanwhile (its request outlived svc->idem_claim_s) is
 * E_CONFLICT: the caller ends the batch without commit, and nothing is
 * written twice.
 */
enum status svc_idem_finish(struct service *svc, struct idem_claim *c, int status,
			    const char *body, size_t len, struct error *err);
/* Forgets a claim whose write failed, so that the key may be used again. */
enum status svc_idem_release(struct service *svc, const struct idem_claim *c, struct error *err);
/* Deletes keys too old to matter (see svc_idem_claim); *deleted gets how many. */
enum status svc_idem_prune(struct service *svc, int64_t *deleted, struct error *err);
/*
 * Duplicate warnings (core/similar.h). svc_insight_similar: the insights
 * most like a draft (title required; description, content and source
 * optional, with create's lengths), at most SIMILAR_MAX, best first, in
 * *out (in `a`). Like a write, it leaves `err` as the caller filled it
 * (decoding problems) and validates before anything else.
 *
 * svc_insight_duplicates: validates `in` as a create would, then finds its
 * similar insights; when the best scores svc->duplicate_threshold or more
 * it returns E_CONFLICT ("Possible duplicates") with them in *out, those
 * at or above the threshold; otherwise OK and nothing in *out.
 */
enum status svc_insight_similar(struct service *svc, struct arena *a,
				const struct insight_input *in, struct similar_match **out,
				size_t *n, struct error *err);
enum status svc_insight_duplicates(struct service *svc, struct arena *a,
				   const struct insight_input *in, struct similar_match **out,
				   size_t *n, struct error *err);

/* ---- your data, in and out (core/transfer.c, issue 15) ------------------------- */

/*
 * The writes of an import, made in the caller's batch (svc_batch_begin) and
 * not audited one by one: svc_import_audit records the whole import as one
 * entry of that batch. Each validates its input with the API's rules, then
 * creates the row (id 0; the input may carry the id and times to keep) or
 * updates row `id`. Revisions are not kept for them (as for seed).
 */
enum status svc_import_tag(struct service *svc, struct arena *a, int64_t id,
			   const struct tag_input *in, struct tag *out, struct error *err);
enum status svc_import_category(struct service *svc, struct arena *a, int64_t id,
				const struct category_input *in, struct category *out,
				struct error *err);
enum status svc_import_insight(struct service *svc, struct arena *a, int64_t id,
			       const struct insight_input *in, struct insight *out,
			       struct error *err);
/* One audit entry (action "import", resource "database") with `changes` (JSON text). */
enum status svc_import_audit(struct service *svc, const char *changes, struct error *err);
/* The store's consistency check (store_check). */
enum status svc_check(struct service *svc, struct arena *a, struct store_check *out,
		      struct error *err);
/* Whether the database can be copied by svc_backup (SQLite), or needs its own tools. */
bool svc_can_backup(struct service *svc);
enum status svc_backup(struct service *svc, const char *path, store_progress_fn progress,
		       void *arg, struct error *err);

#endif
