//! One row of an opening-stock file: what is on the shelves when stockroom
//! takes over, recorded through the ledger as a `receipt` movement with the
//! reason "opening stock", so that levels and the ledger agree from the
//! first day and the audit trail shows where the stock came from.

use rusqlite::Transaction;

use super::cells;
use super::report::Outcome;
use super::{Cells, Env};
use crate::db::DbError;
use crate::domain::ledger::MovementKind;
use crate::stock::{self, NewMovement};

/// The reason every opening-stock movement carries.
pub const REASON: &str = "opening stock";

pub(crate) fn opening(
    tx: &Transaction,
    env: &mut Env,
    c: &Cells,
    out: &mut Outcome,
) -> Result<(), DbError> {
    let item = match c.get("item") {
        "" => {
            out.error("item", "is required");
            None
        }
        code => env.item(tx, out, "item", code)?,
    };
    let location_id = env.location(tx, out, "location", c.get("location"))?;
    let expiry = cells::date(c.get("expiry")).unwrap_or_else(|e| {
        out.error("expiry", e);
        None
    });
    let quantity = match c.get("quantity") {
        "" => {
            out.error("quantity", "is required");
            None
        }
        raw => match cells::whole(raw) {
            Ok(q) if q > 0 => Some(q),
            Ok(_) => {
                out.error("quantity", "must be more than zero");
                None
            }
            Err(e) => {
                out.error("quantity", e);
                None
            }
        },
    };
    if let Some(i) = &item {
        if !i.lot_tracked && !c.get("lot").is_empty() {
            out.notices
                .push(format!("lot ignored: {} is not tracked by lot", i.name));
        }
        if !i.expiry_tracked && expiry.is_some() {
            out.notices.push(format!(
                "expiry ignored: {} is not tracked by expiry date",
                i.name
            ));
        }
    }
    let movement = NewMovement {
        kind: MovementKind::Receipt,
        item_id: item.as_ref().map_or(0, |i| i.id),
        location_id: location_id.unwrap_or(0),
        lot: c.get("lot").to_string(),
        expiry,
        quantity: quantity.unwrap_or(1),
        reason: REASON.to_string(),
        note: c.get("note").to_string(),
    };
    let recorded = out.stock(
        stock::record(tx, env.audit, &movement),
        &[
            ("item_id", "item"),
            ("location_id", "location"),
            ("reason", "note"),
        ],
    )?;
    if recorded.is_some() {
        out.counts.stock_lines_received += 1;
    }
    Ok(())
}
