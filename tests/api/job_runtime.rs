//! The job worker and scheduler as the application runs them: a job
//! enqueued in a business transaction runs at once, a recurring job from
//! `jobs.schedule` is enqueued and run, and a job still running at shutdown
//! is released for the next start. The kinds here are made for the test,
//! so what is checked is the runtime itself; these are the tests that wait
//! for a worker on purpose (the others start the application without one
//! and run the queue with `TestApp::run_pending_jobs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use stockroom::db::DbError;
use stockroom::domain::Clock;
use stockroom::jobs::worker::{Handler, JobError, Kind};
use stockroom::jobs::{self, JobState, NewJob};

use crate::helpers::*;

fn counting(calls: &Arc<AtomicUsize>) -> Handler {
    let calls = calls.clone();
    Arc::new(move |ctx| {
        let calls = calls.clone();
        Box::pin(async move {
            calls.fetch_add(1, Ordering::SeqCst);
            if ctx.json["fail"] == true {
                return Err(JobError::Permanent("told to fail".into()));
            }
            Ok(())
        })
    })
}

fn kind(name: &str, handler: Handler) -> Kind {
    Kind {
        name: name.into(),
        handler,
        concurrency: 2,
    }
}

async fn state_of(app: &TestApp, id: i64) -> JobState {
    app.db()
        .read(move |c| jobs::get(c, id).map_err(DbError::from))
        .await
        .unwrap()
        .unwrap()
        .state
}

async fn wait_for(app: &TestApp, id: i64, want: JobState) {
    for _ in 0..500 {
        if state_of(app, id).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("job {id} never became {want:?}");
}

#[tokio::test]
async fn jobs_enqueued_with_a_change_run_and_schedules_enqueue_theirs() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = spawn_app_with_jobs(
        |c| {
            c.jobs.schedules = stockroom::domain::schedule::parse("test.tick = * * * * *").unwrap();
        },
        vec![
            kind("test.work", counting(&calls)),
            kind("test.tick", counting(&calls)),
        ],
    )
    .await;
    let now = app.clock.now();
    let id = app
        .db()
        .write(move |tx| {
            jobs::enqueue(tx, now, &NewJob::new("test.work", json!({}))).map_err(DbError::from)
        })
        .await
        .unwrap();
    wait_for(&app, id, JobState::Succeeded).await;
    let failing = app
        .db()
        .write(move |tx| {
            jobs::enqueue(tx, now, &NewJob::new("test.work", json!({"fail": true})))
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    wait_for(&app, failing, JobState::Dead).await;
    // This minute's occurrence of the schedule was enqueued at start and ran.
    let scheduled = app
        .scalar("SELECT count(*) FROM jobs WHERE kind = 'test.tick' AND state = 'succeeded'")
        .await;
    let mut tries = 0;
    let mut scheduled = scheduled;
    while scheduled == 0 && tries < 500 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        scheduled = app
            .scalar("SELECT count(*) FROM jobs WHERE kind = 'test.tick' AND state = 'succeeded'")
            .await;
        tries += 1;
    }
    assert_eq!(scheduled, 1);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let res = app.browser.get("/readyz").await;
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body["status"], "degraded",
        "a dead job needs a person: {body}"
    );
}

