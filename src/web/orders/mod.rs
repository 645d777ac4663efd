//! Purchase orders: the list, an order with its draft editing and every
//! action, printing, reorder suggestions, the approval queue, the receive
//! screen; `/api/v1/orders`, reorder suggestions and approvals.

pub mod api;
pub mod approvals;
pub mod draft;
pub mod list;
pub mod new;
pub mod order;
pub mod print;
pub mod receive;
mod receive_form;
mod receive_rows;
mod refusal;
pub mod sending;
pub mod suggestions;
mod view;

use crate::domain::Permission::*;
use crate::web::error::AppError;
use crate::web::middleware::authorize::Access::*;
use crate::web::render::NavLink;
use crate::web::routes::{RouteDef, delete, get, post, put};

/// This area's links in the navigation.
pub const NAV: &[NavLink] = &[NavLink {
    position: 50,
    href: "/orders",
    label: "Orders",
    permission: Some(ViewStock),
}];

/// This area's routes, each with what it requires.
pub fn routes() -> Vec<RouteDef> {
    vec![
        get("/orders", Perm(ViewStock), list::list),
        post("/orders", Perm(RequestOrders), new::create).idempotent(),
        get("/orders/new", Perm(RequestOrders), new::new_form),
        get(
            "/orders/suggestions",
            Perm(ViewStock),
            suggestions::suggestions,
        ),
        post(
            "/orders/suggestions/{supplier_id}/draft",
            Perm(RequestOrders),
            suggestions::draft_from_suggestions,
        )
        .idempotent(),
        get(
            "/orders/approvals",
            Perm(ApproveOrders),
            approvals::approvals,
        ),
        get("/orders/{id}", Perm(ViewStock), order::show),
        get("/orders/{id}/sending", Perm(ViewStock), sending::sending),
        post(
            "/orders/{id}/details",
            Perm(RequestOrders),
            draft::update_details,
        ),
        get("/orders/{id}/print", Perm(ViewStock), print::print),
        post("/orders/{id}/lines", Perm(RequestOrders), draft::add_line).idempotent(),
        post(
            "/orders/{id}/lines/{line_id}",
            Perm(RequestOrders),
            draft::update_line,
        ),
        post(
            "/orders/{id}/lines/{line_id}/remove",
            Perm(RequestOrders),
            draft::remove_line,
        ),
        post("/orders/{id}/submit", Perm(RequestOrders), order::submit),
        post("/orders/{id}/approve", Perm(ApproveOrders), order::approve),
        post("/orders/{id}/reject", Perm(ApproveOrders), order::reject),
        post("/orders/{id}/reopen", Perm(RequestOrders), order::reopen),
        post(
            "/orders/{id}/mark-sent",
            Perm(ManageOrders),
            order::mark_sent,
        ),
        post("/orders/{id}/send", Perm(ManageOrders), order::send),
        post(
            "/orders/{id}/try-send-now",
            Perm(ManageOrders),
            sending::try_now,
        ),
        post(
            "/orders/{id}/retry-send",
            Perm(ManageOrders),
            order::retry_send,
        ),
        post(
            "/orders/{id}/acknowledge",
            Perm(ManageOrders),
            order::acknowledge,
        ),
        post("/orders/{id}/close", Perm(ManageOrders), order::close),
        post("/orders/{id}/cancel", Perm(RequestOrders), order::cancel),
        get("/orders/{id}/receive", Perm(MoveStock), receive::form),
        post("/orders/{id}/receive", Perm(MoveStock), receive::submit).idempotent(),
        get("/api/v1/orders", Perm(ViewStock), api::list),
        post("/api/v1/orders", Perm(RequestOrders), api::create).idempotent(),
        get("/api/v1/orders/{id}", Perm(ViewStock), api::show),
        put("/api/v1/orders/{id}", Perm(RequestOrders), api::update),
        post(
            "/api/v1/orders/{id}/lines",
            Perm(RequestOrders),
            api::add_line,
        )
        .idempotent(),
        put(
            "/api/v1/orders/{id}/lines/{line_id}",
            Perm(RequestOrders),
            api::update_line,
        ),
        delete(
            "/api/v1/orders/{id}/lines/{line_id}",
            Perm(RequestOrders),
            api::remove_line,
        ),
        post(
            "/api/v1/orders/{id}/submit",
            Perm(RequestOrders),
            api::submit,
        ),
        post(
            "/api/v1/orders/{id}/approve",
            Perm(ApproveOrders),
            api::approve,
        ),
        post(
            "/api/v1/orders/{id}/reject",
            Perm(ApproveOrders),
            api::reject,
        ),
        post(
            "/api/v1/orders/{id}/reopen",
            Perm(RequestOrders),
            api::reopen,
        ),
        post(
            "/api/v1/orders/{id}/mark-sent",
            Perm(ManageOrders),
            api::mark_sent,
        ),
        post("/api/v1/orders/{id}/send", Perm(ManageOrders), api::send),
        post(
            "/api/v1/orders/{id}/retry-send",
            Perm(ManageOrders),
            api::retry_send,
        ),
        post(
            "/api/v1/orders/{id}/acknowledge",
            Perm(ManageOrders),
            api::acknowledge,
        ),
        post("/api/v1/orders/{id}/close", Perm(ManageOrders), api::close),
        post(
            "/api/v1/orders/{id}/cancel",
            Perm(RequestOrders),
            api::cancel,
        ),
        post(
            "/api/v1/orders/{id}/receipts",
            Perm(MoveStock),
            api::receive,
        )
        .idempotent(),
        get(
            "/api/v1/order-suggestions",
            Perm(ViewStock),
            api::suggestions,
        ),
        post(
            "/api/v1/order-suggestions/{supplier_id}/draft",
            Perm(RequestOrders),
            api::draft_from_suggestions,
        )
        .idempotent(),
        get("/api/v1/approvals", Perm(ApproveOrders), api::approvals),
    ]
}

/// How this area's refusals and missing records answer over HTTP.
impl From<crate::orders::OrdersError> for AppError {
    fn from(e: crate::orders::OrdersError) -> Self {
        use crate::orders::OrdersError::*;
        match e {
            Invalid(f) => AppError::Invalid(f),
            NoSuchOrder | Missing(_) => AppError::NotFound,
            Refused(r) => AppError::Refused(r),
            Stock(s) => s.into(),
            Db(db) => db.into(),
        }
    }
}
