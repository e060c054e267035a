/*
 * migrate.c: the SQLite driver's schema migrations. Each file of
 * migrations/ (embedded at build time as the table sqlite_migrations, in
 * version order) is applied once, in its own transaction, and recorded in
 * schema_migrations. Never edit a released migration: add a new one.
 */
#include "store/sqlite/sqlite.h"

#include <stdio.h>

#include "lib/asset.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/banned.h"

extern const struct asset sqlite_migrations[];
extern const size_t sqlite_migrations_count;

/* Applies migration `m` (version `version`) unless recorded; *done says whether it was. */
static int sq_migrate_one(struct sq_conn *c, const struct asset *m, int version,
			  const char *name, bool *done)
{
	sqlite3_stmt *q = NULL;
	int src = sqlite3_prepare_v2(c->db, "SELECT 1 FROM schema_migrations WHERE version = ?1",
				     -1, &q, NULL);
	if (src == SQLITE_OK) {
		sqlite3_bind_int(q, 1, version);
		int step = sq_step(q);
		*done = step == SQLITE_ROW;
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			src = step;
	}
	sqlite3_finalize(q);
	if (src != SQLITE_OK || *done)
		return src;
	/* The embedded file ends with a NUL: it is a C string. */
	src = sq_exec(c, (const char *)m->data);
	if (src != SQLITE_OK)
		return src;
	char ts[TS_SIZE];
	clock_timestamp(ts);
	src = sqlite3_prepare_v2(c->db, "INSERT INTO schema_migrations (version, name, applied_at)"
				 " VALUES (?1, ?2, ?3)", -1, &q, NULL);
	if (src == SQLITE_OK) {
		sqlite3_bind_int(q, 1, version);
		sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, ts, -1, SQLITE_TRANSIENT);
		src = sq_step(q) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(c->db);
	}
	sqlite3_finalize(q);
	return src;
}

enum status sq_migrate(struct store *st, int *applied, struct error *err)
{
	struct sq_store *s = sq_of(st);
	*applied = 0;
	struct sq_conn *c;
	enum status rc = sq_conn_take(s, &c, err);
	if (rc)
		return rc;
	c->deadline_ns = 0; /* a migration may take as long as it takes */
	int src = sq_exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			     " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
			     " applied_at TIMESTAMP NOT NULL)");
	for (size_t i = 0; src == SQLITE_OK && rc == OK && i < sqlite_migrations_count; i++) {
		const struct asset *m = &sqlite_migrations[i];
		int version;
		char name[96];
		if (!store_migration_name(m->path, &version, name, sizeof(name))) {
			rc = error_set(err, E_INTERNAL, "a migration is misnamed: %s", m->path);
			break;
		}
		bool done = false;
		pthread_mutex_lock(&s->write_lock);
		src = sq_exec(c, "BEGIN IMMEDIATE");
		if (src == SQLITE_OK)
			src = sq_migrate_one(c, m, version, name, &done);
		if (src == SQLITE_OK)
			src = sq_exec(c, "COMMIT");
		if (src != SQLITE_OK) {
			rc = sq_fail(c, src, err);
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		} else if (!done) {
			(*applied)++;
			log_info("applied migration %d (%s)", version, name);
		}
		pthread_mutex_unlock(&s->write_lock);
	}
	if (src != SQLITE_OK && rc == OK)
		rc = sq_fail(c, src, err);
	sq_conn_give(s, c);
	return rc;
}
