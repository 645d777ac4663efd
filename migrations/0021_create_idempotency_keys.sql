-- Requests that carried an Idempotency-Key (a header from API clients, a
-- hidden field on forms) and wrote something. The row is written in the
-- same transaction as the request's first write, so a retry after a lost
-- answer finds it even when the server died before answering; the answer
-- itself is stored just after (status NULL: carried out, answer not kept).
-- Kept 24 hours.
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,             -- whose key: 'user:<id>'
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,       -- SHA-256 of method, path and body
    created_at TEXT NOT NULL,        -- UTC, RFC 3339
    status INTEGER,                  -- the answer's HTTP status
    headers TEXT,                    -- JSON [[name, value], ...] to replay
    body BLOB,
    PRIMARY KEY (scope, idempotency_key)
) WITHOUT ROWID;

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
