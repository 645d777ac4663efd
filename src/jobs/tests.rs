use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::worker::{Handler, JobContext, JobError, Kind, Settings, Waker, Worker};
use super::*;
use crate::audit::Context;
use crate::db::{Db, DbError};
use crate::domain::Clock;
use crate::domain::actor::Actor;
use serde_json::json;

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
fn one_lane_takes_at_most_half_the_slots_so_others_are_not_starved() {
    let (_dir, db) = db();
    // Six emails due first, then one order to a folder.
    let mut emails = Vec::new();
    for n in 0..6 {
        emails.push(add(
            &db,
            t0(),
            NewJob::new("order.dispatch", json!({"order_id": n + 1}))
                .lane("channel:email")
                .at(t0().plus(secs(n))),
        ));
    }
    let folder = add(
        &db,
        t0(),
        NewJob::new("order.dispatch", json!({"order_id": 99}))
            .lane("channel:csv_folder")
            .at(t0().plus(secs(10))),
    );
    let now = t0().plus(secs(20));
    // Four free slots: two emails (half), then the folder's order.
    let first: Vec<i64> = take(&db, now, "w", &[("order.dispatch", 4)])
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(first, vec![emails[0], emails[1], folder], "{first:?}");
    // The emails hang; with two more slots free the email lane is at half
    // of the four in all, so nothing more of it is taken.
    assert!(take(&db, now, "w", &[("order.dispatch", 1)]).is_empty());
    // Jobs without a lane are not held back.
    let plain = add(
        &db,
        t0(),
        NewJob::new("order.dispatch", json!({"order_id": 100})),
    );
    let next: Vec<i64> = take(&db, now, "w", &[("order.dispatch", 1)])
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(next, vec![plain]);
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
    assert!(
        matches!(refused, Err(JobsError::Refused(r)) if r.message.contains("only a dead job") && r.code == super::NOT_DEAD)
    );
    take(&db, t0(), "w1", &[("mail", 1)]);
    db.write_blocking(|tx| fail(tx, t0(), id, "w1", "boom", false, secs(1)).map_err(DbError::from))
        .unwrap();
    let cancel_dead = db.write_blocking(|tx| cancel(tx, &ctx, id));
    assert!(matches!(cancel_dead, Err(JobsError::Refused(r)) if r.code == super::NOT_WAITING));
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

// ------------------------------------------------- typed kinds and rows

/// Writes a row the queue itself would never write (the checks the table
/// has are switched off for it, as a damaged file or a hand edit would).
fn write_raw(db: &Db, sql: &'static str) -> i64 {
    db.write_blocking(|tx| {
        tx.execute_batch("PRAGMA ignore_check_constraints = ON")?;
        tx.execute_batch(sql)?;
        tx.execute_batch("PRAGMA ignore_check_constraints = OFF")?;
        Ok::<_, DbError>(tx.last_insert_rowid())
    })
    .unwrap()
}

fn conversion_error(e: rusqlite::Error) -> (usize, String) {
    match e {
        rusqlite::Error::FromSqlConversionFailure(column, _, cause) => (column, cause.to_string()),
        other => panic!("not a conversion failure: {other:?}"),
    }
}

#[test]
fn a_row_with_an_unknown_state_is_an_error_not_a_dead_job() {
    let (_d, db) = db();
    let id = write_raw(
        &db,
        "INSERT INTO jobs (kind, payload, state, max_attempts, run_at, created_at)
         VALUES ('mail', '{}', 'asleep', 1, 'x', 'x')",
    );
    let err = db
        .read_blocking(|c| get(c, id).map_err(DbError::from))
        .unwrap_err();
    let DbError::Sqlite(err) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        conversion_error(err),
        (3, "unknown job state \"asleep\"".to_string())
    );
    let listed = db.read_blocking(|c| list(c, None, None, 10, 0).map_err(DbError::from));
    assert!(listed.is_err(), "the list does not show it as dead either");
}

#[test]
fn a_row_whose_payload_is_not_json_is_an_error_not_null() {
    let (_d, db) = db();
    let id = write_raw(
        &db,
        "INSERT INTO jobs (kind, payload, max_attempts, run_at, created_at)
         VALUES ('mail', '{\"to\": ', 1, 'x', 'x')",
    );
    let err = db
        .read_blocking(|c| get(c, id).map_err(DbError::from))
        .unwrap_err();
    let DbError::Sqlite(err) = err else {
        panic!("{err:?}")
    };
    let (column, cause) = conversion_error(err);
    assert_eq!(column, 2);
    assert!(cause.contains("EOF while parsing"), "{cause}");
}

