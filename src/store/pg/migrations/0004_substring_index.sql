-- Trigram indexes of insights' texts, for substring filters (GraphQL's
-- _like and _ilike on title, description and content): PostgreSQL's
-- pg_trgm answers LIKE and ILIKE patterns from a GIN index instead of
-- reading every row. pg_trgm is a trusted extension: the database's owner
-- may create it. It also serves languages written without spaces.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX idx_insights_title_trgm ON insights USING gin (title gin_trgm_ops);
CREATE INDEX idx_insights_description_trgm ON insights USING gin (description gin_trgm_ops);
CREATE INDEX idx_insights_content_trgm ON insights USING gin (content gin_trgm_ops);
