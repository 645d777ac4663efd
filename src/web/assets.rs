//! Static files embedded in the binary, served with content-hash URLs.
//!
//! Templates link `asset_url("app.css")` = `/static/app.css?v=<hash>`; a
//! request carrying the current hash is cacheable for a year (`immutable`),
//! anything else is revalidated by ETag. A new release changes the hash,
//! so browsers never run stale assets.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::header::{self, ETag, EntityTag};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

use crate::web::error::AppError;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

static HASHES: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    Static::iter()
        .map(|name| {
            let file = Static::get(&name).expect("listed file exists");
            let hash = hex::encode(file.metadata.sha256_hash());
            (name.into_owned(), hash[..16].to_string())
        })
        .collect()
});

/// The versioned URL of an embedded file. Panics in tests when the file is
/// missing, so a broken link cannot ship.
pub fn asset_url(name: &str) -> String {
    match HASHES.get(name) {
        Some(h) => format!("/static/{name}?v={h}"),
        None => {
            debug_assert!(false, "no embedded asset {name}");
            format!("/static/{name}")
        }
    }
}

#[derive(serde::Deserialize)]
pub struct Version {
    v: Option<String>,
}

pub async fn serve(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<Version>,
) -> Result<HttpResponse, AppError> {
    let name = path.into_inner();
    let file = Static::get(&name).ok_or(AppError::NotFound)?;
    let hash = HASHES.get(&name).ok_or(AppError::NotFound)?;
    let etag = EntityTag::new_strong(hash.clone());
    let cache = if query.v.as_deref() == Some(hash.as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=0, must-revalidate"
    };
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag.to_string()));
    if matches {
        return Ok(HttpResponse::NotModified()
            .insert_header(ETag(etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type(file.metadata.mimetype())
        .insert_header(ETag(etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(file.data.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_versioned_url() {
        for name in ["app.css", "app.js", "htmx.min.js", "favicon.svg"] {
            let url = asset_url(name);
            assert!(url.starts_with(&format!("/static/{name}?v=")), "{url}");
        }
    }
}
