use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::worker::{Handler, JobContext, JobError, Kind, Settings, Waker, Worker};
use super::*;
use crate::audit::Actor;
use crate::db::{Db, DbError};
use crate::domain::Clock;

fn t0() -> Timestamp {
    Timestamp::parse("2026-11-30T10:00:00.000Z").unwrap()
}

fn db() -> (tempfile::TempDir, Db) {
    crate::db::testing::migrated_db()
}

fn add(db: &Db, at: Timestamp, job: NewJob) -> i64 {
    db.write_blocking(|tx| enqueue(tx, at, &job).map_err(DbError::from))
        .unwrap()
}

fn take(db: &Db, at: Timestamp, worker: &str, slots: &[(&str, usize)]) -> Vec<Claimed> {
    db.write_blocking(|tx| {
        claim(tx, at, worker, Duration::from_secs(60), slots).map_err(DbError::from)
    })
    .unwrap()
}

fn job(db: &Db, id: i64) -> Job {
    db.read_blocking(|c| get(c, id).map_err(DbError::from))
        .unwrap()
        .unwrap()
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn an_idempotency_key_gives_the_first_job_back() {
    let (_d, db) = db();
    let a = add(
        &db,
        t0(),
        NewJob::new("mail", json!({"to": 1})).key("order-7-v1"),
    );
    let b = add(
        &db,
        t0(),
        NewJob::new("mail", json!({"to": 2})).key("order-7-v1"),
    );
    let c = add(&db, t0(), NewJob::new("mail", json!({"to": 3})));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(job(&db, a).payload, json!({"to": 1}));
}

#[test]
fn a_job_exists_only_if_its_transaction_commits() {
    let (_d, db) = db();
    let r: Result<(), DbError> = db.write_blocking(|tx| {
        enqueue(tx, t0(), &NewJob::new("mail", json!({})))?;
        Err(DbError::Group("the business change failed".into()))
    });
    assert!(r.is_err());
    let n: i64 = db
        .read_blocking(|c| {
            c.query_row("SELECT count(*) FROM jobs", [], |r| r.get(0))
                .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn claims_take_due_jobs_of_each_kind_up_to_the_free_slots() {
    let (_d, db) = db();
    for i in 0..3 {
        add(&db, t0(), NewJob::new("mail", json!({"n": i})));
    }
    add(&db, t0(), NewJob::new("edi", json!({})));
    let later = add(
        &db,
        t0(),
        NewJob::new("mail", json!({})).at(t0().plus(secs(30))),
    );
    let got = take(&db, t0(), "w1", &[("mail", 2), ("edi", 0)]);
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|j| j.kind == "mail" && j.attempt == 1));
    let j = job(&db, got[0].id);
    assert_eq!(
        (j.state, j.lease_owner.as_deref()),
        (JobState::Running, Some("w1"))
    );
    assert_eq!(
        j.lease_expires_at.as_deref(),
        Some("2026-11-30T10:01:00.000Z")
    );
    // The third mail is due, the later one not yet.
    let more = take(&db, t0(), "w1", &[("mail", 5)]);
    assert_eq!(more.len(), 1);
    assert!(more.iter().all(|j| j.id != later));
    assert_eq!(
        take(&db, t0().plus(secs(30)), "w1", &[("mail", 5)])[0].id,
        later
    );
}

#[test]
fn failures_retry_after_a_growing_delay_then_die() {
    let (_d, db) = db();
    let id = add(&db, t0(), NewJob::new("mail", json!({})).attempts(3));
    let mut now = t0();
    for attempt in 1..=3u32 {
        let got = take(&db, now, "w1", &[("mail", 1)]);
        assert_eq!((got.len(), got[0].attempt), (1, attempt));
        let delay = backoff(attempt, secs(10), secs(3600), 0.0);
        let after = db
            .write_blocking(|tx| {
                fail(tx, now, id, "w1", "421 try later", false, delay).map_err(DbError::from)
            })
            .unwrap();
        if attempt < 3 {
            assert_eq!(after, AfterFailure::RetryAt(now.plus(delay)));
            assert_eq!(job(&db, id).state, JobState::Failed);
            // Not before its time.
            assert!(
                take(
                    &db,
                    now.plus(delay).minus(Duration::from_millis(1)),
                    "w1",
                    &[("mail", 1)]
                )
                .is_empty()
            );
            now = now.plus(delay);
        } else {
            assert_eq!(after, AfterFailure::Dead);
        }
    }
    let j = job(&db, id);
    assert_eq!(
        (j.state, j.attempts, j.last_error.as_str()),
        (JobState::Dead, 3, "421 try later")
    );
    let tries = db
        .read_blocking(|c| attempts(c, id).map_err(DbError::from))
        .unwrap();
    let outcomes: Vec<_> = tries.iter().map(|a| a.outcome.clone().unwrap()).collect();
    assert_eq!(outcomes, ["failed", "failed", "dead"]);
    // A permanent error is dead at once.
    let p = add(&db, now, NewJob::new("mail", json!({})).attempts(5));
    take(&db, now, "w1", &[("mail", 1)]);
    let after = db
        .write_blocking(|tx| {
            fail(tx, now, p, "w1", "550 no such user", true, secs(1)).map_err(DbError::from)
        })
        .unwrap();
    assert_eq!((after, job(&db, p).attempts), (AfterFailure::Dead, 1));
}

#[test]
fn backoff_doubles_up_to_the_cap_with_at_most_half_taken_off() {
    assert_eq!(backoff(1, secs(10), secs(3600), 0.0), secs(10));
    assert_eq!(backoff(2, secs(10), secs(3600), 0.0), secs(20));
    assert_eq!(backoff(4, secs(10), secs(3600), 0.0), secs(80));
    assert_eq!(backoff(40, secs(10), secs(3600), 0.0), secs(3600));
    assert_eq!(backoff(2, secs(10), secs(3600), 1.0), secs(10));
    let d = backoff(3, secs(10), secs(3600), 0.37);
    assert!(d > secs(20) && d < secs(40), "{d:?}");
}

#[test]
fn a_job_whose_worker_died_runs_again_after_its_lease() {
    let (_d, db) = db();
    let id = add(&db, t0(), NewJob::new("mail", json!({})).attempts(2));
    assert_eq!(take(&db, t0(), "crashed", &[("mail", 1)]).len(), 1);
    // Within the lease nobody else gets it.
    assert!(take(&db, t0().plus(secs(59)), "w2", &[("mail", 1)]).is_empty());
    let again = take(&db, t0().plus(secs(60)), "w2", &[("mail", 1)]);
    assert_eq!((again[0].id, again[0].attempt), (id, 2));
    // The crashed worker's late answer is not recorded.
    let late = db
        .write_blocking(|tx| succeed(tx, t0().plus(secs(61)), id, "crashed").map_err(DbError::from))
        .unwrap();
    assert!(!late);
    assert_eq!(job(&db, id).lease_owner.as_deref(), Some("w2"));
    let tries = db
        .read_blocking(|c| attempts(c, id).map_err(DbError::from))
        .unwrap();
    assert_eq!(tries[0].outcome.as_deref(), Some("lease_expired"));
    assert!(tries[0].error.contains("crashed"));
    // Its lease runs out too, and that was the last attempt: dead.
    take(&db, t0().plus(secs(200)), "w3", &[("mail", 1)]);
    assert_eq!(job(&db, id).state, JobState::Dead);
}

#[test]
fn released_jobs_are_due_again_without_losing_an_attempt() {
    let (_d, db) = db();
    let id = add(&db, t0(), NewJob::new("mail", json!({})));
    take(&db, t0(), "w1", &[("mail", 1)]);
    let n = db
        .write_blocking(|tx| release(tx, t0(), "w1").map_err(DbError::from))
        .unwrap();
    assert_eq!(n, 1);
    let j = job(&db, id);
    assert_eq!(
        (j.state, j.attempts, j.lease_owner),
        (JobState::Queued, 0, None)
    );
    assert_eq!(take(&db, t0(), "w2", &[("mail", 1)])[0].attempt, 1);
}

#[test]
fn only_dead_jobs_are_retried_and_only_waiting_ones_cancelled() {
    let (_d, db) = db();
    let ctx = Context {
        actor: Actor::System,
        ip: None,
        request_id: None,
        at: t0(),
    };
    let id = add(&db, t0(), NewJob::new("mail", json!({})).attempts(1));
    let refused = db.write_blocking(|tx| retry(tx, &ctx, id));
    assert!(matches!(refused, Err(JobsError::Refused(m)) if m.contains("only a dead job")));
    take(&db, t0(), "w1", &[("mail", 1)]);
    db.write_blocking(|tx| fail(tx, t0(), id, "w1", "boom", false, secs(1)).map_err(DbError::from))
        .unwrap();
    let cancel_dead = db.write_blocking(|tx| cancel(tx, &ctx, id));
    assert!(matches!(cancel_dead, Err(JobsError::Refused(_))));
    let j = db.write_blocking(|tx| retry(tx, &ctx, id)).unwrap();
    assert_eq!((j.state, j.attempts), (JobState::Queued, 0));
    let j = db.write_blocking(|tx| cancel(tx, &ctx, id)).unwrap();
    assert_eq!(j.state, JobState::Cancelled);
    assert!(take(&db, t0(), "w1", &[("mail", 1)]).is_empty());
    let missing = db.write_blocking(|tx| cancel(tx, &ctx, 999));
    assert!(matches!(missing, Err(JobsError::NoSuchJob)));
}

#[test]
fn stats_count_states_and_the_oldest_wait() {
    let (_d, db) = db();
    add(&db, t0(), NewJob::new("mail", json!({})));
    add(&db, t0().plus(secs(5)), NewJob::new("mail", json!({})));
    add(&db, t0(), NewJob::new("edi", json!({})));
    take(&db, t0(), "w1", &[("edi", 1)]);
    let s = db
        .read_blocking(|c| stats(c, t0().plus(secs(90))).map_err(DbError::from))
        .unwrap();
    assert_eq!((s.queued, s.running, s.retrying, s.dead), (2, 1, 0, 0));
    assert_eq!(s.oldest_queued_secs, 90);
    assert!(s.by_kind.contains(&("mail".into(), "queued".into(), 2)));
}

// ------------------------------------------------------------ the worker

struct Run {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

fn settings() -> Settings {
    Settings {
        lease: secs(60),
        backoff_base: Duration::from_millis(20),
        backoff_cap: Duration::from_millis(200),
        shutdown_grace: Duration::from_millis(200),
        // Long: a job found quickly was found by the wake-up, not a poll.
        max_idle: secs(120),
    }
}

fn start(db: &Db, kinds: Vec<Kind>) -> (Run, Waker) {
    let waker = Waker::default();
    waker.install(db).unwrap();
    let worker = Worker {
        db: db.clone(),
        clock: Arc::new(crate::domain::SystemClock),
        kinds,
        settings: settings(),
        waker: waker.clone(),
        id: "test-worker".into(),
    };
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(worker.run(rx));
    (Run { stop, task }, waker)
}

fn kind(name: &str, concurrency: usize, handler: Handler) -> Kind {
    Kind {
        name: name.into(),
        handler,
        concurrency,
    }
}

async fn enqueue_now(db: &Db, job: NewJob) -> i64 {
    let now = crate::domain::SystemClock.now();
    db.write(move |tx| enqueue(tx, now, &job).map_err(DbError::from))
        .await
        .unwrap()
}

async fn until_state(db: &Db, id: i64, state: JobState) -> Job {
    for _ in 0..500 {
        let j = db
            .read(move |c| get(c, id).map_err(DbError::from))
            .await
            .unwrap()
            .unwrap();
        if j.state == state {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("job {id} never became {state:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enqueued_job_runs_at_once_and_retries_until_it_succeeds() {
    let (_d, db) = db();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let flaky: Handler = Arc::new(move |ctx: JobContext| {
        let c = c.clone();
        Box::pin(async move {
            let n = c.fetch_add(1, Ordering::SeqCst) + 1;
            assert_eq!(ctx.attempt as usize, n);
            if n < 3 {
                Err(JobError::Retry(format!("attempt {n}: server busy")))
            } else {
                Ok(())
            }
        })
    });
    let (run, _w) = start(&db, vec![kind("mail", 1, flaky)]);
    // Let the worker reach its idle wait first.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let id = enqueue_now(&db, NewJob::new("mail", json!({}))).await;
    let j = tokio::time::timeout(secs(10), until_state(&db, id, JobState::Succeeded))
        .await
        .expect("woken by the insert, not by a two-minute poll");
    assert_eq!(j.attempts, 3);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let _ = run.stop.send(true);
    run.task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_error_is_dead_at_once_and_kinds_keep_their_concurrency() {
    let (_d, db) = db();
    let now_running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (r, m) = (now_running.clone(), most.clone());
    let slow: Handler = Arc::new(move |_ctx| {
        let (r, m) = (r.clone(), m.clone());
        Box::pin(async move {
            let n = r.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            r.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        })
    });
    let refuse: Handler =
        Arc::new(|_ctx| Box::pin(async { Err(JobError::Permanent("550 mailbox unknown".into())) }));
    let (run, _w) = start(&db, vec![kind("slow", 2, slow), kind("refuse", 1, refuse)]);
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(enqueue_now(&db, NewJob::new("slow", json!({}))).await);
    }
    let dead = enqueue_now(&db, NewJob::new("refuse", json!({})).attempts(5)).await;
    for id in ids {
        tokio::time::timeout(secs(10), until_state(&db, id, JobState::Succeeded))
            .await
            .unwrap();
    }
    let j = tokio::time::timeout(secs(10), until_state(&db, dead, JobState::Dead))
        .await
        .unwrap();
    assert_eq!(
        (j.attempts, j.last_error.as_str()),
        (1, "550 mailbox unknown")
    );
    assert_eq!(
        most.load(Ordering::SeqCst),
        2,
        "never more than the kind's concurrency"
    );
    let _ = run.stop.send(true);
    run.task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_a_little_then_releases_what_still_runs() {
    let (_d, db) = db();
    let hang: Handler = Arc::new(|_ctx| {
        Box::pin(async {
            tokio::time::sleep(secs(3600)).await;
            Ok(())
        })
    });
    let (run, _w) = start(&db, vec![kind("hang", 1, hang)]);
    let id = enqueue_now(&db, NewJob::new("hang", json!({}))).await;
    tokio::time::timeout(secs(10), until_state(&db, id, JobState::Running))
        .await
        .unwrap();
    let _ = run.stop.send(true);
    tokio::time::timeout(secs(10), run.task)
        .await
        .unwrap()
        .unwrap();
    let j = db
        .read(move |c| get(c, id).map_err(DbError::from))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (j.state, j.attempts, j.lease_owner),
        (JobState::Queued, 0, None)
    );
    let tries = db
        .read(move |c| attempts(c, id).map_err(DbError::from))
        .await
        .unwrap();
    assert_eq!(tries[0].outcome.as_deref(), Some("released"));
}

#[test]
fn finished_jobs_are_removed_after_a_month_and_dead_or_waiting_ones_kept() {
    let (_dir, db) = db();
    let old = t0();
    let month = KEEP_FINISHED;
    // Finished a month and a second ago: one succeeded, one dead.
    let done = add(&db, old, NewJob::new("k", serde_json::json!({})));
    let dead = add(
        &db,
        old,
        NewJob::new("k", serde_json::json!({})).attempts(1),
    );
    assert_eq!(take(&db, old, "w", &[("k", 2)]).len(), 2);
    db.write_blocking(|tx| {
        succeed(tx, old, done, "w")?;
        fail(tx, old, dead, "w", "broken", true, secs(1))?;
        Ok::<_, DbError>(())
    })
    .unwrap();
    let waiting = add(&db, old, NewJob::new("later", serde_json::json!({})));
    let now = old.plus(month).plus(secs(1));
    // Finished just now: kept.
    let recent = add(&db, now, NewJob::new("k", serde_json::json!({})));
    assert_eq!(take(&db, now, "w", &[("k", 1)]).len(), 1);
    db.write_blocking(|tx| succeed(tx, now, recent, "w").map_err(DbError::from))
        .unwrap();

    let removed = db
        .write_blocking(|tx| prune(tx, now, 100).map_err(DbError::from))
        .unwrap();
    assert_eq!(removed, 1);
    let left: Vec<i64> = db
        .read_blocking(|c| {
            let mut stmt = c.prepare("SELECT id FROM jobs ORDER BY id")?;
            let ids = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok::<_, DbError>(ids)
        })
        .unwrap();
    assert_eq!(left, [dead, waiting, recent]);
    let attempts: i64 = db
        .read_blocking(|c| {
            c.query_row(
                "SELECT count(*) FROM job_attempts WHERE job_id = ?1",
                [done],
                |r| r.get(0),
            )
            .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(attempts, 0, "its attempts go with it");
}
