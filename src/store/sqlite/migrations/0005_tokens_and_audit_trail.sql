-- API tokens and the audit trail (authentication, issue 13).
--
-- A token is kept as the SHA-256 of its text, never the text: whoever reads
-- the database cannot use what they read. Timestamps are text in the API's
-- format ("2026-12-01T04:20:00Z"), which sorts as time does.
--
-- An audit entry is written in the transaction of the write it describes.
-- Entries are read newest first (by id) and filtered by resource, actor and
-- time; `changes` is a JSON object {"field": {"old": ..., "new": ...}}.
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  last4 TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  last_used_at TEXT
);
CREATE UNIQUE INDEX ix_api_tokens_name ON api_tokens(name);
CREATE UNIQUE INDEX ix_api_tokens_hash ON api_tokens(token_hash);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  time TEXT NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  resource TEXT NOT NULL,
  resource_id INTEGER,
  request_id TEXT,
  changes TEXT NOT NULL
);
CREATE INDEX ix_audit_log_time ON audit_log(time);
CREATE INDEX ix_audit_log_resource ON audit_log(resource, resource_id, id);
CREATE INDEX ix_audit_log_actor ON audit_log(actor, id);
