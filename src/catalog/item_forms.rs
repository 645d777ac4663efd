//! The catalog's item forms as services: a new item with the barcode of an
//! unknown scan, a pack typed as one barcode field, a reorder point for a
//! location the user must be allowed to use, a barcode attached by item
//! code.
//!
//! The page handlers parse text into these arguments (with the parser's
//! errors in `errors`) and render what comes back. Checking codes, access
//! and merging every problem into one `Invalid` happen here, in the one
//! transaction, so a form shows every problem at once and the rules are not
//! spread over handlers.

use rusqlite::Transaction;

use crate::audit::Context;
use crate::catalog::CatalogError;
use crate::catalog::items::{self, Item, ItemInput, Pack, PackCodes, StockTarget};
use crate::domain::barcode::{PackCode, hibcc};
use crate::validation::FieldErrors;

/// Creates an item; a non-empty `gtin` (a GTIN or HIBCC code, read with
/// `year` for its dates) is given to it as a pack of `quantity` units.
pub fn create_with_code(
    tx: &Transaction,
    ctx: &Context,
    input: &ItemInput,
    gtin: &str,
    year: i32,
    quantity: i64,
    mut errors: FieldErrors,
) -> Result<Item, CatalogError> {
    // Check the barcode with the other fields, so every problem shows.
    let mut code = None;
    if !gtin.is_empty() {
        match PackCode::parse(gtin, year) {
            Ok(g) => {
                if let Some(p) = items::find_by_pack_code(tx, &g)? {
                    let owner = items::get(tx, p.item_id)?
                        .map(|i| i.name)
                        .unwrap_or_default();
                    errors.add("gtin", format!("is already used by {owner}"));
                }
                code = Some(g);
            }
            Err(e) => errors.add("gtin", e),
        }
    }
    let item = match items::create(tx, ctx, input) {
        Ok(item) => item,
        Err(CatalogError::Invalid(mut e)) => {
            e.0.extend(errors.0);
            return Err(CatalogError::Invalid(e));
        }
        Err(e) => return Err(e),
    };
    errors.into_result()?;
    if let Some(code) = code {
        items::attach_code(tx, ctx, item.id, &code, quantity)?;
    }
    Ok(item)
}

/// Adds a pack whose one barcode field holds a GTIN or a HIBCC label (they
/// start with `+`); errors on the HIBCC code are on the field `gtin`.
pub fn add_pack_scanned(
    tx: &Transaction,
    ctx: &Context,
    item_id: i64,
    name: &str,
    quantity: i64,
    code: &str,
) -> Result<Pack, CatalogError> {
    let code = code.trim();
    let codes = if hibcc::looks_like_hibcc(code) {
        PackCodes {
            gtin: None,
            hibcc: Some(code),
        }
    } else {
        PackCodes {
            gtin: Some(code),
            hibcc: None,
        }
    };
    items::add_pack(tx, ctx, item_id, name, quantity, codes).map_err(|e| match e {
        CatalogError::Invalid(f) => CatalogError::Invalid(f.renamed("hibcc", "gtin")),
        e => e,
    })
}

/// Sets a reorder point (the service refuses a location the actor may not use);
/// `None` arguments were refused by the parser, whose errors are `errors`.
#[allow(clippy::too_many_arguments)]
pub fn set_target_for(
    tx: &Transaction,
    ctx: &Context,
    item_id: i64,
    location: Option<i64>,
    reorder: Option<i64>,
    par: Option<i64>,
    errors: FieldErrors,
) -> Result<StockTarget, CatalogError> {
    errors.into_result()?;
    items::set_target(
        tx,
        ctx,
        item_id,
        location.expect("checked"),
        reorder.expect("checked"),
        par.expect("checked"),
    )
}

/// Gives the barcode `gtin` to the active item whose code is `item_code`;
/// `quantity` is `None` when the parser refused it (its error is in
/// `errors`).
pub fn attach_to_code(
    tx: &Transaction,
    ctx: &Context,
    item_code: &str,
    gtin: &str,
    year: i32,
    quantity: Option<i64>,
    mut errors: FieldErrors,
) -> Result<Item, CatalogError> {
    let item = items::find_by_code(tx, item_code)?;
    if item.is_none() {
        errors.add("item", "no active item has this code");
    }
    let code = errors.check("gtin", PackCode::parse(gtin, year));
    errors.into_result()?;
    let item = item.expect("checked");
    let code = code.expect("checked");
    items::attach_code(tx, ctx, item.id, &code, quantity.expect("checked"))?;
    Ok(item)
}
