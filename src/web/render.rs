//! The site layout, flash messages and the helpers that turn templates into
//! responses.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use askama::Template;

use super::assets::asset_url;
use super::context::{CsrfToken, Principal};
use crate::domain::Permission;
use crate::web::error::AppError;

pub const FLASH_COOKIE: &str = "stockroom_flash";

#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct NavUser {
    pub display_name: String,
    pub username: String,
    pub role_label: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// `success`, `info` or `error`; a CSS class.
    pub kind: &'static str,
    pub message: String,
}

/// What the base template needs on every page.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub user: Option<NavUser>,
    pub nav: Vec<NavItem>,
    pub flash: Option<Flash>,
    pub csrf: String,
    pub version: &'static str,
    pub css_url: String,
    pub js_urls: Vec<String>,
    pub favicon_url: String,
    /// Seconds of inactivity after which the server ends the session; the
    /// page leaves itself for the login screen then, so a shared PC does
    /// not keep showing data nobody is signed in to see.
    pub idle_logout_seconds: u64,
}

impl Layout {
    /// A fresh idempotency key for a form that creates something: sent
    /// twice (a double tap, a retry after a lost answer), it is carried
    /// out once (see `middleware::idempotency`).
    pub fn form_key(&self) -> String {
        crate::crypto::random_token(18)
    }
}

/// One link in the navigation, as an area declares it (`web::<area>::NAV`).
#[derive(Debug, Clone, Copy)]
pub struct NavLink {
    /// Where it stands: lower first. Areas leave gaps for those to come.
    pub position: u16,
    pub href: &'static str,
    pub label: &'static str,
    /// Shown only to roles with this permission (`None`: everyone signed in).
    pub permission: Option<Permission>,
}

/// The navigation: every area's links, in order of position.
pub fn nav() -> &'static [NavLink] {
    static NAV: std::sync::OnceLock<Vec<NavLink>> = std::sync::OnceLock::new();
    NAV.get_or_init(|| {
        use crate::web::*;
        let mut all: Vec<NavLink> = [
            home::NAV,
            accounts::NAV,
            catalog::NAV,
            suppliers::NAV,
            stock::NAV,
            orders::NAV,
            purchasing::NAV,
            dispatch::NAV,
            jobs::NAV,
            notify::NAV,
            imports::NAV,
            audit::NAV,
        ]
        .concat();
        all.sort_by_key(|l| l.position);
        all
    })
}

impl Layout {
    pub fn for_request(req: &HttpRequest, title: impl Into<String>) -> Layout {
        // Cookie parsing caches into the extensions: do it before borrowing them.
        let flash = read_flash(req);
        let ext = req.extensions();
        let principal = ext
            .get::<Principal>()
            .cloned()
            .unwrap_or(Principal::Anonymous);
        let user = match &principal {
            Principal::User(s, _) => Some(&s.user),
            _ => None,
        };
        let path = req.path();
        let nav = match user {
            Some(u) if !u.must_change_password => nav()
                .iter()
                .filter(|l| l.permission.is_none_or(|p| u.role.may(p)))
                .map(|l| NavItem {
                    href: l.href,
                    label: l.label,
                    active: if l.href == "/" {
                        path == "/"
                    } else {
                        path.starts_with(l.href)
                    },
                })
                .collect(),
            _ => Vec::new(),
        };
        let idle_logout_seconds = req
            .app_data::<actix_web::web::Data<crate::web::state::AppState>>()
            .map_or(0, |s| s.config.session.idle_timeout.as_secs());
        Layout {
            idle_logout_seconds,
            title: title.into(),
            user: user.map(|u| NavUser {
                display_name: u.display_name.clone(),
                username: u.username.clone(),
                role_label: u.role.label(),
            }),
            nav,
            flash,
            csrf: ext
                .get::<CsrfToken>()
                .map(|t| t.0.clone())
                .unwrap_or_default(),
            version: env!("CARGO_PKG_VERSION"),
            css_url: asset_url("app.css"),
            js_urls: vec![asset_url("htmx.min.js"), asset_url("app.js")],
            favicon_url: asset_url("favicon.svg"),
        }
    }
}

/// A template that extends `base.html`.
pub trait Page: Template {
    fn layout(&self) -> &Layout;
}

/// Implements [`Page`] for template structs with a `layout` field.
#[macro_export]
macro_rules! page {
    ($($t:ty),+ $(,)?) => {$(
        impl $crate::web::render::Page for $t {
            fn layout(&self) -> &$crate::web::render::Layout { &self.layout }
        }
    )+};
}

/// Renders a page with `status`; a flash shown on it is cleared.
pub fn render_status(status: StatusCode, page: &impl Page) -> Result<HttpResponse, AppError> {
    let body = page.render()?;
    let mut res = HttpResponse::build(status);
    res.content_type("text/html; charset=utf-8");
    if page.layout().flash.is_some() {
        res.cookie(flash_removal());
    }
    Ok(res.body(body))
}

pub fn render(page: &impl Page) -> Result<HttpResponse, AppError> {
    render_status(StatusCode::OK, page)
}

/// 303 See Other to `location`, carrying a one-time message.
pub fn redirect_with_flash(location: &str, kind: &'static str, message: &str) -> HttpResponse {
    let value = serde_urlencoded::to_string([("k", kind), ("m", message)]).unwrap_or_default();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .cookie(
            Cookie::build(FLASH_COOKIE, value)
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .finish(),
        )
        .finish()
}

pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

fn read_flash(req: &HttpRequest) -> Option<Flash> {
    let cookie = req.cookie(FLASH_COOKIE)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(cookie.value()).ok()?;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let kind = match get("k")?.as_str() {
        "success" => "success",
        "error" => "error",
        _ => "info",
    };
    let message: String = get("m")?.chars().take(300).collect();
    Some(Flash { kind, message })
}

fn flash_removal() -> Cookie<'static> {
    let mut c = Cookie::build(FLASH_COOKIE, "").path("/").finish();
    c.set_max_age(CookieDuration::ZERO);
    c
}
