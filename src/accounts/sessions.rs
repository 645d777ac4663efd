//! Server-side sessions stored in SQLite.
//!
//! The cookie carries 256 random bits; the table stores only their SHA-256,
//! so a copy of the database (or a backup) cannot be used to sign in. A
//! session ends on logout, after the idle timeout, at its absolute expiry,
//! or when the user's password, role or enabled state changes.

use crate::db::Cached;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::users::{USER_COLUMNS, User, map_user};
use crate::crypto::{random_token, sha256_hex};
use crate::domain::Timestamp;

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub user: User,
    pub csrf_token: String,
    pub last_seen_at: Timestamp,
}

/// What a new session hands back: the cookie value, shown once.
#[derive(Debug)]
pub struct NewSession {
    pub cookie_value: String,
    pub csrf_token: String,
}

pub fn create(
    tx: &Transaction,
    user_id: i64,
    ip: Option<&str>,
    user_agent: Option<&str>,
    now: Timestamp,
    absolute: Duration,
) -> rusqlite::Result<NewSession> {
    let cookie_value = random_token(32);
    let csrf_token = random_token(32);
    tx.exec_cached(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)",
        params![
            sha256_hex(&cookie_value),
            user_id,
            csrf_token,
            now.to_db(),
            now.plus(absolute).to_db(),
            ip,
            user_agent.map(|ua| ua.chars().take(256).collect::<String>()),
        ],
    )?;
    Ok(NewSession {
        cookie_value,
        csrf_token,
    })
}

/// Why a cookie did not yield a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// No such session (never existed, logged out, or ended by a change).
    Unknown,
    /// The session existed but timed out; it should be deleted.
    Expired,
}

/// Runs on every signed-in page view: must stay an index lookup
/// (checked by `db::query_plans`).
pub(crate) fn lookup_sql() -> String {
    format!(
        "SELECT s.id_hash, s.csrf_token, s.last_seen_at, s.expires_at, {USER_COLUMNS}
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id_hash = ?1 AND u.disabled = 0"
    )
}

/// Finds the live session for a cookie value. Disabled users have none.
pub fn lookup(
    conn: &Connection,
    cookie_value: &str,
    now: Timestamp,
    idle: Duration,
) -> rusqlite::Result<Result<Session, Lookup>> {
    let row = conn
        .row_cached(&lookup_sql(), [sha256_hex(cookie_value)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                map_user(r, 4)?,
            ))
        })
        .optional()?;
    let Some((id_hash, csrf_token, last_seen, expires, user)) = row else {
        return Ok(Err(Lookup::Unknown));
    };
    let parse = |t: &str| {
        Timestamp::parse(t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })
    };
    let last_seen_at = parse(&last_seen)?;
    let expires_at = parse(&expires)?;
    if now >= expires_at || now.since(last_seen_at) >= idle {
        return Ok(Err(Lookup::Expired));
    }
    Ok(Ok(Session {
        id_hash,
        user,
        csrf_token,
        last_seen_at,
    }))
}

/// Records activity. Callers skip this when the last touch is recent, so
/// that reading a page is not a disk write every time.
pub fn touch(tx: &Transaction, id_hash: &str, now: Timestamp) -> rusqlite::Result<()> {
    tx.exec_cached(
        "UPDATE sessions SET last_seen_at = ?1 WHERE id_hash = ?2",
        params![now.to_db(), id_hash],
    )?;
    Ok(())
}

pub fn destroy(tx: &Transaction, id_hash: &str) -> rusqlite::Result<bool> {
    Ok(tx.exec_cached("DELETE FROM sessions WHERE id_hash = ?1", [id_hash])? > 0)
}

/// One of a user's live sessions, as they see it on their sessions page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// Names the session in the page's form: the start of its id's hash
    /// (the cookie itself is never stored).
    pub handle: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub ip: String,
    pub user_agent: String,
}

/// The live sessions of `user_id`, most recently used first.
pub fn of_user(
    conn: &Connection,
    user_id: i64,
    now: Timestamp,
    idle: Duration,
) -> rusqlite::Result<Vec<SessionInfo>> {
    let mut stmt = conn.prepare_cached(
        "SELECT substr(id_hash, 1, 16), created_at, last_seen_at, coalesce(ip, ''), coalesce(user_agent, '')
         FROM sessions WHERE user_id = ?1 AND expires_at > ?2 AND last_seen_at > ?3
         ORDER BY last_seen_at DESC",
    )?;
    stmt.query_map(
        params![user_id, now.to_db(), now.minus(idle).to_db()],
        |r| {
            Ok(SessionInfo {
                handle: r.get(0)?,
                created_at: r.get(1)?,
                last_seen_at: r.get(2)?,
                ip: r.get(3)?,
                user_agent: r.get(4)?,
            })
        },
    )?
    .collect()
}

/// The handle of a session (see [`SessionInfo::handle`]).
pub fn handle_of(id_hash: &str) -> &str {
    id_hash.get(..16).unwrap_or(id_hash)
}

/// Ends one of `user_id`'s own sessions by its handle (audited as
/// `auth.session_end`). Whether there was one.
pub fn end_own(
    tx: &Transaction,
    ctx: &crate::audit::Context,
    user_id: i64,
    handle: &str,
) -> rusqlite::Result<bool> {
    if handle.len() != 16 || !handle.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(false);
    }
    let n = tx.exec_cached(
        "DELETE FROM sessions WHERE user_id = ?1 AND substr(id_hash, 1, 16) = ?2",
        params![user_id, handle],
    )?;
    if n > 0 {
        crate::audit::record(
            tx,
            ctx,
            crate::audit::Event::new("auth.session_end", "user", user_id)
                .after(serde_json::json!({ "sessions": n })),
        )?;
    }
    Ok(n > 0)
}

/// Deletes sessions that can no longer be used.
pub fn purge_expired(tx: &Transaction, now: Timestamp, idle: Duration) -> rusqlite::Result<usize> {
    tx.exec_cached(
        "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen_at <= ?2",
        params![now.to_db(), now.minus(idle).to_db()],
    )
}
