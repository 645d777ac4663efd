//! The worker: one tokio task that claims due jobs up to each kind's
//! concurrency, runs them on the runtime, keeps their leases alive while
//! they run, and records how each ended.
//!
//! It sleeps until the next job is due or a lease runs out, and is woken at
//! once when a job is inserted (an SQLite update hook on the writer
//! connection, see [`Waker::install`]), so an enqueued job does not wait
//! for a polling interval. On shutdown it stops claiming, gives running
//! jobs a bounded time to finish, and releases the rest: they are due
//! again at the next start, never lost.
//!
//! [`run_pending`] runs the same handlers and records the same outcomes
//! without the loop, leases or clocks of its own: it drains what is due,
//! one job after another, so a test can say "now the jobs have run"
//! instead of waiting for them.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::{AfterFailure, Claimed, PayloadError};
use crate::db::{Db, DbError};
use crate::domain::Clock;

/// How a job's run ended when it did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Worth trying again later (a 4xx/5xx that may pass).
    Retry(String),
    /// What the job tries to reach did not answer at all (connection
    /// refused or cut, no answer in time, a share not mounted): worth
    /// trying again, and the target is watched meanwhile (`jobs::watch`),
    /// so the job goes as soon as it answers again.
    Unreachable(String),
    /// Trying again cannot help (a rejected address, a 4xx): dead at once.
    Permanent(String),
}

/// What a handler gets.
#[derive(Clone)]
pub struct JobContext {
    pub id: i64,
    pub kind: String,
    /// The payload as stored; the application's kinds read it typed with
    /// [`JobContext::payload`].
    pub json: Value,
    pub attempt: u32,
    pub max_attempts: u32,
    /// The idempotency key it was enqueued with.
    pub key: Option<String>,
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    /// What this attempt tries to reach (see [`JobContext::reaching`]).
    pub target: Arc<std::sync::Mutex<Option<String>>>,
}

impl JobContext {
    /// Names what this attempt tries to reach — `smtp:mail.example`,
    /// `folder:medsupply`, `webhook:hooks.example` — so that when one job
    /// gets through to it, the jobs waiting to retry on it go at once.
    pub fn reaching(&self, target: impl Into<String>) {
        if let Ok(mut t) = self.target.lock() {
            *t = Some(target.into());
        }
    }

    /// The payload as `T` (one of the structs in [`super::kind`]). A
    /// payload that does not read is a permanent error naming the
    /// problem: retrying cannot mend it, and no default may stand in.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, JobError> {
        serde_json::from_value(self.json.clone()).map_err(|e| {
            JobError::Permanent(
                PayloadError {
                    kind: self.kind.clone(),
                    problem: e.to_string(),
                }
                .to_string(),
            )
        })
    }
}

pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
pub type Handler = Arc<dyn Fn(JobContext) -> JobFuture + Send + Sync>;

/// A kind of job this process runs.
#[derive(Clone)]
pub struct Kind {
    pub name: String,
    pub handler: Handler,
    /// How many of this kind run at once.
    pub concurrency: usize,
}

/// The worker's timing.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a claim holds a job before another worker may take it.
    pub lease: Duration,
    /// First retry delay; doubled for each further attempt.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// How long running jobs get to finish on shutdown.
    pub shutdown_grace: Duration,
    /// The longest sleep between looks at the queue.
    pub max_idle: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lease: Duration::from_secs(300),
            backoff_base: Duration::from_secs(10),
            backoff_cap: Duration::from_secs(3600),
            shutdown_grace: Duration::from_secs(10),
            max_idle: Duration::from_secs(30),
        }
    }
}

