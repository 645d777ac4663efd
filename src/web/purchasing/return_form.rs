//! The return form as typed: numbered line rows read from the posted
//! pairs, and the service's field names turned into the form's.

use super::view::{AMOUNT_HINT, parse_id};
use crate::orders::forms::{self, is_line_field};
use crate::orders::returns::ReturnLineInput;
use crate::validation::{FieldErrors, capitalised};
use crate::web::suppliers::show::parse_price;

/// Empty line rows the return form offers (more when more were sent).
pub(super) const RETURN_ROWS: usize = 5;
/// The most line rows a return form may carry.
const MAX_RETURN_ROWS: usize = 50;

/// One line row of the return form as typed.
#[derive(Debug, Clone, Default)]
pub struct LineRow {
    pub(super) item: String,
    pub(super) location_id: String,
    pub(super) lot: String,
    pub(super) expiry: String,
    pub(super) quantity: String,
}

impl LineRow {
    pub(super) fn is_empty(&self) -> bool {
        [
            &self.item,
            &self.location_id,
            &self.lot,
            &self.expiry,
            &self.quantity,
        ]
        .iter()
        .all(|v| v.trim().is_empty())
    }
}

/// The return form as typed: its fields, and line rows named `item_0`,
/// `location_0`, `lot_0`, `expiry_0`, `quantity_0`, `item_1`, ...
#[derive(Debug, Clone, Default)]
pub struct ReturnForm {
    pub(super) supplier_id: String,
    pub(super) order_number: String,
    pub(super) reason: String,
    pub(super) note: String,
    pub(super) expected_credit: String,
    pub(super) lines: Vec<LineRow>,
}

impl ReturnForm {
    pub(super) fn from_pairs(pairs: Vec<(String, String)>) -> ReturnForm {
        let mut f = ReturnForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "supplier_id" => f.supplier_id = v,
                "order_number" => f.order_number = v,
                "reason" => f.reason = v,
                "note" => f.note = v,
                "expected_credit" => f.expected_credit = v,
                _ => {
                    let Some((name, n)) = k.rsplit_once('_') else {
                        continue;
                    };
                    let Ok(n) = n.parse::<usize>() else { continue };
                    if n >= MAX_RETURN_ROWS {
                        continue;
                    }
                    if f.lines.len() <= n {
                        f.lines.resize(n + 1, LineRow::default());
                    }
                    let row = &mut f.lines[n];
                    match name {
                        "item" => row.item = v,
                        "location" => row.location_id = v,
                        "lot" => row.lot = v,
                        "expiry" => row.expiry = v,
                        "quantity" => row.quantity = v,
                        _ => {}
                    }
                }
            }
        }
        f.padded()
    }

    /// At least [`RETURN_ROWS`] rows, and one empty row after those used.
    pub(super) fn padded(mut self) -> ReturnForm {
        while self.lines.last().is_some_and(LineRow::is_empty) && self.lines.len() > RETURN_ROWS {
            self.lines.pop();
        }
        let want = RETURN_ROWS.max(self.lines.len() + 1).min(MAX_RETURN_ROWS);
        self.lines.resize(want, LineRow::default());
        self
    }
}

