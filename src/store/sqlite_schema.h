/*
 * sqlite_schema.h: the SQLite driver's migrations, in order. Each version
 * is applied once, in its own transaction, and recorded in
 * schema_migrations. Never edit a released migration: add a new one.
 *
 * Besides the specification's four tables and indexes, the schema keeps:
 *  - insights_fts, an FTS5 index over title, description and content,
 *    kept by triggers on update and delete, and for new insights by the
 *    store in the transaction that inserts them (sqlite.c, fts_flush);
 *  - insight_counts, the number of insights per (status, priority,
 *    category), maintained by triggers, so that /statistics and list totals
 *    read a few dozen rows instead of scanning the table;
 *  - triggers on insight_tags that move tags.usage_count in the same
 *    statement as the association, which makes the count exact under any
 *    concurrency.
 */
#ifndef INSIGHTS_SQLITE_SCHEMA_H
#define INSIGHTS_SQLITE_SCHEMA_H

struct sq_migration {
	int version;
	const char *name;
	const char *sql;
};

static const struct sq_migration sq_migrations[] = {
	{ 1, "initial schema",
	  "CREATE TABLE categories (\n"
	  "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	  "  name VARCHAR(100) NOT NULL,\n"
	  "  slug VARCHAR(100) NOT NULL,\n"
	  "  description TEXT,\n"
	  "  parent_id INTEGER REFERENCES categories(id),\n"
	  "  color VARCHAR(7),\n"
	  "  icon VARCHAR(50),\n"
	  "  created_at TIMESTAMP NOT NULL,\n"
	  "  updated_at TIMESTAMP NOT NULL\n"
	  ");\n"
	  "CREATE UNIQUE INDEX ix_categories_name ON categories(name);\n"
	  "CREATE UNIQUE INDEX ix_categories_slug ON categories(slug);\n"
	  "CREATE INDEX ix_categories_parent_id ON categories(parent_id);\n"
	  "\n"
	  "CREATE TABLE tags (\n"
	  "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	  "  name VARCHAR(50) NOT NULL,\n"
	  "  slug VARCHAR(50) NOT NULL,\n"
	  "  description TEXT,\n"
	  "  color VARCHAR(7),\n"
	  "  created_at TIMESTAMP NOT NULL,\n"
	  "  usage_count INTEGER NOT NULL DEFAULT 0\n"
	  ");\n"
	  "CREATE UNIQUE INDEX ix_tags_name ON tags(name);\n"
	  "CREATE UNIQUE INDEX ix_tags_slug ON tags(slug);\n"
	  "\n"
	  /*
	   * Small columns first: SQLite reads a row's columns in order, so
	   * filters on status or category never walk the overflow pages of a
	   * long content.
	   */
	  "CREATE TABLE insights (\n"
	  "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	  "  category_id INTEGER REFERENCES categories(id),\n"
	  "  priority VARCHAR(20) NOT NULL DEFAULT 'medium'\n"
	  "    CHECK (priority IN ('low', 'medium', 'high', 'critical')),\n"
	  "  status VARCHAR(20) NOT NULL DEFAULT 'draft'\n"
	  "    CHECK (status IN ('draft', 'published', 'archived')),\n"
	  "  created_at TIMESTAMP NOT NULL,\n"
	  "  updated_at TIMESTAMP NOT NULL,\n"
	  "  published_at TIMESTAMP,\n"
	  "  author VARCHAR(255) NOT NULL,\n"
	  "  source VARCHAR(255),\n"
	  "  title VARCHAR(500) NOT NULL,\n"
	  "  description TEXT NOT NULL,\n"
	  "  content TEXT\n"
	  ");\n"
	  "CREATE INDEX ix_insights_title ON insights(title);\n"
	  "CREATE INDEX ix_insights_author ON insights(author);\n"
	  "CREATE INDEX ix_insights_category_id ON insights(category_id);\n"
	  "CREATE INDEX ix_insights_priority ON insights(priority);\n"
	  "CREATE INDEX ix_insights_status ON insights(status);\n"
	  "CREATE INDEX ix_insights_created_at ON insights(created_at);\n"
	  "CREATE INDEX idx_insights_status_priority ON insights(status, priority);\n"
	  "CREATE INDEX idx_insights_category_status ON insights(category_id, status);\n"
	  "CREATE INDEX idx_insights_author_status ON insights(author, status);\n"
	  /* Newest-first pages under a status filter, without a sort. */
	  "CREATE INDEX idx_insights_status_created ON insights(status, created_at);\n"
	  "\n"
	  "CREATE TABLE insight_tags (\n"
	  "  insight_id INTEGER NOT NULL REFERENCES insights(id) ON DELETE CASCADE,\n"
	  "  tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,\n"
	  "  PRIMARY KEY (insight_id, tag_id)\n"
	  ") WITHOUT ROWID;\n"
	  "CREATE INDEX idx_insight_tags_insight_id ON insight_tags(insight_id);\n"
	  "CREATE INDEX idx_insight_tags_tag_id ON insight_tags(tag_id);\n"
	  "\n"
	  "CREATE TRIGGER insight_tags_count_add AFTER INSERT ON insight_tags BEGIN\n"
	  "  UPDATE tags SET usage_count = usage_count + 1 WHERE id = NEW.tag_id;\n"
	  "END;\n"
	  "CREATE TRIGGER insight_tags_count_remove AFTER DELETE ON insight_tags BEGIN\n"
	  "  UPDATE tags SET usage_count = usage_count - 1 WHERE id = OLD.tag_id;\n"
	  "END;\n"
	  "\n"
	  "CREATE TABLE insight_counts (\n"
	  "  status VARCHAR(20) NOT NULL,\n"
	  "  priority VARCHAR(20) NOT NULL,\n"
	  "  category_id INTEGER NOT NULL, -- 0: uncategorized\n"
	  "  n INTEGER NOT NULL,\n"
	  "  PRIMARY KEY (status, priority, category_id)\n"
	  ") WITHOUT ROWID;\n"
	  "CREATE INDEX idx_insight_counts_category ON insight_counts(category_id, n); -- covering\n"
	  "CREATE TRIGGER insights_count_add AFTER INSERT ON insights BEGIN\n"
	  "  INSERT INTO insight_counts (status, priority, category_id, n)\n"
	  "    VALUES (NEW.status, NEW.priority, coalesce(NEW.category_id, 0), 1)\n"
	  "    ON CONFLICT (status, priority, category_id) DO UPDATE SET n = n + 1;\n"
	  "END;\n"
	  "CREATE TRIGGER insights_count_remove AFTER DELETE ON insights BEGIN\n"
	  "  UPDATE insight_counts SET n = n - 1 WHERE status = OLD.status\n"
	  "    AND priority = OLD.priority AND category_id = coalesce(OLD.category_id, 0);\n"
	  "END;\n"
	  "CREATE TRIGGER insights_count_move AFTER UPDATE OF status, priority, category_id ON insights\n"
	  "  WHEN OLD.status IS NOT NEW.status OR OLD.priority IS NOT NEW.priority\n"
	  "    OR OLD.category_id IS NOT NEW.category_id BEGIN\n"
	  "  UPDATE insight_counts SET n = n - 1 WHERE status = OLD.status\n"
	  "    AND priority = OLD.priority AND category_id = coalesce(OLD.category_id, 0);\n"
	  "  INSERT INTO insight_counts (status, priority, category_id, n)\n"
	  "    VALUES (NEW.status, NEW.priority, coalesce(NEW.category_id, 0), 1)\n"
	  "    ON CONFLICT (status, priority, category_id) DO UPDATE SET n = n + 1;\n"
	  "END;\n"
	  "\n"
	  "CREATE VIRTUAL TABLE insights_fts USING fts5(\n"
	  "  title, description, content,\n"
	  "  content = 'insights', content_rowid = 'id',\n"
	  "  tokenize = 'unicode61 remove_diacritics 2'\n"
	  ");\n"

	  "CREATE TRIGGER insights_fts_add AFTER INSERT ON insights BEGIN\n"
	  "  INSERT INTO insights_fts (rowid, title, description, content)\n"
	  "    VALUES (NEW.id, NEW.title, NEW.description, NEW.content);\n"
	  "END;\n"
	  "CREATE TRIGGER insights_fts_remove AFTER DELETE ON insights BEGIN\n"
	  "  INSERT INTO insights_fts (insights_fts, rowid, title, description, content)\n"
	  "    VALUES ('delete', OLD.id, OLD.title, OLD.description, OLD.content);\n"
	  "END;\n"
	  "CREATE TRIGGER insights_fts_change AFTER UPDATE OF title, description, content ON insights\n"
	  "  WHEN OLD.title IS NOT NEW.title OR OLD.description IS NOT NEW.description\n"
	  "    OR OLD.content IS NOT NEW.content BEGIN\n"
	  "  INSERT INTO insights_fts (insights_fts, rowid, title, description, content)\n"
	  "    VALUES ('delete', OLD.id, OLD.title, OLD.description, OLD.content);\n"
	  "  INSERT INTO insights_fts (rowid, title, description, content)\n"
	  "    VALUES (NEW.id, NEW.title, NEW.description, NEW.content);\n"
	  "END;\n" },
	/* New insights are indexed by the store at commit (see fts_flush). */
	{ 2, "index new insights at commit",
	  "DROP TRIGGER insights_fts_add;\n" },
};

#endif
