//! Failed sign-ins, kept in SQLite so a restart forgets nothing. Keys are
//! whatever was typed (normalised), so a name that does not exist behaves
//! exactly like one that does.
//!
//! Two brakes, so that someone guessing cannot also lock the real user out:
//!
//! - **Per username and client address, a hard lock-out**: `threshold`
//!   failures within `window` from one address lock that username *from
//!   that address* for `duration`. The user signs in from their own
//!   computer meanwhile.
//! - **Per username across all addresses, a growing delay**: once a
//!   username has `threshold` failures within `window` from anywhere, each
//!   further attempt must wait 1, 2, 4 … up to [`MAX_DELAY_SECS`] seconds
//!   after the last failure. Guessing from many addresses gets slower and
//!   slower; the user waits at most a minute.
//!
//! An administrator sees the locked usernames and lifts a lock early (page,
//! API, `stockroom unlock USER`); each unlock is audited.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::audit::{self, Context, Event};
use crate::config::SecurityConfig;
use crate::db::Cached;
use crate::domain::Timestamp;

/// The longest the per-username delay grows to.
pub const MAX_DELAY_SECS: u64 = 60;

/// Runs on every sign-in attempt (`db::query_plans` keeps it indexed).
pub(crate) const LOCKED_UNTIL_SQL: &str = "SELECT locked_until FROM lockouts
     WHERE username_key = ?1 AND ip = ?2 AND locked_until > ?3";
/// Failures of one username from anywhere within the window, and the last.
pub(crate) const RECENT_FAILURES_SQL: &str = "SELECT count(*), max(failed_at) FROM login_failures
     WHERE username_key = ?1 AND failed_at > ?2";
/// Failures of one username from one address since its last lock-out there.
pub(crate) const COUNT_FAILURES_SQL: &str = "SELECT count(*) FROM login_failures
     WHERE username_key = ?1 AND ip = ?2 AND failed_at > ?3";

/// Whether a sign-in attempt may be tried now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Locked for this username from this address until then.
    Locked(Timestamp),
    /// Too many failures for this username from anywhere: wait until then.
    Slowed(Timestamp),
}

/// The wait after the last failure once a username has `failures` from
/// anywhere (`None` below the threshold).
pub fn delay(failures: u32, threshold: u32) -> Option<Duration> {
    let over = failures.checked_sub(threshold)?;
    Some(Duration::from_secs(
        1u64.checked_shl(over)
            .unwrap_or(u64::MAX)
            .min(MAX_DELAY_SECS),
    ))
}

