/*
 * stmt.c: the SQLite driver's statements. Fixed statements are an array
 * indexed by enum sq_stmt, prepared on a connection the first time it runs
 * them and kept for its life; statements built from a filter are kept in a
 * small per-connection cache keyed by their SQL text. Every statement the
 * driver runs steps through sq_step(), the one place the tests' sqlite.io
 * fault reaches.
 */
#include "store/sqlite/sqlite.h"

#include <stdlib.h>
#include <string.h>

#include "lib/fault.h"
#include "lib/xalloc.h"
#include "lib/banned.h"

#define INSIGHT_COLS STORE_INSIGHT_COLS
#define INSIGHT_FROM STORE_INSIGHT_FROM
#define TAG_COLS STORE_TAG_COLS
#define CATEGORY_COLS STORE_CATEGORY_COUNTED_COLS

static const char *const sq_sql[S__COUNT] = {
	[S_BEGIN] = "BEGIN",
	[S_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_PING] = "SELECT coalesce(max(version), 0) FROM schema_migrations",
	[S_INSIGHT_GET] = "SELECT " INSIGHT_COLS " FROM " INSIGHT_FROM " WHERE i.id = ?1",
	/* The insight and its tags: one row per tag (or one with NULL tag columns). */
	[S_INSIGHT_GET_TAGGED] =
		"SELECT " INSIGHT_COLS ", " TAG_COLS " FROM " INSIGHT_FROM
		" LEFT JOIN insight_tags it ON it.insight_id = i.id"
		" LEFT JOIN tags t ON t.id = it.tag_id WHERE i.id = ?1 ORDER BY t.id",
	/*
	 * Unordered: ORDER BY j.key copied every row, content and all, into a
	 * temporary b-tree to sort it. The caller places each row by j.key,
	 * its last column.
	 */
	[S_INSIGHTS_BY_IDS] =
		"SELECT " INSIGHT_COLS ", j.key FROM json_each(?1) j JOIN insights i ON i.id = j.value"
		" LEFT JOIN categories c ON c.id = i.category_id",
	[S_INSIGHT_TAGS_ONE] =
		"SELECT it.insight_id, " TAG_COLS " FROM insight_tags it"
		" JOIN tags t ON t.id = it.tag_id WHERE it.insight_id = ?1 ORDER BY t.id",
	/* Unordered, as sorting took a temporary b-tree: sq_read_tag_links sorts. */
	[S_INSIGHT_TAGS] =
		"SELECT it.insight_id, " TAG_COLS " FROM json_each(?1) j"
		" JOIN insight_tags it ON it.insight_id = j.value JOIN tags t ON t.id = it.tag_id",
	[S_INSIGHT_INSERT] =
		"INSERT INTO insights (title, description, content, source, author, category_id,"
		" priority, status, created_at, updated_at, published_at, review_by, owner,"
		" reviewed_at, id, revision)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
	[S_INSIGHT_UPDATE] =
		"UPDATE insights SET title = ?1, description = ?2, content = ?3, source = ?4,"
		" author = ?5, category_id = ?6, priority = ?7, status = ?8, created_at = ?9,"
		" updated_at = ?10, published_at = ?11, review_by = ?12, owner = ?13,"
		" reviewed_at = ?14, revision = revision + 1 WHERE id = ?15",
	[S_INSIGHT_DELETE] = "DELETE FROM insights WHERE id = ?1",
	[S_FTS_ADD] =
		"INSERT INTO insights_fts (rowid, title, description, content)"
		" SELECT id, title, description, content FROM insights"
		" WHERE id IN (SELECT value FROM json_each(?1))",
	[S_TRGM_ADD] =
		"INSERT INTO insights_trgm (rowid, title, description, content)"
		" SELECT id, title, description, content FROM insights"
		" WHERE id IN (SELECT value FROM json_each(?1))",
	[S_INSIGHT_TAGS_ADD] =
		"INSERT OR IGNORE INTO insight_tags (insight_id, tag_id)"
		" SELECT ?1, value FROM json_each(?2)",
	[S_INSIGHT_TAGS_KEEP_ONLY] =
		"DELETE FROM insight_tags WHERE insight_id = ?1"
		" AND tag_id NOT IN (SELECT value FROM json_each(?2))",
	[S_INSIGHT_TAGS_CLEAR] = "DELETE FROM insight_tags WHERE insight_id = ?1",
	[S_INSIGHT_RECENT] =
		"SELECT " INSIGHT_COLS " FROM " INSIGHT_FROM
		" ORDER BY i.created_at DESC, i.id DESC LIMIT ?1",
	[S_COUNT_FAST] =
		"SELECT coalesce(sum(n), 0) FROM insight_counts"
		" WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR priority = ?2)"
		" AND (?3 IS NULL OR category_id = ?3)",
	[S_TAGS_EXISTING] =
		"SELECT value FROM json_each(?1) WHERE value NOT IN (SELECT id FROM tags)",
	[S_TAG_GET] = "SELECT " TAG_COLS " FROM tags t WHERE t.id = ?1",
	[S_TAG_LIST] = "SELECT " TAG_COLS " FROM tags t ORDER BY t.name LIMIT ?1 OFFSET ?2",
	[S_TAG_CLASH] =
		"SELECT name = ?1, slug = ?2 FROM tags WHERE (name = ?1 OR slug = ?2) AND id != ?3"
		" ORDER BY id LIMIT 1",
	[S_TAG_INSERT] =
		"INSERT INTO tags (name, slug, description, color, created_at, usage_count, id)"
		" VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
	[S_TAG_UPDATE] =
		"UPDATE tags SET name = ?1, slug = ?2, description = ?3, color = ?4,"
		" version = version + 1 WHERE id = ?5",
	[S_TAG_DELETE] = "DELETE FROM tags WHERE id = ?1",
	[S_TAG_UNLINK] = "DELETE FROM insight_tags WHERE tag_id = ?1",
	[S_CATEGORY_GET] = "SELECT " CATEGORY_COLS " FROM categories c WHERE c.id = ?1",
	[S_CATEGORY_LIST] =
		"SELECT " CATEGORY_COLS " FROM categories c ORDER BY c.name LIMIT ?1 OFFSET ?2",
	[S_CATEGORIES_BY_IDS] =
		"SELECT " CATEGORY_COLS " FROM categories c"
		" WHERE c.id IN (SELECT value FROM json_each(?1)) ORDER BY c.id",
	[S_CATEGORY_EXISTS] = "SELECT 1 FROM categories WHERE id = ?1",
	[S_CATEGORY_CLASH] =
		"SELECT name = ?1, slug = ?2 FROM categories WHERE (name = ?1 OR slug = ?2)"
		" AND id != ?3 ORDER BY id LIMIT 1",
	[S_CATEGORY_INSERT] =
		"INSERT INTO categories (name, slug, description, parent_id, color, icon,"
		" created_at, updated_at, id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[S_CATEGORY_UPDATE] =
		"UPDATE categories SET name = ?1, slug = ?2, description = ?3, parent_id = ?4,"
		" color = ?5, icon = ?6, updated_at = ?7, version = version + 1 WHERE id = ?8",
	[S_CATEGORY_DELETE] = "DELETE FROM categories WHERE id = ?1",
	/* Is ?2 the category ?1 or one of its ancestors? UNION stops on a loop. */
	[S_CATEGORY_IS_ANCESTOR] =
		"WITH RECURSIVE up(id) AS (SELECT ?1 UNION"
		" SELECT c.parent_id FROM categories c JOIN up ON c.id = up.id"
		" WHERE c.parent_id IS NOT NULL)"
		" SELECT 1 FROM up WHERE id = ?2",
	[S_CATEGORY_USAGE] =
		"SELECT (SELECT count(*) FROM insights WHERE category_id = ?1),"
		" (SELECT count(*) FROM categories WHERE parent_id = ?1)",
	[S_STATS_COUNTS] =
		"SELECT status, priority, category_id, n FROM insight_counts WHERE n != 0",
	[S_STATS_CATEGORIES] = "SELECT id, name FROM categories ORDER BY name",
	[S_STATS_TAGS] = "SELECT count(*) FROM tags",
	[S_GAUGES] =
		"SELECT (SELECT coalesce(sum(n), 0) FROM insight_counts),"
		" (SELECT count(*) FROM tags), (SELECT count(*) FROM categories)",
	[S_TRENDS] =
		"SELECT substr(created_at, 1, 10) AS day, status, count(*) FROM insights"
		" WHERE created_at >= ?1 GROUP BY day, status",
	[S_TOP_AUTHORS] =
		"SELECT author, count(*) AS n FROM insights WHERE status = 'published'"
		" GROUP BY author ORDER BY n DESC, author LIMIT ?1 OFFSET ?2",
	/*
	 * The insights related to ?1 (at most ?2; see store_driver.insight_related):
	 * those sharing tags, counted through the tag_id index, and the newest of
	 * its category. One row with NULL columns when it has none, no row when
	 * ?1 names no insight.
	 */
	[S_INSIGHT_RELATED] =
		"WITH me AS (SELECT id, category_id FROM insights WHERE id = ?1),"
		" shared AS (SELECT x.insight_id AS id, count(*) AS n FROM insight_tags t"
		"  JOIN insight_tags x ON x.tag_id = t.tag_id AND x.insight_id != ?1"
		"  WHERE t.insight_id = ?1 GROUP BY x.insight_id),"
		" cand AS (SELECT id, n FROM shared UNION ALL"
		"  SELECT id, 0 FROM (SELECT i.id FROM insights i JOIN me ON i.category_id = me.category_id"
		"   WHERE i.id != ?1 AND i.id NOT IN (SELECT id FROM shared)"
		"   ORDER BY i.created_at DESC, i.id DESC LIMIT ?2)),"
		" ranked AS (SELECT r.id, r.n, coalesce(i.category_id = me.category_id, 0) AS same,"
		"  i.created_at FROM cand r JOIN insights i ON i.id = r.id JOIN me"
		"  ORDER BY r.n DESC, same DESC, i.created_at DESC, r.id DESC LIMIT ?2)"
		" SELECT " INSIGHT_COLS " FROM me LEFT JOIN ranked k ON 1"
		" LEFT JOIN insights i ON i.id = k.id LEFT JOIN categories c ON c.id = i.category_id"
		" ORDER BY k.n DESC, k.same DESC, k.created_at DESC, k.id DESC",
	[S_RECOUNT_DRIFT] =
		"SELECT id, name, usage_count, real FROM (SELECT t.id, t.name, t.usage_count,"
		" (SELECT count(*) FROM insight_tags it WHERE it.tag_id = t.id) AS real"
		" FROM tags t) WHERE usage_count != real ORDER BY id",
	[S_RECOUNT_FIX] =
		"UPDATE tags SET usage_count ="
		" (SELECT count(*) FROM insight_tags it WHERE it.tag_id = tags.id) WHERE id = ?1",
};

