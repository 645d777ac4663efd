//! Accounts: users, passwords, sessions, API tokens and lock-outs.
//!
//! Service functions here take a transaction or connection and the audit
//! context; they never see HTTP. Each change and its audit row share one
//! transaction.

pub mod hashing;
pub mod lockout;
pub mod second_factor;
pub mod sessions;
pub mod setup;
pub mod tokens;
pub mod users;

use crate::db::DbError;
use crate::domain::refusal::Code;
use crate::validation::FieldErrors;

/// Refused: an administrator may not disable or demote themselves.
pub const SELF_LOCKOUT: Code = Code::conflict(
    "account-self-lockout",
    "An administrator tried to disable their own account or remove their own admin role.",
);
/// Refused: the last active administrator stays one.
pub const LAST_ADMIN: Code = Code::conflict(
    "last-admin",
    "The change would leave no active administrator.",
);
/// Refused: the token's user must first choose a new password.
pub const PASSWORD_CHANGE_REQUIRED: Code = Code::not_permitted(
    "password-change-required",
    "The token's user has a temporary password: their tokens work again once they have chosen a new one (signing in to the web interface).",
);
/// Every code accounts refuses with.
pub const REFUSALS: &[Code] = &[SELF_LOCKOUT, LAST_ADMIN, PASSWORD_CHANGE_REQUIRED];

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error("no such user")]
    NoSuchUser,
    #[error("no such token")]
    NoSuchToken,
    #[error("you cannot disable your own account or remove your own admin role")]
    SelfLockout,
    #[error("the last active administrator cannot be disabled or demoted")]
    LastAdmin,
    #[error("the setup link is invalid or has already been used")]
    SetupClosed,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for AccountsError {
    fn from(e: rusqlite::Error) -> Self {
        AccountsError::Db(DbError::Sqlite(e))
    }
}

impl From<FieldErrors> for AccountsError {
    fn from(e: FieldErrors) -> Self {
        AccountsError::Invalid(e)
    }
}
