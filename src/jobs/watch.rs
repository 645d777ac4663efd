//! Watching targets that jobs wait on.
//!
//! When the mail server (or a folder share) is down, every job that tries
//! it fails and waits out its own back-off, which after a few failures is
//! minutes long: without help, the last of forty orders would go out
//! minutes after the server is back. So while jobs wait on a target, the
//! target itself is probed every few seconds — a cheap check that sends
//! nothing and uses up no job's attempts (for mail: connect, greet, NOOP).
//! When a probe gets through, the job on that target due soonest is made
//! due now; if it gets through too, `jobs::reached` makes all the others
//! due at once.
//!
//! Only jobs that could not reach their target at all wait on it
//! ([`super::worker::JobError::Unreachable`]); one refused for reasons of
//! its own is left to its back-off.
//!
//! A probe can be wrong (a server that greets but refuses mail). Each time
//! one wakes a job, that target's next probe waits twice as long (up to
//! five minutes), so a misleading probe costs a job an attempt now and
//! then, never a stream of them. The wait starts again from the beginning
//! once no job waits on the target or runs against it.
//!
//! A target that stays down is probed every few seconds for the first
//! minutes, then once a minute. One probe per target runs at a time: a
//! probe of a hung share that outlives its timeout is not started again
//! until it has ended.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::params;
use tokio::sync::watch;

use super::worker::Waker;
use crate::db::{Cached, Db, DbError};
use crate::domain::Clock;

/// Checks a target: `None` when it is not a kind of target this probe
/// knows (it is then left to the jobs' own back-off), else whether it
/// answered.
pub type Probe = Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = Option<Result<(), String>>> + Send>>
        + Send
        + Sync,
>;

/// The longest wait between probes of a target after wake-ups.
const LONGEST_WAIT: Duration = Duration::from_secs(300);
/// A probe that takes longer than this failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Failed probes in a row after which a target is probed only once a
/// minute (five minutes of probes at the usual 5 s: an outage of a few
/// minutes is still noticed within seconds of its end).
const QUICK_PROBES: u32 = 60;
/// The wait between probes of a target that has stayed down.
const SLOW_PROBE_WAIT: Duration = Duration::from_secs(60);

/// What the watcher remembers about each target between rounds.
#[derive(Debug, Default)]
pub struct Watched {
    targets: HashMap<String, TargetState>,
    /// When a probe counts as failed ([`PROBE_TIMEOUT`] unless set).
    probe_timeout: Option<Duration>,
}

impl Watched {
    /// With probes that fail after `timeout` rather than the usual 10 s.
    pub fn with_probe_timeout(timeout: Duration) -> Self {
        Watched {
            probe_timeout: Some(timeout),
            ..Watched::default()
        }
    }
}

#[derive(Debug)]
struct TargetState {
    /// No probe before this.
    next: tokio::time::Instant,
    /// The wait after the next wake-up.
    wait: Duration,
    /// Probes in a row that did not get through.
    failures: u32,
    /// A probe that outlived its timeout and has not ended yet.
    running: Option<tokio::task::JoinHandle<Option<Result<(), String>>>>,
}

/// Probes every `every` until `stop`; see the module's description.
pub async fn run(
    db: Db,
    clock: Arc<dyn Clock>,
    waker: Waker,
    probe: Probe,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut watched = Watched::default();
    loop {
        if *stop.borrow() {
            return;
        }
        match round(&db, &*clock, &probe, every, &mut watched).await {
            Ok(woken) if woken > 0 => waker.wake(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not look at the targets jobs wait on"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}

/// One round: probes each target that jobs wait on (and whose turn it is)
/// and makes one job due on each that answered. Returns how many were
/// made due.
pub async fn round(
    db: &Db,
    clock: &dyn Clock,
    probe: &Probe,
    every: Duration,
    watched: &mut Watched,
) -> Result<usize, DbError> {
    let now = clock.now();
    // Targets that jobs wait on or run against, and whether one of those
    // waiting will not come due on its own before the next round.
    let soon = now.plus(every).to_db();
    let targets: Vec<(String, bool)> = db
        .read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT target, max(state = 'failed' AND run_at > ?1) FROM jobs
                 WHERE state IN ('failed', 'running') AND target IS NOT NULL
                 GROUP BY target",
            )?;
            let rows = stmt.query_map([soon], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<Vec<(String, bool)>, _>>()
                .map_err(DbError::from)
        })
        .await?;
    watched
        .targets
        .retain(|t, _| targets.iter().any(|(known, _)| known == t));
    let mut woken = 0;
    let probe_timeout = watched.probe_timeout.unwrap_or(PROBE_TIMEOUT);
    for (target, waiting) in targets {
        let at = tokio::time::Instant::now();
        let state = watched
            .targets
            .entry(target.clone())
            .or_insert(TargetState {
                next: at,
                wait: every,
                failures: 0,
                running: None,
            });
        if !waiting || state.next > at {
            continue;
        }
        let mut probing = match state.running.take() {
            // The last probe has not ended: no second one beside it.
            Some(handle) if !handle.is_finished() => {
                state.running = Some(handle);
                state.next = at + SLOW_PROBE_WAIT;
                continue;
            }
            _ => tokio::spawn(probe(target.clone())),
        };
        let answer = match tokio::time::timeout(probe_timeout, &mut probing).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => Some(Err(format!("the probe stopped: {e}"))),
            Err(_) => {
                state.running = Some(probing);
                Some(Err(format!(
                    "no answer within {:.1} s",
                    probe_timeout.as_secs_f64()
                )))
            }
        };
        match answer {
            None => {
                // Not a target this probe knows: do not ask again soon.
                state.next = at + LONGEST_WAIT;
            }
            Some(Err(e)) => {
                state.failures = state.failures.saturating_add(1);
                tracing::debug!(on = %target, error = %e, failures = state.failures, "a target jobs wait on is still unreachable");
                state.next = at
                    + if state.failures < QUICK_PROBES {
                        every
                    } else {
                        SLOW_PROBE_WAIT.max(every)
                    };
            }
            Some(Ok(())) => {
                state.failures = 0;
                let now = clock.now().to_db();
                let t = target.clone();
                let n = db
                    .write(move |tx| {
                        tx.exec_cached(
                            "UPDATE jobs SET run_at = ?1 WHERE id = (
                                 SELECT id FROM jobs WHERE state = 'failed' AND target = ?2
                                 ORDER BY run_at, id LIMIT 1)",
                            params![now, t],
                        )
                        .map_err(DbError::from)
                    })
                    .await?;
                if n > 0 {
                    tracing::info!(on = %target, "a target jobs wait on answers again: one job is tried now");
                }
                woken += n;
                state.next = at + state.wait;
                state.wait = (state.wait * 2).min(LONGEST_WAIT);
            }
        }
    }
    Ok(woken)
}
