//! The accounts JSON API: `/api/v1/users` (list and create users, admins
//! only) and `GET /api/v1/me` (who the token speaks for).

use actix_web::web::{Json, Query};
use actix_web::{HttpResponse, http::StatusCode};
use serde::{Deserialize, Serialize};

use crate::accounts::tokens::Scope;
use crate::accounts::users::{self, NewUser, User};
use crate::db::{DbError, run_blocking};
use crate::web::api::{PageQuery, Paginated};
use crate::web::context::{Ctx, Principal};
use crate::web::error::AppError;

/// All users, enabled first, by username.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "accounts",
    params(PageQuery),
    responses(
        (status = 200, description = "One page of users", body = Paginated<User>),
        (status = 401, description = "Missing or invalid token", body = crate::web::api::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::web::api::ErrorBody),
        (status = 422, description = "Bad page parameters", body = crate::web::api::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(ctx: Ctx, query: Query<PageQuery>) -> Result<Json<Paginated<User>>, AppError> {
    let (page, per_page, offset) = query.resolve()?;
    let (items, total) = ctx
        .state
        .db
        .read(move |c| Ok::<_, DbError>((users::list(c, per_page, offset)?, users::count(c)?)))
        .await?;
    Ok(Json(Paginated {
        items,
        page,
        per_page,
        total,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateUser {
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    /// admin, manager, staff or viewer.
    pub role: String,
    /// At least 12 characters, not a common password.
    pub password: String,
    /// Require a new password at first sign-in (default true).
    pub must_change_password: Option<bool>,
}

/// Creates a user. Needs a `write` token.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "accounts",
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = User),
        (status = 403, description = "Not an admin, or a read-only token", body = crate::web::api::ErrorBody),
        (status = 422, description = "Invalid fields", body = crate::web::api::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(ctx: Ctx, body: Json<CreateUser>) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let new = run_blocking(move || {
        NewUser::prepare(
            &b.username,
            &b.display_name,
            &b.role,
            &b.password,
            b.must_change_password.unwrap_or(true),
        )
    })
    .await?;
    let a = ctx.audit();
    let user = ctx
        .state
        .db
        .write(move |tx| users::create(tx, &a, &new))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(user))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub user: User,
    pub token_name: String,
    pub scope: Scope,
}

/// The caller: the token's user and the token's scope.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "accounts",
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "Missing or invalid token", body = crate::web::api::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn me(ctx: Ctx) -> Result<Json<Me>, AppError> {
    match ctx.principal {
        Principal::Token(t, _) => Ok(Json(Me {
            user: t.user,
            token_name: t.name,
            scope: t.scope,
        })),
        _ => Err(AppError::Unauthenticated),
    }
}
