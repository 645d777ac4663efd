//! Categories group items ("Gloves", "Vaccines") for lists and reports.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;

use super::CatalogError;
use crate::audit::{self, Context, Event};
use crate::db::Cached;
use crate::validation::{FieldErrors, text};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Category {
    pub id: i64,
    pub name: String,
    pub active: bool,
}

fn map(r: &rusqlite::Row) -> rusqlite::Result<Category> {
    Ok(Category {
        id: r.get(0)?,
        name: r.get(1)?,
        active: r.get(2)?,
    })
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Category>> {
    conn.row_cached(
        "SELECT id, name, active FROM categories WHERE id = ?1",
        [id],
        map,
    )
    .optional()
}

pub fn find_by_name(conn: &Connection, name: &str) -> rusqlite::Result<Option<Category>> {
    conn.row_cached(
        "SELECT id, name, active FROM categories WHERE name = ?1",
        [name.trim()],
        map,
    )
    .optional()
}

/// Every category (active first), by name.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<Category>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, active FROM categories ORDER BY active DESC, name COLLATE NOCASE",
    )?;
    stmt.query_map([], map)?.collect()
}

pub fn create(tx: &Transaction, ctx: &Context, name: &str) -> Result<Category, CatalogError> {
    let name = text(name, 80).map_err(|e| FieldErrors::single("name", e))?;
    if find_by_name(tx, &name)?.is_some() {
        return Err(FieldErrors::single("name", format!("{name} already exists")).into());
    }
    let now = ctx.at.to_db();
    tx.execute(
        "INSERT INTO categories (name, created_at, updated_at) VALUES (?1, ?2, ?2)",
        params![name, now],
    )?;
    let c = get(tx, tx.last_insert_rowid())?.ok_or(CatalogError::NoSuchCategory)?;
    audit::record(
        tx,
        ctx,
        Event::new("category.create", "category", c.id).after(json!(c)),
    )?;
    Ok(c)
}

/// Renames and/or (de)activates a category.
pub fn update(
    tx: &Transaction,
    ctx: &Context,
    id: i64,
    name: &str,
    active: bool,
) -> Result<Category, CatalogError> {
    let before = get(tx, id)?.ok_or(CatalogError::NoSuchCategory)?;
    let name = text(name, 80).map_err(|e| FieldErrors::single("name", e))?;
    if find_by_name(tx, &name)?.is_some_and(|c| c.id != id) {
        return Err(FieldErrors::single("name", format!("{name} already exists")).into());
    }
    tx.execute(
        "UPDATE categories SET name = ?1, active = ?2, updated_at = ?3 WHERE id = ?4",
        params![name, active, ctx.at.to_db(), id],
    )?;
    let after = get(tx, id)?.ok_or(CatalogError::NoSuchCategory)?;
    audit::record(
        tx,
        ctx,
        Event::new("category.update", "category", id)
            .before(json!(before))
            .after(json!(after)),
    )?;
    Ok(after)
}
