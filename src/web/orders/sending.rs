//! The "Sending" block of a queued or failed order: on the order page, and
//! alone for the page to poll while the order waits to be sent.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::view::when;
use crate::db::DbError;
use crate::domain::order::OrderState;
use crate::jobs::{Job, JobState};
use crate::orders::{self};
use crate::web::context::Ctx;
use crate::web::error::AppError;

/// The "Sending" block of a queued or failed order.
pub(crate) struct Sending {
    pub(super) state: &'static str,
    pub(super) attempt: String,
    /// When the next try is due, while waiting to retry.
    pub(super) next_try: String,
    pub(super) last_error: String,
    /// "Try now" is offered (waiting after a failure, to someone who may
    /// manage orders), with the form's CSRF token.
    pub(super) can_try_now: bool,
    pub(super) csrf: String,
}

impl Sending {
    pub(super) fn new(job: &Job, may_manage: bool, csrf: &str) -> Self {
        let state = match job.state {
            JobState::Queued if job.attempts > 0 => "waiting to try again",
            JobState::Queued => "waiting to be sent",
            JobState::Running => "sending now",
            JobState::Succeeded => "sent",
            JobState::Failed => "failed, waiting to try again",
            JobState::Dead => "gave up",
            JobState::Cancelled => "cancelled",
        };
        let waiting = matches!(job.state, JobState::Failed)
            || (job.state == JobState::Queued && job.attempts > 0);
        Sending {
            state,
            attempt: format!("attempt {} of {}", job.attempts, job.max_attempts),
            next_try: if waiting {
                when(&job.run_at)
            } else {
                String::new()
            },
            last_error: job.last_error.clone(),
            can_try_now: may_manage && job.state == JobState::Failed,
            csrf: csrf.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "orders/sending.html")]
struct SendingBlock {
    order: orders::Order,
    sending: Option<Sending>,
}

/// The "Sending" block alone, which the order page asks for every few
/// seconds while the order is queued. Once it is not, `HX-Refresh` makes
/// the browser load the whole page again.
pub async fn sending(
    req: actix_web::HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let csrf = crate::web::render::Layout::for_request(&req, "").csrf;
    let may_manage = ctx
        .user()?
        .role
        .may(crate::domain::Permission::ManageOrders);
    let (id, today) = (id.into_inner(), ctx.state.today());
    let places = ctx.actor().places();
    let (order, job) = ctx
        .state
        .db
        .read(move |c| {
            Ok::<_, DbError>(match orders::get(c, id, today)? {
                Some(o) if orders::may_see(c, &places, id)? => {
                    Some((o, crate::orders::jobs::latest_send(c, id)?))
                }
                _ => None,
            })
        })
        .await?
        .ok_or(AppError::NotFound)?;
    if order.state != OrderState::Queued {
        return Ok(HttpResponse::Ok()
            .insert_header(("HX-Refresh", "true"))
            .finish());
    }
    let html = SendingBlock {
        sending: job.as_ref().map(|j| Sending::new(j, may_manage, &csrf)),
        order,
    }
    .render()
    .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// "Try now" on a queued order whose send waits after a failure: the wait
/// is cut short (audited as `job.try_now`).
pub async fn try_now(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let places = ctx.actor().places();
    let a = ctx.audit();
    let done = ctx
        .state
        .db
        .write(move |tx| {
            if !orders::may_see(tx, &places, id)? {
                return Ok::<_, crate::jobs::JobsError>(None);
            }
            match crate::orders::jobs::latest_send(tx, id)? {
                Some(job) if job.state == JobState::Failed => {
                    crate::jobs::try_now(tx, &a, job.id).map(|_| Some(true))
                }
                _ => Ok(Some(false)),
            }
        })
        .await?;
    let to = format!("/orders/{id}");
    match done {
        None => Err(AppError::NotFound),
        Some(true) => {
            ctx.state.jobs_waker.wake();
            Ok(crate::web::render::redirect_with_flash(
                &to,
                "success",
                "Trying to send it again now.",
            ))
        }
        Some(false) => Ok(crate::web::render::redirect_with_flash(
            &to,
            "error",
            "This order is not waiting to try again: nothing to try now.",
        )),
    }
}
