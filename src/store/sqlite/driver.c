/*
 * driver.c: the SQLite driver's operations table (store.h), and the
 * operations that concern the handle as a whole: open, close, ping, gauges.
 * sqlite.h maps the driver's files.
 */
#include "store/sqlite/sqlite.h"

#include <assert.h>
#include <stdlib.h>

#include "lib/xalloc.h"
#include "lib/banned.h"

/*
 * Process-wide settings, made before SQLite initializes. Memory statistics
 * (which nothing reads) would take a global mutex on every allocation.
 */
static void sq_configure(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static enum status sq_open(const struct dburl *url, const struct store_config *cfg,
			   struct store **out, struct error *err)
{
	*out = NULL;
	if (!sqlite3_threadsafe())
		return error_set(err, E_INTERNAL, "SQLite was built without thread support");
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sq_configure);
	struct sq_store *s = xcalloc(1, sizeof(*s));
	s->base.drv = &store_sqlite_driver;
	s->path = xstrdup(url->path);
	s->cfg = *cfg;
	s->cfg.read_url = NULL; /* borrowed for this call only */
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_mutex_init(&s->write_lock, NULL);
	pthread_cond_init(&s->committed, NULL);
	/* Open one connection now, so a bad path fails at start-up. */
	struct sq_conn *c;
	enum status rc = sq_conn_take(s, &c, err);
	if (rc) {
		pthread_mutex_destroy(&s->pool_lock);
		pthread_mutex_destroy(&s->write_lock);
		pthread_cond_destroy(&s->committed);
		free(s->path);
		free(s);
		return rc;
	}
	sq_conn_give(s, c);
	sq_checkpointer_start(s);
	*out = &s->base;
	return OK;
}

static void sq_close(struct store *st)
{
	struct sq_store *s = sq_of(st);
	sq_checkpointer_stop(s);
	struct sq_conn *c = s->idle;
	while (c) {
		struct sq_conn *next = c->next;
		sq_conn_free(c);
		c = next;
	}
	assert(!s->writer);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_mutex_destroy(&s->write_lock);
	pthread_cond_destroy(&s->committed);
	buf_release(&s->fts_pending);
	free(s->path);
	free(s);
}

static enum status sq_ping(struct store *st, struct error *err)
{
	struct sq_store *s = sq_of(st);
	struct sq_conn *c;
	enum status rc = sq_conn_take(s, &c, err);
	if (rc)
		return rc;
	rc = sq_run_fixed(c, S_PING, err);
	sq_conn_give(s, c);
	return rc;
}

static enum status sq_gauges(struct store *st, struct store_gauges *out, struct error *err)
{
	struct sq_store *ss = sq_of(st);
	struct sq_conn *c;
	enum status rc = sq_conn_take(ss, &c, err);
	if (rc)
		return rc;
	sqlite3_stmt *s = sq_stmt(c, S_GAUGES, err);
	if (!s) {
		sq_conn_give(ss, c);
		return err->status;
	}
	int src = sq_step(s);
	if (src == SQLITE_ROW) {
		out->insights = sqlite3_column_int64(s, 0);
		out->tags = sqlite3_column_int64(s, 1);
		out->categories = sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	if (src != SQLITE_ROW)
		rc = sq_fail(c, src, err);
	sq_conn_give(ss, c);
	pthread_mutex_lock(&ss->pool_lock);
	out->pool_idle = ss->nidle;
	out->pool_in_use = (int64_t)ss->nconns - ss->nidle;
	pthread_mutex_unlock(&ss->pool_lock);
	return rc;
}

const struct store_driver store_sqlite_driver = {
	.version = STORE_DRIVER_VERSION,
	.name = "sqlite",
	.flags = 0,
	.open = sq_open,
	.close = sq_close,
	.migrate = sq_migrate,
	.ping = sq_ping,
	.insight_get = sq_insight_get,
	.insight_find = sq_insight_find,
	.insight_create = sq_insight_create,
	.insight_create_many = sq_insight_create_many,
	.insight_update = sq_insight_update,
	.insight_delete = sq_insight_delete,
	.insight_tags = sq_insight_tags,
	.tag_get = sq_tag_get,
	.tag_list = sq_tag_list,
	.tag_create = sq_tag_create,
	.tag_update = sq_tag_update,
	.tag_delete = sq_tag_delete,
	.category_get = sq_category_get,
	.category_list = sq_category_list,
	.categories_by_ids = sq_categories_by_ids,
	.category_create = sq_category_create,
	.category_update = sq_category_update,
	.category_delete = sq_category_delete,
	.statistics = sq_statistics,
	.trends = sq_trends,
	.top_authors = sq_top_authors,
	.optimize = sq_optimize,
	.gauges = sq_gauges,
	.recount_tags = sq_recount_tags,
	.watch = NULL,
};
