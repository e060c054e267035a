/*
 * store.c: the driver registry: picks a driver from a DATABASE_URL.
 */
#include "store/store.h"

#include <stddef.h>

#include "store/pg.h"
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
	error_clear(err);
	if (dburl_parse(url, &u, why, sizeof(why)))
		return error_set(err, E_INVALID, "%s", why);
	enum status rc = error_set(err, E_INVALID, "no storage driver for %s", u.redacted);
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		if (drivers[i].kind == u.kind) {
			error_clear(err);
			rc = drivers[i].drv->open(&u, cfg, out, err);
			break;
		}
	}
	dburl_release(&u);
	return rc;
}

void store_close(struct store *st)
{
	if (st)
		st->drv->close(st);
}
