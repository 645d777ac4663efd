//! The OpenAPI 3 document, generated from the handlers' annotations.

use actix_web::web::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "stockroom API", description = "JSON API of stockroom. Authenticate with `Authorization: Bearer <token>`; tokens are created by administrators."),
    paths(
        crate::web::accounts::me::me, crate::web::accounts::api::list, crate::web::accounts::api::create, crate::web::stock::scan::parse,
        crate::web::catalog::api::list_items, crate::web::catalog::api::create_item, crate::web::catalog::api::show_item,
        crate::web::catalog::api::add_pack, crate::web::catalog::api::list_locations, crate::web::catalog::api::create_location,
        crate::web::stock::api::record, crate::web::stock::api::transfer, crate::web::stock::api::levels, crate::web::stock::api::list,
        crate::web::catalog::api::update_item, crate::web::catalog::api::set_item_active, crate::web::catalog::api::set_target,
        crate::web::catalog::api::list_categories, crate::web::catalog::api::create_category, crate::web::catalog::api::update_category,
        crate::web::catalog::api::update_location, crate::web::catalog::api::set_location_active,
        crate::web::catalog::api::location_access, crate::web::catalog::api::set_location_access,
        crate::web::suppliers::api::list, crate::web::suppliers::api::create, crate::web::suppliers::api::show, crate::web::suppliers::api::update,
        crate::web::suppliers::api::set_active, crate::web::suppliers::api::create_item, crate::web::suppliers::api::update_item,
        crate::web::suppliers::api::set_item_active, crate::web::suppliers::api::set_dispatch,
        crate::web::suppliers::api::test_dispatch,
        crate::web::stock::recall_api::find, crate::web::stock::recall_api::quarantine, crate::web::stock::recall_api::dispose,
        crate::web::imports::api::import, crate::web::imports::api::items_csv, crate::web::imports::api::stock_csv,
        crate::web::imports::api::movements_csv,
        crate::web::orders::api::list, crate::web::orders::api::create, crate::web::orders::api::show, crate::web::orders::api::update,
        crate::web::orders::api::add_line, crate::web::orders::api::update_line, crate::web::orders::api::remove_line,
        crate::web::orders::api::submit, crate::web::orders::api::approve, crate::web::orders::api::reject, crate::web::orders::api::reopen,
        crate::web::orders::api::mark_sent, crate::web::orders::api::send, crate::web::orders::api::retry_send, crate::web::orders::api::acknowledge, crate::web::orders::api::close,
        crate::web::orders::api::cancel, crate::web::orders::api::receive, crate::web::orders::api::suggestions,
        crate::web::orders::api::draft_from_suggestions, crate::web::orders::api::approvals, crate::web::purchasing::api::list_rules,
        crate::web::purchasing::api::create_rule, crate::web::purchasing::api::set_rule_active, crate::web::purchasing::api::list_returns,
        crate::web::purchasing::api::show_return, crate::web::purchasing::api::create_return, crate::web::purchasing::api::list_credits,
        crate::web::purchasing::api::create_credit, crate::web::purchasing::api::receive_credit,
        crate::web::jobs::api::list, crate::web::jobs::api::stats, crate::web::jobs::api::show, crate::web::jobs::api::retry,
        crate::web::jobs::api::cancel,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "Users and the caller"),
        (name = "scanning", description = "Reading GS1, Digital Link and HIBCC barcodes"),
        (name = "catalog", description = "Items, packs, categories, reorder points and locations"),
        (name = "suppliers", description = "Suppliers and what they sell at which price"),
        (name = "stock", description = "The stock ledger: movements, transfers, levels"),
        (name = "imports", description = "CSV import (checked row by row, all or nothing) and CSV exports"),
        (name = "orders", description = "Purchase orders: drafting, approval, placing, receiving; reorder suggestions; returns and credits"),
        (name = "jobs", description = "The background job queue: jobs, attempts and figures; retrying dead jobs, cancelling waiting ones (admins)")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    Json(doc)
}