impl ReturnForm {
    /// The service's input, the problems found reading the form, and the
    /// form row of each line sent (to name the service's `lines[k]`
    /// problems). Item codes are looked up by the service.
    pub(super) fn to_input(&self) -> (forms::ReturnForm, FieldErrors, Vec<usize>) {
        let form = self;
        let mut errors = FieldErrors::default();
        let supplier_id = match parse_id(&form.supplier_id) {
            Some(id) => id,
            None => {
                errors.add("supplier_id", "choose the supplier");
                0
            }
        };
        let expected_credit_minor = match form.expected_credit.trim() {
            "" => None,
            t => errors.check("expected_credit", parse_price(t).ok_or(AMOUNT_HINT)),
        };
        // Parsed lines (with the form row each came from); item codes are
        // looked up in the transaction.
        let mut lines: Vec<(usize, String, ReturnLineInput)> = Vec::new();
        for (row, l) in form.lines.iter().enumerate() {
            if l.is_empty() {
                continue;
            }
            if l.item.trim().is_empty() {
                errors.add(&format!("item_{row}"), "is required: the item's code");
            }
            let location_id = match parse_id(&l.location_id) {
                Some(id) => id,
                None => {
                    errors.add(&format!("location_{row}"), "choose a location");
                    0
                }
            };
            let quantity = errors
                .check(
                    &format!("quantity_{row}"),
                    l.quantity
                        .trim()
                        .parse::<i64>()
                        .map_err(|_| "must be a whole number of at least 1"),
                )
                .unwrap_or(0);
            lines.push((
                row,
                l.item.trim().to_string(),
                ReturnLineInput {
                    item_id: 0,
                    location_id,
                    lot: l.lot.trim().to_string(),
                    expiry: l.expiry.trim().to_string(),
                    quantity,
                },
            ));
        }
        let rows: Vec<usize> = lines.iter().map(|(row, _, _)| *row).collect();
        let input = forms::ReturnForm {
            supplier_id,
            order_number: form.order_number.trim().to_string(),
            reason: form.reason.clone(),
            note: form.note.clone(),
            expected_credit_minor,
            lines,
        };
        (input, errors, rows)
    }
}

/// Names a return's problem as the form shows it: `lines[k].quantity` of
/// the k-th sent line is `quantity_<row>`, labelled "Line <row+1> quantity".
pub(super) fn return_field(rows: &[usize], field: &str) -> (String, String) {
    if let Some(rest) = field.strip_prefix("lines[")
        && let Some((k, name)) = rest.split_once("].")
        && let Ok(k) = k.parse::<usize>()
    {
        let row = rows.get(k).copied().unwrap_or(k);
        return line_field(row, name);
    }
    if is_line_field(field)
        && let Some((name, n)) = field.rsplit_once('_')
        && let Ok(row) = n.parse::<usize>()
    {
        return line_field(row, name);
    }
    let (to, label) = match field {
        "supplier_id" => ("supplier_id", "Supplier"),
        "order_id" | "order_number" => ("order_number", "Order number"),
        "reason" => ("reason", "Reason"),
        "note" => ("note", "Note"),
        "expected_credit_minor" | "expected_credit" => ("expected_credit", "Expected credit"),
        "lines" => ("item_0", "Items"),
        other => (other, other),
    };
    (to.to_string(), capitalised(label))
}

fn line_field(row: usize, name: &str) -> (String, String) {
    let (id, label) = match name {
        "item" | "item_id" => ("item", "item code"),
        "location" | "location_id" => ("location", "location"),
        "lot" => ("lot", "lot"),
        "expiry" => ("expiry", "expiry"),
        "quantity" => ("quantity", "quantity"),
        other => (other, other),
    };
    (format!("{id}_{row}"), format!("Line {} {label}", row + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_rows_come_from_numbered_fields() {
        let pairs = vec![
            ("supplier_id".to_string(), "3".to_string()),
            ("item_0".into(), "LID-1".into()),
            ("quantity_0".into(), "2".into()),
            ("item_7".into(), "X".into()),
            ("item_99".into(), "ignored".into()),
            ("csrf_token".into(), "t".into()),
        ];
        let f = ReturnForm::from_pairs(pairs);
        assert_eq!(f.supplier_id, "3");
        assert_eq!(f.lines[0].item, "LID-1");
        assert_eq!(f.lines[0].quantity, "2");
        assert_eq!(f.lines[7].item, "X");
        assert_eq!(f.lines.len(), 9, "one empty row after the last used");
        assert_eq!(ReturnForm::default().padded().lines.len(), RETURN_ROWS);
    }

    #[test]
    fn service_fields_are_named_as_the_form_shows_them() {
        let rows = [1, 4];
        assert_eq!(
            return_field(&rows, "lines[1].quantity"),
            ("quantity_4".to_string(), "Line 5 quantity".to_string())
        );
        assert_eq!(
            return_field(&rows, "lines[0].location_id"),
            ("location_1".to_string(), "Line 2 location".to_string())
        );
        assert_eq!(return_field(&rows, "order_id").0, "order_number");
        assert_eq!(return_field(&rows, "item_3").1, "Line 4 item code");
    }
}
