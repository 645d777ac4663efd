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

/// `execute` and `query_row` through the connection's statement cache: the
/// statement is compiled once per connection and reused. For queries that
/// run on every request or every movement, whose SQL text is fixed (lists
/// of ids go in as `rarray(?)` parameters, never into the text).
pub trait Cached {
    fn exec_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn row_cached<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row_cached<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// A list of ids as one SQL parameter, for `IN rarray(?n)`.
pub fn id_array<'a>(
    ids: impl IntoIterator<Item = &'a i64>,
) -> std::rc::Rc<Vec<rusqlite::types::Value>> {
    std::rc::Rc::new(
        ids.into_iter()
            .map(|i| rusqlite::types::Value::Integer(*i))
            .collect(),
    )
}

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
    /// The shared transaction a write was part of could not be begun or
    /// committed (each write of the group gets its own copy of the reason).
    #[error("database write failed: {0}")]
    Group(String),
    /// A row that cannot be read as what it should be, or a reference to a
    /// row that is not there: an error, never read as a default.
    #[error("the database holds a record that cannot be read: {0}")]
    Damaged(String),
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

/// Called with the table's name for every row inserted through the writer.
pub type InsertHook = Arc<dyn Fn(&str) + Send + Sync>;

/// The writer's connection manager: SQLite's, plus a way to make the pool
/// replace the connection (as it may, for reasons of its own), so that a
/// test can prove nothing depends on the connection staying the same.
pub struct WriterManager {
    inner: SqliteConnectionManager,
    recycle: Arc<std::sync::atomic::AtomicBool>,
}

impl r2d2::ManageConnection for WriterManager {
    type Connection = Connection;
    type Error = rusqlite::Error;

    fn connect(&self) -> Result<Connection, rusqlite::Error> {
        self.inner.connect()
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), rusqlite::Error> {
        self.inner.is_valid(conn)
    }

    fn has_broken(&self, _conn: &mut Connection) -> bool {
        self.recycle
            .swap(false, std::sync::atomic::Ordering::SeqCst)
    }
}

/// Installs the insert hook (if one is set) on a writer connection.
fn install_insert_hook(
    c: &Connection,
    slot: &std::sync::RwLock<Option<InsertHook>>,
) -> rusqlite::Result<()> {
    let hook = slot.read().ok().and_then(|h| h.clone());
    match hook {
        Some(hook) => c.update_hook(Some(
            move |action: rusqlite::hooks::Action, _db: &str, table: &str, _row: i64| {
                if action == rusqlite::hooks::Action::SQLITE_INSERT {
                    hook(table);
                }
            },
        )),
        None => c.update_hook(None::<fn(rusqlite::hooks::Action, &str, &str, i64)>),
    }
}

struct Inner {
    readers: Pool<SqliteConnectionManager>,
    writer: Pool<WriterManager>,
    /// The insert hook every writer connection gets, set by [`Db::on_insert`]
    /// and installed by the pool's initializer, so a new connection has it too.
    on_insert: Arc<std::sync::RwLock<Option<InsertHook>>>,
    recycle: Arc<std::sync::atomic::AtomicBool>,
    path: PathBuf,
    /// The WAL file beside the database, and the size past which the
    /// writer folds it (see [`Db::fold_wal_if_large`]).
    wal_path: PathBuf,
    wal_fold_bytes: u64,
    /// The writer's usual wait on a locked file.
    busy: std::time::Duration,
    /// Since when the writer connection has been held, while it is.
    held_since: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    /// Writes waiting for the next group commit.
    queue: std::sync::Mutex<Queue>,
    /// Writes asked for and not yet answered (queued or running).
    unanswered: std::sync::atomic::AtomicUsize,
}

#[derive(Default)]
struct Queue {
    jobs: Vec<Box<dyn Job>>,
    /// A blocking task is running groups; it takes what is queued.
    draining: bool,
}

/// How long a fold that insists waits for readers to move on from an
/// older snapshot: writes wait behind it, so a few milliseconds at most.
const FOLD_PATIENCE: std::time::Duration = std::time::Duration::from_millis(5);

