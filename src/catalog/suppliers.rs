//! Suppliers and what they sell: a supplier item is one of the supplier's
//! catalogue lines for one of our items, with their code, how many stocking
//! units their pack holds and its price in the practice's currency.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::CatalogError;
use super::items;
use crate::audit::{self, Context, Event};
use crate::db::Cached;
use crate::validation::{FieldErrors, text};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Supplier {
    pub id: i64,
    pub name: String,
    pub contact_name: String,
    pub email: String,
    pub phone: String,
    pub account_number: String,
    pub lead_time_days: i64,
    pub notes: String,
    pub active: bool,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SupplierInput {
    pub name: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub account_number: String,
    /// Days from order to delivery, 0-365.
    #[serde(default)]
    pub lead_time_days: i64,
    #[serde(default)]
    pub notes: String,
}

const COLUMNS: &str =
    "id, name, contact_name, email, phone, account_number, lead_time_days, notes, active";

fn map(r: &rusqlite::Row) -> rusqlite::Result<Supplier> {
    Ok(Supplier {
        id: r.get(0)?,
        name: r.get(1)?,
        contact_name: r.get(2)?,
        email: r.get(3)?,
        phone: r.get(4)?,
        account_number: r.get(5)?,
        lead_time_days: r.get(6)?,
        notes: r.get(7)?,
        active: r.get(8)?,
    })
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Supplier>> {
    conn.row_cached(
        &format!("SELECT {COLUMNS} FROM suppliers WHERE id = ?1"),
        [id],
        map,
    )
    .optional()
}

/// Every supplier (active first), by name.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<Supplier>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM suppliers ORDER BY active DESC, name COLLATE NOCASE"
    ))?;
    stmt.query_map([], map)?.collect()
}

pub fn find_by_name(conn: &Connection, name: &str) -> rusqlite::Result<Option<Supplier>> {
    conn.row_cached(
        &format!("SELECT {COLUMNS} FROM suppliers WHERE name = ?1"),
        [name.trim()],
        map,
    )
    .optional()
}

/// Optional free text of at most `max` characters, trimmed.
fn optional(errors: &mut FieldErrors, field: &str, raw: &str, max: usize) -> String {
    let t = raw.trim();
    if t.is_empty() {
        return String::new();
    }
    errors.check(field, text(t, max)).unwrap_or_default()
}

/// A plausible e-mail address: one `@`, something on both sides, a dot in
/// the domain, no spaces. Delivery is what proves an address.
pub fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn validate(
    tx: &Transaction,
    input: &SupplierInput,
    id: Option<i64>,
) -> Result<SupplierInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", text(&input.name, 200));
    let contact_name = optional(&mut errors, "contact_name", &input.contact_name, 200);
    let email = optional(&mut errors, "email", &input.email, 254);
    if !email.is_empty() && !valid_email(&email) {
        errors.add("email", "is not an e-mail address");
    }
    let phone = optional(&mut errors, "phone", &input.phone, 40);
    let account_number = optional(&mut errors, "account_number", &input.account_number, 60);
    if !(0..=365).contains(&input.lead_time_days) {
        errors.add("lead_time_days", "must be from 0 to 365");
    }
    if input.notes.chars().count() > 2000 {
        errors.add("notes", "must be at most 2000 characters");
    }
    if let Some(n) = &name {
        let clash: bool = tx
            .row_cached(
                "SELECT EXISTS (SELECT 1 FROM suppliers WHERE name = ?1 AND id IS NOT ?2)",
                params![n, id],
                |r| r.get(0),
            )
            .map_err(|e| FieldErrors::single("name", e))?;
        if clash {
            errors.add("name", format!("{n} already exists"));
        }
    }
    errors.into_result()?;
    Ok(SupplierInput {
        name: name.unwrap_or_default(),
        contact_name,
        email,
        phone,
        account_number,
        lead_time_days: input.lead_time_days,
        notes: input.notes.trim().to_string(),
    })
}

pub fn create(
    tx: &Transaction,
    ctx: &Context,
    input: &SupplierInput,
) -> Result<Supplier, CatalogError> {
    let v = validate(tx, input, None)?;
    tx.execute(
        "INSERT INTO suppliers (name, contact_name, email, phone, account_number, lead_time_days, notes,
            created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![
            v.name,
            v.contact_name,
            v.email,
            v.phone,
            v.account_number,
            v.lead_time_days,
            v.notes,
            ctx.at.to_db()
        ],
    )?;
    let s = get(tx, tx.last_insert_rowid())?.ok_or(CatalogError::NoSuchSupplier)?;
    audit::record(
        tx,
        ctx,
        Event::new("supplier.create", "supplier", s.id).after(json!(s)),
    )?;
    Ok(s)
}

