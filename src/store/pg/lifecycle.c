/*
 * lifecycle.c: the PostgreSQL driver's lifecycle statistics (store.h's
 * transition_add, lifecycle and stale_count), as on SQLite. Transition
 * times are text in the API's format (COLLATE "C" in the schema, so they
 * order as time does); they are read as timestamps to subtract them.
 */
#include "store/pg/pg.h"

#include <string.h>

#include "lib/banned.h"

static enum status pg_body_transition_add(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	const struct transition *t = op->transition_in;
	struct pg_params p = { 0 };
	pg_p_int(&p, t->insight_id);
	pg_p_text(&p, t->from >= 0 ? lifecycle_name((enum lifecycle)t->from) : NULL);
	pg_p_text(&p, lifecycle_name(t->to));
	pg_p_text(&p, t->at);
	pg_p_text(&p, t->actor);
	return pg_q_built(c, "INSERT INTO insight_transitions (insight_id, from_status, to_status,"
			  " at, actor) VALUES ($1, $2, $3, $4, $5)", &p, NULL, err);
}

enum status pg_transition_add(struct store *st, const struct transition *t, struct error *err)
{
	struct pg_op op = { .transition_in = t };
	return pg_run(pg_of(st), PG_RUN_WRITE, pg_body_transition_add, &op, err);
}

/* The insights first published at or after $1, as on SQLite (SQ_FIRST_PUBLISHED). */
#define PG_FIRST_PUBLISHED                                                           \
	" FROM insight_transitions t JOIN insights i ON i.id = t.insight_id"         \
	" LEFT JOIN categories c ON c.id = i.category_id"                            \
	" LEFT JOIN insight_transitions x ON x.id = (SELECT y.id FROM insight_transitions y" \
	"  WHERE y.insight_id = t.insight_id AND y.from_status IS NULL"              \
	"  ORDER BY y.at, y.id LIMIT 1)"                                             \
	" WHERE t.to_status = 'published' AND t.at >= $1"                            \
	" AND t.id = (SELECT p.id FROM insight_transitions p"                        \
	"  WHERE p.insight_id = t.insight_id AND p.to_status = 'published'"          \
	"  ORDER BY p.at, p.id LIMIT 1)"

static enum status pg_body_lifecycle(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct lifecycle_data *out = op->out;
	struct arena *a = op->a;
	memset(out, 0, sizeof(*out));
	struct pg_params p = { 0 };
	pg_p_text(&p, op->key);
	PGresult *r;
	enum status rc = pg_q_built(c,
		"SELECT from_status, to_status, count(*) FROM insight_transitions WHERE at >= $1"
		" GROUP BY from_status, to_status", &p, &r, err);
	if (rc)
		return rc;
	size_t cap = (LIFECYCLE_COUNT + 1) * LIFECYCLE_COUNT;
	out->counts = ARENA_NEW_ARRAY(a, struct transition_count, cap);
	for (int i = 0; i < PQntuples(r); i++) {
		enum lifecycle f = LIFECYCLE_DRAFT, g;
		bool none = PQgetisnull(r, i, 0);
		if ((!none && lifecycle_parse(PQgetvalue(r, i, 0), &f)) ||
		    lifecycle_parse(PQgetvalue(r, i, 1), &g) || out->ncounts >= cap)
			continue; /* not a status this service writes */
		out->counts[out->ncounts++] = (struct transition_count){
			.from = none ? -1 : (int)f, .to = (int)g, .count = pg_col_int(r, i, 2) };
	}
	PQclear(r);

	rc = pg_q_built(c,
		"SELECT (extract(epoch FROM t.at::timestamp)"
		" - extract(epoch FROM coalesce(x.at::timestamp, i.created_at)))::bigint,"
		" c.name, i.author" PG_FIRST_PUBLISHED, &p, &r, err);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	out->pubs = ARENA_NEW_ARRAY(a, struct publication, (size_t)(rows ? rows : 1));
	for (int i = 0; i < rows; i++) {
		int64_t secs = pg_col_int(r, i, 0);
		out->pubs[i] = (struct publication){ .seconds = secs > 0 ? secs : 0,
						     .category = pg_col_text(r, i, 1, a),
						     .author = pg_col_text(r, i, 2, a) };
	}
	out->npubs = (size_t)rows;
	PQclear(r);
	return OK;
}

enum status pg_lifecycle(struct store *st, struct arena *a, const char *since,
			 struct lifecycle_data *out, struct error *err)
{
	struct pg_op op = { .a = a, .key = since, .out = out };
	return pg_run(pg_of(st), PG_RUN_SNAPSHOT, pg_body_lifecycle, &op, err);
}

static enum status pg_body_stale_count(struct pg_conn *c, struct pg_op *op, struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_text(&p, op->key);
	PGresult *r;
	/* The expression of ix_insights_fresh: a range of that index, not the table. */
	enum status rc = pg_q_built(c,
		"SELECT count(*) FROM insights WHERE status = 'published'"
		" AND greatest(updated_at, reviewed_at) < $1::timestamp", &p, &r, err);
	if (rc)
		return rc;
	*op->tally = pg_col_int(r, 0, 0);
	PQclear(r);
	return OK;
}

enum status pg_stale_count(struct store *st, const char *before, int64_t *n, struct error *err)
{
	struct pg_op op = { .key = before, .tally = n };
	return pg_run(pg_of(st), PG_RUN_READ, pg_body_stale_count, &op, err);
}
