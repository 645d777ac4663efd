//! Every route, with what it requires. There is no way to add a route
//! without naming its [`Access`]: deny by default is a matter of
//! construction, and the role-matrix test walks this same table.

use actix_web::body::BoxBody;
use actix_web::dev::ServiceRequest;
use actix_web::http::Method;
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, Handler, Responder, Route, web};

use super::middleware::authorize::{Access, authorize};
use super::middleware::rate_limit::limit_auth;
use super::{api, assets, health, pages};
use crate::domain::Permission::*;
use crate::web::error::AppError;

pub struct RouteDef {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    /// Login, setup and password endpoints: limited per client IP.
    pub rate_limited: bool,
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
        make: Box::new(move || web::method(m.clone()).to(handler.clone())),
    }
}

fn get<F, Args>(path: &'static str, access: Access, handler: F) -> RouteDef
where
    F: Handler<Args> + Clone + 'static,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    def(Method::GET, path, access, handler)
}

fn put<F, Args>(path: &'static str, access: Access, handler: F) -> RouteDef
where
    F: Handler<Args> + Clone + 'static,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    def(Method::PUT, path, access, handler)
}

fn post<F, Args>(path: &'static str, access: Access, handler: F) -> RouteDef
where
    F: Handler<Args> + Clone + 'static,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    def(Method::POST, path, access, handler)
}

fn delete<F, Args>(path: &'static str, access: Access, handler: F) -> RouteDef
where
    F: Handler<Args> + Clone + 'static,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    def(Method::DELETE, path, access, handler)
}

impl RouteDef {
    fn limited(mut self) -> Self {
        self.rate_limited = true;
        self
    }
}

/// The route table.
pub fn table() -> Vec<RouteDef> {
    let mut table = foundation_and_catalog();
    table.extend(order_pages());
    table.extend(order_receiving_pages());
    table.extend(purchasing_admin_pages());
    table.extend(order_api());
    table.extend(job_routes());
    table.extend(digest_routes());
    table.extend(edi_inbox_routes());
    table
}

/// Pages for orders: the list, an order, receiving, suggestions, approvals.
fn order_pages() -> Vec<RouteDef> {
    use Access::*;
    use pages::orders as o;
    // The fixed paths before `/orders/{id}`: resources match in order.
    vec![
        get("/orders", Perm(ViewStock), o::list),
        post("/orders", Perm(RequestOrders), o::create),
        get("/orders/new", Perm(RequestOrders), o::new_form),
        get("/orders/suggestions", Perm(ViewStock), o::suggestions),
        post(
            "/orders/suggestions/{supplier_id}/draft",
            Perm(RequestOrders),
            o::draft_from_suggestions,
        ),
        get("/orders/approvals", Perm(ApproveOrders), o::approvals),
        get("/orders/{id}", Perm(ViewStock), o::show),
        get("/orders/{id}/sending", Perm(ViewStock), o::sending),
        post(
            "/orders/{id}/details",
            Perm(RequestOrders),
            o::update_details,
        ),
        get("/orders/{id}/print", Perm(ViewStock), o::print),
        post("/orders/{id}/lines", Perm(RequestOrders), o::add_line),
        post(
            "/orders/{id}/lines/{line_id}",
            Perm(RequestOrders),
            o::update_line,
        ),
        post(
            "/orders/{id}/lines/{line_id}/remove",
            Perm(RequestOrders),
            o::remove_line,
        ),
        post("/orders/{id}/submit", Perm(RequestOrders), o::submit),
        post("/orders/{id}/approve", Perm(ApproveOrders), o::approve),
        post("/orders/{id}/reject", Perm(ApproveOrders), o::reject),
        post("/orders/{id}/reopen", Perm(RequestOrders), o::reopen),
        post("/orders/{id}/mark-sent", Perm(ManageOrders), o::mark_sent),
        post("/orders/{id}/send", Perm(ManageOrders), o::send),
        post("/orders/{id}/retry-send", Perm(ManageOrders), o::retry_send),
        post(
            "/orders/{id}/acknowledge",
            Perm(ManageOrders),
            o::acknowledge,
        ),
        post("/orders/{id}/close", Perm(ManageOrders), o::close),
        post("/orders/{id}/cancel", Perm(RequestOrders), o::cancel),
    ]
}

