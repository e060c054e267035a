-- Idempotency keys (issue 14): the first answer to a POST sent with an
-- Idempotency-Key header, so that a retry with the same key gets that
-- answer again instead of writing twice.
--
-- A key belongs to an actor: two credentials never see each other's keys.
-- A row is first a claim (status 0, no body), committed on its own so that
-- other requests with the key see it; the write it stands for then stores
-- its answer (status and body) in the write's own transaction, on the row
-- whose `token` is the claimer's. `target` ("POST /tags") and `fingerprint`
-- (the SHA-256 of the query and body) tell a retry from a different request
-- under the same key. `created_at` is in Unix seconds: rows older than the
-- configured lifetime are ignored, then pruned.
CREATE TABLE idempotency_keys (
  actor TEXT NOT NULL,
  key TEXT NOT NULL,
  target TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status INTEGER NOT NULL DEFAULT 0,
  body TEXT,
  PRIMARY KEY (actor, key)
);
CREATE INDEX ix_idempotency_keys_created ON idempotency_keys(created_at);
