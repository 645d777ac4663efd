//! The JSON API: bearer tokens and scopes, pagination, validation errors,
//! cross-origin refusal, the OpenAPI document.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn me_answers_for_the_token_and_bad_tokens_are_refused() {
    let app = spawn_app().await;
    let user = app.create_user("anna", "manager").await;
    let token = create_token(&app, user.id, "read").await;
    let res = api(&token)
        .get(format!("{}/api/v1/me", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["user"]["username"], "anna");
    assert_eq!(me["user"]["role"], "manager");
    assert_eq!(me["scope"], "read");

    for bad in ["sr_wrong", "garbage", ""] {
        let res = api(bad)
            .get(format!("{}/api/v1/me", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{bad}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
}

#[tokio::test]
async fn revoked_tokens_and_disabled_users_stop_working() {
    let app = spawn_app().await;
    let (admin, _) = app.browser_as("admin").await;
    let anna = app.create_user("anna", "staff").await;
    let token = create_token(&app, anna.id, "read").await;
    let me = format!("{}/api/v1/me", app.address);
    assert_eq!(
        api(&token).get(&me).send().await.unwrap().status(),
        StatusCode::OK
    );

    admin
        .post_form(&format!("/admin/users/{}/disable", anna.id), &[])
        .await;
    assert_eq!(
        api(&token).get(&me).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    admin
        .post_form(&format!("/admin/users/{}/enable", anna.id), &[])
        .await;
    assert_eq!(
        api(&token).get(&me).send().await.unwrap().status(),
        StatusCode::OK
    );

    let id = app.scalar("SELECT id FROM api_tokens").await;
    let res = admin
        .post_form(&format!("/admin/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        api(&token).get(&me).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_read_token_cannot_write() {
    let app = spawn_app().await;
    let admin = app.create_user("boss", "admin").await;
    let read = create_token(&app, admin.id, "read").await;
    let body = json!({"username": "anna", "role": "staff", "password": "temporary-pass-123"});
    let url = format!("{}/api/v1/users", app.address);
    let res = api(&read).post(&url).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.scalar("SELECT count(*) FROM users").await, 1);

    let write = create_token(&app, admin.id, "write").await;
    let res = api(&write).post(&url).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["username"], "anna");
    assert_eq!(created["must_change_password"], true);
}

#[tokio::test]
async fn invalid_json_input_names_each_field_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.create_user("boss", "admin").await;
    let write = create_token(&app, admin.id, "write").await;
    let url = format!("{}/api/v1/users", app.address);
    let res = api(&write)
        .post(&url)
        .json(&json!({"username": "a b", "role": "root", "password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid-input");
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "role", "password"]);

    let res = api(&write)
        .post(&url)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad-request");
    assert_eq!(app.scalar("SELECT count(*) FROM users").await, 1);
}

#[tokio::test]
async fn lists_are_paginated() {
    let app = spawn_app().await;
    let admin = app.create_user("boss", "admin").await;
    for i in 0..4 {
        app.create_user(&format!("user{i}"), "staff").await;
    }
    let token = create_token(&app, admin.id, "read").await;
    let res = api(&token)
        .get(format!("{}/api/v1/users?page=2&per_page=2", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["total"], 5);
    assert_eq!(page["page"], 2);
    assert_eq!(page["per_page"], 2);
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["user1", "user2"]);
    assert!(
        !page.to_string().contains("argon2"),
        "no password hashes in the API"
    );

    let res = api(&token)
        .get(format!("{}/api/v1/users?per_page=500", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn cross_origin_api_calls_are_refused_unless_allowed() {
    let app =
        spawn_app_with(|c| c.http.allowed_origins = vec!["https://intranet.example".into()]).await;
    let admin = app.create_user("boss", "admin").await;
    let token = create_token(&app, admin.id, "read").await;
    let me = format!("{}/api/v1/me", app.address);
    let res = api(&token)
        .get(&me)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "cross-origin");

    let res = api(&token)
        .get(&me)
        .header("origin", "https://intranet.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://intranet.example"
    );
    let res = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, &me)
        .header("origin", "https://intranet.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_openapi_document_describes_every_api_route() {
    let app = spawn_app().await;
    let res = app.new_browser().get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    for route in stockroom::web::routes::table() {
        if !route.path.starts_with("/api/v1/") || route.path.ends_with("openapi.json") {
            continue;
        }
        let method = route.method.as_str().to_lowercase();
        assert!(
            doc["paths"][route.path][&method].is_object(),
            "{} {} is not in the OpenAPI document",
            route.method,
            route.path
        );
    }
}

#[tokio::test]
async fn scan_parse_reads_a_gs1_datamatrix_and_refuses_garbage() {
    let app = spawn_app().await;
    let viewer = app.create_user("vera", "viewer").await;
    let token = create_token(&app, viewer.id, "read").await;
    let url = format!("{}/api/v1/scan/parse", app.address);
    let code = "]d201095011010209171719050810ABCD1234\u{1d}2110";
    let res = api(&token)
        .get(&url)
        .query(&[("code", code)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let scan: Value = res.json().await.unwrap();
    assert_eq!(scan["gtin"], "09501101020917");
    assert_eq!(scan["lot"], "ABCD1234");
    assert_eq!(scan["serial"], "10");
    assert_eq!(scan["expiry"], "2019-05-08");
    assert_eq!(scan["format"], "gs1_element_string");

    let res = api(&token)
        .get(&url)
        .query(&[("code", "0109501101020918")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["details"][0]["field"], "code");
    assert!(
        body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("check digit")
    );
}

/// The schema `s` points at, following a `$ref` into the components.
fn resolve<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => s,
    }
}

#[tokio::test]
async fn every_list_the_api_answers_is_paged_and_honours_its_page() {
    let app = spawn_app().await;
    let admin = app.create_user("boss", "admin").await;
    let token = api(&create_token(&app, admin.id, "write").await);
    let url = |p: &str| format!("{}{p}", app.address);
    // Two of everything simple, so that a page of one is visibly a page.
    for n in 0..2 {
        for (path, body) in [
            (
                "/api/v1/categories",
                json!({"name": format!("Category {n}")}),
            ),
            (
                "/api/v1/suppliers",
                json!({"name": format!("Supplier {n}")}),
            ),
            (
                "/api/v1/locations",
                json!({"name": format!("Room {n}"), "kind": "room"}),
            ),
        ] {
            let res = post_json(&token, url(path), &body).await;
            assert_eq!(res.status(), StatusCode::CREATED, "{path}");
        }
    }
    let doc: Value = app
        .new_browser()
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    let mut bare = Vec::new();
    let mut paged = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let schema = &get["responses"]["200"]["content"]["application/json"]["schema"];
        let schema = resolve(&doc, schema);
        if schema["type"] == "array" {
            bare.push(path.clone());
        }
        let props = &schema["properties"];
        if props.get("items").is_some() && props.get("per_page").is_some() {
            let params: Vec<&str> = get["parameters"]
                .as_array()
                .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
                .unwrap_or_default();
            assert!(
                params.contains(&"page") && params.contains(&"per_page"),
                "{path} is paged but does not declare page and per_page: {params:?}"
            );
            paged.push(path.clone());
        }
    }
    assert!(bare.is_empty(), "lists answered whole: {bare:?}");
    assert!(paged.len() >= 12, "{paged:?}");
    // Each paged list without ids in its path, asked for a page of one.
    for path in paged.iter().filter(|p| !p.contains('{')) {
        let res = token
            .get(url(&format!("{path}?per_page=1")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let page: Value = res.json().await.unwrap();
        let items = page["items"].as_array().unwrap().len();
        assert_eq!(page["per_page"], 1, "{path}");
        assert!(items <= 1, "{path}: {items} items on a page of one");
        if page["total"].as_i64().unwrap() >= 2 {
            assert_eq!(items, 1, "{path}");
        }
        let res = token
            .get(url(&format!("{path}?per_page=0")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
    }
}
