//! Around orders: returns and supplier credits, the practice's details
//! printed on orders, and approval rules.

pub mod api;
pub mod credits;
pub mod practice;
mod return_form;
pub mod returns;
pub mod rules;
mod view;

use crate::domain::Permission::*;
use crate::web::middleware::authorize::Access::*;
use crate::web::render::NavLink;
use crate::web::routes::{RouteDef, get, post};

/// This area's links in the navigation.
pub const NAV: &[NavLink] = &[NavLink {
    position: 120,
    href: "/admin/practice",
    label: "Practice",
    permission: Some(ManageSettings),
}];

/// This area's routes, each with what it requires.
pub fn routes() -> Vec<RouteDef> {
    vec![
        get("/admin/practice", Perm(ManageSettings), practice::practice),
        post(
            "/admin/practice",
            Perm(ManageSettings),
            practice::save_practice,
        ),
        post(
            "/admin/approval-rules",
            Perm(ManageSettings),
            rules::create_rule,
        ),
        post(
            "/admin/approval-rules/{id}/active",
            Perm(ManageSettings),
            rules::set_rule_active,
        ),
        get("/returns", Perm(ViewStock), returns::list_returns),
        post("/returns", Perm(ManageOrders), returns::create_return).idempotent(),
        get("/returns/new", Perm(ManageOrders), returns::new_return),
        get("/returns/{id}", Perm(ViewStock), returns::show_return),
        get("/credits", Perm(ViewStock), credits::list_credits),
        post("/credits", Perm(ManageOrders), credits::create_credit).idempotent(),
        post(
            "/credits/{id}/received",
            Perm(ManageOrders),
            credits::receive_credit,
        ),
        get("/api/v1/approval-rules", Perm(ViewStock), api::list_rules),
        post(
            "/api/v1/approval-rules",
            Perm(ManageSettings),
            api::create_rule,
        )
        .idempotent(),
        post(
            "/api/v1/approval-rules/{id}/active",
            Perm(ManageSettings),
            api::set_rule_active,
        ),
        get("/api/v1/returns", Perm(ViewStock), api::list_returns),
        post("/api/v1/returns", Perm(ManageOrders), api::create_return).idempotent(),
        get("/api/v1/returns/{id}", Perm(ViewStock), api::show_return),
        get("/api/v1/credits", Perm(ViewStock), api::list_credits),
        post("/api/v1/credits", Perm(ManageOrders), api::create_credit).idempotent(),
        post(
            "/api/v1/credits/{id}/received",
            Perm(ManageOrders),
            api::receive_credit,
        ),
    ]
}
