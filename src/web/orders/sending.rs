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
}

impl Sending {
    pub(super) fn new(job: &Job) -> Self {
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
pub async fn sending(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
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
        sending: job.as_ref().map(Sending::new),
        order,
    }
    .render()
    .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}
