//! Uploaded files kept between the preview and the commit (`imports`).
//! The content is stored as decoded text, so the commit validates exactly
//! what the preview showed. Uploads never committed are dropped after a
//! week; committed ones stay as the record of what was imported.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::kind::Kind;
use crate::db::Cached;
use crate::domain::Timestamp;

/// How long an upload waits for its commit.
pub const KEEP_UNCOMMITTED_DAYS: u64 = 7;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImport {
    pub id: i64,
    pub user_id: i64,
    pub kind: Kind,
    pub file_name: String,
    pub content: String,
    pub created_at: String,
    pub committed_at: Option<String>,
}

/// An upload without its content, for lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub id: i64,
    pub kind: Kind,
    pub file_name: String,
    pub created_at: String,
    pub committed_at: Option<String>,
}

fn kind(raw: String) -> rusqlite::Result<Kind> {
    Kind::parse(&raw).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            1,
            rusqlite::types::Type::Text,
            format!("unknown import kind {raw}").into(),
        )
    })
}

/// A name that is safe to show and store: the last path part, printable,
/// at most 200 characters.
pub fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let name: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let name = name.trim();
    if name.is_empty() {
        "pasted.csv".into()
    } else {
        name.to_string()
    }
}

/// Keeps an upload; returns its id. Old uncommitted uploads go first.
pub fn create(
    tx: &Transaction,
    user_id: i64,
    kind: Kind,
    file_name: &str,
    content: &str,
    at: Timestamp,
) -> rusqlite::Result<i64> {
    let cutoff = at.minus(std::time::Duration::from_secs(
        KEEP_UNCOMMITTED_DAYS * 24 * 3600,
    ));
    tx.execute(
        "DELETE FROM imports WHERE committed_at IS NULL AND created_at < ?1",
        [cutoff.to_db()],
    )?;
    tx.execute(
        "INSERT INTO imports (user_id, kind, file_name, content, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![user_id, kind.as_str(), clean_file_name(file_name), content, at.to_db()],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<StoredImport>> {
    conn.row_cached(
        "SELECT id, user_id, kind, file_name, content, created_at, committed_at FROM imports WHERE id = ?1",
        [id],
        |r| {
            Ok(StoredImport {
                id: r.get(0)?,
                user_id: r.get(1)?,
                kind: kind(r.get(2)?)?,
                file_name: r.get(3)?,
                content: r.get(4)?,
                created_at: r.get(5)?,
                committed_at: r.get(6)?,
            })
        },
    )
    .optional()
}

/// Marks an upload committed; false when it already was.
pub fn mark_committed(tx: &Transaction, id: i64, at: Timestamp) -> rusqlite::Result<bool> {
    let n = tx.execute(
        "UPDATE imports SET committed_at = ?1 WHERE id = ?2 AND committed_at IS NULL",
        params![at.to_db(), id],
    )?;
    Ok(n == 1)
}

/// A user's latest uploads, newest first.
pub fn recent(conn: &Connection, user_id: i64, limit: u32) -> rusqlite::Result<Vec<ImportSummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, file_name, created_at, committed_at FROM imports
         WHERE user_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2",
    )?;
    stmt.query_map(params![user_id, limit], |r| {
        Ok(ImportSummary {
            id: r.get(0)?,
            kind: kind(r.get(1)?)?,
            file_name: r.get(2)?,
            created_at: r.get(3)?,
            committed_at: r.get(4)?,
        })
    })?
    .collect()
}
