//! `/api/v1/jobs…`: the job queue for administrators: jobs by state and
//! kind, the queue's figures, one job with its attempts, retrying a dead
//! job and cancelling a waiting one. A refused action answers 409
//! `conflict` with the reason.

use actix_web::web::{Json, Path, Query};
use serde::{Deserialize, Serialize};

use crate::db::DbError;
use crate::jobs::{self, Attempt, Job, JobState, Stats};
use crate::validation::FieldErrors;
use crate::web::api::{PageQuery, Paginated};
use crate::web::context::Ctx;
use crate::web::error::AppError;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// queued, running, succeeded, failed, dead or cancelled; all when absent.
    pub state: Option<String>,
    /// Only jobs of this kind.
    pub kind: Option<String>,
}

impl JobQuery {
    fn parse(&self) -> Result<(Option<JobState>, Option<String>), FieldErrors> {
        let state = match self.state.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(JobState::parse(raw).ok_or_else(|| {
                FieldErrors::single(
                    "state",
                    format!(
                        "unknown state {raw:?}: use queued, running, succeeded, failed, dead or cancelled"
                    ),
                )
            })?),
        };
        let kind = self
            .kind
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string);
        Ok((state, kind))
    }
}

/// Jobs, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/jobs",
    tag = "jobs",
    params(JobQuery, PageQuery),
    responses(
        (status = 200, description = "One page of jobs", body = Paginated<Job>),
        (status = 403, description = "Not an admin", body = crate::web::api::ErrorBody),
        (status = 422, description = "Unknown state or bad page parameters", body = crate::web::api::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    ctx: Ctx,
    q: Query<JobQuery>,
    page: Query<PageQuery>,
) -> Result<Json<Paginated<Job>>, AppError> {
    let (page, per_page, offset) = page.resolve()?;
    let (state, kind) = q.parse()?;
    let (items, total) = ctx
        .state
        .db
        .read(move |c| {
            jobs::list(c, state, kind.as_deref(), per_page, offset).map_err(DbError::from)
        })
        .await?;
    Ok(Json(Paginated {
        items,
        page,
        per_page,
        total,
    }))
}

/// How many jobs are queued, running, waiting to retry and dead, per kind
/// too, and how long the oldest due job has waited.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/stats",
    tag = "jobs",
    responses(
        (status = 200, description = "The queue's figures", body = Stats),
        (status = 403, description = "Not an admin", body = crate::web::api::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn stats(ctx: Ctx) -> Result<Json<Stats>, AppError> {
    let now = ctx.state.clock.now();
    let stats = ctx
        .state
        .db
        .read(move |c| jobs::stats(c, now).map_err(DbError::from))
        .await?;
    Ok(Json(stats))
}

/// A job and every attempt at it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobDetail {
    pub job: Job,
    pub attempts: Vec<Attempt>,
}

/// One job with its attempts, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}",
    tag = "jobs",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = JobDetail),
        (status = 404, description = "No such job", body = crate::web::api::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn show(ctx: Ctx, id: Path<i64>) -> Result<Json<JobDetail>, AppError> {
    let id = id.into_inner();
    let detail = ctx
        .state
        .db
        .read(move |c| {
            let Some(job) = jobs::get(c, id)? else {
                return Ok(None);
            };
            Ok::<_, DbError>(Some(JobDetail {
                attempts: jobs::attempts(c, id)?,
                job,
            }))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(detail))
}

/// Gives a dead job a fresh set of attempts, due now. Needs a `write` token.
#[utoipa::path(
    post,
    path = "/api/v1/jobs/{id}/retry",
    tag = "jobs",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Queued again", body = Job),
        (status = 404, description = "No such job", body = crate::web::api::ErrorBody),
        (status = 409, description = "The job is not dead", body = crate::web::api::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn retry(ctx: Ctx, id: Path<i64>) -> Result<Json<Job>, AppError> {
    act(ctx, id.into_inner(), jobs::retry, true).await
}

/// Makes a job waiting to try again (after a failure) due now. Needs a
/// `write` token.
#[utoipa::path(
    post,
    path = "/api/v1/jobs/{id}/try-now",
    tag = "jobs",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Due now", body = Job),
        (status = 404, description = "No such job", body = crate::web::api::ErrorBody),
        (status = 409, description = "The job is not waiting to try again", body = crate::web::api::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn try_now(ctx: Ctx, id: Path<i64>) -> Result<Json<Job>, AppError> {
    act(ctx, id.into_inner(), jobs::try_now, true).await
}

/// Dismisses a dead job that needs nobody any more: it stays in the
/// history, and `/readyz` stops counting it. Needs a `write` token.
#[utoipa::path(
    post,
    path = "/api/v1/jobs/{id}/dismiss",
    tag = "jobs",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Dismissed", body = Job),
        (status = 404, description = "No such job", body = crate::web::api::ErrorBody),
        (status = 409, description = "The job is not dead, or already resolved", body = crate::web::api::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn dismiss(ctx: Ctx, id: Path<i64>) -> Result<Json<Job>, AppError> {
    act(ctx, id.into_inner(), jobs::dismiss, false).await
}

/// Cancels a job that waits to run or to be retried. Needs a `write` token.
#[utoipa::path(
    post,
    path = "/api/v1/jobs/{id}/cancel",
    tag = "jobs",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Cancelled", body = Job),
        (status = 404, description = "No such job", body = crate::web::api::ErrorBody),
        (status = 409, description = "The job is running or finished", body = crate::web::api::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn cancel(ctx: Ctx, id: Path<i64>) -> Result<Json<Job>, AppError> {
    act(ctx, id.into_inner(), jobs::cancel, false).await
}

/// One of the job actions, in a write transaction; the worker is woken
/// when the job may now be due (it changed without an insert).
async fn act(
    ctx: Ctx,
    id: i64,
    action: fn(&rusqlite::Transaction, &crate::audit::Context, i64) -> Result<Job, jobs::JobsError>,
    wake: bool,
) -> Result<Json<Job>, AppError> {
    let a = ctx.audit();
    let job = ctx.state.db.write(move |tx| action(tx, &a, id)).await?;
    if wake {
        ctx.state.jobs_waker.wake();
    }
    Ok(Json(job))
}
