//! Users: creation, roles, disabling and passwords.
//!
//! Password hashing is slow, so callers prepare a [`NewUser`] or hash a new
//! password *before* taking the writer — the write transaction itself only
//! stores the result.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;

use super::AccountsError;
use super::hashing;
use crate::audit::{self, Context, Event};
use crate::db::Cached;
use crate::domain::actor::{Person, Places};
use crate::domain::{NewPassword, Role, Username};
use crate::validation::FieldErrors;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: String,
}

impl User {
    /// This user as the rules see them, with the locations they may use
    /// (read by `catalog::locations::places`).
    pub fn person(&self, places: Places) -> Person {
        Person {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            places,
        }
    }

    /// The fields recorded in audit rows (never the hash).
    pub fn audit_json(&self) -> serde_json::Value {
        json!({
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "disabled": self.disabled,
            "must_change_password": self.must_change_password,
        })
    }
}

pub(crate) const USER_COLUMNS: &str =
    "u.id, u.username, u.display_name, u.role, u.must_change_password, u.disabled, u.created_at";

/// Maps [`USER_COLUMNS`] starting at column `at`.
pub(crate) fn map_user(r: &rusqlite::Row, at: usize) -> rusqlite::Result<User> {
    let role: String = r.get(at + 3)?;
    Ok(User {
        id: r.get(at)?,
        username: r.get(at + 1)?,
        display_name: r.get(at + 2)?,
        role: role.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(at + 3, rusqlite::types::Type::Text, e.into())
        })?,
        must_change_password: r.get(at + 4)?,
        disabled: r.get(at + 5)?,
        created_at: r.get(at + 6)?,
    })
}

/// A validated user with the password already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub must_change_password: bool,
}

impl NewUser {
    /// Checks every field, reporting all problems at once, then hashes the
    /// password (slow: call it on the blocking pool).
    pub fn prepare(
        username: &str,
        display_name: &str,
        role: &str,
        password: &str,
        must_change_password: bool,
    ) -> Result<NewUser, FieldErrors> {
        let mut errors = FieldErrors::default();
        let username_raw = username;
        let username = errors.check("username", Username::parse(username));
        let display = if display_name.trim().is_empty() {
            // Default the display name to the username, as people expect.
            username.as_ref().map(|u| u.to_string())
        } else {
            errors.check("display_name", crate::validation::text(display_name, 100))
        };
        let role = errors.check("role", role.parse::<Role>());
        let password = errors.check("password", NewPassword::parse(password, username_raw));
        match (username, display, role, password) {
            (Some(username), Some(display_name), Some(role), Some(password))
                if errors.is_empty() =>
            {
                Ok(NewUser {
                    username,
                    display_name,
                    role,
                    password_hash: hashing::hash(&password),
                    must_change_password,
                })
            }
            _ => Err(errors),
        }
    }
}

pub fn create(tx: &Transaction, ctx: &Context, new: &NewUser) -> Result<User, AccountsError> {
    if find_by_username(tx, &new.username)?.is_some() {
        return Err(FieldErrors::single("username", "is already taken").into());
    }
    let now = ctx.at.to_db();
    tx.execute(
        "INSERT INTO users (username, display_name, role, password_hash, must_change_password,
            disabled, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?6)",
        params![
            new.username.as_str(),
            new.display_name,
            new.role.as_str(),
            new.password_hash,
            new.must_change_password,
            now
        ],
    )?;
    let user = get(tx, tx.last_insert_rowid())?.ok_or(AccountsError::NoSuchUser)?;
    audit::record(
        tx,
        ctx,
        Event::new("user.create", "user", user.id).after(user.audit_json()),
    )?;
    Ok(user)
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<User>> {
    conn.row_cached(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1"),
        [id],
        |r| map_user(r, 0),
    )
    .optional()
}

/// The user and their password hash.
pub fn find_by_username(
    conn: &Connection,
    username: &Username,
) -> rusqlite::Result<Option<(User, String)>> {
    conn.row_cached(
        &format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = ?1"),
        [username.as_str()],
        |r| Ok((map_user(r, 0)?, r.get(7)?)),
    )
    .optional()
}

pub fn password_hash(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    conn.row_cached("SELECT password_hash FROM users WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .optional()
}

pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.row_cached("SELECT count(*) FROM users", [], |r| r.get(0))
}

