-- Lifecycle statistics (issue 14): status transitions, review dates, owners.
--
-- insight_transitions records every change of an insight's status: from
-- (NULL when the insight was created, or brought back after a delete), to,
-- when, and who (the actor; NULL for history written by this migration).
-- It is written in the transaction of the write that changes the status,
-- and keeps the rows of deleted insights (they are history). Timestamps are
-- text in the API's format, which sorts as time does.
--
-- Existing insights get the history their columns tell: a creation at
-- created_at (to 'published' when published_at equals created_at, to
-- 'draft' otherwise), draft -> published at published_at when that came
-- later, and -> archived at updated_at for archived insights (from
-- 'published' when they had been published, from 'draft' otherwise). Three
-- INSERT ... SELECT over the table, then the indexes: seconds at 1M rows.
--
-- insights gain review_by (a date, YYYY-MM-DD), owner and reviewed_at (the
-- time of the last POST /insights/{id}/review); revisions keep them too.
-- The defaults are NULL: no table is rewritten. ix_insights_fresh orders
-- insights by status and by the later of updated_at and reviewed_at, which
-- is what makes a published insight stale: counting stale insights reads a
-- range of it, never the table.
ALTER TABLE insights ADD COLUMN review_by TEXT;
ALTER TABLE insights ADD COLUMN owner VARCHAR(255);
ALTER TABLE insights ADD COLUMN reviewed_at TIMESTAMP;
ALTER TABLE insight_revisions ADD COLUMN review_by TEXT;
ALTER TABLE insight_revisions ADD COLUMN owner TEXT;
ALTER TABLE insight_revisions ADD COLUMN reviewed_at TEXT;

CREATE TABLE insight_transitions (
  id INTEGER PRIMARY KEY,
  insight_id INTEGER NOT NULL,
  from_status TEXT,
  to_status TEXT NOT NULL,
  at TEXT NOT NULL,
  actor TEXT
);

INSERT INTO insight_transitions (insight_id, from_status, to_status, at, actor)
  SELECT id, NULL, CASE WHEN published_at = created_at THEN 'published' ELSE 'draft' END,
         created_at, NULL
  FROM insights ORDER BY id;
INSERT INTO insight_transitions (insight_id, from_status, to_status, at, actor)
  SELECT id, 'draft', 'published', published_at, NULL
  FROM insights WHERE published_at IS NOT NULL AND published_at <> created_at ORDER BY id;
INSERT INTO insight_transitions (insight_id, from_status, to_status, at, actor)
  SELECT id, CASE WHEN published_at IS NULL THEN 'draft' ELSE 'published' END, 'archived',
         updated_at, NULL
  FROM insights WHERE status = 'archived' ORDER BY id;

CREATE INDEX ix_insight_transitions_insight ON insight_transitions(insight_id, to_status, at);
CREATE INDEX ix_insight_transitions_at ON insight_transitions(at);
CREATE INDEX ix_insight_transitions_to ON insight_transitions(to_status, at);
CREATE INDEX ix_insights_fresh ON insights(status, max(updated_at, coalesce(reviewed_at, '')));
CREATE INDEX ix_insights_review_by ON insights(review_by) WHERE review_by IS NOT NULL;
