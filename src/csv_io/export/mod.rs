//! CSV exports: the catalog, stock on hand with its value, and the ledger
//! for a date range.
//!
//! Files are UTF-8 with a byte-order mark (so that Excel on Windows, opening
//! the file by a double click, reads it as UTF-8 rather than in the
//! system's code page; stockroom's own import skips the mark), `,`-separated with a decimal
//! point by default; [`Separator::Semicolon`] gives `;` with a decimal
//! comma for spreadsheets set to a decimal-comma locale. Every text cell
//! that a spreadsheet could take for a formula (starting with `=`, `+`,
//! `-`, `@`, a tab or a carriage return) is written with a leading
//! apostrophe; numbers stockroom formats itself are written as they are.
//! Stock figures cover only the locations the reader may use.

pub mod movements;

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;

use crate::catalog::items::Pack;
use crate::catalog::locations;
use crate::db::DbError;
use crate::domain::actor::Actor;
use crate::domain::barcode::Gtin;

/// How cells are separated, and with that the decimal mark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Separator {
    #[default]
    Comma,
    /// `;` with decimal commas, for spreadsheets in decimal-comma locales.
    Semicolon,
}

impl Separator {
    /// `comma` (the default when empty) or `semicolon`.
    pub fn parse(raw: &str) -> Result<Separator, String> {
        match raw.trim().to_lowercase().as_str() {
            "" | "comma" | "," => Ok(Separator::Comma),
            "semicolon" | ";" => Ok(Separator::Semicolon),
            _ => Err("must be comma or semicolon".into()),
        }
    }

    fn byte(self) -> u8 {
        match self {
            Separator::Comma => b',',
            Separator::Semicolon => b';',
        }
    }

    fn decimal_mark(self) -> char {
        match self {
            Separator::Comma => '.',
            Separator::Semicolon => ',',
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot write the CSV: {0}")]
    Write(String),
}

impl From<rusqlite::Error> for ExportError {
    fn from(e: rusqlite::Error) -> Self {
        ExportError::Db(DbError::Sqlite(e))
    }
}

impl From<csv::Error> for ExportError {
    fn from(e: csv::Error) -> Self {
        ExportError::Write(e.to_string())
    }
}

pub use crate::domain::spreadsheet::{guard, unguard};

/// UTF-8's byte-order mark, which tells Excel how the file is encoded.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes rows into memory; text goes through [`guard`], numbers do not.
pub(crate) struct Sheet {
    writer: csv::Writer<Vec<u8>>,
    separator: Separator,
}

impl Sheet {
    pub fn new(separator: Separator) -> Sheet {
        Sheet::starting_with(separator, Vec::new())
    }

    fn starting_with(separator: Separator, bytes: Vec<u8>) -> Sheet {
        Sheet {
            writer: csv::WriterBuilder::new()
                .delimiter(separator.byte())
                .terminator(csv::Terminator::CRLF)
                .from_writer(bytes),
            separator,
        }
    }

    /// The byte-order mark, then a header row (no guarding needed: the
    /// names are ours). Written once, first.
    pub fn header(&mut self, names: &[&str]) -> Result<(), ExportError> {
        self.writer
            .flush()
            .map_err(|e| ExportError::Write(e.to_string()))?;
        if self.writer.get_ref().is_empty() {
            *self = Sheet::starting_with(self.separator, BOM.to_vec());
        }
        self.writer.write_record(names)?;
        Ok(())
    }

    pub fn row(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        for c in cells {
            match c {
                Cell::Text(t) => self.writer.write_field(guard(t).as_bytes())?,
                Cell::Number(n) => self.writer.write_field(n)?,
            }
        }
        self.writer.write_record(None::<&[u8]>)?;
        Ok(())
    }

    /// `minor / 10^scale` with this sheet's decimal mark: `decimal(1250, 2)`
    /// is "12.50" (or "12,50").
    pub fn decimal(&self, value: i128, scale: u32) -> Cell<'static> {
        let sign = if value < 0 { "-" } else { "" };
        let unit = 10_i128.pow(scale);
        let (whole, frac) = (value.abs() / unit, value.abs() % unit);
        Cell::Number(if scale == 0 {
            format!("{sign}{whole}")
        } else {
            format!(
                "{sign}{whole}{}{frac:0width$}",
                self.separator.decimal_mark(),
                width = scale as usize
            )
        })
    }

    pub fn into_bytes(self) -> Result<Vec<u8>, ExportError> {
        self.writer
            .into_inner()
            .map_err(|e| ExportError::Write(e.to_string()))
    }
}

/// One cell to write.
pub(crate) enum Cell<'a> {
    /// Anything people typed: guarded against formulas.
    Text(&'a str),
    /// A number or date stockroom formatted: written as it is.
    Number(String),
}

fn yes_no(b: bool) -> Cell<'static> {
    Cell::Number(if b { "yes" } else { "no" }.into())
}