/// Wakes the worker when a job is inserted.
#[derive(Clone, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    /// Hooks the writer connection (and any that replaces it): every insert
    /// into `jobs` wakes the worker (before the commit; its claim is a
    /// write, so it runs after).
    pub fn install(&self, db: &Db) -> Result<(), DbError> {
        let notify = self.0.clone();
        db.on_insert(Arc::new(move |table: &str| {
            if table == "jobs" {
                notify.notify_one();
            }
        }))
    }

    pub fn wake(&self) {
        self.0.notify_one();
    }

    async fn woken(&self) {
        self.0.notified().await
    }
}

pub struct Worker {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub kinds: Vec<Kind>,
    pub settings: Settings,
    pub waker: Waker,
    /// This process's name in leases and attempts.
    pub id: String,
}

impl Worker {
    /// Runs until `stop` turns true, then shuts down as described above.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let kinds: HashMap<String, Kind> = self
            .kinds
            .iter()
            .map(|k| (k.name.clone(), k.clone()))
            .collect();
        let mut busy: HashMap<String, usize> = HashMap::new();
        let mut running: JoinSet<String> = JoinSet::new();
        let worker = Arc::new(self);
        let mut pruned_at: Option<tokio::time::Instant> = None;
        loop {
            if *stop.borrow() {
                break;
            }
            // Finished jobs older than a month go, an hour apart at most.
            if pruned_at.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
                pruned_at = Some(tokio::time::Instant::now());
                worker.prune().await;
            }
            let slots: Vec<(String, usize)> = kinds
                .values()
                .map(|k| {
                    let used = busy.get(&k.name).copied().unwrap_or(0);
                    (k.name.clone(), k.concurrency.saturating_sub(used))
                })
                .filter(|(_, n)| *n > 0)
                .collect();
            let claimed = if slots.is_empty() {
                Vec::new()
            } else {
                worker.claim(slots).await
            };
            for job in claimed {
                *busy.entry(job.kind.clone()).or_default() += 1;
                let handler = kinds[&job.kind].handler.clone();
                running.spawn(worker.clone().run_one(job, handler));
            }
            let free: Vec<String> = kinds
                .values()
                .filter(|k| busy.get(&k.name).copied().unwrap_or(0) < k.concurrency)
                .map(|k| k.name.clone())
                .collect();
            let wait = worker.next_wait(free).await;
            tokio::select! {
                _ = worker.waker.woken() => {}
                Some(done) = running.join_next(), if !running.is_empty() => {
                    if let Ok(kind) = done
                        && let Some(n) = busy.get_mut(&kind)
                    {
                        *n = n.saturating_sub(1);
                    }
                }
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
        // Shutdown: a bounded wait, then whatever still runs is released.
        let grace = worker.settings.shutdown_grace;
        let _ = tokio::time::timeout(grace, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        running.abort_all();
        while running.join_next().await.is_some() {}
        let (now, id) = (worker.clock.now(), worker.id.clone());
        match worker
            .db
            .write(move |tx| super::release(tx, now, &id).map_err(DbError::from))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "unfinished jobs released for the next start"),
            Err(e) => tracing::error!(error = %e, "could not release unfinished jobs"),
        }
    }

    async fn prune(&self) {
        let now = self.clock.now();
        match self
            .db
            .write(move |tx| super::prune(tx, now, 1000).map_err(DbError::from))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "finished jobs older than 30 days removed"),
            Err(e) => tracing::warn!(error = %e, "could not remove old finished jobs"),
        }
    }

    async fn claim(&self, slots: Vec<(String, usize)>) -> Vec<Claimed> {
        let (now, id, lease) = (self.clock.now(), self.id.clone(), self.settings.lease);
        let result = self
            .db
            .write(move |tx| {
                let slots: Vec<(&str, usize)> =
                    slots.iter().map(|(k, n)| (k.as_str(), *n)).collect();
                super::claim(tx, now, &id, lease, &slots).map_err(DbError::from)
            })
            .await;
        result.unwrap_or_else(|e| {
            tracing::error!(error = %e, "claiming jobs failed");
            Vec::new()
        })
    }

    /// Until the next job of a kind with room is due or a lease ends, at
    /// most `max_idle`.
    async fn next_wait(&self, kinds: Vec<String>) -> Duration {
        if kinds.is_empty() {
            return self.settings.max_idle;
        }
        let next = match self
            .db
            .read(move |c| super::next_wake(c, &kinds).map_err(DbError::from))
            .await
        {
            Ok(next) => next,
            Err(e) => {
                // Look again after the longest idle wait.
                tracing::error!(error = %e, "could not read when the next job is due");
                None
            }
        };
        let now = self.clock.now();
        match next {
            Some(t) if t.to_db() <= now.to_db() => Duration::from_millis(50),
            Some(t) => t.since(now).min(self.settings.max_idle),
            None => self.settings.max_idle,
        }
    }

    /// Runs one job with its lease renewed meanwhile; records the outcome.
    /// Returns the job's kind (for the concurrency count).
    async fn run_one(self: Arc<Self>, job: Claimed, handler: Handler) -> String {
        let kind = job.kind.clone();
        // The handler's own log lines carry the job they belong to.
        let span = tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempt);
        let ctx = context(&job, &self.db, &self.clock);
        let target = ctx.target.clone();
        let mut work = tracing::Instrument::instrument(handler(ctx), span);
        let mut renew = tokio::time::interval(self.settings.lease / 3);
        renew.tick().await;
        let result = loop {
            tokio::select! {
                r = &mut work => break r,
                _ = renew.tick() => {
                    let (now, id, worker, lease) = (self.clock.now(), job.id, self.id.clone(), self.settings.lease);
                    let held = self.db.write(move |tx| super::renew(tx, now, id, &worker, lease).map_err(DbError::from)).await;
                    if let Ok(false) = held {
                        tracing::warn!(id = job.id, "lease lost while running; its outcome will not be recorded");
                    }
                }
            }
        };
        let delay = super::backoff(
            job.attempt,
            self.settings.backoff_base,
            self.settings.backoff_cap,
            fastrand::f64(),
        );
        let target = target.lock().ok().and_then(|t| t.clone());
        if record(&self.db, &self.clock, &self.id, &job, result, delay, target).await > 0 {
            // Jobs waiting on the target just reached are due now.
            self.waker.wake();
        }
        kind
    }
}

