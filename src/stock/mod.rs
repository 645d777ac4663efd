//! The stock ledger: the one place where stock changes.
//!
//! [`record`] appends a movement, updates `stock_levels` and writes the
//! audit row, all in the caller's transaction, after checking every rule in
//! `domain::ledger` against the current level. A refused movement changes
//! nothing and says which item, where, and how much is available.
//! [`check`] recomputes every level from the ledger and lists drift.

pub mod moves;
pub mod overview;
pub mod recall;
pub mod views;

use crate::db::Cached;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::json;
use time::Date;

use crate::audit::{self, Context, Event};
use crate::catalog::items::{self, Item};
use crate::catalog::locations::{self, Location};
use crate::db::DbError;
use crate::domain::ledger::{self, DisposalReason, Level, MovementKind, Refusal};
use crate::domain::refusal::Code;
use crate::validation::FieldErrors;

/// Refused: the actor may not use the location a movement names.
pub const LOCATION_NOT_PERMITTED: Code = Code::not_usable(
    "location-not-permitted",
    "The request names a location the caller may not use (its access list leaves them out); `details` names the field.",
);
/// Every code the ledger refuses with besides a shortfall.
pub const REFUSALS: &[Code] = &[LOCATION_NOT_PERMITTED];

#[derive(Debug, thiserror::Error)]
pub enum StockError {
    #[error("invalid movement: {0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Refused(crate::domain::refusal::Refusal),
    #[error("not enough stock: {0}")]
    Insufficient(Box<Shortfall>),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What a refused movement would have needed: named for the person who
/// reads the refusal.
#[derive(Debug)]
pub struct Shortfall {
    pub item: String,
    /// The location's full path ("Treatment room › Cabinet A").
    pub location: String,
    /// " (lot L42)", or empty.
    pub lot: String,
    pub available: i64,
    pub unit: String,
    /// Why more is there but not usable (quarantined after a recall), or
    /// empty.
    pub held: String,
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at {}{} has {} available{}",
            self.item,
            self.location,
            self.lot,
            crate::domain::words::quantity(self.available, &self.unit),
            self.held
        )
    }
}

impl From<rusqlite::Error> for StockError {
    fn from(e: rusqlite::Error) -> Self {
        StockError::Db(DbError::Sqlite(e))
    }
}

impl From<FieldErrors> for StockError {
    fn from(e: FieldErrors) -> Self {
        StockError::Invalid(e)
    }
}

/// Refuses a location the actor may not use, naming the input's `field`.
/// Every change to stock passes here, so no caller has to remember it.
fn permitted(ctx: &Context, location_id: i64, field: &str) -> Result<(), StockError> {
    if ctx.actor.may_use(location_id) {
        return Ok(());
    }
    Err(StockError::Refused(
        crate::domain::refusal::Refusal::on_field(
            LOCATION_NOT_PERMITTED,
            field,
            "you may not use this location",
        ),
    ))
}

/// A movement as asked for; the quantity is signed (out is negative).
#[derive(Debug, Clone)]
pub struct NewMovement {
    pub kind: MovementKind,
    pub item_id: i64,
    pub location_id: i64,
    pub lot: String,
    pub expiry: Option<Date>,
    pub quantity: i64,
    pub reason: String,
    pub note: String,
}

pub const MAX_LOT_LEN: usize = 20;
pub const MAX_TEXT_LEN: usize = 500;

/// Checks the movement's own fields against the item; returns the lot and
/// expiry as stored ('' when the item does not track them).
fn validate(
    m: &NewMovement,
    item: Option<&Item>,
    location: Option<&Location>,
) -> Result<(String, String), FieldErrors> {
    let mut errors = FieldErrors::default();
    if item.is_none() {
        errors.add("item_id", "no such active item");
    }
    if location.is_none() {
        errors.add("location_id", "no such active location");
    }
    let lot = m.lot.trim();
    if lot.chars().count() > MAX_LOT_LEN || lot.chars().any(char::is_control) {
        errors.add(
            "lot",
            format!("must be at most {MAX_LOT_LEN} printable characters"),
        );
    }
    if m.reason.chars().count() > MAX_TEXT_LEN || m.note.chars().count() > MAX_TEXT_LEN {
        errors.add("note", format!("must be at most {MAX_TEXT_LEN} characters"));
    }
    match m.kind {
        MovementKind::Adjustment if m.reason.trim().is_empty() => {
            errors.add("reason", "is required for an adjustment")
        }
        MovementKind::Disposal if DisposalReason::parse(&m.reason).is_none() => {
            errors.add("reason", "must be expired, damaged or recalled")
        }
        _ => {}
    }
    let (mut lot_stored, mut expiry_stored) = (String::new(), String::new());
    if let Some(item) = item {
        if item.lot_tracked {
            if lot.is_empty() {
                errors.add(
                    "lot",
                    format!("is required: {} is tracked by lot", item.name),
                );
            }
            lot_stored = lot.to_string();
        }
        if item.expiry_tracked {
            match m.expiry {
                Some(d) => expiry_stored = d.to_string(),
                None => errors.add(
                    "expiry",
                    format!("is required: {} is tracked by expiry date", item.name),
                ),
            }
        }
    }
    errors.into_result()?;
    Ok((lot_stored, expiry_stored))
}

