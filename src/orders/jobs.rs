//! The work an order causes outside itself, enqueued as jobs in the
//! order's own transaction (so the change and its consequence commit
//! together): sending it to the supplier, and telling the supplier it is
//! cancelled. `orders` owns these kinds and asks for them; `dispatch`
//! registers the handlers that perform them and never calls back up.

use rusqlite::{Connection, OptionalExtension, Transaction};

use super::OrdersError;
use crate::audit::Context;
use crate::db::Cached;
use crate::jobs::NewJob;
use crate::jobs::kind::{JobKind, OrderCancelNotice, OrderSend};

/// The job kind that sends an order through its supplier's channel.
pub const SEND: &str = JobKind::ORDER_SEND;
/// The job kind that tells a supplier an order it has is cancelled.
pub const CANCEL_NOTICE: &str = JobKind::ORDER_CANCEL_NOTICE;

/// Enqueues the job that sends `order_id` (called by `lifecycle::act` for
/// Send and Retry, in its transaction). The key makes each send one job.
pub(crate) fn enqueue_send(
    tx: &Transaction,
    ctx: &Context,
    order_id: i64,
    supplier: &str,
    supplier_id: i64,
) -> Result<i64, OrdersError> {
    let channel: String = tx.row_cached(
        "SELECT dispatch_channel FROM suppliers WHERE id = ?1",
        [supplier_id],
        |r| r.get(0),
    )?;
    if channel == "manual" {
        return Err(OrdersError::refused(
            super::refusals::SUPPLIER_HAS_NO_CHANNEL,
            format!(
                "{supplier} has no sending channel: choose one on the supplier's page, or place the order yourself and mark it as sent"
            ),
        ));
    }
    let sends: i64 = tx.row_cached(
        "SELECT count(*) FROM order_events WHERE order_id = ?1 AND action IN ('queue', 'retry')",
        [order_id],
        |r| r.get(0),
    )?;
    Ok(crate::jobs::enqueue(
        tx,
        ctx.at,
        &NewJob::of(&JobKind::OrderSend(OrderSend { order_id }))
            .key(format!("order-dispatch-{order_id}-{}", sends + 1))
            .attempts(8)
            .lane(lane_of(tx, order_id)?),
    )?)
}

/// Enqueues the cancellation notice for an order the supplier has (once per order).
pub fn enqueue_cancel_notice(
    tx: &Transaction,
    ctx: &Context,
    order_id: i64,
) -> rusqlite::Result<i64> {
    crate::jobs::enqueue(
        tx,
        ctx.at,
        &NewJob::of(&JobKind::OrderCancelNotice(OrderCancelNotice { order_id }))
            .key(format!("order-cancel-notice-{order_id}"))
            .attempts(8)
            .lane(lane_of(tx, order_id)?),
    )
}

/// The lane an order's sends run in: the channel it goes by (the one it
/// is pinned to, else its supplier's).
fn lane_of(tx: &Transaction, order_id: i64) -> rusqlite::Result<String> {
    let channel: Option<String> = tx.row_cached(
        "SELECT coalesce(
             (SELECT channel FROM dispatch_pins WHERE order_id = ?1),
             (SELECT s.dispatch_channel FROM purchase_orders o JOIN suppliers s ON s.id = o.supplier_id
              WHERE o.id = ?1))",
        [order_id],
        |r| r.get(0),
    )?;
    Ok(format!("channel:{}", channel.unwrap_or_default()))
}

/// The newest send job of an order, through the jobs' subject index (the
/// order page asks every few seconds while an order is being sent).
pub const LATEST_SEND_SQL: &str = "SELECT id FROM jobs
     WHERE subject_type = 'order' AND subject_id = ?1 AND kind = ?2
     ORDER BY id DESC LIMIT 1";

/// The newest job sending `order_id`, if it was ever sent through a channel.
pub fn latest_send(conn: &Connection, order_id: i64) -> rusqlite::Result<Option<crate::jobs::Job>> {
    let id: Option<i64> = conn
        .row_cached(LATEST_SEND_SQL, rusqlite::params![order_id, SEND], |r| {
            r.get(0)
        })
        .optional()?;
    match id {
        Some(id) => crate::jobs::get(conn, id),
        None => Ok(None),
    }
}