pub fn active_admin_exists(conn: &Connection) -> rusqlite::Result<bool> {
    conn.row_cached(
        "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND disabled = 0)",
        [],
        |r| r.get(0),
    )
}

pub fn list(conn: &Connection, limit: u32, offset: u32) -> rusqlite::Result<Vec<User>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users u ORDER BY u.disabled, u.username LIMIT ?1 OFFSET ?2"
    ))?;
    stmt.query_map(params![limit, offset], |r| map_user(r, 0))?
        .collect()
}

fn other_active_admins(tx: &Transaction, id: i64) -> rusqlite::Result<i64> {
    tx.row_cached(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> ?1",
        [id],
        |r| r.get(0),
    )
}

/// Ends every session of the user; API tokens stay but stop working while the
/// user is disabled.
fn end_sessions(tx: &Transaction, id: i64) -> rusqlite::Result<usize> {
    tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id])
}

pub fn set_role(
    tx: &Transaction,
    ctx: &Context,
    acting_user: i64,
    id: i64,
    role: Role,
) -> Result<User, AccountsError> {
    let before = get(tx, id)?.ok_or(AccountsError::NoSuchUser)?;
    if before.role == role {
        return Ok(before);
    }
    if before.role == Role::Admin {
        if id == acting_user {
            return Err(AccountsError::SelfLockout);
        }
        if !before.disabled && other_active_admins(tx, id)? == 0 {
            return Err(AccountsError::LastAdmin);
        }
    }
    tx.execute(
        "UPDATE users SET role = ?1, updated_at = ?2 WHERE id = ?3",
        params![role.as_str(), ctx.at.to_db(), id],
    )?;
    // A changed role takes effect at once: the user signs in again.
    end_sessions(tx, id)?;
    let after = get(tx, id)?.ok_or(AccountsError::NoSuchUser)?;
    audit::record(
        tx,
        ctx,
        Event::new("user.role_change", "user", id)
            .before(before.audit_json())
            .after(after.audit_json()),
    )?;
    Ok(after)
}

pub fn set_disabled(
    tx: &Transaction,
    ctx: &Context,
    acting_user: i64,
    id: i64,
    disabled: bool,
) -> Result<User, AccountsError> {
    let before = get(tx, id)?.ok_or(AccountsError::NoSuchUser)?;
    if before.disabled == disabled {
        return Ok(before);
    }
    if disabled {
        if id == acting_user {
            return Err(AccountsError::SelfLockout);
        }
        if before.role == Role::Admin && other_active_admins(tx, id)? == 0 {
            return Err(AccountsError::LastAdmin);
        }
    }
    tx.execute(
        "UPDATE users SET disabled = ?1, updated_at = ?2 WHERE id = ?3",
        params![disabled, ctx.at.to_db(), id],
    )?;
    if disabled {
        end_sessions(tx, id)?;
    }
    let after = get(tx, id)?.ok_or(AccountsError::NoSuchUser)?;
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    audit::record(
        tx,
        ctx,
        Event::new(action, "user", id)
            .before(before.audit_json())
            .after(after.audit_json()),
    )?;
    Ok(after)
}

/// Stores a new password hash and ends all of the user's sessions. With
/// `must_change`, the user must choose a new password at next sign-in (an
/// admin-set temporary password).
pub fn set_password(
    tx: &Transaction,
    ctx: &Context,
    id: i64,
    password_hash: &str,
    must_change: bool,
) -> Result<User, AccountsError> {
    let before = get(tx, id)?.ok_or(AccountsError::NoSuchUser)?;
    tx.execute(
        "UPDATE users SET password_hash = ?1, must_change_password = ?2, updated_at = ?3 WHERE id = ?4",
        params![password_hash, must_change, ctx.at.to_db(), id],
    )?;
    let ended = end_sessions(tx, id)?;
    let after = get(tx, id)?.ok_or(AccountsError::NoSuchUser)?;
    let action = if must_change {
        "user.password_reset"
    } else {
        "user.password_change"
    };
    let mut after_json = after.audit_json();
    after_json["sessions_ended"] = json!(ended);
    audit::record(
        tx,
        ctx,
        Event::new(action, "user", id)
            .before(before.audit_json())
            .after(after_json),
    )?;
    Ok(after)
}
