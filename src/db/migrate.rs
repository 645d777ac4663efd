//! Embedded schema migrations: `migrations/NNNN_verb_noun.sql`, applied in
//! order, each in its own transaction, recorded with a SHA-256 checksum.
//!
//! The binary refuses a database that has a migration it does not know (it
//! was upgraded by a newer stockroom) or whose applied file changed since —
//! running on either could corrupt data. Before changing a database that
//! already has a schema, a consistent copy is written to
//! `backups/pre-migrate-<from>-<to>-<timestamp>.db`.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use crate::domain::Timestamp;

#[derive(RustEmbed)]
#[folder = "migrations/"]
struct Files;

/// One migration file known to this binary.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: u32,
    pub name: String,
    pub sql: String,
    pub checksum: String,
}

impl Migration {
    pub fn new(version: u32, name: &str, sql: &str) -> Self {
        Migration {
            version,
            name: name.to_string(),
            sql: sql.to_string(),
            checksum: hex::encode(Sha256::digest(sql.as_bytes())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the database has migration {version:04} ({name}), which this stockroom ({binary}) does not know: \
         it was upgraded by a newer version. Run that version, or restore a pre-migrate copy from the backups directory"
    )]
    UnknownApplied {
        version: u32,
        name: String,
        binary: &'static str,
    },
    #[error(
        "migration {version:04} ({name}) was applied with checksum {recorded} but this binary's file has {current}: \
         migration files must never change once released"
    )]
    ChecksumChanged {
        version: u32,
        name: String,
        recorded: String,
        current: String,
    },
    #[error(
        "migration {missing:04} was never applied but the later {later:04} was; the database is not one stockroom made"
    )]
    Gap { missing: u32, later: u32 },
    #[error("database error while migrating: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot write the pre-migrate copy {path}: {source}")]
    Copy {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The embedded migrations in version order.
pub fn known() -> Vec<Migration> {
    let mut all: Vec<Migration> = Files::iter()
        .filter(|file| file.ends_with(".sql"))
        .map(|file| {
            let data = Files::get(&file).expect("listed file exists");
            let (version, name) = parse_file_name(&file)
                .unwrap_or_else(|| panic!("migration file {file} is not named NNNN_name.sql"));
            let sql = String::from_utf8(data.data.into_owned()).expect("migrations are UTF-8");
            Migration::new(version, &name, &sql)
        })
        .collect();
    all.sort_by_key(|m| m.version);
    all
}

fn parse_file_name(file: &str) -> Option<(u32, String)> {
    let stem = file.strip_suffix(".sql")?;
    let (num, name) = stem.split_once('_')?;
    if num.len() != 4 || name.is_empty() {
        return None;
    }
    Some((num.parse().ok()?, name.to_string()))
}

/// What applying would do, after checking the database against this binary.
#[derive(Debug)]
pub struct Plan {
    /// The highest applied version, 0 for an empty database.
    pub current: u32,
    pub pending: Vec<Migration>,
}

const BOOTSTRAP: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL
) STRICT";

/// Checks the applied migrations against the known ones. Works on a
/// read-only connection: a missing bookkeeping table means nothing applied.
pub fn plan(conn: &Connection) -> Result<Plan, MigrateError> {
    plan_with(conn, known())
}

