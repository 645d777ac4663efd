//! API tokens: `sr_` + 256 random bits, shown once, stored as SHA-256.
//!
//! A token acts as its user (who must be enabled) but is limited by its
//! scope: `read` allows safe methods only, `write` allows everything the
//! user's role allows.

use crate::db::Cached;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;

use super::AccountsError;
use super::users::{USER_COLUMNS, User, map_user};
use crate::audit::{self, Context, Event};
use crate::crypto::{random_token, sha256_hex};
use crate::domain::Timestamp;
use crate::validation::FieldErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    pub fn parse(raw: &str) -> Result<Scope, &'static str> {
        match raw.trim() {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            _ => Err("must be read or write"),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub name: String,
    pub scope: Scope,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Who a presented token speaks for.
#[derive(Debug, Clone)]
pub struct TokenPrincipal {
    pub token_id: i64,
    pub name: String,
    pub scope: Scope,
    pub user: User,
    pub last_used_at: Option<Timestamp>,
}

/// Creates a token for `user_id`; returns its id and the only copy of its text.
pub fn create(
    tx: &Transaction,
    ctx: &Context,
    user_id: i64,
    name: &str,
    scope: &str,
) -> Result<(i64, String), AccountsError> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", crate::validation::text(name, 100));
    let scope = errors.check("scope", Scope::parse(scope));
    let user = super::users::get(tx, user_id)?;
    if user.as_ref().is_none_or(|u| u.disabled) {
        errors.add("user_id", "no such enabled user");
    }
    let (Some(name), Some(scope), true) = (name, scope, errors.is_empty()) else {
        return Err(errors.into());
    };
    let secret = format!("sr_{}", random_token(32));
    let created_by = match &ctx.actor {
        crate::domain::actor::Actor::User(p) => Some(p.id),
        _ => None,
    };
    tx.exec_cached(
        "INSERT INTO api_tokens (user_id, name, token_hash, scope, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            user_id,
            name,
            sha256_hex(&secret),
            scope.as_str(),
            ctx.at.to_db(),
            created_by
        ],
    )?;
    let id = tx.last_insert_rowid();
    audit::record(
        tx,
        ctx,
        Event::new("api_token.create", "api_token", id)
            .after(json!({"user_id": user_id, "name": name, "scope": scope})),
    )?;
    Ok((id, secret))
}

/// Runs on every API request: must stay an index lookup (`db::query_plans`).
pub(crate) fn authenticate_sql() -> String {
    format!(
        "SELECT t.id, t.name, t.scope, t.last_used_at, {USER_COLUMNS}
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND u.disabled = 0"
    )
}

pub fn authenticate(conn: &Connection, secret: &str) -> rusqlite::Result<Option<TokenPrincipal>> {
    if !secret.starts_with("sr_") || secret.len() > 100 {
        return Ok(None);
    }
    conn.row_cached(&authenticate_sql(), [sha256_hex(secret)], |r| {
        let scope: String = r.get(2)?;
        let last: Option<String> = r.get(3)?;
        Ok(TokenPrincipal {
            token_id: r.get(0)?,
            name: r.get(1)?,
            scope: if scope == "write" {
                Scope::Write
            } else {
                Scope::Read
            },
            last_used_at: last.and_then(|t| Timestamp::parse(&t).ok()),
            user: map_user(r, 4)?,
        })
    })
    .optional()
}

pub fn touch(tx: &Transaction, id: i64, now: Timestamp) -> rusqlite::Result<()> {
    tx.exec_cached(
        "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2",
        params![now.to_db(), id],
    )?;
    Ok(())
}

pub fn list(conn: &Connection) -> rusqlite::Result<Vec<TokenInfo>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.user_id, u.username, t.name, t.scope, t.created_at, t.last_used_at, t.revoked_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC",
    )?;
    stmt.query_map([], |r| {
        let scope: String = r.get(4)?;
        Ok(TokenInfo {
            id: r.get(0)?,
            user_id: r.get(1)?,
            username: r.get(2)?,
            name: r.get(3)?,
            scope: if scope == "write" {
                Scope::Write
            } else {
                Scope::Read
            },
            created_at: r.get(5)?,
            last_used_at: r.get(6)?,
            revoked_at: r.get(7)?,
        })
    })?
    .collect()
}

pub fn revoke(tx: &Transaction, ctx: &Context, id: i64) -> Result<(), AccountsError> {
    let changed = tx.exec_cached(
        "UPDATE api_tokens SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
        params![ctx.at.to_db(), id],
    )?;
    if changed == 0 {
        return Err(AccountsError::NoSuchToken);
    }
    audit::record(tx, ctx, Event::new("api_token.revoke", "api_token", id))?;
    Ok(())
}
