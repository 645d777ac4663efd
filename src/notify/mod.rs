//! The daily digest to the practice's managers: low stock, stock expiring
//! within the practice's window, orders waiting for approval, overdue
//! deliveries and failed jobs, in one email — and no email at all on a day
//! with nothing to say.
//!
//! It is a job kind (`digest.daily`) on the durable queue, so it runs on
//! the schedule in `jobs.schedule` (with a mail server configured, every
//! day at 07:00 practice time unless that says otherwise, see
//! [`schedules`]) and whenever someone presses "Send the digest now"
//! ([`enqueue_now`]). It sends through the same pooled mail server
//! connection as orders (`mail::Mailer`). Who gets it lives in the
//! `settings` table ([`settings`]), set in the browser. Each run that got as far as
//! deciding what to send leaves an audit row on its job (`digest.sent` or
//! `digest.empty`), which the digest page reads back as the last outcome.

pub mod digest;
pub mod settings;

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Transaction};
use serde_json::{Value, json};

use crate::audit::{self, Context, Event};
use crate::config::Config;
use crate::db::{Cached, DbError};
use crate::domain::schedule::Schedule;
use crate::jobs::kind::{JobKind, Occasion};
use crate::jobs::worker::{JobContext, JobError, Kind};
use crate::jobs::{Job, NewJob};
use crate::mail::Mailer;
use crate::validation::FieldErrors;

/// The job kind that gathers and sends the digest.
pub const KIND: &str = JobKind::DIGEST_DAILY;
/// When the digest goes out unless `jobs.schedule` says otherwise: every
/// day at 07:00 in the practice's time zone.
pub const DEFAULT_SCHEDULE: &str = "0 7 * * *";

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for NotifyError {
    fn from(e: rusqlite::Error) -> Self {
        NotifyError::Db(DbError::Sqlite(e))
    }
}

/// The recurring jobs to run: `jobs.schedule`, plus the digest at
/// [`DEFAULT_SCHEDULE`] when a mail server is configured and
/// `jobs.schedule` does not name the digest. Without a mail server there
/// is nothing to send it through, so no job is made each day to say so.
pub fn schedules(config: &Config) -> Vec<Schedule> {
    let mut out = config.jobs.schedules.clone();
    if config.smtp.is_some() && !out.iter().any(|s| s.kind == KIND) {
        out.extend(
            crate::domain::schedule::parse(&format!("{KIND} = {DEFAULT_SCHEDULE}"))
                .expect("the default digest schedule is a valid cron expression"),
        );
    }
    out
}

/// What the digest job needs: the configuration and the mail server.
#[derive(Clone)]
pub struct Notifier {
    pub config: Arc<Config>,
    pub mailer: Option<Arc<Mailer>>,
}

impl Notifier {
    /// With its own connection to the configured mail server.
    pub fn new(config: Arc<Config>) -> anyhow::Result<Notifier> {
        let mailer = Mailer::from_config(&config)?;
        Ok(Notifier { config, mailer })
    }
}

/// The digest's job kind for the worker.
pub fn kinds(notifier: Notifier) -> Vec<Kind> {
    let d = Arc::new(notifier);
    vec![Kind {
        name: KIND.into(),
        concurrency: 1,
        handler: Arc::new(move |ctx| Box::pin(run(ctx, d.clone()))),
    }]
}

/// "Send the digest now": a digest job due at once, audited. Refused
/// when nobody would get it.
pub fn enqueue_now(tx: &Transaction, ctx: &Context) -> Result<i64, NotifyError> {
    if settings::get(tx)?.recipients.is_empty() {
        return Err(NotifyError::Invalid(FieldErrors::single(
            "recipients",
            "has no address yet: add at least one and save before sending the digest",
        )));
    }
    let id = crate::jobs::enqueue(
        tx,
        ctx.at,
        &NewJob::of(&JobKind::DigestDaily(Occasion::manual()))
            .key(format!("digest:manual:{}", ctx.at.to_db())),
    )?;
    audit::record(tx, ctx, Event::new("digest.send_now", "job", id))?;
    Ok(id)
}

/// How a digest job ended, as the digest page tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastRun {
    pub job: Job,
    /// `digest.sent` or `digest.empty` with what it recorded; none while it
    /// waits, when it failed, or when there were no recipients.
    pub outcome: Option<(String, Value)>,
}

