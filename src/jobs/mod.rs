//! The durable job queue, in the application's own SQLite database.
//!
//! [`enqueue`] takes the caller's transaction, so a job exists if and only
//! if the change that needs it committed (the outbox rule). The worker in
//! [`worker`] claims due jobs with a lease ([`claim`]), runs them, and
//! records the outcome: [`succeed`], [`fail`] (a retry after an exponential
//! back-off with jitter, or `dead` after the last attempt or a permanent
//! error), or [`release`] on shutdown. A job whose lease ran out — its
//! process was killed — is due again at the next claim. Every attempt is
//! kept in `job_attempts`.
//!
//! The application's own kinds and their payloads are typed in [`kind`];
//! the queue underneath runs kinds by name, so kinds it does not know
//! (tests', `jobs.schedule`'s) work too. A row that does not read — an
//! unknown state, a payload that is not JSON — is an error, never a
//! default.

pub mod admin;
pub mod kind;
pub mod schedule;
pub mod watch;
pub mod worker;

pub use admin::{
    Attempt, JobsError, NOT_DEAD, NOT_WAITING, REFUSALS, Stats, attempts, cancel, dismiss, retry,
    stats, try_now,
};
pub use kind::{JobKind, PayloadError, Subject};

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::Value;

use crate::db::Cached;
use crate::domain::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    /// Failed; waiting for its retry at `run_at`.
    Failed,
    Dead,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 6] = [
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Dead,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|s| s.as_str() == raw.trim())
    }
}

/// A job to add.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: Value,
    pub max_attempts: u32,
    /// Not before; now when absent.
    pub run_at: Option<Timestamp>,
    /// A second enqueue with the same key returns the first job.
    pub idempotency_key: Option<String>,
    /// The lane it runs in (see [`claim`]).
    pub lane: Option<String>,
}

impl NewJob {
    pub fn new(kind: &str, payload: Value) -> Self {
        NewJob {
            kind: kind.to_string(),
            payload,
            max_attempts: 5,
            run_at: None,
            idempotency_key: None,
            lane: None,
        }
    }

    /// One of the application's own kinds, with its typed payload.
    pub fn of(kind: &JobKind) -> Self {
        NewJob::new(kind.name(), kind.payload())
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    pub fn attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    pub fn at(mut self, when: Timestamp) -> Self {
        self.run_at = Some(when);
        self
    }

    /// Runs in `lane`: at most half of the kind's slots are given to one
    /// lane (see [`claim`]).
    pub fn lane(mut self, lane: impl Into<String>) -> Self {
        self.lane = Some(lane.into());
        self
    }
}

/// Adds a job in the caller's transaction; returns its id (the existing
/// job's when the idempotency key was used before). A known kind's payload
/// must read as its struct (else the job is refused: it could only fail),
/// and gives the job its subject.
pub fn enqueue(tx: &Transaction, now: Timestamp, job: &NewJob) -> rusqlite::Result<i64> {
    let subject = JobKind::from_parts(&job.kind, &job.payload)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?
        .and_then(|k| k.subject());
    let inserted = tx.exec_cached(
        "INSERT INTO jobs (kind, payload, max_attempts, run_at, idempotency_key, created_at,
             subject_type, subject_id, lane)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (idempotency_key) DO NOTHING",
        params![
            job.kind,
            job.payload.to_string(),
            job.max_attempts,
            job.run_at.unwrap_or(now).to_db(),
            job.idempotency_key,
            now.to_db(),
            subject.map(|s| s.kind),
            subject.map(|s| s.id),
            job.lane,
        ],
    )?;
    if inserted == 1 {
        return Ok(tx.last_insert_rowid());
    }
    tx.row_cached(
        "SELECT id FROM jobs WHERE idempotency_key = ?1",
        [&job.idempotency_key],
        |r| r.get(0),
    )
}

