//! Works out who is calling: a session cookie for pages, a bearer token for
//! `/api/`. Never both: cookies are ignored on the API (no CSRF exposure
//! there) and tokens are ignored on pages. Places a [`Principal`] in the
//! request extensions; refusing is left to route-level authorization.

use std::time::Duration;

use actix_web::body::BoxBody;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};

use super::{is_api, refuse};
use crate::accounts::{sessions, tokens};
use crate::catalog::locations;
use crate::db::DbError;
use crate::web::context::Principal;
use crate::web::error::AppError;
use crate::web::state::AppState;

pub const SESSION_COOKIE: &str = "stockroom_session";

/// A cookie's name as the browser holds it: under TLS stockroom's cookies
/// carry the `__Host-` prefix (the browser then keeps them only if Secure,
/// for this host alone and the whole site; the headers middleware renames
/// them on the way out).
pub fn cookie_name(base: &'static str, tls: bool) -> &'static str {
    match (base, tls) {
        ("stockroom_session", true) => "__Host-stockroom_session",
        ("stockroom_csrf", true) => "__Host-stockroom_csrf",
        ("stockroom_login", true) => "__Host-stockroom_login",
        (name, _) => name,
    }
}

/// Marker: the request carried a session that had timed out.
#[derive(Debug, Clone, Copy)]
pub struct SessionExpired;

/// The session cookie for a new session. `Secure` is added under TLS by
/// the headers middleware, for this cookie as for every other.
pub fn session_cookie(value: String) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish()
}

pub fn removal_cookie() -> Cookie<'static> {
    let mut c = session_cookie(String::new());
    c.set_max_age(CookieDuration::ZERO);
    c
}

/// How stale `last_seen_at` may get before a request refreshes it: a write
/// per page view would cost a synced commit each time.
fn touch_interval(idle: Duration) -> Duration {
    (idle / 10).min(Duration::from_secs(60))
}

pub async fn authenticate(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let path = req.path();
    if path.starts_with("/static/") || path == "/healthz" {
        return next.call(req).await;
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .expect("app state is registered");
    let now = state.clock.now();

    if is_api(path) {
        let Some(auth) = req.headers().get(header::AUTHORIZATION) else {
            req.extensions_mut().insert(Principal::Anonymous);
            return next.call(req).await;
        };
        let secret = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|s| s.trim().to_string());
        let found = match secret {
            Some(secret) => state
                .db
                .read(move |c| {
                    let Some(t) = tokens::authenticate(c, &secret)? else {
                        return Ok(None);
                    };
                    let places = locations::places(c, t.user.id, t.user.role)?;
                    Ok::<_, DbError>(Some((t, places)))
                })
                .await
                .map_err(AppError::from)?,
            None => None,
        };
        let Some((principal, places)) = found else {
            let (req, _) = req.into_parts();
            return Ok(refuse(req, AppError::Unauthenticated));
        };
        if principal
            .last_used_at
            .is_none_or(|t| now.since(t) >= Duration::from_secs(60))
        {
            let id = principal.token_id;
            state
                .db
                .write(move |tx| tokens::touch(tx, id, now).map_err(DbError::from))
                .await
                .map_err(AppError::from)?;
        }
        req.extensions_mut()
            .insert(Principal::Token(Box::new(principal), places));
        return next.call(req).await;
    }

    let session_cookie_name = cookie_name(SESSION_COOKIE, state.tls());
    let Some(cookie) = req
        .cookie(session_cookie_name)
        .map(|c| c.value().to_string())
    else {
        req.extensions_mut().insert(Principal::Anonymous);
        return next.call(req).await;
    };
    let idle = state.config.session.idle_timeout;
    let lookup = state
        .db
        .read(move |c| {
            Ok::<_, DbError>(match sessions::lookup(c, &cookie, now, idle)? {
                Ok(session) => {
                    let places = locations::places(c, session.user.id, session.user.role)?;
                    Ok((session, places))
                }
                Err(why) => Err(why),
            })
        })
        .await
        .map_err(AppError::from)?;
    match lookup {
        Ok((session, places)) => {
            if now.since(session.last_seen_at) >= touch_interval(idle) {
                let id = session.id_hash.clone();
                state
                    .db
                    .write(move |tx| sessions::touch(tx, &id, now).map_err(DbError::from))
                    .await
                    .map_err(AppError::from)?;
            }
            req.extensions_mut()
                .insert(Principal::User(Box::new(session), places));
            next.call(req).await
        }
        Err(why) => {
            if why == sessions::Lookup::Expired {
                let cookie = req
                    .cookie(session_cookie_name)
                    .map(|c| c.value().to_string())
                    .unwrap_or_default();
                let hash = crate::crypto::sha256_hex(&cookie);
                state
                    .db
                    .write(move |tx| sessions::destroy(tx, &hash).map_err(DbError::from))
                    .await
                    .map_err(AppError::from)?;
                req.extensions_mut().insert(SessionExpired);
            }
            req.extensions_mut().insert(Principal::Anonymous);
            let mut res = next.call(req).await?;
            res.response_mut()
                .add_cookie(&removal_cookie())
                .map_err(AppError::internal)?;
            Ok(res)
        }
    }
}
