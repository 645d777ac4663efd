//! Admin pages for users: list, create, change role, disable and enable,
//! set a temporary password.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::users::{self, NewUser, User};
use crate::accounts::{AccountsError, hashing};
use crate::db::{DbError, run_blocking};
use crate::domain::{NewPassword, Role, Username};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render, render_status};

#[derive(Template)]
#[template(path = "admin/users/list.html")]
struct ListPage {
    layout: Layout,
    users: Vec<User>,
}

#[derive(Template)]
#[template(path = "admin/users/new.html")]
struct NewPage {
    layout: Layout,
    roles: [Role; 4],
    form: CreateForm,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "admin/users/show.html")]
struct ShowPage {
    layout: Layout,
    user: User,
    roles: [Role; 4],
    is_self: bool,
    errors: FieldErrors,
    /// The user's second factor, and whether their role needs one.
    factor: crate::accounts::second_factor::State,
    factor_required: bool,
}
crate::page!(ListPage, NewPage, ShowPage);

pub async fn list(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let users = ctx
        .state
        .db
        .read(|c| users::list(c, 1000, 0).map_err(DbError::from))
        .await?;
    render(&ListPage {
        layout: Layout::for_request(&req, "Users"),
        users,
    })
}

#[derive(Deserialize, Default, Clone)]
pub struct CreateForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
    /// Checkbox: present when ticked.
    must_change: Option<String>,
}

pub async fn new_form(req: HttpRequest) -> Result<HttpResponse, AppError> {
    render(&NewPage {
        layout: Layout::for_request(&req, "New user"),
        roles: Role::ALL,
        form: CreateForm {
            role: "staff".into(),
            must_change: Some("on".into()),
            ..CreateForm::default()
        },
        errors: FieldErrors::default(),
    })
}

pub async fn create(
    req: HttpRequest,
    ctx: Ctx,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let f = form.clone();
    let prepared = run_blocking(move || {
        NewUser::prepare(
            &f.username,
            &f.display_name,
            &f.role,
            &f.password,
            f.must_change.is_some(),
        )
    })
    .await;
    let new = match prepared {
        Ok(n) => n,
        Err(errors) => return new_again(&req, form, errors),
    };
    let a = ctx.audit();
    let created = ctx
        .state
        .db
        .write(move |tx| users::create(tx, &a, &new))
        .await;
    match created {
        Ok(user) => Ok(redirect_with_flash(
            &format!("/admin/users/{}", user.id),
            "success",
            &format!("User {} created.", user.username),
        )),
        Err(AccountsError::Invalid(errors)) => new_again(&req, form, errors),
        Err(e) => Err(e.into()),
    }
}

fn new_again(
    req: &HttpRequest,
    mut form: CreateForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    form.password.clear();
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &NewPage {
            layout: Layout::for_request(req, "New user"),
            roles: Role::ALL,
            form,
            errors,
        },
    )
}

async fn load(ctx: &Ctx, id: i64) -> Result<User, AppError> {
    ctx.state
        .db
        .read(move |c| users::get(c, id).map_err(DbError::from))
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn show(
    req: HttpRequest,
    ctx: Ctx,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = load(&ctx, path.into_inner()).await?;
    render(&ShowPage {
        layout: Layout::for_request(&req, format!("User {}", user.username)),
        is_self: ctx.user()?.id == user.id,
        factor: super::second_factor::state_of(&ctx, user.id).await?,
        factor_required: super::second_factor::required_for(&ctx, &user),
        user,
        roles: Role::ALL,
        errors: FieldErrors::default(),
    })
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

/// Runs one change on a user and redirects back to the user's page with
/// the outcome; refusals the admin can act on come back as an error flash.
async fn change<F>(ctx: &Ctx, id: i64, done: &str, f: F) -> Result<HttpResponse, AppError>
where
    F: FnOnce(&rusqlite::Transaction, &crate::audit::Context, i64) -> Result<User, AccountsError>
        + Send
        + 'static,
{
    let a = ctx.audit();
    let acting = ctx.user()?.id;
    let back = format!("/admin/users/{id}");
    match ctx.state.db.write(move |tx| f(tx, &a, acting)).await {
        Ok(_) => Ok(redirect_with_flash(&back, "success", done)),
        Err(e @ (AccountsError::SelfLockout | AccountsError::LastAdmin)) => {
            Ok(redirect_with_flash(
                &back,
                "error",
                &format!("{}.", crate::validation::capitalised(&e.to_string())),
            ))
        }
        Err(AccountsError::Invalid(errors)) => {
            Ok(redirect_with_flash(&back, "error", &errors.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn set_role(
    ctx: Ctx,
    path: web::Path<i64>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let role: Role = match form.role.parse() {
        Ok(r) => r,
        Err(e) => {
            return Ok(redirect_with_flash(
                &format!("/admin/users/{id}"),
                "error",
                &format!("Role {e}."),
            ));
        }
    };
    change(
        &ctx,
        id,
        &format!("Role changed to {}.", role.label()),
        move |tx, a, acting| users::set_role(tx, a, acting, id, role),
    )
    .await
}

pub async fn disable(ctx: Ctx, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    change(
        &ctx,
        id,
        "User disabled and signed out everywhere.",
        move |tx, a, acting| users::set_disabled(tx, a, acting, id, true),
    )
    .await
}

pub async fn enable(ctx: Ctx, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    change(&ctx, id, "User enabled.", move |tx, a, acting| {
        users::set_disabled(tx, a, acting, id, false)
    })
    .await
}

#[derive(Deserialize)]
pub struct TempPasswordForm {
    password: String,
}

pub async fn reset_password(
    req: HttpRequest,
    ctx: Ctx,
    path: web::Path<i64>,
    form: web::Form<TempPasswordForm>,
) -> Result<HttpResponse, AppError> {
    let user = load(&ctx, path.into_inner()).await?;
    let username = Username::parse(&user.username).map_err(AppError::internal)?;
    let password = form.into_inner().password;
    let hashed = run_blocking(move || {
        NewPassword::parse(&password, username.as_str()).map(|p| hashing::hash(&p))
    })
    .await;
    let hash = match hashed {
        Ok(h) => h,
        Err(problem) => {
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ShowPage {
                    layout: Layout::for_request(&req, format!("User {}", user.username)),
                    is_self: ctx.user()?.id == user.id,
                    factor: super::second_factor::state_of(&ctx, user.id).await?,
                    factor_required: super::second_factor::required_for(&ctx, &user),
                    user,
                    roles: Role::ALL,
                    errors: FieldErrors::single("password", problem),
                },
            );
        }
    };
    let id = user.id;
    change(
        &ctx,
        id,
        &format!(
            "Temporary password set. {} must choose a new one at next sign-in.",
            user.username
        ),
        move |tx, a, _| users::set_password(tx, a, id, &hash, true),
    )
    .await
}
