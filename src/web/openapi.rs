//! The OpenAPI 3 document, generated from the handlers' annotations.

use actix_web::web::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "stockroom API", description = "JSON API of stockroom. Authenticate with `Authorization: Bearer <token>`; tokens are created by administrators."),
    paths(
        crate::web::accounts::api::me, crate::web::accounts::api::list, crate::web::accounts::api::create, crate::web::accounts::lockouts::api_list,
        crate::web::accounts::lockouts::api_unlock, crate::web::stock::api::parse,
        crate::web::catalog::api::list_items, crate::web::catalog::api::create_item, crate::web::catalog::api::show_item,
        crate::web::catalog::api::add_pack, crate::web::catalog::locations_api::list_locations, crate::web::catalog::locations_api::create_location,
        crate::web::stock::api::record, crate::web::stock::api::transfer, crate::web::stock::api::levels, crate::web::stock::api::list,
        crate::web::catalog::api::update_item, crate::web::catalog::api::set_item_active, crate::web::catalog::api::set_target,
        crate::web::catalog::api::list_categories, crate::web::catalog::api::create_category, crate::web::catalog::api::update_category,
        crate::web::catalog::locations_api::update_location, crate::web::catalog::locations_api::set_location_active,
        crate::web::catalog::locations_api::location_access, crate::web::catalog::locations_api::set_location_access,
        crate::web::suppliers::api::list, crate::web::suppliers::api::create, crate::web::suppliers::api::show, crate::web::suppliers::api::update,
        crate::web::suppliers::api::set_active, crate::web::suppliers::api::create_item, crate::web::suppliers::api::update_item,
        crate::web::suppliers::api::set_item_active, crate::web::suppliers::api::set_dispatch,
        crate::web::suppliers::api::test_dispatch,
        crate::web::stock::api::find, crate::web::stock::api::quarantine, crate::web::stock::api::dispose,
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
        crate::web::jobs::api::cancel, crate::web::jobs::api::dismiss, crate::web::jobs::api::try_now,
    ),
    modifiers(&BearerAuth, &ErrorCodes, &IdempotencyKeys),
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

/// Lists every stable error code on the error body's `code`, so a client
/// generated from the document knows what it may have to handle.
struct ErrorCodes;

impl Modify for ErrorCodes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        if let Some(RefOr::T(Schema::Object(detail))) = components.schemas.get_mut("ErrorDetail")
            && let Some(RefOr::T(Schema::Object(code))) = detail.properties.get_mut("code")
        {
            code.enum_values = Some(
                crate::web::error::codes()
                    .into_iter()
                    .map(|(c, _, _)| serde_json::Value::from(c))
                    .collect(),
            );
        }
    }
}

/// Declares the `Idempotency-Key` header on every operation the route
/// table marks as idempotent (routes that create things), from that table.
struct IdempotencyKeys;

