//! The services behind the pages' forms. A form carries what a person
//! types (an item code or barcode, an order number, a location from a
//! list) and problems found while reading it; these functions resolve the
//! codes and numbers, check what the person may use, and merge the form's
//! problems with the service's, all in the transaction of the change, so
//! every problem is reported at once and a handler only reads the form,
//! makes one call and renders. Field names in errors are the service
//! input's, except where a form row is named (`item_3`).

use rusqlite::{Connection, Transaction};

use super::receiving::{self, ReceiptInput};
use super::returns::{
    self, Credit, CreditInput, CreditReceived, ReturnInput, ReturnLineInput, SupplierReturn,
};
use super::rules::{self, ApprovalRule, RuleInput};
use super::{Env, Order, OrdersError, drafting};
use crate::audit::Context;
use crate::catalog::items;
use crate::domain::actor::Actor;
use crate::domain::barcode::PackCode;
use crate::validation::{FieldErrors, with_form_errors};

// ------------------------------------------------------------ draft lines

/// Whether the actor may put goods for `location_id` on an order; a problem on
/// `location_id` when not (0, "none chosen", is the caller's to report).
fn check_location(actor: &Actor, location_id: i64, errors: &mut FieldErrors) {
    if location_id != 0 && !actor.may_use(location_id) {
        errors.add("location_id", "is not a location you may use");
    }
}

/// [`drafting::add_line`] for a form: `typed` holds the problems found while reading
/// it, to which a location the user may not use is added. The order's own
/// refusal (not a draft) comes first, so it is not hidden behind a field
/// problem; otherwise every field problem is reported together.
pub fn add_line(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    order_id: i64,
    input: &drafting::LineInput,
    typed: FieldErrors,
) -> Result<Order, OrdersError> {
    let mut errors = typed;
    check_location(&ctx.actor, input.location_id, &mut errors);
    if !errors.is_empty() {
        let order = super::get(tx, order_id, env.today)?.ok_or(OrdersError::NoSuchOrder)?;
        if !order.state.editable() {
            return drafting::add_line(tx, ctx, env, order_id, input);
        }
        return Err(OrdersError::Invalid(errors));
    }
    drafting::add_line(tx, ctx, env, order_id, input)
}

/// [`drafting::update_line`] for a form that changes a line's packs and, when given,
/// its location (the line keeps its note). `typed` holds the problems
/// found while reading the form; moving the line to a location the user
/// may not use is one more.
#[allow(clippy::too_many_arguments)]
pub fn update_line(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    order_id: i64,
    line_id: i64,
    packs: i64,
    location_id: Option<i64>,
    typed: FieldErrors,
) -> Result<Order, OrdersError> {
    let mut errors = typed;
    let order = super::get(tx, order_id, env.today)?.ok_or(OrdersError::NoSuchOrder)?;
    let line = super::lines(tx, order_id)?
        .into_iter()
        .find(|l| l.id == line_id)
        .ok_or(OrdersError::Missing("order line"))?;
    let location_id = location_id.unwrap_or(line.location_id);
    // Moving a line to another location needs that location.
    if location_id != line.location_id {
        check_location(&ctx.actor, location_id, &mut errors);
    }
    if !errors.is_empty() && order.state.editable() {
        return Err(OrdersError::Invalid(errors));
    }
    let change = drafting::LineChange {
        packs,
        location_id,
        note: line.note.clone(),
    };
    drafting::update_line(tx, ctx, env, order_id, line_id, &change)
}

// --------------------------------------------------------- order numbers

/// The order a form names by its number: `None` when left empty, and a
/// problem on `order_number` when no order has it.
fn order_by_number(
    tx: &Transaction,
    number: &str,
    env: &Env,
    errors: &mut FieldErrors,
) -> rusqlite::Result<Option<i64>> {
    if number.is_empty() {
        return Ok(None);
    }
    Ok(match super::find_by_number(tx, number, env.today)? {
        Some(o) => Some(o.id),
        None => {
            errors.add("order_number", "no order has this number");
            None
        }
    })
}

// ---------------------------------------------------------------- returns

/// A return as a form gives it: the order by its number, and each line's
/// item by its code, with the form row it came from.
pub struct ReturnForm {
    pub supplier_id: i64,
    pub order_number: String,
    pub reason: String,
    pub note: String,
    pub expected_credit_minor: Option<i64>,
    /// (form row, item code, the line with its item still to find)
    pub lines: Vec<(usize, String, ReturnLineInput)>,
}

/// `item_3`, `quantity_0`: a field of one of the return form's line rows.
pub fn is_line_field(field: &str) -> bool {
    field.rsplit_once('_').is_some_and(|(name, n)| {
        n.parse::<usize>().is_ok()
            && ["item", "location", "lot", "expiry", "quantity"].contains(&name)
    })
}

