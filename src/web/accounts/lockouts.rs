//! Locked sign-ins, for administrators: which usernames are locked from
//! which addresses, and lifting a lock early (page and API; the machine's
//! console has `stockroom unlock USER`).

use actix_web::http::StatusCode;
use actix_web::web::{Json, Path};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::lockout::{self, Locked};
use crate::db::DbError;
use crate::domain::Timestamp;
use crate::domain::username::Username;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render_status};

/// One locked username as the page shows it.
struct Row {
    locked: Locked,
    until: String,
}

#[derive(Template)]
#[template(path = "admin/lockouts.html")]
struct LockoutsPage {
    layout: Layout,
    rows: Vec<Row>,
    threshold: u32,
}
crate::page!(LockoutsPage);

async fn locked_now(ctx: &Ctx) -> Result<Vec<Locked>, AppError> {
    let (now, security) = (ctx.state.clock.now(), ctx.state.config.security.clone());
    Ok(ctx
        .state
        .db
        .read(move |c| lockout::locked(c, now, &security).map_err(DbError::from))
        .await?)
}

pub async fn list(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let rows = locked_now(&ctx)
        .await?
        .into_iter()
        .map(|locked| Row {
            until: Timestamp::parse(&locked.locked_until)
                .map(|t| t.human())
                .unwrap_or_default(),
            locked,
        })
        .collect();
    render_status(
        StatusCode::OK,
        &LockoutsPage {
            layout: Layout::for_request(&req, "Locked sign-ins"),
            rows,
            threshold: ctx.state.config.security.lockout_threshold,
        },
    )
}

#[derive(Deserialize)]
pub struct UnlockForm {
    #[serde(default)]
    username: String,
}

/// Lifts the locks of `typed`: whether anything was locked.
async fn lift(ctx: &Ctx, typed: &str) -> Result<bool, AppError> {
    let key = Username::lockout_key(typed);
    let a = ctx.audit();
    Ok(ctx
        .state
        .db
        .write(move |tx| lockout::unlock(tx, &a, &key).map_err(DbError::from))
        .await?)
}

pub async fn unlock(ctx: Ctx, form: web::Form<UnlockForm>) -> Result<HttpResponse, AppError> {
    let typed = form.into_inner().username;
    let (kind, message) = if lift(&ctx, &typed).await? {
        (
            "success",
            format!("{} can sign in again from every address.", typed.trim()),
        )
    } else {
        ("error", format!("{} is not locked.", typed.trim()))
    };
    Ok(redirect_with_flash("/admin/lockouts", kind, &message))
}

/// Usernames locked now, with the addresses they are locked from.
#[utoipa::path(
    get,
    path = "/api/v1/lockouts",
    tag = "accounts",
    params(crate::web::api::PageQuery),
    responses(
        (status = 200, description = "Locked usernames, by name", body = crate::web::api::Paginated<Locked>),
        (status = 401, description = "Missing or invalid token", body = crate::web::api::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::web::api::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_list(
    ctx: Ctx,
    page: web::Query<crate::web::api::PageQuery>,
) -> Result<Json<crate::web::api::Paginated<Locked>>, AppError> {
    Ok(Json(page.page_of(locked_now(&ctx).await?)?))
}

/// Lifts every lock-out of a username (audited as `auth.unlock`).
#[utoipa::path(
    delete,
    path = "/api/v1/lockouts/{username}",
    tag = "accounts",
    params(("username" = String, Path, description = "As typed at sign-in")),
    responses(
        (status = 204, description = "Unlocked"),
        (status = 404, description = "Not locked", body = crate::web::api::ErrorBody),
        (status = 403, description = "Not an admin, or a read-only token", body = crate::web::api::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_unlock(ctx: Ctx, username: Path<String>) -> Result<HttpResponse, AppError> {
    if lift(&ctx, &username.into_inner()).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(AppError::NotFound)
    }
}