int sq_exec(struct sq_conn *c, const char *sql)
{
	if (fault_armed("sqlite.io", NULL))
		return SQLITE_IOERR;
	return sqlite3_exec(c->db, sql, NULL, NULL, NULL);
}

int sq_step(sqlite3_stmt *s)
{
	if (fault_armed("sqlite.io", NULL))
		return SQLITE_IOERR;
	return sqlite3_step(s);
}

sqlite3_stmt *sq_stmt(struct sq_conn *c, enum sq_stmt which, struct error *err)
{
	if (!c->stmt[which]) {
		int rc = sqlite3_prepare_v3(c->db, sq_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
					    &c->stmt[which], NULL);
		if (rc != SQLITE_OK) {
			sq_fail(c, rc, err);
			return NULL;
		}
	}
	return c->stmt[which];
}

sqlite3_stmt *sq_dyn_stmt(struct sq_conn *c, const char *sql, struct error *err)
{
	for (int i = 0; i < SQ_DYN_CACHE; i++)
		if (c->dyn[i].sql && !strcmp(c->dyn[i].sql, sql))
			return c->dyn[i].stmt;
	struct sq_dyn_stmt *d = &c->dyn[c->dyn_next];
	c->dyn_next = (c->dyn_next + 1) % SQ_DYN_CACHE;
	sqlite3_finalize(d->stmt);
	free(d->sql);
	d->sql = NULL;
	d->stmt = NULL;
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &d->stmt, NULL);
	if (rc != SQLITE_OK) {
		sq_fail(c, rc, err);
		return NULL;
	}
	d->sql = xstrdup(sql);
	return d->stmt;
}

int sq_run(sqlite3_stmt *s)
{
	int rc = sq_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

enum status sq_run_fixed(struct sq_conn *c, enum sq_stmt which, struct error *err)
{
	sqlite3_stmt *s = sq_stmt(c, which, err);
	if (!s)
		return err->status;
	int rc = sq_run(s);
	return rc == SQLITE_OK ? OK : sq_fail(c, rc, err);
}

enum status sq_run_on_id(struct sq_conn *c, enum sq_stmt which, int64_t id, int *changes,
			 struct error *err)
{
	sqlite3_stmt *s = sq_stmt(c, which, err);
	if (!s)
		return err->status;
	sqlite3_bind_int64(s, 1, id);
	int src = sq_run(s);
	if (src != SQLITE_OK)
		return sq_fail(c, src, err);
	if (changes)
		*changes = sqlite3_changes(c->db);
	return OK;
}
