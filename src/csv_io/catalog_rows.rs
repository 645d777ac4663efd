//! One row of an items, suppliers or supplier-items file, imported through
//! the catalog's own service functions. Cells are read first (yes/no,
//! numbers, GTINs, prices, names of things that must exist), then the
//! service validates and writes; both kinds of problem land on the row.

use rusqlite::{OptionalExtension, Transaction};

use super::cells;
use super::report::Outcome;
use super::{Cells, Env};
use crate::catalog::categories;
use crate::catalog::items::{self, ItemInput};
use crate::catalog::suppliers::{self, SupplierInput, SupplierItemInput};
use crate::db::Cached;
use crate::db::DbError;
use crate::domain::barcode::{Gtin, PackCode};

fn flag(out: &mut Outcome, c: &Cells, column: &str) -> bool {
    match cells::boolean(c.get(column)) {
        Ok(b) => b,
        Err(e) => {
            out.error(column, e);
            false
        }
    }
}

fn gtin(out: &mut Outcome, c: &Cells, column: &str) -> Option<Gtin> {
    match c.get(column) {
        "" => None,
        raw => match Gtin::parse(raw) {
            Ok(g) => Some(g),
            Err(e) => {
                out.error(column, e);
                None
            }
        },
    }
}

/// A whole number from a cell that must be filled in when `needed`.
fn number(out: &mut Outcome, c: &Cells, column: &str, needed: bool) -> Option<i64> {
    match c.get(column) {
        "" if needed => {
            out.error(column, "is required");
            None
        }
        "" => None,
        raw => match cells::whole(raw) {
            Ok(n) => Some(n),
            Err(e) => {
                out.error(column, e);
                None
            }
        },
    }
}

/// The category by name, created when there is none yet (and said so).
fn category(
    tx: &Transaction,
    env: &Env,
    out: &mut Outcome,
    raw: &str,
) -> Result<Option<i64>, DbError> {
    let name = raw.trim();
    if name.is_empty() {
        return Ok(None);
    }
    match categories::find_by_name(tx, name)? {
        Some(c) if c.active => Ok(Some(c.id)),
        Some(c) => {
            out.error(
                "category",
                format!("{} is inactive: reactivate it or use another", c.name),
            );
            Ok(None)
        }
        None => {
            let created = out.catalog(
                categories::create(tx, env.audit, name),
                &[("name", "category")],
            )?;
            Ok(created.map(|c| {
                out.counts.categories_created += 1;
                out.notices.push(format!("new category {}", c.name));
                c.id
            }))
        }
    }
}

pub(crate) fn item(
    tx: &Transaction,
    env: &mut Env,
    c: &Cells,
    out: &mut Outcome,
) -> Result<(), DbError> {
    let lot_tracked = flag(out, c, "lot_tracked");
    let expiry_tracked = flag(out, c, "expiry_tracked");
    let unit_gtin = gtin(out, c, "gtin");
    let pack_gtin = gtin(out, c, "pack_gtin");
    let pack_wanted = ["pack_name", "pack_quantity", "pack_gtin"]
        .iter()
        .any(|col| !c.get(col).is_empty());
    if pack_wanted && c.get("pack_name").is_empty() {
        out.error("pack_name", "is required for the extra pack");
    }
    let pack_quantity = number(out, c, "pack_quantity", pack_wanted);
    let target_wanted = ["reorder_location", "reorder_point", "par_level"]
        .iter()
        .any(|col| !c.get(col).is_empty());
    let mut target = None;
    if target_wanted {
        let location = env.location(tx, out, "reorder_location", c.get("reorder_location"))?;
        let point = number(out, c, "reorder_point", false).unwrap_or(0);
        let par = number(out, c, "par_level", false).unwrap_or(point);
        target = location.map(|l| (l, point, par));
    }
    let category_id = category(tx, env, out, c.get("category"))?;
    let input = ItemInput {
        code: c.get("code").to_string(),
        name: c.get("name").to_string(),
        category_id,
        unit: c.get("unit").to_string(),
        lot_tracked,
        expiry_tracked,
        notes: c.get("notes").to_string(),
    };
    let Some(item) = out.catalog(
        items::create(tx, env.audit, &input),
        &[("category_id", "category")],
    )?
    else {
        // No item to give them to, but a GTIN someone else has is a
        // mistake worth naming now rather than after the next upload.
        for (column, g) in [("gtin", &unit_gtin), ("pack_gtin", &pack_gtin)] {
            if let Some(g) = g
                && let Some(p) = items::find_by_gtin(tx, g)?
            {
                let owner = items::get(tx, p.item_id)?
                    .map(|i| i.name)
                    .unwrap_or_default();
                out.error(column, format!("is already used by {owner} ({})", p.name));
            }
        }
        return Ok(());
    };
    out.counts.items_created += 1;
    if let Some(g) = unit_gtin
        && out
            .catalog(
                items::attach_code(tx, env.audit, item.id, &PackCode::Gtin(g), 1),
                &[],
            )?
            .is_some()
    {
        out.counts.gtins_added += 1;
    }
    if pack_wanted {
        let added = out.catalog(
            items::add_pack(
                tx,
                env.audit,
                item.id,
                c.get("pack_name"),
                pack_quantity.unwrap_or(0),
                items::PackCodes {
                    gtin: Some(c.get("pack_gtin")),
                    hibcc: None,
                },
            ),
            &[
                ("name", "pack_name"),
                ("quantity", "pack_quantity"),
                ("gtin", "pack_gtin"),
            ],
        )?;
        if added.is_some() {
            out.counts.packs_added += 1;
        }
    }
    if let Some((location, point, par)) = target {
        let set = out.catalog(
            items::set_target(tx, env.audit, item.id, location, point, par),
            &[("location_id", "reorder_location")],
        )?;
        if set.is_some() {
            out.counts.targets_set += 1;
        }
    }
    Ok(())
}

