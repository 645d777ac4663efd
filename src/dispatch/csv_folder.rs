//! The CSV-folder channel: the order as a CSV file (one row per line, the
//! supplier's choice of columns) written atomically into the supplier's
//! drop folder — a temporary file, synced, renamed to `<order number>.csv`,
//! the folder synced — so a supplier's sync tool never picks up half a file.
//! Sending the same order again writes the same file name.

use std::path::{Path, PathBuf};

use super::folder::Folder;

use serde::{Deserialize, Serialize};

use crate::jobs::worker::JobError;
use crate::orders::OrderDetail;
use crate::validation::FieldErrors;

/// Columns a supplier may ask for, in their order.
pub const COLUMNS: [&str; 14] = [
    "order_number",
    "order_date",
    "line",
    "supplier_code",
    "item_code",
    "description",
    "packs",
    "pack_size",
    "quantity",
    "unit",
    "unit_price",
    "line_total",
    "currency",
    "account_number",
];

pub const DEFAULT_COLUMNS: [&str; 8] = [
    "order_number",
    "line",
    "supplier_code",
    "description",
    "packs",
    "unit_price",
    "line_total",
    "currency",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = CsvFolderChannelSettings)]
pub struct Settings {
    /// The supplier's folder: a name inside `dispatch.folder_root`.
    pub folder: String,
    /// Columns, from [`COLUMNS`]; the default layout when empty.
    #[serde(default)]
    pub columns: Vec<String>,
}

impl Settings {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        let f = self.folder.trim();
        if f.is_empty()
            || f.len() > 64
            || f.starts_with('.')
            || !f
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            errors.add(
                "folder",
                "must be a folder name of 1 to 64 letters, digits, - _ . (not starting with a dot), inside the configured folder root",
            );
        }
        for c in &self.columns {
            if !COLUMNS.contains(&c.as_str()) {
                errors.add(
                    "columns",
                    format!("{c:?} is not one of {}", COLUMNS.join(", ")),
                );
            }
        }
        errors.into_result()
    }

    fn columns(&self) -> Vec<&str> {
        if self.columns.is_empty() {
            DEFAULT_COLUMNS.to_vec()
        } else {
            self.columns.iter().map(String::as_str).collect()
        }
    }
}

/// A folder that cannot be written (a share gone, a disk full): the target
/// is watched until it can.
fn transient(what: &str, path: &Path, e: std::io::Error) -> JobError {
    JobError::Unreachable(format!("{what} {}: {e}", path.display()))
}

use crate::domain::spreadsheet::guard;

/// The CSV text of an order.
pub fn render(settings: &Settings, detail: &OrderDetail, account: &str) -> Vec<u8> {
    let columns = settings.columns();
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record(&columns);
    let money = crate::domain::money::format_minor;
    let date = detail
        .order
        .submitted_at
        .as_deref()
        .unwrap_or(&detail.order.created_at)
        .get(..10)
        .unwrap_or_default()
        .to_string();
    for (i, l) in detail.lines.iter().enumerate() {
        let row: Vec<String> = columns
            .iter()
            .map(|c| match *c {
                "order_number" => detail.order.number.clone(),
                "order_date" => date.clone(),
                "line" => (i + 1).to_string(),
                // What people typed is guarded against spreadsheet
                // formulas, as in every export.
                "supplier_code" => guard(&l.supplier_code).into_owned(),
                "item_code" => guard(&l.item_code).into_owned(),
                "description" => guard(&l.item_name).into_owned(),
                "packs" => l.packs.to_string(),
                "pack_size" => l.pack_size.to_string(),
                "quantity" => l.quantity.to_string(),
                "unit" => guard(&l.unit).into_owned(),
                "unit_price" => money(l.unit_price_minor),
                "line_total" => money(l.line_total_minor),
                "currency" => detail.order.currency.clone(),
                "account_number" => guard(account).into_owned(),
                _ => String::new(),
            })
            .collect();
        let _ = out.write_record(&row);
    }
    out.into_inner().unwrap_or_default()
}

/// The CSV-folder adapter.
pub struct CsvFolder {
    pub root: PathBuf,
    pub settings: Settings,
}

impl super::Adapter for CsvFolder {
    fn deliver<'a>(
        &'a self,
        out: &'a super::Outgoing,
    ) -> super::BoxFuture<'a, Result<String, JobError>> {
        Box::pin(async move {
            let (root, settings, out) = (self.root.clone(), self.settings.clone(), out.clone());
            crate::db::run_blocking(move || {
                settings.validate().map_err(|e| {
                    JobError::Permanent(format!(
                        "the supplier's CSV folder settings are wrong: {e}"
                    ))
                })?;
                let dir = folder(&root, &settings.folder)?;
                let path = match (&out.purpose, &out.detail) {
                    (super::Purpose::Order, Some(detail)) => write_atomic(
                        &dir,
                        &format!("{}.csv", detail.order.number),
                        &render(&settings, detail, &out.supplier.account_number),
                    )?,
                    (super::Purpose::Cancel { reason }, Some(detail)) => write_atomic(
                        &dir,
                        &format!("{}.CANCELLED.txt", detail.order.number),
                        cancel_text(detail, reason).as_bytes(),
                    )?,
                    _ => {
                        // A test proves the folder is there and writable, and leaves nothing.
                        let path = write_atomic(&dir, ".stockroom-test", b"test")?;
                        dir.remove(".stockroom-test")
                            .map_err(|e| transient("cannot remove", &path, e))?;
                        return Ok(format!("{} is writable", dir.path().display()));
                    }
                };
                Ok(format!("written to {}", path.display()))
            })
            .await
        })
    }
}

fn cancel_text(detail: &OrderDetail, reason: &str) -> String {
    format!(
        "Purchase order {} is CANCELLED. Please do not deliver it.\nReason: {}\n",
        detail.order.number,
        if reason.is_empty() { "-" } else { reason }
    )
}

/// `<root>/<name>`, created when missing and opened by handle (see
/// [`super::folder`]); a missing root (a share not mounted) may pass: retry.
pub(crate) fn folder(root: &Path, name: &str) -> Result<Folder, JobError> {
    let root = open_root(root).map_err(JobError::Unreachable)?;
    root.sub(name.trim()).map_err(JobError::Permanent)
}

/// The folder root, or why not (a share not mounted: worth retrying).
pub(crate) fn open_root(root: &Path) -> Result<Folder, String> {
    Folder::root(root).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "the folder root {} is not there (is the share mounted?)",
            root.display()
        ),
        _ => format!("cannot open the folder root {}: {e}", root.display()),
    })
}

/// Writes `body` as `name` in `dir` atomically (see [`Folder::write_atomic`]).
pub(crate) fn write_atomic(dir: &Folder, name: &str, body: &[u8]) -> Result<PathBuf, JobError> {
    dir.write_atomic(name, body)
        .map_err(|e| transient("cannot write", &dir.path_of(name), e))
}
