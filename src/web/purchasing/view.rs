//! Pieces the purchasing pages share: a form's problems as the form names
//! them, how an instant and a chosen id are read, the supplier filter.

use serde::Deserialize;

use crate::domain::Timestamp;
use crate::validation::{FieldErrors, capitalised};

pub(super) const AMOUNT_HINT: &str = "must be an amount such as 12.50 or 12,50";

/// One problem with a form, named as the form labels the field.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The id of the input it belongs to (the summary links to it).
    pub field: String,
    pub label: String,
    pub message: String,
}

/// A form's problems, for the summary above it and the message beside each
/// field.
#[derive(Debug, Clone, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub(super) fn from_errors(
        errors: FieldErrors,
        name: impl Fn(&str) -> (String, String),
    ) -> Problems {
        let mut out: Vec<Problem> = Vec::new();
        for e in errors.0 {
            let (field, label) = name(&e.field);
            if out.iter().any(|p| p.field == field) {
                continue;
            }
            out.push(Problem {
                field,
                label,
                message: e.message,
            });
        }
        Problems(out)
    }

    pub fn get(&self, field: impl AsRef<str>) -> Option<&str> {
        self.0
            .iter()
            .find(|p| p.field == field.as_ref())
            .map(|p| p.message.as_str())
    }

    pub fn problem(&self, field: impl AsRef<str>) -> Option<&Problem> {
        self.0.iter().find(|p| p.field == field.as_ref())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// ` aria-invalid="true" aria-describedby="<field>-error"` for a field
    /// with a problem. Field ids are fixed identifiers.
    pub fn aria(&self, field: impl AsRef<str>) -> String {
        let field = field.as_ref();
        if self.get(field).is_some() {
            format!(r#" aria-invalid="true" aria-describedby="{field}-error""#)
        } else {
            String::new()
        }
    }
}

/// Labels from a fixed table; unknown fields read as themselves.
pub(super) fn labelled(
    table: &'static [(&'static str, &'static str, &'static str)],
) -> impl Fn(&str) -> (String, String) {
    move |f: &str| {
        table
            .iter()
            .find(|(from, _, _)| *from == f)
            .map(|(_, to, label)| (to.to_string(), label.to_string()))
            .unwrap_or_else(|| (f.to_string(), capitalised(&f.replace('_', " "))))
    }
}

pub(super) fn when(at: &str) -> String {
    Timestamp::parse(at).map_or_else(|_| at.to_string(), Timestamp::human)
}

/// `""` → none; a number → that id; anything else → none.
pub(super) fn parse_id(raw: &str) -> Option<i64> {
    raw.trim().parse().ok()
}

/// `?supplier_id=` as a select sends it: empty for all.
#[derive(Debug, Default, Deserialize)]
pub struct SupplierFilter {
    #[serde(default)]
    pub(super) supplier_id: String,
    /// Credits: `1` for open ones only.
    #[serde(default)]
    pub(super) open: String,
}