/// A job handed to a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    /// This attempt's number, from 1.
    pub attempt: u32,
    pub max_attempts: u32,
    /// The idempotency key it was enqueued with.
    pub key: Option<String>,
}

/// A due job as read for claiming: id, payload, attempts, max attempts, key.
type Due = (i64, String, u32, u32, Option<String>);

/// First gives back the jobs whose lease ran out (their worker is gone:
/// the attempt counts, and the last one makes the job dead), then claims up
/// to `slots` due jobs of each kind for `worker`, oldest due first — but
/// no lane takes more than half of the kind's slots (those running and
/// those free), so jobs stuck on one target (a stalled mail server) leave
/// room for the others. A job
/// whose payload is not JSON (written around the queue) could never run:
/// it is dead at once with the reason, and not handed out.
pub fn claim(
    tx: &Transaction,
    now: Timestamp,
    worker: &str,
    lease: Duration,
    slots: &[(&str, usize)],
) -> rusqlite::Result<Vec<Claimed>> {
    expire_leases(tx, now)?;
    let until = now.plus(lease).to_db();
    let mut out = Vec::new();
    for (kind, n) in slots.iter().filter(|(_, n)| *n > 0) {
        let mut running: std::collections::HashMap<String, usize> = tx
            .prepare_cached(
                "SELECT lane, count(*) FROM jobs WHERE state = 'running' AND kind = ?1
                   AND lane IS NOT NULL GROUP BY lane",
            )?
            .query_map([kind], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize))
            })?
            .collect::<Result<_, _>>()?;
        let in_use: usize = running.values().sum();
        let lane_cap = (in_use + *n).div_ceil(2).max(1);
        let mut stmt = tx.prepare_cached(
            "SELECT id, payload, attempts, max_attempts, idempotency_key, lane FROM jobs
             WHERE state IN ('queued', 'failed') AND kind = ?1 AND run_at <= ?2
             ORDER BY run_at, id LIMIT ?3",
        )?;
        // More than fit, so that a full lane's jobs can be passed over.
        let candidates: Vec<(Due, Option<String>)> = stmt
            .query_map(params![kind, now.to_db(), (*n * 8 + 16) as i64], |r| {
                let job: Due = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
                Ok((job, r.get(5)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut due = Vec::new();
        for (job, lane) in candidates {
            if due.len() == *n {
                break;
            }
            if let Some(lane) = lane {
                let used = running.entry(lane).or_insert(0);
                if *used >= lane_cap {
                    continue;
                }
                *used += 1;
            }
            due.push(job);
        }
        for (id, payload, attempts, max_attempts, key) in due {
            tx.exec_cached(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?1,
                    lease_expires_at = ?2, started_at = ?3 WHERE id = ?4",
                params![worker, until, now.to_db(), id],
            )?;
            tx.exec_cached(
                "INSERT INTO job_attempts (job_id, attempt, worker, started_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, attempts + 1, worker, now.to_db()],
            )?;
            let payload = match serde_json::from_str(&payload) {
                Ok(payload) => payload,
                Err(e) => {
                    let error = format!("the payload of this {kind} job is not JSON: {e}");
                    fail(tx, now, id, worker, &error, true, Duration::ZERO)?;
                    continue;
                }
            };
            out.push(Claimed {
                id,
                kind: kind.to_string(),
                payload,
                attempt: attempts + 1,
                max_attempts,
                key,
            });
        }
    }
    Ok(out)
}

/// At start-up, with the data directory locked: every job still marked
/// running was cut off when the last server stopped without finishing it
/// (a crash, a power loss). Each is given back at once — the attempt
/// counts, as its work may have been done, and the last one makes the job
/// dead — instead of waiting out its lease. Returns how many.
pub fn recover_interrupted(tx: &Transaction, now: Timestamp) -> rusqlite::Result<usize> {
    give_back(tx, now, None, |_| {
        "the server stopped (a crash or a power loss) during this attempt".to_string()
    })
}

fn expire_leases(tx: &Transaction, now: Timestamp) -> rusqlite::Result<usize> {
    give_back(tx, now, Some(now), |owner| {
        format!("lease expired: worker {owner} stopped before finishing")
    })
}

/// Gives back running jobs whose worker is gone (all of them, or those
/// whose lease ended by `lease_end`): the attempt counts — its
/// work may have been done — and ends as `lease_expired` with `error`;
/// the last attempt makes the job dead. Returns how many.
fn give_back(
    tx: &Transaction,
    now: Timestamp,
    lease_end: Option<Timestamp>,
    error: impl Fn(&str) -> String,
) -> rusqlite::Result<usize> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, coalesce(lease_owner, '') FROM jobs
         WHERE state = 'running' AND (?1 IS NULL OR lease_expires_at <= ?1)",
    )?;
    let cut: Vec<(i64, String)> = stmt
        .query_map([lease_end.map(Timestamp::to_db)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    for (id, owner) in &cut {
        let error = error(owner);
        tx.exec_cached(
            "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'failed' END,
                run_at = ?1, lease_owner = NULL, lease_expires_at = NULL, last_error = ?2,
                finished_at = CASE WHEN attempts >= max_attempts THEN ?1 ELSE NULL END
             WHERE id = ?3",
            params![now.to_db(), error, id],
        )?;
        end_attempt(tx, now, *id, owner, "lease_expired", &error)?;
    }
    Ok(cut.len())
}

fn end_attempt(
    tx: &Transaction,
    now: Timestamp,
    id: i64,
    worker: &str,
    outcome: &str,
    error: &str,
) -> rusqlite::Result<()> {
    tx.exec_cached(
        "UPDATE job_attempts SET finished_at = ?1, outcome = ?2, error = ?3
         WHERE job_id = ?4 AND worker = ?5 AND outcome IS NULL",
        params![now.to_db(), outcome, error, id, worker],
    )?;
    Ok(())
}

/// Extends the lease of a job `worker` still holds; false when it holds it
/// no more (the lease ran out and someone else took it).
pub fn renew(
    tx: &Transaction,
    now: Timestamp,
    id: i64,
    worker: &str,
    lease: Duration,
) -> rusqlite::Result<bool> {
    Ok(tx.exec_cached(
        "UPDATE jobs SET lease_expires_at = ?1 WHERE id = ?2 AND state = 'running' AND lease_owner = ?3",
        params![now.plus(lease).to_db(), id, worker],
    )? == 1)
}

/// Records success; false when `worker` no longer held the job.
pub fn succeed(tx: &Transaction, now: Timestamp, id: i64, worker: &str) -> rusqlite::Result<bool> {
    let n = tx.exec_cached(
        "UPDATE jobs SET state = 'succeeded', finished_at = ?1, lease_owner = NULL,
            lease_expires_at = NULL WHERE id = ?2 AND state = 'running' AND lease_owner = ?3",
        params![now.to_db(), id, worker],
    )?;
    if n == 1 {
        end_attempt(tx, now, id, worker, "succeeded", "")?;
        // Earlier dead jobs of this kind about the same thing are made good.
        tx.exec_cached(
            "UPDATE jobs SET resolved_at = ?1, resolved_by = 'job ' || ?2 || ' succeeded'
             WHERE state = 'dead' AND resolved_at IS NULL AND id <> ?2
               AND (kind, subject_type, subject_id) =
                   (SELECT kind, subject_type, subject_id FROM jobs WHERE id = ?2)",
            params![now.to_db(), id],
        )?;
    }
    Ok(n == 1)
}

/// A job just got through to `target`: the jobs waiting to retry on the
/// same target are due now. Returns how many.
pub fn reached(tx: &Transaction, now: Timestamp, target: &str) -> rusqlite::Result<usize> {
    tx.exec_cached(
        "UPDATE jobs SET run_at = ?1 WHERE state = 'failed' AND target = ?2 AND run_at > ?1",
        params![now.to_db(), target],
    )
}

/// How long to wait before retry number `attempt` (1 for the first retry):
/// `base · 2^(attempt−1)`, at most `cap`, of which a random half (`jitter`
/// in 0..1) is taken off so that jobs failing together do not retry
/// together.
pub fn backoff(attempt: u32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(30));
    let full = exp.min(cap);
    full.mul_f64(1.0 - 0.5 * jitter.clamp(0.0, 1.0))
}

/// What became of a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    RetryAt(Timestamp),
    Dead,
    /// The worker no longer held the job: nothing recorded.
    NotHeld,
}

