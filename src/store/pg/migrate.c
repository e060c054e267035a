/*
 * migrate.c: the PostgreSQL driver's schema migrations: the files of
 * migrations/ (embedded at build time as the table pg_migrations, in
 * version order), the same version numbers and names as the SQLite
 * driver's, in PostgreSQL's dialect. Each is applied once, in its own
 * transaction, and recorded in schema_migrations. Never edit a released
 * migration: add a new one.
 */
#include "store/pg/pg.h"

#include <string.h>

#include "lib/asset.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/banned.h"

extern const struct asset pg_migrations[];
extern const size_t pg_migrations_count;

/* Applies one migration unless it is recorded; *done says whether it was. */
static enum status pg_migrate_one(struct pg_conn *c, const struct asset *m, int version,
				  const char *name, bool *done, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_int(&p, version);
	PGresult *r;
	enum status rc = pg_q_built(c, "SELECT 1 FROM schema_migrations WHERE version = $1", &p, &r, err);
	if (rc)
		return rc;
	*done = PQntuples(r) > 0;
	PQclear(r);
	if (*done)
		return OK;
	/*
	 * The simple protocol: a migration is several statements. The embedded
	 * file ends with a NUL: it is a C string.
	 */
	rc = pg_finish(c, PQsendQuery(c->db, (const char *)m->data), NULL, err);
	if (rc)
		return rc;
	char ts[TS_SIZE];
	clock_timestamp(ts);
	pg_p_text(&p, name);
	pg_p_text(&p, ts);
	return pg_q_built(c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
		       &p, NULL, err);
}

/*
 * Holds a session advisory lock for the whole run, so that instances
 * starting together apply each migration once: the others wait, then find
 * it recorded. The lock and the migration connection are not the pool's;
 * neither has a time limit (a migration takes as long as it takes).
 */
/*
 * ILIKE (the GraphQL API's _ilike) folds case with the database's
 * LC_CTYPE: a UTF-8 locale folds all of Unicode, as SQLite's
 * insights_like() does; the C locale folds ASCII only. Says so when it is
 * the latter, once, at start-up.
 */
static void pg_check_case_folding(struct pg_conn *c)
{
	struct pg_params none = { 0 };
	struct error err = ERROR_INIT;
	PGresult *r = NULL;
	if (pg_q_built(c, "SELECT 'ÉTÉ' ILIKE 'été', current_setting('lc_ctype')", &none, &r, &err) != OK)
		return;
	if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t"))
		log_warn("the database's LC_CTYPE (%s) folds case for ASCII only: GraphQL's _ilike "
			 "will too (create the database with a UTF-8 locale, such as C.UTF-8, for all "
			 "of Unicode)", PQgetvalue(r, 0, 1));
	PQclear(r);
}

enum status pg_migrate(struct store *st, int *applied, struct error *err)
{
	struct pg_store *s = pg_of(st);
	*applied = 0;
	struct pg_conn *c;
	enum status rc = pg_conn_open_unbounded(&s->primary, &c, err);
	if (rc)
		return rc;
	struct pg_params none = { 0 };
	rc = pg_q_built(c, "SELECT pg_advisory_lock(" PG_LOCK_MIGRATE ")", &none, NULL, err);
	if (rc == OK)
		rc = pg_q_built(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
				" version integer PRIMARY KEY, name text NOT NULL,"
				" applied_at timestamp(0) NOT NULL)", &none, NULL, err);
	for (size_t i = 0; rc == OK && i < pg_migrations_count; i++) {
		const struct asset *m = &pg_migrations[i];
		int version;
		char name[96];
		if (!store_migration_name(m->path, &version, name, sizeof(name))) {
			rc = error_set(err, E_INTERNAL, "a migration is misnamed: %s", m->path);
			break;
		}
		bool done = false;
		rc = pg_q_built(c, "BEGIN", &none, NULL, err);
		if (rc == OK)
			rc = pg_migrate_one(c, m, version, name, &done, err);
		if (rc == OK) {
			rc = pg_q_built(c, "COMMIT", &none, NULL, err);
		} else if (!c->broken) {
			struct error ignored = ERROR_INIT;
			pg_q_built(c, "ROLLBACK", &none, NULL, &ignored);
		}
		if (rc == OK && !done) {
			(*applied)++;
			log_info("applied migration %d (%s)", version, name);
		}
	}
	if (!c->broken) {
		struct error ignored = ERROR_INIT;
		pg_q_built(c, "SELECT pg_advisory_unlock(" PG_LOCK_MIGRATE ")", &none, NULL, &ignored);
	}
	if (rc == OK)
		pg_check_case_folding(c);
	pg_conn_free(c);
	return rc;
}
