//! Per-request facts placed in request extensions by middleware, and the
//! extractors handlers use to read them.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::accounts::sessions::Session;
use crate::accounts::tokens::TokenPrincipal;
use crate::accounts::users::User;
use crate::audit;
use crate::domain::actor::{Actor, Places};
use crate::web::error::AppError;
use crate::web::state::AppState;

/// The request id, set by the request-id middleware on every request.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Who is making the request, set by the session middleware with the
/// locations the user may use, read in the same query as the session or
/// token.
#[derive(Debug, Clone)]
pub enum Principal {
    Anonymous,
    User(Box<Session>, Places),
    Token(Box<TokenPrincipal>, Places),
}

impl Principal {
    pub fn user(&self) -> Option<&User> {
        match self {
            Principal::Anonymous => None,
            Principal::User(s, _) => Some(&s.user),
            Principal::Token(t, _) => Some(&t.user),
        }
    }

    /// The one actor every service call of this request takes.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Anonymous => Actor::Anonymous { claimed: None },
            Principal::User(s, places) => Actor::User(s.user.person(places.clone())),
            Principal::Token(t, places) => Actor::Token {
                id: t.token_id,
                name: t.name.clone(),
                user: t.user.person(places.clone()),
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
    /// Who makes this request: the actor every service call takes.
    pub fn actor(&self) -> Actor {
        self.principal.actor()
    }

    /// The audit context for a change made by this request, stamped now.
    pub fn audit(&self) -> audit::Context {
        audit::Context {
            actor: self.actor(),
            ip: self.ip.clone(),
            request_id: Some(self.request_id.clone()),
            at: self.state.clock.now(),
        }
    }

    /// What an orders service call takes besides its input: the audit
    /// context (which carries the actor) and the practice's currency and
    /// today. Orders are changed by a person, so a request without one is
    /// refused here.
    pub fn for_orders(&self) -> Result<(audit::Context, crate::orders::Env), AppError> {
        self.user()?;
        Ok((self.audit(), self.state.order_env()))
    }

    /// The signed-in user; routes reach here only past authorization, so a
    /// missing user is an authorization bug and is refused.
    pub fn user(&self) -> Result<&User, AppError> {
        self.principal.user().ok_or(AppError::Unauthenticated)
    }
}

pub fn client_ip(req: &HttpRequest) -> Option<String> {
    let state = req.app_data::<web::Data<AppState>>()?;
    state
        .client(req.peer_addr(), req.headers(), req.uri())
        .ip
        .map(|ip| ip.to_string())
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
