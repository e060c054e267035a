-- A trigram index of insights' texts, for substring filters (GraphQL's
-- _like and _ilike on title, description and content): a pattern with a
-- run of three characters or more between its wildcards reads the index
-- for candidates instead of every row, then the exact test decides
-- (store/sqlite/query.c). It also serves languages written without spaces,
-- where the word index finds nothing. Like insights_fts, it follows updates
-- and deletes by triggers, and new insights are indexed when their commit
-- group commits (store/sqlite/txn.c). detail = 'none' keeps no positions:
-- a substring test needs none, and the index is half the size.
CREATE VIRTUAL TABLE insights_trgm USING fts5(
  title, description, content,
  content = 'insights', content_rowid = 'id',
  tokenize = 'trigram', detail = 'none'
);
INSERT INTO insights_trgm (insights_trgm) VALUES ('rebuild');

CREATE TRIGGER insights_trgm_remove AFTER DELETE ON insights BEGIN
  INSERT INTO insights_trgm (insights_trgm, rowid, title, description, content)
    VALUES ('delete', OLD.id, OLD.title, OLD.description, OLD.content);
END;
CREATE TRIGGER insights_trgm_change AFTER UPDATE OF title, description, content ON insights
  WHEN OLD.title IS NOT NEW.title OR OLD.description IS NOT NEW.description
    OR OLD.content IS NOT NEW.content BEGIN
  INSERT INTO insights_trgm (insights_trgm, rowid, title, description, content)
    VALUES ('delete', OLD.id, OLD.title, OLD.description, OLD.content);
  INSERT INTO insights_trgm (rowid, title, description, content)
    VALUES (NEW.id, NEW.title, NEW.description, NEW.content);
END;
