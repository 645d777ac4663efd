//! What the receive screen shows besides the form: the order's lines, the
//! pack codes their items are scanned by, the locations, the lots ship
//! notices announced; and how a scan or a ship notice fills the rows.

use std::collections::HashMap;

use super::receive_form::{ReceiveForm, RowForm};
use crate::catalog::locations::Location;
use crate::dispatch::inbox::ExpectedLot;
use crate::dispatch::views::ReceivingView;
use crate::domain::barcode::{self, PackCode};
use crate::orders::{Order, OrderLine};

/// What the page needs besides the form: the order, its lines, the codes
/// their items are scanned by, where goods may go, what may substitute.
pub(super) struct Context {
    pub(super) order: Order,
    pub(super) lines: Vec<OrderLine>,
    /// Per item: (GTIN or HIBCC code, units in that pack).
    pub(super) packs: HashMap<i64, Vec<(String, i64)>>,
    pub(super) locations: Vec<Location>,
    /// Lots ship notices announced and no receipt has taken in yet.
    pub(super) expected: Vec<ExpectedLot>,
    /// Lines the ship notices say shipped more of than was ordered.
    pub(super) over_shipped: Vec<String>,
}

impl From<ReceivingView> for Context {
    fn from(v: ReceivingView) -> Context {
        Context {
            order: v.order,
            lines: v.lines,
            packs: v.packs,
            locations: v.locations,
            expected: v.expected,
            over_shipped: v.over_shipped,
        }
    }
}

impl Context {
    pub(super) fn line(&self, id: i64) -> Option<&OrderLine> {
        self.lines.iter().find(|l| l.id == id)
    }

    /// The posted rows that name a line of this order, grouped by line in
    /// the order's order, plus a fresh row for every open line not posted.
    pub(super) fn normalise(&self, rows: Vec<RowForm>) -> Vec<RowForm> {
        let mut out = Vec::new();
        for line in &self.lines {
            let mine: Vec<RowForm> = rows
                .iter()
                .filter(|r| r.line_id == line.id)
                .cloned()
                .collect();
            if mine.is_empty() {
                if line.outstanding > 0 {
                    out.push(RowForm::for_line(line));
                }
            } else {
                out.extend(mine);
            }
        }
        out
    }

    /// The rows of the empty form: per open line, one row for each lot a
    /// ship notice announced and no receipt has taken in (its lot and
    /// expiry filled in, as far as the item is tracked by them), else one
    /// empty row.
    pub(super) fn prefilled(&self) -> Vec<RowForm> {
        let mut out = Vec::new();
        for line in self.lines.iter().filter(|l| l.outstanding > 0) {
            let rows: Vec<RowForm> = self
                .expected
                .iter()
                .filter(|e| e.order_line_id == line.id)
                .map(|e| {
                    let lot = if line.lot_tracked {
                        e.lot.clone()
                    } else {
                        String::new()
                    };
                    let expiry = if line.expiry_tracked {
                        e.expiry.clone()
                    } else {
                        String::new()
                    };
                    RowForm {
                        lot: lot.clone(),
                        expiry: expiry.clone(),
                        prefilled_lot: lot,
                        prefilled_expiry: expiry,
                        ..RowForm::for_line(line)
                    }
                })
                .filter(|r| !r.lot.is_empty() || !r.expiry.is_empty())
                .collect();
            if rows.is_empty() {
                out.push(RowForm::for_line(line));
            } else {
                out.extend(rows);
            }
        }
        out
    }

