-- A second factor at sign-in: a TOTP authenticator (RFC 6238) and
-- one-time recovery codes.
--
-- The authenticator's secret is kept as stockroom must compute codes from
-- it; `confirmed_at` is NULL while the user is still setting it up (a
-- secret shown but not yet proved with a code). `last_step` is the last
-- 30-second step whose code was accepted: a code is accepted once.
CREATE TABLE second_factors (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    confirmed_at TEXT,
    last_step INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Recovery codes, stored as argon2id hashes; used once.
CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at TEXT
) STRICT;
CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);

-- A sign-in half done: the password was right, the second factor is still
-- to come. The cookie holds 256 random bits; only their SHA-256 is kept.
CREATE TABLE login_challenges (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    next TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX login_challenges_by_user ON login_challenges (user_id);
