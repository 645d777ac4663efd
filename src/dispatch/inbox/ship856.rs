//! An 856 ship notice applied to its order: each shipped item matched to
//! an order line (through an announced substitute when needed) and stored
//! with its lot and expiry, the expected delivery set from the notice.

use rusqlite::{OptionalExtension, Transaction, params};

use super::apply::{Incoming, Problem, awaited, describe_part, expect, order_of, same};
use crate::audit::Context;
use crate::db::Cached;
use crate::dispatch::x12::{Ship856, ShipLine};
use crate::orders::{self, Env, OrderLine, Step, add_event};

/// The order line a shipped item belongs to: by the supplier's code,
/// else as the substitute the supplier announced for a line, else by
/// stockroom's item code.
fn shipped_line<'a>(
    tx: &Transaction,
    lines: &'a [OrderLine],
    order_id: i64,
    s: &ShipLine,
) -> rusqlite::Result<Option<&'a OrderLine>> {
    if let Some(line) = lines
        .iter()
        .find(|c| same(&c.supplier_code, &s.vendor_part))
    {
        return Ok(Some(line));
    }
    if !s.vendor_part.trim().is_empty() {
        let substituted: Option<i64> = tx
            .row_cached(
                "SELECT a.order_line_id FROM edi_line_acks a
                 JOIN order_lines l ON l.id = a.order_line_id
                 WHERE l.order_id = ?1 AND a.status = 'substituted'
                   AND upper(trim(a.substitute_part)) = upper(trim(?2))
                 ORDER BY a.id DESC LIMIT 1",
                params![order_id, s.vendor_part],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = substituted {
            return Ok(lines.iter().find(|l| l.id == id));
        }
    }
    Ok(lines.iter().find(|c| same(&c.item_code, &s.buyer_part)))
}

/// An 856: the shipped lots recorded per order line, the expected
/// delivery set from the notice.
pub(super) fn apply(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    file_id: i64,
    file: &Incoming,
    ship: &Ship856,
) -> Result<String, Problem> {
    let what = "ship notice";
    let order = order_of(tx, env, file, &ship.po_number, what)?;
    awaited(&order, what)?;
    let lines = orders::lines(tx, order.id)?;
    for s in &ship.lines {
        let Some(line) = shipped_line(tx, &lines, order.id, s)? else {
            return Err(Problem::Reject(format!(
                "the ship notice {} ships {}, which is not on order {}",
                ship.shipment_id,
                describe_part(&s.vendor_part, &s.buyer_part),
                order.number
            )));
        };
        tx.exec_cached(
            "INSERT INTO edi_shipped_lines (inbound_file_id, order_line_id, shipment_id,
                vendor_part, quantity, lot, expiry)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                file_id,
                line.id,
                ship.shipment_id.trim(),
                s.vendor_part.trim(),
                s.quantity,
                s.lot.as_deref().unwrap_or("").trim(),
                s.expiry.map(|d| d.to_string()).unwrap_or_default()
            ],
        )?;
    }
    let mut said = vec![format!(
        "{}: ship notice {} with {} line{}",
        order.number,
        ship.shipment_id,
        ship.lines.len(),
        if ship.lines.len() == 1 { "" } else { "s" }
    )];
    if let Some(d) = ship.delivery.map(|d| d.to_string()) {
        if d != order.expected_on {
            expect(tx, ctx, env, &order, d.clone())?;
        }
        said.push(format!("delivery expected {d}"));
    }
    let reason = format!("shipment {} (EDI 856)", ship.shipment_id);
    add_event(
        tx,
        ctx,
        order.id,
        Step {
            reason: &reason,
            ..Step::within("ship_notice", order.state)
        },
    )?;
    Ok(said.join(", "))
}
