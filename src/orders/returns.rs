//! Returns to suppliers and the credits they owe. A return takes stock
//! out through `return` movements in the same transaction as the return's
//! record; a credit is what the supplier is expected to refund (for a
//! return, or for goods that came damaged) until its credit note arrives.

use crate::domain::actor::Places;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::lifecycle::{MAX_REASON, parse_date};
use super::{Env, OrdersError, next_number};
use crate::audit::{self, Context, Event};
use crate::catalog::suppliers;
use crate::db::Cached;
use crate::domain::ledger::MovementKind;
use crate::stock::{self, NewMovement, StockError};
use crate::validation::FieldErrors;

pub const MAX_CREDIT_MINOR: i64 = 10_000_000_000;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ReturnLineInput {
    pub item_id: i64,
    pub location_id: i64,
    #[serde(default)]
    pub lot: String,
    /// YYYY-MM-DD, for items tracked by expiry.
    #[serde(default)]
    pub expiry: String,
    /// Units going back (positive).
    pub quantity: i64,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ReturnInput {
    pub supplier_id: i64,
    /// The order the goods came with, if any.
    #[serde(default)]
    pub order_id: Option<i64>,
    pub reason: String,
    #[serde(default)]
    pub note: String,
    pub lines: Vec<ReturnLineInput>,
    /// The credit expected for it (minor units); none when no credit is due.
    #[serde(default)]
    pub expected_credit_minor: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReturnLine {
    pub item_id: i64,
    pub item_name: String,
    pub location_id: i64,
    pub lot: String,
    pub expiry: String,
    pub quantity: i64,
    pub movement_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SupplierReturn {
    pub id: i64,
    /// e.g. RET-2026-0007.
    pub number: String,
    pub supplier_id: i64,
    pub supplier_name: String,
    pub order_id: Option<i64>,
    pub order_number: String,
    pub reason: String,
    pub note: String,
    pub by: String,
    pub at: String,
    pub lines: Vec<ReturnLine>,
}

/// A return as someone with `places` sees it: lines from places they may
/// not use left out; `None` when every line is from such a place.
pub fn get_return(
    conn: &Connection,
    places: &Places,
    id: i64,
) -> rusqlite::Result<Option<SupplierReturn>> {
    let Some(mut ret) = conn
        .row_cached(
            "SELECT r.id, r.number, r.supplier_id, s.name, r.order_id, coalesce(o.number, ''),
                r.reason, r.note, coalesce(u.display_name, ''), r.at
             FROM supplier_returns r JOIN suppliers s ON s.id = r.supplier_id
             LEFT JOIN purchase_orders o ON o.id = r.order_id
             LEFT JOIN users u ON u.id = r.user_id WHERE r.id = ?1",
            [id],
            |r| {
                Ok(SupplierReturn {
                    id: r.get(0)?,
                    number: r.get(1)?,
                    supplier_id: r.get(2)?,
                    supplier_name: r.get(3)?,
                    order_id: r.get(4)?,
                    order_number: r.get(5)?,
                    reason: r.get(6)?,
                    note: r.get(7)?,
                    by: r.get(8)?,
                    at: r.get(9)?,
                    lines: Vec::new(),
                })
            },
        )
        .optional()?
    else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT rl.item_id, i.name, rl.location_id, rl.lot, rl.expiry, rl.quantity, rl.movement_id
         FROM return_lines rl JOIN items i ON i.id = rl.item_id WHERE rl.return_id = ?1 ORDER BY rl.id",
    )?;
    ret.lines = stmt
        .query_map([id], |r| {
            Ok(ReturnLine {
                item_id: r.get(0)?,
                item_name: r.get(1)?,
                location_id: r.get(2)?,
                lot: r.get(3)?,
                expiry: r.get(4)?,
                quantity: r.get(5)?,
                movement_id: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let all = ret.lines.len();
    ret.lines.retain(|l| places.contains(l.location_id));
    if all > 0 && ret.lines.is_empty() {
        return Ok(None);
    }
    Ok(Some(ret))
}

/// Returns of one supplier (or all), newest first.
pub fn returns(
    conn: &Connection,
    places: &Places,
    supplier_id: Option<i64>,
) -> rusqlite::Result<Vec<SupplierReturn>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM supplier_returns WHERE ?1 IS NULL OR supplier_id = ?1 ORDER BY id DESC LIMIT 200",
    )?;
    let ids: Vec<i64> = stmt
        .query_map([supplier_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for id in ids {
        out.extend(get_return(conn, places, id)?);
    }
    Ok(out)
}

/// Sends stock back to a supplier: one `return` movement per line, the
/// return's record and (if one is due) its expected credit.
pub fn create_return(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    input: &ReturnInput,
) -> Result<SupplierReturn, OrdersError> {
    let Some(user) = ctx.actor.person() else {
        return Err(OrdersError::refused(
            super::refusals::NEEDS_A_PERSON,
            "returns are made by a person",
        ));
    };
    let mut errors = FieldErrors::default();
    if suppliers::get(tx, input.supplier_id)?.is_none() {
        errors.add("supplier_id", "no such supplier");
    }
    if let Some(order_id) = input.order_id {
        let supplier: Option<i64> = tx
            .row_cached(
                "SELECT supplier_id FROM purchase_orders WHERE id = ?1",
                [order_id],
                |r| r.get(0),
            )
            .optional()?;
        if supplier != Some(input.supplier_id) {
            errors.add("order_id", "is not an order from this supplier");
        }
    }
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        errors.add(
            "reason",
            format!("is required (at most {MAX_REASON} characters)"),
        );
    }
    if input.note.chars().count() > MAX_REASON {
        errors.add("note", format!("must be at most {MAX_REASON} characters"));
    }
    if input.lines.is_empty() {
        errors.add("lines", "nothing to return: add at least one line");
    }
    if let Some(c) = input.expected_credit_minor
        && !(0..=MAX_CREDIT_MINOR).contains(&c)
    {
        errors.add("expected_credit_minor", "must be an amount of at least 0");
    }
    let mut planned = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        let f = |name: &str| format!("lines[{i}].{name}");
        if !(1..=super::receiving::MAX_QUANTITY).contains(&l.quantity) {
            errors.add(&f("quantity"), "must be a whole number of at least 1");
        }
        if !ctx.actor.may_use(l.location_id) {
            errors.add(&f("location_id"), "you may not use this location");
        }
        match parse_date(&f("expiry"), &l.expiry) {
            Ok(d) => planned.push((i, d)),
            Err(e) => errors.0.extend(e.0),
        }
    }
    errors.into_result()?;
    let number = next_number(tx, "RET", env.today.year(), 4)?;
    tx.exec_cached(
        "INSERT INTO supplier_returns (number, supplier_id, order_id, reason, note, user_id, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            number,
            input.supplier_id,
            input.order_id,
            reason,
            input.note.trim(),
            user.id,
            ctx.at.to_db()
        ],
    )?;
    let return_id = tx.last_insert_rowid();
    for (i, expiry) in planned {
        let l = &input.lines[i];
        let m = NewMovement {
            kind: MovementKind::Return,
            item_id: l.item_id,
            location_id: l.location_id,
            lot: l.lot.clone(),
            expiry,
            quantity: -l.quantity,
            reason: reason.to_string(),
            note: number.clone(),
        };
        let id = match stock::record(tx, ctx, &m) {
            Ok(id) => id,
            Err(StockError::Invalid(e)) => {
                let mut renamed = FieldErrors::default();
                for fe in e.0 {
                    renamed.add(&format!("lines[{i}].{}", fe.field), fe.message);
                }
                return Err(renamed.into());
            }
            Err(e) => return Err(e.into()),
        };
        let mv = stock::movement(tx, id)?;
        tx.exec_cached(
            "INSERT INTO return_lines (return_id, item_id, location_id, lot, expiry, quantity, movement_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![return_id, l.item_id, l.location_id, mv.lot, mv.expiry, l.quantity, id],
        )?;
    }
    if let Some(expected) = input.expected_credit_minor {
        insert_credit(
            tx,
            ctx,
            input.supplier_id,
            Some(return_id),
            input.order_id,
            expected,
            "",
        )?;
    }
    let ret = get_return(tx, &Places::All, return_id)?.expect("just written");
    audit::record(
        tx,
        ctx,
        Event::new("supplier_return.create", "supplier_return", return_id).after(json!({
            "number": ret.number, "supplier_id": ret.supplier_id, "order_id": ret.order_id,
            "reason": ret.reason, "expected_credit_minor": input.expected_credit_minor,
            "lines": ret.lines.iter().map(|l| json!({"item_id": l.item_id,
                "location_id": l.location_id, "lot": l.lot, "quantity": l.quantity,
                "movement_id": l.movement_id})).collect::<Vec<_>>(),
        })),
    )?;
    Ok(ret)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Credit {
    pub id: i64,
    pub supplier_id: i64,
    pub supplier_name: String,
    pub return_id: Option<i64>,
    pub return_number: String,
    pub order_id: Option<i64>,
    pub order_number: String,
    pub expected_minor: i64,
    /// The supplier's credit note number, once it came.
    pub credit_note: String,
    /// What was credited; none while open.
    pub received_minor: Option<i64>,
    pub received_on: String,
    pub note: String,
    pub created_at: String,
}

impl Credit {
    pub fn open(&self) -> bool {
        self.received_minor.is_none()
    }
}

const CREDIT_SELECT: &str =
    "SELECT c.id, c.supplier_id, s.name, c.return_id, coalesce(r.number, ''),
        c.order_id, coalesce(o.number, ''), c.expected_minor, c.credit_note, c.received_minor,
        c.received_on, c.note, c.created_at
     FROM credits c JOIN suppliers s ON s.id = c.supplier_id
     LEFT JOIN supplier_returns r ON r.id = c.return_id
     LEFT JOIN purchase_orders o ON o.id = c.order_id";

fn map_credit(r: &rusqlite::Row) -> rusqlite::Result<Credit> {
    Ok(Credit {
        id: r.get(0)?,
        supplier_id: r.get(1)?,
        supplier_name: r.get(2)?,
        return_id: r.get(3)?,
        return_number: r.get(4)?,
        order_id: r.get(5)?,
        order_number: r.get(6)?,
        expected_minor: r.get(7)?,
        credit_note: r.get(8)?,
        received_minor: r.get(9)?,
        received_on: r.get(10)?,
        note: r.get(11)?,
        created_at: r.get(12)?,
    })
}

pub fn get_credit(conn: &Connection, id: i64) -> rusqlite::Result<Option<Credit>> {
    conn.row_cached(
        &format!("{CREDIT_SELECT} WHERE c.id = ?1"),
        [id],
        map_credit,
    )
    .optional()
}

/// Credits of one supplier (or all), open ones first, newest first.
pub fn credits(
    conn: &Connection,
    supplier_id: Option<i64>,
    open_only: bool,
) -> rusqlite::Result<Vec<Credit>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{CREDIT_SELECT} WHERE (?1 IS NULL OR c.supplier_id = ?1)
           AND (?2 = 0 OR c.received_minor IS NULL)
         ORDER BY c.received_minor IS NOT NULL, c.id DESC LIMIT 500"
    ))?;
    let rows = stmt.query_map(params![supplier_id, open_only], map_credit)?;
    rows.collect()
}

#[allow(clippy::too_many_arguments)]
fn insert_credit(
    tx: &Transaction,
    ctx: &Context,
    supplier_id: i64,
    return_id: Option<i64>,
    order_id: Option<i64>,
    expected: i64,
    note: &str,
) -> rusqlite::Result<i64> {
    tx.exec_cached(
        "INSERT INTO credits (supplier_id, return_id, order_id, expected_minor, note, created_by,
            created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        params![
            supplier_id,
            return_id,
            order_id,
            expected,
            note,
            ctx.actor.user_id(),
            ctx.at.to_db()
        ],
    )?;
    let id = tx.last_insert_rowid();
    audit::record(
        tx,
        ctx,
        Event::new("credit.create", "credit", id).after(json!({
            "supplier_id": supplier_id, "return_id": return_id, "order_id": order_id,
            "expected_minor": expected, "note": note,
        })),
    )?;
    Ok(id)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CreditInput {
    pub supplier_id: i64,
    /// The order it is for (e.g. goods that came damaged).
    #[serde(default)]
    pub order_id: Option<i64>,
    pub expected_minor: i64,
    #[serde(default)]
    pub note: String,
}

/// Records a credit the supplier owes without a return (damaged goods
/// they will not take back, a price error).
pub fn create_credit(
    tx: &Transaction,
    ctx: &Context,
    input: &CreditInput,
) -> Result<Credit, OrdersError> {
    let mut errors = FieldErrors::default();
    if suppliers::get(tx, input.supplier_id)?.is_none() {
        errors.add("supplier_id", "no such supplier");
    }
    if let Some(order_id) = input.order_id {
        let supplier: Option<i64> = tx
            .row_cached(
                "SELECT supplier_id FROM purchase_orders WHERE id = ?1",
                [order_id],
                |r| r.get(0),
            )
            .optional()?;
        if supplier != Some(input.supplier_id) {
            errors.add("order_id", "is not an order from this supplier");
        }
    }
    if !(1..=MAX_CREDIT_MINOR).contains(&input.expected_minor) {
        errors.add("expected_minor", "must be an amount above 0");
    }
    let note = input.note.trim();
    if note.is_empty() || note.chars().count() > MAX_REASON {
        errors.add(
            "note",
            format!("is required: what the credit is for (at most {MAX_REASON} characters)"),
        );
    }
    errors.into_result()?;
    let id = insert_credit(
        tx,
        ctx,
        input.supplier_id,
        None,
        input.order_id,
        input.expected_minor,
        note,
    )?;
    Ok(get_credit(tx, id)?.expect("just written"))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CreditReceived {
    /// The supplier's credit note number.
    pub credit_note: String,
    /// What they credited (minor units).
    pub received_minor: i64,
    /// YYYY-MM-DD; today when empty.
    #[serde(default)]
    pub received_on: String,
}

/// Marks a credit as received with the supplier's credit note.
pub fn receive_credit(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    id: i64,
    input: &CreditReceived,
) -> Result<Credit, OrdersError> {
    let Some(before) = get_credit(tx, id)? else {
        return Err(OrdersError::Missing("credit"));
    };
    if !before.open() {
        return Err(OrdersError::refused(
            super::refusals::CREDIT_ALREADY_RECEIVED,
            format!(
                "This credit was already received (credit note {})",
                before.credit_note
            ),
        ));
    }
    let mut errors = FieldErrors::default();
    let note = input.credit_note.trim();
    if note.is_empty() || note.chars().count() > 100 || note.chars().any(char::is_control) {
        errors.add(
            "credit_note",
            "is required: the supplier's credit note number",
        );
    }
    if !(0..=MAX_CREDIT_MINOR).contains(&input.received_minor) {
        errors.add("received_minor", "must be an amount of at least 0");
    }
    let on = match parse_date("received_on", &input.received_on) {
        Ok(d) => d.unwrap_or(env.today),
        Err(e) => {
            errors.0.extend(e.0);
            env.today
        }
    };
    errors.into_result()?;
    tx.exec_cached(
        "UPDATE credits SET credit_note = ?1, received_minor = ?2, received_on = ?3, updated_at = ?4
         WHERE id = ?5",
        params![note, input.received_minor, on.to_string(), ctx.at.to_db(), id],
    )?;
    audit::record(
        tx,
        ctx,
        Event::new("credit.receive", "credit", id).after(json!({
            "credit_note": note, "received_minor": input.received_minor, "received_on": on.to_string(),
            "expected_minor": before.expected_minor,
        })),
    )?;
    Ok(get_credit(tx, id)?.expect("exists"))
}