fn level(
    tx: &Transaction,
    item: i64,
    location: i64,
    lot: &str,
    expiry: &str,
) -> rusqlite::Result<Level> {
    Ok(tx
        .row_cached(
            "SELECT quantity, quarantined FROM stock_levels
             WHERE item_id = ?1 AND location_id = ?2 AND lot = ?3 AND expiry = ?4",
            params![item, location, lot, expiry],
            |r| {
                Ok(Level {
                    quantity: r.get(0)?,
                    quarantined: r.get(1)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

/// Appends one movement. Returns its ledger position (id). A location the
/// actor may not use is refused (`location-not-permitted`) before anything
/// is read or written.
pub fn record(tx: &Transaction, ctx: &Context, m: &NewMovement) -> Result<i64, StockError> {
    record_paired(tx, ctx, m, None)
}

fn record_paired(
    tx: &Transaction,
    ctx: &Context,
    m: &NewMovement,
    pair: Option<i64>,
) -> Result<i64, StockError> {
    permitted(ctx, m.location_id, "location_id")?;
    // Only active items and locations take movements.
    let item = items::get(tx, m.item_id)?.filter(|i| i.active);
    let location = locations::get(tx, m.location_id)?.filter(|l| l.active);
    let (lot, expiry) = validate(m, item.as_ref(), location.as_ref())?;
    let (item, location) = (item.expect("validated"), location.expect("validated"));
    let before = level(tx, m.item_id, m.location_id, &lot, &expiry)?;
    let after = match ledger::apply(before, m.kind, m.quantity) {
        Ok(l) => l,
        Err(Refusal::Insufficient { available }) => {
            return Err(StockError::Insufficient(Box::new(Shortfall {
                item: item.name,
                location: locations::path_name(tx, location.id)?,
                lot: if lot.is_empty() {
                    String::new()
                } else {
                    format!(" (lot {lot})")
                },
                available,
                unit: item.unit,
                held: if before.quarantined > 0 {
                    format!(
                        " ({} more quarantined after a recall, not to be used)",
                        before.quarantined
                    )
                } else {
                    String::new()
                },
            })));
        }
        Err(r) => return Err(FieldErrors::single("quantity", r).into()),
    };
    let user_id = ctx.actor.user_id();
    tx.exec_cached(
        "INSERT INTO stock_movements (kind, item_id, location_id, lot, expiry, quantity, reason, note,
            pair_id, user_id, request_id, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            m.kind.as_str(), m.item_id, m.location_id, lot, expiry, m.quantity, m.reason.trim(),
            m.note.trim(), pair, user_id, ctx.request_id, ctx.at.to_db()
        ],
    )?;
    let id = tx.last_insert_rowid();
    tx.exec_cached(
        "INSERT INTO stock_levels (item_id, location_id, lot, expiry, quantity, quarantined)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (item_id, location_id, lot, expiry)
         DO UPDATE SET quantity = excluded.quantity, quarantined = excluded.quarantined",
        params![
            m.item_id,
            m.location_id,
            lot,
            expiry,
            after.quantity,
            after.quarantined
        ],
    )?;
    audit::record(
        tx,
        ctx,
        Event::new("stock.movement", "stock_movement", id).after(json!({
            "kind": m.kind, "item_id": m.item_id, "location_id": m.location_id, "lot": lot,
            "expiry": expiry, "quantity": m.quantity, "reason": m.reason.trim(),
            "level_before": before.quantity, "level_after": after.quantity,
        })),
    )?;
    Ok(id)
}

/// Stock moving from one location to another.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub item_id: i64,
    pub from: i64,
    pub to: i64,
    pub lot: String,
    pub expiry: Option<Date>,
    /// Positive: how much moves.
    pub quantity: i64,
    pub note: String,
}

/// Moves stock between two locations: one `transfer_out` and one
/// `transfer_in`, linked, in the same transaction.
pub fn transfer(tx: &Transaction, ctx: &Context, t: &Transfer) -> Result<(i64, i64), StockError> {
    permitted(ctx, t.from, "from_location_id")?;
    permitted(ctx, t.to, "to_location_id")?;
    if t.from == t.to {
        return Err(FieldErrors::single(
            "to_location_id",
            "must differ from the location the stock leaves",
        )
        .into());
    }
    if t.quantity <= 0 {
        return Err(FieldErrors::single("quantity", "must be more than zero").into());
    }
    let out = NewMovement {
        kind: MovementKind::TransferOut,
        item_id: t.item_id,
        location_id: t.from,
        lot: t.lot.clone(),
        expiry: t.expiry,
        quantity: -t.quantity,
        reason: String::new(),
        note: t.note.clone(),
    };
    let out_id = record(tx, ctx, &out)?;
    let into = NewMovement {
        kind: MovementKind::TransferIn,
        location_id: t.to,
        quantity: t.quantity,
        ..out
    };
    let in_id = record_paired(tx, ctx, &into, Some(out_id))?;
    Ok((out_id, in_id))
}

/// One difference between `stock_levels` and the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub item_id: i64,
    pub location_id: i64,
    pub lot: String,
    pub expiry: String,
    pub ledger: i64,
    pub level: i64,
}

/// Every key where the stored level differs from the sum of the ledger.
pub fn check(conn: &Connection) -> rusqlite::Result<Vec<Drift>> {
    let mut stmt = conn.prepare_cached(
        "WITH ledger AS (
             SELECT item_id, location_id, lot, expiry, sum(quantity) AS total
             FROM stock_movements GROUP BY item_id, location_id, lot, expiry
         ), keys AS (
             SELECT item_id, location_id, lot, expiry FROM ledger
             UNION SELECT item_id, location_id, lot, expiry FROM stock_levels
         )
         SELECT k.item_id, k.location_id, k.lot, k.expiry, coalesce(g.total, 0), coalesce(l.quantity, 0)
         FROM keys k
         LEFT JOIN ledger g USING (item_id, location_id, lot, expiry)
         LEFT JOIN stock_levels l USING (item_id, location_id, lot, expiry)
         WHERE coalesce(g.total, 0) <> coalesce(l.quantity, 0)
         ORDER BY 1, 2, 3, 4",
    )?;
    stmt.query_map([], |r| {
        Ok(Drift {
            item_id: r.get(0)?,
            location_id: r.get(1)?,
            lot: r.get(2)?,
            expiry: r.get(3)?,
            ledger: r.get(4)?,
            level: r.get(5)?,
        })
    })?
    .collect()
}

#[cfg(test)]
mod tests;

/// One row of what is where.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct StockLevel {
    pub item_id: i64,
    pub location_id: i64,
    pub lot: String,
    /// YYYY-MM-DD, or empty when the item is not tracked by expiry.
    pub expiry: String,
    pub quantity: i64,
    pub quarantined: i64,
}

/// Maps `item_id, location_id, lot, expiry, quantity, quarantined`.
pub(crate) fn map_level(r: &rusqlite::Row) -> rusqlite::Result<StockLevel> {
    Ok(StockLevel {
        item_id: r.get(0)?,
        location_id: r.get(1)?,
        lot: r.get(2)?,
        expiry: r.get(3)?,
        quantity: r.get(4)?,
        quarantined: r.get(5)?,
    })
}

/// One item's levels (the item page, its API): an index read.
pub const ITEM_LEVELS_SQL: &str =
    "SELECT item_id, location_id, lot, expiry, quantity, quarantined FROM stock_levels
     WHERE item_id = ?1 AND quantity > 0 ORDER BY expiry = '', expiry, location_id, lot";

/// Non-zero levels of one item (or all), in the given locations, first
/// expiring first.
pub fn levels(
    conn: &Connection,
    item_id: Option<i64>,
    locations: &std::collections::HashSet<i64>,
) -> rusqlite::Result<Vec<StockLevel>> {
    // One item's levels by its key; `?1 IS NULL OR item_id = ?1` would
    // read the whole table for every item page.
    let mut stmt = match item_id {
        Some(_) => conn.prepare_cached(ITEM_LEVELS_SQL)?,
        None => conn.prepare_cached(
            "SELECT item_id, location_id, lot, expiry, quantity, quarantined FROM stock_levels
             WHERE quantity > 0 ORDER BY item_id, expiry = '', expiry, location_id, lot",
        )?,
    };
    let rows = match item_id {
        Some(id) => stmt.query_map([id], map_level)?,
        None => stmt.query_map([], map_level)?,
    };
    let mut out = Vec::new();
    for row in rows {
        let row = row?;
        if locations.contains(&row.location_id) {
            out.push(row);
        }
    }
    Ok(out)
}

/// A recorded movement, as the API and pages show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Movement {
    /// The ledger position.
    pub id: i64,
    pub kind: String,
    pub item_id: i64,
    pub location_id: i64,
    pub lot: String,
    pub expiry: String,
    pub quantity: i64,
    pub reason: String,
    pub note: String,
    pub pair_id: Option<i64>,
    pub user_id: Option<i64>,
    pub at: String,
}

