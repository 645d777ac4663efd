//! Per-request facts placed in request extensions by middleware, and the
//! extractors handlers use to read them.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::accounts::sessions::Session;
use crate::accounts::tokens::TokenPrincipal;
use crate::accounts::users::User;
use crate::audit::{self, Actor};
use crate::web::error::AppError;
use crate::web::state::AppState;

/// The request id, set by the request-id middleware on every request.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Who is making the request, set by the session middleware.
#[derive(Debug, Clone)]
pub enum Principal {
    Anonymous,
    User(Box<Session>),
    Token(Box<TokenPrincipal>),
}

impl Principal {
    pub fn user(&self) -> Option<&User> {
        match self {
            Principal::Anonymous => None,
            Principal::User(s) => Some(&s.user),
            Principal::Token(t) => Some(&t.user),
        }
    }

    pub fn actor(&self) -> Actor {
        match self {
            Principal::Anonymous => Actor::Anonymous { claimed: None },
            Principal::User(s) => Actor::User {
                id: s.user.id,
                username: s.user.username.clone(),
            },
            Principal::Token(t) => Actor::Token {
                id: t.token_id,
                name: t.name.clone(),
                user_id: t.user.id,
            },
        }
    }
}

/// The CSRF token to embed in this request's forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// Everything a handler needs to know about the request besides its input.
pub struct Ctx {
    pub principal: Principal,
    pub request_id: String,
    pub ip: Option<String>,
    pub state: web::Data<AppState>,
}

impl Ctx {
    /// The audit context for a change made by this request, stamped now.
    pub fn audit(&self) -> audit::Context {
        audit::Context {
            actor: self.principal.actor(),
            ip: self.ip.clone(),
            request_id: Some(self.request_id.clone()),
            at: self.state.clock.now(),
        }
    }

    /// What an orders service call takes besides its input: the audit
    /// context, the practice's currency and today, and who acts.
    pub fn for_orders(
        &self,
    ) -> Result<
        (
            audit::Context,
            crate::orders::Env,
            crate::accounts::users::User,
        ),
        AppError,
    > {
        Ok((self.audit(), self.state.order_env(), self.user()?.clone()))
    }

    /// The signed-in user; routes reach here only past authorization, so a
    /// missing user is an authorization bug and is refused.
    pub fn user(&self) -> Result<&User, AppError> {
        self.principal.user().ok_or(AppError::Unauthenticated)
    }
}

pub fn client_ip(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}

impl FromRequest for Ctx {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ext = req.extensions();
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("app state missing")));
        ready(state.map(|state| {
            Ctx {
                principal: ext
                    .get::<Principal>()
                    .cloned()
                    .unwrap_or(Principal::Anonymous),
                request_id: ext
                    .get::<RequestId>()
                    .map(|r| r.0.clone())
                    .unwrap_or_default(),
                ip: client_ip(req),
                state,
            }
        }))
    }
}
