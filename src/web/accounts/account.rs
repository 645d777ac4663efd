//! The signed-in user's own account: changing their password.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::{AccountsError, hashing, sessions, users};
use crate::db::{DbError, run_blocking};
use crate::domain::{NewPassword, Username};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::middleware::authenticate::session_cookie;
use crate::web::render::{Layout, redirect_with_flash, render_status};

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    layout: Layout,
    must_change: bool,
    errors: FieldErrors,
}
crate::page!(PasswordPage);

pub async fn password_form(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let user = ctx.user()?;
    render_status(
        StatusCode::OK,
        &PasswordPage {
            layout: Layout::for_request(&req, "Change password"),
            must_change: user.must_change_password,
            errors: FieldErrors::default(),
        },
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm: String,
}

pub async fn change_password(
    req: HttpRequest,
    ctx: Ctx,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let user = ctx.user()?.clone();
    let form = form.into_inner();
    let id = user.id;
    let stored = ctx
        .state
        .db
        .read(move |c| users::password_hash(c, id).map_err(DbError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    let username = Username::parse(&user.username).map_err(AppError::internal)?;
    let checked = run_blocking(move || {
        let mut errors = FieldErrors::default();
        if form.current_password.len() > 1024 || !hashing::verify(&form.current_password, &stored) {
            errors.add("current_password", "is not your current password");
        }
        let new = errors.check(
            "new_password",
            NewPassword::parse(&form.new_password, username.as_str()),
        );
        if form.new_password != form.confirm {
            errors.add("confirm", "does not match the new password");
        }
        if form.new_password == form.current_password {
            errors.add("new_password", "must differ from the current password");
        }
        match new {
            Some(pw) if errors.is_empty() => Ok(hashing::hash(&pw)),
            _ => Err(errors),
        }
    })
    .await;
    let hash = match checked {
        Ok(h) => h,
        Err(errors) => {
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PasswordPage {
                    layout: Layout::for_request(&req, "Change password"),
                    must_change: user.must_change_password,
                    errors,
                },
            );
        }
    };
    let a = ctx.audit();
    let absolute = ctx.state.config.session.absolute_timeout;
    let ip = ctx.ip.clone();
    // Every session ends, this one included; this browser gets a fresh one.
    let session = ctx
        .state
        .db
        .write(move |tx| {
            users::set_password(tx, &a, id, &hash, false)?;
            Ok::<_, AccountsError>(sessions::create(
                tx,
                id,
                ip.as_deref(),
                None,
                a.at,
                absolute,
            )?)
        })
        .await?;
    let mut res = redirect_with_flash(
        "/",
        "success",
        "Your password has been changed. Other devices were signed out.",
    );
    res.add_cookie(&session_cookie(session.cookie_value))
        .map_err(AppError::internal)?;
    Ok(res)
}
