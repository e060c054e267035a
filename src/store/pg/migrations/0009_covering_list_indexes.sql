-- Lists filter by status, priority and category, newest first (created_at,
-- then id), as on SQLite: the indexes that order them now carry the other
-- filter columns (INCLUDE), so that a page's ids come from an index-only
-- scan. Before, status, priority and category together took two bitmap
-- scans and a sort of every match (62 ms for a page 20 deep at 100k
-- insights, 1.7 ms with these), and one category walked the created_at
-- index reading each row (17 ms, 2.2 ms). Names stay.

DROP INDEX idx_insights_status_created;
CREATE INDEX idx_insights_status_created ON insights(status, created_at, id)
  INCLUDE (priority, category_id);
DROP INDEX ix_insights_created_at;
CREATE INDEX ix_insights_created_at ON insights(created_at, id)
  INCLUDE (status, priority, category_id);
DROP INDEX idx_insights_category_status;
CREATE INDEX idx_insights_category_status ON insights(category_id, status, created_at, id)
  INCLUDE (priority);
DROP INDEX idx_insights_status_priority;
CREATE INDEX idx_insights_status_priority ON insights(status, priority, created_at, id)
  INCLUDE (category_id);