/// [`returns::create_return`] for a form: item codes and the order number
/// are looked up (an unknown code is a problem on `item_<row>`), and the
/// form's problems (`typed`) come first. "Nothing to return" is left out
/// when typed lines already failed: it is not news then.
pub fn create_return(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    form: ReturnForm,
    typed: FieldErrors,
) -> Result<SupplierReturn, OrdersError> {
    let mut errors = typed;
    let order_id = order_by_number(tx, &form.order_number, env, &mut errors)?;
    let mut sent = Vec::new();
    for (row, code, mut line) in form.lines {
        if code.is_empty() {
            continue;
        }
        match items::find_by_code(tx, &code)? {
            Some(item) => {
                line.item_id = item.id;
                sent.push(line);
            }
            None => errors.add(&format!("item_{row}"), "no active item has this code"),
        }
    }
    let input = ReturnInput {
        supplier_id: form.supplier_id,
        order_id,
        reason: form.reason,
        note: form.note,
        lines: sent,
        expected_credit_minor: form.expected_credit_minor,
    };
    match returns::create_return(tx, ctx, env, &input) {
        Ok(r) if errors.is_empty() => Ok(r),
        Ok(_) => Err(OrdersError::Invalid(errors)),
        Err(OrdersError::Invalid(e)) => {
            let lines_bad = errors.0.iter().any(|x| is_line_field(&x.field));
            for x in e.0 {
                if x.field == "lines" && lines_bad {
                    continue;
                }
                errors.0.push(x);
            }
            Err(OrdersError::Invalid(errors))
        }
        Err(e) if errors.is_empty() => Err(e),
        Err(_) => Err(OrdersError::Invalid(errors)),
    }
}

// ---------------------------------------------------------------- credits

/// [`returns::create_credit`] for a form naming the order by its number;
/// the form's problems (`typed`) come first.
pub fn create_credit(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    input: CreditInput,
    order_number: &str,
    typed: FieldErrors,
) -> Result<Credit, OrdersError> {
    let mut errors = typed;
    let order_id = order_by_number(tx, order_number, env, &mut errors)?;
    let input = CreditInput { order_id, ..input };
    with_form_errors(errors, returns::create_credit(tx, ctx, &input))
}

/// [`returns::receive_credit`] for a form; its problems (`typed`) come
/// first.
pub fn receive_credit(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    id: i64,
    input: &CreditReceived,
    typed: FieldErrors,
) -> Result<Credit, OrdersError> {
    with_form_errors(typed, returns::receive_credit(tx, ctx, env, id, input))
}

// ---------------------------------------------------------- approval rules

/// [`rules::create`] for a form whose amount field is `amount` (the
/// service's `amount_minor`). The form's problems (`typed`) come first: the
/// service cannot see what did not parse.
pub fn create_rule(
    tx: &Transaction,
    ctx: &Context,
    currency: &str,
    input: &RuleInput,
    typed: FieldErrors,
) -> Result<ApprovalRule, OrdersError> {
    let mut errors = typed;
    match rules::create(tx, ctx, currency, input) {
        Ok(r) if errors.is_empty() => Ok(r),
        Ok(_) => Err(OrdersError::Invalid(errors)),
        Err(OrdersError::Invalid(e)) => {
            for x in e.0 {
                let ours = if x.field == "amount_minor" {
                    "amount"
                } else {
                    x.field.as_str()
                };
                if errors.get(ours).is_none() {
                    errors.0.push(x);
                }
            }
            Err(OrdersError::Invalid(errors))
        }
        Err(e) => Err(e),
    }
}

// -------------------------------------------------------------- receiving

/// The items typed as substitutes on a receive form, each (form row, code)
/// found by item code or else by a pack's barcode; `None` when no active
/// item has it.
pub fn find_substitutes(
    conn: &Connection,
    typed: &[(usize, String)],
    year: i32,
) -> rusqlite::Result<Vec<(usize, Option<i64>)>> {
    let mut found = Vec::new();
    for (n, code) in typed {
        let mut item = items::find_by_code(conn, code)?.map(|i| i.id);
        if item.is_none()
            && let Ok(pack_code) = PackCode::parse(code, year)
        {
            item = items::find_by_pack_code(conn, &pack_code)?.map(|p| p.item_id);
        }
        found.push((*n, item));
    }
    Ok(found)
}

/// [`receiving::receive`] by the actor, answering what the receive page says
/// afterwards: what came in (and damaged), per line, and the order's state.
pub fn receive(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    order_id: i64,
    input: &ReceiptInput,
) -> Result<String, OrdersError> {
    let receipt = receiving::receive(tx, ctx, env, order_id, input)?;
    let mut parts = Vec::new();
    for l in &receipt.lines {
        let unit = items::get(tx, l.item_id)?
            .map(|i| i.unit)
            .unwrap_or_default();
        if l.quantity > 0 {
            let mut p = format!("{} {unit} of {}", l.quantity, l.item_name);
            if !l.lot.is_empty() {
                p.push_str(&format!(", lot {}", l.lot));
            }
            parts.push(p);
        }
        if l.damaged > 0 {
            parts.push(format!("{} {unit} of {} damaged", l.damaged, l.item_name));
        }
    }
    let state = super::get(tx, order_id, env.today)?
        .map(|o| o.state.label().to_lowercase())
        .unwrap_or_default();
    Ok(format!(
        "Received {}; order is now {state}.",
        parts.join("; ")
    ))
}
