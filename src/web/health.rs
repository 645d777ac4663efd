//! `/healthz` (liveness: the process answers) and `/readyz` (readiness:
//! every dependency checked, each with its status and latency).

use std::time::{Duration, Instant};

use actix_web::HttpResponse;
use serde::Serialize;

use crate::db::{DbError, migrate, run_blocking};
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::state::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: &'static str,
    pub latency_ms: f64,
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct Readiness {
    pub status: &'static str,
    pub version: &'static str,
    pub checks: Vec<Check>,
}

const CHECK_TIMEOUT: Duration = Duration::from_secs(3);
/// How often `/readyz` really writes (a failure is checked again at once).
const WRITE_CHECK_EVERY: Duration = Duration::from_secs(60);

/// How a check that did not answer in time begins its detail.
const TIMED_OUT: &str = "no answer within";

/// A write that has held the writer this long is not waited for.
const LONG_WRITE: Duration = Duration::from_secs(1);
/// A write that has held the writer this long is reported as a fault.
const WRITER_STUCK_AFTER: Duration = Duration::from_secs(60);

fn busy_writer(held: Duration) -> Check {
    Check {
        name: "database_write",
        status: "ok",
        latency_ms: 0.0,
        detail: format!(
            "busy: one write has held the writer for {:.1} s (an import, for example); not probed",
            held.as_secs_f64()
        ),
    }
}

async fn timed<F>(name: &'static str, f: F) -> Check
where
    F: Future<Output = Result<String, String>>,
{
    let start = Instant::now();
    let result = match tokio::time::timeout(CHECK_TIMEOUT, f).await {
        Ok(r) => r,
        Err(_) => Err(format!("{TIMED_OUT} {}s", CHECK_TIMEOUT.as_secs())),
    };
    let latency_ms = (start.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    match result {
        Ok(detail) => Check {
            name,
            status: "ok",
            latency_ms,
            detail,
        },
        Err(detail) => Check {
            name,
            status: "fail",
            latency_ms,
            detail,
        },
    }
}

pub async fn readiness(state: &AppState) -> Readiness {
    let db = state.db.clone();
    let read = timed("database_read", async move {
        db.read(|c| {
            c.query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0))
                .map_err(DbError::from)
        })
        .await
        .map(|_| "read".to_string())
        .map_err(|e: DbError| e.to_string())
    })
    .await;
    let db = state.db.clone();
    let now = state.clock.now();
    // A synced commit is not free: polled often, the check writes at most
    // once a minute and reports the last success in between.
    let recent = *state.last_write_check.lock().expect("write check lock");
    let write = match recent {
        Some((at, latency_ms)) if now.since(at) < WRITE_CHECK_EVERY && at <= now => Check {
            name: "database_write",
            status: "ok",
            latency_ms,
            detail: format!("committed {} s ago", now.since(at).as_secs()),
        },
        // The writer is held right now (an import, a big recall): a probe
        // would only queue behind it. A long write is work, not a fault;
        // one that holds the writer for minutes is.
        _ if state
            .db
            .writer_held_for()
            .is_some_and(|held| (LONG_WRITE..WRITER_STUCK_AFTER).contains(&held)) =>
        {
            busy_writer(state.db.writer_held_for().unwrap_or_default())
        }
        _ => {
            let check = timed("database_write", async move {
                db.write(move |tx| {
                    tx.execute(
                        "INSERT INTO health_probe (id, checked_at) VALUES (1, ?1)
                         ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                        [now.to_db()],
                    )
                    .map_err(DbError::from)
                })
                .await
                .map(|_| "committed".to_string())
                .map_err(|e: DbError| e.to_string())
            })
            .await;
            match state.db.writer_held_for() {
                // The probe waited, the whole time, behind one write that
                // began after the look above: the same as being busy. (A
                // write that began while the probe waited did not hold it
                // up: that is a fault.)
                Some(held)
                    if check.status != "ok"
                        && check.detail.starts_with(TIMED_OUT)
                        && held >= LONG_WRITE
                        && held.as_secs_f64() * 1000.0 >= check.latency_ms
                        && held < WRITER_STUCK_AFTER =>
                {
                    busy_writer(held)
                }
                _ => {
                    *state.last_write_check.lock().expect("write check lock") =
                        (check.status == "ok").then_some((now, check.latency_ms));
                    check
                }
            }
        }
    };
    let dir = state.config.data_dir.clone();
    let min = state.config.health.min_free_disk_bytes;
    let disk = timed("disk_free", async move {
        let free = run_blocking(move || fs4::available_space(&dir))
            .await
            .map_err(|e| format!("cannot read free space: {e}"))?;
        let text = format!(
            "{} MB free, {} MB required",
            free / 1_048_576,
            min / 1_048_576
        );
        if free >= min { Ok(text) } else { Err(text) }
    })
    .await;
    let db = state.db.clone();
    let migrations = timed("migrations", async move {
        let plan = db
            .read(|c| Ok::<_, DbError>(migrate::plan(c)))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        if plan.pending.is_empty() {
            Ok(format!("at version {:04}", plan.current))
        } else {
            Err(format!("{} pending", plan.pending.len()))
        }
    })
    .await;
    let db = state.db.clone();
    let now = state.clock.now();
    let mut jobs = timed("jobs", async move {
        let s = db
            .read(move |c| crate::jobs::stats(c, now).map_err(DbError::from))
            .await
            .map_err(|e| e.to_string())?;
        Ok(format!(
            "{} queued, {} running, {} waiting to retry, {} dead; oldest due {} s ago",
            s.queued, s.running, s.retrying, s.dead, s.oldest_queued_secs
        ))
    })
    .await;
    // Dead jobs do not stop the practice working, but need a person.
    if jobs.status == "ok" && !jobs.detail.contains(", 0 dead") {
        jobs.status = "degraded";
    }
    let db = state.db.clone();
    let root = state.config.dispatch.folder_root.clone();
    let mut folders = timed("supplier_folders", async move {
        let problems = db
            .read(move |c| crate::dispatch::folder_problems(c, &root).map_err(DbError::from))
            .await
            .map_err(|e| e.to_string())?;
        Ok(problems.join("; "))
    })
    .await;
    // A supplier whose folder is a link gets nothing until someone fixes it.
    if folders.status == "ok" && !folders.detail.is_empty() {
        folders.status = "degraded";
    } else if folders.status == "ok" {
        folders.detail = "no folder is a link".into();
    }
    let checks = vec![read, write, disk, migrations, jobs, folders];
    let status = if checks.iter().any(|c| c.status == "fail") {
        "fail"
    } else if checks.iter().any(|c| c.status == "degraded") {
        "degraded"
    } else {
        "ok"
    };
    Readiness {
        status,
        version: env!("CARGO_PKG_VERSION"),
        checks,
    }
}

/// The overall status for anyone (a monitor needs no account); each check
/// with its detail only for a signed-in administrator.
pub async fn readyz(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let report = readiness(&ctx.state).await;
    let mut res = if report.status != "fail" {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    let detailed = ctx
        .actor()
        .role()
        .is_some_and(|r| r.may(crate::domain::Permission::ManageJobs));
    if detailed {
        Ok(res.json(report))
    } else {
        Ok(res.json(serde_json::json!({ "status": report.status })))
    }
}
