-- Revisions and versions (issue 14), as on SQLite.
--
-- insights.revision moves on every change of an insight (1 when created);
-- tags.version and categories.version on every change of theirs. They are
-- the entity tags of conditional requests (If-Match, If-None-Match). The
-- defaults make every existing row revision 1 without rewriting a table.
--
-- insight_revisions keeps the versions of an insight: each change writes the
-- version it makes (who made it, `actor`), and the version it replaces when
-- that one was never written (made before this migration or by a bulk
-- load: actor NULL), in the change's transaction. The time of a version is
-- its updated_at. Timestamps are text in the API's format; `tag_ids` is a
-- JSON array of ids. While the insight is deleted, deleted_at says when:
-- its revisions are kept for the retention period, then pruned.
ALTER TABLE insights ADD COLUMN revision bigint NOT NULL DEFAULT 1;
ALTER TABLE tags ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE categories ADD COLUMN version bigint NOT NULL DEFAULT 1;

CREATE TABLE insight_revisions (
  insight_id bigint NOT NULL,
  revision bigint NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  content TEXT,
  source TEXT,
  author TEXT NOT NULL,
  category_id bigint,
  priority TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  published_at TEXT,
  tag_ids TEXT NOT NULL,
  actor TEXT,
  deleted_at TEXT,
  PRIMARY KEY (insight_id, revision)
);
CREATE INDEX ix_insight_revisions_deleted ON insight_revisions(deleted_at)
  WHERE deleted_at IS NOT NULL;
