/*
 * driver.c: the PostgreSQL driver's operations table (store.h), and the
 * operations that concern the handle as a whole: open, close, ping, gauges.
 * pg.h maps the driver's files.
 */
#include "store/pg/pg.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "conf/dburl.h"
#include "lib/xalloc.h"
#include "lib/banned.h"

struct pg_store *pg_of(struct store *st)
{
	assert(st->drv == &store_pg_driver);
	return (struct pg_store *)st;
}

static enum status pg_open(const struct dburl *url, const struct store_config *cfg,
			   struct store **out, struct error *err)
{
	if (!PQisthreadsafe())
		return error_set(err, E_INTERNAL, "libpq was built without thread support");
	unsigned primary_ct, replica_ct = 0;
	if (pg_check_conninfo(url, &primary_ct, err))
		return err->status;
	struct dburl ru = { 0 };
	if (cfg->read_url) {
		char why[256];
		if (dburl_parse(cfg->read_url, &ru, why, sizeof(why)))
			return error_set(err, E_INVALID, "read replica: %s", why);
		enum status rc = ru.kind == DB_POSTGRESQL
			? pg_check_conninfo(&ru, &replica_ct, err)
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
	pg_pool_init(&s->primary, "primary", url, primary_ct, &s->cfg);
	if (cfg->read_url) {
		s->replica = xmalloc(sizeof(*s->replica));
		pg_pool_init(s->replica, "replica", &ru, replica_ct, &s->cfg);
		dburl_release(&ru);
	}
	*out = &s->base;
	return OK;
}

static void pg_close(struct store *st)
{
	struct pg_store *s = pg_of(st);
	pg_watch_stop(s);
	pg_pool_release(&s->primary);
	if (s->replica) {
		pg_pool_release(s->replica);
		free(s->replica);
	}
	free(s);
}

static enum status pg_body_ping(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	(void)op;
	return pg_q_fixed(c, P_PING, NULL, NULL, err);
}

static enum status pg_ping(struct store *st, struct error *err)
{
	struct pg_op op = { 0 };
	return pg_run(pg_of(st), PG_RUN_PRIMARY, pg_body_ping, &op, err);
}

static enum status pg_body_gauges(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct store_gauges *out = op->out;
	PGresult *r;
	enum status rc = pg_q_fixed(c, P_GAUGES, NULL, &r, err);
	if (rc)
		return rc;
	out->insights = pg_col_int(r, 0, 0);
	out->tags = pg_col_int(r, 0, 1);
	out->categories = pg_col_int(r, 0, 2);
	PQclear(r);
	return OK;
}

static void pg_count_pool(struct pg_pool *pool, struct store_gauges *out)
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
	struct pg_op op = { .out = out };
	enum status rc = pg_run(s, PG_RUN_PRIMARY, pg_body_gauges, &op, err);
	pg_count_pool(&s->primary, out);
	if (s->replica)
		pg_count_pool(s->replica, out);
	return rc;
}

const struct store_driver store_pg_driver = {
	.version = STORE_DRIVER_VERSION,
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
	.insight_tags = pg_insight_tags,
	.insight_related = pg_insight_related,
	.insight_similar = pg_insight_similar,
	.tag_get = pg_tag_get,
	.tag_list = pg_tag_list,
	.tag_create = pg_tag_create,
	.tag_update = pg_tag_update,
	.tag_delete = pg_tag_delete,
	.category_get = pg_category_get,
	.category_list = pg_category_list,
	.categories_by_ids = pg_categories_by_ids,
	.category_create = pg_category_create,
	.category_update = pg_category_update,
	.category_delete = pg_category_delete,
	.statistics = pg_statistics,
	.trends = pg_trends,
	.top_authors = pg_top_authors,
	.gauges = pg_gauges,
	.recount_tags = pg_recount_tags,
	.optimize = pg_optimize,
	.check = pg_check,
	.select = pg_select,
	.aggregate = pg_aggregate,
	.token_create = pg_token_create,
	.token_list = pg_token_list,
	.token_find = pg_token_find,
	.token_delete = pg_token_delete,
	.token_touch = pg_token_touch,
	.audit_append = pg_audit_append,
	.audit_find = pg_audit_find,
	.audit_prune = pg_audit_prune,
	.row_version = pg_row_version,
	.revision_add = pg_revision_add,
	.revision_find = pg_revision_find,
	.revision_get = pg_revision_get,
	.revision_retire = pg_revision_retire,
	.revision_prune = pg_revision_prune,
	.idem_get = pg_idem_get,
	.idem_put = pg_idem_put,
	.idem_finish = pg_idem_finish,
	.idem_release = pg_idem_release,
	.idem_prune = pg_idem_prune,
	.transition_add = pg_transition_add,
	.lifecycle = pg_lifecycle,
	.stale_count = pg_stale_count,
	.batch_begin = pg_batch_begin,
	.batch_end = pg_batch_end,
};
