/*
 * driver.c: the SQLite driver's operations table (store.h), and the
 * operations that concern the handle as a whole: open, close, ping, gauges.
 * sqlite.h maps the driver's files.
 */
#include "store/sqlite/sqlite.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/log.h"

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

/*
 * One process serves an SQLite file: its response cache learns of the
 * writes it makes, not of another process's, which a second server would
 * make. The lock is flock()'s, on the database file, which SQLite's own
 * (fcntl) locks ignore; it goes when the process does, however it ends.
 * Other commands (migrate, recount-tags, seed) take no lock.
 */
static enum status sq_lock_serving(struct sq_store *s, struct error *err)
{
	s->serve_lock = open(s->path, O_RDONLY | O_CLOEXEC);
	if (s->serve_lock < 0) {
		log_error("sqlite: cannot open the database file to lock it: %s", strerror(errno));
		return error_set(err, E_UNAVAILABLE, "The database is unavailable");
	}
	if (flock(s->serve_lock, LOCK_EX | LOCK_NB) == 0)
		return OK;
	int e = errno;
	close(s->serve_lock);
	s->serve_lock = -1;
	if (e == EWOULDBLOCK)
		return error_set(err, E_UNAVAILABLE,
				 "another insights server already serves this SQLite file: run one "
				 "server per file (several servers share a PostgreSQL database)");
	log_error("sqlite: cannot lock the database file: %s", strerror(e));
	return error_set(err, E_UNAVAILABLE, "The database is unavailable");
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
	s->serve_lock = -1;
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_mutex_init(&s->write_lock, NULL);
	pthread_cond_init(&s->committed, NULL);
	/* Open one connection now, so a bad path fails at start-up. */
	struct sq_conn *c;
	enum status rc = sq_conn_take(s, &c, err);
	if (rc == OK && cfg->serving) {
		rc = sq_lock_serving(s, err);
		if (rc) {
			sq_conn_free(c);
			c = NULL;
		}
	}
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
	if (s->serve_lock >= 0)
		close(s->serve_lock);
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
	.insight_related = sq_insight_related,
	.insight_similar = sq_insight_similar,
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
	.check = sq_check,
	.backup = sq_backup,
	.select = sq_select,
	.aggregate = sq_aggregate,
	.batch_begin = sq_batch_begin,
	.token_create = sq_token_create,
	.token_list = sq_token_list,
	.token_find = sq_token_find,
	.token_delete = sq_token_delete,
	.token_touch = sq_token_touch,
	.audit_append = sq_audit_append,
	.audit_find = sq_audit_find,
	.audit_prune = sq_audit_prune,
	.row_version = sq_row_version,
	.revision_add = sq_revision_add,
	.revision_find = sq_revision_find,
	.revision_get = sq_revision_get,
	.revision_retire = sq_revision_retire,
	.revision_prune = sq_revision_prune,
	.idem_get = sq_idem_get,
	.idem_put = sq_idem_put,
	.idem_finish = sq_idem_finish,
	.idem_release = sq_idem_release,
	.idem_prune = sq_idem_prune,
	.transition_add = sq_transition_add,
	.lifecycle = sq_lifecycle,
	.stale_count = sq_stale_count,
	.batch_end = sq_batch_end,
	.watch = NULL,
};
