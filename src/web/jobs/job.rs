//! One job on its admin page, with its attempts; a dead job can be retried
//! and a waiting one cancelled.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::pages::{human_opt, human_time};
use crate::db::DbError;
use crate::jobs::{self, Attempt, Job, JobState, JobsError};
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Flash, Layout, redirect_with_flash, render_status};

/// An attempt with its times in words.
struct AttemptRow {
    attempt: Attempt,
    started: String,
    finished: String,
}

#[derive(Template)]
#[template(path = "admin/job.html")]
struct ShowPage {
    layout: Layout,
    job: Job,
    payload: String,
    times: Vec<(&'static str, String)>,
    attempts: Vec<AttemptRow>,
    can_retry: bool,
    can_dismiss: bool,
    can_try_now: bool,
    can_cancel: bool,
}
crate::page!(ShowPage);

async fn job_page(
    req: &HttpRequest,
    ctx: &Ctx,
    id: i64,
    status: StatusCode,
    refusal: Option<String>,
) -> Result<HttpResponse, AppError> {
    let (job, attempts) = ctx
        .state
        .db
        .read(move |c| {
            let job = jobs::get(c, id)?;
            let attempts = match &job {
                Some(_) => jobs::attempts(c, id)?,
                None => Vec::new(),
            };
            Ok::<_, DbError>((job, attempts))
        })
        .await?;
    let job = job.ok_or(AppError::NotFound)?;
    let mut layout = Layout::for_request(req, format!("Job {id}"));
    if let Some(message) = refusal {
        layout.flash = Some(Flash {
            kind: "error",
            message,
        });
    }
    let payload = serde_json::to_string_pretty(&job.payload).map_err(AppError::internal)?;
    let times = vec![
        ("Created", human_time(&job.created_at)),
        ("Run at", human_time(&job.run_at)),
        ("Started", human_opt(&job.started_at)),
        ("Finished", human_opt(&job.finished_at)),
        ("Lease ends", human_opt(&job.lease_expires_at)),
    ];
    render_status(
        status,
        &ShowPage {
            layout,
            payload,
            times,
            attempts: attempts
                .into_iter()
                .map(|a| AttemptRow {
                    started: human_time(&a.started_at),
                    finished: human_opt(&a.finished_at),
                    attempt: a,
                })
                .collect(),
            can_retry: job.state == JobState::Dead,
            can_dismiss: job.state == JobState::Dead && job.resolved_at.is_none(),
            can_try_now: job.state == JobState::Failed,
            can_cancel: matches!(job.state, JobState::Queued | JobState::Failed),
            job,
        },
    )
}

pub async fn show(
    req: HttpRequest,
    ctx: Ctx,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    job_page(&req, &ctx, path.into_inner(), StatusCode::OK, None).await
}

/// The outcome of an action on a job: back to its page with a flash, or
/// the page again with the refusal (409).
async fn acted(
    req: &HttpRequest,
    ctx: &Ctx,
    id: i64,
    outcome: Result<Job, JobsError>,
    done: String,
) -> Result<HttpResponse, AppError> {
    match outcome {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/admin/jobs/{id}"),
            "success",
            &done,
        )),
        Err(JobsError::Refused(r)) => {
            job_page(
                req,
                ctx,
                id,
                StatusCode::CONFLICT,
                Some(format!("{}.", r.message)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// One of the job actions on a job's page: run in a write transaction,
/// the worker woken when the job may now be due, and the outcome shown.
async fn act(
    req: HttpRequest,
    ctx: Ctx,
    id: i64,
    action: fn(&rusqlite::Transaction, &crate::audit::Context, i64) -> Result<Job, JobsError>,
    wake: bool,
    done: String,
) -> Result<HttpResponse, AppError> {
    let a = ctx.audit();
    let outcome = ctx.state.db.write(move |tx| action(tx, &a, id)).await;
    if wake && outcome.is_ok() {
        // The job changed without an insert: the worker is told.
        ctx.state.jobs_waker.wake();
    }
    acted(&req, &ctx, id, outcome, done).await
}

pub async fn retry(
    req: HttpRequest,
    ctx: Ctx,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let done = format!("Job {id} will run again.");
    act(req, ctx, id, jobs::retry, true, done).await
}

pub async fn try_now(
    req: HttpRequest,
    ctx: Ctx,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let done = format!("Job {id} is being tried now.");
    act(req, ctx, id, jobs::try_now, true, done).await
}

pub async fn dismiss(
    req: HttpRequest,
    ctx: Ctx,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let done = format!("Job {id} dismissed: it no longer counts as needing attention.");
    act(req, ctx, id, jobs::dismiss, false, done).await
}

pub async fn cancel(
    req: HttpRequest,
    ctx: Ctx,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let done = format!("Job {id} cancelled.");
    act(req, ctx, id, jobs::cancel, false, done).await
}
