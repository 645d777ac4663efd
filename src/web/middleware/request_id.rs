//! A request id on every request (response header `X-Request-Id`, log
//! field), and one span per request that ends with a log line giving method,
//! route, status, latency and user.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;

use crate::web::context::{Principal, RequestId};

pub const HEADER: &str = "x-request-id";

/// Paths whose last part is a secret (a supplier's confirmation link is the
/// permission itself): logged without it.
const SECRET_PATHS: &[&str] = &["/supplier/confirm/"];

/// The path as the log may show it.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match SECRET_PATHS.iter().find(|p| path.starts_with(**p)) {
        Some(prefix) => format!("{prefix}[redacted]").into(),
        None => path.into(),
    }
}

pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = uuid::Uuid::now_v7().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %loggable_path(req.path()),
        route = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
        user_id = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status().as_u16();
    span.record("status", status);
    span.record("latency_ms", started.elapsed().as_secs_f64() * 1000.0);
    if let Some(route) = res.request().match_pattern() {
        span.record("route", route.as_str());
    }
    if let Some(user) = res
        .request()
        .extensions()
        .get::<Principal>()
        .and_then(|p| p.user().map(|u| u.id))
    {
        span.record("user_id", user);
    }
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!("request finished");
        } else {
            tracing::info!("request finished");
        }
    });
    res.headers_mut().insert(
        HeaderName::from_static(HEADER),
        HeaderValue::from_str(&id).expect("uuid is a valid header value"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn confirmation_tokens_stay_out_of_the_log() {
        assert_eq!(
            loggable_path("/supplier/confirm/42.1767225600.c2lnbmF0dXJl"),
            "/supplier/confirm/[redacted]"
        );
        assert_eq!(loggable_path("/orders/42"), "/orders/42");
    }
}
