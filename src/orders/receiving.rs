//! Receiving goods against an order: per line the good quantity (with lot
//! and expiry), what came damaged, what came as a substitute item, and
//! into which location. One receipt is one transaction: its ledger
//! movements, the order lines' figures and the order's state change
//! together or not at all. Receiving more than was ordered needs an
//! explicit confirmation; the check runs inside the write transaction, so
//! two people receiving the same line at once cannot get past it.

use std::collections::HashMap;

use rusqlite::{Connection, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::lifecycle::{MAX_REASON, parse_date};
use super::{Env, OrderLine, OrdersError, Step, add_event};
use crate::audit::{self, Context, Event};
use crate::catalog::items;
use crate::db::Cached;
use crate::domain::ledger::MovementKind;
use crate::domain::order::{Action, Facts, transition};
use crate::stock::{self, NewMovement, StockError};
use crate::validation::FieldErrors;

pub const MAX_QUANTITY: i64 = 10_000_000;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ReceiptLineInput {
    pub order_line_id: i64,
    /// Good units (in the stocking unit of the item received) going into
    /// stock.
    #[serde(default)]
    pub quantity: i64,
    /// Units that arrived damaged: recorded on the line, not stocked.
    #[serde(default)]
    pub damaged: i64,
    #[serde(default)]
    pub lot: String,
    /// YYYY-MM-DD.
    #[serde(default)]
    pub expiry: String,
    /// Where it goes; the line's location when absent.
    #[serde(default)]
    pub location_id: Option<i64>,
    /// The supplier sent this item instead of the line's.
    #[serde(default)]
    pub substitute_item_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ReceiptInput {
    /// The supplier's delivery note number.
    #[serde(default)]
    pub delivery_note: String,
    #[serde(default)]
    pub note: String,
    /// Accept more than was ordered on a line.
    #[serde(default)]
    pub confirm_over_delivery: bool,
    pub lines: Vec<ReceiptLineInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReceiptLine {
    pub id: i64,
    pub order_line_id: i64,
    pub item_id: i64,
    pub item_name: String,
    /// Another item than the line's came in its place.
    pub substitute: bool,
    pub location_id: i64,
    pub location_name: String,
    pub lot: String,
    pub expiry: String,
    pub quantity: i64,
    pub damaged: i64,
    /// The ledger position of its receipt movement.
    pub movement_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub id: i64,
    pub order_id: i64,
    pub delivery_note: String,
    pub note: String,
    pub received_by: String,
    pub at: String,
    pub lines: Vec<ReceiptLine>,
}

/// The receipts of an order, oldest first.
pub fn receipts(conn: &Connection, order_id: i64) -> rusqlite::Result<Vec<Receipt>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.order_id, r.delivery_note, r.note, coalesce(u.display_name, ''), r.at
         FROM receipts r LEFT JOIN users u ON u.id = r.user_id WHERE r.order_id = ?1 ORDER BY r.id",
    )?;
    let mut out: Vec<Receipt> = stmt
        .query_map([order_id], |r| {
            Ok(Receipt {
                id: r.get(0)?,
                order_id: r.get(1)?,
                delivery_note: r.get(2)?,
                note: r.get(3)?,
                received_by: r.get(4)?,
                at: r.get(5)?,
                lines: Vec::new(),
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut lines = conn.prepare_cached(
        "SELECT rl.id, rl.order_line_id, rl.item_id, i.name, rl.substitute, rl.location_id, l.name,
            rl.lot, rl.expiry, rl.quantity, rl.damaged, rl.movement_id
         FROM receipt_lines rl JOIN items i ON i.id = rl.item_id
         JOIN locations l ON l.id = rl.location_id WHERE rl.receipt_id = ?1 ORDER BY rl.id",
    )?;
    for receipt in &mut out {
        receipt.lines = lines
            .query_map([receipt.id], |r| {
                Ok(ReceiptLine {
                    id: r.get(0)?,
                    order_line_id: r.get(1)?,
                    item_id: r.get(2)?,
                    item_name: r.get(3)?,
                    substitute: r.get(4)?,
                    location_id: r.get(5)?,
                    location_name: r.get(6)?,
                    lot: r.get(7)?,
                    expiry: r.get(8)?,
                    quantity: r.get(9)?,
                    damaged: r.get(10)?,
                    movement_id: r.get(11)?,
                })
            })?
            .collect::<Result<_, _>>()?;
    }
    Ok(out)
}

/// Receives goods against an order. Returns the receipt written.
pub fn receive(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    order_id: i64,
    input: &ReceiptInput,
) -> Result<Receipt, OrdersError> {
    let order = super::for_change_by(tx, &ctx.actor, order_id, env.today)?;
    if !order.state.receivable() {
        let r =
            transition(order.state, Action::Receive, Facts::default()).expect_err("not receivable");
        return Err(OrdersError::refused(
            super::refusals::of_transition(&r),
            format!("{}: {}", order.number, r),
        ));
    }
    let Some(user) = ctx.actor.person() else {
        return Err(OrdersError::refused(
            super::refusals::NEEDS_A_PERSON,
            "goods are received by a person",
        ));
    };
    let lines: HashMap<i64, OrderLine> = super::lines(tx, order_id)?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let mut errors = FieldErrors::default();
    if input.lines.is_empty() {
        errors.add(
            "lines",
            "nothing to receive: give a quantity for at least one line",
        );
    }
    for (field, text, max) in [
        ("delivery_note", &input.delivery_note, 100),
        ("note", &input.note, MAX_REASON),
    ] {
        if text.chars().count() > max || text.chars().any(char::is_control) {
            errors.add(field, format!("must be at most {max} characters"));
        }
    }
    // Per order line: what this receipt adds to received + substituted.
    let mut adding: HashMap<i64, i64> = HashMap::new();
    let mut planned = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        let f = |name: &str| format!("lines[{i}].{name}");
        let Some(line) = lines.get(&l.order_line_id) else {
            errors.add(&f("order_line_id"), "is not a line of this order");
            continue;
        };
        if !(0..=MAX_QUANTITY).contains(&l.quantity) {
            errors.add(
                &f("quantity"),
                format!("must be a whole number from 0 to {MAX_QUANTITY}"),
            );
        }
        if !(0..=MAX_QUANTITY).contains(&l.damaged) {
            errors.add(
                &f("damaged"),
                format!("must be a whole number from 0 to {MAX_QUANTITY}"),
            );
        }
        if l.quantity == 0 && l.damaged == 0 {
            errors.add(
                &f("quantity"),
                format!("{}: nothing received", line.item_name),
            );
        }
        let location = l.location_id.unwrap_or(line.location_id);
        if !ctx.actor.may_use(location) {
            errors.add(&f("location_id"), "you may not use this location");
        }
        let substitute = l.substitute_item_id.filter(|id| *id != line.item_id);
        if let Some(id) = substitute
            && !items::get(tx, id)?.is_some_and(|i| i.active)
        {
            errors.add(&f("substitute_item_id"), "no such active item");
        }
        let expiry = match parse_date(&f("expiry"), &l.expiry) {
            Ok(d) => d,
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        };
        *adding.entry(line.id).or_default() += l.quantity.max(0);
        planned.push((i, line, location, substitute, expiry));
    }
    // Over-delivery, against the figures inside this transaction: the
    // message goes on the row that takes the line past what was ordered.
    if !input.confirm_over_delivery {
        let mut so_far: HashMap<i64, i64> = HashMap::new();
        let mut flagged = std::collections::HashSet::new();
        for (i, l) in input.lines.iter().enumerate() {
            let Some(line) = lines.get(&l.order_line_id) else {
                continue;
            };
            let before = *so_far
                .entry(line.id)
                .or_insert(line.received + line.substituted);
            let after = before + l.quantity.max(0);
            so_far.insert(line.id, after);
            if l.quantity > 0 && after > line.quantity && flagged.insert(line.id) {
                errors.add(
                    &format!("lines[{i}].quantity"),
                    format!(
                        "{}: {} {} ordered, {} received so far; {} more would be an over-delivery — confirm it to accept",
                        line.item_name,
                        line.quantity,
                        line.unit,
                        line.received + line.substituted,
                        adding.get(&line.id).copied().unwrap_or(0)
                    ),
                );
            }
        }
    }
    errors.into_result()?;
    tx.exec_cached(
        "INSERT INTO receipts (order_id, delivery_note, note, user_id, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            order_id,
            input.delivery_note.trim(),
            input.note.trim(),
            user.id,
            ctx.at.to_db()
        ],
    )?;
    let receipt_id = tx.last_insert_rowid();
    let mut errors = FieldErrors::default();
    for (i, line, location, substitute, expiry) in planned {
        let l = &input.lines[i];
        let item_id = substitute.unwrap_or(line.item_id);
        let mut movement_id = None;
        let (mut lot, mut expiry_stored) = (String::new(), String::new());
        if l.quantity > 0 {
            let m = NewMovement {
                kind: MovementKind::Receipt,
                item_id,
                location_id: location,
                lot: l.lot.clone(),
                expiry,
                quantity: l.quantity,
                reason: String::new(),
                note: format!("{} {}", order.number, input.delivery_note.trim())
                    .trim()
                    .to_string(),
            };
            match stock::record(tx, ctx, &m) {
                Ok(id) => {
                    let mv = stock::movement(tx, id)?;
                    (lot, expiry_stored) = (mv.lot, mv.expiry);
                    movement_id = Some(id);
                }
                Err(StockError::Invalid(e)) => {
                    for fe in e.0 {
                        let field = match fe.field.as_str() {
                            "item_id" if substitute.is_some() => "substitute_item_id",
                            "item_id" => "order_line_id",
                            other => other,
                        };
                        errors.add(&format!("lines[{i}].{field}"), fe.message);
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        tx.exec_cached(
            "INSERT INTO receipt_lines (receipt_id, order_line_id, item_id, substitute, location_id,
                lot, expiry, quantity, damaged, movement_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                receipt_id,
                line.id,
                item_id,
                substitute.is_some(),
                location,
                lot,
                expiry_stored,
                l.quantity,
                l.damaged,
                movement_id
            ],
        )?;
        let (received, substituted) = match substitute {
            Some(_) => (0, l.quantity),
            None => (l.quantity, 0),
        };
        tx.exec_cached(
            "UPDATE order_lines SET received = received + ?1, substituted = substituted + ?2,
                damaged = damaged + ?3 WHERE id = ?4",
            params![received, substituted, l.damaged, line.id],
        )?;
    }
    errors.into_result()?;
    let all_received: bool = tx.row_cached(
        "SELECT NOT EXISTS (SELECT 1 FROM order_lines
            WHERE order_id = ?1 AND received + substituted < quantity)",
        [order_id],
        |r| r.get(0),
    )?;
    let facts = Facts {
        has_lines: true,
        reason: false,
        steps_left: 0,
        all_received,
    };
    let to = transition(order.state, Action::Receive, facts)
        .map_err(|r| OrdersError::refused(super::refusals::of_transition(&r), r.to_string()))?
        .to;
    tx.exec_cached(
        "UPDATE purchase_orders SET state = ?1, updated_at = ?2,
            received_at = CASE WHEN ?1 = 'received' THEN ?2 ELSE received_at END
         WHERE id = ?3",
        params![to.as_str(), ctx.at.to_db(), order_id],
    )?;
    add_event(
        tx,
        ctx,
        order_id,
        Step {
            action: Action::Receive.as_str(),
            from: order.state,
            to,
            reason: input.note.trim(),
            receipt_id: Some(receipt_id),
        },
    )?;
    let receipt = receipts(tx, order_id)?
        .into_iter()
        .find(|r| r.id == receipt_id)
        .expect("just written");
    audit::record(
        tx,
        ctx,
        Event::new("order.receive", "purchase_order", order_id)
            .before(json!({"state": order.state}))
            .after(json!({
                "number": order.number, "state": to, "receipt_id": receipt_id,
                "confirm_over_delivery": input.confirm_over_delivery,
                "lines": receipt.lines.iter().map(|l| json!({
                    "order_line_id": l.order_line_id, "item_id": l.item_id, "quantity": l.quantity,
                    "damaged": l.damaged, "lot": l.lot, "expiry": l.expiry,
                    "location_id": l.location_id, "movement_id": l.movement_id,
                })).collect::<Vec<_>>(),
            })),
    )?;
    Ok(receipt)
}