/// Records a failed attempt: a retry after `delay`, or dead when it was the
/// last attempt or `permanent`.
pub fn fail(
    tx: &Transaction,
    now: Timestamp,
    id: i64,
    worker: &str,
    error: &str,
    permanent: bool,
    delay: Duration,
) -> rusqlite::Result<AfterFailure> {
    let held: Option<(u32, u32)> = tx
        .row_cached(
            "SELECT attempts, max_attempts FROM jobs WHERE id = ?1 AND state = 'running' AND lease_owner = ?2",
            params![id, worker],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((attempts, max)) = held else {
        return Ok(AfterFailure::NotHeld);
    };
    let error: String = error.chars().take(2000).collect();
    if permanent || attempts >= max {
        tx.exec_cached(
            "UPDATE jobs SET state = 'dead', last_error = ?1, finished_at = ?2, lease_owner = NULL,
                lease_expires_at = NULL WHERE id = ?3",
            params![error, now.to_db(), id],
        )?;
        end_attempt(tx, now, id, worker, "dead", &error)?;
        return Ok(AfterFailure::Dead);
    }
    let at = now.plus(delay);
    tx.exec_cached(
        "UPDATE jobs SET state = 'failed', last_error = ?1, run_at = ?2, lease_owner = NULL,
            lease_expires_at = NULL WHERE id = ?3",
        params![error, at.to_db(), id],
    )?;
    end_attempt(tx, now, id, worker, "failed", &error)?;
    Ok(AfterFailure::RetryAt(at))
}

/// Gives back every job `worker` holds, unfinished (shutdown): due again at
/// once, the attempt not counted.
pub fn release(tx: &Transaction, now: Timestamp, worker: &str) -> rusqlite::Result<usize> {
    let mut stmt =
        tx.prepare_cached("SELECT id FROM jobs WHERE state = 'running' AND lease_owner = ?1")?;
    let ids: Vec<i64> = stmt
        .query_map([worker], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in &ids {
        end_attempt(tx, now, *id, worker, "released", "stopped before finishing")?;
        tx.exec_cached(
            "UPDATE jobs SET state = CASE WHEN attempts > 1 THEN 'failed' ELSE 'queued' END,
                attempts = attempts - 1, run_at = ?1, lease_owner = NULL, lease_expires_at = NULL
             WHERE id = ?2",
            params![now.to_db(), id],
        )?;
    }
    Ok(ids.len())
}

/// When the worker should look again at the latest: the earliest run_at
/// of a waiting job or lease end of a running one, among `kinds` (the
/// kinds it runs and has room for).
pub fn next_wake(conn: &Connection, kinds: &[String]) -> rusqlite::Result<Option<Timestamp>> {
    let kinds: Vec<rusqlite::types::Value> = kinds
        .iter()
        .map(|k| rusqlite::types::Value::Text(k.clone()))
        .collect();
    let at: Option<String> = conn.row_cached(
        "SELECT min(t) FROM (
             SELECT min(run_at) AS t FROM jobs
             WHERE state IN ('queued', 'failed') AND kind IN rarray(?1)
             UNION ALL SELECT min(lease_expires_at) FROM jobs
             WHERE state = 'running' AND kind IN rarray(?1))",
        [std::rc::Rc::new(kinds)],
        |r| r.get(0),
    )?;
    time_column(at)
}

/// A time read back from a query: one that does not parse is an error, not
/// "no time" (which would put a damaged row to sleep for good).
pub(crate) fn time_column(raw: Option<String>) -> rusqlite::Result<Option<Timestamp>> {
    raw.map(|t| {
        Timestamp::parse(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
    })
    .transpose()
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    pub state: JobState,
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_at: String,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<String>,
    pub last_error: String,
    pub idempotency_key: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// A dead job no longer needing a person: when, and why ("job 42
    /// succeeded", "dismissed by anna").
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
}

const JOB_COLUMNS: &str = "id, kind, payload, state, attempts, max_attempts, run_at, lease_owner,
    lease_expires_at, last_error, idempotency_key, created_at, started_at, finished_at,
    resolved_at, resolved_by";

/// A state column that holds none of [`JobState::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown job state {0:?}")]
pub struct UnknownState(pub String);

/// A row read back as it is: a payload that is not JSON or a state this
/// version does not know is an error naming the column, not `null` or
/// `dead` (which would let a damaged row pass for a real one).
fn map_job(r: &rusqlite::Row) -> rusqlite::Result<Job> {
    use rusqlite::types::Type;
    let payload: String = r.get(2)?;
    let state: String = r.get(3)?;
    Ok(Job {
        id: r.get(0)?,
        kind: r.get(1)?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, Type::Text, Box::new(e)))?,
        state: JobState::parse(&state).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                3,
                Type::Text,
                Box::new(UnknownState(state.clone())),
            )
        })?,
        attempts: r.get(4)?,
        max_attempts: r.get(5)?,
        run_at: r.get(6)?,
        lease_owner: r.get(7)?,
        lease_expires_at: r.get(8)?,
        last_error: r.get(9)?,
        idempotency_key: r.get(10)?,
        created_at: r.get(11)?,
        started_at: r.get(12)?,
        finished_at: r.get(13)?,
        resolved_at: r.get(14)?,
        resolved_by: r.get(15)?,
    })
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Job>> {
    conn.row_cached(
        &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
        [id],
        map_job,
    )
    .optional()
}

