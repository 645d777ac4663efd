//! Security headers on every response, errors and static files included.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::web::state::AppState;

/// No inline scripts or styles anywhere; htmx is configured not to inject
/// its indicator styles so this needs no exception.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// For downloads: no script, no plugin, no requests, a unique origin.
pub const DOWNLOAD_CSP: &str = "sandbox; default-src 'none'";

/// `application/json` → `application/json; charset=utf-8` (and the same for
/// JavaScript, CSV and other text); `None` when already said or not text.
fn with_charset(content_type: &str) -> Option<HeaderValue> {
    let lower = content_type.to_ascii_lowercase();
    if lower.contains("charset=") {
        return None;
    }
    let essence = lower.split(';').next().unwrap_or("").trim();
    let textual = essence.starts_with("text/")
        || matches!(
            essence,
            "application/json" | "application/javascript" | "application/problem+json"
        );
    textual
        .then(|| HeaderValue::from_str(&format!("{}; charset=utf-8", content_type.trim())).ok())
        .flatten()
}

pub const PERMISSIONS_POLICY: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), interest-cohort=()";

fn is_secure(cookie: &HeaderValue) -> bool {
    cookie.to_str().is_ok_and(|c| {
        c.split(';')
            .any(|part| part.trim().eq_ignore_ascii_case("secure"))
    })
}

pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let tls = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.tls());
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    let set = |h: &mut header::HeaderMap, name: &'static str, value: &'static str| {
        h.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    };
    // A download (CSV, PDF …) opened in the browser runs nothing and
    // reaches nothing: it is a document, not a page of this site.
    let attachment = h
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("attachment")
        });
    if attachment {
        set(h, "content-security-policy", DOWNLOAD_CSP);
    } else {
        set(h, "content-security-policy", CSP);
    }
    // Text the browser reads is UTF-8, said so rather than guessed.
    if let Some(with_charset) = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(with_charset)
    {
        h.insert(header::CONTENT_TYPE, with_charset);
    }
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "same-origin");
    set(h, "permissions-policy", PERMISSIONS_POLICY);
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-resource-policy", "same-origin");
    if tls {
        set(h, "strict-transport-security", "max-age=31536000");
        // Under TLS every cookie is Secure, whichever code set it, and
        // stockroom's own carry the `__Host-` prefix.
        let cookies: Vec<HeaderValue> = h.get_all(header::SET_COOKIE).cloned().collect();
        if !cookies.is_empty() {
            h.remove(header::SET_COOKIE);
            for c in cookies {
                let text = c.to_str().unwrap_or_default();
                let host_only = ["stockroom_session=", "stockroom_csrf=", "stockroom_login="];
                let mut text = if host_only.iter().any(|p| text.starts_with(p)) {
                    format!("__Host-{text}")
                } else {
                    text.to_string()
                };
                if !is_secure(&c) {
                    text.push_str("; Secure");
                }
                h.append(
                    header::SET_COOKIE,
                    HeaderValue::from_str(&text).unwrap_or(c),
                );
            }
        }
    }
    // Pages hold patient-adjacent data on shared PCs: never cache unless the
    // handler said otherwise (static files do).
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    Ok(res)
}
