//! CSV import and export: how a practice brings years of spreadsheets in,
//! and takes its data out again.
//!
//! An import is the real thing, run inside one write transaction: every row
//! goes through the catalog and ledger service functions, so the rules live
//! in one place and every row is audited as if typed into a form. Each row
//! runs in a savepoint, so a refused row leaves nothing behind that could
//! confuse the rows after it, and every mistake in the file is reported at
//! once. A preview runs the import and rolls it back; a commit runs it again
//! on the same stored content and keeps it only when no row has a problem:
//! all or nothing. Reading is lenient about what spreadsheets produce (see
//! [`table`] and [`cells`]); exports are in [`export`].

mod catalog_rows;
pub mod cells;
pub mod export;
pub mod kind;
mod places;
pub mod report;
mod stock_rows;
pub mod store;
pub mod table;

use std::collections::HashMap;

use rusqlite::{Transaction, TransactionBehavior};
use serde_json::json;

use crate::audit::{self, Event};
use crate::catalog::items::{self, Item};
use crate::db::{Db, DbError, run_blocking};
use crate::domain::actor::Actor;
pub use kind::Kind;
use places::Places;
use report::Outcome;
pub use report::{Counts, Problem, Report, RowReport};
pub use store::StoredImport;
pub use table::{FileProblem, MAX_BYTES, MAX_ROWS};

/// Refused: a stored upload is imported once.
pub const ALREADY_COMMITTED: crate::domain::refusal::Code = crate::domain::refusal::Code::conflict(
    "import-already-committed",
    "This uploaded file was already imported; importing it again is refused.",
);
/// Every code import refuses with.
pub const REFUSALS: &[crate::domain::refusal::Code] = &[ALREADY_COMMITTED];

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("no such import")]
    NotFound,
    #[error("only the person who uploaded this file may import it")]
    NotYours,
    #[error("this file was already imported on {0}")]
    AlreadyCommitted(String),
    #[error("the file has {} problems", .0.errors().len())]
    Rejected(Box<Report>),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for ImportError {
    fn from(e: rusqlite::Error) -> Self {
        ImportError::Db(DbError::Sqlite(e))
    }
}

/// Checks uploaded bytes can be read as a CSV file at all and returns the
/// text to keep (byte-order mark removed).
pub fn prepare(bytes: &[u8]) -> Result<String, FileProblem> {
    let text = table::decode(bytes)?;
    table::parse(&text)?;
    Ok(text)
}

/// A row's cells by column name.
pub(crate) struct Cells<'a> {
    row: &'a table::Row,
    header: &'a kind::Header,
}

impl<'a> Cells<'a> {
    /// The cell of `column`, "" when the file has no such column.
    pub fn get(&self, column: &str) -> &'a str {
        self.header
            .index
            .get(column)
            .and_then(|i| self.row.cells.get(*i))
            .map_or("", String::as_str)
    }
}

/// What every row of one import shares.
pub(crate) struct Env<'a> {
    audit: &'a audit::Context,
    currency: &'a str,
    places: Option<Places>,
}

impl Env<'_> {
    /// The active item with this code, or the row's problem in `column`.
    fn item(
        &mut self,
        tx: &Transaction,
        out: &mut Outcome,
        column: &str,
        code: &str,
    ) -> Result<Option<Item>, DbError> {
        if let Some(item) = items::find_by_code(tx, code)? {
            return Ok(Some(item));
        }
        match catalog_rows::inactive_item(tx, code)? {
            Some(name) => out.error(column, format!("{name} ({code}) is inactive")),
            None => out.error(column, format!("no item has the code {code}")),
        }
        Ok(None)
    }

    fn item_id(
        &mut self,
        tx: &Transaction,
        out: &mut Outcome,
        column: &str,
        code: &str,
    ) -> Result<Option<i64>, DbError> {
        Ok(self.item(tx, out, column, code)?.map(|i| i.id))
    }

    /// The open location `raw` names and the importer may use, or the
    /// row's problem in `column`.
    fn location(
        &mut self,
        tx: &Transaction,
        out: &mut Outcome,
        column: &str,
        raw: &str,
    ) -> Result<Option<i64>, DbError> {
        if self.places.is_none() {
            self.places = Some(Places::load_for(tx, &self.audit.actor)?);
        }
        match self.places.as_ref().map(|p| p.resolve(raw)) {
            Some(Ok(id)) if self.audit.actor.may_use(id) => Ok(Some(id)),
            Some(Ok(_)) => {
                out.error(column, "you may not use this location");
                Ok(None)
            }
            Some(Err(e)) => {
                out.error(column, e);
                Ok(None)
            }
            None => Ok(None),
        }
    }
}

