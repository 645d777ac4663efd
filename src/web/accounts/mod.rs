//! Accounts in the browser and the API: first-run setup, signing in and
//! out, one's own password, users and API tokens; `/api/v1/me` and
//! `/api/v1/users`.

pub mod account;
pub mod api;
pub mod auth;
pub mod lockouts;
pub mod own_sessions;
pub mod second_factor;
pub mod setup;
pub mod tokens;
pub mod users;

use crate::domain::Permission::*;
use crate::web::error::AppError;
use crate::web::middleware::authorize::Access::*;
use crate::web::render::NavLink;
use crate::web::routes::{RouteDef, delete, get, post};

/// This area's links in the navigation.
pub const NAV: &[NavLink] = &[
    NavLink {
        position: 110,
        href: "/admin/users",
        label: "Users",
        permission: Some(ManageUsers),
    },
    NavLink {
        position: 130,
        href: "/admin/tokens",
        label: "API tokens",
        permission: Some(ManageApiTokens),
    },
];

/// This area's routes, each with what it requires.
pub fn routes() -> Vec<RouteDef> {
    vec![
        get("/setup", Public, setup::form).limited(),
        post("/setup", Public, setup::submit).limited(),
        get("/login", Public, auth::login_form),
        post("/login", Public, auth::login).limited(),
        get("/login/code", Public, second_factor::code_form),
        post("/login/code", Public, second_factor::code_submit).limited(),
        get("/login/setup", Public, second_factor::setup_form).limited(),
        post("/login/setup", Public, second_factor::setup_submit).limited(),
        post("/logout", SignedIn, auth::logout),
        get("/account/password", SignedIn, account::password_form),
        post("/account/password", SignedIn, account::change_password),
        get("/account/sessions", SignedIn, own_sessions::list),
        post(
            "/account/sessions/{handle}/end",
            SignedIn,
            own_sessions::end,
        ),
        get("/account/second-factor", SignedIn, second_factor::account),
        post(
            "/account/second-factor/begin",
            SignedIn,
            second_factor::account_begin,
        ),
        post(
            "/account/second-factor/setup",
            SignedIn,
            second_factor::account_setup,
        )
        .limited(),
        post(
            "/account/second-factor/recovery-codes",
            SignedIn,
            second_factor::account_new_codes,
        )
        .limited(),
        post(
            "/account/second-factor/remove",
            SignedIn,
            second_factor::account_remove,
        )
        .limited(),
        get("/admin/users", Perm(ManageUsers), users::list),
        post("/admin/users", Perm(ManageUsers), users::create).limited(),
        get("/admin/users/new", Perm(ManageUsers), users::new_form),
        get("/admin/users/{id}", Perm(ManageUsers), users::show),
        post("/admin/users/{id}/role", Perm(ManageUsers), users::set_role),
        post(
            "/admin/users/{id}/disable",
            Perm(ManageUsers),
            users::disable,
        ),
        post("/admin/users/{id}/enable", Perm(ManageUsers), users::enable),
        post(
            "/admin/users/{id}/password",
            Perm(ManageUsers),
            users::reset_password,
        ),
        post(
            "/admin/users/{id}/second-factor/reset",
            Perm(ManageUsers),
            second_factor::admin_reset,
        ),
        get("/admin/lockouts", Perm(ManageUsers), lockouts::list),
        post(
            "/admin/lockouts/unlock",
            Perm(ManageUsers),
            lockouts::unlock,
        ),
        get("/api/v1/lockouts", Perm(ManageUsers), lockouts::api_list),
        delete(
            "/api/v1/lockouts/{username}",
            Perm(ManageUsers),
            lockouts::api_unlock,
        ),
        get("/admin/tokens", Perm(ManageApiTokens), tokens::list),
        post("/admin/tokens", Perm(ManageApiTokens), tokens::create),
        post(
            "/admin/tokens/{id}/revoke",
            Perm(ManageApiTokens),
            tokens::revoke,
        ),
        get("/api/v1/me", SignedIn, api::me),
        get("/api/v1/users", Perm(ManageUsers), api::list),
        // Not keyed: the body carries a password, which must not be kept
        // (even as part of a fingerprint) for a day; a second copy is
        // refused anyway, the user name being taken.
        post("/api/v1/users", Perm(ManageUsers), api::create).limited(),
    ]
}

/// How this area's refusals and missing records answer over HTTP.
impl From<crate::accounts::AccountsError> for AppError {
    fn from(e: crate::accounts::AccountsError) -> Self {
        match e {
            crate::accounts::AccountsError::Invalid(f) => AppError::Invalid(f),
            crate::accounts::AccountsError::NoSuchUser
            | crate::accounts::AccountsError::NoSuchToken => AppError::NotFound,
            crate::accounts::AccountsError::SelfLockout => AppError::Refused(
                crate::domain::refusal::Refusal::new(crate::accounts::SELF_LOCKOUT, e.to_string()),
            ),
            crate::accounts::AccountsError::LastAdmin => AppError::Refused(
                crate::domain::refusal::Refusal::new(crate::accounts::LAST_ADMIN, e.to_string()),
            ),
            crate::accounts::AccountsError::SetupClosed => AppError::SetupComplete,
            crate::accounts::AccountsError::Db(db) => db.into(),
        }
    }
}