/// What the handler of `job` gets.
fn context(job: &Claimed, db: &Db, clock: &Arc<dyn Clock>) -> JobContext {
    JobContext {
        id: job.id,
        kind: job.kind.clone(),
        json: job.payload.clone(),
        attempt: job.attempt,
        max_attempts: job.max_attempts,
        key: job.key.clone(),
        db: db.clone(),
        clock: clock.clone(),
        target: Arc::default(),
    }
}

/// Records how `job` ended (a retry `delay` from now when it may pass),
/// and logs it. With a `target` (what the attempt tried to reach): a
/// failure is kept on the job, and a success makes the jobs waiting to
/// retry on that target due now; returns how many.
async fn record(
    db: &Db,
    clock: &Arc<dyn Clock>,
    worker: &str,
    job: &Claimed,
    result: Result<(), JobError>,
    delay: Duration,
    target: Option<String>,
) -> usize {
    let (now, id, worker, kind) = (clock.now(), job.id, worker.to_string(), job.kind.clone());
    let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let w = woken.clone();
    // A job waits on its target only when it could not reach it: one
    // refused for reasons of its own (a full mailbox, a 503 from the
    // supplier) is not woken when the target answers others.
    let target = match &result {
        Ok(()) | Err(JobError::Unreachable(_)) => target,
        Err(JobError::Retry(_) | JobError::Permanent(_)) => None,
    };
    let recorded = db
        .write(move |tx| {
            tx.execute(
                "UPDATE jobs SET target = ?1 WHERE id = ?2",
                rusqlite::params![target, id],
            )?;
            match &result {
                Ok(()) => super::succeed(tx, now, id, &worker).and_then(|held| {
                    if let (true, Some(t)) = (held, &target) {
                        w.store(
                            super::reached(tx, now, t)?,
                            std::sync::atomic::Ordering::SeqCst,
                        );
                    }
                    Ok(if held {
                        None
                    } else {
                        Some(AfterFailure::NotHeld)
                    })
                }),
                Err(JobError::Retry(e) | JobError::Unreachable(e)) => {
                    super::fail(tx, now, id, &worker, e, false, delay).map(Some)
                }
                Err(JobError::Permanent(e)) => {
                    super::fail(tx, now, id, &worker, e, true, delay).map(Some)
                }
            }
            .map_err(DbError::from)
            .map(|after| (after, result))
        })
        .await;
    match recorded {
        Ok((None, _)) => tracing::info!(id, kind = %kind, "job succeeded"),
        Ok((Some(AfterFailure::RetryAt(at)), Err(e))) => {
            tracing::warn!(id, kind = %kind, error = ?e, retry_at = %at.to_db(), "job failed; will retry")
        }
        Ok((Some(AfterFailure::Dead), Err(e))) => {
            tracing::error!(id, kind = %kind, error = ?e, "job failed for the last time: dead")
        }
        Ok((Some(_), _)) => {
            tracing::warn!(id, kind = %kind, "job no longer held; outcome dropped")
        }
        Err(e) => {
            tracing::error!(id, kind = %kind, error = %e, "could not record the job's outcome")
        }
    }
    let woken = woken.load(std::sync::atomic::Ordering::SeqCst);
    if woken > 0 {
        tracing::info!(id, kind = %kind, woken, "target reachable again: jobs waiting on it are due now");
    }
    woken
}

