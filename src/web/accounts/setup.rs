//! First-run setup: create the first administrator with the one-time token.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::users::{self, NewUser};
use crate::accounts::{AccountsError, sessions, setup};
use crate::audit::{self, Event};
use crate::db::{DbError, run_blocking};
use crate::domain::actor::{Actor, Places};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::middleware::authenticate::session_cookie;
use crate::web::render::{Layout, redirect_with_flash, render_status};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    token: String,
    username: String,
    display_name: String,
    errors: FieldErrors,
}
crate::page!(SetupPage);

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// The token is valid only while no admin exists, whatever memory says.
async fn check_token(state: &AppState, presented: &str) -> Result<(), AppError> {
    let token = state.setup_token().ok_or(AppError::SetupComplete)?;
    if state
        .db
        .read(|c| users::active_admin_exists(c).map_err(DbError::from))
        .await?
    {
        state.close_setup();
        return Err(AppError::SetupComplete);
    }
    if token.matches(presented) {
        Ok(())
    } else {
        Err(AppError::SetupLinkInvalid)
    }
}

pub async fn form(
    req: HttpRequest,
    ctx: Ctx,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token.unwrap_or_default();
    if let Err(e) = check_token(&ctx.state, &token).await {
        audit_refusal(&ctx, "setup.refused").await?;
        return Err(e);
    }
    render_status(
        StatusCode::OK,
        &SetupPage {
            layout: Layout::for_request(&req, "Set up stockroom"),
            token,
            username: String::new(),
            display_name: String::new(),
            errors: FieldErrors::default(),
        },
    )
}

#[derive(Deserialize)]
pub struct SetupForm {
    token: String,
    username: String,
    display_name: String,
    password: String,
    confirm: String,
}

pub async fn submit(
    req: HttpRequest,
    ctx: Ctx,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    if let Err(e) = check_token(&ctx.state, &form.token).await {
        audit_refusal(&ctx, "setup.refused").await?;
        return Err(e);
    }
    let (u, d, p, c) = (
        form.username.clone(),
        form.display_name.clone(),
        form.password.clone(),
        form.confirm.clone(),
    );
    let prepared = run_blocking(move || {
        let mut result = NewUser::prepare(&u, &d, "admin", &p, false);
        if p != c {
            let mut errors = result.err().unwrap_or_default();
            errors.add("confirm", "does not match the password");
            result = Err(errors);
        }
        result
    })
    .await;
    let admin = match prepared {
        Ok(a) => a,
        Err(errors) => {
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SetupPage {
                    layout: Layout::for_request(&req, "Set up stockroom"),
                    token: form.token,
                    username: form.username,
                    display_name: form.display_name,
                    errors,
                },
            );
        }
    };
    let a = ctx.audit();
    let absolute = ctx.state.config.session.absolute_timeout;
    let ip = ctx.ip.clone();
    // An administrator's account needs a second factor (unless the
    // configuration says otherwise): the session waits until it is set up.
    let needs_factor = ctx
        .state
        .config
        .security
        .second_factor
        .requires(crate::domain::Role::Admin);
    let (user, session) = ctx
        .state
        .db
        .write(move |tx| {
            let user = setup::complete(tx, &a, &admin)?;
            if needs_factor {
                return Ok::<_, AccountsError>((user, None));
            }
            let s = sessions::create(tx, user.id, ip.as_deref(), None, a.at, absolute)?;
            let a = a.with_actor(Actor::User(user.person(Places::All)));
            audit::record(tx, &a, Event::new("auth.login", "user", user.id))?;
            Ok((user, Some(s)))
        })
        .await?;
    ctx.state.close_setup();
    tracing::info!(
        user_id = user.id,
        "first administrator created; setup closed"
    );
    let Some(session) = session else {
        return crate::web::accounts::second_factor::ask(&ctx, user.id, "/", false).await;
    };
    let mut res = redirect_with_flash(
        "/",
        "success",
        "Welcome to stockroom. Your administrator account is ready.",
    );
    res.add_cookie(&session_cookie(session.cookie_value))
        .map_err(AppError::internal)?;
    Ok(res)
}

async fn audit_refusal(ctx: &Ctx, action: &'static str) -> Result<(), AppError> {
    let a = ctx.audit();
    ctx.state
        .db
        .write(move |tx| {
            audit::record(
                tx,
                &a,
                Event {
                    action,
                    entity_type: "setup",
                    ..Event::default()
                },
            )
            .map_err(DbError::from)
        })
        .await?;
    Ok(())
}