/// The column whose values must be unique within one file, if any.
fn unique_column(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Items => Some("code"),
        Kind::Suppliers => Some("name"),
        Kind::SupplierItems | Kind::OpeningStock => None,
    }
}

/// Values repeated within the file: both lines are told about the other.
fn repeats(kind: Kind, rows: &[table::Row], header: &kind::Header) -> HashMap<u64, Vec<String>> {
    let mut found: HashMap<u64, Vec<String>> = HashMap::new();
    let Some(column) = unique_column(kind) else {
        return found;
    };
    let mut first: HashMap<String, (u64, &str)> = HashMap::new();
    for row in rows {
        let value = Cells { row, header }.get(column);
        if value.is_empty() {
            continue;
        }
        match first.get(&value.to_lowercase()) {
            Some(&(earlier, spelled)) => {
                found
                    .entry(earlier)
                    .or_default()
                    .push(format!("{spelled} appears again on line {}", row.line));
                found
                    .entry(row.line)
                    .or_default()
                    .push(format!("{value} already appears on line {earlier}"));
            }
            None => {
                first.insert(value.to_lowercase(), (row.line, value));
            }
        }
    }
    found
}

/// Runs an import of `content` in `tx` and reports every row. Rows with
/// problems leave nothing behind; the caller commits only a clean report.
pub fn run(
    tx: &Transaction,
    ctx: &audit::Context,
    kind: Kind,
    content: &str,
    currency: &str,
) -> Result<Report, DbError> {
    let mut report = Report::new(kind);
    let table = match table::parse(content) {
        Ok(t) => t,
        Err(e) => {
            report
                .file_errors
                .push(Problem::new(1, "", format!("The file {e}")));
            return Ok(report);
        }
    };
    let (header, errors, notices) = kind::match_header(kind, &table.columns, table.header_line);
    report.columns = header.present.clone();
    report.file_errors = errors;
    report.file_notices = notices;
    report.counts.rows = table.rows.len() as u64;
    if !report.file_errors.is_empty() {
        return Ok(report);
    }
    let mut repeated = repeats(kind, &table.rows, &header);
    let mut env = Env {
        audit: ctx,
        currency,
        places: None,
    };
    for row in &table.rows {
        let cells = Cells {
            row,
            header: &header,
        };
        let mut out = Outcome::default();
        if row.cells[table.columns.len().min(row.cells.len())..]
            .iter()
            .any(|c| !c.is_empty())
        {
            out.error(
                "",
                format!(
                    "has {} cells but the header has {}: check the separator, or put cells that contain it in quotes",
                    row.cells.len(),
                    table.columns.len()
                ),
            );
        }
        if let (Some(column), Some(messages)) = (unique_column(kind), repeated.remove(&row.line)) {
            for m in messages {
                out.error(column, m);
            }
        }
        tx.execute_batch("SAVEPOINT import_row")?;
        match kind {
            Kind::Items => catalog_rows::item(tx, &mut env, &cells, &mut out)?,
            Kind::Suppliers => catalog_rows::supplier(tx, &mut env, &cells, &mut out)?,
            Kind::SupplierItems => catalog_rows::supplier_item(tx, &mut env, &cells, &mut out)?,
            Kind::OpeningStock => stock_rows::opening(tx, &mut env, &cells, &mut out)?,
        }
        if out.errors.is_empty() {
            tx.execute_batch("RELEASE import_row")?;
            report.counts.add(&out.counts);
        } else {
            tx.execute_batch("ROLLBACK TO import_row; RELEASE import_row")?;
        }
        report.rows.push(RowReport {
            line: row.line,
            cells: header
                .present
                .iter()
                .map(|c| cells.get(c).to_string())
                .collect(),
            errors: out
                .errors
                .into_iter()
                .map(|(column, message)| Problem::new(row.line, &column, message))
                .collect(),
            notices: out.notices,
        });
    }
    Ok(report)
}

