//! `GET /api/v1/me`: who the token speaks for.

use actix_web::web::Json;
use serde::Serialize;

use crate::accounts::tokens::Scope;
use crate::accounts::users::User;
use crate::web::context::{Ctx, Principal};
use crate::web::error::AppError;

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
        Principal::Token(t) => Ok(Json(Me {
            user: t.user,
            token_name: t.name,
            scope: t.scope,
        })),
        _ => Err(AppError::Unauthenticated),
    }
}
