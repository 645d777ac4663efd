//! Turns an error response into its final form: a page in the site layout
//! for browsers, a JSON body under `/api/`. Responses a handler rendered
//! itself (a form shown again with its errors) are left alone.

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use askama::Template;
use serde_json::json;

use super::is_api;
use crate::web::context::RequestId;
use crate::web::error::ErrorInfo;
use crate::web::render::Layout;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    message: String,
    request_id: String,
    signed_in: bool,
}

pub async fn error_pages(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let res = next.call(req).await?;
    let status = res.status();
    if status.as_u16() < 400 {
        return Ok(res);
    }
    let info = res.response().extensions().get::<ErrorInfo>().cloned();
    let empty = matches!(
        res.response().body().size(),
        BodySize::None | BodySize::Sized(0)
    );
    if info.is_none() && !empty {
        return Ok(res);
    }
    let info = info.unwrap_or_else(|| generic(status));
    let (req, mut response) = res.into_parts();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let (content_type, body) = if is_api(req.path()) {
        let body = json!({
            "error": {
                "code": info.code,
                "message": info.message,
                "details": info.details,
                "request_id": request_id,
            }
        });
        ("application/json", body.to_string())
    } else {
        let mut layout = Layout::for_request(&req, heading(status, info.code));
        // A flash belongs to the page it was meant for, not to an error page.
        layout.flash = None;
        let page = ErrorPage {
            signed_in: layout.user.is_some(),
            layout,
            status: status.as_u16(),
            heading: heading(status, info.code),
            message: info.message.clone(),
            request_id,
        };
        match page.render() {
            Ok(html) => ("text/html; charset=utf-8", html),
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                ("text/plain; charset=utf-8", info.message.clone())
            }
        }
    };
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().remove(header::CONTENT_LENGTH);
    let response = response.set_body(body.boxed());
    Ok(ServiceResponse::new(req, response))
}

fn heading(status: StatusCode, code: &str) -> &'static str {
    match status.as_u16() {
        401 => "Please sign in",
        _ if code == "setup-link-invalid" => "Setup link not valid",
        _ if code == "setup-complete" => "Already set up",
        403 => "Not allowed",
        404 => "Not found",
        405 => "Not available",
        413 => "Too large",
        422 | 400 => "Please check your input",
        429 => "Too many attempts",
        _ if status.is_server_error() => "Something went wrong",
        _ => "Request refused",
    }
}

/// For errors raised outside our handlers (e.g. an extractor's own refusal).
fn generic(status: StatusCode) -> ErrorInfo {
    let (code, message) = match status.as_u16() {
        400 => ("bad-request", "The request could not be understood."),
        401 => ("unauthenticated", "Please sign in."),
        403 => ("forbidden", "You do not have permission to do that."),
        404 => ("not-found", "That page or record does not exist."),
        405 => ("method-not-allowed", "That action is not available here."),
        413 => ("payload-too-large", "The request is too large."),
        415 => (
            "unsupported-media-type",
            "That kind of content is not accepted here.",
        ),
        429 => ("rate-limited", "Too many requests; try again later."),
        _ if status.is_server_error() => (
            "internal",
            "Something went wrong on our side. The problem has been logged.",
        ),
        _ => ("error", "The request was refused."),
    };
    ErrorInfo {
        code,
        message: message.into(),
        details: Vec::new(),
    }
}