#[tokio::test]
async fn a_job_running_at_shutdown_is_released_for_the_next_start() {
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    let hang: Handler = Arc::new(move |_ctx| {
        let s = s.clone();
        Box::pin(async move {
            s.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        })
    });
    let app = spawn_app_with_jobs(
        |c| c.jobs.shutdown_grace = Duration::from_millis(100),
        vec![kind("test.long", hang)],
    )
    .await;
    let now = app.clock.now();
    let id = app
        .db()
        .write(move |tx| {
            jobs::enqueue(tx, now, &NewJob::new("test.long", json!({}))).map_err(DbError::from)
        })
        .await
        .unwrap();
    wait_for(&app, id, JobState::Running).await;
    let app = app.restart().await;
    // Released at shutdown: queued again, the attempt not counted. The
    // restarted application does not run this kind, so it waits.
    assert_eq!(state_of(&app, id).await, JobState::Queued);
    assert_eq!(app.scalar("SELECT attempts FROM jobs").await, 0);
    assert_eq!(
        app.scalar("SELECT count(*) FROM job_attempts WHERE outcome = 'released'")
            .await,
        1
    );
    assert_eq!(started.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_replaced_writer_connection_still_wakes_the_worker_at_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = spawn_app_with_jobs(|_| {}, vec![kind("test.work", counting(&calls))]).await;
    let enqueue = |app: &TestApp| {
        let (db, now) = (app.db().clone(), app.clock.now());
        async move {
            db.write(move |tx| {
                jobs::enqueue(tx, now, &NewJob::new("test.work", json!({}))).map_err(DbError::from)
            })
            .await
        }
    };
    let first = enqueue(&app).await.unwrap();
    wait_for(&app, first, JobState::Succeeded).await;

    // The pool replaces the writer connection (r2d2 did after 30 minutes);
    // a temporary table, which lives on one connection, shows it happened.
    app.db()
        .write(|tx| {
            tx.execute_batch("CREATE TEMP TABLE marker (x)")
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    app.db().recycle_writer();
    app.db()
        .write(|tx| tx.execute_batch("SELECT 1").map_err(DbError::from))
        .await
        .unwrap();
    let replaced = app
        .db()
        .write(|tx| {
            tx.execute_batch("SELECT * FROM temp.marker")
                .map_err(DbError::from)
        })
        .await
        .is_err();
    assert!(replaced, "the writer connection was replaced");

    // A job enqueued now runs at once, not at the next 30-second poll.
    let started = std::time::Instant::now();
    let second = enqueue(&app).await.unwrap();
    for _ in 0..100 {
        if state_of(&app, second).await == JobState::Succeeded {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(state_of(&app, second).await, JobState::Succeeded);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn jobs_cut_off_by_a_crash_run_again_at_the_next_start_not_after_their_lease() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = spawn_app().await;
    // What `kill -9` leaves behind: a job marked running, leased for five
    // more minutes to a worker that no longer exists.
    let now = app.clock.now();
    let id = app
        .db()
        .write(move |tx| {
            let id = jobs::enqueue(tx, now, &NewJob::new("test.work", json!({})))?;
            tx.execute(
                "UPDATE jobs SET state = 'running', attempts = 1, lease_owner = 'gone-1',
                    lease_expires_at = ?1, started_at = ?2 WHERE id = ?3",
                rusqlite::params![
                    now.plus(Duration::from_secs(300)).to_db(),
                    now.to_db(),
                    id
                ],
            )?;
            tx.execute(
                "INSERT INTO job_attempts (job_id, attempt, worker, started_at) VALUES (?1, 1, 'gone-1', ?2)",
                rusqlite::params![id, now.to_db()],
            )?;
            Ok::<_, DbError>(id)
        })
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let app = app
        .restart_with_jobs(vec![kind("test.work", counting(&calls))])
        .await;
    for _ in 0..100 {
        if state_of(&app, id).await == JobState::Succeeded {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(state_of(&app, id).await, JobState::Succeeded);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let cut: String = app
        .db()
        .read(move |c| {
            c.query_row(
                "SELECT error FROM job_attempts WHERE job_id = ?1 AND attempt = 1",
                [id],
                |r| r.get(0),
            )
            .map_err(DbError::from)
        })
        .await
        .unwrap();
    assert!(cut.contains("the server stopped"), "{cut}");
}

#[tokio::test]
async fn a_second_server_on_the_same_data_directory_refuses_to_start() {
    let app = spawn_app().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stockroom"))
        .arg("serve")
        .env_clear()
        .env("STOCKROOM_DATA_DIR", app.data_dir.path())
        .env("STOCKROOM_LISTEN", "127.0.0.1:0")
        .env("STOCKROOM_LOG_LEVEL", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded: a second server that did start is stopped, and the test fails.
    let mut waited = 0;
    while child.try_wait().unwrap().is_none() && waited < 150 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    if child.try_wait().unwrap().is_none() {
        child.kill().unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("another stockroom server is already running on the data directory"),
        "{said}"
    );
    // The first server is unharmed, and a restart (the lock given back
    // when it stops) works.
    assert_eq!(app.browser.get("/healthz").await.status(), 200);
    let app = app.restart().await;
    assert_eq!(app.browser.get("/healthz").await.status(), 200);
}
