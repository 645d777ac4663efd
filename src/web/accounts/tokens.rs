//! Admin page for API tokens: create (shown once), list, revoke.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::AccountsError;
use crate::accounts::tokens::{self, TokenInfo};
use crate::accounts::users::{self, User};
use crate::db::DbError;
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render_status};

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenInfo>,
    users: Vec<User>,
    created: Option<String>,
    errors: FieldErrors,
}
crate::page!(TokensPage);

async fn page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    created: Option<String>,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let (tokens, users) = ctx
        .state
        .db
        .read(|c| Ok::<_, DbError>((tokens::list(c)?, users::list(c, 1000, 0)?)))
        .await?;
    render_status(
        status,
        &TokensPage {
            layout: Layout::for_request(req, "API tokens"),
            tokens,
            users: users.into_iter().filter(|u| !u.disabled).collect(),
            created,
            errors,
        },
    )
}

pub async fn list(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    page(&req, &ctx, StatusCode::OK, None, FieldErrors::default()).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    user_id: String,
    name: String,
    scope: String,
}

pub async fn create(
    req: HttpRequest,
    ctx: Ctx,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let Ok(user_id) = form.user_id.trim().parse::<i64>() else {
        let errors = FieldErrors::single("user_id", "choose a user");
        return page(&req, &ctx, StatusCode::UNPROCESSABLE_ENTITY, None, errors).await;
    };
    let a = ctx.audit();
    let result = ctx
        .state
        .db
        .write(move |tx| tokens::create(tx, &a, user_id, &form.name, &form.scope))
        .await;
    match result {
        // Shown on this response only; it is never stored in clear.
        Ok((_, secret)) => {
            page(
                &req,
                &ctx,
                StatusCode::OK,
                Some(secret),
                FieldErrors::default(),
            )
            .await
        }
        Err(AccountsError::Invalid(errors)) => {
            page(&req, &ctx, StatusCode::UNPROCESSABLE_ENTITY, None, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke(ctx: Ctx, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let a = ctx.audit();
    ctx.state
        .db
        .write(move |tx| tokens::revoke(tx, &a, id))
        .await?;
    Ok(redirect_with_flash(
        "/admin/tokens",
        "success",
        "Token revoked.",
    ))
}
