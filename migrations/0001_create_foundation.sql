-- Foundation: accounts, sessions, API tokens, lock-outs, the audit log.
-- Times are UTC text in the fixed form YYYY-MM-DDTHH:MM:SS.mmmZ (sortable).

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'staff', 'viewer')),
    password_hash TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- A session is known only by the SHA-256 of its cookie value.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    created_at TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id),
    last_used_at TEXT,
    revoked_at TEXT
) STRICT;
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

-- Failed logins per typed username (existing or not), for lock-outs that
-- survive a restart.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    username_key TEXT NOT NULL,
    failed_at TEXT NOT NULL,
    ip TEXT
) STRICT;
CREATE INDEX login_failures_by_key ON login_failures (username_key, failed_at);

CREATE TABLE lockouts (
    username_key TEXT PRIMARY KEY,
    locked_until TEXT NOT NULL
) STRICT;

-- Hash-chained: hash = SHA-256 of the row's canonical content including
-- prev_hash. Written only by audit::record, in the caller's transaction.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'token', 'system', 'anonymous')),
    actor_id INTEGER,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT,
    before_json TEXT,
    after_json TEXT,
    ip TEXT,
    request_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_by_entity ON audit_log (entity_type, entity_id);
CREATE INDEX audit_log_by_time ON audit_log (at);

-- One row that /readyz rewrites to prove the database accepts writes.
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at TEXT NOT NULL
) STRICT;