/// [`plan`] against a given list of migrations (tests simulate other
/// binaries' lists with it).
pub fn plan_with(conn: &Connection, known: Vec<Migration>) -> Result<Plan, MigrateError> {
    let table: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let applied: Vec<(u32, String, String)> = if table.is_some() {
        let mut stmt =
            conn.prepare("SELECT version, name, checksum FROM schema_migrations ORDER BY version")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    for (version, name, checksum) in &applied {
        match known.iter().find(|m| m.version == *version) {
            None => {
                return Err(MigrateError::UnknownApplied {
                    version: *version,
                    name: name.clone(),
                    binary: env!("CARGO_PKG_VERSION"),
                });
            }
            Some(m) if m.checksum != *checksum => {
                return Err(MigrateError::ChecksumChanged {
                    version: *version,
                    name: name.clone(),
                    recorded: checksum.clone(),
                    current: m.checksum.clone(),
                });
            }
            Some(_) => {}
        }
    }
    let current = applied.last().map_or(0, |a| a.0);
    let pending: Vec<Migration> = known
        .into_iter()
        .filter(|m| !applied.iter().any(|a| a.0 == m.version))
        .collect();
    if let Some(first) = pending.first()
        && first.version < current
    {
        return Err(MigrateError::Gap {
            missing: first.version,
            later: current,
        });
    }
    Ok(Plan { current, pending })
}

/// The result of [`migrate`].
#[derive(Debug)]
pub struct Report {
    pub from: u32,
    pub applied: Vec<(u32, String)>,
    pub copy: Option<PathBuf>,
}

/// Applies every pending migration, first copying a database that already
/// has a schema into `backups_dir`.
pub fn migrate(
    conn: &mut Connection,
    backups_dir: &Path,
    now: Timestamp,
) -> Result<Report, MigrateError> {
    migrate_with(conn, known(), backups_dir, now)
}

/// [`migrate`] with a given list of migrations.
pub fn migrate_with(
    conn: &mut Connection,
    known: Vec<Migration>,
    backups_dir: &Path,
    now: Timestamp,
) -> Result<Report, MigrateError> {
    let plan = plan_with(conn, known)?;
    let mut report = Report {
        from: plan.current,
        applied: Vec::new(),
        copy: None,
    };
    let Some(last) = plan.pending.last() else {
        return Ok(report);
    };
    if plan.current > 0 {
        let stamp = now.datetime().format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ));
        let file = backups_dir.join(format!(
            "pre-migrate-{:04}-{:04}-{}.db",
            plan.current,
            last.version,
            stamp.expect("UTC formats")
        ));
        copy_database(conn, &file)?;
        tracing::info!(path = %file.display(), "wrote a copy of the database before migrating");
        report.copy = Some(file);
    }
    conn.execute_batch(BOOTSTRAP)?;
    for m in &plan.pending {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(&m.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![m.version, m.name, m.checksum, now.to_db()],
        )?;
        tx.commit()?;
        tracing::info!(version = m.version, name = %m.name, "applied migration");
        report.applied.push((m.version, m.name.clone()));
    }
    Ok(report)
}

/// A consistent copy via `VACUUM INTO`, synced to disk before returning.
fn copy_database(conn: &Connection, file: &Path) -> Result<(), MigrateError> {
    let io = |source| MigrateError::Copy {
        path: file.to_path_buf(),
        source,
    };
    let dir = file.parent().expect("backup file has a directory");
    std::fs::create_dir_all(dir).map_err(io)?;
    conn.execute("VACUUM INTO ?1", [file.to_string_lossy()])?;
    std::fs::File::open(file)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_numbered_without_gaps_or_duplicates() {
        let all = known();
        assert!(!all.is_empty());
        for (i, m) in all.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "{} breaks the sequence", m.name);
        }
        // Every file in the folder is embedded (no stray names skipped).
        let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "sql")
            })
            .count();
        assert_eq!(on_disk, all.len());
    }

    #[test]
    fn file_names_are_checked() {
        assert_eq!(
            parse_file_name("0001_create_users.sql"),
            Some((1, "create_users".into()))
        );
        assert_eq!(parse_file_name("1_x.sql"), None);
        assert_eq!(parse_file_name("0001.sql"), None);
    }

    #[test]
    fn jobs_enqueued_before_subjects_get_theirs_from_their_payloads() {
        let dir = tempfile::tempdir().unwrap();
        let now = Timestamp::parse("2026-11-30T10:00:00.000Z").unwrap();
        let mut conn = Connection::open_in_memory().unwrap();
        let (before, after): (Vec<_>, Vec<_>) = known().into_iter().partition(|m| m.version < 13);
        migrate_with(&mut conn, before, dir.path(), now).unwrap();
        conn.execute_batch(
            "INSERT INTO jobs (kind, payload, max_attempts, run_at, created_at) VALUES
               ('order.dispatch', '{\"order_id\": 7}', 8, 'x', 'x'),
               ('order.cancel_notice', '{\"order_id\": 7}', 8, 'x', 'x'),
               ('supplier.dispatch_test', '{\"supplier_id\": 3}', 1, 'x', 'x'),
               ('order.dispatch', '{\"order_id\": \"7\"}', 8, 'x', 'x'),
               ('digest.daily', '{\"manual\": true}', 5, 'x', 'x')",
        )
        .unwrap();
        let mut all = known();
        all.retain(|m| m.version <= 13);
        assert_eq!(after[0].version, 13);
        migrate_with(&mut conn, all, dir.path(), now).unwrap();
        let subjects: Vec<(Option<String>, Option<i64>)> = conn
            .prepare("SELECT subject_type, subject_id FROM jobs ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            subjects,
            [
                (Some("order".into()), Some(7)),
                (Some("order".into()), Some(7)),
                (Some("supplier".into()), Some(3)),
                (None, None),
                (None, None),
            ]
        );
    }
}
