//! Middleware, outermost first: request id and request span → security
//! headers → error pages → API origin check → authentication (session
//! cookie or bearer token) → body deadline → CSRF. Route-level: rate limits,
//! authorization and, on routes that create things, idempotency keys (see
//! `web::routes`).

pub mod authenticate;
pub mod authorize;
pub mod body_deadline;
pub mod cors;
pub mod csrf;
pub mod error_pages;
pub mod headers;
pub mod idempotency;
pub mod rate_limit;
pub mod request_id;

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::{HttpRequest, ResponseError};

use crate::web::error::AppError;

/// An error as a response, so that outer middleware (headers, error pages)
/// still sees and decorates it.
pub(crate) fn refuse(req: HttpRequest, err: AppError) -> ServiceResponse<BoxBody> {
    ServiceResponse::new(req, err.error_response())
}

/// True for `/api/...` paths, which speak JSON and authenticate by token.
pub(crate) fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}
