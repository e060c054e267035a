/*
 * check.c: the PostgreSQL driver's consistency check (store.h's `check`,
 * issue 15). PostgreSQL keeps its own tables and indexes consistent (its
 * full-text column is generated, its constraints enforced), so what can
 * drift is what the schema counts by triggers, and the identity sequences
 * an import with explicit ids moves: each tag's usage_count, the insight
 * counts per (status, priority, category), and whether each table's id
 * sequence is past its highest id. Every comparison is one statement, so
 * one snapshot. There is no backup here: pg_dump is the tool.
 */
#include "store/pg/pg.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/banned.h"

struct pg_problems {
	struct arena *a;
	const char **v;
	size_t n, cap;
};

static void pg_problem(struct pg_problems *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void pg_problem(struct pg_problems *p, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		const char **grown = ARENA_NEW_ARRAY(p->a, const char *, p->cap);
		if (p->n)
			memcpy(grown, p->v, p->n * sizeof(*grown));
		p->v = grown;
	}
	p->v[p->n++] = arena_strdup(p->a, line);
}

static const char pg_tag_drift[] =
	"SELECT t.id, t.slug, t.usage_count, coalesce(c.n, 0) FROM tags t LEFT JOIN"
	" (SELECT tag_id, count(*) AS n FROM insight_tags GROUP BY tag_id) c ON c.tag_id = t.id"
	" WHERE t.usage_count <> coalesce(c.n, 0) ORDER BY t.id";

static const char pg_count_drift[] =
	"WITH kept AS (SELECT status, priority, category_id, n FROM insight_counts WHERE n <> 0),"
	" real AS (SELECT status, priority, coalesce(category_id, 0) AS category_id,"
	" count(*) AS n FROM insights GROUP BY 1, 2, 3)"
	" SELECT coalesce(k.status, r.status), coalesce(k.priority, r.priority),"
	" coalesce(k.category_id, r.category_id), coalesce(k.n, 0), coalesce(r.n, 0)"
	" FROM kept k FULL JOIN real r ON k.status = r.status AND k.priority = r.priority"
	" AND k.category_id = r.category_id WHERE k.n IS DISTINCT FROM r.n ORDER BY 1, 2, 3";

/* Per table: its highest id and where its id sequence stands (NULL: never drawn). */
static const char pg_sequences[] =
	"SELECT t, (SELECT max(id) FROM insights), pg_sequence_last_value("
	"pg_get_serial_sequence('insights', 'id')::regclass) FROM (VALUES ('insights')) v(t)"
	" UNION ALL SELECT 'tags', (SELECT max(id) FROM tags), pg_sequence_last_value("
	"pg_get_serial_sequence('tags', 'id')::regclass)"
	" UNION ALL SELECT 'categories', (SELECT max(id) FROM categories), pg_sequence_last_value("
	"pg_get_serial_sequence('categories', 'id')::regclass)";

static const char pg_sizes[] =
	"SELECT (SELECT count(*) FROM insights), (SELECT count(*) FROM tags),"
	" (SELECT count(*) FROM categories)";

static enum status pg_body_check(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct store_check *out = op->out;
	struct pg_problems p = { .a = op->a };
	struct pg_params none = { 0 };
	PGresult *r;
	enum status rc = pg_q_built(c, pg_tag_drift, &none, &r, err);
	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(r); i++)
		pg_problem(&p, "tag %" PRId64 " (%s): usage_count is %" PRId64 ", it has %" PRId64
			   " insights", pg_col_int(r, i, 0), PQgetvalue(r, i, 1), pg_col_int(r, i, 2),
			   pg_col_int(r, i, 3));
	PQclear(r);
	if ((rc = pg_q_built(c, pg_count_drift, &none, &r, err)))
		return rc;
	for (int i = 0; i < PQntuples(r); i++)
		pg_problem(&p, "insight count (status %s, priority %s, category %" PRId64
			   "): kept %" PRId64 ", recounted %" PRId64, PQgetvalue(r, i, 0),
			   PQgetvalue(r, i, 1), pg_col_int(r, i, 2), pg_col_int(r, i, 3),
			   pg_col_int(r, i, 4));
	PQclear(r);
	if ((rc = pg_q_built(c, pg_sequences, &none, &r, err)))
		return rc;
	for (int i = 0; i < PQntuples(r); i++) {
		if (PQgetisnull(r, i, 1))
			continue;
		int64_t max = pg_col_int(r, i, 1);
		int64_t last = PQgetisnull(r, i, 2) ? 0 : pg_col_int(r, i, 2);
		if (last < max)
			pg_problem(&p, "the id sequence of %s stands at %" PRId64
				   ", below its highest id %" PRId64 ": new rows would clash",
				   PQgetvalue(r, i, 0), last, max);
	}
	PQclear(r);
	if ((rc = pg_q_built(c, pg_sizes, &none, &r, err)))
		return rc;
	out->insights = pg_col_int(r, 0, 0);
	out->tags = pg_col_int(r, 0, 1);
	out->categories = pg_col_int(r, 0, 2);
	PQclear(r);
	out->problems = p.v;
	out->n = p.n;
	return OK;
}

enum status pg_check(struct store *st, struct arena *a, struct store_check *out, struct error *err)
{
	struct pg_op op = { .a = a, .out = out };
	return pg_run(pg_of(st), PG_RUN_MAINTENANCE, pg_body_check, &op, err);
}
