//! The scanner-first stock form's service: what a scan or a typed code
//! names, what the form offers (locations, first-expiring lots), and one
//! movement as the form states it (use, receive, adjust, dispose, move).
//!
//! The form's page handlers parse text into these plain types and render
//! what comes back; resolving item codes, checking who may use which
//! location and turning a shortfall into a field error happen here, inside
//! the one transaction, so the rules are not spread over handlers.

use rusqlite::{Connection, Transaction};
use time::Date;

use crate::audit::{self, Context, Event};
use crate::catalog::items::{self, Item};
use crate::catalog::locations::{self, Location};
use crate::db::DbError;
use crate::domain::actor::Actor;
use crate::domain::barcode::{self, Gtin, PackCode};
use crate::domain::ledger::MovementKind;
use crate::stock::{self, NewMovement, StockError, Suggestion, Transfer};
use crate::validation::FieldErrors;

/// What a scan (or a typed item code) fills in.
#[derive(Debug, Default)]
pub struct Scanned {
    pub item: Option<Item>,
    /// The scanned pack's quantity, in stocking units.
    pub quantity: Option<i64>,
    pub lot: String,
    /// As `YYYY-MM-DD`, or empty.
    pub expiry: String,
    /// Field errors keyed `code` or `item`.
    pub errors: FieldErrors,
}

/// Turns a scan (or a typed item code) into form values.
pub fn scan(c: &Connection, code: &str, typed_item: &str, year: i32) -> Result<Scanned, DbError> {
    let mut out = Scanned::default();
    if !code.trim().is_empty() {
        let scan = match barcode::parse(code, year) {
            Ok(s) => s,
            Err(e) => {
                out.errors.add("code", e);
                return Ok(out);
            }
        };
        out.lot = scan.lot.clone().unwrap_or_default();
        out.expiry = scan.expiry.map(|d| d.to_string()).unwrap_or_default();
        match PackCode::of(&scan) {
            Some(code) => match items::find_by_pack_code(c, &code)? {
                Some(pack) => {
                    out.item = items::get(c, pack.item_id)?;
                    out.quantity = Some(pack.quantity);
                }
                None => out.errors.add(
                    "code",
                    match code {
                        PackCode::Gtin(g) => format!(
                            "is GTIN {}, which no item has yet; a manager can add it to the item as a pack",
                            g.display()
                        ),
                        PackCode::Hibcc(_) => format!(
                            "is HIBCC {}, which no item has yet; a manager can add it to the item as a pack",
                            code.display()
                        ),
                    },
                ),
            },
            // A HIBCC secondary label (lot, expiry) after its primary: the
            // item stays the one the primary named.
            None if scan.hibcc.is_some() && !typed_item.trim().is_empty() => {
                out.item = find_typed(c, typed_item)?;
                if out.item.is_none() {
                    out.errors.add("item", "no active item has this code");
                }
            }
            None if scan.hibcc.is_some() => out.errors.add(
                "code",
                "is a HIBCC secondary label (lot and expiry only); scan the label with the product number first",
            ),
            None => out
                .errors
                .add("code", "carries no GTIN; enter the item code"),
        }
    } else if !typed_item.trim().is_empty() {
        out.item = find_typed(c, typed_item)?;
        if out.item.is_none() {
            out.errors.add("item", "no active item has this code");
        }
    }
    Ok(out)
}

/// The item a typed code names: a pack's GTIN, else an item code.
fn find_typed(c: &Connection, typed: &str) -> Result<Option<Item>, DbError> {
    Ok(match Gtin::parse(typed) {
        Ok(g) => match items::find_by_gtin(c, &g)? {
            Some(pack) => items::get(c, pack.item_id)?,
            None => None,
        },
        Err(_) => items::find_by_code(c, typed)?,
    })
}

/// What the form offers the user.
#[derive(Debug)]
pub struct Choices {
    /// The active locations they may use, each with its full path.
    pub locations: Vec<(Location, String)>,
    /// For an item: its usable lots, first-expiring first.
    pub lots: Vec<Suggestion>,
    /// For an item: its stock held back after a recall (quarantined).
    pub quarantined: Vec<stock::StockLevel>,
    /// The ids of the locations the actor may use (active or not).
    pub allowed: std::collections::HashSet<i64>,
}

