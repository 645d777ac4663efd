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
//! A probe can be wrong (a server that greets but refuses mail). Each time
//! one wakes a job, that target's next probe waits twice as long (up to
//! five minutes), so a misleading probe costs a job an attempt now and
//! then, never a stream of them. The wait starts again from the beginning
//! once nothing waits on the target.

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

/// What the watcher remembers about each target between rounds.
#[derive(Debug, Default)]
pub struct Watched {
    targets: HashMap<String, TargetState>,
}

#[derive(Debug, Clone, Copy)]
struct TargetState {
    /// No probe before this.
    next: tokio::time::Instant,
    /// The wait after the next wake-up.
    wait: Duration,
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
    // Jobs that will not come due on their own before the next round.
    let soon = now.plus(every).to_db();
    let waiting: Vec<String> = db
        .read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT DISTINCT target FROM jobs
                 WHERE state = 'failed' AND target IS NOT NULL AND run_at > ?1",
            )?;
            let rows = stmt.query_map([soon], |r| r.get(0))?;
            rows.collect::<Result<Vec<String>, _>>()
                .map_err(DbError::from)
        })
        .await?;
    watched.targets.retain(|t, _| waiting.contains(t));
    let mut woken = 0;
    for target in waiting {
        let at = tokio::time::Instant::now();
        let state = watched
            .targets
            .entry(target.clone())
            .or_insert(TargetState {
                next: at,
                wait: every,
            });
        if state.next > at {
            continue;
        }
        let answer = match tokio::time::timeout(PROBE_TIMEOUT, probe(target.clone())).await {
            Ok(answer) => answer,
            Err(_) => Some(Err(format!(
                "no answer within {} s",
                PROBE_TIMEOUT.as_secs()
            ))),
        };
        match answer {
            None => {
                // Not a target this probe knows: do not ask again soon.
                state.next = at + LONGEST_WAIT;
            }
            Some(Err(e)) => {
                tracing::debug!(on = %target, error = %e, "a target jobs wait on is still unreachable");
                state.next = at + every;
            }
            Some(Ok(())) => {
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
