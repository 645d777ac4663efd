//! Recalls: a manufacturer names a product (GTIN) and lots. stockroom
//! shows where that stock is now and where it went (who used it, when), and
//! quarantines what is left so nobody can use it until it is disposed of
//! with reason "recalled".

use crate::db::Cached;
use rusqlite::{Connection, Transaction, params};
use serde_json::json;

use super::{StockError, StockLevel};
use crate::audit::{self, Context, Event};
use crate::catalog::{items, locations};
use crate::domain::barcode::Gtin;
use crate::domain::refusal::Refusal;
use crate::validation::FieldErrors;

/// Stock of the recalled lots that left the shelves.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Usage {
    pub movement_id: i64,
    pub kind: String,
    pub location_id: i64,
    pub lot: String,
    /// Positive: how much left.
    pub quantity: i64,
    pub username: Option<String>,
    /// The person's name as the practice knows them.
    pub display_name: Option<String>,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Report {
    pub item_id: i64,
    /// Each lot number asked for, with the lots it matched.
    pub lots: Vec<LotMatch>,
    pub on_hand: Vec<StockLevel>,
    pub used: Vec<Usage>,
}

/// A lot number from the recall notice and the lots of the item it names:
/// matched as a scanner and a person type them, case and separators aside
/// (`mv-2701` is `MV2701`). Empty `lots`: stockroom never recorded it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LotMatch {
    pub asked: String,
    /// The lot numbers as recorded.
    pub lots: Vec<String>,
}