/// May `key` try to sign in from `ip` now?
pub fn gate(
    conn: &Connection,
    key: &str,
    ip: &str,
    now: Timestamp,
    cfg: &SecurityConfig,
) -> rusqlite::Result<Gate> {
    let until: Option<String> = conn
        .row_cached(LOCKED_UNTIL_SQL, params![key, ip, now.to_db()], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(until) = until.and_then(|t| Timestamp::parse(&t).ok()) {
        return Ok(Gate::Locked(until));
    }
    let window_start = now.minus(cfg.lockout_window).to_db();
    let (failures, last): (u32, Option<String>) =
        conn.row_cached(RECENT_FAILURES_SQL, params![key, window_start], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    if let (Some(wait), Some(last)) = (
        delay(failures, cfg.lockout_threshold),
        last.and_then(|t| Timestamp::parse(&t).ok()),
    ) {
        let until = last.plus(wait);
        if until > now {
            return Ok(Gate::Slowed(until));
        }
    }
    Ok(Gate::Open)
}

/// Counts one failure; returns the lock-out end when this failure locks
/// the username from this address.
pub fn record_failure(
    tx: &Transaction,
    key: &str,
    ip: &str,
    now: Timestamp,
    cfg: &SecurityConfig,
) -> rusqlite::Result<Option<Timestamp>> {
    tx.exec_cached(
        "INSERT INTO login_failures (username_key, failed_at, ip) VALUES (?1, ?2, ?3)",
        params![key, now.to_db(), ip],
    )?;
    // Counted from the end of the last lock-out from this address, so a
    // lock-out is followed by a fresh count.
    let last_lock: Option<String> = tx
        .row_cached(
            "SELECT locked_until FROM lockouts WHERE username_key = ?1 AND ip = ?2",
            params![key, ip],
            |r| r.get(0),
        )
        .optional()?;
    let window_start = now.minus(cfg.lockout_window).to_db();
    let since = last_lock.map_or(window_start.clone(), |l| l.max(window_start));
    let failures: u32 = tx.row_cached(COUNT_FAILURES_SQL, params![key, ip, since], |r| r.get(0))?;
    if failures < cfg.lockout_threshold {
        return Ok(None);
    }
    let until = now.plus(cfg.lockout_duration);
    tx.exec_cached(
        "INSERT INTO lockouts (username_key, ip, locked_until) VALUES (?1, ?2, ?3)
         ON CONFLICT (username_key, ip) DO UPDATE SET locked_until = excluded.locked_until",
        params![key, ip, until.to_db()],
    )?;
    Ok(Some(until))
}

/// Deletes failures too old to count and lock-outs that ended longer ago
/// than that (an ended lock-out still marks where its address's count
/// starts again).
pub fn purge(tx: &Transaction, now: Timestamp, cfg: &SecurityConfig) -> rusqlite::Result<usize> {
    let horizon = now.minus(cfg.lockout_window).to_db();
    let a = tx.execute(
        "DELETE FROM lockouts WHERE locked_until <= ?1 AND locked_until <= ?2",
        params![now.to_db(), horizon],
    )?;
    let b = tx.execute(
        "DELETE FROM login_failures WHERE failed_at <= ?1",
        [horizon],
    )?;
    Ok(a + b)
}

/// A successful sign-in forgets the failures and the lock from its own
/// address (failures from elsewhere still slow guessing down).
pub fn clear(tx: &Transaction, key: &str, ip: &str) -> rusqlite::Result<()> {
    tx.exec_cached(
        "DELETE FROM login_failures WHERE username_key = ?1 AND ip = ?2",
        params![key, ip],
    )?;
    tx.exec_cached(
        "DELETE FROM lockouts WHERE username_key = ?1 AND ip = ?2",
        params![key, ip],
    )?;
    Ok(())
}

/// A username locked from one or more addresses, for the administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Locked {
    /// As typed at sign-in (lower-cased): it need not be an account.
    pub username: String,
    /// The client addresses it is locked from.
    pub addresses: Vec<String>,
    /// When the last of those lock-outs ends (UTC).
    pub locked_until: String,
    /// Failed sign-ins for it within the window, from any address.
    pub recent_failures: u32,
}

/// Every username locked now, by name.
pub fn locked(
    conn: &Connection,
    now: Timestamp,
    cfg: &SecurityConfig,
) -> rusqlite::Result<Vec<Locked>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.username_key, group_concat(l.ip, ' '), max(l.locked_until),
                (SELECT count(*) FROM login_failures f
                 WHERE f.username_key = l.username_key AND f.failed_at > ?2)
         FROM lockouts l WHERE l.locked_until > ?1
         GROUP BY l.username_key ORDER BY l.username_key",
    )?;
    stmt.query_map(
        params![now.to_db(), now.minus(cfg.lockout_window).to_db()],
        |r| {
            let ips: String = r.get(1)?;
            Ok(Locked {
                username: r.get(0)?,
                addresses: ips.split(' ').map(str::to_string).collect(),
                locked_until: r.get(2)?,
                recent_failures: r.get(3)?,
            })
        },
    )?
    .collect()
}

/// Lifts every lock-out of `key` and forgets its failures (audited as
/// `auth.unlock`). Returns whether anything was locked.
pub fn unlock(tx: &Transaction, ctx: &Context, key: &str) -> rusqlite::Result<bool> {
    let addresses: Vec<String> = {
        let mut stmt = tx.prepare_cached(
            "SELECT ip FROM lockouts WHERE username_key = ?1 AND locked_until > ?2 ORDER BY ip",
        )?;
        stmt.query_map(params![key, ctx.at.to_db()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    if addresses.is_empty() {
        return Ok(false);
    }
    tx.execute("DELETE FROM lockouts WHERE username_key = ?1", [key])?;
    tx.execute("DELETE FROM login_failures WHERE username_key = ?1", [key])?;
    audit::record(
        tx,
        ctx,
        Event::new("auth.unlock", "login", key)
            .before(serde_json::json!({ "locked_from": addresses })),
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_from_the_threshold_up_to_a_minute() {
        assert_eq!(delay(4, 5), None);
        assert_eq!(delay(5, 5), Some(Duration::from_secs(1)));
        assert_eq!(delay(6, 5), Some(Duration::from_secs(2)));
        assert_eq!(delay(10, 5), Some(Duration::from_secs(32)));
        assert_eq!(delay(11, 5), Some(Duration::from_secs(60)));
        assert_eq!(delay(500, 5), Some(Duration::from_secs(60)));
    }
}
