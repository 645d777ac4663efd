//! The catalog: items with their packs, codes and reorder points, locations
//! with their access lists, categories; `/api/v1/items`, `locations`,
//! `categories`.

pub mod api;
pub mod attach;
pub mod categories;
pub mod item;
pub mod item_form;
pub mod items;
pub mod locations;
pub mod locations_api;

use crate::domain::Permission::*;
use crate::web::error::AppError;
use crate::web::middleware::authorize::Access::*;
use crate::web::render::NavLink;
use crate::web::routes::{RouteDef, get, post, put};

/// This area's links in the navigation.
pub const NAV: &[NavLink] = &[
    NavLink {
        position: 20,
        href: "/items",
        label: "Items",
        permission: Some(ViewStock),
    },
    NavLink {
        position: 60,
        href: "/locations",
        label: "Locations",
        permission: Some(ViewStock),
    },
];

/// This area's routes, each with what it requires.
pub fn routes() -> Vec<RouteDef> {
    vec![
        get("/items", Perm(ViewStock), items::list),
        post("/items", Perm(ManageCatalog), item_form::create),
        get("/items/new", Perm(ManageCatalog), item_form::new_form),
        get("/items/attach", Perm(ManageCatalog), attach::attach_form),
        post("/items/attach", Perm(ManageCatalog), attach::attach),
        get("/items/{id}", Perm(ViewStock), item::show),
        post("/items/{id}", Perm(ManageCatalog), item_form::update),
        get(
            "/items/{id}/edit",
            Perm(ManageCatalog),
            item_form::edit_form,
        ),
        post(
            "/items/{id}/active",
            Perm(ManageCatalog),
            item_form::set_active,
        ),
        post("/items/{id}/packs", Perm(ManageCatalog), item::add_pack),
        post("/items/{id}/targets", Perm(ManageCatalog), item::set_target),
        get("/locations", Perm(ViewStock), locations::list),
        post("/locations", Perm(ManageCatalog), locations::create),
        get("/locations/{id}", Perm(ViewStock), locations::show),
        post("/locations/{id}", Perm(ManageCatalog), locations::update),
        post(
            "/locations/{id}/active",
            Perm(ManageCatalog),
            locations::set_active,
        ),
        post(
            "/locations/{id}/access",
            Perm(ManageUsers),
            locations::set_access,
        ),
        get("/categories", Perm(ManageCatalog), categories::list),
        post("/categories", Perm(ManageCatalog), categories::create),
        post("/categories/{id}", Perm(ManageCatalog), categories::update),
        get("/api/v1/items", Perm(ViewStock), api::list_items),
        post("/api/v1/items", Perm(ManageCatalog), api::create_item).idempotent(),
        get("/api/v1/items/{id}", Perm(ViewStock), api::show_item),
        post(
            "/api/v1/items/{id}/packs",
            Perm(ManageCatalog),
            api::add_pack,
        )
        .idempotent(),
        get(
            "/api/v1/locations",
            Perm(ViewStock),
            locations_api::list_locations,
        ),
        post(
            "/api/v1/locations",
            Perm(ManageCatalog),
            locations_api::create_location,
        )
        .idempotent(),
        put("/api/v1/items/{id}", Perm(ManageCatalog), api::update_item),
        post(
            "/api/v1/items/{id}/active",
            Perm(ManageCatalog),
            api::set_item_active,
        ),
        put(
            "/api/v1/items/{id}/targets/{location_id}",
            Perm(ManageCatalog),
            api::set_target,
        ),
        get("/api/v1/categories", Perm(ViewStock), api::list_categories),
        post(
            "/api/v1/categories",
            Perm(ManageCatalog),
            api::create_category,
        )
        .idempotent(),
        put(
            "/api/v1/categories/{id}",
            Perm(ManageCatalog),
            api::update_category,
        ),
        put(
            "/api/v1/locations/{id}",
            Perm(ManageCatalog),
            locations_api::update_location,
        ),
        post(
            "/api/v1/locations/{id}/active",
            Perm(ManageCatalog),
            locations_api::set_location_active,
        ),
        get(
            "/api/v1/locations/{id}/access",
            Perm(ManageCatalog),
            locations_api::location_access,
        ),
        put(
            "/api/v1/locations/{id}/access",
            Perm(ManageUsers),
            locations_api::set_location_access,
        ),
    ]
}

/// How this area's refusals and missing records answer over HTTP.
impl From<crate::catalog::CatalogError> for AppError {
    fn from(e: crate::catalog::CatalogError) -> Self {
        use crate::catalog::CatalogError::*;
        match e {
            Invalid(f) => AppError::Invalid(f),
            NoSuchItem | NoSuchLocation | NoSuchCategory | NoSuchSupplier | NoSuchSupplierItem => {
                AppError::NotFound
            }
            Db(db) => db.into(),
        }
    }
}
