/*
 * service.c: the use cases of service.h. Each is thin on purpose: the rules
 * live in core/model.c and core/validate.c, the SQL in the store drivers,
 * and the store's contract is asserted by store/store.c's wrappers.
 */
#include "core/service.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "core/validate.h"
#include "lib/cpus.h"
#include "lib/banned.h"

void service_init(struct service *svc, struct store *store)
{
	memset(svc, 0, sizeof(*svc));
	svc->store = store;
	/* Fails only for a value above SEM_VALUE_MAX: a bug. */
	int rc = sem_init(&svc->search_slots, 0, SEARCHES_PER_CPU * cpu_count());
	assert(rc == 0);
	(void)rc;
	svc->shared = store_flags(store) & STORE_SHARED;
	atomic_store(&svc->version_complete, !svc->shared);
}

void service_release(struct service *svc)
{
	sem_destroy(&svc->search_slots);
}

uint64_t svc_data_version(struct service *svc)
{
	return atomic_load(&svc->data_version);
}

bool svc_complete_version(struct service *svc, uint64_t *version)
{
	/* The flag first: a version read after it went false is not trusted. */
	bool complete = atomic_load(&svc->version_complete);
	*version = atomic_load(&svc->data_version);
	return complete;
}

/* Raises `v` to at least `to`. */
static void raise_to(atomic_uint_fast64_t *v, uint64_t to)
{
	uint64_t cur = atomic_load(v);
	while (cur < to && !atomic_compare_exchange_weak(v, &cur, to))
		;
}

/*
 * The store's report of other instances' writes (see store_driver.watch).
 * The data version moves before the heard version: a reader that finds a
 * version heard (svc_has_seen) then reads a data version that already
 * excludes what was cached before it.
 */
static void remote_change(void *arg, bool heard, uint64_t version)
{
	struct service *svc = arg;
	if (!heard)
		atomic_store(&svc->version_complete, false);
	atomic_fetch_add(&svc->data_version, 1);
	if (heard) {
		raise_to(&svc->heard_version, version);
		atomic_store(&svc->version_complete, true);
	}
}

uint64_t svc_write_version(struct service *svc)
{
	return svc->shared ? store_write_version() : atomic_load(&svc->data_version);
}

bool svc_has_seen(struct service *svc, uint64_t version)
{
	if (svc->shared)
		return atomic_load(&svc->heard_version) >= version;
	return atomic_load(&svc->data_version) >= version;
}

enum status svc_watch(struct service *svc, struct error *err)
{
	error_clear(err);
	return store_watch(svc->store, remote_change, svc, err);
}

/*
 * The calling thread's batch (svc_batch_begin): its writes are not yet
 * committed, so what they would publish (a new data version, counters)
 * waits for its end, and is dropped if it is undone.
 */
struct batch {
	struct service *svc;   /* NULL: no batch */
	bool wrote;
	uint64_t created, updated, deleted;
};
static _Thread_local struct batch batch;

/* Publishes that the data changed: a new data version, seen here. */
static void publish(struct service *svc)
{
	atomic_fetch_add(&svc->data_version, 1);
	if (svc->shared)
		raise_to(&svc->heard_version, store_write_version());
}

/*
 * Marks the data as changed when a write succeeded; returns its status.
 * This instance has seen its own write: its version counts as heard.
 */
static enum status wrote(struct service *svc, enum status rc)
{
	if (rc != OK)
		return rc;
	if (batch.svc == svc)
		batch.wrote = true;
	else
		publish(svc);
	return rc;
}

/* Adds `n` to counter `c` of `svc`, at the end of a batch within one. */
static void count(struct service *svc, atomic_uint_fast64_t *c, uint64_t n)
{
	if (batch.svc != svc) {
		atomic_fetch_add(c, n);
		return;
	}
	if (c == &svc->counters.insights_created)
		batch.created += n;
	else if (c == &svc->counters.insights_updated)
		batch.updated += n;
	else
		batch.deleted += n;
}

enum status svc_batch_begin(struct service *svc, struct error *err)
{
	error_clear(err);
	assert(!batch.svc);
	enum status rc = store_batch_begin(svc->store, err);
	if (rc == OK)
		batch = (struct batch){ .svc = svc };
	return rc;
}

enum status svc_batch_end(struct service *svc, bool commit, struct error *err)
{
	error_clear(err);
	assert(batch.svc == svc);
	struct batch done = batch;
	batch = (struct batch){ 0 };
	enum status rc = store_batch_end(svc->store, commit, err);
	if (rc != OK || !commit)
		return rc;
	atomic_fetch_add(&svc->counters.insights_created, done.created);
	atomic_fetch_add(&svc->counters.insights_updated, done.updated);
	atomic_fetch_add(&svc->counters.insights_deleted, done.deleted);
	if (done.wrote)
		publish(svc);
	return OK;
}

