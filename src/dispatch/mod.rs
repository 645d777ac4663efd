//! Sending orders to suppliers. Each supplier has a channel: `manual` (the
//! practice places the order by phone or portal and marks it as sent) or
//! one stockroom sends through — for now `csv_folder`, the order written as
//! a CSV file into the supplier's drop folder. "Send" on an approved order
//! makes it `queued` and enqueues an `order.dispatch` job in the same
//! transaction; the job writes the order through the channel and only then
//! makes it `sent`. A failure that may pass (the share is not mounted) is
//! retried with back-off; one that cannot, or the last attempt, makes the
//! order `dispatch_failed` with the reason.

pub mod csv_folder;
pub mod pdf;
pub mod x12;

use std::sync::Arc;

use rusqlite::{Connection, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit::{self, Context, Event};
use crate::catalog::CatalogError;
use crate::config::Config;
use crate::db::{Cached, DbError};
use crate::domain::order::{Action, OrderState};
use crate::jobs::worker::{JobContext, JobError, Kind};
use crate::orders::lifecycle::{self, ActInput};
use crate::orders::{self, Env, OrdersError, Who};
use crate::validation::FieldErrors;

/// The job kind that sends an order.
pub const KIND: &str = "order.dispatch";

/// How a supplier gets its orders, with its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Channel {
    /// Placed by phone or portal; marked as sent by hand.
    Manual,
    /// Written as CSV into `<dispatch.folder_root>/<folder>`.
    CsvFolder(csv_folder::Settings),
}

impl Channel {
    pub fn name(&self) -> &'static str {
        match self {
            Channel::Manual => "manual",
            Channel::CsvFolder(_) => "csv_folder",
        }
    }

    /// From the supplier's columns; an unreadable setting reads as manual.
    pub fn from_columns(channel: &str, settings: &str) -> Channel {
        let mut v: Value = serde_json::from_str(settings).unwrap_or(json!({}));
        if let Some(o) = v.as_object_mut() {
            o.insert("channel".into(), Value::String(channel.into()));
        }
        serde_json::from_value(v).unwrap_or(Channel::Manual)
    }

    fn settings_json(&self) -> Value {
        match self {
            Channel::Manual => json!({}),
            Channel::CsvFolder(s) => serde_json::to_value(s).unwrap_or(json!({})),
        }
    }

    pub fn validate(&self) -> Result<(), FieldErrors> {
        match self {
            Channel::Manual => Ok(()),
            Channel::CsvFolder(s) => s.validate(),
        }
    }
}

/// A supplier's channel.
pub fn channel_of(conn: &Connection, supplier_id: i64) -> rusqlite::Result<Channel> {
    conn.row_cached(
        "SELECT dispatch_channel, dispatch_settings FROM suppliers WHERE id = ?1",
        [supplier_id],
        |r| {
            Ok(Channel::from_columns(
                &r.get::<_, String>(0)?,
                &r.get::<_, String>(1)?,
            ))
        },
    )
}

/// Sets how a supplier gets its orders (validated, audited).
pub fn set_channel(
    tx: &Transaction,
    ctx: &Context,
    supplier_id: i64,
    channel: &Channel,
) -> Result<Channel, CatalogError> {
    let before =
        crate::catalog::suppliers::get(tx, supplier_id)?.ok_or(CatalogError::NoSuchSupplier)?;
    channel.validate()?;
    let old = channel_of(tx, supplier_id)?;
    tx.exec_cached(
        "UPDATE suppliers SET dispatch_channel = ?1, dispatch_settings = ?2, updated_at = ?3 WHERE id = ?4",
        params![
            channel.name(),
            channel.settings_json().to_string(),
            ctx.at.to_db(),
            supplier_id
        ],
    )?;
    audit::record(
        tx,
        ctx,
        Event::new("supplier.dispatch", "supplier", supplier_id)
            .before(json!({"name": before.name, "channel": old}))
            .after(json!({"channel": channel})),
    )?;
    Ok(channel_of(tx, supplier_id)?)
}