/// The import of a stored upload, for its preview: run and rolled back.
/// `None` for an upload already committed (there is nothing to check).
pub async fn preview(
    db: &Db,
    ctx: audit::Context,
    id: i64,
    currency: String,
) -> Result<(StoredImport, Option<Report>), ImportError> {
    let db = db.clone();
    run_blocking(move || {
        let mut conn = db.writer()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(DbError::from)?;
        let stored = owned(&tx, id, &ctx.actor)?;
        if stored.committed_at.is_some() {
            return Ok((stored, None));
        }
        let report = run(&tx, &ctx, stored.kind, &stored.content, &currency)?;
        tx.rollback().map_err(DbError::from)?;
        Ok((stored, Some(report)))
    })
    .await
}

/// The import of `content` without a stored upload (the API's dry run):
/// run and rolled back.
pub async fn check(
    db: &Db,
    ctx: audit::Context,
    kind: Kind,
    content: String,
    currency: String,
) -> Result<Report, ImportError> {
    let db = db.clone();
    run_blocking(move || {
        let mut conn = db.writer()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(DbError::from)?;
        let report = run(&tx, &ctx, kind, &content, &currency)?;
        tx.rollback().map_err(DbError::from)?;
        Ok(report)
    })
    .await
}

fn owned(tx: &Transaction, id: i64, actor: &Actor) -> Result<StoredImport, ImportError> {
    let stored = store::get(tx, id)?.ok_or(ImportError::NotFound)?;
    if actor.user_id() != Some(stored.user_id) {
        return Err(ImportError::NotYours);
    }
    Ok(stored)
}

/// Imports a stored upload: checked again on its stored content, all rows
/// or none, once, and only by the person who uploaded it.
pub async fn commit(
    db: &Db,
    ctx: audit::Context,
    id: i64,
    currency: String,
) -> Result<(StoredImport, Report), ImportError> {
    db.write(move |tx| {
        let stored = owned(tx, id, &ctx.actor)?;
        if let Some(at) = &stored.committed_at {
            return Err(ImportError::AlreadyCommitted(at.clone()));
        }
        let report = finish(tx, &ctx, &stored, &currency)?;
        Ok((stored, report))
    })
    .await
}

/// Imports `content` in one step (the API's `commit=true`), keeping it as
/// a committed upload so that the audit trail can point at the file.
pub async fn commit_content(
    db: &Db,
    ctx: audit::Context,
    kind: Kind,
    file_name: String,
    content: String,
    currency: String,
) -> Result<(i64, Report), ImportError> {
    db.write(move |tx| {
        // Uploads belong to a person; only signed-in people reach here.
        let user_id = ctx.actor.user_id().ok_or(ImportError::NotYours)?;
        let id = store::create(tx, user_id, kind, &file_name, &content, ctx.at)?;
        let stored = store::get(tx, id)?.ok_or(ImportError::NotFound)?;
        let report = finish(tx, &ctx, &stored, &currency)?;
        Ok((id, report))
    })
    .await
}

/// Runs the import, refuses it on any problem (the caller's transaction
/// then rolls everything back), marks it committed and audits it.
fn finish(
    tx: &Transaction,
    ctx: &audit::Context,
    stored: &StoredImport,
    currency: &str,
) -> Result<Report, ImportError> {
    let report = run(tx, ctx, stored.kind, &stored.content, currency)?;
    if !report.is_clean() {
        return Err(ImportError::Rejected(Box::new(report)));
    }
    if !store::mark_committed(tx, stored.id, ctx.at)? {
        return Err(ImportError::AlreadyCommitted(ctx.at.to_db()));
    }
    audit::record(
        tx,
        ctx,
        Event::new("import.commit", "import", stored.id).after(json!({
            "kind": stored.kind,
            "file_name": stored.file_name,
            "counts": report.counts,
        })),
    )?;
    Ok(report)
}

#[cfg(test)]
mod tests;
