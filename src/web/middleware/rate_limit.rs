//! Per-client-IP rate limits on login, setup and password endpoints.
//!
//! Fails closed: a request whose client address cannot be determined is
//! refused. The limiter lives in memory; what must survive a restart (the
//! per-username lock-out) lives in SQLite.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::refuse;
use crate::audit::{self, Event};
use crate::domain::actor::Actor;
use crate::web::context::RequestId;
use crate::web::error::AppError;
use crate::web::state::AppState;

pub struct AuthLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    /// One audit row per refused key per minute: refusals are audited, but a
    /// flood of them must not become a flood of synced writes.
    refusal_audits: DefaultKeyedRateLimiter<String>,
}

impl AuthLimiter {
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).expect("nonzero"))
            .allow_burst(NonZeroU32::new(burst.max(1)).expect("nonzero"));
        AuthLimiter {
            limiter: RateLimiter::keyed(quota),
            refusal_audits: RateLimiter::keyed(Quota::per_minute(NonZeroU32::MIN)),
        }
    }

    /// Whether a refusal for `key` (an IP, a username) should be audited now.
    pub fn audit_refusal(&self, key: &str) -> bool {
        self.refusal_audits.check_key(&key.to_string()).is_ok()
    }

    /// `Err(wait)` when `ip` must wait before trying again.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets clients that have been quiet; called periodically.
    pub fn shrink(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        self.refusal_audits.retain_recent();
        self.refusal_audits.shrink_to_fit();
    }
}

pub async fn limit_auth(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .expect("app state is registered");
    let client_ip = state.client(req.peer_addr(), req.headers(), req.uri()).ip;
    let verdict = match client_ip {
        Some(ip) => state.auth_limiter.check(ip),
        None => Err(Duration::from_secs(60)),
    };
    let Err(wait) = verdict else {
        return next.call(req).await;
    };
    let retry_after_secs = wait.as_secs().max(1);
    let ip = client_ip.map(|a| a.to_string());
    if !state
        .auth_limiter
        .audit_refusal(&format!("ip:{}", ip.as_deref().unwrap_or("unknown")))
    {
        let (req, _) = req.into_parts();
        return Ok(refuse(req, AppError::RateLimited { retry_after_secs }));
    }
    let ctx = audit::Context {
        actor: Actor::Anonymous { claimed: None },
        ip,
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        at: state.clock.now(),
    };
    let path = req.path().to_string();
    state
        .db
        .write(move |tx| {
            audit::record(
                tx,
                &ctx,
                Event {
                    action: "auth.rate_limited",
                    entity_type: "endpoint",
                    entity_id: Some(path),
                    ..Event::default()
                },
            )
            .map_err(crate::db::DbError::from)
        })
        .await
        .map_err(AppError::from)?;
    let (req, _) = req.into_parts();
    Ok(refuse(req, AppError::RateLimited { retry_after_secs }))
}

use actix_web::HttpMessage;