/// A job's recorded outcome, found through the audit log's entity index.
const OUTCOME_SQL: &str = "SELECT action, after_json FROM audit_log
     WHERE entity_type = 'job' AND entity_id = ?1 AND action IN ('digest.sent', 'digest.empty')
     ORDER BY id DESC LIMIT 1";

/// The newest digest job and its outcome.
pub fn last_run(conn: &Connection) -> rusqlite::Result<Option<LastRun>> {
    let (jobs, _) = crate::jobs::list(conn, None, Some(KIND), 1, 0)?;
    let Some(job) = jobs.into_iter().next() else {
        return Ok(None);
    };
    let outcome = conn
        .row_cached(OUTCOME_SQL, [job.id.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })
        .optional()?
        .map(|(action, after)| {
            // An audit row without `after` says nothing more; one whose
            // `after` is not JSON is damaged, and an error.
            let after = match after {
                None => Value::Null,
                Some(a) => serde_json::from_str(&a).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        1,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?,
            };
            Ok::<_, rusqlite::Error>((action, after))
        })
        .transpose()?;
    Ok(Some(LastRun { job, outcome }))
}

/// One digest: off without recipients, refused without a mail server,
/// silent with nothing to say, else one email to every recipient.
async fn run(ctx: JobContext, d: Arc<Notifier>) -> Result<(), JobError> {
    // Scheduled or pressed, the digest is the same; reading the occasion
    // refuses a damaged row.
    let _: Occasion = ctx.payload()?;
    let db_error = |e: DbError| JobError::Retry(format!("could not read the database: {e}"));
    let wanted = ctx
        .db
        .read(|c| settings::get(c).map_err(DbError::from))
        .await
        .map_err(db_error)?;
    if wanted.recipients.is_empty() {
        tracing::info!(job = ctx.id, "the digest is off: no recipients are set");
        return Ok(());
    }
    let Some(mailer) = d.mailer.clone() else {
        return Err(JobError::Permanent(
            "the digest cannot be sent: no mail server is configured (the administrator sets smtp.host and smtp.from in the configuration)".into(),
        ));
    };
    let now = ctx.clock.now();
    let today = crate::domain::time::today_in(now, &d.config.practice.time_zone);
    let public_url = d.config.public_url.clone();
    let expiry_days = wanted.expiry_days;
    let (digest, practice_email) = ctx
        .db
        .read(move |c| {
            let scope = digest::Scope {
                now,
                today,
                expiry_days,
                public_url: public_url.as_deref(),
            };
            Ok::<_, DbError>((
                digest::gather(c, &scope)?,
                crate::practice::practice(c)?.email,
            ))
        })
        .await
        .map_err(db_error)?;
    if digest.is_empty() {
        tracing::info!(job = ctx.id, "nothing to report: no digest sent");
        record(&ctx, "digest.empty", json!({"date": today.to_string()})).await;
        return Ok(());
    }
    let counts = json!({
        "low": digest.low.total,
        "expiring": digest.expiring.total,
        "to_approve": digest.to_approve.total,
        "overdue": digest.overdue.total,
        "dead_jobs": digest.dead_jobs.total,
    });
    let message_id = format!("<digest.{today}.{}@{}>", ctx.id, mailer.from.email.domain());
    let message = digest::compose(
        &digest,
        &mailer.from,
        &wanted.recipients,
        &practice_email,
        &message_id,
    )?;
    if let Some(smtp) = &d.config.smtp {
        ctx.reaching(crate::mail::target(&smtp.host, smtp.port));
    }
    mailer.send(message).await?;
    tracing::info!(job = ctx.id, recipients = wanted.recipients.len(), subject = %digest.subject(), "digest sent");
    record(
        &ctx,
        "digest.sent",
        json!({"date": today.to_string(), "to": wanted.recipients, "counts": counts}),
    )
    .await;
    Ok(())
}

/// Audits a run's outcome as the system. The email (or the decision not
/// to send one) already happened, so a failure here is logged rather than
/// retried: a retry would send the digest a second time.
async fn record(ctx: &JobContext, action: &'static str, after: Value) {
    let (at, id) = (ctx.clock.now(), ctx.id);
    let written = ctx
        .db
        .write(move |tx| {
            audit::record(
                tx,
                &Context::system(at),
                Event::new(action, "job", id).after(after),
            )
            .map_err(DbError::from)
        })
        .await;
    if let Err(e) = written {
        tracing::error!(job = id, error = %e, "could not record the digest's outcome");
    }
}

#[cfg(test)]
mod tests;