/// The receive screen of an order.
fn order_receiving_pages() -> Vec<RouteDef> {
    use Access::*;
    use pages::order_receiving as r;
    vec![
        get("/orders/{id}/receive", Perm(MoveStock), r::form),
        post("/orders/{id}/receive", Perm(MoveStock), r::submit),
    ]
}

/// Pages for returns, credits, approval rules and practice details.
fn purchasing_admin_pages() -> Vec<RouteDef> {
    use Access::*;
    use pages::purchasing as p;
    vec![
        get("/admin/practice", Perm(ManageSettings), p::practice),
        post("/admin/practice", Perm(ManageSettings), p::save_practice),
        post(
            "/admin/approval-rules",
            Perm(ManageSettings),
            p::create_rule,
        ),
        post(
            "/admin/approval-rules/{id}/active",
            Perm(ManageSettings),
            p::set_rule_active,
        ),
        get("/returns", Perm(ViewStock), p::list_returns),
        post("/returns", Perm(ManageOrders), p::create_return),
        get("/returns/new", Perm(ManageOrders), p::new_return),
        get("/returns/{id}", Perm(ViewStock), p::show_return),
        get("/credits", Perm(ViewStock), p::list_credits),
        post("/credits", Perm(ManageOrders), p::create_credit),
        post(
            "/credits/{id}/received",
            Perm(ManageOrders),
            p::receive_credit,
        ),
    ]
}

/// `/api/v1` for orders, suggestions, approvals, returns and credits.
fn order_api() -> Vec<RouteDef> {
    use Access::*;
    use api::orders as o;
    vec![
        get("/api/v1/orders", Perm(ViewStock), o::list),
        post("/api/v1/orders", Perm(RequestOrders), o::create),
        get("/api/v1/orders/{id}", Perm(ViewStock), o::show),
        put("/api/v1/orders/{id}", Perm(RequestOrders), o::update),
        post(
            "/api/v1/orders/{id}/lines",
            Perm(RequestOrders),
            o::add_line,
        ),
        put(
            "/api/v1/orders/{id}/lines/{line_id}",
            Perm(RequestOrders),
            o::update_line,
        ),
        delete(
            "/api/v1/orders/{id}/lines/{line_id}",
            Perm(RequestOrders),
            o::remove_line,
        ),
        post("/api/v1/orders/{id}/submit", Perm(RequestOrders), o::submit),
        post(
            "/api/v1/orders/{id}/approve",
            Perm(ApproveOrders),
            o::approve,
        ),
        post("/api/v1/orders/{id}/reject", Perm(ApproveOrders), o::reject),
        post("/api/v1/orders/{id}/reopen", Perm(RequestOrders), o::reopen),
        post(
            "/api/v1/orders/{id}/mark-sent",
            Perm(ManageOrders),
            o::mark_sent,
        ),
        post("/api/v1/orders/{id}/send", Perm(ManageOrders), o::send),
        post(
            "/api/v1/orders/{id}/retry-send",
            Perm(ManageOrders),
            o::retry_send,
        ),
        post(
            "/api/v1/orders/{id}/acknowledge",
            Perm(ManageOrders),
            o::acknowledge,
        ),
        post("/api/v1/orders/{id}/close", Perm(ManageOrders), o::close),
        post("/api/v1/orders/{id}/cancel", Perm(RequestOrders), o::cancel),
        post("/api/v1/orders/{id}/receipts", Perm(MoveStock), o::receive),
        get("/api/v1/order-suggestions", Perm(ViewStock), o::suggestions),
        post(
            "/api/v1/order-suggestions/{supplier_id}/draft",
            Perm(RequestOrders),
            o::draft_from_suggestions,
        ),
        get("/api/v1/approvals", Perm(ApproveOrders), o::approvals),
        get("/api/v1/approval-rules", Perm(ViewStock), o::list_rules),
        post(
            "/api/v1/approval-rules",
            Perm(ManageSettings),
            o::create_rule,
        ),
        post(
            "/api/v1/approval-rules/{id}/active",
            Perm(ManageSettings),
            o::set_rule_active,
        ),
        get("/api/v1/returns", Perm(ViewStock), o::list_returns),
        post("/api/v1/returns", Perm(ManageOrders), o::create_return),
        get("/api/v1/returns/{id}", Perm(ViewStock), o::show_return),
        get("/api/v1/credits", Perm(ViewStock), o::list_credits),
        post("/api/v1/credits", Perm(ManageOrders), o::create_credit),
        post(
            "/api/v1/credits/{id}/received",
            Perm(ManageOrders),
            o::receive_credit,
        ),
    ]
}

