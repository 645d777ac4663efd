//! Items and their pack levels. A pack says how many stocking units it
//! holds and may carry the GTIN printed on it, so a scan knows both the item
//! and the quantity.

use crate::db::Cached;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;

use super::CatalogError;
use crate::audit::{self, Context, Event};
use crate::domain::barcode::{Gtin, PackCode};
use crate::validation::FieldErrors;
use crate::validation::text;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Item {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub category_id: Option<i64>,
    pub unit: String,
    pub lot_tracked: bool,
    pub expiry_tracked: bool,
    pub notes: String,
    pub active: bool,
}

/// What a form or API call asks for, before validation.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ItemInput {
    pub code: String,
    pub name: String,
    pub category_id: Option<i64>,
    /// The stocking unit: each, ml, pair, box …
    pub unit: String,
    #[serde(default)]
    pub lot_tracked: bool,
    #[serde(default)]
    pub expiry_tracked: bool,
    #[serde(default)]
    pub notes: String,
}

const COLUMNS: &str =
    "id, code, name, category_id, unit, lot_tracked, expiry_tracked, notes, active";

fn map(r: &rusqlite::Row) -> rusqlite::Result<Item> {
    Ok(Item {
        id: r.get(0)?,
        code: r.get(1)?,
        name: r.get(2)?,
        category_id: r.get(3)?,
        unit: r.get(4)?,
        lot_tracked: r.get(5)?,
        expiry_tracked: r.get(6)?,
        notes: r.get(7)?,
        active: r.get(8)?,
    })
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Item>> {
    conn.row_cached(
        &format!("SELECT {COLUMNS} FROM items WHERE id = ?1"),
        [id],
        map,
    )
    .optional()
}

/// Checks every field, reporting all problems; `id` is the item being
/// edited (its own code is not a clash).
fn validate(
    tx: &Transaction,
    input: &ItemInput,
    id: Option<i64>,
) -> Result<ItemInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let code = errors.check("code", text(&input.code, 40));
    let name = errors.check("name", text(&input.name, 200));
    let unit = errors.check("unit", text(&input.unit, 20));
    if input.notes.chars().count() > 2000 {
        errors.add("notes", "must be at most 2000 characters");
    }
    if let Some(code) = &code {
        let clash: Option<(i64, String)> = tx
            .row_cached(
                "SELECT id, name FROM items WHERE code = ?1 AND id IS NOT ?2",
                params![code, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| FieldErrors::single("code", e))?;
        if let Some((_, other)) = clash {
            errors.add("code", format!("is already used by {other}"));
        }
    }
    if let Some(cat) = input.category_id {
        let exists: bool = tx
            .row_cached(
                "SELECT EXISTS (SELECT 1 FROM categories WHERE id = ?1 AND active = 1)",
                [cat],
                |r| r.get(0),
            )
            .map_err(|e| FieldErrors::single("category_id", e))?;
        if !exists {
            errors.add("category_id", "no such active category");
        }
    }
    errors.into_result()?;
    Ok(ItemInput {
        code: code.unwrap_or_default(),
        name: name.unwrap_or_default(),
        unit: unit.unwrap_or_default(),
        notes: input.notes.trim().to_string(),
        ..input.clone()
    })
}

pub fn create(tx: &Transaction, ctx: &Context, input: &ItemInput) -> Result<Item, CatalogError> {
    let v = validate(tx, input, None)?;
    let now = ctx.at.to_db();
    tx.exec_cached(
        "INSERT INTO items (code, name, category_id, unit, lot_tracked, expiry_tracked, notes, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![v.code, v.name, v.category_id, v.unit, v.lot_tracked, v.expiry_tracked, v.notes, now],
    )?;
    let item = get(tx, tx.last_insert_rowid())?.ok_or(CatalogError::NoSuchItem)?;
    // Every item has its stocking unit as the smallest pack.
    tx.exec_cached(
        "INSERT INTO item_packs (item_id, name, quantity) VALUES (?1, ?2, 1)",
        params![item.id, item.unit],
    )?;
    audit::record(
        tx,
        ctx,
        Event::new("item.create", "item", item.id).after(json!(item)),
    )?;
    Ok(item)
}

pub fn update(
    tx: &Transaction,
    ctx: &Context,
    id: i64,
    input: &ItemInput,
) -> Result<Item, CatalogError> {
    let before = get(tx, id)?.ok_or(CatalogError::NoSuchItem)?;
    let v = validate(tx, input, Some(id))?;
    tx.exec_cached(
        "UPDATE items SET code = ?1, name = ?2, category_id = ?3, unit = ?4, lot_tracked = ?5,
            expiry_tracked = ?6, notes = ?7, updated_at = ?8 WHERE id = ?9",
        params![
            v.code,
            v.name,
            v.category_id,
            v.unit,
            v.lot_tracked,
            v.expiry_tracked,
            v.notes,
            ctx.at.to_db(),
            id
        ],
    )?;
    let after = get(tx, id)?.ok_or(CatalogError::NoSuchItem)?;
    audit::record(
        tx,
        ctx,
        Event::new("item.update", "item", id)
            .before(json!(before))
            .after(json!(after)),
    )?;
    Ok(after)
}

/// Items are deactivated, never deleted: their history stays.
pub fn set_active(
    tx: &Transaction,
    ctx: &Context,
    id: i64,
    active: bool,
) -> Result<Item, CatalogError> {
    let before = get(tx, id)?.ok_or(CatalogError::NoSuchItem)?;
    tx.exec_cached(
        "UPDATE items SET active = ?1, updated_at = ?2 WHERE id = ?3",
        params![active, ctx.at.to_db(), id],
    )?;
    let action = if active {
        "item.activate"
    } else {
        "item.deactivate"
    };
    audit::record(
        tx,
        ctx,
        Event::new(action, "item", id).before(json!(before)),
    )?;
    get(tx, id)?.ok_or(CatalogError::NoSuchItem)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Pack {
    pub id: i64,
    pub item_id: i64,
    pub name: String,
    /// Stocking units in one pack.
    pub quantity: i64,
    pub gtin: Option<String>,
    /// The identity on its HIBCC primary label: labeler, product number,
    /// unit of measure ("A123BJC5D6E71").
    pub hibcc: Option<String>,
}

/// The barcodes a new pack carries, as typed (each may be empty).
#[derive(Debug, Clone, Copy, Default)]
pub struct PackCodes<'a> {
    /// A GTIN (8 to 14 digits).
    pub gtin: Option<&'a str>,
    /// A HIBCC primary label, `+…` with its check character.
    pub hibcc: Option<&'a str>,
}

/// Adds a pack level ("box" = 100), optionally with its GTIN and HIBCC
/// code.
pub fn add_pack(
    tx: &Transaction,
    ctx: &Context,
    item_id: i64,
    name: &str,
    quantity: i64,
    codes: PackCodes,
) -> Result<Pack, CatalogError> {
    let item = get(tx, item_id)?.ok_or(CatalogError::NoSuchItem)?;
    let mut errors = FieldErrors::default();
    let name = errors.check("name", text(name, 40));
    if !(1..=1_000_000).contains(&quantity) {
        errors.add("quantity", "must be from 1 to 1000000");
    }
    let gtin = match codes.gtin.map(str::trim).filter(|g| !g.is_empty()) {
        Some(g) => errors.check("gtin", Gtin::parse(g)),
        None => None,
    };
    let hibcc = match codes.hibcc.map(str::trim).filter(|g| !g.is_empty()) {
        Some(h) => match PackCode::parse(h, ctx.at.datetime().year()) {
            Ok(PackCode::Hibcc(identity)) => Some(identity),
            Ok(PackCode::Gtin(_)) => {
                errors.add("hibcc", "is a GTIN, not a HIBCC code");
                None
            }
            Err(e) => {
                errors.add("hibcc", e);
                None
            }
        },
        None => None,
    };
    for (field, code) in [
        ("gtin", gtin.clone().map(PackCode::Gtin)),
        ("hibcc", hibcc.clone().map(PackCode::Hibcc)),
    ] {
        if let Some(code) = code
            && let Some(other) = find_by_pack_code(tx, &code)?
        {
            let owner = get(tx, other.item_id)?.map(|i| i.name).unwrap_or_default();
            errors.add(
                field,
                format!("is already used by {owner} ({})", other.name),
            );
        }
    }
    if let Some(n) = &name {
        let taken: bool = tx.row_cached(
            "SELECT EXISTS (SELECT 1 FROM item_packs WHERE item_id = ?1 AND name = ?2)",
            params![item_id, n],
            |r| r.get(0),
        )?;
        if taken {
            errors.add(
                "name",
                format!("{} already has a pack called {n}", item.name),
            );
        }
    }
    errors.into_result()?;
    tx.exec_cached(
        "INSERT INTO item_packs (item_id, name, quantity, gtin, hibcc) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            item_id,
            name,
            quantity,
            gtin.as_ref().map(Gtin::as_str),
            hibcc
        ],
    )?;
    let pack = Pack {
        id: tx.last_insert_rowid(),
        item_id,
        name: name.unwrap_or_default(),
        quantity,
        gtin: gtin.map(|g| g.as_str().to_string()),
        hibcc,
    };
    audit::record(
        tx,
        ctx,
        Event::new("item.pack_add", "item", item_id).after(json!(pack)),
    )?;
    Ok(pack)
}

