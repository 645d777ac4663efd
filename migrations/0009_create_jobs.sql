-- The durable job queue: work that must happen outside a request (sending
-- an order, a digest, a backup check) is a row here, inserted in the same
-- transaction as the change that needs it. A worker claims a due job with a
-- lease; a job whose lease ran out (its process died) is due again. After
-- its last attempt a job is `dead` until someone retries it.
--
-- States: queued (waiting for run_at) → running → succeeded;
-- running → failed (waiting for a retry at run_at) → running …;
-- running → dead (no attempts left, or a permanent error);
-- queued | failed → cancelled (by an administrator).

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
    run_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_expires_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    -- Enqueuing the same key twice gives the first job back.
    idempotency_key TEXT UNIQUE,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
) STRICT;
CREATE INDEX jobs_due ON jobs (run_at) WHERE state IN ('queued', 'failed');
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_by_state_kind ON jobs (state, kind);

-- Every attempt: when, by which worker, how it ended.
CREATE TABLE job_attempts (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    attempt INTEGER NOT NULL,
    worker TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    -- NULL while running; succeeded, failed, dead, released, lease_expired.
    outcome TEXT CHECK (outcome IS NULL OR outcome IN
        ('succeeded', 'failed', 'dead', 'released', 'lease_expired')),
    error TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX job_attempts_by_job ON job_attempts (job_id, attempt);
