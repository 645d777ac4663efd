//! Per-username lock-out after repeated failed logins, kept in SQLite so a
//! restart forgets nothing. Keys are whatever was typed (normalised), so a
//! name that does not exist locks exactly like one that does.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::config::SecurityConfig;
use crate::db::Cached;
use crate::domain::Timestamp;

/// Runs on every sign-in attempt (`db::query_plans` keeps it indexed).
pub(crate) const LOCKED_UNTIL_SQL: &str =
    "SELECT locked_until FROM lockouts WHERE username_key = ?1 AND locked_until > ?2";
pub(crate) const COUNT_FAILURES_SQL: &str =
    "SELECT count(*) FROM login_failures WHERE username_key = ?1";

/// The end of a current lock-out, if any.
pub fn locked_until(
    conn: &Connection,
    key: &str,
    now: Timestamp,
) -> rusqlite::Result<Option<Timestamp>> {
    let until: Option<String> = conn
        .row_cached(LOCKED_UNTIL_SQL, params![key, now.to_db()], |r| r.get(0))
        .optional()?;
    Ok(until.and_then(|t| Timestamp::parse(&t).ok()))
}

/// Counts one failure; returns the lock-out end when this failure locks the key.
pub fn record_failure(
    tx: &Transaction,
    key: &str,
    ip: Option<&str>,
    now: Timestamp,
    cfg: &SecurityConfig,
) -> rusqlite::Result<Option<Timestamp>> {
    let window_start = now.minus(cfg.lockout_window).to_db();
    tx.execute(
        "DELETE FROM login_failures WHERE username_key = ?1 AND failed_at <= ?2",
        params![key, window_start],
    )?;
    tx.execute(
        "INSERT INTO login_failures (username_key, failed_at, ip) VALUES (?1, ?2, ?3)",
        params![key, now.to_db(), ip],
    )?;
    let failures: u32 = tx.row_cached(COUNT_FAILURES_SQL, [key], |r| r.get(0))?;
    if failures < cfg.lockout_threshold {
        return Ok(None);
    }
    let until = now.plus(cfg.lockout_duration);
    tx.execute(
        "INSERT INTO lockouts (username_key, locked_until) VALUES (?1, ?2)
         ON CONFLICT (username_key) DO UPDATE SET locked_until = excluded.locked_until",
        params![key, until.to_db()],
    )?;
    // The count starts afresh after the lock-out.
    tx.execute("DELETE FROM login_failures WHERE username_key = ?1", [key])?;
    Ok(Some(until))
}

/// Deletes lock-outs that have ended and failures too old to count.
pub fn purge(tx: &Transaction, now: Timestamp, cfg: &SecurityConfig) -> rusqlite::Result<usize> {
    let a = tx.execute(
        "DELETE FROM lockouts WHERE locked_until <= ?1",
        [now.to_db()],
    )?;
    let b = tx.execute(
        "DELETE FROM login_failures WHERE failed_at <= ?1",
        [now.minus(cfg.lockout_window).to_db()],
    )?;
    Ok(a + b)
}

/// A successful login forgets earlier failures.
pub fn clear(tx: &Transaction, key: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM login_failures WHERE username_key = ?1", [key])?;
    tx.execute("DELETE FROM lockouts WHERE username_key = ?1", [key])?;
    Ok(())
}