/// Gives a barcode (GTIN or HIBCC) to an item: to the pack of `quantity`
/// stocking units (its stocking unit itself when 1), creating a pack
/// "pack of N" when the item has none of that size without such a code
/// yet. For the "unknown barcode" action; errors are on the field `gtin`.
pub fn attach_code(
    tx: &Transaction,
    ctx: &Context,
    item_id: i64,
    code: &PackCode,
    quantity: i64,
) -> Result<Pack, CatalogError> {
    let item = get(tx, item_id)?.ok_or(CatalogError::NoSuchItem)?;
    if let Some(other) = find_by_pack_code(tx, code)? {
        let owner = get(tx, other.item_id)?.map(|i| i.name).unwrap_or_default();
        return Err(FieldErrors::single(
            "gtin",
            format!("is already used by {owner} ({})", other.name),
        )
        .into());
    }
    let free = packs(tx, item_id)?.into_iter().find(|p| {
        p.quantity == quantity
            && match code {
                PackCode::Gtin(_) => p.gtin.is_none(),
                PackCode::Hibcc(_) => p.hibcc.is_none(),
            }
    });
    let Some(pack) = free else {
        let name = if quantity == 1 {
            let kind = match code {
                PackCode::Gtin(_) => "GTIN",
                PackCode::Hibcc(_) => "HIBCC",
            };
            format!("{} ({kind} {})", item.unit, code.display())
        } else {
            format!("pack of {quantity}")
        };
        let key = code.key();
        let codes = match code {
            PackCode::Gtin(_) => PackCodes {
                gtin: Some(&key),
                hibcc: None,
            },
            PackCode::Hibcc(_) => PackCodes {
                gtin: None,
                hibcc: Some(&key),
            },
        };
        return add_pack(tx, ctx, item_id, &name, quantity, codes).map_err(|e| match e {
            CatalogError::Invalid(f) => CatalogError::Invalid(f.renamed("hibcc", "gtin")),
            e => e,
        });
    };
    let after = match code {
        PackCode::Gtin(g) => {
            tx.exec_cached(
                "UPDATE item_packs SET gtin = ?1 WHERE id = ?2",
                params![g.as_str(), pack.id],
            )?;
            Pack {
                gtin: Some(g.as_str().to_string()),
                ..pack.clone()
            }
        }
        PackCode::Hibcc(identity) => {
            tx.exec_cached(
                "UPDATE item_packs SET hibcc = ?1 WHERE id = ?2",
                params![identity, pack.id],
            )?;
            Pack {
                hibcc: Some(identity.clone()),
                ..pack.clone()
            }
        }
    };
    audit::record(
        tx,
        ctx,
        Event::new("item.code_attach", "item", item_id)
            .before(json!(pack))
            .after(json!(after)),
    )?;
    Ok(after)
}

