//! The daily digest page: who gets the digest and how far ahead it looks
//! for expiring stock, when it is sent, how the last one went, and a
//! button that sends it now.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::config::Config;
use crate::db::DbError;
use crate::domain::Timestamp;
use crate::jobs::JobState;
use crate::notify::settings::{self, DigestInput, MAX_EXPIRY_DAYS, MAX_RECIPIENTS};
use crate::notify::{self, LastRun, NotifyError};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render_status};

const PATH: &str = "/admin/digest";

#[derive(Template)]
#[template(path = "admin/digest.html")]
struct DigestPage {
    layout: Layout,
    form: DigestInput,
    errors: FieldErrors,
    /// Recipients are stored: the digest is on.
    on: bool,
    /// A mail server is configured.
    mail: bool,
    when: String,
    /// The newest run in words, and whether it failed.
    last: Option<(String, bool)>,
    max_recipients: usize,
    max_days: u16,
}
crate::page!(DigestPage);

async fn page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    form: Option<DigestInput>,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let (stored, last) = ctx
        .state
        .db
        .read(|c| Ok::<_, DbError>((settings::get(c)?, notify::last_run(c)?)))
        .await?;
    let form = form.unwrap_or_else(|| DigestInput {
        recipients: stored.recipients_text(),
        expiry_days: stored.expiry_days.to_string(),
    });
    render_status(
        status,
        &DigestPage {
            layout: Layout::for_request(req, "Daily digest"),
            form,
            errors,
            on: !stored.recipients.is_empty(),
            mail: ctx.state.config.smtp.is_some(),
            when: when_sent(&ctx.state.config),
            last: last.as_ref().map(last_text),
            max_recipients: MAX_RECIPIENTS,
            max_days: MAX_EXPIRY_DAYS,
        },
    )
}

pub async fn show(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    page(&req, &ctx, StatusCode::OK, None, FieldErrors::default()).await
}

pub async fn save(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<DigestInput>,
) -> Result<HttpResponse, AppError> {
    let (form, a) = (f.into_inner(), ctx.audit());
    let input = form.clone();
    let outcome = ctx
        .state
        .db
        .write(move |tx| settings::set(tx, &a, &input))
        .await;
    match outcome {
        Ok(s) if s.recipients.is_empty() => Ok(redirect_with_flash(
            PATH,
            "success",
            "Saved. The digest is off: nobody is set to get it.",
        )),
        Ok(s) => Ok(redirect_with_flash(
            PATH,
            "success",
            &format!("Saved. The digest goes to {}.", s.recipients.join(", ")),
        )),
        Err(NotifyError::Invalid(e)) => {
            page(&req, &ctx, StatusCode::UNPROCESSABLE_ENTITY, Some(form), e).await
        }
        Err(NotifyError::Db(e)) => Err(e.into()),
    }
}

/// "Send the digest now".
pub async fn send_now(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let a = ctx.audit();
    let outcome = ctx
        .state
        .db
        .write(move |tx| notify::enqueue_now(tx, &a))
        .await;
    match outcome {
        Ok(_) => Ok(redirect_with_flash(
            PATH,
            "success",
            "The digest is being gathered and sent. Reload this page in a moment to see how it went.",
        )),
        Err(NotifyError::Invalid(_)) => Ok(redirect_with_flash(
            PATH,
            "error",
            "Nothing was sent: nobody is set to get the digest. Add at least one email address and save first.",
        )),
        Err(NotifyError::Db(e)) => Err(e.into()),
    }
}

/// When the digest goes out, in words.
fn when_sent(config: &Config) -> String {
    let zone = config
        .practice
        .time_zone
        .iana_name()
        .unwrap_or("the server's time zone")
        .to_string();
    let Some(s) = notify::schedules(config)
        .into_iter()
        .find(|s| s.kind == notify::KIND)
    else {
        return "It is not sent on a schedule: no mail server is configured.".into();
    };
    let fields: Vec<&str> = s.text.split_whitespace().collect();
    let days = match fields.get(2..5) {
        Some(["*", "*", "*"]) => Some("every day"),
        Some(["*", "*", "1-5"]) => Some("Monday to Friday"),
        _ => None,
    };
    let at = match (
        fields.first().and_then(|m| m.parse::<u8>().ok()),
        fields.get(1).and_then(|h| h.parse::<u8>().ok()),
    ) {
        (Some(m), Some(h)) => Some(format!("{h:02}:{m:02}")),
        _ => None,
    };
    match (days, at) {
        (Some(days), Some(at)) => format!("It is sent {days} at {at} practice time ({zone})"),
        _ => format!(
            "It is sent on the schedule “{}” (minute, hour, day of month, month, day of week) in practice time ({zone})",
            s.text
        ),
    }
}

/// The newest run in words: (text, failed).
fn last_text(run: &LastRun) -> (String, bool) {
    let job = &run.job;
    let at = job
        .finished_at
        .as_deref()
        .and_then(|t| Timestamp::parse(t).ok())
        .map(Timestamp::human)
        .unwrap_or_default();
    match job.state {
        JobState::Queued | JobState::Running | JobState::Failed => (
            "A digest is being gathered and sent… reload the page in a moment to see how it went."
                .into(),
            false,
        ),
        JobState::Succeeded => match &run.outcome {
            Some((action, after)) if action == "digest.sent" => {
                let to: Vec<&str> = after["to"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                (
                    format!("Last digest sent {at} to {}.", to.join(", ")),
                    false,
                )
            }
            Some(_) => (
                format!("Last digest {at}: nothing to report, so no email was sent."),
                false,
            ),
            None => (
                format!("Last digest {at}: not sent, nobody was set to get it."),
                false,
            ),
        },
        JobState::Dead | JobState::Cancelled => (
            format!(
                "Last digest failed {at}: {}",
                if job.last_error.is_empty() {
                    "no reason recorded"
                } else {
                    &job.last_error
                }
            ),
            true,
        ),
    }
}