pub(crate) fn supplier(
    tx: &Transaction,
    env: &mut Env,
    c: &Cells,
    out: &mut Outcome,
) -> Result<(), DbError> {
    let lead_time_days = number(out, c, "lead_time_days", false).unwrap_or(0);
    let input = SupplierInput {
        name: c.get("name").to_string(),
        contact_name: c.get("contact_name").to_string(),
        email: c.get("email").to_string(),
        phone: c.get("phone").to_string(),
        account_number: c.get("account_number").to_string(),
        lead_time_days,
        notes: c.get("notes").to_string(),
    };
    if out
        .catalog(suppliers::create(tx, env.audit, &input), &[])?
        .is_some()
    {
        out.counts.suppliers_created += 1;
    }
    Ok(())
}

pub(crate) fn supplier_item(
    tx: &Transaction,
    env: &mut Env,
    c: &Cells,
    out: &mut Outcome,
) -> Result<(), DbError> {
    let supplier_id = match c.get("supplier") {
        "" => {
            out.error("supplier", "is required");
            0
        }
        name => match suppliers::find_by_name(tx, name)? {
            Some(s) if s.active => s.id,
            Some(s) => {
                out.error("supplier", format!("{} is inactive", s.name));
                0
            }
            None => {
                out.error("supplier", format!("no supplier is called {name}"));
                0
            }
        },
    };
    let item_id = match c.get("item") {
        "" => {
            out.error("item", "is required");
            0
        }
        code => env.item_id(tx, out, "item", code)?.unwrap_or(0),
    };
    let pack_size = number(out, c, "pack_size", true).unwrap_or(0);
    let price_minor = match c.get("price") {
        "" => {
            out.error("price", "is required");
            0
        }
        raw => cells::money_minor(raw, env.currency).unwrap_or_else(|e| {
            out.error("price", e);
            0
        }),
    };
    let preferred = flag(out, c, "preferred");
    let input = SupplierItemInput {
        supplier_id,
        item_id,
        supplier_code: c.get("supplier_code").to_string(),
        pack_size,
        price_minor,
        currency: c.get("currency").to_string(),
        preferred,
    };
    let created = out.catalog(
        suppliers::create_item(tx, env.audit, &input, env.currency),
        &[
            ("supplier_id", "supplier"),
            ("item_id", "item"),
            ("price_minor", "price"),
        ],
    )?;
    if created.is_some() {
        out.counts.supplier_items_created += 1;
    }
    Ok(())
}

/// The name of an inactive item with this code, to say why it is refused.
pub(crate) fn inactive_item(tx: &Transaction, code: &str) -> rusqlite::Result<Option<String>> {
    tx.row_cached(
        "SELECT name FROM items WHERE code = ?1 AND active = 0",
        [code.trim()],
        |r| r.get(0),
    )
    .optional()
}