/// The locations and lots the form offers the actor (lots only for an item).
pub fn choices(
    c: &Connection,
    actor: &Actor,
    item_id: Option<i64>,
    today: Date,
) -> Result<Choices, DbError> {
    let all = locations::usable_with_paths(c, actor)?;
    let allowed = all.iter().map(|(l, _)| l.id).collect();
    let locs = all.into_iter().filter(|(l, _)| l.active).collect();
    let (suggestions, quarantined) = match item_id {
        Some(id) => (
            stock::fefo(c, id, &allowed, today)?,
            stock::levels(c, Some(id), &allowed)?
                .into_iter()
                .filter(|l| l.quarantined > 0)
                .collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    Ok(Choices {
        locations: locs,
        lots: suggestions,
        quarantined,
        allowed,
    })
}

/// Which movement the form makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Use,
    Receive,
    /// A correction either way (the quantity carries the sign).
    Adjust,
    Dispose,
    Transfer,
}

/// One movement as the form states it, already parsed; `None` fields were
/// refused by the parser, whose errors come in [`move_stock`]'s `errors`.
#[derive(Debug, Clone)]
pub struct MoveInput {
    pub action: Action,
    /// The item's code as typed.
    pub item_code: String,
    pub location_id: Option<i64>,
    /// Transfers only.
    pub to_location_id: Option<i64>,
    pub lot: String,
    pub expiry: Option<Date>,
    /// Positive, except for adjustments.
    pub quantity: Option<i64>,
    pub reason: String,
    pub note: String,
    /// Using only: why a lot past its expiry date is used anyway. Without
    /// it, using an expired lot is refused.
    pub expired_use_reason: String,
    /// The practice's date, against which expiry is judged.
    pub today: Date,
}

/// A movement made: the item, where (a transfer says "from to to"), and the
/// quantity as entered.
#[derive(Debug)]
pub struct Moved {
    pub item: Item,
    pub place: String,
    pub quantity: i64,
}

/// Makes the movement, after resolving the item code and checking that the
/// actor may use both locations; every problem, the parser's included, comes
/// back together as `Invalid`, and a shortfall as an error on `quantity`.
pub fn move_stock(
    tx: &Transaction,
    ctx: &Context,
    m: &MoveInput,
    mut errors: FieldErrors,
) -> Result<Moved, StockError> {
    let item = items::find_by_code(tx, &m.item_code)?;
    if item.is_none() {
        errors.add("item", "no active item has this code");
    }
    for (field, id) in [
        ("location_id", m.location_id),
        ("to_location_id", m.to_location_id),
    ] {
        if let Some(l) = id
            && !ctx.actor.may_use(l)
        {
            errors.add(field, "you may not use this location");
        }
    }
    let expired = if m.action == Action::Use {
        expired_use(
            &m.lot,
            m.expiry,
            m.today,
            &m.expired_use_reason,
            &mut errors,
        )
    } else {
        None
    };
    errors.into_result().map_err(StockError::Invalid)?;
    let (item, location_id, quantity) = (
        item.expect("checked"),
        m.location_id.expect("checked"),
        m.quantity.expect("checked"),
    );
    let mut m = std::borrow::Cow::Borrowed(m);
    if let Some(reason) = expired {
        record_expired_use(
            tx,
            ctx,
            item.id,
            location_id,
            &m.lot,
            m.expiry,
            quantity,
            &m.expired_use_reason,
        )?;
        m.to_mut().reason = reason;
    }
    match record(tx, ctx, &m, &item, location_id, quantity) {
        Ok(place) => Ok(Moved {
            item,
            place,
            quantity,
        }),
        Err(e @ StockError::Insufficient(_)) => Err(StockError::Invalid(FieldErrors::single(
            "quantity",
            e.to_string(),
        ))),
        Err(e) => Err(e),
    }
}

/// Using a lot past its expiry date: refused (on `expired_use_reason`)
/// without a reason why it is used anyway; with one, the reason the
/// movement keeps. `None` for a lot that has not expired.
pub fn expired_use(
    lot: &str,
    expiry: Option<Date>,
    today: Date,
    why: &str,
    errors: &mut FieldErrors,
) -> Option<String> {
    let e = expiry.filter(|e| *e < today)?;
    let why = why.trim();
    if why.is_empty() {
        errors.add(
            "expired_use_reason",
            format!(
                "is needed: lot {} expired on {e} and must not be used; dispose of it instead, or say why it is used anyway",
                if lot.trim().is_empty() { "(none)" } else { lot.trim() }
            ),
        );
    } else if why.chars().count() > 200 {
        errors.add("expired_use_reason", "must be at most 200 characters");
    }
    Some(format!("used after expiry: {why}"))
}

/// Audits an expired lot used on purpose (see [`expired_use`]).
#[allow(clippy::too_many_arguments)]
pub fn record_expired_use(
    tx: &Transaction,
    ctx: &Context,
    item_id: i64,
    location_id: i64,
    lot: &str,
    expiry: Option<Date>,
    quantity: i64,
    why: &str,
) -> rusqlite::Result<i64> {
    audit::record(
        tx,
        ctx,
        Event::new("stock.use_expired", "item", item_id).after(serde_json::json!({
            "location_id": location_id,
            "lot": lot.trim(),
            "expiry": expiry.map(|e| e.to_string()),
            "quantity": quantity.abs(),
            "reason": why.trim(),
        })),
    )
}

/// Records the checked movement; returns where it happened, in words.
fn record(
    tx: &Transaction,
    ctx: &Context,
    m: &MoveInput,
    item: &Item,
    location_id: i64,
    quantity: i64,
) -> Result<String, StockError> {
    if let (Action::Transfer, Some(to)) = (m.action, m.to_location_id) {
        stock::transfer(
            tx,
            ctx,
            &Transfer {
                item_id: item.id,
                from: location_id,
                to,
                lot: m.lot.clone(),
                expiry: m.expiry,
                quantity,
                note: m.note.clone(),
            },
        )?;
        return Ok(format!(
            "{} to {}",
            locations::path_name(tx, location_id)?,
            locations::path_name(tx, to)?
        ));
    }
    let (kind, signed) = match m.action {
        Action::Use => (MovementKind::Consumption, -quantity),
        Action::Receive => (MovementKind::Receipt, quantity),
        Action::Adjust => (MovementKind::Adjustment, quantity),
        Action::Dispose | Action::Transfer => (MovementKind::Disposal, -quantity),
    };
    stock::record(
        tx,
        ctx,
        &NewMovement {
            kind,
            item_id: item.id,
            location_id,
            lot: m.lot.clone(),
            expiry: m.expiry,
            quantity: signed,
            reason: m.reason.clone(),
            note: m.note.clone(),
        },
    )?;
    Ok(locations::path_name(tx, location_id)?)
}