/// One movement by ledger position.
pub fn movement(conn: &Connection, id: i64) -> rusqlite::Result<Movement> {
    conn.row_cached(
        "SELECT id, kind, item_id, location_id, lot, expiry, quantity, reason, note, pair_id, user_id, at
         FROM stock_movements WHERE id = ?1",
        [id],
        map_movement,
    )
}

fn map_movement(r: &rusqlite::Row) -> rusqlite::Result<Movement> {
    Ok(Movement {
        id: r.get(0)?,
        kind: r.get(1)?,
        item_id: r.get(2)?,
        location_id: r.get(3)?,
        lot: r.get(4)?,
        expiry: r.get(5)?,
        quantity: r.get(6)?,
        reason: r.get(7)?,
        note: r.get(8)?,
        pair_id: r.get(9)?,
        user_id: r.get(10)?,
        at: r.get(11)?,
    })
}

/// Movements of one item (or all), newest first, in the given locations.
pub fn movements(
    conn: &Connection,
    item_id: Option<i64>,
    locations: &std::collections::HashSet<i64>,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<(Vec<Movement>, i64)> {
    let ids: Vec<String> = locations.iter().map(i64::to_string).collect();
    // The ids come from the database as integers: safe to inline.
    // One item's movements through the (item_id, location_id) index;
    // `?1 IS NULL OR item_id = ?1` would read the whole ledger for every
    // item page.
    let filter = format!(
        "{} AND location_id IN ({})",
        if item_id.is_some() {
            "item_id = ?1"
        } else {
            "?1 IS NULL"
        },
        if ids.is_empty() {
            "NULL".to_string()
        } else {
            ids.join(",")
        }
    );
    let total = conn.row_cached(
        &format!("SELECT count(*) FROM stock_movements WHERE {filter}"),
        [item_id],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, kind, item_id, location_id, lot, expiry, quantity, reason, note, pair_id, user_id, at
         FROM stock_movements WHERE {filter} ORDER BY id DESC LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(params![item_id, limit, offset], map_movement)?;
    Ok((rows.collect::<Result<_, _>>()?, total))
}

/// A lot number as a scanner and a person type it, for comparing: letters
/// and digits only, in upper case (`mv-2701` and `MV 2701` are `MV2701`).
pub fn lot_key(lot: &str) -> String {
    lot.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// A lot that could be used, first expiring first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub level: StockLevel,
    /// Quantity that may be used (not quarantined).
    pub available: i64,
    pub expired: bool,
}

/// First-expiry-first-out: the usable stock of `item_id` in `locations`,
/// the lot that expires first at the top (lots without expiry last).
/// `today` is the practice's date: stock expiring today is still usable.
pub fn fefo(
    conn: &Connection,
    item_id: i64,
    locations: &std::collections::HashSet<i64>,
    today: Date,
) -> rusqlite::Result<Vec<Suggestion>> {
    let today = today.to_string();
    Ok(levels(conn, Some(item_id), locations)?
        .into_iter()
        .filter(|l| l.quantity > l.quarantined)
        .map(|l| Suggestion {
            available: l.quantity - l.quarantined,
            expired: !l.expiry.is_empty() && l.expiry < today,
            level: l,
        })
        .collect())
}
