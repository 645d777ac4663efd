//! The second factor in the browser: the code step of signing in, setting
//! up an authenticator (at sign-in when the policy asks for one, or from
//! one's account), recovery codes, and an administrator's reset.
//!
//! Between the password and the code the browser holds only a challenge
//! cookie (`stockroom_login`); the session cookie is set once both are
//! right. API tokens and the supplier link never pass through here.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::second_factor::{self as factor, Challenge, Enrolment, Proof, State};
use crate::accounts::{lockout, sessions, users};
use crate::audit::{self, Event};
use crate::catalog::locations;
use crate::db::{DbError, run_blocking};
use crate::domain::Username;
use crate::domain::actor::Actor;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::middleware::authenticate::{cookie_name, session_cookie};
use crate::web::middleware::authorize::CHANGE_PASSWORD_PATH;
use crate::web::render::{Layout, redirect, redirect_with_flash, render_status};

pub const CHALLENGE_COOKIE: &str = "stockroom_login";

fn challenge_cookie(value: String) -> Cookie<'static> {
    Cookie::build(CHALLENGE_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds(
            factor::CHALLENGE_LIFETIME.as_secs() as i64,
        ))
        .finish()
}

fn challenge_removal() -> Cookie<'static> {
    let mut c = challenge_cookie(String::new());
    c.set_max_age(CookieDuration::ZERO);
    c
}

/// The QR code for an `otpauth://` address, as inline SVG.
pub fn qr_svg(url: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(url.as_bytes()) else {
        return String::new();
    };
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(220, 220)
        .build();
    // Inline in the page: no XML declaration, and a name for screen readers.
    let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
    svg.replacen(
        "<svg ",
        "<svg role=\"img\" aria-label=\"QR code to scan with your authenticator app\" class=\"qr\" ",
        1,
    )
}

/// After the password: asks for the code (or for setting up an app) in
/// place of signing in.
pub async fn ask(
    ctx: &Ctx,
    user_id: i64,
    next: &str,
    active: bool,
) -> Result<HttpResponse, AppError> {
    let now = ctx.state.clock.now();
    let next = next.to_string();
    let cookie = ctx
        .state
        .db
        .write(move |tx| factor::create_challenge(tx, user_id, &next, now).map_err(DbError::from))
        .await?;
    let mut res = redirect(if active {
        "/login/code"
    } else {
        "/login/setup"
    });
    res.add_cookie(&challenge_cookie(cookie))
        .map_err(AppError::internal)?;
    Ok(res)
}

/// Signs `user` in for real: the lock-out for their name from this address
/// is cleared, a session is created and `auth.login` audited (with how the
/// second step was passed, if there was one). Returns the session cookie.
pub async fn start_session(
    req: &HttpRequest,
    ctx: &Ctx,
    user: &users::User,
    proof: Option<Proof>,
) -> Result<Cookie<'static>, AppError> {
    let key = Username::lockout_key(&user.username);
    let from = ctx.ip.clone().unwrap_or_default();
    let ip = ctx.ip.clone();
    let absolute = ctx.state.config.session.absolute_timeout;
    let agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let audit_ctx = ctx.audit();
    let signed_in = user.clone();
    let new = ctx
        .state
        .db
        .write(move |tx| {
            let a = audit_ctx.with_actor(locations::actor_for(tx, &signed_in)?);
            lockout::clear(tx, &key, &from)?;
            let s = sessions::create(
                tx,
                signed_in.id,
                ip.as_deref(),
                agent.as_deref(),
                a.at,
                absolute,
            )?;
            let mut event = Event::new("auth.login", "user", signed_in.id);
            if let Some(p) = proof {
                event = event.after(serde_json::json!({ "second_factor": p.as_str() }));
            }
            audit::record(tx, &a, event)?;
            if let Some(Proof::RecoveryCode { left }) = proof {
                audit::record(
                    tx,
                    &a,
                    Event::new("auth.recovery_code_used", "user", signed_in.id)
                        .after(serde_json::json!({ "left": left })),
                )?;
            }
            Ok::<_, DbError>(s)
        })
        .await?;
    Ok(session_cookie(new.cookie_value))
}

