//! What an import found: every problem with its line and column, notices
//! (a category that will be created, a column that is ignored), and what
//! the import creates. Service functions report problems per field; here
//! those fields become the file's columns.

use serde::Serialize;

use super::kind::Kind;
use crate::catalog::CatalogError;
use crate::db::DbError;
use crate::stock::StockError;
use crate::validation::{FieldError, FieldErrors};

/// One problem (or notice) at a line and, usually, a column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// The line of the file where the row starts (the header is line 1
    /// unless blank lines come before it).
    pub line: u64,
    /// The column as stockroom names it (`gtin`, `price`); empty when the
    /// problem is about the whole row.
    pub column: String,
    pub message: String,
}

impl Problem {
    pub fn new(line: u64, column: &str, message: impl ToString) -> Problem {
        Problem {
            line,
            column: column.to_string(),
            message: message.to_string(),
        }
    }

    /// "line 7, column gtin".
    pub fn place(&self) -> String {
        if self.column.is_empty() {
            format!("line {}", self.line)
        } else {
            format!("line {}, column {}", self.line, self.column)
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place(), self.message)
    }
}

/// What an import creates (or, in a preview, would create).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Counts {
    /// Rows below the header, blank lines not counted.
    pub rows: u64,
    pub categories_created: u64,
    pub items_created: u64,
    /// GTINs given to items' stocking units.
    pub gtins_added: u64,
    pub packs_added: u64,
    pub targets_set: u64,
    pub suppliers_created: u64,
    pub supplier_items_created: u64,
    /// Opening stock lines received (one receipt movement each).
    pub stock_lines_received: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, o: &Counts) {
        self.rows += o.rows;
        self.categories_created += o.categories_created;
        self.items_created += o.items_created;
        self.gtins_added += o.gtins_added;
        self.packs_added += o.packs_added;
        self.targets_set += o.targets_set;
        self.suppliers_created += o.suppliers_created;
        self.supplier_items_created += o.supplier_items_created;
        self.stock_lines_received += o.stock_lines_received;
    }

    /// "12 items, 2 categories, 3 packs": what is not zero.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = [
            (self.items_created, "item", "items"),
            (self.categories_created, "category", "categories"),
            (self.gtins_added, "GTIN", "GTINs"),
            (self.packs_added, "pack", "packs"),
            (self.targets_set, "reorder point", "reorder points"),
            (self.suppliers_created, "supplier", "suppliers"),
            (
                self.supplier_items_created,
                "supplier item",
                "supplier items",
            ),
            (
                self.stock_lines_received,
                "opening stock line",
                "opening stock lines",
            ),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
        .collect();
        if parts.is_empty() {
            "nothing".into()
        } else {
            parts.join(", ")
        }
    }
}

/// One row of the file with what was found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowReport {
    pub line: u64,
    /// The row's cells in the order of [`Report::columns`].
    pub cells: Vec<String>,
    pub errors: Vec<Problem>,
    pub notices: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub kind: Kind,
    /// The kind's columns the file has.
    pub columns: Vec<&'static str>,
    pub rows: Vec<RowReport>,
    /// Problems with the file or its header rather than a row.
    pub file_errors: Vec<Problem>,
    pub file_notices: Vec<Problem>,
    pub counts: Counts,
}

impl Report {
    pub(crate) fn new(kind: Kind) -> Report {
        Report {
            kind,
            columns: Vec::new(),
            rows: Vec::new(),
            file_errors: Vec::new(),
            file_notices: Vec::new(),
            counts: Counts::default(),
        }
    }

    /// Every problem, in line order.
    pub fn errors(&self) -> Vec<&Problem> {
        let mut all: Vec<&Problem> = self.file_errors.iter().collect();
        all.extend(self.rows.iter().flat_map(|r| r.errors.iter()));
        all.sort_by_key(|p| p.line);
        all
    }

    /// Every notice, in line order.
    pub fn notices(&self) -> Vec<Problem> {
        let mut all = self.file_notices.clone();
        for r in &self.rows {
            all.extend(r.notices.iter().map(|n| Problem::new(r.line, "", n)));
        }
        all.sort_by_key(|p| p.line);
        all
    }

    pub fn is_clean(&self) -> bool {
        self.file_errors.is_empty() && self.rows.iter().all(|r| r.errors.is_empty())
    }

    /// The problems as the API's `details`: "line 7, column gtin" and the
    /// message.
    pub fn field_errors(&self) -> FieldErrors {
        FieldErrors(
            self.errors()
                .into_iter()
                .map(|p| FieldError {
                    field: p.place(),
                    message: p.message.clone(),
                })
                .collect(),
        )
    }
}

/// "3.4 MB".
pub fn human_size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        let mb = format!("{:.1}", bytes as f64 / (1024.0 * 1024.0));
        format!("{} MB", mb.strip_suffix(".0").unwrap_or(&mb))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// What one row produced while it was being imported.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// (column, message)
    pub errors: Vec<(String, String)>,
    pub notices: Vec<String>,
    pub counts: Counts,
}

impl Outcome {
    pub fn error(&mut self, column: &str, message: impl ToString) {
        self.errors.push((column.to_string(), message.to_string()));
    }

    /// Takes a service's field errors, naming fields by `map` (field →
    /// column). A column that already has a problem from reading its cell
    /// keeps only that one: "no supplier named X" says it all, "no such
    /// active supplier" would repeat it.
    pub fn absorb(&mut self, errors: FieldErrors, map: &[(&str, &str)]) {
        let before: Vec<String> = self.errors.iter().map(|(c, _)| c.clone()).collect();
        for e in errors.0 {
            let column = map
                .iter()
                .find(|(f, _)| *f == e.field)
                .map_or(e.field.as_str(), |(_, c)| c);
            if !before.iter().any(|c| c == column) {
                self.error(column, e.message);
            }
        }
    }

    /// A catalog service's answer: field errors become the row's problems,
    /// a refused database constraint the row's problem too; any other
    /// database failure stops the import.
    pub fn catalog<T>(
        &mut self,
        result: Result<T, CatalogError>,
        map: &[(&str, &str)],
    ) -> Result<Option<T>, DbError> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(CatalogError::Invalid(e)) => {
                self.absorb(e, map);
                Ok(None)
            }
            Err(CatalogError::Db(e)) => self.database(e),
            Err(other) => {
                self.error("", other);
                Ok(None)
            }
        }
    }

    /// As [`Outcome::catalog`], for the ledger.
    pub fn stock<T>(
        &mut self,
        result: Result<T, StockError>,
        map: &[(&str, &str)],
    ) -> Result<Option<T>, DbError> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(StockError::Invalid(e)) => {
                self.absorb(e, map);
                Ok(None)
            }
            Err(StockError::Db(e)) => self.database(e),
            Err(StockError::Refused(r)) => {
                self.absorb(FieldErrors::from_refusal(r), map);
                Ok(None)
            }
            Err(other @ StockError::Insufficient(_)) => {
                self.error("quantity", other);
                Ok(None)
            }
        }
    }

    fn database<T>(&mut self, e: DbError) -> Result<Option<T>, DbError> {
        match e {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(f, msg))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                self.error(
                    "",
                    format!(
                        "cannot be saved: {}",
                        msg.unwrap_or_else(|| "a database rule refused it".into())
                    ),
                );
                Ok(None)
            }
            other => Err(other),
        }
    }
}
