//! CSRF protection for every state-changing page request.
//!
//! Signed-in users: the synchronizer token stored in their session row.
//! Anonymous forms (login, setup): a random token in an `HttpOnly`,
//! `SameSite=Strict` cookie that the form must echo (double submit). The
//! token may come as the `X-CSRF-Token` header (htmx) or as the `csrf_token`
//! field of a url-encoded or multipart form (a file upload without
//! JavaScript), which this middleware reads and puts back.
//! Independently, a request whose `Origin` is another site, or whose
//! `Sec-Fetch-Site` says cross-site, is refused. A refusal is a 403 before
//! any handler runs, so nothing changes. `/api/` is exempt: it authenticates
//! by bearer token only, which a browser never sends on its own.

use actix_web::body::BoxBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{Error, HttpMessage};
use futures_util::StreamExt;

use super::{is_api, refuse};
use crate::crypto::{constant_time_eq, random_token};
use crate::web::context::{CsrfToken, Principal};
use crate::web::error::AppError;
use crate::web::state::AppState;

pub const COOKIE: &str = "stockroom_csrf";
pub const HEADER: &str = "x-csrf-token";
pub const FIELD: &str = "csrf_token";

pub async fn csrf(
    mut req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let path = req.path();
    if is_api(path) || path.starts_with("/static/") || path == "/healthz" || path == "/readyz" {
        return next.call(req).await;
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .expect("app state is registered");
    let session_token = match req.extensions().get::<Principal>() {
        Some(Principal::User(s, _)) => Some(s.csrf_token.clone()),
        _ => None,
    };
    let cookie_token = req
        .cookie(crate::web::middleware::authenticate::cookie_name(
            COOKIE,
            state.tls(),
        ))
        .map(|c| c.value().to_string())
        .filter(|v| v.len() >= 32);
    let mut new_cookie = None;
    let expected = match (&session_token, &cookie_token) {
        (Some(t), _) => t.clone(),
        (None, Some(c)) => c.clone(),
        (None, None) => {
            let t = random_token(32);
            new_cookie = Some(t.clone());
            t
        }
    };
    req.extensions_mut().insert(CsrfToken(expected.clone()));

    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method {
        if let Err(e) = check_origin(&req) {
            let (req, _) = req.into_parts();
            return Ok(refuse(req, e));
        }
        // Multipart bodies (file uploads) only from signed-in users, and up
        // to the import's own file limit with room for the form around it.
        let multipart_limit = session_token
            .as_ref()
            .map(|_| (2 * crate::csv_io::MAX_BYTES).max(state.config.http.max_body_bytes));
        let limits = (state.config.http.max_body_bytes, multipart_limit);
        let presented = match presented_token(&mut req, limits).await {
            Ok(t) => t,
            Err(e) => {
                let (req, _) = req.into_parts();
                return Ok(refuse(req, e));
            }
        };
        // A fresh anonymous token cannot have been presented legitimately.
        let ok = new_cookie.is_none()
            && presented.is_some_and(|p| constant_time_eq(p.as_bytes(), expected.as_bytes()));
        if !ok {
            tracing::warn!(path = %req.path(), "CSRF check failed");
            let (req, _) = req.into_parts();
            return Ok(refuse(req, AppError::Csrf));
        }
    }

    let mut res = next.call(req).await?;
    if let Some(token) = new_cookie {
        let cookie = Cookie::build(COOKIE, token)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .finish();
        res.response_mut()
            .add_cookie(&cookie)
            .map_err(AppError::internal)?;
    }
    Ok(res)
}

/// Refuses requests a browser marks as coming from another site.
fn check_origin(req: &ServiceRequest) -> Result<(), AppError> {
    if let Some(site) = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        && site == "cross-site"
    {
        return Err(AppError::Csrf);
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| AppError::Csrf)?;
        if !same_origin(req, origin) {
            return Err(AppError::Csrf);
        }
    }
    Ok(())
}

/// Compares an `Origin` header with this request's own scheme and host.
pub(crate) fn same_origin(req: &ServiceRequest, origin: &str) -> bool {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return false;
    };
    let client = state.client(req.peer_addr(), req.headers(), req.uri());
    let own = format!("{}://{}", client.scheme, client.host);
    origin.eq_ignore_ascii_case(&own)
}

/// The token from the header, or from a url-encoded body (put back for the
/// handler afterwards).
async fn presented_token(
    req: &mut ServiceRequest,
    (form_limit, multipart_limit): (usize, Option<usize>),
) -> Result<Option<String>, AppError> {
    if let Some(v) = req.headers().get(HEADER) {
        return Ok(v.to_str().ok().map(str::to_string));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let multipart = content_type.starts_with("multipart/form-data");
    let limit = match (multipart, multipart_limit) {
        (true, Some(l)) => l,
        (true, None) => return Ok(None),
        (false, _) if content_type.starts_with("application/x-www-form-urlencoded") => form_limit,
        (false, _) => return Ok(None),
    };
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::unreadable_body(&e))?;
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            if !multipart {
                return Err(AppError::PayloadTooLarge);
            }
            // A file too large for the upload: the token comes before the
            // file in the form, so it is in what was read. The handler gets
            // the whole body back, reads on as far as it will, and says on
            // the form that the file is too large (one limit, one message)
            // instead of a bare error page.
            let prefix = body.freeze();
            let token = multipart_token(req.headers(), prefix.clone()).await;
            let rest: std::pin::Pin<
                Box<dyn futures_util::Stream<Item = Result<Bytes, actix_web::error::PayloadError>>>,
            > = Box::pin(futures_util::stream::once(async move { Ok(prefix) }).chain(payload));
            req.set_payload(actix_web::dev::Payload::from(rest));
            return Ok(token);
        }
    }
    let body: Bytes = body.freeze();
    let token = if multipart {
        multipart_token(req.headers(), body.clone()).await
    } else {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v))
    };
    req.set_payload(actix_web::dev::Payload::from(body));
    Ok(token)
}

/// The `csrf_token` part of a multipart form (a file upload sent without
/// JavaScript). Parts before it are read and dropped; a malformed body
/// yields no token, and so a refusal.
async fn multipart_token(headers: &header::HeaderMap, body: Bytes) -> Option<String> {
    let stream =
        futures_util::stream::once(async move { Ok::<_, actix_web::error::PayloadError>(body) });
    let mut form = actix_multipart::Multipart::new(headers, stream);
    while let Some(part) = form.next().await {
        let mut part = part.ok()?;
        let wanted = part.name() == Some(FIELD);
        let mut value = BytesMut::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.ok()?;
            if wanted {
                if value.len() + chunk.len() > 256 {
                    return None;
                }
                value.extend_from_slice(&chunk);
            }
        }
        if wanted {
            return String::from_utf8(value.to_vec()).ok();
        }
    }
    None
}
