//! The receive form as typed: rows `r<N>_<field>` read from the posted
//! pairs, turned into the receipt the service takes, and the service's
//! problems turned back into the rows' names.

use std::collections::HashMap;

use crate::orders::OrderLine;
use crate::orders::receiving::{ReceiptInput, ReceiptLineInput};
use crate::validation::FieldErrors;

/// One row of the form as typed: an order line and what came of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowForm {
    pub line_id: i64,
    pub quantity: String,
    pub damaged: String,
    pub lot: String,
    pub expiry: String,
    pub location_id: String,
    pub substitute_item_id: String,
    /// The lot and expiry a ship notice filled in, so that a row left as
    /// filled counts as empty.
    pub prefilled_lot: String,
    pub prefilled_expiry: String,
}

impl RowForm {
    pub(super) fn for_line(line: &OrderLine) -> RowForm {
        RowForm {
            line_id: line.id,
            location_id: line.location_id.to_string(),
            ..RowForm::default()
        }
    }

    /// Nothing typed that would be received (location and substitute
    /// choices alone do not count, nor a lot and expiry left as a ship
    /// notice filled them in).
    pub(super) fn is_empty(&self) -> bool {
        let untouched =
            |typed: &str, filled: &str| typed.trim().is_empty() || typed.trim() == filled.trim();
        [&self.quantity, &self.damaged]
            .iter()
            .all(|v| v.trim().is_empty())
            && untouched(&self.lot, &self.prefilled_lot)
            && untouched(&self.expiry, &self.prefilled_expiry)
    }
}

/// The whole form as typed.
#[derive(Debug, Clone, Default)]
pub struct ReceiveForm {
    pub code: String,
    pub delivery_note: String,
    pub note: String,
    pub confirm_over_delivery: bool,
    pub rows: Vec<RowForm>,
    /// `scan` (the Look up button, and Enter in the scan box) or `receive`.
    pub action: String,
    /// "Add another lot" for this order line.
    pub add_lot: Option<i64>,
}

impl ReceiveForm {
    /// Reads `r<N>_<field>` row fields and the rest from the posted pairs.
    pub(super) fn parse(pairs: &[(String, String)]) -> ReceiveForm {
        let mut form = ReceiveForm::default();
        let mut rows: Vec<(usize, RowForm)> = Vec::new();
        for (key, value) in pairs {
            match key.as_str() {
                "code" => form.code = value.clone(),
                "delivery_note" => form.delivery_note = value.clone(),
                "note" => form.note = value.clone(),
                "confirm_over_delivery" => form.confirm_over_delivery = !value.is_empty(),
                "action" => form.action = value.clone(),
                "add_lot" => form.add_lot = value.trim().parse().ok(),
                other => {
                    let Some((n, field)) = other
                        .strip_prefix('r')
                        .and_then(|rest| rest.split_once('_'))
                        .and_then(|(n, f)| Some((n.parse::<usize>().ok()?, f)))
                    else {
                        continue;
                    };
                    if n > 500 {
                        continue;
                    }
                    let pos = match rows.iter().position(|(i, _)| *i == n) {
                        Some(p) => p,
                        None => {
                            rows.push((n, RowForm::default()));
                            rows.len() - 1
                        }
                    };
                    let row = &mut rows[pos].1;
                    match field {
                        "line" => row.line_id = value.trim().parse().unwrap_or(0),
                        "quantity" => row.quantity = value.clone(),
                        "damaged" => row.damaged = value.clone(),
                        "lot" => row.lot = value.clone(),
                        "expiry" => row.expiry = value.clone(),
                        "location" => row.location_id = value.clone(),
                        "substitute" => row.substitute_item_id = value.clone(),
                        "prefilled_lot" => row.prefilled_lot = value.clone(),
                        "prefilled_expiry" => row.prefilled_expiry = value.clone(),
                        _ => {}
                    }
                }
            }
        }
        rows.sort_by_key(|(i, _)| *i);
        form.rows = rows.into_iter().map(|(_, r)| r).collect();
        form
    }
}

