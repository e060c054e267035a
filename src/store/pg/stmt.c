/*
 * stmt.c: the PostgreSQL driver's fixed statements, indexed by enum
 * pg_stmt. A connection prepares one the first time it runs it and keeps it
 * for its life (io.c).
 */
#include "store/pg/pg.h"

#include <assert.h>

#include "lib/banned.h"

#define INSIGHT_COLS STORE_INSIGHT_COLS
#define INSIGHT_FROM STORE_INSIGHT_FROM
#define TAG_COLS STORE_TAG_COLS
#define CATEGORY_COLS STORE_CATEGORY_COUNTED_COLS
/* One insight with its tags, one row per tag (or one row without). */
#define INSIGHT_WITH_TAGS                                                     \
	"SELECT " INSIGHT_COLS ", " TAG_COLS " FROM " INSIGHT_FROM               \
	" LEFT JOIN insight_tags it ON it.insight_id = i.id"                  \
	" LEFT JOIN tags t ON t.id = it.tag_id WHERE i.id = $1"

/* NULLs in the place of an insight's columns (IC__COUNT) or a tag's (7). */
#define INSIGHT_NULLS                                                         \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, " \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
#define TAG_NULLS "NULL, NULL, NULL, NULL, NULL, NULL, NULL"
/* The output position (from 1) of the tag's id: right after the insight's columns. */
#define TAG_ID_POSITION "26"
static_assert(IC__COUNT == 25, "INSIGHT_NULLS and TAG_ID_POSITION follow the insight's columns");