fn number(n: i64) -> Cell<'static> {
    Cell::Number(n.to_string())
}

/// `a × b / c` rounded half up (all non-negative in practice).
fn mul_div_round(a: i64, b: i64, c: i64) -> i128 {
    let (a, b, c) = (i128::from(a), i128::from(b), i128::from(c.max(1)));
    (2 * a * b + c) / (2 * c)
}

pub const ITEM_COLUMNS: &[&str] = &[
    "code",
    "name",
    "category",
    "unit",
    "lot_tracked",
    "expiry_tracked",
    "gtin",
    "pack_name",
    "pack_quantity",
    "pack_gtin",
    "other_packs",
    "notes",
    "active",
];

/// Every item (inactive ones too, marked), with category, unit, flags and
/// packs: the unit's GTIN and the first larger pack in the columns the
/// items import reads, any further packs described in `other_packs`.
pub fn items(conn: &Connection, separator: Separator) -> Result<Vec<u8>, ExportError> {
    let mut packs: HashMap<i64, Vec<Pack>> = HashMap::new();
    let mut stmt = conn.prepare(
        "SELECT id, item_id, name, quantity, gtin, hibcc FROM item_packs ORDER BY item_id, quantity, name",
    )?;
    for p in stmt.query_map([], |r| {
        Ok(Pack {
            id: r.get(0)?,
            item_id: r.get(1)?,
            name: r.get(2)?,
            quantity: r.get(3)?,
            gtin: r.get(4)?,
            hibcc: r.get(5)?,
        })
    })? {
        let p = p?;
        packs.entry(p.item_id).or_default().push(p);
    }
    let mut sheet = Sheet::new(separator);
    sheet.header(ITEM_COLUMNS)?;
    let mut stmt = conn.prepare(
        "SELECT i.id, i.code, i.name, coalesce(c.name, ''), i.unit, i.lot_tracked, i.expiry_tracked,
                i.notes, i.active
         FROM items i LEFT JOIN categories c ON c.id = i.category_id
         ORDER BY i.code COLLATE NOCASE",
    )?;
    let mut rows = stmt.query([])?;
    let show = |g: &Option<String>| {
        g.as_deref()
            .map(|g| Gtin::parse(g).map_or(g.to_string(), |g| g.display().to_string()))
            .unwrap_or_default()
    };
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let (code, name, category, unit): (String, String, String, String) =
            (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
        let notes: String = r.get(7)?;
        let mine = packs.remove(&id).unwrap_or_default();
        // The unit's GTIN: on a pack of one stocking unit.
        let unit_pack = mine
            .iter()
            .position(|p| p.quantity == 1 && p.gtin.is_some());
        let unit_gtin = unit_pack.map(|i| show(&mine[i].gtin)).unwrap_or_default();
        let mut rest: Vec<&Pack> = mine
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                Some(*i) != unit_pack && !(p.quantity == 1 && p.gtin.is_none() && p.hibcc.is_none())
            })
            .map(|(_, p)| p)
            .collect();
        // The import's pack columns take a GTIN only: a first pack known
        // by its HIBCC code alone goes to `other_packs`, where it is seen.
        let first = rest
            .first()
            .is_some_and(|p| p.hibcc.is_none() || p.gtin.is_some())
            .then(|| rest.remove(0));
        let others = rest
            .iter()
            .map(|p| {
                let mut codes = Vec::new();
                if p.gtin.is_some() {
                    codes.push(format!("GTIN {}", show(&p.gtin)));
                }
                if let Some(h) = &p.hibcc {
                    codes.push(format!(
                        "HIBCC {}",
                        crate::domain::barcode::hibcc::primary_label(h)
                    ));
                }
                match codes.is_empty() {
                    true => format!("{} = {}", p.name, p.quantity),
                    false => format!("{} = {} ({})", p.name, p.quantity, codes.join(", ")),
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        let pack_quantity = first.map(|p| p.quantity.to_string()).unwrap_or_default();
        let pack_gtin = first.map(|p| show(&p.gtin)).unwrap_or_default();
        sheet.row(&[
            Cell::Text(&code),
            Cell::Text(&name),
            Cell::Text(&category),
            Cell::Text(&unit),
            yes_no(r.get(5)?),
            yes_no(r.get(6)?),
            Cell::Number(unit_gtin),
            Cell::Text(first.map_or("", |p| p.name.as_str())),
            Cell::Number(pack_quantity),
            Cell::Number(pack_gtin),
            Cell::Text(&others),
            Cell::Text(&notes),
            yes_no(r.get(8)?),
        ])?;
    }
    sheet.into_bytes()
}

pub const STOCK_COLUMNS: &[&str] = &[
    "item_code",
    "item_name",
    "unit",
    "location",
    "lot",
    "expiry",
    "quantity",
    "quarantined",
    "currency",
    "unit_value",
    "total_value",
];

/// Stock on hand in the locations `user` may use, valued at the preferred
/// supplier item's price per stocking unit (price ÷ pack size): the unit
/// value to four decimals, the line's total rounded to the cent. Lines of
/// items without a preferred supplier item have empty value cells. No
/// total line: the file stays one row per stock line, for filters and sums.
pub fn stock(
    conn: &Connection,
    actor: &Actor,
    currency: &str,
    separator: Separator,
) -> Result<Vec<u8>, ExportError> {
    let paths: HashMap<i64, String> = locations::usable_with_paths(conn, actor)?
        .into_iter()
        .map(|(l, p)| (l.id, p))
        .collect();
    let allowed: HashSet<i64> = paths.keys().copied().collect();
    let mut stmt = conn.prepare(
        "SELECT i.code, i.name, i.unit, l.location_id, l.lot, l.expiry, l.quantity, l.quarantined,
                p.price_minor, p.pack_size
         FROM stock_levels l
         JOIN items i ON i.id = l.item_id
         LEFT JOIN supplier_items p ON p.id = (
             SELECT id FROM supplier_items
             WHERE item_id = l.item_id AND preferred = 1 AND active = 1 ORDER BY id LIMIT 1)
         WHERE l.quantity > 0",
    )?;
    type Line = (
        String,
        String,
        String,
        i64,
        String,
        String,
        i64,
        i64,
        Option<i64>,
        Option<i64>,
    );
    let mut lines: Vec<Line> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
            ))
        })?
        .filter(|l| l.as_ref().map_or(true, |l| allowed.contains(&l.3)))
        .collect::<Result<_, _>>()?;
    let path = |id: i64| paths.get(&id).map_or("", String::as_str);
    lines.sort_by(|a, b| {
        (a.0.to_lowercase(), path(a.3), &a.5, &a.4).cmp(&(
            b.0.to_lowercase(),
            path(b.3),
            &b.5,
            &b.4,
        ))
    });
    let mut sheet = Sheet::new(separator);
    sheet.header(STOCK_COLUMNS)?;
    for (code, name, unit, location, lot, expiry, quantity, quarantined, price, pack) in &lines {
        let (currency, unit_value, total) = match (price, pack) {
            (Some(price), Some(pack)) => (
                Cell::Text(currency),
                sheet.decimal(mul_div_round(*price, 100, *pack), 4),
                sheet.decimal(mul_div_round(*quantity, *price, *pack), 2),
            ),
            _ => (
                Cell::Text(""),
                Cell::Number(String::new()),
                Cell::Number(String::new()),
            ),
        };
        sheet.row(&[
            Cell::Text(code),
            Cell::Text(name),
            Cell::Text(unit),
            Cell::Text(path(*location)),
            Cell::Text(lot),
            Cell::Number(expiry.clone()),
            number(*quantity),
            number(*quarantined),
            currency,
            unit_value,
            total,
        ])?;
    }
    sheet.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_plain_text_is_not() {
        for bad in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"] {
            assert_eq!(guard(bad), format!("'{bad}"), "{bad:?}");
        }
        for fine in ["Gauze", "", "1+1", "a=b", "'quoted"] {
            assert_eq!(guard(fine), fine);
        }
    }

    #[test]
    fn decimals_use_the_separator_s_mark() {
        let comma = Sheet::new(Separator::Comma);
        let semi = Sheet::new(Separator::Semicolon);
        let text = |c: Cell| match c {
            Cell::Number(n) => n,
            Cell::Text(t) => t.to_string(),
        };
        assert_eq!(text(comma.decimal(1250, 2)), "12.50");
        assert_eq!(text(semi.decimal(1250, 2)), "12,50");
        assert_eq!(text(comma.decimal(1250, 4)), "0.1250");
        assert_eq!(text(comma.decimal(-5, 2)), "-0.05");
        assert_eq!(text(comma.decimal(7, 0)), "7");
    }

    #[test]
    fn values_round_half_up() {
        // 30 units of a 12.50 box of 100: 3.75.
        assert_eq!(mul_div_round(30, 1250, 100), 375);
        // 1 unit of a 10.00 box of 3: 3.333… → 3.33; 2 units: 6.67.
        assert_eq!(mul_div_round(1, 1000, 3), 333);
        assert_eq!(mul_div_round(2, 1000, 3), 667);
        assert_eq!(mul_div_round(1, 1, 2), 1);
    }

    #[test]
    fn separators_parse() {
        assert_eq!(Separator::parse(""), Ok(Separator::Comma));
        assert_eq!(Separator::parse("Semicolon"), Ok(Separator::Semicolon));
        assert!(Separator::parse("tab").is_err());
    }
}
