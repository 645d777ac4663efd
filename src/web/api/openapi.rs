//! The OpenAPI 3 document, generated from the handlers' annotations.

use actix_web::web::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "stockroom API", description = "JSON API of stockroom. Authenticate with `Authorization: Bearer <token>`; tokens are created by administrators."),
    paths(
        super::me::me, super::users::list, super::users::create, super::scan::parse,
        super::catalog::list_items, super::catalog::create_item, super::catalog::show_item,
        super::catalog::add_pack, super::catalog::list_locations, super::catalog::create_location,
        super::stock::record, super::stock::transfer, super::stock::levels, super::stock::list,
        super::catalog::update_item, super::catalog::set_item_active, super::catalog::set_target,
        super::catalog::list_categories, super::catalog::create_category, super::catalog::update_category,
        super::catalog::update_location, super::catalog::set_location_active,
        super::catalog::location_access, super::catalog::set_location_access,
        super::suppliers::list, super::suppliers::create, super::suppliers::show, super::suppliers::update,
        super::suppliers::set_active, super::suppliers::create_item, super::suppliers::update_item,
        super::suppliers::set_item_active, super::suppliers::set_dispatch,
        super::suppliers::test_dispatch,
        super::recalls::find, super::recalls::quarantine, super::recalls::dispose,
        super::imports::import, super::imports::items_csv, super::imports::stock_csv,
        super::imports::movements_csv,
        super::orders::list, super::orders::create, super::orders::show, super::orders::update,
        super::orders::add_line, super::orders::update_line, super::orders::remove_line,
        super::orders::submit, super::orders::approve, super::orders::reject, super::orders::reopen,
        super::orders::mark_sent, super::orders::send, super::orders::retry_send, super::orders::acknowledge, super::orders::close,
        super::orders::cancel, super::orders::receive, super::orders::suggestions,
        super::orders::draft_from_suggestions, super::orders::approvals, super::orders::list_rules,
        super::orders::create_rule, super::orders::set_rule_active, super::orders::list_returns,
        super::orders::show_return, super::orders::create_return, super::orders::list_credits,
        super::orders::create_credit, super::orders::receive_credit,
        super::jobs::list, super::jobs::stats, super::jobs::show, super::jobs::retry,
        super::jobs::cancel,
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