#[test]
fn a_due_job_whose_payload_is_not_json_is_dead_with_the_reason_not_run() {
    let (_d, db) = db();
    let id = write_raw(
        &db,
        "INSERT INTO jobs (kind, payload, max_attempts, run_at, created_at)
         VALUES ('mail', 'not json', 5, '2026-11-30T10:00:00.000Z', 'x')",
    );
    let fine = add(&db, t0(), NewJob::new("mail", json!({})));
    let got = take(&db, t0(), "w1", &[("mail", 5)]);
    assert_eq!(got.iter().map(|c| c.id).collect::<Vec<_>>(), [fine]);
    let (state, error): (String, String) = db
        .read_blocking(|c| {
            c.query_row(
                "SELECT state, last_error FROM jobs WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(state, "dead");
    assert!(
        error.starts_with("the payload of this mail job is not JSON: expected"),
        "{error}"
    );
}

fn subject_of(db: &Db, id: i64) -> (Option<String>, Option<i64>) {
    db.read_blocking(|c| {
        c.query_row(
            "SELECT subject_type, subject_id FROM jobs WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(DbError::from)
    })
    .unwrap()
}

#[test]
fn known_kinds_are_enqueued_with_their_subject_and_a_payload_that_fits() {
    use super::kind::{Occasion, OrderSend, SupplierDispatchTest};
    let (_d, db) = db();
    let send = add(
        &db,
        t0(),
        NewJob::of(&JobKind::OrderSend(OrderSend { order_id: 42 })),
    );
    assert_eq!(job(&db, send).kind, "order.dispatch");
    assert_eq!(job(&db, send).payload, json!({"order_id": 42}));
    assert_eq!(subject_of(&db, send), (Some("order".into()), Some(42)));
    let test = add(
        &db,
        t0(),
        NewJob::of(&JobKind::SupplierDispatchTest(SupplierDispatchTest {
            supplier_id: 3,
        })),
    );
    assert_eq!(subject_of(&db, test), (Some("supplier".into()), Some(3)));
    let digest = add(
        &db,
        t0(),
        NewJob::of(&JobKind::DigestDaily(Occasion::manual())),
    );
    assert_eq!(subject_of(&db, digest), (None, None));
    let other = add(&db, t0(), NewJob::new("test.work", json!({"order_id": 1})));
    assert_eq!(
        subject_of(&db, other),
        (None, None),
        "unknown kinds have none"
    );

    // A known name with a payload that does not fit could only fail: refused.
    let refused = db.write_blocking(|tx| {
        enqueue(tx, t0(), &NewJob::new("order.dispatch", json!({"id": 42}))).map_err(DbError::from)
    });
    let err = refused.unwrap_err().to_string();
    assert!(
        err.contains("the payload of a order.dispatch job does not read: missing field `order_id`"),
        "{err}"
    );
}

fn context_with(kind: &str, json: serde_json::Value, db: &Db) -> JobContext {
    JobContext {
        id: 1,
        kind: kind.into(),
        json,
        attempt: 1,
        max_attempts: 1,
        key: None,
        db: db.clone(),
        clock: Arc::new(crate::domain::SystemClock),
        target: Default::default(),
    }
}

#[test]
fn a_handler_reading_a_payload_that_does_not_fit_gets_a_permanent_error() {
    use super::kind::OrderSend;
    let (_d, db) = db();
    let ctx = context_with("order.dispatch", json!({"order_id": 7}), &db);
    assert_eq!(ctx.payload::<OrderSend>(), Ok(OrderSend { order_id: 7 }));
    let ctx = context_with("order.dispatch", json!({"order_id": "seven"}), &db);
    let err = ctx.payload::<OrderSend>().unwrap_err();
    assert!(
        matches!(&err, JobError::Permanent(e)
            if e.starts_with("the payload of a order.dispatch job does not read: invalid type: string \"seven\"")),
        "{err:?}"
    );
}

// ------------------------------------------------------- run_pending

#[tokio::test]
async fn run_pending_runs_every_due_job_including_those_due_jobs_enqueue() {
    let (_d, db) = db();
    let clock = crate::domain::ManualClock::starting_now();
    let t0 = || clock.now();
    // `chain` enqueues one follow-up per job until the third.
    let chain: Handler = Arc::new(|ctx: JobContext| {
        Box::pin(async move {
            let n = ctx.json["n"].as_i64().unwrap_or(0);
            if n < 3 {
                let now = ctx.clock.now();
                ctx.db
                    .write(move |tx| {
                        enqueue(tx, now, &NewJob::new("chain", json!({"n": n + 1})))
                            .map_err(DbError::from)
                    })
                    .await
                    .map_err(|e| JobError::Retry(e.to_string()))?;
            }
            Ok(())
        })
    });
    let flaky: Handler =
        Arc::new(|_ctx| Box::pin(async { Err(JobError::Retry("421 try later".into())) }));
    let first = add(&db, t0(), NewJob::new("chain", json!({"n": 0})));
    let later = add(
        &db,
        t0(),
        NewJob::new("chain", json!({"n": 3})).at(t0().plus(secs(60))),
    );
    let failing = add(&db, t0(), NewJob::new("flaky", json!({})));
    let other = add(&db, t0(), NewJob::new("not-ours", json!({})));
    let kinds = vec![kind("chain", 1, chain), kind("flaky", 1, flaky)];

    let ran = worker::run_pending(&db, Arc::new(clock.clone()), &kinds).await;
    assert_eq!(ran, 5, "four of the chain and one failing attempt");
    assert_eq!(job(&db, first).state, JobState::Succeeded);
    let f = job(&db, failing);
    assert_eq!(
        (f.state, f.attempts),
        (JobState::Failed, 1),
        "retried later, not now"
    );
    assert_eq!(job(&db, later).state, JobState::Queued, "not due yet");
    assert_eq!(
        job(&db, other).state,
        JobState::Queued,
        "a kind it was not given"
    );

    // Nothing more is due until the clock moves.
    assert_eq!(
        worker::run_pending(&db, Arc::new(clock.clone()), &kinds).await,
        0
    );
    clock.advance(secs(60));
    assert_eq!(
        worker::run_pending(&db, Arc::new(clock.clone()), &kinds).await,
        2
    );
    assert_eq!(job(&db, later).state, JobState::Succeeded);
    assert_eq!(job(&db, failing).attempts, 2);
}

/// Far enough ahead that no clock in these tests reaches it.
fn later() -> Timestamp {
    Timestamp::parse("2100-01-01T00:00:00.000Z").unwrap()
}

/// A job that could not reach its target, waiting out a long back-off.
fn waiting_on(db: &Db, target: &str) -> i64 {
    let id = add(db, t0(), NewJob::new("mail", json!({})));
    db.write_blocking(|tx| {
        tx.execute(
            "UPDATE jobs SET state = 'failed', attempts = 1, target = ?1, run_at = ?2 WHERE id = ?3",
            rusqlite::params![target, later().to_db(), id],
        )
        .map_err(DbError::from)
    })
    .unwrap();
    id
}

#[tokio::test]
async fn a_probe_that_hangs_is_not_started_again_beside_itself() {
    use super::watch::{Probe, Watched, round};
    let (_d, db) = db();
    let id = waiting_on(&db, "folder:share");
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    // A share that hangs: the probe never ends.
    let probe: Probe = Arc::new(move |_target: String| {
        c.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::pending())
    });
    let clock = crate::domain::ManualClock::starting_now();
    let mut watched = Watched::with_probe_timeout(Duration::from_millis(20));
    for _ in 0..5 {
        let woken = round(&db, &clock, &probe, Duration::ZERO, &mut watched)
            .await
            .unwrap();
        assert_eq!(woken, 0);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one probe at a time");
    assert_eq!(job(&db, id).run_at, later().to_db(), "not made due");
}

#[tokio::test]
async fn a_target_that_stays_down_is_probed_once_a_minute_after_the_first_minutes() {
    use super::watch::{Probe, Watched, round};
    let (_d, db) = db();
    let id = waiting_on(&db, "smtp:mail:25");
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let probe: Probe = Arc::new(move |_target: String| {
        c.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Some(Err("connection refused".to_string())) })
    });
    let clock = crate::domain::ManualClock::starting_now();
    let mut watched = Watched::default();
    // Probed every round while the outage is young…
    for _ in 0..60 {
        round(&db, &clock, &probe, Duration::ZERO, &mut watched)
            .await
            .unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 60);
    // …then no more than once a minute.
    for _ in 0..20 {
        round(&db, &clock, &probe, Duration::ZERO, &mut watched)
            .await
            .unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 60, "waits a minute now");
    assert_eq!(job(&db, id).run_at, later().to_db());
}
