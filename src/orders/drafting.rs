//! Drafting an order: creating it, adding, changing and removing its
//! lines, and changing its note or expected delivery date. Apart from
//! [`super::lifecycle`], which moves an order through its states, because
//! editing a draft checks lines against the supplier's catalogue and the
//! user's locations and never changes the order's state.

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Deserialize;
use serde_json::json;

use super::lifecycle::{
    MAX_LINES, MAX_NOTE, MAX_PACKS, MAX_REASON, audit_order, check_note, parse_date,
};
use super::{Env, Order, OrdersError, Step, add_event, for_change, next_number};
use crate::audit::Context;
use crate::catalog::{items, locations, suppliers};
use crate::db::Cached;
use crate::domain::actor::Actor;
use crate::domain::order::OrderState;
use crate::validation::FieldErrors;

/// A line as a form or API call asks for it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct LineInput {
    /// The supplier's catalogue line; or give `item_id` and the supplier's
    /// line for that item is used.
    #[serde(default)]
    pub supplier_item_id: Option<i64>,
    #[serde(default)]
    pub item_id: Option<i64>,
    /// Where the goods are meant to go.
    pub location_id: i64,
    /// How many of the supplier's packs.
    pub packs: i64,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewOrder {
    pub supplier_id: i64,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub lines: Vec<LineInput>,
}

/// Creates a draft order for a supplier, with lines if given.
pub fn create(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    input: &NewOrder,
) -> Result<Order, OrdersError> {
    let mut errors = FieldErrors::default();
    match suppliers::get(tx, input.supplier_id)? {
        Some(s) if s.active => {}
        _ => errors.add("supplier_id", "no such active supplier"),
    }
    check_note(&mut errors, "note", &input.note, MAX_NOTE);
    if input.lines.len() > MAX_LINES {
        errors.add("lines", format!("at most {MAX_LINES} lines per order"));
    }
    errors.into_result()?;
    let number = next_number(tx, "PO", env.today.year(), 5)?;
    tx.exec_cached(
        "INSERT INTO purchase_orders (number, supplier_id, state, currency, note, created_by,
            created_at, updated_at)
         VALUES (?1, ?2, 'draft', ?3, ?4, ?5, ?6, ?6)",
        params![
            number,
            input.supplier_id,
            env.currency,
            input.note.trim(),
            ctx.actor.user_id(),
            ctx.at.to_db()
        ],
    )?;
    let id = tx.last_insert_rowid();
    let mut errors = FieldErrors::default();
    for (i, line) in input.lines.iter().enumerate() {
        if let Err(e) = write_line(tx, &ctx.actor, id, input.supplier_id, line) {
            for f in e.0 {
                errors.add(&format!("lines[{i}].{}", f.field), f.message);
            }
        }
    }
    errors.into_result()?;
    add_event(tx, ctx, id, Step::within("create", OrderState::Draft))?;
    let order = for_change(tx, id, env.today)?;
    audit_order(
        tx,
        ctx,
        "order.create",
        &order,
        json!({"lines": input.lines.len()}),
    )?;
    Ok(order)
}

