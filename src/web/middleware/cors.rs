//! Cross-origin calls to `/api/`: refused unless the origin is on the
//! configured allow-list (`http.allowed_origins`). Requests without an
//! `Origin` header (scripts, curl, other servers) are not browsers acting
//! for another site and pass on to token authentication.

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};

use super::csrf::same_origin;
use super::{is_api, refuse};
use crate::web::error::AppError;
use crate::web::state::AppState;

pub async fn api_origin(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if !is_api(req.path()) {
        return next.call(req).await;
    }
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return next.call(req).await;
    };
    if same_origin(&req, &origin) {
        return next.call(req).await;
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .expect("app state is registered");
    let allowed = state
        .config
        .http
        .allowed_origins
        .iter()
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(&origin));
    if !allowed {
        let (req, _) = req.into_parts();
        return Ok(refuse(req, AppError::CrossOrigin));
    }
    let value = HeaderValue::from_str(&origin).map_err(AppError::internal)?;
    if req.method() == Method::OPTIONS {
        let (req, _) = req.into_parts();
        let res = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, value))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_METHODS,
                "GET, POST, PUT, PATCH, DELETE",
            ))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "authorization, content-type",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .insert_header((header::VARY, "Origin"))
            .finish();
        return Ok(ServiceResponse::new(req, res));
    }
    let mut res = next.call(req).await?;
    res.headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Origin"));
    Ok(res)
}
