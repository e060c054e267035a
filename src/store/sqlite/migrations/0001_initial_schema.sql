-- The SQLite schema, version 1. Never edit a released migration: add one.
--
-- Besides the specification's four tables and indexes, it keeps:
--  * insights_fts, an FTS5 index over title, description and content, kept
--    by triggers on update and delete, and for new insights by the store in
--    the transaction that inserts them (store/sqlite/txn.c, sq_fts_flush);
--  * insight_counts, the number of insights per (status, priority,
--    category), maintained by triggers, so that /statistics and list totals
--    read a few dozen rows instead of scanning the table;
--  * triggers on insight_tags that move tags.usage_count in the same
--    statement as the association, which makes the count exact under any
--    concurrency.

CREATE TABLE categories (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(100) NOT NULL,
  slug VARCHAR(100) NOT NULL,
  description TEXT,
  parent_id INTEGER REFERENCES categories(id),
  color VARCHAR(7),
  icon VARCHAR(50),
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX ix_categories_name ON categories(name);
CREATE UNIQUE INDEX ix_categories_slug ON categories(slug);
CREATE INDEX ix_categories_parent_id ON categories(parent_id);

CREATE TABLE tags (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(50) NOT NULL,
  slug VARCHAR(50) NOT NULL,
  description TEXT,
  color VARCHAR(7),
  created_at TIMESTAMP NOT NULL,
  usage_count INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX ix_tags_name ON tags(name);
CREATE UNIQUE INDEX ix_tags_slug ON tags(slug);

-- Small columns first: SQLite reads a row's columns in order, so filters
-- on status or category never walk the overflow pages of a long content.
CREATE TABLE insights (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  category_id INTEGER REFERENCES categories(id),
  priority VARCHAR(20) NOT NULL DEFAULT 'medium'
    CHECK (priority IN ('low', 'medium', 'high', 'critical')),
  status VARCHAR(20) NOT NULL DEFAULT 'draft'
    CHECK (status IN ('draft', 'published', 'archived')),
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL,
  published_at TIMESTAMP,
  author VARCHAR(255) NOT NULL,
  source VARCHAR(255),
  title VARCHAR(500) NOT NULL,
  description TEXT NOT NULL,
  content TEXT
);
CREATE INDEX ix_insights_title ON insights(title);
CREATE INDEX ix_insights_author ON insights(author);
CREATE INDEX ix_insights_category_id ON insights(category_id);
CREATE INDEX ix_insights_priority ON insights(priority);
CREATE INDEX ix_insights_status ON insights(status);
CREATE INDEX ix_insights_created_at ON insights(created_at);
CREATE INDEX idx_insights_status_priority ON insights(status, priority);
CREATE INDEX idx_insights_category_status ON insights(category_id, status);
CREATE INDEX idx_insights_author_status ON insights(author, status);
-- Newest-first pages under a status filter, without a sort.
CREATE INDEX idx_insights_status_created ON insights(status, created_at);

CREATE TABLE insight_tags (
  insight_id INTEGER NOT NULL REFERENCES insights(id) ON DELETE CASCADE,
  tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  PRIMARY KEY (insight_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX idx_insight_tags_insight_id ON insight_tags(insight_id);
CREATE INDEX idx_insight_tags_tag_id ON insight_tags(tag_id);

CREATE TRIGGER insight_tags_count_add AFTER INSERT ON insight_tags BEGIN
  UPDATE tags SET usage_count = usage_count + 1 WHERE id = NEW.tag_id;
END;
CREATE TRIGGER insight_tags_count_remove AFTER DELETE ON insight_tags BEGIN
  UPDATE tags SET usage_count = usage_count - 1 WHERE id = OLD.tag_id;
END;

CREATE TABLE insight_counts (
  status VARCHAR(20) NOT NULL,
  priority VARCHAR(20) NOT NULL,
  category_id INTEGER NOT NULL, -- 0: uncategorized
  n INTEGER NOT NULL,
  PRIMARY KEY (status, priority, category_id)
) WITHOUT ROWID;
CREATE INDEX idx_insight_counts_category ON insight_counts(category_id, n); -- covering
CREATE TRIGGER insights_count_add AFTER INSERT ON insights BEGIN
  INSERT INTO insight_counts (status, priority, category_id, n)
    VALUES (NEW.status, NEW.priority, coalesce(NEW.category_id, 0), 1)
    ON CONFLICT (status, priority, category_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER insights_count_remove AFTER DELETE ON insights BEGIN
  UPDATE insight_counts SET n = n - 1 WHERE status = OLD.status
    AND priority = OLD.priority AND category_id = coalesce(OLD.category_id, 0);
END;
CREATE TRIGGER insights_count_move AFTER UPDATE OF status, priority, category_id ON insights
  WHEN OLD.status IS NOT NEW.status OR OLD.priority IS NOT NEW.priority
    OR OLD.category_id IS NOT NEW.category_id BEGIN
  UPDATE insight_counts SET n = n - 1 WHERE status = OLD.status
    AND priority = OLD.priority AND category_id = coalesce(OLD.category_id, 0);
  INSERT INTO insight_counts (status, priority, category_id, n)
    VALUES (NEW.status, NEW.priority, coalesce(NEW.category_id, 0), 1)
    ON CONFLICT (status, priority, category_id) DO UPDATE SET n = n + 1;
END;

CREATE VIRTUAL TABLE insights_fts USING fts5(
  title, description, content,
  content = 'insights', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER insights_fts_add AFTER INSERT ON insights BEGIN
  INSERT INTO insights_fts (rowid, title, description, content)
    VALUES (NEW.id, NEW.title, NEW.description, NEW.content);
END;
CREATE TRIGGER insights_fts_remove AFTER DELETE ON insights BEGIN
  INSERT INTO insights_fts (insights_fts, rowid, title, description, content)
    VALUES ('delete', OLD.id, OLD.title, OLD.description, OLD.content);
END;
CREATE TRIGGER insights_fts_change AFTER UPDATE OF title, description, content ON insights
  WHEN OLD.title IS NOT NEW.title OR OLD.description IS NOT NEW.description
    OR OLD.content IS NOT NEW.content BEGIN
  INSERT INTO insights_fts (insights_fts, rowid, title, description, content)
    VALUES ('delete', OLD.id, OLD.title, OLD.description, OLD.content);
  INSERT INTO insights_fts (rowid, title, description, content)
    VALUES (NEW.id, NEW.title, NEW.description, NEW.content);
END;