    /// What the ship notice said of a row it filled in.
    pub(super) fn shipped(&self, row: &RowForm) -> Option<String> {
        if row.prefilled_lot.is_empty() && row.prefilled_expiry.is_empty() {
            return None;
        }
        let filled = |wanted: &str, announced: &str| wanted.is_empty() || wanted == announced;
        let e = self.expected.iter().find(|e| {
            e.order_line_id == row.line_id
                && filled(&row.prefilled_lot, &e.lot)
                && filled(&row.prefilled_expiry, &e.expiry)
        })?;
        // The supplier counts in what the order was sent in: packs, or
        // units when a pack holds one.
        let shipped = match self.line(row.line_id) {
            Some(l) if l.pack_size > 1 => {
                format!("{} × pack of {} {}", e.quantity, l.pack_size, l.unit)
            }
            Some(l) => format!("{} {}", e.quantity, l.unit),
            None => e.quantity.to_string(),
        };
        let mut said = format!("Ship notice {}: {shipped} shipped", e.shipment_id);
        if !e.lot.is_empty() {
            said.push_str(&format!(", lot {}", e.lot));
        }
        if !e.expiry.is_empty() {
            said.push_str(&format!(", expiry {}", e.expiry));
        }
        Some(said)
    }
}

/// Applies a scan to the rows: the open line whose item has the scanned
/// pack gets its lot, expiry and the pack's units. A lot that differs from
/// one already typed on that line gets a row of its own.
pub(super) fn apply_scan(c: &Context, form: &mut ReceiveForm, year: i32) -> Result<String, String> {
    let code = form.code.trim().to_string();
    if code.is_empty() {
        return Err(
            "is empty: scan a barcode, or press “Receive goods” to record the delivery".into(),
        );
    }
    let scan = barcode::parse(&code, year).map_err(|e| e.to_string())?;
    let Some(pack_code) = PackCode::of(&scan) else {
        return Err("carries no product code (GTIN); fill the row by hand".into());
    };
    let wanted = pack_code.display().to_string();
    let found = c.packs.iter().find_map(|(item, codes)| {
        codes
            .iter()
            .find(|(code, _)| match &pack_code {
                PackCode::Gtin(g) => code == g.as_str(),
                PackCode::Hibcc(h) => code == h.as_str(),
            })
            .map(|(_, units)| (*item, *units))
    });
    let Some((item_id, units)) = found else {
        return Err(format!("is {wanted}, which is not an item on this order"));
    };
    let Some(line) = c
        .lines
        .iter()
        .find(|l| l.item_id == item_id && l.outstanding > 0)
        .or_else(|| c.lines.iter().find(|l| l.item_id == item_id))
    else {
        return Err(format!("is {wanted}, which is not an item on this order"));
    };
    let lot = scan.lot.clone().unwrap_or_default();
    let expiry = scan.expiry.map(|d| d.to_string()).unwrap_or_default();
    let same_line: Vec<usize> = form
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.line_id == line.id)
        .map(|(i, _)| i)
        .collect();
    // The row of the same lot, else a row without a lot yet, else a new one.
    let target = same_line
        .iter()
        .copied()
        .find(|&i| !lot.is_empty() && form.rows[i].lot.trim().eq_ignore_ascii_case(&lot))
        .or_else(|| {
            same_line
                .iter()
                .copied()
                .find(|&i| form.rows[i].lot.trim().is_empty() || lot.is_empty())
        });
    let i = match target {
        Some(i) => i,
        None => {
            let at = same_line.last().map_or(form.rows.len(), |i| i + 1);
            form.rows.insert(at, RowForm::for_line(line));
            at
        }
    };
    let row = &mut form.rows[i];
    let had: i64 = match row.quantity.trim() {
        "" => 0,
        t => t
            .parse()
            .map_err(|_| "cannot be added: the row's quantity is not a whole number".to_string())?,
    };
    row.quantity = (had + units).to_string();
    if !lot.is_empty() {
        row.lot = lot.clone();
    }
    if !expiry.is_empty() {
        row.expiry = expiry.clone();
    }
    let mut said = format!("{}: +{units} {}", line.item_name, line.unit);
    if !lot.is_empty() {
        said.push_str(&format!(", lot {lot}"));
    }
    if !expiry.is_empty() {
        said.push_str(&format!(", expiry {expiry}"));
    }
    Ok(said)
}