impl Modify for IdempotencyKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{Parameter, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, RefOr, Required, Type};
        for route in crate::web::routes::table() {
            if !route.idempotent || !crate::web::middleware::is_api(route.path) {
                continue;
            }
            let Some(item) = openapi.paths.paths.get_mut(route.path) else {
                continue;
            };
            let Some(op) = item.post.as_mut() else {
                continue;
            };
            let mut header = Parameter::new("Idempotency-Key");
            header.parameter_in = ParameterIn::Header;
            header.required = Required::False;
            header.description = Some(
                "Makes a retry safe: the same key with the same request within 24 hours \
                 returns the first answer (header `Idempotent-Replayed: true`) and writes \
                 nothing again; the same key with another request is refused \
                 (422 `idempotency-key-reused`). 1 to 200 visible ASCII characters, \
                 e.g. a UUID; keys are per user."
                    .into(),
            );
            header.schema = Some(RefOr::T(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(200))
                    .into(),
            ));
            op.parameters
                .get_or_insert_with(Vec::new)
                .push(RefOr::T(header));
        }
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    Json(doc)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use serde_json::{Value, json};

    use super::ApiDoc;
    use crate::dispatch::{Channel, csv_folder, email, webhook, x12};
    use utoipa::OpenApi;

    fn document() -> Value {
        serde_json::to_value(ApiDoc::openapi()).expect("the document serializes")
    }

    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r.clone()),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_names_a_published_schema() {
        let doc = document();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        let missing: Vec<&String> = found
            .iter()
            .filter(|r| {
                r.strip_prefix("#/components/schemas/")
                    .is_none_or(|name| doc["components"]["schemas"].get(name).is_none())
            })
            .collect();
        assert!(missing.is_empty(), "references to nothing: {missing:?}");
    }

    /// A client generated from the document must be able to send every
    /// channel: each one, serialized from the Rust type the server reads,
    /// validates against the schema the document publishes for it. When two
    /// types share a schema name, one of them is published for both and
    /// this fails.
    #[test]
    fn each_sending_channel_round_trips_through_its_published_schema() {
        let doc = document();
        let root = json!({
            "$ref": "#/components/schemas/Channel",
            "components": doc["components"],
        });
        let validator = jsonschema::validator_for(&root).expect("the Channel schema compiles");
        let examples = [
            Channel::Manual,
            Channel::CsvFolder(csv_folder::Settings {
                folder: "acme".into(),
                columns: vec!["supplier_code".into(), "quantity".into()],
            }),
            Channel::Email(email::Settings {
                to: vec!["orders@acme.example".into()],
                cc: vec![],
            }),
            Channel::Webhook(webhook::Settings {
                url: "https://acme.example/orders".into(),
                secret: "s".repeat(32),
            }),
            Channel::EdiX12(x12::Settings {
                sender_qualifier: "ZZ".into(),
                sender_id: "PRACTICE".into(),
                receiver_qualifier: "ZZ".into(),
                receiver_id: "ACME".into(),
                folder: "acme-edi".into(),
                inbox: String::new(),
                test: false,
                email_to: vec![],
            }),
        ];
        for example in examples {
            let value = serde_json::to_value(&example).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(
                errors.is_empty(),
                "{value} does not match the published Channel schema: {errors:?}"
            );
        }
        // And the schema is not so loose that anything passes.
        let wrong = json!({"channel": "email", "folder": "acme"});
        assert!(!validator.is_valid(&wrong), "{wrong} should not validate");
    }

    /// The name each `ToSchema` type is published under (its own, or the
    /// one `#[schema(as = …)]` gives it), from the source.
    fn published_names(dir: &Path, out: &mut BTreeMap<String, Vec<String>>) {
        let mut files = Vec::new();
        crate::architecture::rust_files(dir, &mut files);
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if !(line.trim_start().starts_with("#[derive(") && line.contains("ToSchema")) {
                    continue;
                }
                let mut alias = None;
                for next in &lines[i + 1..] {
                    let t = next.trim_start();
                    if let Some(rest) = t.strip_prefix("#[schema(as = ") {
                        alias = rest
                            .split([')', ','])
                            .next()
                            .map(|a| a.rsplit("::").next().unwrap_or(a).trim().to_string());
                    }
                    if let Some(rest) = t
                        .strip_prefix("pub struct ")
                        .or_else(|| t.strip_prefix("pub enum "))
                        .or_else(|| t.strip_prefix("struct "))
                        .or_else(|| t.strip_prefix("enum "))
                    {
                        let name: String = rest
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        let line_no = i + 1;
                        out.entry(alias.unwrap_or(name)).or_default().push(format!(
                            "{}:{line_no}",
                            path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
                                .unwrap()
                                .display()
                        ));
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn the_error_body_lists_every_error_code() {
        let doc = document();
        let listed = &doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"];
        let listed: Vec<&str> = listed
            .as_array()
            .expect("the code has an enum")
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let codes: Vec<&str> = crate::web::error::codes().iter().map(|c| c.0).collect();
        assert_eq!(listed, codes);
        assert!(listed.contains(&"last-admin") && listed.contains(&"not-found"));
    }

    #[test]
    fn every_schema_has_a_name_of_its_own() {
        let mut names = BTreeMap::new();
        published_names(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut names,
        );
        assert!(names.len() > 20, "the scan found the schemas: {names:?}");
        let shared: Vec<String> = names
            .iter()
            .filter(|(_, at)| at.len() > 1)
            .map(|(name, at)| format!("{name}: {}", at.join(", ")))
            .collect();
        assert!(
            shared.is_empty(),
            "schema names published by more than one type (give each `#[schema(as = …)]`):\n{}",
            shared.join("\n")
        );
    }

    /// Every operation that creates something (answers 201) takes an
    /// `Idempotency-Key`, and the document says so.
    #[test]
    fn every_creating_operation_declares_the_idempotency_key() {
        let doc = document();
        let mut missing = Vec::new();
        let mut declared = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            let Some(post) = item.get("post") else {
                continue;
            };
            let has_key = post["parameters"].as_array().is_some_and(|ps| {
                ps.iter()
                    .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
            });
            if has_key {
                declared += 1;
            }
            // An import is refused a second time by the file's own hash
            // (`import-already-committed`), whatever the key; a user, by
            // the name being taken (and its body holds a password, which
            // is not to be fingerprinted and kept).
            let exempt = path == "/api/v1/imports/{kind}" || path == "/api/v1/users";
            if post["responses"].get("201").is_some() && !has_key && !exempt {
                missing.push(path.clone());
            }
        }
        assert!(missing.is_empty(), "creating without a key: {missing:?}");
        assert!(declared >= 9, "{declared}");
    }
}