/// Jobs in `state` (all when None) of `kind` (all when None), newest first,
/// and how many match.
pub fn list(
    conn: &Connection,
    state: Option<JobState>,
    kind: Option<&str>,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<(Vec<Job>, i64)> {
    let state = state.map(JobState::as_str);
    let total = conn.row_cached(
        "SELECT count(*) FROM jobs WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR kind = ?2)",
        params![state, kind],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR kind = ?2)
         ORDER BY id DESC LIMIT ?3 OFFSET ?4"
    ))?;
    let rows = stmt.query_map(params![state, kind, limit, offset], map_job)?;
    Ok((rows.collect::<Result<_, _>>()?, total))
}

/// How long finished jobs are kept (for the admin page and the supplier
/// page's last test) before `prune` removes them.
pub const KEEP_FINISHED: Duration = Duration::from_secs(30 * 86_400);

/// Removes up to `batch` succeeded or cancelled jobs (with their attempts)
/// that finished before `now - KEEP_FINISHED`. Dead and unfinished jobs
/// stay until someone deals with them. Returns how many were removed.
pub fn prune(tx: &Transaction, now: Timestamp, batch: usize) -> rusqlite::Result<usize> {
    let cutoff = now.minus(KEEP_FINISHED).to_db();
    let ids: Vec<i64> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id FROM jobs WHERE state IN ('succeeded', 'cancelled') AND finished_at < ?1
             ORDER BY id LIMIT ?2",
        )?;
        stmt.query_map(params![cutoff, batch as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    for id in &ids {
        tx.exec_cached("DELETE FROM job_attempts WHERE job_id = ?1", [id])?;
        tx.exec_cached("DELETE FROM jobs WHERE id = ?1", [id])?;
    }
    Ok(ids.len())
}

#[cfg(test)]
mod tests;