/// Validates a line against the order's supplier and adds it (or adds its
/// packs to the same supplier line for the same location). Field names are
/// the input's.
fn write_line(
    tx: &Transaction,
    actor: &Actor,
    order_id: i64,
    supplier_id: i64,
    line: &LineInput,
) -> Result<i64, FieldErrors> {
    let mut errors = FieldErrors::default();
    if !actor.may_use(line.location_id) {
        errors.add("location_id", "you may not use this location");
    }
    let si = match (line.supplier_item_id, line.item_id) {
        (Some(id), _) => suppliers::get_item(tx, id)
            .map_err(|e| FieldErrors::single("supplier_item_id", e))?
            .filter(|si| si.supplier_id == supplier_id && si.active)
            .or_else(|| {
                errors.add(
                    "supplier_item_id",
                    "is not an active line of this order's supplier",
                );
                None
            }),
        (None, Some(item_id)) => supplier_line_for(tx, supplier_id, item_id)
            .map_err(|e| FieldErrors::single("item_id", e))?
            .or_else(|| {
                errors.add(
                    "item_id",
                    "this supplier has no active catalogue line for the item",
                );
                None
            }),
        (None, None) => {
            errors.add("item_id", "is required (or supplier_item_id)");
            None
        }
    };
    if let Some(si) = &si
        && !items::get(tx, si.item_id)
            .map_err(|e| FieldErrors::single("item_id", e))?
            .is_some_and(|i| i.active)
    {
        errors.add("item_id", "the item is no longer active");
    }
    if !locations::get(tx, line.location_id)
        .map_err(|e| FieldErrors::single("location_id", e))?
        .is_some_and(|l| l.active)
    {
        errors.add("location_id", "no such active location");
    }
    if !(1..=MAX_PACKS).contains(&line.packs) {
        errors.add(
            "packs",
            format!("must be a whole number from 1 to {MAX_PACKS}"),
        );
    }
    check_note(&mut errors, "note", &line.note, MAX_REASON);
    errors.into_result()?;
    let si = si.expect("validated");
    let db = |e: rusqlite::Error| FieldErrors::single("lines", e);
    let existing: Option<(i64, i64)> = tx
        .row_cached(
            "SELECT id, packs FROM order_lines
             WHERE order_id = ?1 AND supplier_item_id = ?2 AND location_id = ?3",
            params![order_id, si.id, line.location_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db)?;
    if let Some((id, packs)) = existing {
        let packs = packs + line.packs;
        if packs > MAX_PACKS {
            return Err(FieldErrors::single(
                "packs",
                format!(
                    "the order already has {} packs of this; at most {MAX_PACKS} in all",
                    packs - line.packs
                ),
            ));
        }
        tx.exec_cached(
            "UPDATE order_lines SET packs = ?1, quantity = ?1 * pack_size WHERE id = ?2",
            params![packs, id],
        )
        .map_err(db)?;
        return Ok(id);
    }
    let count: i64 = tx
        .row_cached(
            "SELECT count(*) FROM order_lines WHERE order_id = ?1",
            [order_id],
            |r| r.get(0),
        )
        .map_err(db)?;
    if count as usize >= MAX_LINES {
        return Err(FieldErrors::single(
            "lines",
            format!("at most {MAX_LINES} lines per order"),
        ));
    }
    tx.exec_cached(
        "INSERT INTO order_lines (order_id, item_id, supplier_item_id, location_id, supplier_code,
            pack_size, packs, quantity, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            order_id,
            si.item_id,
            si.id,
            line.location_id,
            si.supplier_code,
            si.pack_size,
            line.packs,
            line.packs * si.pack_size,
            line.note.trim()
        ],
    )
    .map_err(db)?;
    Ok(tx.last_insert_rowid())
}

/// The supplier's line to order `item_id` from them: the preferred one,
/// else the cheapest per stocking unit.
pub(crate) fn supplier_line_for(
    conn: &rusqlite::Connection,
    supplier_id: i64,
    item_id: i64,
) -> rusqlite::Result<Option<suppliers::SupplierItem>> {
    let id: Option<i64> = conn
        .row_cached(
            "SELECT id FROM supplier_items
             WHERE supplier_id = ?1 AND item_id = ?2 AND active = 1
             ORDER BY preferred DESC, CAST(price_minor AS REAL) / pack_size, id LIMIT 1",
            params![supplier_id, item_id],
            |r| r.get(0),
        )
        .optional()?;
    match id {
        Some(id) => suppliers::get_item(conn, id),
        None => Ok(None),
    }
}

fn editable(tx: &Transaction, ctx: &Context, id: i64, env: &Env) -> Result<Order, OrdersError> {
    let order = super::for_change_by(tx, &ctx.actor, id, env.today)?;
    if !order.state.editable() {
        return Err(OrdersError::refused(
            super::refusals::NOT_A_DRAFT,
            format!(
                "{} is {}: only a draft can be changed",
                order.number,
                order.state.label().to_lowercase()
            ),
        ));
    }
    Ok(order)
}

