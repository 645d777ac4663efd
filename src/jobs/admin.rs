//! What administrators see of the queue and do to it: a job's attempts,
//! the figures per state and kind, retrying a dead job and cancelling a
//! waiting one (both audited, refused with a stable code otherwise). The
//! queue's own mechanics (enqueue, claim, lease, fail) are in `mod.rs`.

use rusqlite::{Connection, Transaction, params};
use serde::Serialize;
use serde_json::json;

use super::{Job, JobState, get};
use crate::audit::{self, Context, Event};
use crate::db::Cached;
use crate::domain::Timestamp;
use crate::domain::refusal::{Code, Refusal};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    pub attempt: u32,
    pub worker: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// succeeded, failed, dead, released, lease_expired; none while running.
    pub outcome: Option<String>,
    pub error: String,
}

pub fn attempts(conn: &Connection, id: i64) -> rusqlite::Result<Vec<Attempt>> {
    let mut stmt = conn.prepare_cached(
        "SELECT attempt, worker, started_at, finished_at, outcome, error FROM job_attempts
         WHERE job_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Attempt {
            attempt: r.get(0)?,
            worker: r.get(1)?,
            started_at: r.get(2)?,
            finished_at: r.get(3)?,
            outcome: r.get(4)?,
            error: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// Figures for the admin page, `/readyz` and metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub queued: i64,
    pub running: i64,
    /// Failed, waiting for a retry.
    pub retrying: i64,
    /// Dead and not resolved (see [`dismiss`]): they need a person.
    pub dead: i64,
    /// Seconds the oldest due job has been waiting (0 when none).
    pub oldest_queued_secs: i64,
    /// Per kind: (kind, state, count).
    pub by_kind: Vec<(String, String, i64)>,
}

pub fn stats(conn: &Connection, now: Timestamp) -> rusqlite::Result<Stats> {
    let mut s = Stats::default();
    let mut stmt = conn.prepare_cached(
        "SELECT kind, state, count(*) FROM jobs
         WHERE state IN ('queued', 'running', 'failed', 'dead') AND resolved_at IS NULL
         GROUP BY kind, state ORDER BY kind, state",
    )?;
    for row in stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })? {
        let (kind, state, n) = row?;
        match state.as_str() {
            "queued" => s.queued += n,
            "running" => s.running += n,
            "failed" => s.retrying += n,
            _ => s.dead += n,
        }
        s.by_kind.push((kind, state, n));
    }
    let oldest: Option<String> = conn.row_cached(
        "SELECT min(run_at) FROM jobs WHERE state IN ('queued', 'failed') AND run_at <= ?1",
        [now.to_db()],
        |r| r.get(0),
    )?;
    s.oldest_queued_secs = super::time_column(oldest)?.map_or(0, |t| now.since(t).as_secs() as i64);
    Ok(s)
}

/// Refused: only a dead job can be retried.
pub const NOT_DEAD: Code = Code::conflict(
    "job-not-dead",
    "Only a dead job can be retried; this one is waiting, running or finished.",
);
/// Refused: only a waiting job can be cancelled.
pub const NOT_WAITING: Code = Code::conflict(
    "job-not-waiting",
    "Only a job waiting to run (or to run again) can be cancelled; this one is running or finished.",
);
/// Every code the queue refuses an administrator's action with.
pub const REFUSALS: &[Code] = &[NOT_DEAD, NOT_WAITING];

/// Why an administrator's action on a job was refused.
#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error("no such job")]
    NoSuchJob,
    #[error(transparent)]
    Refused(Refusal),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<rusqlite::Error> for JobsError {
    fn from(e: rusqlite::Error) -> Self {
        JobsError::Db(crate::db::DbError::Sqlite(e))
    }
}