const char *const pg_sql[P__COUNT] = {
	[P_BEGIN] = "BEGIN",
	[P_BEGIN_SNAPSHOT] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	[P_COMMIT] = "COMMIT",
	[P_ROLLBACK] = "ROLLBACK",
	[P_PING] = "SELECT 1",
	/*
	 * A search's plan within its transaction: no sequential scan. The
	 * planner prices testing a row's words as one operator call, but each
	 * test reads the row's out-of-line tsvector, so for a word in most
	 * rows it chose to read the whole table (680 ms for a word in 71% of
	 * 100k insights) over the word index (about 40 ms).
	 */
	[P_SEARCH_PLAN] = "SELECT set_config('enable_seqscan', 'off', true)",
	[P_SEARCH_PLAN_END] = "SELECT set_config('enable_seqscan', 'on', true)",
	/*
	 * A point read: the insight's row (its tag columns NULL), then one row
	 * per tag (its insight columns NULL), tags by id. Joined instead, every
	 * tag's row repeated the insight's columns: its content was read,
	 * decompressed and sent once per tag.
	 */
	[P_INSIGHT_GET] =
		"SELECT " INSIGHT_COLS ", " TAG_NULLS " FROM " INSIGHT_FROM " WHERE i.id = $1"
		" UNION ALL SELECT " INSIGHT_NULLS ", " TAG_COLS " FROM insight_tags it"
		" JOIN tags t ON t.id = it.tag_id WHERE it.insight_id = $1"
		" ORDER BY " TAG_ID_POSITION " NULLS FIRST",
	/* The row an update rewrites, held until commit so no update is lost. */
	[P_INSIGHT_GET_LOCKED] = INSIGHT_WITH_TAGS " ORDER BY t.id FOR NO KEY UPDATE OF i",
	[P_INSIGHT_LOCK] = "SELECT 1 FROM insights WHERE id = $1 FOR UPDATE",
	[P_INSIGHT_TAGS] =
		"SELECT it.insight_id, " TAG_COLS " FROM insight_tags it"
		" JOIN tags t ON t.id = it.tag_id"
		" WHERE it.insight_id = ANY($1::bigint[])"
		" ORDER BY it.insight_id, t.id",
	[P_INSIGHT_INSERT] =
		"INSERT INTO insights (title, description, content, source, author, category_id,"
		" priority, status, created_at, updated_at, published_at, review_by, owner,"
		" reviewed_at, revision)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
		" RETURNING id",
	[P_INSIGHT_UPDATE] =
		"UPDATE insights SET title = $1, description = $2, content = $3, source = $4,"
		" author = $5, category_id = $6, priority = $7, status = $8, created_at = $9,"
		" updated_at = $10, published_at = $11, review_by = $12, owner = $13,"
		" reviewed_at = $14, revision = revision + 1 WHERE id = $15",
	[P_INSIGHT_DELETE] = "DELETE FROM insights WHERE id = $1",
	/* unnest keeps the (ascending) order: the triggers lock tags in that order. */
	[P_INSIGHT_TAGS_ADD] =
		"INSERT INTO insight_tags (insight_id, tag_id)"
		" SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
	[P_INSIGHT_TAGS_KEEP_ONLY] =
		"DELETE FROM insight_tags WHERE insight_id = $1 AND tag_id <> ALL($2::bigint[])",
	[P_INSIGHT_TAGS_CLEAR] = "DELETE FROM insight_tags WHERE insight_id = $1",
	/* Chosen on ids alone, then joined to the few wide rows. */
	[P_INSIGHT_RECENT] =
		"SELECT " INSIGHT_COLS " FROM (SELECT id FROM insights"
		" ORDER BY created_at DESC, id DESC LIMIT $1) p"
		" JOIN insights i ON i.id = p.id LEFT JOIN categories c ON c.id = i.category_id"
		" ORDER BY i.created_at DESC, i.id DESC",
	[P_COUNT_FAST] =
		"SELECT coalesce(sum(n), 0) FROM insight_counts"
		" WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR priority = $2)"
		" AND ($3::bigint IS NULL OR category_id = $3)",
	/*
	 * Locks, in ascending id order, the tags a write is about to count: those
	 * it adds ($2) and those the insight $1 carries now. The association
	 * triggers then update rows this transaction already holds.
	 */
	[P_TAGS_LOCK] =
		"SELECT id FROM tags WHERE id = ANY($2::bigint[])"
		" OR id IN (SELECT tag_id FROM insight_tags WHERE insight_id = $1)"
		" ORDER BY id FOR NO KEY UPDATE",
	[P_TAG_GET] = "SELECT " TAG_COLS " FROM tags t WHERE t.id = $1",
	[P_TAG_GET_LOCKED] = "SELECT " TAG_COLS " FROM tags t WHERE t.id = $1 FOR NO KEY UPDATE",
	[P_TAG_LOCK_DELETE] = "SELECT 1 FROM tags WHERE id = $1 FOR UPDATE",
	[P_TAG_LIST] =
		"SELECT " TAG_COLS " FROM tags t ORDER BY t.name COLLATE \"C\" LIMIT $1 OFFSET $2",
	[P_TAG_CLASH] =
		"SELECT name = $1, slug = $2 FROM tags WHERE (name = $1 OR slug = $2) AND id <> $3"
		" ORDER BY id LIMIT 1",
	[P_TAG_INSERT] =
		"INSERT INTO tags (name, slug, description, color, created_at, usage_count)"
		" VALUES ($1, $2, $3, $4, $5, 0) RETURNING id",
	[P_TAG_UPDATE] =
		"UPDATE tags SET name = $1, slug = $2, description = $3, color = $4,"
		" version = version + 1 WHERE id = $5",
	[P_TAG_DELETE] = "DELETE FROM tags WHERE id = $1",
	[P_TAG_UNLINK] = "DELETE FROM insight_tags WHERE tag_id = $1",
	[P_CATEGORY_GET] = "SELECT " CATEGORY_COLS " FROM categories c WHERE c.id = $1",
	[P_CATEGORY_GET_LOCKED] =
		"SELECT " CATEGORY_COLS " FROM categories c WHERE c.id = $1 FOR NO KEY UPDATE",
	[P_CATEGORY_LIST] =
		"SELECT " CATEGORY_COLS " FROM categories c ORDER BY c.name COLLATE \"C\""
		" LIMIT $1 OFFSET $2",
	[P_CATEGORIES_BY_IDS] =
		"SELECT " CATEGORY_COLS " FROM categories c WHERE c.id = ANY($1::bigint[])"
		" ORDER BY c.id",
	/* A category a new reference points to: it cannot be deleted until we commit. */
	[P_CATEGORY_KEY_SHARE] = "SELECT 1 FROM categories WHERE id = $1 FOR KEY SHARE",
	/* Taken before counting references, which therefore cannot appear meanwhile. */
	[P_CATEGORY_LOCK_DELETE] = "SELECT 1 FROM categories WHERE id = $1 FOR UPDATE",
	[P_CATEGORY_CLASH] =
		"SELECT name = $1, slug = $2 FROM categories WHERE (name = $1 OR slug = $2)"
		" AND id <> $3 ORDER BY id LIMIT 1",
	[P_CATEGORY_INSERT] =
		"INSERT INTO categories (name, slug, description, parent_id, color, icon,"
		" created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
	[P_CATEGORY_UPDATE] =
		"UPDATE categories SET name = $1, slug = $2, description = $3, parent_id = $4,"
		" color = $5, icon = $6, updated_at = $7, version = version + 1 WHERE id = $8",
	[P_CATEGORY_DELETE] = "DELETE FROM categories WHERE id = $1",
	/* Is $2 the category $1 or one of its ancestors? UNION stops on a loop. */
	[P_CATEGORY_IS_ANCESTOR] =
		"WITH RECURSIVE up(id) AS (SELECT $1::bigint UNION"
		" SELECT c.parent_id FROM categories c JOIN up ON c.id = up.id"
		" WHERE c.parent_id IS NOT NULL)"
		" SELECT 1 FROM up WHERE id = $2",
	[P_CATEGORY_USAGE] =
		"SELECT (SELECT count(*) FROM insights WHERE category_id = $1),"
		" (SELECT count(*) FROM categories WHERE parent_id = $1)",
	/*
	 * Serialises changes of parent: two moves that are each acyclic can make
	 * a cycle together, and row locks cannot see that.
	 */
	[P_CATEGORY_TREE_LOCK] = "SELECT pg_advisory_xact_lock(" PG_LOCK_CATEGORY_TREE ")",
	[P_STATS_COUNTS] =
		"SELECT status, priority, category_id, n FROM insight_counts WHERE n <> 0",
	[P_STATS_CATEGORIES] = "SELECT id, name FROM categories ORDER BY name COLLATE \"C\"",
	[P_STATS_TAGS] = "SELECT count(*) FROM tags",
	[P_TRENDS] =
		"SELECT to_char(created_at, 'YYYY-MM-DD') AS day, status, count(*) FROM insights"
		" WHERE created_at >= $1::timestamp GROUP BY day, status",
	/*
	 * The insights related to $1 (at most $2; see store_driver.insight_related),
	 * as on SQLite: one row with NULL columns when it has none, no row when $1
	 * names no insight.
	 */
	[P_INSIGHT_RELATED] =
		"WITH me AS (SELECT id, category_id FROM insights WHERE id = $1),"
		" shared AS (SELECT x.insight_id AS id, count(*) AS n FROM insight_tags t"
		"  JOIN insight_tags x ON x.tag_id = t.tag_id AND x.insight_id <> $1"
		"  WHERE t.insight_id = $1 GROUP BY x.insight_id),"
		" cand AS (SELECT id, n FROM shared UNION ALL"
		"  SELECT id, 0 FROM (SELECT i.id FROM insights i JOIN me ON i.category_id = me.category_id"
		"   WHERE i.id <> $1 AND i.id NOT IN (SELECT id FROM shared)"
		"   ORDER BY i.created_at DESC, i.id DESC LIMIT $2) s),"
		" ranked AS (SELECT r.id, r.n, coalesce(i.category_id = me.category_id, false) AS same,"
		"  i.created_at FROM cand r JOIN insights i ON i.id = r.id CROSS JOIN me"
		"  ORDER BY r.n DESC, same DESC, i.created_at DESC, r.id DESC LIMIT $2)"
		" SELECT " INSIGHT_COLS " FROM me LEFT JOIN ranked k ON true"
		" LEFT JOIN insights i ON i.id = k.id LEFT JOIN categories c ON c.id = i.category_id"
		" ORDER BY k.n DESC, k.same DESC, k.created_at DESC, k.id DESC",
	[P_TOP_AUTHORS] =
		"SELECT author, count(*) AS n FROM insights WHERE status = 'published'"
		" GROUP BY author ORDER BY n DESC, author COLLATE \"C\" LIMIT $1",
	/*
	 * A recount holds off every change of associations (SHARE conflicts with
	 * writes, not reads) so that the counts it computes stay true until it
	 * commits; it is a maintenance command and may take its time.
	 */
	[P_GAUGES] =
		"SELECT (SELECT coalesce(sum(n), 0) FROM insight_counts),"
		" (SELECT count(*) FROM tags), (SELECT count(*) FROM categories)",
	[P_RECOUNT_PREPARE] = "SELECT set_config('statement_timeout', '0', true)",
	[P_RECOUNT_LOCK] = "LOCK TABLE insight_tags IN SHARE MODE",
	[P_RECOUNT] =
		"WITH real AS (SELECT t.id, t.name, t.usage_count AS was,"
		"   (SELECT count(*) FROM insight_tags it WHERE it.tag_id = t.id) AS now FROM tags t),"
		" fixed AS (UPDATE tags SET usage_count = real.now FROM real"
		"   WHERE tags.id = real.id AND real.was <> real.now RETURNING tags.id)"
		" SELECT real.id, real.name, real.was, real.now FROM real JOIN fixed ON fixed.id = real.id"
		" ORDER BY real.id",
};
