/*
 * pg.h: the PostgreSQL storage driver (pg.c), for several stateless
 * instances sharing one PostgreSQL primary and, optionally, reading from a
 * streaming replica. Only pg.c includes <libpq-fe.h>.
 */
#ifndef INSIGHTS_PG_H
#define INSIGHTS_PG_H

#include "store/store.h"

extern const struct store_driver store_pg_driver;

#endif
