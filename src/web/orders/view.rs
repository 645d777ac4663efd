//! Small pieces the order pages share: how an instant is shown, how an id
//! typed in a form is read, and the row and line views several pages
//! render. Kept apart so each page file holds only its own page.

use crate::domain::Timestamp;
use crate::orders::{self, Order};
use crate::validation::FieldErrors;
use crate::web::forms::money;

/// A stored instant as pages show it; the raw text if it does not parse.
pub(super) fn when(at: &str) -> String {
    Timestamp::parse(at).map_or_else(|_| at.to_string(), Timestamp::human)
}

/// An optional stored instant as pages show it; empty when absent.
pub(super) fn when_opt(at: &Option<String>) -> String {
    at.as_deref().map(when).unwrap_or_default()
}

/// A form field holding an id: `None` when empty, an error when not a number.
pub(super) fn parse_id(
    errors: &mut FieldErrors,
    field: &str,
    raw: &str,
    what: &str,
) -> Option<i64> {
    match raw.trim() {
        "" => None,
        t => errors.check(field, t.parse::<i64>().map_err(|_| what.to_string())),
    }
}

pub(super) struct OrderRow {
    pub(super) order: Order,
    pub(super) total: String,
}

impl OrderRow {
    pub(super) fn of(order: Order) -> Self {
        OrderRow {
            total: money(order.total_minor),
            order,
        }
    }
}

pub(super) struct LineView {
    pub(super) line: orders::OrderLine,
    pub(super) unit_price: String,
    pub(super) line_total: String,
}

impl LineView {
    pub(super) fn of(line: orders::OrderLine) -> Self {
        LineView {
            unit_price: money(line.unit_price_minor),
            line_total: money(line.line_total_minor),
            line,
        }
    }
}