/// The daily digest's settings page and its "send now" button.
fn digest_routes() -> Vec<RouteDef> {
    use Access::*;
    use pages::digest as d;
    vec![
        get("/admin/digest", Perm(ManageSettings), d::show),
        post("/admin/digest", Perm(ManageSettings), d::save),
        post("/admin/digest/send", Perm(ManageSettings), d::send_now),
    ]
}

/// The EDI inbox page and its "check now" button.
fn edi_inbox_routes() -> Vec<RouteDef> {
    use Access::*;
    use pages::edi_inbox as e;
    vec![
        get("/admin/edi-inbox", Perm(ManageJobs), e::show),
        post("/admin/edi-inbox/check", Perm(ManageJobs), e::check_now),
    ]
}

/// The job queue's admin pages and `/api/v1/jobs`.
fn job_routes() -> Vec<RouteDef> {
    use Access::*;
    use api::jobs as a;
    use pages::jobs as p;
    // `/api/v1/jobs/stats` before `/api/v1/jobs/{id}`: resources match in order.
    vec![
        get("/admin/jobs", Perm(ManageJobs), p::list),
        get("/admin/jobs/{id}", Perm(ManageJobs), p::show),
        post("/admin/jobs/{id}/retry", Perm(ManageJobs), p::retry),
        post("/admin/jobs/{id}/cancel", Perm(ManageJobs), p::cancel),
        get("/api/v1/jobs", Perm(ManageJobs), a::list),
        get("/api/v1/jobs/stats", Perm(ManageJobs), a::stats),
        get("/api/v1/jobs/{id}", Perm(ManageJobs), a::show),
        post("/api/v1/jobs/{id}/retry", Perm(ManageJobs), a::retry),
        post("/api/v1/jobs/{id}/cancel", Perm(ManageJobs), a::cancel),
    ]
}

