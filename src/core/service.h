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
	/* A draft this alike an insight (or more) is a possible duplicate of it. */
	double duplicate_threshold;
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

enum status svc_statistics(struct service *svc, struct arena *a,
			   struct statistics *out, struct error *err);
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

#endif