/// A dead job gets a fresh set of attempts, due now.
pub fn retry(tx: &Transaction, ctx: &Context, id: i64) -> Result<Job, JobsError> {
    let job = get(tx, id)?.ok_or(JobsError::NoSuchJob)?;
    if job.state != JobState::Dead {
        return Err(JobsError::Refused(Refusal::new(
            NOT_DEAD,
            format!(
                "Job {id} is {}: only a dead job can be retried",
                job.state.as_str()
            ),
        )));
    }
    tx.exec_cached(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?1, finished_at = NULL,
            resolved_at = NULL, resolved_by = NULL WHERE id = ?2",
        params![ctx.at.to_db(), id],
    )?;
    audit::record(
        tx,
        ctx,
        Event::new("job.retry", "job", id)
            .before(json!({"state": job.state, "last_error": job.last_error}))
            .after(json!({"state": "queued", "kind": job.kind})),
    )?;
    Ok(get(tx, id)?.expect("exists"))
}

/// A dead job that needs nobody any more (its order was sent another way,
/// say) is dismissed: it stays in the history, and health stops counting it.
pub fn dismiss(tx: &Transaction, ctx: &Context, id: i64) -> Result<Job, JobsError> {
    let job = get(tx, id)?.ok_or(JobsError::NoSuchJob)?;
    if job.state != JobState::Dead || job.resolved_at.is_some() {
        return Err(JobsError::Refused(Refusal::new(
            NOT_DEAD,
            format!(
                "Job {id} is {}: only a dead job not yet resolved can be dismissed",
                if job.resolved_at.is_some() {
                    "resolved"
                } else {
                    job.state.as_str()
                }
            ),
        )));
    }
    let who = ctx
        .actor
        .person()
        .map_or("the system".to_string(), |p| p.username.clone());
    tx.exec_cached(
        "UPDATE jobs SET resolved_at = ?1, resolved_by = ?2 WHERE id = ?3",
        params![ctx.at.to_db(), format!("dismissed by {who}"), id],
    )?;
    audit::record(
        tx,
        ctx,
        Event::new("job.dismiss", "job", id)
            .before(json!({"state": job.state, "last_error": job.last_error}))
            .after(json!({"resolved": true, "kind": job.kind})),
    )?;
    Ok(get(tx, id)?.expect("exists"))
}

/// A job waiting for its next try (after a failure) is due now: someone
/// fixed what was wrong, or knows the mail server is back.
pub fn try_now(tx: &Transaction, ctx: &Context, id: i64) -> Result<Job, JobsError> {
    let job = get(tx, id)?.ok_or(JobsError::NoSuchJob)?;
    if job.state != JobState::Failed {
        return Err(JobsError::Refused(Refusal::new(
            NOT_WAITING,
            format!(
                "Job {id} is {}: only a job waiting to try again can be tried now",
                job.state.as_str()
            ),
        )));
    }
    tx.exec_cached(
        "UPDATE jobs SET run_at = ?1 WHERE id = ?2",
        params![ctx.at.to_db(), id],
    )?;
    audit::record(
        tx,
        ctx,
        Event::new("job.try_now", "job", id)
            .before(json!({"run_at": job.run_at}))
            .after(json!({"run_at": ctx.at.to_db(), "kind": job.kind})),
    )?;
    Ok(get(tx, id)?.expect("exists"))
}

/// A job that has not started (or waits for a retry) will not run.
pub fn cancel(tx: &Transaction, ctx: &Context, id: i64) -> Result<Job, JobsError> {
    let job = get(tx, id)?.ok_or(JobsError::NoSuchJob)?;
    if !matches!(job.state, JobState::Queued | JobState::Failed) {
        return Err(JobsError::Refused(Refusal::new(
            NOT_WAITING,
            format!(
                "Job {id} is {}: only a waiting job can be cancelled",
                job.state.as_str()
            ),
        )));
    }
    tx.exec_cached(
        "UPDATE jobs SET state = 'cancelled', finished_at = ?1 WHERE id = ?2",
        params![ctx.at.to_db(), id],
    )?;
    audit::record(
        tx,
        ctx,
        Event::new("job.cancel", "job", id)
            .before(json!({"state": job.state}))
            .after(json!({"state": "cancelled", "kind": job.kind})),
    )?;
    Ok(get(tx, id)?.expect("exists"))
}
