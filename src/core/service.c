/*
 * service.c: the use cases of service.h. Each is thin on purpose: the rules
 * live in core/model.c and core/validate.c, the SQL in the store drivers,
 * and the store's contract is asserted by store/store.c's wrappers.
 */
#include "core/service.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "auth/token.h"
#include "core/audit.h"
#include "core/lifecycle.h"
#include "core/validate.h"
#include "lib/cpus.h"
#include "lib/log.h"
#include "lib/banned.h"

static struct page_anchors *anchors_new(void);
static void anchors_free(struct page_anchors *pa);

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
	svc->idem_ttl_s = IDEM_TTL_DEFAULT_S;
	svc->idem_claim_s = 60;
	svc->stale_after_s = STALE_AFTER_DEFAULT_S;
	svc->anchors = anchors_new();
}

void service_release(struct service *svc)
{
	sem_destroy(&svc->search_slots);
	anchors_free(svc->anchors);
	svc->anchors = NULL;
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

/*
 * An audited write: the write and its audit entry in one transaction, so
 * that a rejected or rolled-back write leaves no entry and an entry never
 * describes a write that did not happen. The transaction is the caller's
 * batch when it has one open (a GraphQL mutation), or a batch of its own.
 */
struct audited {
	bool own;
	struct arena a;   /* the field lists and the changes' text */
};

static enum status audit_open(struct service *svc, struct audited *au, struct error *err)
{
	au->own = batch.svc != svc;
	au->a = (struct arena)ARENA_INIT;
	if (!au->own)
		return OK;
	enum status rc = svc_batch_begin(svc, err);
	if (rc != OK)
		au->own = false; /* nothing to end */
	return rc;
}

/* Records that the calling thread's actor did `action` to `resource` `id`. */
static enum status audit_record(struct service *svc, struct audited *au, const char *action,
				const char *resource, int64_t id, const struct audit_fields *old,
				const struct audit_fields *new, struct error *err)
{
	const struct actor *who = actor_current();
	struct audit_entry e = {
		.actor = who->name,
		.role = role_name(who->role),
		.action = action,
		.resource = resource,
		.resource_id = id,
		.request_id = who->request_id,
		.changes = audit_changes(&au->a, old, new),
	};
	clock_timestamp(e.time);
	return store_audit_append(svc->store, &e, err);
}

/* Ends an audited write: commits its own batch when rc is OK, undoes it otherwise. */
static enum status audit_close(struct service *svc, struct audited *au, enum status rc,
			       struct error *err)
{
	if (au->own) {
		if (rc == OK) {
			rc = svc_batch_end(svc, true, err);
		} else {
			struct error undone = ERROR_INIT;
			svc_batch_end(svc, false, &undone);
		}
	}
	arena_release(&au->a);
	return rc;
}

#define AUDIT_ATTEMPTS 3

/*
 * The loop of AUDITED: opens the write's transaction before the body, and
 * after it closes the transaction and decides whether to run the body
 * again. A write in a transaction of its own that failed in a way that may
 * pass (a deadlock, a serialization failure: err->transient) runs again,
 * AUDIT_ATTEMPTS times in all, after a short random pause, as the store
 * retries a single write; one inside the caller's batch is never retried
 * here (the batch fails as a whole).
 */
static bool audit_step(struct service *svc, struct audited *au, enum status *rc,
		       struct error *err, int *attempt)
{
	if (*attempt > 0) {
		bool own = au->own;
		*rc = audit_close(svc, au, *rc, err);
		if (!own || *rc != E_UNAVAILABLE || !err->transient || *attempt >= AUDIT_ATTEMPTS)
			return false;
		error_clear(err);
		log_debug("retrying a transaction (attempt %d)", *attempt + 1);
		unsigned seed = (unsigned)clock_mono_ns();
		struct timespec pause = { 0, (long)(1 + rand_r(&seed) % (8u << *attempt)) * 1000000L };
		nanosleep(&pause, NULL);
	}
	(*attempt)++;
	*rc = audit_open(svc, au, err);
	return true;
}

/* Runs the block that follows as one audited write (audit_step). */
#define AUDITED(svc, au, rc, err) \
	for (int audit_attempt_ = 0; audit_step((svc), &(au), &(rc), (err), &audit_attempt_);)

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


/* ---- deep pages -------------------------------------------------------------- */

/*
 * A list without text, newest first, skips `offset` entries of an index to
 * reach its page, and both databases walk every one of them. For the
 * filters the insight_counts table answers (status, priority, category),
 * the service remembers the key (created_at, id) of every stride-th insight
 * of the order, for the data version they were read at: a deep page then
 * starts after the nearest such anchor (the store's keyset pagination,
 * insight_filter.after_ts) and walks less than a stride. The stride is a
 * whole number of pages, so the rest is a page number again. Anchors of
 * another data version are never used (a write this instance acknowledged
 * has moved it), nor inside a batch (its uncommitted writes move nothing).
 */
#define ANCHOR_ROWS 256      /* about this many insights between anchors */
#define ANCHOR_SETS 8        /* filters remembered at once */
#define ANCHOR_MAX 8192      /* anchors per filter (2M insights deep) */
#define ANCHOR_STEPS 16      /* anchors a request reads at most */

struct anchor {
	char ts[TS_SIZE];
	int64_t id;
};

struct anchor_set {
	bool used;
	int status, priority;
	int64_t category_id, page_size;
	uint64_t version, last_use;
	size_t n;
	struct anchor *keys;      /* ANCHOR_MAX, allocated on first use */
};

struct page_anchors {
	pthread_mutex_t mu;
	uint64_t clock;
	struct anchor_set sets[ANCHOR_SETS];
};

static struct page_anchors *anchors_new(void)
{
	struct page_anchors *pa = calloc(1, sizeof(*pa));
	if (!pa)
		abort();
	pthread_mutex_init(&pa->mu, NULL);
	return pa;
}

static void anchors_free(struct page_anchors *pa)
{
	if (!pa)
		return;
	for (size_t i = 0; i < ANCHOR_SETS; i++)
		free(pa->sets[i].keys);
	pthread_mutex_destroy(&pa->mu);
	free(pa);
}

static bool anchors_match(const struct anchor_set *s, const struct insight_filter *f)
{
	return s->used && s->status == f->status && s->priority == f->priority &&
	       s->category_id == f->category_id && s->page_size == f->page_size;
}

/*
 * How many of the first `want` anchors of `f` at version `v` are known;
 * the last of them goes to *last.
 */
static size_t anchors_get(struct page_anchors *pa, const struct insight_filter *f, uint64_t v,
			  size_t want, struct anchor *last)
{
	size_t n = 0;
	pthread_mutex_lock(&pa->mu);
	for (size_t i = 0; i < ANCHOR_SETS; i++) {
		struct anchor_set *s = &pa->sets[i];
		if (anchors_match(s, f) && s->version == v) {
			n = s->n < want ? s->n : want;
			if (n)
				*last = s->keys[n - 1];
			s->last_use = ++pa->clock;
			break;
		}
	}
	pthread_mutex_unlock(&pa->mu);
	return n;
}

/* Records anchor `at` of `f` at version `v` when it extends what is known. */
static void anchors_put(struct page_anchors *pa, const struct insight_filter *f, uint64_t v,
			size_t at, const struct anchor *key)
{
	pthread_mutex_lock(&pa->mu);
	struct anchor_set *s = NULL, *victim = &pa->sets[0];
	for (size_t i = 0; i < ANCHOR_SETS && !s; i++) {
		struct anchor_set *c = &pa->sets[i];
		if (anchors_match(c, f))
			s = c;
		else if (!c->used || (victim->used && c->last_use < victim->last_use))
			victim = c;
	}
	if (!s) {
		s = victim;
		s->used = true;
		s->status = f->status;
		s->priority = f->priority;
		s->category_id = f->category_id;
		s->page_size = f->page_size;
		s->n = 0;
		s->version = v;
	}
	if (s->version != v) {
		s->version = v;
		s->n = 0;
	}
	if (!s->keys)
		s->keys = malloc(ANCHOR_MAX * sizeof(*s->keys));
	if (!s->keys)
		abort();
	if (at == s->n && at < ANCHOR_MAX)
		s->keys[s->n++] = *key;
	s->last_use = ++pa->clock;
	pthread_mutex_unlock(&pa->mu);
}

/*
 * A page of `f` (a list without text, at page >= 2 strides) through the
 * anchors: finds or reads the anchor before it, then reads the page after
 * it. Reading anchor k+1 walks one stride after anchor k (one row read).
 */
static enum status find_anchored(struct service *svc, struct arena *a,
				 const struct insight_filter *f, uint64_t v, int64_t pages_per,
				 struct insight_page *out, struct error *err)
{
	int64_t want = (f->page - 1) / pages_per;
	if (want > ANCHOR_MAX)
		want = ANCHOR_MAX;
	struct anchor last = { .id = 0 };
	size_t n = anchors_get(svc->anchors, f, v, (size_t)want, &last);
	/*
	 * At most ANCHOR_STEPS new anchors per request: the rest of the way
	 * is walked as before, so that a first deep page after every write
	 * (a new data version) costs at most that many reads more than OFFSET.
	 */
	int steps = ANCHOR_STEPS;
	while ((int64_t)n < want && steps-- > 0) {
		struct insight_filter g = *f;
		g.page_size = 1;
		g.page = pages_per * f->page_size;
		g.after_ts = n ? last.ts : NULL;
		g.after_id = last.id;
		struct insight_page p;
		enum status rc = CALL(svc, insight_find, a, &g, &p, err);
		if (rc)
			return rc;
		int64_t offset;
		if (__builtin_mul_overflow(f->page - 1, f->page_size, &offset) || offset >= p.total)
			return CALL(svc, insight_find, a, f, out, err); /* past the end: no page */
		if (!p.n)
			break;
		memcpy(last.ts, p.items[0].created_at, TS_SIZE);
		last.id = p.items[0].id;
		/* Only keys read while the version held belong to it. */
		if (svc_data_version(svc) == v)
			anchors_put(svc->anchors, f, v, n, &last);
		n++;
	}
	struct insight_filter g = *f;
	if (n) {
		g.page = f->page - (int64_t)n * pages_per;
		g.after_ts = last.ts;
		g.after_id = last.id;
	}
	return CALL(svc, insight_find, a, &g, out, err);
}

enum status svc_insight_find(struct service *svc, struct arena *a,
			     const struct insight_filter *f, struct insight_page *out,
			     struct error *err)
{
	error_clear(err);
	if (!f->text) {
		int64_t pages_per = f->page_size >= ANCHOR_ROWS ? 1 : ANCHOR_ROWS / f->page_size;
		uint64_t v;
		/* Not the stale filter: its answer moves with the clock, not the data version. */
		if (!f->author && !f->ntag_ids && !f->after_ts && !f->stale_before &&
		    f->page > pages_per &&
		    !batch.svc && svc_complete_version(svc, &v))
			return find_anchored(svc, a, f, v, pages_per, out, err);
		return CALL(svc, insight_find, a, f, out, err);
	}
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

/*
 * The version check of a conditional write (If-Match, _expected_revision),
 * inside the write's batch: the row is locked (PostgreSQL) or the write
 * lock held (SQLite) from here to the commit, so two writers expecting the
 * same version cannot both pass. `expected` 0: no condition (the row is
 * still locked when `lock`).
 */
static enum status check_version(struct service *svc, enum q_table table, int64_t id,
				 int64_t expected, bool lock, struct error *err)
{
	static const char *const what[QT__COUNT] = {
		[QT_INSIGHTS] = "Insight", [QT_TAGS] = "Tag", [QT_CATEGORIES] = "Category",
	};
	if (!expected && !lock)
		return OK;
	int64_t now;
	enum status rc = CALL(svc, row_version, table, id, true, &now, err);
	if (rc == OK && expected && now != expected)
		rc = error_set(err, E_PRECONDITION, "%s was modified", what[table]);
	return rc;
}

/* The revision an insight row is, made by `actor` (NULL: unknown); strings borrowed. */
static void revision_of(struct insight_revision *r, struct arena *a, const struct insight *in,
			const char *actor)
{
	memset(r, 0, sizeof(*r));
	r->v = *in;
	r->v.tags = NULL;
	r->v.ntags = 0;
	r->v.category = NULL;
	r->tag_ids = ARENA_NEW_ARRAY(a, int64_t, in->ntags ? in->ntags : 1);
	for (size_t i = 0; i < in->ntags; i++)
		r->tag_ids[r->ntag_ids++] = in->tags[i].id;
	r->actor = actor;
}

/*
 * Keeps an insight's revision `row` was, made by the calling thread's actor
 * when `made` (or by someone unknown, when it was never kept: a version
 * from before revisions were kept, or from a bulk load).
 */
static enum status revision_keep(struct service *svc, struct arena *a, const struct insight *row,
				 bool made, struct error *err)
{
	struct insight_revision r;
	revision_of(&r, a, row, made ? actor_current()->name : NULL);
	return CALL(svc, revision_add, &r, err);
}

/*
 * Records that insight `id` went from status `from` (-1: it was created or
 * brought back) to `to` at `at`, by the calling thread's actor, in the
 * write's batch (issue 14).
 */
static enum status transition_record(struct service *svc, int64_t id, int from,
				     enum lifecycle to, const char *at, struct error *err)
{
	struct transition t = { .insight_id = id, .from = from, .to = to, .at = at,
				.actor = actor_current()->name };
	return CALL(svc, transition_add, &t, err);
}

enum status svc_insight_create(struct service *svc, struct arena *a,
			       const struct insight_input *in, struct insight *out,
			       struct error *err)
{
	/* An authenticated actor who names no author is the author. */
	struct insight_input named;
	const struct actor *who = actor_current();
	if (who->authenticated && (!in->author.set || !in->author.v)) {
		named = *in;
		named.author = (struct opt_str){ .set = true, .v = who->name };
		in = &named;
	}
	if (insight_input_check(in, true, err))
		return err->status;
	struct audited au;
	enum status rc = OK;
	AUDITED (svc, au, rc, err) {
		if (rc == OK)
			rc = CALL(svc, insight_create, a, in, out, err);
		if (rc == OK)
			rc = revision_keep(svc, &au.a, out, true, err);
		if (rc == OK)
			rc = transition_record(svc, out->id, -1, out->status, out->updated_at, err);
		if (rc == OK) {
			struct audit_fields now;
			audit_fields_insight(&now, &au.a, out);
			rc = audit_record(svc, &au, "create", "insight", out->id, NULL, &now, err);
		}
		if (rc == OK)
			count(svc, &svc->counters.insights_created, 1);
		rc = wrote(svc, rc);
	}
	return rc;
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
	return svc_insight_update_if(svc, a, id, 0, in, out, err);
}

/* An update in the caller's audited batch, after `old` was read under the version check. */
static enum status update_audited(struct service *svc, struct audited *au, struct arena *a,
				  int64_t id, const struct insight *old, const char *action,
				  const struct insight_input *in, struct insight *out,
				  struct error *err)
{
	enum status rc = revision_keep(svc, &au->a, old, false, err);
	if (rc == OK)
		rc = CALL(svc, insight_update, a, id, in, out, err);
	if (rc == OK)
		rc = revision_keep(svc, &au->a, out, true, err);
	if (rc == OK && out->status != old->status) {
		char now[TS_SIZE];
		clock_timestamp(now);
		rc = transition_record(svc, id, (int)old->status, out->status, now, err);
	}
	if (rc == OK) {
		struct audit_fields was, now;
		audit_fields_insight(&was, &au->a, old);
		audit_fields_insight(&now, &au->a, out);
		rc = audit_record(svc, au, action, "insight", id, &was, &now, err);
	}
	if (rc == OK)
		count(svc, &svc->counters.insights_updated, 1);
	return rc;
}

enum status svc_insight_update_if(struct service *svc, struct arena *a, int64_t id,
				  int64_t expected, const struct insight_input *in,
				  struct insight *out, struct error *err)
{
	if (insight_input_check(in, false, err))
		return err->status;
	struct audited au;
	struct insight old;
	enum status rc = OK;
	AUDITED (svc, au, rc, err) {
		if (rc == OK)
			rc = check_version(svc, QT_INSIGHTS, id, expected, true, err);
		if (rc == OK)
			rc = CALL(svc, insight_get, &au.a, id, &old, err);
		if (rc == OK)
			rc = update_audited(svc, &au, a, id, &old, "update", in, out, err);
		rc = wrote(svc, rc);
	}
	return rc;
}

enum status svc_insight_delete(struct service *svc, int64_t id, struct error *err)
{
	return svc_insight_delete_if(svc, id, 0, err);
}

enum status svc_insight_delete_if(struct service *svc, int64_t id, int64_t expected,
				  struct error *err)
{
	error_clear(err);
	struct audited au;
	struct insight old;
	char now[TS_SIZE];
	clock_timestamp(now);
	enum status rc = OK;
	AUDITED (svc, au, rc, err) {
		if (rc == OK)
			rc = check_version(svc, QT_INSIGHTS, id, expected, true, err);
		if (rc == OK)
			rc = CALL(svc, insight_get, &au.a, id, &old, err);
		/* Its last version is kept with the others, for a restore within the retention. */
		if (rc == OK)
			rc = revision_keep(svc, &au.a, &old, false, err);
		if (rc == OK)
			rc = CALL(svc, insight_delete, id, err);
		if (rc == OK)
			rc = CALL(svc, revision_retire, id, now, err);
		if (rc == OK) {
			struct audit_fields was;
			audit_fields_insight(&was, &au.a, &old);
			rc = audit_record(svc, &au, "delete", "insight", id, &was, NULL, err);
		}
		if (rc == OK)
			count(svc, &svc->counters.insights_deleted, 1);
		rc = wrote(svc, rc);
	}
	return rc;
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
	struct audited au;
	enum status rc = OK;
	AUDITED (svc, au, rc, err) {
		if (rc == OK)
			rc = CALL(svc, tag_create, a, in, out, err);
		if (rc == OK) {
			struct audit_fields now;
			audit_fields_tag(&now, out);
			rc = audit_record(svc, &au, "create", "tag", out->id, NULL, &now, err);
		}
		rc = wrote(svc, rc);
	}
	return rc;
}

enum status svc_tag_update(struct service *svc, struct arena *a, int64_t id,
			   const struct tag_input *in, struct tag *out, struct error *err)
{
	return svc_tag_update_if(svc, a, id, 0, in, out, err);
}

enum status svc_tag_update_if(struct service *svc, struct arena *a, int64_t id, int64_t expected,
			      const struct tag_input *in, struct tag *out, struct error *err)
{
	if (tag_input_check(in, false, err))
		return err->status;
	struct audited au;
	struct tag old;
	enum status rc = OK;
	AUDITED (svc, au, rc, err) {
		if (rc == OK)
			rc = check_version(svc, QT_TAGS, id, expected, false, err);
		if (rc == OK)
			rc = CALL(svc, tag_get, &au.a, id, &old, err);
		if (rc == OK)
			rc = CALL(svc, tag_update, a, id, in, out, err);
		if (rc == OK) {
			struct audit_fields was, now;
			audit_fields_tag(&was, &old);
			audit_fields_tag(&now, out);
			rc = audit_record(svc, &au, "update", "tag", id, &was, &now, err);
		}
		rc = wrote(svc, rc);
	}
	return rc;
}

enum status svc_tag_delete(struct service *svc, int64_t id, struct error *err)
{
	return svc_tag_delete_if(svc, id, 0, err);
}

enum status svc_tag_delete_if(struct service *svc, int64_t id, int64_t expected,
			      struct error *err)
{
	error_clear(err);
	struct audited au;
	struct tag old;
	enum status rc = OK;
	AUDITED (svc, au, rc, err) {
		if (rc == OK)
			rc = check_version(svc, QT_TAGS, id, expected, false, err);
		if (rc == OK)
			rc = CALL(svc, tag_get, &au.a, id, &old, err);
		if (rc == OK)
			rc = CALL(svc, tag_delete, id, err);
		if (rc == OK) {
			struct audit_fields was;
			audit_fields_tag(&was, &old);
			rc = audit_record(svc, &au, "delete", "tag", id, &was, NULL, err);
		}
		rc = wrote(svc, rc);
	}
	return rc;
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
	struct audited au;
	enum status rc = OK;
	AUDITED (svc, au, rc, err) {
		if (rc == OK)
			rc = CALL(svc, category_create, a, in, out, err);
		if (rc == OK) {
			struct audit_fields now;
			audit_fields_category(&now, out);
			rc = audit_record(svc, &au, "create", "category", out->id, NULL, &now, err);
		}
		rc = wrote(svc, rc);
	}
	return rc;
}

enum status svc_category_update(struct service *svc, struct arena *a, int64_t id,
				const struct category_input *in, struct category *out,
				struct error *err)
{
	return svc_category_update_if(svc, a, id, 0, in, out, err);
}

enum status svc_category_update_if(struct service *svc, struct arena *a, int64_t id,
				   int64_t expected, const struct category_input *in,
				   struct category *out, struct error *err)
{
	if (category_input_check(in, false, err) || reserved_name(in, err))
		return err->status;
	if (in->parent_id.set && in->parent_id.v == id)
		return problem_parent_cycle(err, id);
	struct audited au;
	struct category old;
	enum status rc = OK;
	AUDITED (svc, au, rc, err) {
		if (rc == OK)
			rc = check_version(svc, QT_CATEGORIES, id, expected, false, err);
		if (rc == OK)
			rc = CALL(svc, category_get, &au.a, id, &old, err);
		if (rc == OK)
			rc = CALL(svc, category_update, a, id, in, out, err);
		if (rc == OK) {
			struct audit_fields was, now;
			audit_fields_category(&was, &old);
			audit_fields_category(&now, out);
			rc = audit_record(svc, &au, "update", "category", id, &was, &now, err);
		}
		rc = wrote(svc, rc);
	}
	return rc;
}

enum status svc_category_delete(struct service *svc, int64_t id, struct error *err)
{
	return svc_category_delete_if(svc, id, 0, err);
}

enum status svc_category_delete_if(struct service *svc, int64_t id, int64_t expected,
				   struct error *err)
{
	error_clear(err);
	struct audited au;
	struct category old;
	enum status rc = OK;
	AUDITED (svc, au, rc, err) {
		if (rc == OK)
			rc = check_version(svc, QT_CATEGORIES, id, expected, false, err);
		if (rc == OK)
			rc = CALL(svc, category_get, &au.a, id, &old, err);
		if (rc == OK)
			rc = CALL(svc, category_delete, id, err);
		if (rc == OK) {
			struct audit_fields was;
			audit_fields_category(&was, &old);
			rc = audit_record(svc, &au, "delete", "category", id, &was, NULL, err);
		}
		rc = wrote(svc, rc);
	}
	return rc;
}

/* A timestamp `ago` seconds before clock_now(), in `a`. */
static const char *ago_ts(struct arena *a, int64_t ago)
{
	char *ts = arena_alloc(a, TS_SIZE);
	clock_format(clock_now() - (time_t)ago, ts);
	return ts;
}

enum status svc_statistics(struct service *svc, struct arena *a,
			   struct statistics *out, struct error *err)
{
	error_clear(err);
	enum status rc = CALL(svc, statistics, a, out, err);
	int64_t stale = 0;
	if (rc == OK)
		rc = CALL(svc, stale_count, ago_ts(a, svc->stale_after_s), &stale, err);
	if (rc == OK)
		out->stale_insights = stale;
	return rc;
}

/* ---- lifecycle ------------------------------------------------------------------ */

enum status svc_lifecycle(struct service *svc, struct arena *a, int64_t days,
			  struct lifecycle_figures *out, struct error *err)
{
	error_clear(err);
	assert(days >= 1 && days <= LIFECYCLE_DAYS_MAX);
	memset(out, 0, sizeof(*out));
	out->days = days;
	clock_format(clock_now() - (time_t)days * 86400, out->since);
	struct lifecycle_data data;
	enum status rc = CALL(svc, lifecycle, a, out->since, &data, err);
	if (rc == OK)
		lifecycle_compute(a, &data, out);
	return rc;
}

void svc_stale_filter(struct service *svc, struct arena *a, struct insight_filter *f)
{
	f->stale_before = ago_ts(a, svc->stale_after_s);
	char *today = arena_alloc(a, DATE_SIZE);
	memcpy(today, ago_ts(a, 0), DATE_SIZE - 1);
	today[DATE_SIZE - 1] = '\0';
	f->today = today;
}

enum status svc_insight_review(struct service *svc, struct arena *a, int64_t id,
			       int64_t expected, const struct opt_str *review_by,
			       struct insight *out, struct error *err)
{
	error_clear(err);
	struct insight_input in;
	memset(&in, 0, sizeof(in));
	in.review = true;
	if (review_by)
		in.review_by = *review_by;
	if (insight_input_check(&in, false, err))
		return err->status;
	char now[TS_SIZE];
	clock_timestamp(now);
	in.reviewed_at = now;
	struct audited au;
	struct insight old;
	enum status rc = OK;
	AUDITED (svc, au, rc, err) {
		if (rc == OK)
			rc = check_version(svc, QT_INSIGHTS, id, expected, true, err);
		if (rc == OK)
			rc = CALL(svc, insight_get, &au.a, id, &old, err);
		if (rc == OK)
			rc = update_audited(svc, &au, a, id, &old, "review", &in, out, err);
		rc = wrote(svc, rc);
	}
	return rc;
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

/* ---- API tokens and the audit trail ------------------------------------------ */

/* Seconds in "90d", "12h", "30m" or "3600s" (at most ten years); -1 otherwise. */
static int64_t duration_seconds(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0 || s[0] == '+' || s[0] == ' ')
		return -1;
	int64_t unit = 0;
	if (!strcmp(end, "d"))
		unit = 86400;
	else if (!strcmp(end, "h"))
		unit = 3600;
	else if (!strcmp(end, "m"))
		unit = 60;
	else if (!strcmp(end, "s"))
		unit = 1;
	if (!unit || v > 3650LL * 86400 / unit)
		return -1;
	return (int64_t)v * unit;
}

static void token_input_check(const struct token_input *in, enum role *role, int64_t *ttl,
			      struct error *err)
{
	size_t len = in->name ? strlen(in->name) : 0;
	if (!in->name) {
		error_invalid(err, "name", "missing", "Field required");
	} else if (len == 0 || len > TOKEN_NAME_MAX ||
		   strspn(in->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789._-") != len) {
		error_invalid(err, "name", "string_pattern_mismatch",
			      "A token's name is 1 to %d letters, digits, '.', '_' or '-'",
			      TOKEN_NAME_MAX);
	}
	if (!in->role)
		error_invalid(err, "role", "missing", "Field required");
	else if (role_parse(in->role, role))
		error_invalid(err, "role", "enum",
			      "Input should be 'reader', 'editor', 'admin' or 'metrics'");
	*ttl = 0;
	if (in->expires_in && (*ttl = duration_seconds(in->expires_in)) < 0)
		error_invalid(err, "expires_in", "value_error",
			      "A duration such as '90d', '12h', '30m' or '3600s' (at most 3650 days)");
}

enum status svc_token_create(struct service *svc, struct arena *a, const struct token_input *in,
			     char secret[TOKEN_SECRET_SIZE], struct token *out, struct error *err)
{
	enum role role = ROLE_NONE;
	int64_t ttl;
	secret[0] = '\0';
	token_input_check(in, &role, &ttl, err);
	if (err->status)
		return err->status;
	_Static_assert(AUTH_TOKEN_SIZE <= TOKEN_SECRET_SIZE, "a token fits its buffer");
	if (auth_token_new(secret, err))
		return err->status;
	char hash[AUTH_HASH_HEX];
	auth_hash_hex(secret, strlen(secret), hash);
	struct token row = { .name = in->name, .role = role, .hash = hash,
			     .last4 = secret + strlen(secret) - 4 };
	time_t now = time(NULL);
	clock_format(now, row.created_at);
	if (ttl)
		clock_format(now + (time_t)ttl, row.expires_at);
	struct audited au;
	enum status rc = OK;
	AUDITED (svc, au, rc, err) {
		if (rc == OK)
			rc = CALL(svc, token_create, a, &row, out, err);
		if (rc == OK) {
			struct audit_fields now_fields;
			audit_fields_token(&now_fields, out);
			rc = audit_record(svc, &au, "create", "token", out->id, NULL, &now_fields, err);
		}
		rc = wrote(svc, rc);
	}
	if (rc != OK)
		memset(secret, 0, TOKEN_SECRET_SIZE);
	return rc;
}

enum status svc_token_list(struct service *svc, struct arena *a, struct token **out, size_t *n,
			   struct error *err)
{
	error_clear(err);
	return CALL(svc, token_list, a, out, n, err);
}

enum status svc_token_revoke(struct service *svc, const char *name, struct error *err)
{
	error_clear(err);
	struct audited au;
	struct token old;
	enum status rc = OK;
	AUDITED (svc, au, rc, err) {
		if (rc == OK)
			rc = CALL(svc, token_delete, &au.a, name, &old, err);
		if (rc == OK) {
			struct audit_fields was;
			audit_fields_token(&was, &old);
			rc = audit_record(svc, &au, "delete", "token", old.id, &was, NULL, err);
		}
		rc = wrote(svc, rc);
	}
	return rc;
}

enum status svc_token_check(struct service *svc, struct arena *a, const char *secret,
			    const char *now, struct token *out, struct error *err)
{
	error_clear(err);
	memset(out, 0, sizeof(*out));
	/* A typo or a random string never reaches the database. */
	if (!auth_token_well_formed(secret))
		return error_set(err, E_NOTFOUND, "Token not found");
	char hash[AUTH_HASH_HEX];
	auth_hash_hex(secret, strlen(secret), hash);
	enum status rc = CALL(svc, token_find, a, hash, out, err);
	if (rc)
		return rc;
	/* The index found it by hash; compare again in constant time all the same. */
	if (strlen(out->hash) != strlen(hash) || !auth_equal(out->hash, hash, strlen(hash)) ||
	    out->role == ROLE_NONE || (out->expires_at[0] && strcmp(out->expires_at, now) <= 0)) {
		memset(out, 0, sizeof(*out));
		return error_set(err, E_NOTFOUND, "Token not found");
	}
	return OK;
}

enum status svc_token_touch(struct service *svc, const int64_t *ids, size_t n, const char *at,
			    struct error *err)
{
	error_clear(err);
	return CALL(svc, token_touch, ids, n, at, err);
}

enum status svc_audit_find(struct service *svc, struct arena *a, const struct audit_filter *f,
			   struct audit_page *out, struct error *err)
{
	error_clear(err);
	assert(f->page >= 1 && f->page_size >= 1 && f->page_size <= PAGE_SIZE_MAX);
	return CALL(svc, audit_find, a, f, out, err);
}

enum status svc_audit_prune(struct service *svc, const char *before, int64_t *deleted,
			    struct error *err)
{
	error_clear(err);
	return CALL(svc, audit_prune, before, deleted, err);
}

/* ---- revisions and versions ----------------------------------------------------- */

enum status svc_version(struct service *svc, enum q_table table, int64_t id, int64_t *version,
			struct error *err)
{
	error_clear(err);
	return CALL(svc, row_version, table, id, false, version, err);
}

/*
 * An insight never changed since revisions were kept (or since a bulk load)
 * has no kept revision: its one revision is the insight as it is.
 */
static enum status only_revision(struct service *svc, struct arena *a, int64_t id,
				 struct insight_revision *out, struct error *err)
{
	struct insight now;
	enum status rc = CALL(svc, insight_get, a, id, &now, err);
	if (rc == OK)
		revision_of(out, a, &now, NULL);
	return rc;
}

enum status svc_revision_list(struct service *svc, struct arena *a, int64_t id, int64_t page,
			      int64_t page_size, struct revision_page *out, struct error *err)
{
	error_clear(err);
	assert(page >= 1 && page_size >= 1 && page_size <= PAGE_SIZE_MAX);
	enum status rc = CALL(svc, revision_find, a, id, page, page_size, out, err);
	if (rc || out->total)
		return rc;
	struct insight_revision only;
	rc = only_revision(svc, a, id, &only, err);
	if (rc)
		return rc;
	out->total = 1;
	if (page == 1) {
		out->items = ARENA_NEW(a, struct insight_revision);
		out->items[0] = only;
		out->n = 1;
	}
	return OK;
}

enum status svc_revision_get(struct service *svc, struct arena *a, int64_t id, int64_t n,
			     struct insight_revision *out, struct error *err)
{
	error_clear(err);
	assert(n >= 1);
	enum status rc = CALL(svc, revision_get, a, id, n, out, err);
	if (rc != E_NOTFOUND)
		return rc;
	/* Not kept: the insight's own revision when it has never been changed. */
	struct error quiet = ERROR_INIT;
	struct insight_revision only;
	if (only_revision(svc, a, id, &only, &quiet) == OK && only.v.revision == n) {
		error_clear(err);
		*out = only;
		return OK;
	}
	if (quiet.status != OK && quiet.status != E_NOTFOUND)
		return error_set(err, quiet.status, "%s", quiet.detail);
	return err->status;
}

/* The input that makes an insight what revision `r` was: every field, its tags. */
static void input_of(struct insight_input *in, const struct insight_revision *r)
{
	memset(in, 0, sizeof(*in));
	const struct insight *v = &r->v;
	in->title = (struct opt_str){ true, v->title };
	in->description = (struct opt_str){ true, v->description };
	in->content = (struct opt_str){ true, v->content };
	in->source = (struct opt_str){ true, v->source };
	in->author = (struct opt_str){ true, v->author };
	in->category_id = (struct opt_id){ true, v->category_id };
	in->priority_set = in->status_set = in->tag_ids_set = true;
	in->priority = v->priority;
	in->status = v->status;
	in->tag_ids = r->tag_ids;
	in->ntag_ids = r->ntag_ids;
	in->published_at = v->published_at;
	in->review_by = (struct opt_str){ true, v->review_by[0] ? v->review_by : NULL };
	in->owner = (struct opt_str){ true, v->owner };
}

/*
 * What a restore refers to and is gone (the store's problems about a missing
 * category or tag) becomes a conflict that says why, e.g. "Cannot restore
 * revision 3: tag 5 does not exist".
 */
static enum status gone_refs(struct error *err, const char *what)
{
	if (err->status != E_INVALID || !err->nproblems)
		return err->status;
	char why[200] = "";
	size_t len = 0;
	for (size_t i = 0; i < err->nproblems && len < sizeof(why) - 1; i++) {
		const char *msg = err->problems[i].msg;
		if (!strncmp(msg, "Value error, ", 13))
			msg += 13;
		int w = snprintf(why + len, sizeof(why) - len, "%s%s", i ? "; " : "", msg);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	error_clear(err);
	return error_set(err, E_CONFLICT, "Cannot restore %s: %s", what, why);
}

enum status svc_revision_restore(struct service *svc, struct arena *a, int64_t id, int64_t n,
				 int64_t expected, struct insight *out, struct error *err)
{
	error_clear(err);
	struct audited au;
	struct insight old;
	struct insight_revision r;
	struct insight_input in;
	enum status rc = OK;
	AUDITED (svc, au, rc, err) {
		if (rc == OK)
			rc = check_version(svc, QT_INSIGHTS, id, expected, true, err);
		if (rc == OK)
			rc = CALL(svc, insight_get, &au.a, id, &old, err);
		if (rc == OK)
			rc = svc_revision_get(svc, &au.a, id, n, &r, err);
		if (rc == OK) {
			input_of(&in, &r);
			rc = update_audited(svc, &au, a, id, &old, "restore", &in, out, err);
			if (rc == E_INVALID) {
				char what[48];
				snprintf(what, sizeof(what), "revision %lld", (long long)n);
				rc = gone_refs(err, what);
			}
		}
		rc = wrote(svc, rc);
	}
	return rc;
}

enum status svc_insight_restore(struct service *svc, struct arena *a, int64_t id,
				struct insight *out, struct error *err)
{
	error_clear(err);
	struct audited au;
	struct insight_revision r;
	struct insight_input in;
	int64_t exists;
	enum status rc = OK;
	AUDITED (svc, au, rc, err) {
		if (rc == OK) {
			rc = CALL(svc, row_version, QT_INSIGHTS, id, false, &exists, err);
			if (rc == OK)
				rc = error_set(err, E_CONFLICT, "Insight %lld is not deleted", (long long)id);
			else if (rc == E_NOTFOUND) {
				error_clear(err);
				rc = OK;
			}
		}
		if (rc == OK) {
			rc = CALL(svc, revision_get, &au.a, id, 0, &r, err);
			if (rc == OK && !r.deleted_at[0])
				rc = error_set(err, E_NOTFOUND, "Revision not found");
			if (rc == E_NOTFOUND) {
				error_clear(err);
				rc = error_set(err, E_NOTFOUND, "No deleted insight %lld is kept",
					       (long long)id);
			}
		}
		if (rc == OK) {
			/* Back under its id, at a new revision, created when it was. */
			input_of(&in, &r);
			in.id = id;
			in.revision = r.v.revision + 1;
			in.created_at = r.v.created_at;
			rc = CALL(svc, insight_create, a, &in, out, err);
			if (rc == E_INVALID)
				rc = gone_refs(err, "the insight");
		}
		if (rc == OK)
			rc = CALL(svc, revision_retire, id, NULL, err);
		if (rc == OK)
			rc = revision_keep(svc, &au.a, out, true, err);
		if (rc == OK)
			rc = transition_record(svc, id, -1, out->status, out->updated_at, err);
		if (rc == OK) {
			struct audit_fields now;
			audit_fields_insight(&now, &au.a, out);
			rc = audit_record(svc, &au, "restore", "insight", id, NULL, &now, err);
		}
		if (rc == OK)
			count(svc, &svc->counters.insights_created, 1);
		rc = wrote(svc, rc);
	}
	return rc;
}

enum status svc_revision_prune(struct service *svc, const char *before, int64_t *deleted,
			       struct error *err)
{
	error_clear(err);
	enum status rc = CALL(svc, revision_prune, before, deleted, err);
	return rc;
}

/* ---- idempotent requests ------------------------------------------------------ */

/* How many times a claim races another request for the same key before giving up (409). */
#define IDEM_CLAIM_ATTEMPTS 3

/* Whether `row` still counts at `now` (see svc_idem_claim). */
static bool idem_live(const struct service *svc, const struct idem_row *row, int64_t now)
{
	int64_t life = row->status ? svc->idem_ttl_s : svc->idem_claim_s;
	return row->created_at > now - life;
}

enum status svc_idem_claim(struct service *svc, struct arena *a, const struct idem_request *rq,
			   struct idem_claim *out, struct error *err)
{
	error_clear(err);
	memset(out, 0, sizeof(*out));
	assert(rq->key && *rq->key && strlen(rq->key) <= IDEM_KEY_MAX);
	unsigned char rnd[(IDEM_TOKEN_SIZE - 1) / 2];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return error_set(err, E_INTERNAL, "no random bytes for an idempotency claim");
	for (size_t i = 0; i < sizeof(rnd); i++) {
		out->token[2 * i] = "0123456789abcdef"[rnd[i] >> 4];
		out->token[2 * i + 1] = "0123456789abcdef"[rnd[i] & 15];
	}
	char *fingerprint = arena_alloc(a, AUTH_HASH_HEX);
	auth_hash_hex(rq->rest, rq->rest_len, fingerprint);
	const struct actor *who = actor_current();
	for (int attempt = 0; attempt < IDEM_CLAIM_ATTEMPTS; attempt++) {
		int64_t now = (int64_t)time(NULL);
		struct idem_row cur;
		const char *replaces = NULL;
		enum status rc = CALL(svc, idem_get, a, who->name, rq->key, &cur, err);
		if (rc == E_NOTFOUND) {
			error_clear(err);
		} else if (rc) {
			return rc;
		} else if (!idem_live(svc, &cur, now)) {
			replaces = cur.token;
		} else if (strcmp(cur.target, rq->target) || strcmp(cur.fingerprint, fingerprint)) {
			out->outcome = IDEM_MISMATCH;
			out->first_target = cur.target;
			out->same_target = !strcmp(cur.target, rq->target);
			return OK;
		} else {
			out->outcome = cur.status ? IDEM_REPLAY : IDEM_BUSY;
			out->row = cur;
			return OK;
		}
		out->row = (struct idem_row){ .actor = arena_strdup(a, who->name), .key = rq->key,
					      .target = rq->target, .fingerprint = fingerprint,
					      .token = out->token, .created_at = now };
		rc = CALL(svc, idem_put, &out->row, replaces, err);
		if (rc == OK) {
			out->outcome = IDEM_PROCEED;
			return OK;
		}
		if (rc != E_CONFLICT)
			return rc;
		/* Another request claimed it first: look again. */
		error_clear(err);
	}
	out->outcome = IDEM_BUSY;
	return OK;
}

enum status svc_idem_finish(struct service *svc, struct idem_claim *c, int status,
			    const char *body, size_t len, struct error *err)
{
	error_clear(err);
	assert(c->outcome == IDEM_PROCEED && batch.svc == svc);
	c->row.status = status;
	c->row.body = body;
	c->row.body_len = len;
	enum status rc = CALL(svc, idem_finish, &c->row, err);
	if (rc == E_CONFLICT)
		return error_set(err, E_CONFLICT, "This request took too long: another request with "
				 "its Idempotency-Key took over; nothing was written");
	return rc;
}

enum status svc_idem_release(struct service *svc, const struct idem_claim *c, struct error *err)
{
	error_clear(err);
	assert(c->outcome == IDEM_PROCEED);
	return CALL(svc, idem_release, c->row.actor, c->row.key, c->row.token, err);
}

enum status svc_idem_prune(struct service *svc, int64_t *deleted, struct error *err)
{
	error_clear(err);
	int64_t life = svc->idem_ttl_s > svc->idem_claim_s ? svc->idem_ttl_s : svc->idem_claim_s;
	return CALL(svc, idem_prune, (int64_t)time(NULL) - life, deleted, err);
}

/* ---- duplicate warnings ------------------------------------------------------------- */

/* Candidates read for every draft: the best SIMILAR_MAX of them are answered. */
#define SIMILAR_CANDIDATES 20

static enum status similar_run(struct service *svc, struct arena *a,
			       const struct insight_input *in, struct similar_match **out,
			       size_t *n, struct error *err)
{
	*out = NULL;
	*n = 0;
	struct similar_text t = {
		.title = in->title.v,
		.description = in->description.set ? in->description.v : NULL,
		.content = in->content.set ? in->content.v : NULL,
		.source = in->source.set ? in->source.v : NULL,
	};
	const char **words;
	struct store_similar q = { .limit = SIMILAR_CANDIDATES };
	q.nwords = similar_words(a, &t, &words);
	q.words = words;
	q.df = arena_alloc(a, (q.nwords ? q.nwords : 1) * sizeof(*q.df));
	if (search_slot_take(svc, err))
		return err->status;
	enum status rc = CALL(svc, insight_similar, a, &q, err);
	sem_post(&svc->search_slots);
	if (rc)
		return rc;
	struct similar_stats st = { words, q.df, q.nwords, q.total };
	*out = arena_alloc(a, SIMILAR_MAX * sizeof(**out));
	*n = similar_rank(a, &t, &st, q.items, q.n, *out, SIMILAR_MAX);
	return OK;
}

enum status svc_insight_similar(struct service *svc, struct arena *a,
				const struct insight_input *in, struct similar_match **out,
				size_t *n, struct error *err)
{
	*out = NULL;
	*n = 0;
	if (!in->title.set)
		error_invalid(err, "title", "missing", "Field required");
	if (insight_input_check(in, false, err))
		return err->status;
	return similar_run(svc, a, in, out, n, err);
}

enum status svc_insight_duplicates(struct service *svc, struct arena *a,
				   const struct insight_input *in, struct similar_match **out,
				   size_t *n, struct error *err)
{
	*out = NULL;
	*n = 0;
	if (insight_input_check(in, true, err))
		return err->status;
	struct similar_match *m;
	size_t k;
	if (similar_run(svc, a, in, &m, &k, err))
		return err->status;
	size_t above = 0;
	while (above < k && m[above].score >= svc->duplicate_threshold)
		above++;
	if (!above)
		return OK;
	*out = m;
	*n = above;
	return error_set(err, E_CONFLICT, "Possible duplicates");
}

/* ---- your data, in and out (core/transfer.c, issue 15) ------------------------------ */

enum status svc_import_tag(struct service *svc, struct arena *a, int64_t id,
			   const struct tag_input *in, struct tag *out, struct error *err)
{
	if (tag_input_check(in, id == 0, err))
		return err->status;
	enum status rc = id ? CALL(svc, tag_update, a, id, in, out, err)
			    : CALL(svc, tag_create, a, in, out, err);
	return wrote(svc, rc);
}

enum status svc_import_category(struct service *svc, struct arena *a, int64_t id,
				const struct category_input *in, struct category *out,
				struct error *err)
{
	if (category_input_check(in, id == 0, err) || reserved_name(in, err))
		return err->status;
	enum status rc = id ? CALL(svc, category_update, a, id, in, out, err)
			    : CALL(svc, category_create, a, in, out, err);
	return wrote(svc, rc);
}

/*
 * The status history an imported insight brings, by the rule migration 8
 * backfilled existing insights with (the export carries no transitions):
 * created at created_at (published then when published_at is that time,
 * else a draft), published at published_at, archived at updated_at. The
 * actor is unknown (NULL): lifecycle figures fall back to the author.
 */
static enum status import_history(struct service *svc, const struct insight *in,
				  struct error *err)
{
	bool born_published = in->published_at[0] && !strcmp(in->published_at, in->created_at);
	struct transition t = { .insight_id = in->id, .from = -1,
				.to = born_published ? LIFECYCLE_PUBLISHED : LIFECYCLE_DRAFT,
				.at = in->created_at };
	enum status rc = CALL(svc, transition_add, &t, err);
	if (rc == OK && in->published_at[0] && !born_published) {
		t = (struct transition){ .insight_id = in->id, .from = LIFECYCLE_DRAFT,
					 .to = LIFECYCLE_PUBLISHED, .at = in->published_at };
		rc = CALL(svc, transition_add, &t, err);
	}
	if (rc == OK && in->status == LIFECYCLE_ARCHIVED) {
		t = (struct transition){ .insight_id = in->id, .from = (int)t.to,
					 .to = LIFECYCLE_ARCHIVED, .at = in->updated_at };
		rc = CALL(svc, transition_add, &t, err);
	}
	return rc;
}

enum status svc_import_insight(struct service *svc, struct arena *a, int64_t id,
			       const struct insight_input *in, struct insight *out,
			       struct error *err)
{
	if (insight_input_check(in, id == 0, err))
		return err->status;
	enum status rc = id ? CALL(svc, insight_update, a, id, in, out, err)
			    : CALL(svc, insight_create, a, in, out, err);
	if (rc == OK && !id)
		rc = import_history(svc, out, err);
	if (rc == OK)
		count(svc, id ? &svc->counters.insights_updated : &svc->counters.insights_created, 1);
	return wrote(svc, rc);
}

enum status svc_import_audit(struct service *svc, const char *changes, struct error *err)
{
	const struct actor *who = actor_current();
	struct audit_entry e = {
		.actor = who->name,
		.role = role_name(who->role),
		.action = "import",
		.resource = "database",
		.request_id = who->request_id,
		.changes = changes,
	};
	clock_timestamp(e.time);
	return store_audit_append(svc->store, &e, err);
}

enum status svc_check(struct service *svc, struct arena *a, struct store_check *out,
		      struct error *err)
{
	error_clear(err);
	return CALL(svc, check, a, out, err);
}

bool svc_can_backup(struct service *svc)
{
	return store_can_backup(svc->store);
}

enum status svc_backup(struct service *svc, const char *path, store_progress_fn progress,
		       void *arg, struct error *err)
{
	error_clear(err);
	return CALL(svc, backup, path, progress, arg, err);
}
