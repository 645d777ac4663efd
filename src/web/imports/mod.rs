//! CSV import (upload, preview, commit) and the exports; `/api/v1/imports`
//! and `/api/v1/exports`.

pub mod api;
pub mod pages;
pub mod preview;

use crate::domain::Permission::*;
use crate::web::middleware::authorize::Access::*;
use crate::web::render::NavLink;
use crate::web::routes::{RouteDef, get, post};

/// This area's links in the navigation.
pub const NAV: &[NavLink] = &[
    NavLink {
        position: 90,
        href: "/import",
        label: "Import",
        permission: Some(ManageCatalog),
    },
    NavLink {
        position: 100,
        href: "/export",
        label: "Export",
        permission: Some(ViewStock),
    },
];

/// This area's routes, each with what it requires.
pub fn routes() -> Vec<RouteDef> {
    vec![
        get("/import", Perm(ManageCatalog), pages::form),
        post("/import", Perm(ManageCatalog), pages::upload),
        get("/imports/{id}", Perm(ManageCatalog), preview::preview),
        post("/imports/{id}/commit", Perm(ManageCatalog), preview::commit),
        get("/export", Perm(ViewStock), pages::export_page),
        get("/export/items.csv", Perm(ViewStock), api::items_csv),
        get("/export/stock.csv", Perm(ViewStock), api::stock_csv),
        get("/export/movements.csv", Perm(ViewStock), api::movements_csv),
        post("/api/v1/imports/{kind}", Perm(ManageCatalog), api::import),
        get("/api/v1/exports/items.csv", Perm(ViewStock), api::items_csv),
        get("/api/v1/exports/stock.csv", Perm(ViewStock), api::stock_csv),
        get(
            "/api/v1/exports/movements.csv",
            Perm(ViewStock),
            api::movements_csv,
        ),
    ]
}