pub fn update(
    tx: &Transaction,
    ctx: &Context,
    id: i64,
    input: &SupplierInput,
) -> Result<Supplier, CatalogError> {
    let before = get(tx, id)?.ok_or(CatalogError::NoSuchSupplier)?;
    let v = validate(tx, input, Some(id))?;
    tx.execute(
        "UPDATE suppliers SET name = ?1, contact_name = ?2, email = ?3, phone = ?4, account_number = ?5,
            lead_time_days = ?6, notes = ?7, updated_at = ?8 WHERE id = ?9",
        params![
            v.name,
            v.contact_name,
            v.email,
            v.phone,
            v.account_number,
            v.lead_time_days,
            v.notes,
            ctx.at.to_db(),
            id
        ],
    )?;
    let after = get(tx, id)?.ok_or(CatalogError::NoSuchSupplier)?;
    audit::record(
        tx,
        ctx,
        Event::new("supplier.update", "supplier", id)
            .before(json!(before))
            .after(json!(after)),
    )?;
    Ok(after)
}

/// Suppliers are deactivated, never deleted: orders refer to them.
pub fn set_active(
    tx: &Transaction,
    ctx: &Context,
    id: i64,
    active: bool,
) -> Result<Supplier, CatalogError> {
    let before = get(tx, id)?.ok_or(CatalogError::NoSuchSupplier)?;
    tx.execute(
        "UPDATE suppliers SET active = ?1, updated_at = ?2 WHERE id = ?3",
        params![active, ctx.at.to_db(), id],
    )?;
    let action = if active {
        "supplier.activate"
    } else {
        "supplier.deactivate"
    };
    audit::record(
        tx,
        ctx,
        Event::new(action, "supplier", id).before(json!(before)),
    )?;
    get(tx, id)?.ok_or(CatalogError::NoSuchSupplier)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SupplierItem {
    pub id: i64,
    pub supplier_id: i64,
    pub supplier_name: String,
    pub item_id: i64,
    pub item_name: String,
    /// The supplier's own code for it.
    pub supplier_code: String,
    /// Stocking units in one pack as the supplier sells it.
    pub pack_size: i64,
    /// Price of one pack in minor units (cents).
    pub price_minor: i64,
    pub currency: String,
    /// The supplier to order this item from by default.
    pub preferred: bool,
    pub active: bool,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SupplierItemInput {
    pub supplier_id: i64,
    pub item_id: i64,
    pub supplier_code: String,
    pub pack_size: i64,
    pub price_minor: i64,
    /// Must be the practice's currency; defaults to it.
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub preferred: bool,
}

const ITEM_COLUMNS: &str = "si.id, si.supplier_id, s.name, si.item_id, i.name, si.supplier_code,
    si.pack_size, si.price_minor, si.currency, si.preferred, si.active";
const ITEM_FROM: &str = "supplier_items si JOIN suppliers s ON s.id = si.supplier_id
    JOIN items i ON i.id = si.item_id";

fn map_item(r: &rusqlite::Row) -> rusqlite::Result<SupplierItem> {
    Ok(SupplierItem {
        id: r.get(0)?,
        supplier_id: r.get(1)?,
        supplier_name: r.get(2)?,
        item_id: r.get(3)?,
        item_name: r.get(4)?,
        supplier_code: r.get(5)?,
        pack_size: r.get(6)?,
        price_minor: r.get(7)?,
        currency: r.get(8)?,
        preferred: r.get(9)?,
        active: r.get(10)?,
    })
}

pub fn get_item(conn: &Connection, id: i64) -> rusqlite::Result<Option<SupplierItem>> {
    conn.row_cached(
        &format!("SELECT {ITEM_COLUMNS} FROM {ITEM_FROM} WHERE si.id = ?1"),
        [id],
        map_item,
    )
    .optional()
}

/// Where an item can be bought: preferred first, then cheapest per unit.
pub fn for_item(conn: &Connection, item_id: i64) -> rusqlite::Result<Vec<SupplierItem>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ITEM_COLUMNS} FROM {ITEM_FROM} WHERE si.item_id = ?1
         ORDER BY si.active DESC, si.preferred DESC, CAST(si.price_minor AS REAL) / si.pack_size, s.name"
    ))?;
    stmt.query_map([item_id], map_item)?.collect()
}

/// A supplier's catalogue lines, by item name.
pub fn for_supplier(conn: &Connection, supplier_id: i64) -> rusqlite::Result<Vec<SupplierItem>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ITEM_COLUMNS} FROM {ITEM_FROM} WHERE si.supplier_id = ?1
         ORDER BY si.active DESC, i.name COLLATE NOCASE, si.supplier_code"
    ))?;
    stmt.query_map([supplier_id], map_item)?.collect()
}

