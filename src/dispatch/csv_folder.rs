//! The CSV-folder channel: the order as a CSV file (one row per line, the
//! supplier's choice of columns) written atomically into the supplier's
//! drop folder — a temporary file, synced, renamed to `<order number>.csv`,
//! the folder synced — so a supplier's sync tool never picks up half a file.
//! Sending the same order again writes the same file name.

use std::io::Write;
use std::path::{Path, PathBuf};

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

fn transient(what: &str, path: &Path, e: std::io::Error) -> JobError {
    JobError::Retry(format!("{what} {}: {e}", path.display()))
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
                        std::fs::remove_file(&path)
                            .map_err(|e| transient("cannot remove", &path, e))?;
                        return Ok(format!("{} is writable", dir.display()));
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

/// `<root>/<name>`, created when missing; a missing root (a share not
/// mounted) may pass: retry.
pub(crate) fn folder(root: &Path, name: &str) -> Result<PathBuf, JobError> {
    if !root.is_dir() {
        return Err(JobError::Retry(format!(
            "the folder root {} is not there (is the share mounted?)",
            root.display()
        )));
    }
    let dir = root.join(name.trim());
    subfolder(&dir).map_err(JobError::Permanent)?;
    Ok(dir)
}

/// Makes sure `dir` is a real folder, creating it (one level) when it is
/// not there. A symbolic link is refused, whatever it points at: whoever
/// can write into a supplier's folder could otherwise send stockroom's
/// files (or the files it moves) anywhere, the data directory included.
pub(crate) fn subfolder(dir: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => Err(format!(
            "{} is a symbolic link: stockroom does not follow links in supplier folders; replace it with a real folder",
            dir.display()
        )),
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(format!("{} is a file, not a folder", dir.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match std::fs::create_dir(dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => subfolder(dir),
            Err(e) => Err(format!("cannot create {}: {e}", dir.display())),
        },
        Err(e) => Err(format!("cannot look at {}: {e}", dir.display())),
    }
}

/// Opens a file for reading without following a symbolic link.
pub(crate) fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NOFOLLOW)
        .open(path)
}

/// Linux's `O_NOFOLLOW`: opening a symbolic link fails (ELOOP).
const O_NOFOLLOW: i32 = 0o400_000;

/// Writes `body` as `<dir>/<name>` so that no reader sees half a file: a
/// hidden temporary file, synced, renamed, the folder synced.
pub(crate) fn write_atomic(dir: &Path, name: &str, body: &[u8]) -> Result<PathBuf, JobError> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(name);
    // A new file only: a link planted under the temporary name is refused,
    // not written through.
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| transient("cannot create", &tmp, e))?;
    file.write_all(body)
        .and_then(|_| file.sync_all())
        .map_err(|e| transient("cannot write", &tmp, e))?;
    drop(file);
    std::fs::rename(&tmp, &path).map_err(|e| transient("cannot rename into", &path, e))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| transient("cannot sync", dir, e))?;
    Ok(path)
}
