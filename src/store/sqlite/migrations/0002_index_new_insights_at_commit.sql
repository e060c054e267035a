-- New insights are indexed by the store when their commit group commits
-- (store/sqlite/txn.c, sq_fts_flush): FTS5 writes a segment at every
-- savepoint, so a trigger per insert meant a segment per insight.

DROP TRIGGER insights_fts_add;
