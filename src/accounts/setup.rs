//! First run: while no administrator exists, whoever holds the one-time
//! setup token may create the first one. The token lives only in memory (or
//! comes from the config), is printed on the console and logged at start, and
//! stops working the moment an admin exists.

use rusqlite::Transaction;

use super::AccountsError;
use super::users::{self, NewUser, User};
use crate::audit::{self, Context, Event};
use crate::crypto::constant_time_eq;
use crate::domain::Role;

/// The token the running server accepts.
#[derive(Clone)]
pub struct SetupToken(String);

impl std::fmt::Debug for SetupToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetupToken([redacted])")
    }
}

impl SetupToken {
    pub fn new(value: String) -> Self {
        SetupToken(value)
    }

    pub fn matches(&self, presented: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), presented.as_bytes())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Creates the first admin if, inside this transaction, none exists yet.
pub fn complete(tx: &Transaction, ctx: &Context, admin: &NewUser) -> Result<User, AccountsError> {
    if users::active_admin_exists(tx)? {
        return Err(AccountsError::SetupClosed);
    }
    let admin = NewUser {
        role: Role::Admin,
        must_change_password: false,
        ..admin.clone()
    };
    let user = users::create(tx, ctx, &admin)?;
    audit::record(tx, ctx, Event::new("setup.complete", "user", user.id))?;
    Ok(user)
}
