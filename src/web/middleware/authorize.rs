//! Route-level authorization: every route names its [`Access`]; this
//! middleware enforces it before the handler runs.

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse};

use super::authenticate::SessionExpired;
use super::{is_api, refuse};
use crate::accounts::tokens::Scope;
use crate::domain::{Permission, Role};
use crate::web::context::Principal;
use crate::web::error::AppError;

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user, even one who must change their password first.
    SignedIn,
    /// A signed-in user whose role has the permission.
    Perm(Permission),
}

impl Access {
    /// Would a signed-in user with `role` get past this (ignoring the
    /// must-change-password detour)?
    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::Public | Access::SignedIn => true,
            Access::Perm(p) => role.may(p),
        }
    }
}

pub const CHANGE_PASSWORD_PATH: &str = "/account/password";

pub async fn authorize(
    access: Access,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if access == Access::Public {
        return next.call(req).await;
    }
    let principal = req
        .extensions()
        .get::<Principal>()
        .cloned()
        .unwrap_or(Principal::Anonymous);
    let api = is_api(req.path());
    let verdict = match &principal {
        Principal::Anonymous if api => Err(AppError::Unauthenticated),
        Principal::Anonymous => {
            let expired = req.extensions().get::<SessionExpired>().is_some();
            return Ok(redirect_to_login(req, expired));
        }
        // Tokens are for the API only, sessions for pages only.
        Principal::Token(_, _) if !api => Err(AppError::Unauthenticated),
        Principal::User(_, _) if api => Err(AppError::Unauthenticated),
        Principal::Token(t, _) => {
            let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
            if t.user.must_change_password {
                // A temporary password was set (by an administrator, after
                // a compromise perhaps): the user's tokens wait for them.
                Err(AppError::Refused(crate::domain::refusal::Refusal::new(
                    crate::accounts::PASSWORD_CHANGE_REQUIRED,
                    format!(
                        "{} must choose a new password before this token works again.",
                        t.user.username
                    ),
                )))
            } else if t.scope == Scope::Read && !safe {
                Err(AppError::Forbidden)
            } else {
                role_check(access, t.user.role)
            }
        }
        Principal::User(s, _) => {
            if s.user.must_change_password && access != Access::SignedIn {
                let (req, _) = req.into_parts();
                let res = HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, CHANGE_PASSWORD_PATH))
                    .finish();
                return Ok(ServiceResponse::new(req, res));
            }
            role_check(access, s.user.role)
        }
    };
    match verdict {
        Ok(()) => next.call(req).await,
        Err(e) => {
            let (req, _) = req.into_parts();
            Ok(refuse(req, e))
        }
    }
}

fn role_check(access: Access, role: Role) -> Result<(), AppError> {
    if access.allows(role) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn redirect_to_login(req: ServiceRequest, expired: bool) -> ServiceResponse<BoxBody> {
    let mut target = String::from("/login?next=");
    let next = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    };
    let is_get = req.method() == Method::GET;
    target.push_str(&urlencode(if is_get { &next } else { "/" }));
    if expired {
        target.push_str("&expired=1");
    }
    let (req, _) = req.into_parts();
    let res = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, target))
        .finish();
    ServiceResponse::new(req, res)
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_string())
        .unwrap_or_default()
}