/// Routes of the foundation and the catalog.
fn foundation_and_catalog() -> Vec<RouteDef> {
    use Access::*;
    vec![
        get("/healthz", Public, health::healthz),
        get("/readyz", Public, health::readyz),
        get("/static/{path:.*}", Public, assets::serve),
        get("/setup", Public, pages::setup::form).limited(),
        post("/setup", Public, pages::setup::submit).limited(),
        get("/login", Public, pages::auth::login_form),
        // A supplier's signed confirmation link: the token is the permission.
        get(
            "/supplier/confirm/{token}",
            Public,
            pages::supplier_confirm::show,
        )
        .limited(),
        post(
            "/supplier/confirm/{token}",
            Public,
            pages::supplier_confirm::submit,
        )
        .limited(),
        post("/login", Public, pages::auth::login).limited(),
        post("/logout", SignedIn, pages::auth::logout),
        get("/account/password", SignedIn, pages::account::password_form),
        post(
            "/account/password",
            SignedIn,
            pages::account::change_password,
        )
        .limited(),
        get("/", Perm(ViewStock), pages::home::show),
        get("/items", Perm(ViewStock), pages::items::list),
        post("/items", Perm(ManageCatalog), pages::items::create),
        get("/items/new", Perm(ManageCatalog), pages::items::new_form),
        get(
            "/items/attach",
            Perm(ManageCatalog),
            pages::items::attach_form,
        ),
        post("/items/attach", Perm(ManageCatalog), pages::items::attach),
        get("/items/{id}", Perm(ViewStock), pages::items::show),
        post("/items/{id}", Perm(ManageCatalog), pages::items::update),
        get(
            "/items/{id}/edit",
            Perm(ManageCatalog),
            pages::items::edit_form,
        ),
        post(
            "/items/{id}/active",
            Perm(ManageCatalog),
            pages::items::set_active,
        ),
        post(
            "/items/{id}/packs",
            Perm(ManageCatalog),
            pages::items::add_pack,
        ),
        post(
            "/items/{id}/targets",
            Perm(ManageCatalog),
            pages::items::set_target,
        ),
        get("/stock/use", Perm(MoveStock), pages::stock::use_form),
        post("/stock/use", Perm(MoveStock), pages::stock::use_submit),
        get(
            "/stock/receive",
            Perm(MoveStock),
            pages::stock::receive_form,
        ),
        post(
            "/stock/receive",
            Perm(MoveStock),
            pages::stock::receive_submit,
        ),
        get("/stock/adjust", Perm(MoveStock), pages::stock::adjust_form),
        post(
            "/stock/adjust",
            Perm(MoveStock),
            pages::stock::adjust_submit,
        ),
        get(
            "/stock/dispose",
            Perm(MoveStock),
            pages::stock::dispose_form,
        ),
        post(
            "/stock/dispose",
            Perm(MoveStock),
            pages::stock::dispose_submit,
        ),
        get(
            "/stock/transfer",
            Perm(MoveStock),
            pages::stock::transfer_form,
        ),
        post(
            "/stock/transfer",
            Perm(MoveStock),
            pages::stock::transfer_submit,
        ),
        get("/locations", Perm(ViewStock), pages::locations::list),
        post("/locations", Perm(ManageCatalog), pages::locations::create),
        get("/locations/{id}", Perm(ViewStock), pages::locations::show),
        post(
            "/locations/{id}",
            Perm(ManageCatalog),
            pages::locations::update,
        ),
        post(
            "/locations/{id}/active",
            Perm(ManageCatalog),
            pages::locations::set_active,
        ),
        post(
            "/locations/{id}/access",
            Perm(ManageUsers),
            pages::locations::set_access,
        ),
        get(
            "/categories",
            Perm(ManageCatalog),
            pages::locations::categories,
        ),
        post(
            "/categories",
            Perm(ManageCatalog),
            pages::locations::create_category,
        ),
        post(
            "/categories/{id}",
            Perm(ManageCatalog),
            pages::locations::update_category,
        ),
        get("/suppliers", Perm(ViewStock), pages::suppliers::list),
        post("/suppliers", Perm(ManageCatalog), pages::suppliers::create),
        get(
            "/suppliers/new",
            Perm(ManageCatalog),
            pages::suppliers::new_form,
        ),
        get("/suppliers/{id}", Perm(ViewStock), pages::suppliers::show),
        post(
            "/suppliers/{id}",
            Perm(ManageCatalog),
            pages::suppliers::update,
        ),
        get(
            "/suppliers/{id}/edit",
            Perm(ManageCatalog),
            pages::suppliers::edit_form,
        ),
        post(
            "/suppliers/{id}/items",
            Perm(ManageCatalog),
            pages::suppliers::add_line,
        ),
        post(
            "/suppliers/{id}/active",
            Perm(ManageCatalog),
            pages::suppliers::set_active,
        ),
        post(
            "/suppliers/{id}/dispatch",
            Perm(ManageCatalog),
            pages::suppliers::set_dispatch,
        ),
        post(
            "/suppliers/{id}/dispatch/test",
            Perm(ManageCatalog),
            pages::suppliers::send_test,
        ),
        get("/recall", Perm(ManageCatalog), pages::recall::show),
        post(
            "/recall/quarantine",
            Perm(ManageCatalog),
            pages::recall::quarantine,
        ),
        post(
            "/recall/dispose",
            Perm(ManageCatalog),
            pages::recall::dispose,
        ),
        get("/admin/users", Perm(ManageUsers), pages::users::list),
        post("/admin/users", Perm(ManageUsers), pages::users::create).limited(),
        get(
            "/admin/users/new",
            Perm(ManageUsers),
            pages::users::new_form,
        ),
        get("/admin/users/{id}", Perm(ManageUsers), pages::users::show),
        post(
            "/admin/users/{id}/role",
            Perm(ManageUsers),
            pages::users::set_role,
        ),
        post(
            "/admin/users/{id}/disable",
            Perm(ManageUsers),
            pages::users::disable,
        ),
        post(
            "/admin/users/{id}/enable",
            Perm(ManageUsers),
            pages::users::enable,
        ),
        post(
            "/admin/users/{id}/password",
            Perm(ManageUsers),
            pages::users::reset_password,
        )
        .limited(),
        get("/admin/tokens", Perm(ManageApiTokens), pages::tokens::list),
        post(
            "/admin/tokens",
            Perm(ManageApiTokens),
            pages::tokens::create,
        ),
        post(
            "/admin/tokens/{id}/revoke",
            Perm(ManageApiTokens),
            pages::tokens::revoke,
        ),
        get("/audit", Perm(ViewAudit), pages::audit::list),
        get("/import", Perm(ManageCatalog), pages::imports::form),
        post("/import", Perm(ManageCatalog), pages::imports::upload),
        get(
            "/imports/{id}",
            Perm(ManageCatalog),
            pages::imports::preview,
        ),
        post(
            "/imports/{id}/commit",
            Perm(ManageCatalog),
            pages::imports::commit,
        ),
        get("/export", Perm(ViewStock), pages::imports::export_page),
        get(
            "/export/items.csv",
            Perm(ViewStock),
            api::imports::items_csv,
        ),
        get(
            "/export/stock.csv",
            Perm(ViewStock),
            api::imports::stock_csv,
        ),
        get(
            "/export/movements.csv",
            Perm(ViewStock),
            api::imports::movements_csv,
        ),
        get("/api/v1/openapi.json", Public, api::openapi::document),
        get("/api/v1/me", SignedIn, api::me::me),
        get("/api/v1/users", Perm(ManageUsers), api::users::list),
        post("/api/v1/users", Perm(ManageUsers), api::users::create).limited(),
        get("/api/v1/scan/parse", Perm(ViewStock), api::scan::parse),
        get("/api/v1/items", Perm(ViewStock), api::catalog::list_items),
        post(
            "/api/v1/items",
            Perm(ManageCatalog),
            api::catalog::create_item,
        ),
        get(
            "/api/v1/items/{id}",
            Perm(ViewStock),
            api::catalog::show_item,
        ),
        post(
            "/api/v1/items/{id}/packs",
            Perm(ManageCatalog),
            api::catalog::add_pack,
        ),
        get(
            "/api/v1/locations",
            Perm(ViewStock),
            api::catalog::list_locations,
        ),
        post(
            "/api/v1/locations",
            Perm(ManageCatalog),
            api::catalog::create_location,
        ),
        put(
            "/api/v1/items/{id}",
            Perm(ManageCatalog),
            api::catalog::update_item,
        ),
        post(
            "/api/v1/items/{id}/active",
            Perm(ManageCatalog),
            api::catalog::set_item_active,
        ),
        put(
            "/api/v1/items/{id}/targets/{location_id}",
            Perm(ManageCatalog),
            api::catalog::set_target,
        ),
        get(
            "/api/v1/categories",
            Perm(ViewStock),
            api::catalog::list_categories,
        ),
        post(
            "/api/v1/categories",
            Perm(ManageCatalog),
            api::catalog::create_category,
        ),
        put(
            "/api/v1/categories/{id}",
            Perm(ManageCatalog),
            api::catalog::update_category,
        ),
        put(
            "/api/v1/locations/{id}",
            Perm(ManageCatalog),
            api::catalog::update_location,
        ),
        post(
            "/api/v1/locations/{id}/active",
            Perm(ManageCatalog),
            api::catalog::set_location_active,
        ),
        get(
            "/api/v1/locations/{id}/access",
            Perm(ManageCatalog),
            api::catalog::location_access,
        ),
        put(
            "/api/v1/locations/{id}/access",
            Perm(ManageUsers),
            api::catalog::set_location_access,
        ),
        get("/api/v1/suppliers", Perm(ViewStock), api::suppliers::list),
        post(
            "/api/v1/suppliers",
            Perm(ManageCatalog),
            api::suppliers::create,
        ),
        get(
            "/api/v1/suppliers/{id}",
            Perm(ViewStock),
            api::suppliers::show,
        ),
        put(
            "/api/v1/suppliers/{id}",
            Perm(ManageCatalog),
            api::suppliers::update,
        ),
        post(
            "/api/v1/suppliers/{id}/active",
            Perm(ManageCatalog),
            api::suppliers::set_active,
        ),
        put(
            "/api/v1/suppliers/{id}/dispatch",
            Perm(ManageCatalog),
            api::suppliers::set_dispatch,
        ),
        post(
            "/api/v1/suppliers/{id}/dispatch/test",
            Perm(ManageCatalog),
            api::suppliers::test_dispatch,
        ),
        post(
            "/api/v1/supplier-items",
            Perm(ManageCatalog),
            api::suppliers::create_item,
        ),
        put(
            "/api/v1/supplier-items/{id}",
            Perm(ManageCatalog),
            api::suppliers::update_item,
        ),
        post(
            "/api/v1/supplier-items/{id}/active",
            Perm(ManageCatalog),
            api::suppliers::set_item_active,
        ),
        get("/api/v1/recalls", Perm(ManageCatalog), api::recalls::find),
        post(
            "/api/v1/recalls/quarantine",
            Perm(ManageCatalog),
            api::recalls::quarantine,
        ),
        post(
            "/api/v1/recalls/dispose",
            Perm(ManageCatalog),
            api::recalls::dispose,
        ),
        get("/api/v1/stock-levels", Perm(ViewStock), api::stock::levels),
        get("/api/v1/movements", Perm(ViewStock), api::stock::list),
        post("/api/v1/movements", Perm(MoveStock), api::stock::record),
        post("/api/v1/transfers", Perm(MoveStock), api::stock::transfer),
        post(
            "/api/v1/imports/{kind}",
            Perm(ManageCatalog),
            api::imports::import,
        ),
        get(
            "/api/v1/exports/items.csv",
            Perm(ViewStock),
            api::imports::items_csv,
        ),
        get(
            "/api/v1/exports/stock.csv",
            Perm(ViewStock),
            api::imports::stock_csv,
        ),
        get(
            "/api/v1/exports/movements.csv",
            Perm(ViewStock),
            api::imports::movements_csv,
        ),
    ]
}

/// Registers the table: one resource per path, each route wrapped in its
/// authorization (and rate limit) middleware.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let table = table();
    let mut paths: Vec<&'static str> = Vec::new();
    for r in &table {
        if !paths.contains(&r.path) {
            paths.push(r.path);
        }
    }
    for path in paths {
        let mut resource = web::resource(path).default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(AppError::MethodNotAllowed)
        }));
        for r in table.iter().filter(|r| r.path == path) {
            let access = r.access;
            let mut route =
                (r.make)().wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| {
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