const PACK_COLUMNS: &str = "id, item_id, name, quantity, gtin, hibcc";

/// The pack (and so the item and quantity) a scanned GTIN identifies.
pub fn find_by_gtin(conn: &Connection, gtin: &Gtin) -> rusqlite::Result<Option<Pack>> {
    find_by_pack_code(conn, &PackCode::Gtin(gtin.clone()))
}

/// The pack a scanned GTIN or HIBCC primary label identifies.
pub fn find_by_pack_code(conn: &Connection, code: &PackCode) -> rusqlite::Result<Option<Pack>> {
    let (sql, value) = match code {
        PackCode::Gtin(g) => (
            "SELECT id, item_id, name, quantity, gtin, hibcc FROM item_packs WHERE gtin = ?1",
            g.as_str(),
        ),
        PackCode::Hibcc(identity) => (
            "SELECT id, item_id, name, quantity, gtin, hibcc FROM item_packs WHERE hibcc = ?1",
            identity.as_str(),
        ),
    };
    conn.row_cached(sql, [value], map_pack).optional()
}

fn map_pack(r: &rusqlite::Row) -> rusqlite::Result<Pack> {
    Ok(Pack {
        id: r.get(0)?,
        item_id: r.get(1)?,
        name: r.get(2)?,
        quantity: r.get(3)?,
        gtin: r.get(4)?,
        hibcc: r.get(5)?,
    })
}