/// Where a user goes once signed in.
fn landing(user: &users::User, next: &str) -> String {
    if user.must_change_password {
        CHANGE_PASSWORD_PATH.to_string()
    } else {
        next.to_string()
    }
}

async fn current_challenge(req: &HttpRequest, ctx: &Ctx) -> Result<Option<Challenge>, AppError> {
    let name = cookie_name(CHALLENGE_COOKIE, ctx.state.tls());
    let Some(cookie) = req.cookie(name).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    let now = ctx.state.clock.now();
    Ok(ctx
        .state
        .db
        .read(move |c| factor::find_challenge(c, &cookie, now).map_err(DbError::from))
        .await?)
}

fn start_again(message: &str) -> HttpResponse {
    let mut res = redirect_with_flash("/login", "info", message);
    let _ = res.add_cookie(&challenge_removal());
    res
}

const TOO_SLOW: &str = "That sign-in took more than ten minutes. Please sign in again.";
const TOO_MANY: &str = "Too many wrong codes. Please sign in again.";

#[derive(Template)]
#[template(path = "auth/code.html")]
struct CodePage {
    layout: Layout,
    error: Option<&'static str>,
}
crate::page!(CodePage);

pub async fn code_form(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    if current_challenge(&req, &ctx).await?.is_none() {
        return Ok(start_again(TOO_SLOW));
    }
    render_status(
        StatusCode::OK,
        &CodePage {
            layout: Layout::for_request(&req, "Enter your code"),
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

/// A wrong code: counted on the challenge (five end it) and, like a wrong
/// password, against the name from this address (the lock-out).
async fn wrong_code(ctx: &Ctx, challenge: &Challenge) -> Result<bool, AppError> {
    let key = Username::lockout_key(&challenge.user.username);
    let ip = ctx.ip.clone().unwrap_or_default();
    let security = ctx.state.config.security.clone();
    let a = ctx.audit().with_actor(Actor::Anonymous {
        claimed: Some(key.clone()),
    });
    let (id_hash, user_id) = (challenge.id_hash.clone(), challenge.user.id);
    Ok(ctx
        .state
        .db
        .write(move |tx| {
            let ended = factor::challenge_failed(tx, &id_hash)?;
            lockout::record_failure(tx, &key, &ip, a.at, &security)?;
            audit::record(
                tx,
                &a,
                Event::new("auth.second_factor_failed", "user", user_id),
            )?;
            Ok::<_, DbError>(ended)
        })
        .await?)
}

/// Refuses while the name is locked from this address, as the password
/// step does.
async fn check_gate(ctx: &Ctx, user: &users::User) -> Result<(), AppError> {
    let key = Username::lockout_key(&user.username);
    let ip = ctx.ip.clone().unwrap_or_default();
    let now = ctx.state.clock.now();
    let security = ctx.state.config.security.clone();
    let gate = ctx
        .state
        .db
        .read(move |c| lockout::gate(c, &key, &ip, now, &security).map_err(DbError::from))
        .await?;
    match gate {
        lockout::Gate::Locked(until) | lockout::Gate::Slowed(until) => Err(AppError::RateLimited {
            retry_after_secs: until.since(now).as_secs().max(1),
        }),
        lockout::Gate::Open => Ok(()),
    }
}

pub async fn code_submit(
    req: HttpRequest,
    ctx: Ctx,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let Some(challenge) = current_challenge(&req, &ctx).await? else {
        return Ok(start_again(TOO_SLOW));
    };
    check_gate(&ctx, &challenge.user).await?;
    let typed = form.into_inner().code;
    let user_id = challenge.user.id;
    // A recovery code is checked against each unused hash (slow), off the writer.
    let recovery = if factor::as_recovery_code(&typed).is_some() {
        let unused = ctx
            .state
            .db
            .read(move |c| factor::unused_recovery_codes(c, user_id).map_err(DbError::from))
            .await?;
        let t = typed.clone();
        run_blocking(move || factor::find_recovery_code(&t, &unused)).await
    } else {
        None
    };
    let now = ctx.state.clock.now();
    let id_hash = challenge.id_hash.clone();
    let proof = ctx
        .state
        .db
        .write(move |tx| {
            let proof = factor::verify(tx, user_id, &typed, recovery, now)?;
            if proof.is_some() {
                factor::end_challenge(tx, &id_hash)?;
            }
            Ok::<_, DbError>(proof)
        })
        .await?;
    let Some(proof) = proof else {
        if wrong_code(&ctx, &challenge).await? {
            return Ok(start_again(TOO_MANY));
        }
        return render_status(
            StatusCode::BAD_REQUEST,
            &CodePage {
                layout: Layout::for_request(&req, "Enter your code"),
                error: Some(
                    "That code is not right, or was already used. Enter the code your app shows now, or one of your recovery codes.",
                ),
            },
        );
    };
    let session = start_session(&req, &ctx, &challenge.user, Some(proof)).await?;
    let target = landing(&challenge.user, &challenge.next);
    let mut res = match proof {
        Proof::RecoveryCode { left } => redirect_with_flash(
            &target,
            "error",
            &format!(
                "You signed in with a recovery code. {} left: if your phone is lost, set up the app again under Second factor.",
                match left {
                    0 => "None are".to_string(),
                    1 => "One is".to_string(),
                    n => format!("{n} are"),
                }
            ),
        ),
        Proof::Code => redirect(&target),
    };
    res.add_cookie(&session).map_err(AppError::internal)?;
    res.add_cookie(&challenge_removal())
        .map_err(AppError::internal)?;
    Ok(res)
}

#[derive(Template)]
#[template(path = "auth/second_factor_setup.html")]
struct SetupPage {
    layout: Layout,
    /// Where the form posts: at sign-in or from the account page.
    action: &'static str,
    qr: String,
    secret: String,
    /// Why the user is here.
    intro: &'static str,
    error: Option<&'static str>,
}
crate::page!(SetupPage);

#[derive(Template)]
#[template(path = "auth/recovery_codes.html")]
struct RecoveryPage {
    layout: Layout,
    codes: Vec<String>,
    next: String,
    first: bool,
}
crate::page!(RecoveryPage);

const SIGN_IN_INTRO: &str = "Your account needs a second factor: a six-digit code from an app on your phone, as well as your password. Set it up once now.";
const ACCOUNT_INTRO: &str = "Scan the code with an authenticator app (for example Google Authenticator, Microsoft Authenticator or FreeOTP), then enter the six digits it shows.";
const WRONG_SETUP_CODE: &str = "That code is not right. Check that the phone's clock is set automatically, and enter the code the app shows now.";

/// A page shown again with an error is a 400.
fn status_for(error: Option<&str>) -> StatusCode {
    if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}

/// A user's second factor as stored.
pub(crate) async fn state_of(ctx: &Ctx, user_id: i64) -> Result<State, AppError> {
    Ok(ctx
        .state
        .db
        .read(move |c| factor::state(c, user_id).map_err(DbError::from))
        .await?)
}

/// Whether the configured policy makes `user` use a second factor.
pub(crate) fn required_for(ctx: &Ctx, user: &users::User) -> bool {
    ctx.state.config.security.second_factor.requires(user.role)
}

fn setup_page(
    req: &HttpRequest,
    action: &'static str,
    intro: &'static str,
    enrolment: &Enrolment,
    error: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    render_status(
        status_for(error),
        &SetupPage {
            layout: Layout::for_request(req, "Set up your second factor"),
            action,
            qr: qr_svg(&enrolment.url),
            secret: enrolment.secret_grouped(),
            intro,
            error,
        },
    )
}

/// The enrolment shown to `user`: started if need be. `None` when an
/// authenticator is already in use.
async fn enrolment_for(ctx: &Ctx, user: &users::User) -> Result<Option<Enrolment>, AppError> {
    let now = ctx.state.clock.now();
    let u = user.clone();
    Ok(ctx
        .state
        .db
        .write(move |tx| factor::begin(tx, &u, now).map_err(DbError::from))
        .await?)
}

pub async fn setup_form(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let Some(challenge) = current_challenge(&req, &ctx).await? else {
        return Ok(start_again(TOO_SLOW));
    };
    match enrolment_for(&ctx, &challenge.user).await? {
        Some(e) => setup_page(&req, "/login/setup", SIGN_IN_INTRO, &e, None),
        None => Ok(redirect("/login/code")),
    }
}

/// Confirms the code against the secret being set up; on success the
/// app is in use, with fresh recovery codes (returned, to show once).
async fn confirm(ctx: &Ctx, user_id: i64, code: String) -> Result<Option<Vec<String>>, AppError> {
    let (codes, hashes) = run_blocking(factor::generate_recovery_codes).await;
    let a = ctx.audit();
    let confirmed = ctx
        .state
        .db
        .write(move |tx| factor::confirm(tx, &a, user_id, &code, &hashes).map_err(DbError::from))
        .await?;
    Ok(confirmed.then_some(codes))
}

pub async fn setup_submit(
    req: HttpRequest,
    ctx: Ctx,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let Some(challenge) = current_challenge(&req, &ctx).await? else {
        return Ok(start_again(TOO_SLOW));
    };
    check_gate(&ctx, &challenge.user).await?;
    let user_id = challenge.user.id;
    let Some(codes) = confirm(&ctx, user_id, form.into_inner().code).await? else {
        if wrong_code(&ctx, &challenge).await? {
            return Ok(start_again(TOO_MANY));
        }
        return match enrolment_for(&ctx, &challenge.user).await? {
            Some(e) => setup_page(
                &req,
                "/login/setup",
                SIGN_IN_INTRO,
                &e,
                Some(WRONG_SETUP_CODE),
            ),
            None => Ok(redirect("/login/code")),
        };
    };
    let id_hash = challenge.id_hash.clone();
    ctx.state
        .db
        .write(move |tx| factor::end_challenge(tx, &id_hash).map_err(DbError::from))
        .await?;
    let session = start_session(&req, &ctx, &challenge.user, Some(Proof::Code)).await?;
    let mut res = render_status(
        StatusCode::OK,
        &RecoveryPage {
            layout: Layout::for_request(&req, "Your recovery codes"),
            codes,
            next: landing(&challenge.user, &challenge.next),
            first: true,
        },
    )?;
    res.add_cookie(&session).map_err(AppError::internal)?;
    res.add_cookie(&challenge_removal())
        .map_err(AppError::internal)?;
    Ok(res)
}

#[derive(Template)]
#[template(path = "account/second_factor.html")]
struct AccountPage {
    layout: Layout,
    state: State,
    required: bool,
    error: Option<&'static str>,
}
crate::page!(AccountPage);

fn account_page(
    req: &HttpRequest,
    state: State,
    required: bool,
    error: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    render_status(
        status_for(error),
        &AccountPage {
            layout: Layout::for_request(req, "Second factor"),
            state,
            required,
            error,
        },
    )
}

/// One's own second factor: whether it is on, recovery codes left, and
/// setting it up, replacing codes or turning it off.
pub async fn account(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let user = ctx.user()?.clone();
    let required = required_for(&ctx, &user);
    let uid = user.id;
    let state = state_of(&ctx, uid).await?;
    if state == State::SettingUp
        && let Some(e) = enrolment_for(&ctx, &user).await?
    {
        return setup_page(
            &req,
            "/account/second-factor/setup",
            ACCOUNT_INTRO,
            &e,
            None,
        );
    }
    account_page(&req, state, required, None)
}

/// Starts setting up an app from the account page.
pub async fn account_begin(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let user = ctx.user()?.clone();
    enrolment_for(&ctx, &user).await?;
    Ok(redirect("/account/second-factor"))
}

pub async fn account_setup(
    req: HttpRequest,
    ctx: Ctx,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let user = ctx.user()?.clone();
    match confirm(&ctx, user.id, form.into_inner().code).await? {
        Some(codes) => render_status(
            StatusCode::OK,
            &RecoveryPage {
                layout: Layout::for_request(&req, "Your recovery codes"),
                codes,
                next: "/account/second-factor".into(),
                first: true,
            },
        ),
        None => match enrolment_for(&ctx, &user).await? {
            Some(e) => setup_page(
                &req,
                "/account/second-factor/setup",
                ACCOUNT_INTRO,
                &e,
                Some(WRONG_SETUP_CODE),
            ),
            None => Ok(redirect("/account/second-factor")),
        },
    }
}

/// Proves the user holds the app now (for replacing codes or turning it
/// off): a current code, used up like one at sign-in.
async fn current_code_ok(ctx: &Ctx, user_id: i64, code: String) -> Result<bool, AppError> {
    let now = ctx.state.clock.now();
    Ok(ctx
        .state
        .db
        .write(move |tx| {
            Ok::<_, DbError>(factor::verify(tx, user_id, &code, None, now)? == Some(Proof::Code))
        })
        .await?)
}

const WRONG_CURRENT_CODE: &str =
    "That code is not right, or was already used. Enter the code your app shows now.";

pub async fn account_new_codes(
    req: HttpRequest,
    ctx: Ctx,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let user = ctx.user()?.clone();
    let required = required_for(&ctx, &user);
    if !current_code_ok(&ctx, user.id, form.into_inner().code).await? {
        let uid = user.id;
        let state = state_of(&ctx, uid).await?;
        return account_page(&req, state, required, Some(WRONG_CURRENT_CODE));
    }
    let (codes, hashes) = run_blocking(factor::generate_recovery_codes).await;
    let a = ctx.audit();
    let uid = user.id;
    ctx.state
        .db
        .write(move |tx| {
            factor::replace_recovery_codes(tx, &a, uid, &hashes).map_err(DbError::from)
        })
        .await?;
    render_status(
        StatusCode::OK,
        &RecoveryPage {
            layout: Layout::for_request(&req, "Your recovery codes"),
            codes,
            next: "/account/second-factor".into(),
            first: false,
        },
    )
}

pub async fn account_remove(
    req: HttpRequest,
    ctx: Ctx,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let user = ctx.user()?.clone();
    let required = required_for(&ctx, &user);
    let uid = user.id;
    let state = state_of(&ctx, uid).await?;
    if required {
        return account_page(
            &req,
            state,
            required,
            Some(
                "Your role must use a second factor, so it cannot be turned off. If your phone is lost, an administrator can reset it.",
            ),
        );
    }
    if state == State::SettingUp {
        let a = ctx.audit();
        ctx.state
            .db
            .write(move |tx| {
                factor::remove(tx, &a, uid, "auth.second_factor_removed", false)
                    .map_err(DbError::from)
            })
            .await?;
        return Ok(redirect("/account/second-factor"));
    }
    if !current_code_ok(&ctx, uid, form.into_inner().code).await? {
        return account_page(&req, state, required, Some(WRONG_CURRENT_CODE));
    }
    let a = ctx.audit();
    ctx.state
        .db
        .write(move |tx| {
            factor::remove(tx, &a, uid, "auth.second_factor_removed", false).map_err(DbError::from)
        })
        .await?;
    Ok(redirect_with_flash(
        "/account/second-factor",
        "success",
        "The second factor is off: signing in needs only your password.",
    ))
}

/// An administrator resets another user's second factor (a lost phone):
/// the user's sessions end and they set it up again at their next sign-in.
pub async fn admin_reset(ctx: Ctx, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let a = ctx.audit();
    let found = ctx
        .state
        .db
        .write(move |tx| {
            let Some(u) = users::get(tx, id)? else {
                return Ok::<_, DbError>(None);
            };
            let had = factor::remove(tx, &a, id, "auth.second_factor_reset", true)?;
            Ok(Some((u, had)))
        })
        .await?;
    let Some((user, had)) = found else {
        return Err(AppError::NotFound);
    };
    let to = format!("/admin/users/{id}");
    Ok(if had {
        redirect_with_flash(
            &to,
            "success",
            &format!(
                "{}'s second factor was reset and they were signed out. They set up the app again when they next sign in.",
                user.display_name
            ),
        )
    } else {
        redirect_with_flash(
            &to,
            "info",
            &format!("{} has no second factor to reset.", user.display_name),
        )
    })
}