/// Enqueues the job that sends `order_id` (called by `lifecycle::act` for
/// Send and Retry, in its transaction). The key makes each send one job.
pub(crate) fn enqueue_send(
    tx: &Transaction,
    ctx: &Context,
    order_id: i64,
    supplier: &str,
    supplier_id: i64,
) -> Result<i64, OrdersError> {
    if channel_of(tx, supplier_id)? == Channel::Manual {
        return Err(OrdersError::Refused(format!(
            "{supplier} has no sending channel: choose one on the supplier's page, or place the order yourself and mark it as sent"
        )));
    }
    let sends: i64 = tx.row_cached(
        "SELECT count(*) FROM order_events WHERE order_id = ?1 AND action IN ('queue', 'retry')",
        [order_id],
        |r| r.get(0),
    )?;
    Ok(crate::jobs::enqueue(
        tx,
        ctx.at,
        &crate::jobs::NewJob::new(KIND, json!({"order_id": order_id}))
            .key(format!("order-dispatch-{order_id}-{}", sends + 1))
            .attempts(8),
    )?)
}

/// The `order.dispatch` kind for the worker.
pub fn kind(config: Arc<Config>) -> Kind {
    Kind {
        name: KIND.into(),
        concurrency: config.jobs.concurrency,
        handler: Arc::new(move |ctx| Box::pin(send_order(ctx, config.clone()))),
    }
}

fn env(config: &Config, ctx: &JobContext) -> Env {
    Env {
        currency: config.practice.currency.clone(),
        today: crate::state::today_in(ctx.clock.now(), &config.practice.time_zone),
    }
}

/// Records the outcome on the order as the system.
async fn conclude(
    ctx: &JobContext,
    config: &Config,
    order_id: i64,
    action: Action,
    reason: String,
    channel: &'static str,
) -> Result<(), JobError> {
    let (env, audit_ctx) = (env(config, ctx), Context::system(ctx.clock.now()));
    ctx.db
        .write(move |tx| {
            lifecycle::act(
                tx,
                &audit_ctx,
                Who::System,
                &env,
                order_id,
                action,
                &ActInput {
                    reason,
                    ..ActInput::default()
                },
            )?;
            if action == Action::DispatchSucceeded {
                tx.exec_cached(
                    "UPDATE purchase_orders SET channel = ?1 WHERE id = ?2",
                    params![channel, order_id],
                )?;
            }
            Ok::<_, OrdersError>(())
        })
        .await
        .map_err(|e| JobError::Retry(format!("could not record the outcome on the order: {e}")))
}

async fn send_order(ctx: JobContext, config: Arc<Config>) -> Result<(), JobError> {
    let Some(order_id) = ctx.payload["order_id"].as_i64() else {
        return Err(JobError::Permanent("the job names no order".into()));
    };
    let today = env(&config, &ctx).today;
    let loaded = ctx
        .db
        .read(move |c| {
            let Some(detail) = orders::detail(c, order_id, today)? else {
                return Ok(None);
            };
            let channel = channel_of(c, detail.order.supplier_id)?;
            let supplier = crate::catalog::suppliers::get(c, detail.order.supplier_id)?;
            Ok::<_, DbError>(Some((detail, channel, supplier)))
        })
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?;
    let Some((detail, channel, supplier)) = loaded else {
        return Err(JobError::Permanent(format!(
            "order {order_id} does not exist"
        )));
    };
    if detail.order.state != OrderState::Queued {
        // Cancelled or sent by hand meanwhile: nothing left to do.
        tracing::info!(order = %detail.order.number, state = %detail.order.state, "order no longer queued; not sent");
        return Ok(());
    }
    let last = ctx.attempt >= ctx.max_attempts;
    let result = match &channel {
        Channel::Manual => Err(JobError::Permanent(format!(
            "{} has no sending channel any more",
            detail.order.supplier_name
        ))),
        Channel::CsvFolder(settings) => {
            let (root, settings) = (config.dispatch.folder_root.clone(), settings.clone());
            let account = supplier.map(|s| s.account_number).unwrap_or_default();
            crate::db::run_blocking(move || csv_folder::write(&root, &settings, &detail, &account))
                .await
                .map(|path| tracing::info!(path = %path.display(), "order written to the supplier's folder"))
        }
    };
    match result {
        Ok(()) => {
            conclude(
                &ctx,
                &config,
                order_id,
                Action::DispatchSucceeded,
                String::new(),
                channel.name(),
            )
            .await
        }
        Err(JobError::Retry(e)) if !last => Err(JobError::Retry(e)),
        Err(JobError::Retry(e) | JobError::Permanent(e)) => {
            conclude(
                &ctx,
                &config,
                order_id,
                Action::DispatchFailed,
                e.clone(),
                channel.name(),
            )
            .await?;
            Err(JobError::Permanent(e))
        }
    }
}

#[cfg(test)]
mod tests;
