//! Signing in and out.
//!
//! A failed login counts against the typed username in SQLite (whether or
//! not it exists) and takes as long as a real check; the answer is the same
//! for unknown users, wrong passwords and disabled accounts.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::{hashing, lockout, sessions, users};
use crate::audit::{self, Event};
use crate::db::{DbError, run_blocking};
use crate::domain::Username;
use crate::domain::actor::Actor;
use crate::web::accounts::second_factor as second_factor_web;
use crate::web::context::{Ctx, Principal};
use crate::web::error::AppError;
use crate::web::forms::safe_next;
use crate::web::middleware::authenticate::removal_cookie;
use crate::web::middleware::authorize::CHANGE_PASSWORD_PATH;
use crate::web::render::{Layout, redirect, redirect_with_flash, render_status};

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Layout,
    username: String,
    next: String,
    error: Option<&'static str>,
    notice: Option<&'static str>,
}
crate::page!(LoginPage);

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

pub async fn login_form(
    req: HttpRequest,
    ctx: Ctx,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    if ctx.principal.user().is_some() {
        return Ok(redirect(&safe_next(query.next.as_deref())));
    }
    // An admin may have been created from the command line meanwhile.
    if ctx.state.setup_token().is_some()
        && ctx
            .state
            .db
            .read(|c| users::active_admin_exists(c).map_err(DbError::from))
            .await?
    {
        ctx.state.close_setup();
    }
    let notice = if query.expired.is_some() {
        Some("You were signed out because the session ended. Please sign in again.")
    } else if ctx.state.setup_token().is_some() {
        Some(
            "stockroom is not set up yet. Open the setup link printed on the server's console to create the first administrator.",
        )
    } else {
        None
    };
    render_status(
        StatusCode::OK,
        &LoginPage {
            layout: Layout::for_request(&req, "Sign in"),
            username: String::new(),
            next: safe_next(query.next.as_deref()),
            error: None,
            notice,
        },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// Passwords longer than this are refused without hashing them.
const MAX_PASSWORD_BYTES: usize = 1024;

pub async fn login(
    req: HttpRequest,
    ctx: Ctx,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let state = ctx.state.clone();
    let key = Username::lockout_key(&form.username);
    let now = state.clock.now();
    let audit_ctx = ctx.audit().with_actor(Actor::Anonymous {
        claimed: Some(key.clone()),
    });

    // Fails closed: the rate limit in front refuses a request without a
    // client address, so "" is never shared by strangers.
    let ip = ctx.ip.clone().unwrap_or_default();
    let (k, i, security) = (key.clone(), ip.clone(), state.config.security.clone());
    let gate = state
        .db
        .read(move |c| lockout::gate(c, &k, &i, now, &security).map_err(DbError::from))
        .await?;
    if let lockout::Gate::Locked(until) | lockout::Gate::Slowed(until) = gate {
        if state
            .auth_limiter
            .audit_refusal(&format!("user:{key}:{ip}"))
        {
            let a = audit_ctx.clone();
            let k = key.clone();
            let slowed = matches!(gate, lockout::Gate::Slowed(_));
            state
                .db
                .write(move |tx| {
                    audit::record(
                        tx,
                        &a,
                        Event::new("auth.login_refused_locked", "login", &k)
                            .after(serde_json::json!({ "until": until.to_db(), "slowed": slowed })),
                    )
                    .map_err(DbError::from)
                })
                .await?;
        }
        return Err(AppError::RateLimited {
            retry_after_secs: until.since(now).as_secs().max(1),
        });
    }

    let found = match Username::parse(&form.username) {
        Ok(u) => {
            state
                .db
                .read(move |c| users::find_by_username(c, &u).map_err(DbError::from))
                .await?
        }
        Err(_) => None,
    };
    let password = form.password;
    let user = run_blocking(move || {
        if password.len() > MAX_PASSWORD_BYTES {
            hashing::verify_dummy("");
            return None;
        }
        match found {
            Some((user, hash)) => {
                (hashing::verify(&password, &hash) && !user.disabled).then_some(user)
            }
            None => {
                hashing::verify_dummy(&password);
                None
            }
        }
    })
    .await;

    let Some(user) = user else {
        let security = state.config.security.clone();
        let a = audit_ctx.clone();
        let k = key.clone();
        let locked = state
            .db
            .write(move |tx| {
                let locked = lockout::record_failure(tx, &k, &ip, a.at, &security)?;
                audit::record(tx, &a, Event::new("auth.login_failed", "login", &k))?;
                if let Some(until) = locked {
                    audit::record(
                        tx,
                        &a,
                        Event::new("auth.lockout", "login", &k).after(
                            serde_json::json!({ "locked_until": until.to_db(), "from": ip }),
                        ),
                    )?;
                }
                Ok::<_, DbError>(locked)
            })
            .await?;
        if let Some(until) = locked {
            return Err(AppError::RateLimited {
                retry_after_secs: until.since(now).as_secs().max(1),
            });
        }
        return render_status(
            StatusCode::BAD_REQUEST,
            &LoginPage {
                layout: Layout::for_request(&req, "Sign in"),
                username: form.username.chars().take(64).collect(),
                next: safe_next(form.next.as_deref()),
                error: Some("Wrong username or password."),
                notice: None,
            },
        );
    };

    // The password is right. A second factor, if the user has one or their
    // role needs one, comes before the session.
    let next = safe_next(form.next.as_deref());
    let factor = second_factor_web::state_of(&ctx, user.id).await?;
    if factor.is_active() || second_factor_web::required_for(&ctx, &user) {
        return second_factor_web::ask(&ctx, user.id, &next, factor.is_active()).await;
    }
    let session = second_factor_web::start_session(&req, &ctx, &user, None).await?;
    let target = if user.must_change_password {
        CHANGE_PASSWORD_PATH.to_string()
    } else {
        next
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, target))
        .cookie(session)
        .finish())
}

pub async fn logout(ctx: Ctx) -> Result<HttpResponse, AppError> {
    if let Principal::User(session, _) = &ctx.principal {
        let id_hash = session.id_hash.clone();
        let a = ctx.audit();
        let user_id = session.user.id;
        ctx.state
            .db
            .write(move |tx| {
                sessions::destroy(tx, &id_hash)?;
                audit::record(tx, &a, Event::new("auth.logout", "user", user_id))?;
                Ok::<_, DbError>(())
            })
            .await?;
    }
    let mut res = redirect_with_flash("/login", "info", "You have signed out.");
    res.add_cookie(&removal_cookie())
        .map_err(AppError::internal)?;
    Ok(res)
}