/// The name [`run_pending`] claims under, in leases and attempts.
pub const RUN_PENDING_WORKER: &str = "run-pending";

/// Claims and runs, one at a time and in due order, every job of `kinds`
/// that is due at `clock`'s now, until none is; returns how many ran.
/// Outcomes are recorded as the worker records them (a failure that may
/// pass is due again after the first back-off step, which is after now,
/// so it does not run again here). For tests: what the worker would do
/// by itself, done before the next line of the test.
///
/// Leases are taken for an hour so that a worker running beside it (the
/// application's own, in the API tests) cannot take the same job; it can
/// still take others, so a test that must see every job run here starts
/// no other worker for these kinds.
pub async fn run_pending(db: &Db, clock: Arc<dyn Clock>, kinds: &[Kind]) -> usize {
    let handlers: HashMap<&str, &Handler> = kinds
        .iter()
        .map(|k| (k.name.as_str(), &k.handler))
        .collect();
    let names: Vec<String> = kinds.iter().map(|k| k.name.clone()).collect();
    let defaults = Settings::default();
    let mut ran = 0;
    loop {
        let (now, names) = (clock.now(), names.clone());
        let claimed = db
            .write(move |tx| {
                let slots: Vec<(&str, usize)> = names.iter().map(|k| (k.as_str(), 1)).collect();
                super::claim(
                    tx,
                    now,
                    RUN_PENDING_WORKER,
                    Duration::from_secs(3600),
                    &slots,
                )
                .map_err(DbError::from)
            })
            .await
            .expect("claiming due jobs");
        if claimed.is_empty() {
            return ran;
        }
        for job in claimed {
            let handler = handlers[job.kind.as_str()];
            let span =
                tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempt);
            let ctx = context(&job, db, &clock);
            let target = ctx.target.clone();
            let result = tracing::Instrument::instrument(handler(ctx), span).await;
            let target = target.lock().ok().and_then(|t| t.clone());
            let delay = super::backoff(
                job.attempt,
                defaults.backoff_base,
                defaults.backoff_cap,
                0.0,
            );
            record(db, &clock, RUN_PENDING_WORKER, &job, result, delay, target).await;
            ran += 1;
        }
    }
}