/// The lots of `item_id` ever recorded that each lot number asked for
/// names (see [`LotMatch`]).
fn resolve(conn: &Connection, item_id: i64, asked: &[String]) -> rusqlite::Result<Vec<LotMatch>> {
    let mut stmt = conn.prepare_cached(
        "SELECT lot FROM stock_levels WHERE item_id = ?1
         UNION SELECT DISTINCT lot FROM stock_movements WHERE item_id = ?1",
    )?;
    let known: Vec<String> = stmt
        .query_map([item_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(asked
        .iter()
        .map(|a| LotMatch {
            asked: a.clone(),
            lots: known
                .iter()
                .filter(|k| !k.is_empty() && super::lot_key(k) == super::lot_key(a))
                .cloned()
                .collect(),
        })
        .collect())
}

/// Every recorded lot the matches name, once each.
fn matched(found: &[LotMatch]) -> Vec<String> {
    let mut lots: Vec<String> = found.iter().flat_map(|m| m.lots.clone()).collect();
    lots.sort();
    lots.dedup();
    lots
}

/// Checks the recall's input: a known GTIN and 1 to 50 lot numbers.
fn item_and_lots(
    conn: &Connection,
    gtin: &str,
    lots: &[String],
) -> Result<(i64, Vec<String>), StockError> {
    let mut errors = FieldErrors::default();
    let gtin = errors.check("gtin", Gtin::parse(gtin));
    let lots: Vec<String> = lots
        .iter()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    if lots.is_empty() || lots.len() > 50 {
        errors.add("lots", "name 1 to 50 lot numbers");
    }
    let item = match &gtin {
        Some(g) => match items::find_by_gtin(conn, g)? {
            Some(pack) => Some(pack.item_id),
            None => {
                errors.add("gtin", "no item in the catalog has this GTIN");
                None
            }
        },
        None => None,
    };
    errors.into_result()?;
    Ok((item.expect("checked"), lots))
}

/// Where the recalled lots are and where they went.
pub fn find(conn: &Connection, gtin: &str, lots: &[String]) -> Result<Report, StockError> {
    let (item_id, asked) = item_and_lots(conn, gtin, lots)?;
    let found = resolve(conn, item_id, &asked)?;
    let lots = matched(&found);
    let mut on_hand = Vec::new();
    let mut used = Vec::new();
    for lot in &lots {
        let mut stmt = conn.prepare_cached(
            "SELECT item_id, location_id, lot, expiry, quantity, quarantined FROM stock_levels
             WHERE item_id = ?1 AND lot = ?2 AND quantity > 0 ORDER BY location_id",
        )?;
        for row in stmt.query_map(params![item_id, lot], super::map_level)? {
            on_hand.push(row?);
        }
        let mut stmt = conn.prepare_cached(
            "SELECT m.id, m.kind, m.location_id, m.lot, -m.quantity, u.username, m.at, u.display_name
             FROM stock_movements m LEFT JOIN users u ON u.id = m.user_id
             WHERE m.item_id = ?1 AND m.lot = ?2 AND m.kind IN ('consumption', 'return', 'disposal')
             ORDER BY m.id",
        )?;
        for row in stmt.query_map(params![item_id, lot], |r| {
            Ok(Usage {
                movement_id: r.get(0)?,
                kind: r.get(1)?,
                location_id: r.get(2)?,
                lot: r.get(3)?,
                quantity: r.get(4)?,
                username: r.get(5)?,
                display_name: r.get(7)?,
                at: r.get(6)?,
            })
        })? {
            used.push(row?);
        }
    }
    Ok(Report {
        item_id,
        lots: found,
        on_hand,
        used,
    })
}

/// Quarantines every unit of the recalled lots at the places the actor may
/// use. Returns how many units were newly quarantined, and how many are
/// left usable at places they may not use (for someone who may to
/// quarantine: a location's access list is not crossed, not even for a
/// recall).
pub fn quarantine(
    tx: &Transaction,
    ctx: &Context,
    gtin: &str,
    lots: &[String],
) -> Result<Quarantined, StockError> {
    let (item_id, asked) = item_and_lots(tx, gtin, lots)?;
    let lots = matched(&resolve(tx, item_id, &asked)?);
    let mut out = Quarantined::default();
    for lot in &lots {
        let mut stmt = tx.prepare_cached(
            "SELECT location_id, quantity - quarantined FROM stock_levels
             WHERE item_id = ?1 AND lot = ?2 AND quantity > quarantined",
        )?;
        let open: Vec<(i64, i64)> = stmt
            .query_map(params![item_id, lot], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (location, units) in open {
            // Only where the actor may use: the rest is for someone who may.
            if !ctx.actor.may_use(location) {
                out.elsewhere += units;
                continue;
            }
            tx.exec_cached(
                "UPDATE stock_levels SET quarantined = quantity
                 WHERE item_id = ?1 AND lot = ?2 AND location_id = ?3",
                params![item_id, lot, location],
            )?;
            out.units += units;
        }
    }
    audit::record(
        tx,
        ctx,
        Event::new("stock.quarantine", "item", item_id).after(json!({
            "gtin": gtin.trim(), "asked": asked, "lots": lots, "units": out.units,
            "left_elsewhere": out.elsewhere,
        })),
    )?;
    Ok(out)
}

/// What a quarantine did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quarantined {
    /// Units newly quarantined.
    pub units: i64,
    /// Units of the lots still usable at places the actor may not use.
    pub elsewhere: i64,
}

/// Disposes of every quarantined unit of the recalled lots, wherever it is,
/// with reason "recalled": one disposal movement per location and lot.
/// Returns how many units left the stock.
pub fn dispose(
    tx: &Transaction,
    ctx: &Context,
    gtin: &str,
    lots: &[String],
) -> Result<i64, StockError> {
    let (item_id, asked) = item_and_lots(tx, gtin, lots)?;
    let lots = matched(&resolve(tx, item_id, &asked)?);
    let mut rows = Vec::new();
    for lot in &lots {
        let mut stmt = tx.prepare_cached(
            "SELECT item_id, location_id, lot, expiry, quantity, quarantined FROM stock_levels
             WHERE item_id = ?1 AND lot = ?2 AND quarantined > 0 ORDER BY location_id",
        )?;
        for row in stmt.query_map(params![item_id, lot], super::map_level)? {
            rows.push(row?);
        }
    }
    if rows.is_empty() {
        return Err(FieldErrors::single(
            "lots",
            "have no quarantined stock; quarantine them first",
        )
        .into());
    }
    // Disposing moves stock: refused when any of it is at a place the actor
    // may not use (the ledger would refuse that part).
    if let Some(l) = rows.iter().find(|l| !ctx.actor.may_use(l.location_id)) {
        return Err(StockError::Refused(Refusal::on_field(
            super::LOCATION_NOT_PERMITTED,
            "lots",
            format!(
                "include stock at {}, which you may not use: someone who may use it disposes of it",
                locations::path_name(tx, l.location_id)?
            ),
        )));
    }
    let mut total = 0;
    for l in rows {
        let expiry = if l.expiry.is_empty() {
            None
        } else {
            time::Date::parse(
                &l.expiry,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .ok()
        };
        super::record(
            tx,
            ctx,
            &super::NewMovement {
                kind: crate::domain::ledger::MovementKind::Disposal,
                item_id,
                location_id: l.location_id,
                lot: l.lot.clone(),
                expiry,
                quantity: -l.quarantined,
                reason: "recalled".into(),
                note: format!("recall of GTIN {}", gtin.trim()),
            },
        )?;
        total += l.quarantined;
    }
    Ok(total)
}
