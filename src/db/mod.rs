//! The database: one SQLite file in WAL mode, one writer and N readers.
//!
//! SQLite allows one writer at a time, so every write goes through the single
//! writer connection inside `BEGIN IMMEDIATE` — requests queue for it in the
//! pool instead of failing with `SQLITE_BUSY`, and the backup replicator can
//! later hold it to ship the WAL tail. Reads use a pool of `query_only`
//! connections. [`Db::read`] and [`Db::write`] run the blocking work on
//! tokio's blocking pool so the async executor never waits on disk; a panic
//! inside is re-raised in the caller. Group commit can be added behind
//! `write` later without touching any caller.

pub mod migrate;
mod pragmas;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use tracing::Span;

use crate::config::DbConfig;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("no database connection became free in time: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("cannot prepare the data directory: {0}")]
    Io(#[from] std::io::Error),
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    readers: Pool<SqliteConnectionManager>,
    writer: Pool<SqliteConnectionManager>,
    path: PathBuf,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Db {
    /// Opens (creating if needed) the database file and both pools.
    pub fn open(path: &Path, config: &DbConfig) -> Result<Db, DbError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // The first connection switches the file to WAL; it is persistent.
        {
            let c = Connection::open(path)?;
            pragmas::apply(&c, config.busy_timeout, false)?;
            c.pragma_update(None, "journal_mode", "WAL")?;
        }
        let busy = config.busy_timeout;
        let writer = Pool::builder()
            .max_size(1)
            .min_idle(Some(1))
            .connection_timeout(config.connection_timeout)
            .build(
                SqliteConnectionManager::file(path)
                    .with_init(move |c| pragmas::apply(c, busy, false)),
            )?;
        let readers = Pool::builder()
            .max_size(config.pool_size)
            .min_idle(Some(1))
            .connection_timeout(config.connection_timeout)
            .build(
                SqliteConnectionManager::file(path)
                    .with_init(move |c| pragmas::apply(c, busy, true)),
            )?;
        Ok(Db {
            inner: Arc::new(Inner {
                readers,
                writer,
                path: path.to_path_buf(),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` with a read-only connection on the blocking pool.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let db = self.clone();
        run_blocking(move || db.read_blocking(f)).await
    }

    /// Runs `f` inside one `BEGIN IMMEDIATE` transaction on the writer,
    /// committing when it returns `Ok` and rolling back when it returns `Err`.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Transaction) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let db = self.clone();
        run_blocking(move || db.write_blocking(f)).await
    }

    /// [`Db::read`] for code that is already off the executor (CLI, start-up).
    pub fn read_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E>,
        E: From<DbError>,
    {
        let conn = self.inner.readers.get().map_err(DbError::from)?;
        f(&conn)
    }

    /// [`Db::write`] for code that is already off the executor (CLI, start-up).
    pub fn write_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Transaction) -> Result<T, E>,
        E: From<DbError>,
    {
        let mut conn = self.writer()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(DbError::from)?;
        let value = f(&tx)?;
        tx.commit().map_err(DbError::from)?;
        Ok(value)
    }

    /// The writer connection itself, for migrations and checkpoints that
    /// manage their own transactions.
    pub fn writer(&self) -> Result<PooledConnection<SqliteConnectionManager>, DbError> {
        Ok(self.inner.writer.get()?)
    }

    /// Copies WAL content into the database file. `Passive` never waits for
    /// readers, so it cannot stall the writer; `Truncate` waits (up to the
    /// busy timeout) and empties the WAL, for a quiet moment such as
    /// shutdown. The server runs these until the backup replicator takes
    /// checkpointing over.
    pub fn checkpoint(&self, mode: Checkpoint) -> Result<(), DbError> {
        let conn = self.writer()?;
        let sql = match mode {
            Checkpoint::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
            Checkpoint::Truncate => "PRAGMA wal_checkpoint(TRUNCATE)",
        };
        conn.query_row(sql, [], |_| Ok(()))?;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoint {
    Passive,
    Truncate,
}

/// Runs blocking work on tokio's blocking pool inside the caller's span and
/// re-raises a panic from it in the caller.
pub async fn run_blocking<T, F>(f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let span = Span::current();
    match tokio::task::spawn_blocking(move || span.in_scope(f)).await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("blocking task was cancelled: {e}"),
    }
}

/// Migrated databases for unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Db, migrate};
    use crate::config::Config;
    use crate::domain::{Clock, SystemClock};

    /// A migrated database file in a fresh temporary directory (kept alive
    /// by the returned guard).
    pub(crate) fn migrated_db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::for_data_dir(dir.path());
        let db = Db::open(&config.db_path(), &config.db).unwrap();
        migrate::migrate(
            &mut db.writer().unwrap(),
            &dir.path().join("backups"),
            SystemClock.now(),
        )
        .unwrap();
        (dir, db)
    }

    /// A migrated in-memory connection.
    pub(crate) fn migrated_memory() -> rusqlite::Connection {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        migrate::migrate(
            &mut conn,
            std::path::Path::new("/nonexistent"),
            SystemClock.now(),
        )
        .unwrap();
        conn
    }
}

#[cfg(test)]
mod query_plans;
#[cfg(test)]
mod tests;