fn validate_item(
    tx: &Transaction,
    input: &SupplierItemInput,
    currency: &str,
    id: Option<i64>,
) -> Result<SupplierItemInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let supplier = get(tx, input.supplier_id)
        .map_err(|e| FieldErrors::single("supplier_id", e))?
        .filter(|s| s.active);
    if supplier.is_none() {
        errors.add("supplier_id", "no such active supplier");
    }
    let item = items::get(tx, input.item_id)
        .map_err(|e| FieldErrors::single("item_id", e))?
        .filter(|i| i.active);
    if item.is_none() {
        errors.add("item_id", "no such active item");
    }
    let code = errors.check("supplier_code", text(&input.supplier_code, 60));
    if !(1..=1_000_000).contains(&input.pack_size) {
        errors.add("pack_size", "must be from 1 to 1000000");
    }
    if !(0..=100_000_000).contains(&input.price_minor) {
        errors.add("price_minor", "must be from 0 to 100000000");
    }
    let given = input.currency.trim().to_ascii_uppercase();
    if !given.is_empty() && given != currency {
        errors.add(
            "currency",
            format!("must be {currency}, the practice's currency"),
        );
    }
    if let (Some(code), Some(s)) = (&code, &supplier) {
        let clash: Option<String> = tx
            .row_cached(
                "SELECT i.name FROM supplier_items si JOIN items i ON i.id = si.item_id
                 WHERE si.supplier_id = ?1 AND si.supplier_code = ?2 AND si.id IS NOT ?3",
                params![s.id, code, id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| FieldErrors::single("supplier_code", e))?;
        if let Some(other) = clash {
            errors.add(
                "supplier_code",
                format!("{} already uses {code} for {other}", s.name),
            );
        }
    }
    errors.into_result()?;
    Ok(SupplierItemInput {
        supplier_code: code.unwrap_or_default(),
        currency: currency.to_string(),
        ..input.clone()
    })
}

/// Makes `keep` the item's only preferred supplier item.
fn clear_other_preferred(tx: &Transaction, item_id: i64, keep: i64) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE supplier_items SET preferred = 0 WHERE item_id = ?1 AND id <> ?2 AND preferred = 1",
        params![item_id, keep],
    )?;
    Ok(())
}

/// Adds a supplier's catalogue line for an item; `currency` is the
/// practice's. Marking it preferred unmarks the item's other lines.
pub fn create_item(
    tx: &Transaction,
    ctx: &Context,
    input: &SupplierItemInput,
    currency: &str,
) -> Result<SupplierItem, CatalogError> {
    let v = validate_item(tx, input, currency, None)?;
    tx.execute(
        "INSERT INTO supplier_items (supplier_id, item_id, supplier_code, pack_size, price_minor, currency,
            preferred, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![
            v.supplier_id,
            v.item_id,
            v.supplier_code,
            v.pack_size,
            v.price_minor,
            v.currency,
            v.preferred,
            ctx.at.to_db()
        ],
    )?;
    let id = tx.last_insert_rowid();
    if v.preferred {
        clear_other_preferred(tx, v.item_id, id)?;
    }
    let si = get_item(tx, id)?.ok_or(CatalogError::NoSuchSupplierItem)?;
    audit::record(
        tx,
        ctx,
        Event::new("supplier_item.create", "supplier_item", id).after(json!(si)),
    )?;
    Ok(si)
}

/// Changes a catalogue line (its supplier and item stay).
pub fn update_item(
    tx: &Transaction,
    ctx: &Context,
    id: i64,
    input: &SupplierItemInput,
    currency: &str,
) -> Result<SupplierItem, CatalogError> {
    let before = get_item(tx, id)?.ok_or(CatalogError::NoSuchSupplierItem)?;
    let input = SupplierItemInput {
        supplier_id: before.supplier_id,
        item_id: before.item_id,
        ..input.clone()
    };
    let v = validate_item(tx, &input, currency, Some(id))?;
    tx.execute(
        "UPDATE supplier_items SET supplier_code = ?1, pack_size = ?2, price_minor = ?3, currency = ?4,
            preferred = ?5, updated_at = ?6 WHERE id = ?7",
        params![
            v.supplier_code,
            v.pack_size,
            v.price_minor,
            v.currency,
            v.preferred,
            ctx.at.to_db(),
            id
        ],
    )?;
    if v.preferred {
        clear_other_preferred(tx, v.item_id, id)?;
    }
    let after = get_item(tx, id)?.ok_or(CatalogError::NoSuchSupplierItem)?;
    audit::record(
        tx,
        ctx,
        Event::new("supplier_item.update", "supplier_item", id)
            .before(json!(before))
            .after(json!(after)),
    )?;
    Ok(after)
}

pub fn set_item_active(
    tx: &Transaction,
    ctx: &Context,
    id: i64,
    active: bool,
) -> Result<SupplierItem, CatalogError> {
    let before = get_item(tx, id)?.ok_or(CatalogError::NoSuchSupplierItem)?;
    tx.execute(
        "UPDATE supplier_items SET active = ?1, preferred = preferred AND ?1, updated_at = ?2 WHERE id = ?3",
        params![active, ctx.at.to_db(), id],
    )?;
    let action = if active {
        "supplier_item.activate"
    } else {
        "supplier_item.deactivate"
    };
    audit::record(
        tx,
        ctx,
        Event::new(action, "supplier_item", id).before(json!(before)),
    )?;
    get_item(tx, id)?.ok_or(CatalogError::NoSuchSupplierItem)
}