/// Most writes one group commit takes.
const GROUP_MAX: usize = 64;

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
        let on_insert: Arc<std::sync::RwLock<Option<InsertHook>>> = Arc::default();
        let recycle = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let slot = on_insert.clone();
        // After the log starts again from its beginning, the file is cut
        // back to this size, so the disk space it holds stays bounded too.
        let journal_limit = i64::try_from(config.wal_fold_bytes / 2).unwrap_or(i64::MAX);
        // The writer is never recycled for age or idleness (r2d2 would after
        // 30 and 10 minutes); should the pool replace it anyway, the
        // initializer gives the new connection the same hook.
        let writer = Pool::builder()
            .test_on_check_out(false)
            .max_size(1)
            .min_idle(Some(1))
            .max_lifetime(None)
            .idle_timeout(None)
            .connection_timeout(config.connection_timeout)
            .build(WriterManager {
                inner: SqliteConnectionManager::file(path).with_init(move |c| {
                    pragmas::apply(c, busy, false)?;
                    c.pragma_update(None, "journal_size_limit", journal_limit)?;
                    install_insert_hook(c, &slot)
                }),
                recycle: recycle.clone(),
            })?;
        // No validity query on every checkout (r2d2's default): a local
        // file connection does not go stale, and the query cost as much as
        // a small read.
        let readers = Pool::builder()
            .test_on_check_out(false)
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
                on_insert,
                recycle,
                path: path.to_path_buf(),
                wal_path: wal_path(path),
                wal_fold_bytes: config.wal_fold_bytes,
                busy,
                held_since: Arc::default(),
                queue: Default::default(),
                unanswered: Default::default(),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Calls `hook` with the table's name for every row inserted through
    /// the writer, on this writer connection and on any that replaces it.
    pub fn on_insert(&self, hook: InsertHook) -> Result<(), DbError> {
        *self.inner.on_insert.write().expect("insert hook lock") = Some(hook);
        let slot = self.inner.on_insert.clone();
        self.write_blocking(move |tx| install_insert_hook(tx, &slot).map_err(DbError::from))
    }

    /// Makes the pool drop the writer connection when it is next handed
    /// back and open a new one, as a pool may do at any time. For tests.
    pub fn recycle_writer(&self) {
        self.inner
            .recycle
            .store(true, std::sync::atomic::Ordering::SeqCst);
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

    /// Runs `f` in a write transaction: its changes are committed when it
    /// returns `Ok` and undone when it returns `Err`, and the call returns
    /// only once they are durable.
    ///
    /// Group commit: writes that arrive while a commit is being synced to
    /// disk wait and then run together, one after the other, in a single
    /// `BEGIN IMMEDIATE` transaction, each inside its own savepoint (an
    /// `Err` rolls back only its own changes). One fsync then covers the
    /// group, so under load the rate of durable writes is no longer capped
    /// by the disk's sync rate. A write sees the writes queued before it, as
    /// with one transaction each; if the shared commit fails, every write in
    /// the group gets the error and none is applied.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Transaction) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let _counted = Unanswered::count(&self.inner.unanswered);
        let job = Box::new(WriteJob {
            f,
            reply,
            span: Span::current(),
            alongside: ALONGSIDE.try_with(Arc::clone).ok(),
        });
        let lead = {
            let mut q = self.inner.queue.lock().expect("write queue lock");
            q.jobs.push(job);
            !std::mem::replace(&mut q.draining, true)
        };
        if lead {
            let db = self.clone();
            tokio::task::spawn_blocking(move || db.drain());
        }
        match answer.await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => Err(DbError::Group("the writer stopped".into()).into()),
        }
    }

    /// How many writes have been asked for and not yet answered.
    pub fn unanswered_writes(&self) -> usize {
        self.inner
            .unanswered
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Runs queued writes in groups until the queue is empty.
    fn drain(&self) {
        loop {
            let jobs: Vec<Box<dyn Job>> = {
                let mut q = self.inner.queue.lock().expect("write queue lock");
                if q.jobs.is_empty() {
                    q.draining = false;
                    return;
                }
                let n = q.jobs.len().min(GROUP_MAX);
                q.jobs.drain(..n).collect()
            };
            self.commit_group(jobs);
            self.fold_wal_if_large();
        }
    }

    /// Keeps the WAL bounded under sustained writes. SQLite starts the log
    /// again from its beginning only when a write begins while every frame
    /// in it has been copied into the database; a periodic checkpoint never
    /// sees that moment while writes keep coming, and the log grows without
    /// end. So between two commit groups, when the file has passed
    /// `wal_fold_bytes`, the writer runs a passive checkpoint itself: no
    /// write can land in the meantime, so unless a reader still holds an
    /// older snapshot, the next group starts the log again (and the
    /// writer's `journal_size_limit` cuts the file back). A reader that
    /// blocks it only delays the fold to a later group. The backup
    /// replicator takes this over when it owns checkpointing.
    fn fold_wal_if_large(&self) {
        let size = match std::fs::metadata(&self.inner.wal_path) {
            Ok(m) => m.len(),
            Err(_) => return,
        };
        if size <= self.inner.wal_fold_bytes {
            return;
        }
        // Readers that keep coming may hold older snapshots at the moment
        // a passive fold ends; once the log has grown past twice the size
        // anyway, the fold waits a few milliseconds for them instead.
        let insist = size > 2 * self.inner.wal_fold_bytes;
        let started = std::time::Instant::now();
        let outcome = self.writer().and_then(|conn| {
            let sql = if insist {
                conn.busy_timeout(FOLD_PATIENCE)?;
                "PRAGMA wal_checkpoint(RESTART)"
            } else {
                "PRAGMA wal_checkpoint(PASSIVE)"
            };
            let done = conn.query_row(sql, [], |r| Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)));
            if insist {
                conn.busy_timeout(self.inner.busy)?;
            }
            done.map_err(DbError::from)
        });
        match outcome {
            Ok((frames, copied)) => tracing::debug!(
                wal_bytes = size,
                insist,
                frames,
                copied,
                took_ms = started.elapsed().as_secs_f64() * 1000.0,
                "folded the WAL between writes"
            ),
            Err(e) => tracing::warn!(error = %e, wal_bytes = size, "could not fold the WAL"),
        }
    }

    fn commit_group(&self, jobs: Vec<Box<dyn Job>>) {
        let mut conn = match self.writer() {
            Ok(c) => c,
            Err(e) => {
                let reason = e.to_string();
                jobs.into_iter().for_each(|j| j.fail(&reason));
                return;
            }
        };
        let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                let reason = e.to_string();
                jobs.into_iter().for_each(|j| j.fail(&reason));
                return;
            }
        };
        let mut done: Vec<Box<dyn Done>> = Vec::with_capacity(jobs.len());
        for job in jobs {
            if let Err(e) = tx.execute_batch("SAVEPOINT stockroom_write") {
                job.fail(&e.to_string());
                continue;
            }
            let d = job.run(&tx);
            let end = if d.ok() {
                "RELEASE stockroom_write"
            } else {
                "ROLLBACK TO stockroom_write; RELEASE stockroom_write"
            };
            if let Err(e) = tx.execute_batch(end) {
                // The transaction is in an unknown state: apply nothing.
                let reason = e.to_string();
                done.into_iter().for_each(|d| d.deliver(Err(&reason)));
                d.deliver(Err(&reason));
                return;
            }
            done.push(d);
        }
        match tx.commit() {
            Ok(()) => done.into_iter().for_each(|d| d.deliver(Ok(()))),
            Err(e) => {
                let reason = e.to_string();
                done.into_iter().for_each(|d| d.deliver(Err(&reason)));
            }
        }
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
    pub fn writer(&self) -> Result<Writer, DbError> {
        let conn = self.inner.writer.get()?;
        *self.inner.held_since.lock().expect("writer clock") = Some(std::time::Instant::now());
        Ok(Writer {
            conn,
            held_since: self.inner.held_since.clone(),
        })
    }

    /// How long the writer has been held by the write (or group) running
    /// now; `None` when it is free. Readiness asks this instead of queueing
    /// behind a long write such as an import.
    pub fn writer_held_for(&self) -> Option<std::time::Duration> {
        self.inner
            .held_since
            .lock()
            .expect("writer clock")
            .map(|at| at.elapsed())
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

/// SQLite's name for a database's write-ahead log.
fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// The writer connection while it is held; handed back to the pool (and
/// the writer marked free) when dropped.
pub struct Writer {
    conn: PooledConnection<WriterManager>,
    held_since: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

impl std::ops::Deref for Writer {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl std::ops::DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if let Ok(mut at) = self.held_since.lock() {
            *at = None;
        }
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

/// A queued write, type-erased.
trait Job: Send {
    /// Runs the write inside the group's transaction.
    fn run(self: Box<Self>, tx: &Transaction) -> Box<dyn Done>;
    /// The write could not run at all.
    fn fail(self: Box<Self>, reason: &str);
}

/// A write that ran and waits for the group's commit.
trait Done {
    /// Whether its changes are kept (else rolled back to its savepoint).
    fn ok(&self) -> bool;
    /// Answers the caller once the commit is known.
    fn deliver(self: Box<Self>, commit: Result<(), &str>);
}

type Reply<T, E> = tokio::sync::oneshot::Sender<std::thread::Result<Result<T, E>>>;

struct WriteJob<F, T, E> {
    f: F,
    reply: Reply<T, E>,
    span: Span,
    alongside: Option<Arc<Alongside>>,
}

struct Ran<T, E> {
    result: std::thread::Result<Result<T, E>>,
    reply: Reply<T, E>,
    /// Set when this write carried the task's [`Alongside`] row.
    carried: Option<Arc<Alongside>>,
}

tokio::task_local! {
    static ALONGSIDE: Arc<Alongside>;
}

/// Counts one write as unanswered while it lives (a caller that goes away
/// stops counting).
struct Unanswered<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Unanswered<'a> {
    fn count(n: &'a std::sync::atomic::AtomicUsize) -> Self {
        n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Unanswered(n)
    }
}

impl Drop for Unanswered<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A row to be written in the same transaction as the first write of a
/// piece of work that succeeds — for a request that carries an
/// idempotency key, the record of that key — so that the two are durable
/// together or not at all. Set around the work with [`Alongside::around`];
/// every [`Db::write`] awaited inside sees it, and the first one whose
/// closure returns `Ok` writes it (and fails, undoing itself, if the row
/// cannot be written).
pub struct Alongside {
    write: Box<AlongsideWrite>,
    state: std::sync::Mutex<Carried>,
}

type AlongsideWrite = dyn Fn(&Transaction) -> Result<(), DbError> + Send + Sync;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carried {
    /// Not written yet.
    Waiting,
    /// Written by a write whose commit is pending.
    Pending,
    /// Committed with that write.
    Committed,
}

impl Alongside {
    pub fn new(
        write: impl Fn(&Transaction) -> Result<(), DbError> + Send + Sync + 'static,
    ) -> Self {
        Alongside {
            write: Box::new(write),
            state: std::sync::Mutex::new(Carried::Waiting),
        }
    }

    /// Runs `work` with this row riding along its first successful write.
    pub async fn around<F: std::future::Future>(self: &Arc<Self>, work: F) -> F::Output {
        ALONGSIDE.scope(self.clone(), work).await
    }

    /// Whether the row was committed (with some write of the work).
    pub fn committed(&self) -> bool {
        *self.state.lock().expect("alongside state") == Carried::Committed
    }

    fn set(&self, from: Carried, to: Carried) -> bool {
        let mut s = self.state.lock().expect("alongside state");
        if *s == from {
            *s = to;
            true
        } else {
            false
        }
    }
}

impl<F, T, E> Job for WriteJob<F, T, E>
where
    F: FnOnce(&Transaction) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    fn run(self: Box<Self>, tx: &Transaction) -> Box<dyn Done> {
        let WriteJob {
            f,
            reply,
            span,
            alongside,
        } = *self;
        // A panicking write is rolled back and its panic resumed in the
        // caller, as if it had run alone.
        let mut result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| span.in_scope(|| f(tx))));
        let mut carried = None;
        if let (Ok(Ok(_)), Some(a)) = (&result, alongside)
            && a.set(Carried::Waiting, Carried::Pending)
        {
            match (a.write)(tx) {
                Ok(()) => carried = Some(a),
                Err(e) => {
                    a.set(Carried::Pending, Carried::Waiting);
                    result = Ok(Err(e.into()));
                }
            }
        }
        Box::new(Ran {
            result,
            reply,
            carried,
        })
    }

    fn fail(self: Box<Self>, reason: &str) {
        let _ = self
            .reply
            .send(Ok(Err(DbError::Group(reason.to_string()).into())));
    }
}

impl<T: Send, E: From<DbError> + Send> Done for Ran<T, E> {
    fn ok(&self) -> bool {
        matches!(self.result, Ok(Ok(_)))
    }

    fn deliver(self: Box<Self>, commit: Result<(), &str>) {
        if let Some(a) = &self.carried {
            let kept = commit.is_ok() && matches!(self.result, Ok(Ok(_)));
            let to = if kept {
                Carried::Committed
            } else {
                Carried::Waiting
            };
            a.set(Carried::Pending, to);
        }
        let answer = match (self.result, commit) {
            (Ok(Ok(_)), Err(reason)) => Ok(Err(DbError::Group(reason.to_string()).into())),
            (result, _) => result,
        };
        // The caller may have gone away (request cancelled): nothing to do.
        let _ = self.reply.send(answer);
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