#define CALL(svc, op, ...) store_##op((svc)->store, __VA_ARGS__)

enum status svc_health(struct service *svc, struct error *err)
{
	error_clear(err);
	return CALL(svc, ping, err);
}

enum status svc_insight_get(struct service *svc, struct arena *a, int64_t id,
			    struct insight *out, struct error *err)
{
	error_clear(err);
	return CALL(svc, insight_get, a, id, out, err);
}

/*
 * Waits for one of the ranked searches' slots (see struct service), at
 * most svc->search_wait_ms (0: as long as it takes): a search that cannot
 * start within the time a query may take is answered 503 rather than left
 * to queue behind the others, holding its worker thread.
 */
static enum status search_slot_take(struct service *svc, struct error *err)
{
	int w;
	if (!svc->search_wait_ms) {
		while ((w = sem_wait(&svc->search_slots)) && errno == EINTR)
			;
		assert(w == 0); /* EINVAL, the only other failure, would be a bug */
		return OK;
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += svc->search_wait_ms / 1000;
	until.tv_nsec += (long)(svc->search_wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while ((w = sem_timedwait(&svc->search_slots, &until)) && errno == EINTR)
		;
	if (w == 0)
		return OK;
	assert(errno == ETIMEDOUT);
	err->transient = true;
	return error_set(err, E_UNAVAILABLE, "Too many searches are running: try again shortly");
}

enum status svc_insight_find(struct service *svc, struct arena *a,
			     const struct insight_filter *f, struct insight_page *out,
			     struct error *err)
{
	error_clear(err);
	if (!f->text)
		return CALL(svc, insight_find, a, f, out, err);
	if (search_slot_take(svc, err))
		return err->status;
	enum status rc = CALL(svc, insight_find, a, f, out, err);
	sem_post(&svc->search_slots);
	return rc;
}

enum status svc_select(struct service *svc, struct arena *a, const struct q_select *q,
		       struct q_rows *out, struct error *err)
{
	error_clear(err);
	if (!q->search)
		return CALL(svc, select, a, q, out, err);
	if (search_slot_take(svc, err))
		return err->status;
	enum status rc = CALL(svc, select, a, q, out, err);
	sem_post(&svc->search_slots);
	return rc;
}

enum status svc_aggregate(struct service *svc, struct arena *a, const struct q_aggregate *q,
			  struct q_agg_rows *out, struct error *err)
{
	error_clear(err);
	if (!q->select.search)
		return CALL(svc, aggregate, a, q, out, err);
	if (search_slot_take(svc, err))
		return err->status;
	enum status rc = CALL(svc, aggregate, a, q, out, err);
	sem_post(&svc->search_slots);
	return rc;
}

enum status svc_insight_create(struct service *svc, struct arena *a,
			       const struct insight_input *in, struct insight *out,
			       struct error *err)
{
	if (insight_input_check(in, true, err))
		return err->status;
	enum status rc = CALL(svc, insight_create, a, in, out, err);
	if (rc == OK)
		count(svc, &svc->counters.insights_created, 1);
	return wrote(svc, rc);
}

enum status svc_insight_create_many(struct service *svc, const struct insight_input *in,
				    size_t n, struct error *err)
{
	error_clear(err);
	for (size_t i = 0; i < n; i++) {
		struct error one = ERROR_INIT;
		if (insight_input_check(&in[i], true, &one) == OK)
			continue;
		/* ["title"] becomes [i, "title"]. */
		error_locate_index(&one, 0, (int64_t)i);
		for (size_t k = 0; k < one.nproblems && err->nproblems < ERROR_MAX_PROBLEMS; k++)
			err->problems[err->nproblems++] = one.problems[k];
		err->status = E_INVALID;
	}
	if (err->status)
		return err->status;
	enum status rc = CALL(svc, insight_create_many, in, n, err);
	if (rc == OK)
		count(svc, &svc->counters.insights_created, n);
	return wrote(svc, rc);
}

enum status svc_insight_update(struct service *svc, struct arena *a, int64_t id,
			       const struct insight_input *in, struct insight *out,
			       struct error *err)
{
	if (insight_input_check(in, false, err))
		return err->status;
	enum status rc = CALL(svc, insight_update, a, id, in, out, err);
	if (rc == OK)
		count(svc, &svc->counters.insights_updated, 1);
	return wrote(svc, rc);
}

enum status svc_insight_delete(struct service *svc, int64_t id, struct error *err)
{
	error_clear(err);
	enum status rc = CALL(svc, insight_delete, id, err);
	if (rc == OK)
		count(svc, &svc->counters.insights_deleted, 1);
	return wrote(svc, rc);
}

enum status svc_insight_related(struct service *svc, struct arena *a, int64_t id, int64_t limit,
				struct insight **out, size_t *n, struct error *err)
{
	error_clear(err);
	assert(limit >= 1 && limit <= RELATED_LIMIT_MAX);
	return CALL(svc, insight_related, a, id, limit, out, n, err);
}

enum status svc_tag_get(struct service *svc, struct arena *a, int64_t id,
			struct tag *out, struct error *err)
{
	error_clear(err);
	return CALL(svc, tag_get, a, id, out, err);
}

enum status svc_tag_list(struct service *svc, struct arena *a, struct range r,
			 struct tag **out, size_t *n, struct error *err)
{
	error_clear(err);
	return CALL(svc, tag_list, a, r, out, n, err);
}

enum status svc_tag_create(struct service *svc, struct arena *a,
			   const struct tag_input *in, struct tag *out, struct error *err)
{
	if (tag_input_check(in, true, err))
		return err->status;
	return wrote(svc, CALL(svc, tag_create, a, in, out, err));
}

enum status svc_tag_update(struct service *svc, struct arena *a, int64_t id,
			   const struct tag_input *in, struct tag *out, struct error *err)
{
	if (tag_input_check(in, false, err))
		return err->status;
	return wrote(svc, CALL(svc, tag_update, a, id, in, out, err));
}

enum status svc_tag_delete(struct service *svc, int64_t id, struct error *err)
{
	error_clear(err);
	return wrote(svc, CALL(svc, tag_delete, id, err));
}

enum status svc_category_get(struct service *svc, struct arena *a, int64_t id,
			     struct category *out, struct error *err)
{
	error_clear(err);
	return CALL(svc, category_get, a, id, out, err);
}

enum status svc_category_list(struct service *svc, struct arena *a, struct range r,
			      struct category **out, size_t *n, struct error *err)
{
	error_clear(err);
	return CALL(svc, category_list, a, r, out, n, err);
}

/*
 * /statistics counts insights without a category under UNCATEGORIZED: a
 * real category of that name would merge with them there.
 */
static enum status reserved_name(const struct category_input *in, struct error *err)
{
	if (in->name.set && in->name.v && !strcmp(in->name.v, UNCATEGORIZED))
		return error_set(err, E_CONFLICT,
				 "Category name '%s' is reserved for insights without a category",
				 UNCATEGORIZED);
	return OK;
}

enum status svc_category_create(struct service *svc, struct arena *a,
				const struct category_input *in, struct category *out,
				struct error *err)
{
	if (category_input_check(in, true, err) || reserved_name(in, err))
		return err->status;
	return wrote(svc, CALL(svc, category_create, a, in, out, err));
}

enum status svc_category_update(struct service *svc, struct arena *a, int64_t id,
				const struct category_input *in, struct category *out,
				struct error *err)
{
	if (category_input_check(in, false, err) || reserved_name(in, err))
		return err->status;
	if (in->parent_id.set && in->parent_id.v == id)
		return problem_parent_cycle(err, id);
	return wrote(svc, CALL(svc, category_update, a, id, in, out, err));
}

enum status svc_category_delete(struct service *svc, int64_t id, struct error *err)
{
	error_clear(err);
	return wrote(svc, CALL(svc, category_delete, id, err));
}

enum status svc_statistics(struct service *svc, struct arena *a,
			   struct statistics *out, struct error *err)
{
	error_clear(err);
	return CALL(svc, statistics, a, out, err);
}

enum status svc_trends(struct service *svc, struct arena *a, int ndays,
		       struct trend_day **out, struct error *err)
{
	error_clear(err);
	assert(ndays >= 1);
	struct trend_day *days = ARENA_NEW_ARRAY(a, struct trend_day, (size_t)ndays);
	time_t today = time(NULL);
	for (int i = 0; i < ndays; i++) {
		time_t t = today - (time_t)(ndays - 1 - i) * 86400;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(days[i].date, sizeof(days[i].date), "%Y-%m-%d", &tm);
	}
	*out = days;
	return CALL(svc, trends, days, (size_t)ndays, err);
}

enum status svc_top_authors(struct service *svc, struct arena *a, int64_t limit,
			    struct count_by_name **out, size_t *n, struct error *err)
{
	error_clear(err);
	return CALL(svc, top_authors, a, limit, out, n, err);
}

enum status svc_optimize(struct service *svc, struct error *err)
{
	error_clear(err);
	return CALL(svc, optimize, err);
}

enum status svc_gauges(struct service *svc, struct store_gauges *out, struct error *err)
{
	error_clear(err);
	return CALL(svc, gauges, out, err);
}

enum status svc_recount_tags(struct service *svc, struct arena *a,
			     struct tag_fix **fixes, size_t *n, struct error *err)
{
	error_clear(err);
	return wrote(svc, CALL(svc, recount_tags, a, fixes, n, err));
}
