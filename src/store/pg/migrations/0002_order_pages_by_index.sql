-- Pages are newest first, ties broken by id: with id in the index,
-- PostgreSQL reads a page in order instead of sorting every row before it.
-- The columns stay indexed under the same names.

DROP INDEX ix_insights_created_at;
CREATE INDEX ix_insights_created_at ON insights(created_at, id);
DROP INDEX idx_insights_status_created;
CREATE INDEX idx_insights_status_created ON insights(status, created_at, id);
