//! Suppliers and what they sell at which price; `/api/v1/suppliers` and
//! `/api/v1/supplier-items`.

pub mod api;
pub mod form;
pub mod list;
pub mod show;

use crate::domain::Permission::*;
use crate::web::middleware::authorize::Access::*;
use crate::web::render::NavLink;
use crate::web::routes::{RouteDef, get, post, put};

/// This area's links in the navigation.
pub const NAV: &[NavLink] = &[NavLink {
    position: 70,
    href: "/suppliers",
    label: "Suppliers",
    permission: Some(ViewStock),
}];

/// This area's routes, each with what it requires.
pub fn routes() -> Vec<RouteDef> {
    vec![
        get("/suppliers", Perm(ViewStock), list::list),
        post("/suppliers", Perm(ManageCatalog), form::create),
        get("/suppliers/new", Perm(ManageCatalog), form::new_form),
        get("/suppliers/{id}", Perm(ViewStock), show::show),
        post("/suppliers/{id}", Perm(ManageCatalog), form::update),
        get("/suppliers/{id}/edit", Perm(ManageCatalog), form::edit_form),
        post("/suppliers/{id}/items", Perm(ManageCatalog), show::add_line),
        post(
            "/suppliers/{id}/active",
            Perm(ManageCatalog),
            form::set_active,
        ),
        get("/api/v1/suppliers", Perm(ViewStock), api::list),
        post("/api/v1/suppliers", Perm(ManageCatalog), api::create).idempotent(),
        get("/api/v1/suppliers/{id}", Perm(ViewStock), api::show),
        put("/api/v1/suppliers/{id}", Perm(ManageCatalog), api::update),
        post(
            "/api/v1/suppliers/{id}/active",
            Perm(ManageCatalog),
            api::set_active,
        ),
        put(
            "/api/v1/suppliers/{id}/dispatch",
            Perm(ManageSettings),
            api::set_dispatch,
        ),
        post(
            "/api/v1/suppliers/{id}/dispatch/test",
            Perm(ManageCatalog),
            api::test_dispatch,
        ),
        post(
            "/api/v1/supplier-items",
            Perm(ManageCatalog),
            api::create_item,
        )
        .idempotent(),
        put(
            "/api/v1/supplier-items/{id}",
            Perm(ManageCatalog),
            api::update_item,
        ),
        post(
            "/api/v1/supplier-items/{id}/active",
            Perm(ManageCatalog),
            api::set_item_active,
        ),
    ]
}