pub fn packs(conn: &Connection, item_id: i64) -> rusqlite::Result<Vec<Pack>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PACK_COLUMNS} FROM item_packs WHERE item_id = ?1 ORDER BY quantity, name"
    ))?;
    stmt.query_map([item_id], map_pack)?.collect()
}

/// The active item with this code (case-insensitive).
pub fn find_by_code(conn: &Connection, code: &str) -> rusqlite::Result<Option<Item>> {
    conn.row_cached(
        &format!("SELECT {COLUMNS} FROM items WHERE code = ?1 AND active = 1"),
        [code.trim()],
        map,
    )
    .optional()
}

/// Reorder point and par level of an item in one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StockTarget {
    pub item_id: i64,
    pub location_id: i64,
    /// At or below this, the item needs ordering for this location.
    pub reorder_point: i64,
    /// What to fill up to when ordering.
    pub par_level: i64,
}

/// An item's targets in every location that has them.
pub fn targets(conn: &Connection, item_id: i64) -> rusqlite::Result<Vec<StockTarget>> {
    let mut stmt = conn.prepare_cached(
        "SELECT item_id, location_id, reorder_point, par_level FROM item_locations
         WHERE item_id = ?1 ORDER BY location_id",
    )?;
    stmt.query_map([item_id], |r| {
        Ok(StockTarget {
            item_id: r.get(0)?,
            location_id: r.get(1)?,
            reorder_point: r.get(2)?,
            par_level: r.get(3)?,
        })
    })?
    .collect()
}

/// Sets (or, with both zero, clears) the reorder point and par level of an
/// item in a location. The par level may not be below the reorder point.
pub fn set_target(
    tx: &Transaction,
    ctx: &Context,
    item_id: i64,
    location_id: i64,
    reorder_point: i64,
    par_level: i64,
) -> Result<StockTarget, CatalogError> {
    get(tx, item_id)?.ok_or(CatalogError::NoSuchItem)?;
    let mut errors = FieldErrors::default();
    if crate::catalog::locations::get(tx, location_id)?.is_none_or(|l| !l.active) {
        errors.add("location_id", "no such active location");
    } else if !ctx.actor.may_use(location_id) {
        errors.add("location_id", "you may not use this location");
    }
    if !(0..=1_000_000).contains(&reorder_point) {
        errors.add("reorder_point", "must be from 0 to 1000000");
    }
    if !(0..=1_000_000).contains(&par_level) {
        errors.add("par_level", "must be from 0 to 1000000");
    } else if par_level < reorder_point {
        errors.add("par_level", "must not be below the reorder point");
    }
    errors.into_result()?;
    let before: Option<(i64, i64)> = tx
        .row_cached(
            "SELECT reorder_point, par_level FROM item_locations WHERE item_id = ?1 AND location_id = ?2",
            params![item_id, location_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if reorder_point == 0 && par_level == 0 {
        tx.exec_cached(
            "DELETE FROM item_locations WHERE item_id = ?1 AND location_id = ?2",
            params![item_id, location_id],
        )?;
    } else {
        tx.exec_cached(
            "INSERT INTO item_locations (item_id, location_id, reorder_point, par_level)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (item_id, location_id)
             DO UPDATE SET reorder_point = excluded.reorder_point, par_level = excluded.par_level",
            params![item_id, location_id, reorder_point, par_level],
        )?;
    }
    let target = StockTarget {
        item_id,
        location_id,
        reorder_point,
        par_level,
    };
    audit::record(
        tx,
        ctx,
        Event::new("item.target", "item", item_id)
            .before(json!(before.map(
                |(r, p)| json!({"location_id": location_id, "reorder_point": r, "par_level": p})
            )))
            .after(json!(target)),
    )?;
    Ok(target)
}
