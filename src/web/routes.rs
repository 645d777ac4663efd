//! Every route, with what it requires. There is no way to add a route
//! without naming its [`Access`]: deny by default is a matter of
//! construction, and the role-matrix test walks this same table.

use actix_web::body::BoxBody;
use actix_web::dev::ServiceRequest;
use actix_web::http::Method;
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, Handler, Responder, Route};

use super::middleware::authorize::{Access, authorize};
use super::middleware::idempotency::idempotent;
use super::middleware::rate_limit::limit_auth;
use super::{assets, health, openapi};
use crate::web;
use crate::web::error::AppError;

pub struct RouteDef {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    /// Login, setup and password endpoints: limited per client IP.
    pub rate_limited: bool,
    /// Creates something: a repeated request with the same idempotency key
    /// is answered from the first (see `middleware::idempotency`).
    pub idempotent: bool,
    make: Box<dyn Fn() -> Route>,
}

impl std::fmt::Debug for RouteDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {:?}", self.method, self.path, self.access)
    }
}

fn def<F, Args>(method: Method, path: &'static str, access: Access, handler: F) -> RouteDef
where
    F: Handler<Args> + Clone + 'static,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let m = method.clone();
    RouteDef {
        method,
        path,
        access,
        rate_limited: false,
        idempotent: false,
        make: Box::new(move || actix_web::web::method(m.clone()).to(handler.clone())),
    }
}

pub(crate) fn get<F, Args>(path: &'static str, access: Access, handler: F) -> RouteDef
where
    F: Handler<Args> + Clone + 'static,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    def(Method::GET, path, access, handler)
}

pub(crate) fn put<F, Args>(path: &'static str, access: Access, handler: F) -> RouteDef
where
    F: Handler<Args> + Clone + 'static,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    def(Method::PUT, path, access, handler)
}

pub(crate) fn post<F, Args>(path: &'static str, access: Access, handler: F) -> RouteDef
where
    F: Handler<Args> + Clone + 'static,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    def(Method::POST, path, access, handler)
}

pub(crate) fn delete<F, Args>(path: &'static str, access: Access, handler: F) -> RouteDef
where
    F: Handler<Args> + Clone + 'static,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    def(Method::DELETE, path, access, handler)
}

impl RouteDef {
    pub(crate) fn limited(mut self) -> Self {
        self.rate_limited = true;
        self
    }

    /// Marks a route that creates something (a movement, an order, a
    /// receipt): it takes an idempotency key.
    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }
}

/// The route table: the shell's own routes, then each area's.
pub fn table() -> Vec<RouteDef> {
    use Access::*;
    let mut table = vec![
        get("/healthz", Public, health::healthz),
        get("/readyz", Public, health::readyz),
        get("/static/{path:.*}", Public, assets::serve),
        get("/api/v1/openapi.json", Public, openapi::document),
    ];
    for area in [
        web::accounts::routes,
        web::home::routes,
        web::catalog::routes,
        web::suppliers::routes,
        web::stock::routes,
        web::orders::routes,
        web::purchasing::routes,
        web::dispatch::routes,
        web::jobs::routes,
        web::notify::routes,
        web::imports::routes,
        web::audit::routes,
    ] {
        table.extend(area());
    }
    table
}

/// Registers the table: one resource per path, each route wrapped in its
/// authorization (and rate limit) middleware.
pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    let table = table();
    let mut paths: Vec<&'static str> = Vec::new();
    for r in &table {
        if !paths.contains(&r.path) {
            paths.push(r.path);
        }
    }
    for path in paths {
        let mut resource =
            actix_web::web::resource(path).default_service(actix_web::web::to(|| async {
                Err::<actix_web::HttpResponse, _>(AppError::MethodNotAllowed)
            }));
        for r in table.iter().filter(|r| r.path == path) {
            let access = r.access;
            let mut route = (r.make)();
            if r.idempotent {
                route = route.wrap(from_fn(idempotent));
            }
            let mut route = route.wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| {
                authorize(access, req, next)
            }));
            if r.rate_limited {
                route = route.wrap(from_fn(limit_auth));
            }
            resource = resource.route(route);
        }
        cfg.service(resource);
    }
}