/// Field names the service uses, mapped to the form's.
fn form_field(service: &str) -> &'static str {
    match service {
        "quantity" | "order_line_id" => "quantity",
        "damaged" => "damaged",
        "lot" => "lot",
        "expiry" => "expiry",
        "location_id" => "location",
        "substitute_item_id" => "substitute",
        _ => "quantity",
    }
}

/// Turns the typed rows into the service's input; `map[i]` is the row of
/// input line `i`.
pub(super) fn to_input(
    form: &ReceiveForm,
    substitutes: &HashMap<usize, i64>,
    errors: &mut FieldErrors,
) -> (ReceiptInput, Vec<usize>) {
    let mut lines = Vec::new();
    let mut map = Vec::new();
    for (n, r) in form.rows.iter().enumerate() {
        if r.is_empty() {
            continue;
        }
        let mut number = |field: &str, text: &str| -> i64 {
            match text.trim() {
                "" => 0,
                t => match t.parse::<i64>() {
                    Ok(v) if v >= 0 => v,
                    _ => {
                        errors.add(
                            &format!("r{n}_{field}"),
                            "must be a whole number, 0 or more",
                        );
                        0
                    }
                },
            }
        };
        let quantity = number("quantity", &r.quantity);
        let damaged = number("damaged", &r.damaged);
        let opt_id = |text: &str| text.trim().parse::<i64>().ok();
        let substitute = substitutes.get(&n).copied();
        lines.push(ReceiptLineInput {
            order_line_id: r.line_id,
            quantity,
            damaged,
            lot: r.lot.trim().to_string(),
            expiry: r.expiry.trim().to_string(),
            location_id: opt_id(&r.location_id),
            substitute_item_id: substitute,
        });
        map.push(n);
    }
    let input = ReceiptInput {
        delivery_note: form.delivery_note.trim().to_string(),
        note: form.note.trim().to_string(),
        confirm_over_delivery: form.confirm_over_delivery,
        lines,
    };
    (input, map)
}

/// The service's `lines[i].field` errors as the form's `r<N>_<field>`.
pub(super) fn map_errors(service: FieldErrors, map: &[usize]) -> FieldErrors {
    let mut out = FieldErrors::default();
    for e in service.0 {
        let row = e
            .field
            .strip_prefix("lines[")
            .and_then(|rest| rest.split_once("]."))
            .and_then(|(i, f)| Some((map.get(i.parse::<usize>().ok()?)?, f)));
        match row {
            Some((n, f)) => out.add(&format!("r{n}_{}", form_field(f)), e.message),
            None => out.add(&e.field, e.message),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_in_their_order_and_unknown_fields_ignored() {
        let pairs: Vec<(String, String)> = [
            ("r1_line", "7"),
            ("r0_line", "5"),
            ("r0_quantity", "3"),
            ("r1_lot", "B"),
            ("code", "x"),
            ("confirm_over_delivery", "1"),
            ("rx_quantity", "9"),
            ("csrf_token", "t"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let f = ReceiveForm::parse(&pairs);
        assert_eq!(f.rows.len(), 2);
        assert_eq!((f.rows[0].line_id, f.rows[0].quantity.as_str()), (5, "3"));
        assert_eq!((f.rows[1].line_id, f.rows[1].lot.as_str()), (7, "B"));
        assert!(f.confirm_over_delivery);
        assert_eq!(f.code, "x");
    }

    #[test]
    fn service_errors_land_on_the_rows_they_came_from() {
        let mut e = FieldErrors::default();
        e.add("lines[1].lot", "is required");
        e.add("lines[0].order_line_id", "is not a line");
        e.add("delivery_note", "too long");
        let out = map_errors(e, &[2, 4]);
        assert_eq!(out.get("r4_lot"), Some("is required"));
        assert_eq!(out.get("r2_quantity"), Some("is not a line"));
        assert_eq!(out.get("delivery_note"), Some("too long"));
    }
}