/// Adds a line to a draft.
pub fn add_line(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    order_id: i64,
    line: &LineInput,
) -> Result<Order, OrdersError> {
    let order = editable(tx, ctx, order_id, env)?;
    let line_id = write_line(tx, &ctx.actor, order_id, order.supplier_id, line)?;
    edited(
        tx,
        ctx,
        env,
        &order,
        "add_line",
        "order.add_line",
        json!({"line_id": line_id, "packs": line.packs}),
    )
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct LineChange {
    pub packs: i64,
    pub location_id: i64,
    #[serde(default)]
    pub note: String,
}

/// Changes a draft line's packs, location or note.
pub fn update_line(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    order_id: i64,
    line_id: i64,
    change: &LineChange,
) -> Result<Order, OrdersError> {
    let order = editable(tx, ctx, order_id, env)?;
    let before: Option<(i64, i64)> = tx
        .row_cached(
            "SELECT packs, location_id FROM order_lines WHERE id = ?1 AND order_id = ?2",
            params![line_id, order_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((old_packs, old_location)) = before else {
        return Err(FieldErrors::single("line_id", "is not a line of this order").into());
    };
    if !ctx.actor.may_use(old_location) {
        return Err(FieldErrors::single("line_id", "is for a place you may not use").into());
    }
    let mut errors = FieldErrors::default();
    if !(1..=MAX_PACKS).contains(&change.packs) {
        errors.add(
            "packs",
            format!("must be a whole number from 1 to {MAX_PACKS}"),
        );
    }
    if !locations::get(tx, change.location_id)?.is_some_and(|l| l.active) {
        errors.add("location_id", "no such active location");
    } else if !ctx.actor.may_use(change.location_id) {
        errors.add("location_id", "you may not use this location");
    }
    let twin: bool = tx.row_cached(
        "SELECT EXISTS (SELECT 1 FROM order_lines o JOIN order_lines l ON l.id = ?1
            WHERE o.order_id = l.order_id AND o.id <> l.id
              AND o.supplier_item_id = l.supplier_item_id AND o.location_id = ?2)",
        params![line_id, change.location_id],
        |r| r.get(0),
    )?;
    if twin {
        errors.add(
            "location_id",
            "the order already has a line of this for that location: change its packs instead",
        );
    }
    check_note(&mut errors, "note", &change.note, MAX_REASON);
    errors.into_result()?;
    tx.exec_cached(
        "UPDATE order_lines SET packs = ?1, quantity = ?1 * pack_size, location_id = ?2, note = ?3
         WHERE id = ?4",
        params![
            change.packs,
            change.location_id,
            change.note.trim(),
            line_id
        ],
    )?;
    edited(
        tx,
        ctx,
        env,
        &order,
        "change_line",
        "order.change_line",
        json!({"line_id": line_id, "packs": [old_packs, change.packs],
               "location_id": [old_location, change.location_id]}),
    )
}

/// Removes a line from a draft.
pub fn remove_line(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    order_id: i64,
    line_id: i64,
) -> Result<Order, OrdersError> {
    let order = editable(tx, ctx, order_id, env)?;
    let at: Option<i64> = tx
        .row_cached(
            "SELECT location_id FROM order_lines WHERE id = ?1 AND order_id = ?2",
            params![line_id, order_id],
            |r| r.get(0),
        )
        .optional()?;
    match at {
        None => return Err(FieldErrors::single("line_id", "is not a line of this order").into()),
        Some(l) if !ctx.actor.may_use(l) => {
            return Err(FieldErrors::single("line_id", "is for a place you may not use").into());
        }
        Some(_) => {}
    }
    tx.exec_cached(
        "DELETE FROM order_lines WHERE id = ?1 AND order_id = ?2",
        params![line_id, order_id],
    )?;
    edited(
        tx,
        ctx,
        env,
        &order,
        "remove_line",
        "order.remove_line",
        json!({"line_id": line_id}),
    )
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct HeaderChange {
    /// For the supplier (drafts only).
    #[serde(default)]
    pub note: Option<String>,
    /// Expected delivery, YYYY-MM-DD, or empty to clear (any open order).
    #[serde(default)]
    pub expected_on: Option<String>,
}

/// Changes the note (drafts) or the expected delivery date (open orders).
pub fn update_header(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    order_id: i64,
    change: &HeaderChange,
) -> Result<Order, OrdersError> {
    let order = super::for_change_by(tx, &ctx.actor, order_id, env.today)?;
    let mut errors = FieldErrors::default();
    if let Some(note) = &change.note {
        check_note(&mut errors, "note", note, MAX_NOTE);
        if !order.state.editable() && note.trim() != order.note {
            errors.add("note", "can only be changed while the order is a draft");
        }
    }
    let expected = match &change.expected_on {
        Some(raw) => match parse_date("expected_on", raw) {
            Ok(d) => {
                if !order.state.open() {
                    errors.add("expected_on", "the order is no longer open");
                }
                Some(d.map(|d| d.to_string()).unwrap_or_default())
            }
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        },
        None => None,
    };
    errors.into_result()?;
    tx.exec_cached(
        "UPDATE purchase_orders SET note = coalesce(?1, note), expected_on = coalesce(?2, expected_on),
            updated_at = ?3 WHERE id = ?4",
        params![change.note.as_deref().map(str::trim), expected, ctx.at.to_db(), order_id],
    )?;
    add_event(tx, ctx, order_id, Step::within("change", order.state))?;
    let after = for_change(tx, order_id, env.today)?;
    audit_order(
        tx,
        ctx,
        "order.change",
        &after,
        json!({"note": change.note, "expected_on": expected}),
    )?;
    Ok(after)
}

/// After a draft's lines changed: its time, timeline entry and audit row;
/// returns the order as it is now.
#[allow(clippy::too_many_arguments)]
fn edited(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    order: &Order,
    step: &str,
    audit_action: &'static str,
    detail: serde_json::Value,
) -> Result<Order, OrdersError> {
    tx.exec_cached(
        "UPDATE purchase_orders SET updated_at = ?1 WHERE id = ?2",
        params![ctx.at.to_db(), order.id],
    )?;
    add_event(tx, ctx, order.id, Step::within(step, order.state))?;
    let after = for_change(tx, order.id, env.today)?;
    audit_order(tx, ctx, audit_action, &after, detail)?;
    Ok(after)
}
